/* SPDX-License-Identifier: MIT */
/*
 * What the local admin commands (cmd_*.c) share beyond the command line
 * itself (src/common/cli.h): the options every one of them takes,
 * opening the store named by --db / --store / PATD_STORE / PATD_DB / the
 * default, reporting the store's refusals, and printing objects as JSON
 * or tables.
 */
#ifndef PATD_ADMIN_CMD_H
#define PATD_ADMIN_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "pat/pat.h"
#include "cli.h"
#include "model_json.h"

#define PATD_DEFAULT_DB "./var/patd.db"

/*
 * patd's state of one run (cli.h): the options every store command
 * takes, filled by admin_common_opt, and the store's error buffer.
 */
struct cmd_ctx {
    const char *db;
    bool json;
    char err[512]; /* registered as the store's error buffer */
};

/* Long options every store command takes. */
#define ADMIN_COMMON_OPTS                                                      \
    {"db", required_argument, NULL, 'D'},                                      \
        {"store", required_argument, NULL, 'D'},                               \
        {"json", no_argument, NULL, 'J'}, CLI_OPT_HELP

/*
 * patd's common_opt (cli.h): records --db, --store and --json in c.
 * Returns CLI_OPT_TAKEN, or CLI_OPT_OTHER for any other option.
 */
int admin_common_opt(struct cmd_ctx *c, int opt, const char *arg);

/*
 * Opens the store; on failure prints why and returns the exit status.
 * flags: PAT_OPEN_CREATE (which also accepts a store not initialised
 * yet), or ADMIN_OPEN_UNINIT to accept one without creating it.
 */
#define ADMIN_OPEN_UNINIT 0x100
int admin_open(struct cmd_ctx *c, int flags, struct pat_store **st);

/*
 * A store URL fit to print: a password in it ("postgres://u:pw@h/db")
 * becomes "***". Returns url itself when there is none, else buf.
 */
const char *admin_redact(const char *url, char *buf, size_t cap);

/*
 * Refuses an operation the store refused with rc: "patd: what: detail",
 * the detail being the store's message in c->err (then emptied) or else
 * pat_strerror(rc). Returns EXIT_REFUSED.
 */
int admin_refuse(struct cmd_ctx *c, const char *what, int rc);

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
int cmd_init(struct cmd_ctx *c, int argc, char **argv);
int cmd_migrate(struct cmd_ctx *c, int argc, char **argv);
int cmd_export(struct cmd_ctx *c, int argc, char **argv);
int cmd_import(struct cmd_ctx *c, int argc, char **argv);
int cmd_user(struct cmd_ctx *c, int argc, char **argv);
int cmd_scope(struct cmd_ctx *c, int argc, char **argv);
int cmd_token(struct cmd_ctx *c, int argc, char **argv);
int cmd_audit(struct cmd_ctx *c, int argc, char **argv);
int cmd_serve(struct cmd_ctx *c, int argc, char **argv);
int cmd_routes(struct cmd_ctx *c, int argc, char **argv);
int cmd_keys(struct cmd_ctx *c, int argc, char **argv);

#include "banned.h"

#endif
