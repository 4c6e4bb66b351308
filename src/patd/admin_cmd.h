/* SPDX-License-Identifier: MIT */
/*
 * What the local admin commands (cmd_*.c) share: option parsing, opening the
 * store named by --db / PATD_DB / the default, reporting refusals, and
 * rendering objects as JSON or tables. Exit status: 0 done, 1 refused
 * (one line on stderr says why), 2 usage.
 */
#ifndef PATD_ADMIN_CMD_H
#define PATD_ADMIN_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "pat/pat.h"
#include "render.h"

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

#define PATD_DEFAULT_DB "./var/patd.db"

/* Options every store command takes; filled by admin_common_opt. */
struct cli {
    const char *db;
    bool json;
    char err[512]; /* registered as the store's error buffer */
};

/* A subcommand: name, one-line usage, and its function. */
struct cli_cmd {
    const char *name;
    const char *usage;
    int (*run)(struct cli *c, int argc, char **argv);
};

/* Long options shared by every store command. */
#define ADMIN_COMMON_OPTS                                                      \
    {"db", required_argument, NULL, 'D'},                                      \
        {"store", required_argument, NULL, 'D'},                               \
        {"json", no_argument, NULL, 'J'},                                      \
    {                                                                          \
        "help", no_argument, NULL, 'h'                                         \
    }

/*
 * Handles a shared option (returns true) or says it is not one. For 'h'
 * it prints usage and sets *exit_code to 0.
 */
bool admin_common_opt(struct cli *c, int opt, const char *arg);

/*
 * Parses argv with getopt_long: shared options are handled here, others
 * go to fn (which returns 0, or nonzero for a bad value). Returns -1 when
 * parsing went through (positional arguments start at optind), else the
 * exit status to return (0 after --help, 2 on a usage error).
 */
struct option;
typedef int (*cli_opt_cb)(int opt, const char *arg, void *ctx);
int cli_parse(struct cli *c, int argc, char **argv, const struct option *opts,
              const char *usage, cli_opt_cb fn, void *ctx);

/* Runs the subcommand of table named by argv[1]; usage text on error. */
int cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *cmds,
                 int argc, char **argv);

/* Prints "usage: patd <usage>" to f. */
void cli_usage(FILE *f, const char *usage);

/*
 * Opens the store; on failure prints why and returns the exit status.
 * flags: PAT_OPEN_CREATE (which also accepts a store not initialised
 * yet), or ADMIN_OPEN_UNINIT to accept one without creating it.
 */
#define ADMIN_OPEN_UNINIT 0x100
int admin_open(struct cli *c, int flags, struct pat_store **st);

/*
 * A store URL fit to print: a password in it ("postgres://u:pw@h/db")
 * becomes "***". Returns url itself when there is none, else buf.
 */
const char *admin_redact(const char *url, char *buf, size_t cap);

/* Reports a refused operation: "patd: what: detail", returns 1. */
int admin_refuse(struct cli *c, const char *what, int rc);

/* Prints a usage error and returns 2. */
int cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends item to a space-separated list buffer; false if it is full. */
bool admin_list_add(char *list, size_t cap, const char *item);

/*
 * Reads one token from stdin (at most PAT_TOKEN_MAX + some slack),
 * without its line end, into buf. false if there is none or it is too
 * long.
 */
bool admin_read_token(char *buf, size_t cap);

/* Prints v as indented JSON on stdout and drops the reference. */
void admin_print_json(json_t *v);

/* Formats t (0: "-" or never) for tables into buf. */
const char *admin_time(int64_t t, const char *none, char *buf, size_t cap);

/* Commands, one file each. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_migrate(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_scope(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_routes(struct cli *c, int argc, char **argv);

#include "banned.h"

#endif
