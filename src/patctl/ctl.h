/* SPDX-License-Identifier: MIT */
/*
 * What every patctl command shares: the options every command takes
 * (--url, --token-file, --json, --help), dispatching to subcommands,
 * calling the server and reporting its refusals. Exit status: 0 done,
 * 1 refused (one line on stderr says why), 2 usage.
 */
#ifndef PATCTL_CTL_H
#define PATCTL_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "pat/text.h"

#include "buf.h"
#include "config.h"
#include "http.h"
#include "render.h"

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/*
 * The state of one patctl run. url_flag and token_file borrow argv. cfg
 * and http are set up by ctl_connect on the first call to the server and
 * torn down by ctl_release.
 */
struct ctl {
    const char *url_flag;
    const char *token_file;
    bool json;
    bool connected;
    struct config cfg;
    struct http http;
};

/* A subcommand: name, one-line usage, and its function. */
struct ctl_cmd {
    const char *name;
    const char *usage;
    int (*run)(struct ctl *c, int argc, char **argv);
};

/*
 * Long options every command takes; short codes 'U', 'K', 'J', 'h'.
 * "--token" is listed only to be refused: getopt_long would otherwise
 * take it as an abbreviation of --token-file.
 */
#define CTL_COMMON_OPTS                                                        \
    {"url", required_argument, NULL, 'U'},                                     \
        {"token-file", required_argument, NULL, 'K'},                          \
        {"token", required_argument, NULL, 'X'},                               \
        {"json", no_argument, NULL, 'J'},                                      \
    {                                                                          \
        "help", no_argument, NULL, 'h'                                         \
    }

/* Explains why there is no --token option; returns 2. */
int ctl_no_token_option(void);

/*
 * Handles a common option: true when opt was one (recorded in c), else
 * false.
 */
bool ctl_common_opt(struct ctl *c, int opt, const char *arg);

/*
 * Parses argv with getopt_long: common options are handled here, others
 * go to fn (returns 0, or nonzero for a bad value). Returns -1 when
 * parsing went through (operands start at optind), else the exit status
 * to return (0 after --help, 2 on a usage error).
 */
struct option;
typedef int (*ctl_opt_cb)(int opt, const char *arg, void *ctx);
int ctl_parse(struct ctl *c, int argc, char **argv, const struct option *opts,
              const char *usage, ctl_opt_cb fn, void *ctx);

/*
 * Runs the subcommand of cmds named by argv[1] (argv[0] is the group).
 * Prints the usage lines after help or a wrong name.
 */
int ctl_dispatch(struct ctl *c, const struct ctl_cmd *cmds, int argc,
                 char **argv);

/* Prints "usage: patctl <usage>" to f. */
void ctl_usage(FILE *f, const char *usage);

/* Prints "patctl: <why>" and the usage on stderr; returns 2. */
int ctl_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "patctl: <why>" on stderr; returns 1. */
int ctl_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Resolves the server and token (config.h) and starts the HTTP client.
 * Returns EXIT_DONE, or EXIT_REFUSED after saying why.
 */
int ctl_connect(struct ctl *c);

/*
 * Starts the HTTP client for the url and token already in c->cfg (login
 * and logout fill them themselves). EXIT_DONE, or EXIT_REFUSED after
 * saying why, with the token wiped.
 */
int ctl_start(struct ctl *c);

/*
 * Sends a request (ctl_connect first if needed). On a 2xx answer returns
 * EXIT_DONE with the parsed body in *out (the caller's reference; NULL
 * for an empty answer such as 204). Otherwise prints
 * "patctl: <error_description> (<error>, HTTP <status>)", or why the
 * server could not be reached, and returns EXIT_REFUSED; *out is NULL.
 */
int ctl_call(struct ctl *c, const char *method, const char *path,
             const json_t *body, json_t **out);

/*
 * Prints an answer that is not a success as ctl_call does:
 * "patctl: <error_description> (<error>, HTTP <status>)[; retry after N s]".
 */
void ctl_report(const struct http_res *res);

/*
 * Builds base followed by "/" and the percent-encoded id into path
 * (initialised here, released by the caller). Connects first, since
 * encoding needs the HTTP client. Returns EXIT_DONE or EXIT_REFUSED.
 */
int ctl_path(struct ctl *c, struct buf *path, const char *base, const char *id);

/* Appends a query parameter (no-op for a NULL value); EXIT_REFUSED if full. */
int ctl_query(struct ctl *c, struct buf *path, const char *key,
              const char *value);

/* Prints obj for a script (--json) or a person (fields). */
void ctl_show(const struct ctl *c, const json_t *obj,
              const struct field *fields);

/* Stops the HTTP client and wipes the token. */
void ctl_release(struct ctl *c);

/* Commands, by file. */
int cmd_login(struct ctl *c, int argc, char **argv);
int cmd_logout(struct ctl *c, int argc, char **argv);
int cmd_whoami(struct ctl *c, int argc, char **argv);
int cmd_token(struct ctl *c, int argc, char **argv);
int cmd_user(struct ctl *c, int argc, char **argv);
int cmd_tokens(struct ctl *c, int argc, char **argv);
int cmd_audit(struct ctl *c, int argc, char **argv);
int cmd_scan(struct ctl *c, int argc, char **argv);
int cmd_verify(struct ctl *c, int argc, char **argv);

#endif
