/* SPDX-License-Identifier: MIT */
/*
 * What every patctl command shares beyond the command line itself
 * (src/common/cli.h): the options every command takes (--url,
 * --token-file, --json, --help), calling the server and reporting its
 * refusals.
 */
#ifndef PATCTL_CTL_H
#define PATCTL_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "pat/text.h"

#include "buf.h"
#include "cli.h"
#include "client_config.h"
#include "http_client.h"
#include "output.h"

/*
 * patctl's state of one run (cli.h). url_flag and token_file borrow
 * argv. cfg and http are set up by ctl_connect on the first call to the
 * server and torn down by ctl_release.
 */
struct cmd_ctx {
    const char *url_flag;
    const char *token_file;
    bool json;
    bool connected;
    struct config cfg;
    struct http http;
};

/*
 * Long options every command takes; short codes 'U', 'K', 'X', 'J', 'h'.
 * "--token" is listed only to be refused: getopt_long would otherwise
 * take it as an abbreviation of --token-file.
 */
#define CTL_COMMON_OPTS                                                        \
    {"url", required_argument, NULL, 'U'},                                     \
        {"token-file", required_argument, NULL, 'K'},                          \
        {"token", required_argument, NULL, 'X'},                               \
        {"json", no_argument, NULL, 'J'}, CLI_OPT_HELP

/*
 * patctl's common_opt (cli.h): records --url, --token-file and --json in
 * c (CLI_OPT_TAKEN), refuses --token with EXIT_USAGE after saying why,
 * and returns CLI_OPT_OTHER for any other option.
 */
int ctl_common_opt(struct cmd_ctx *c, int opt, const char *arg);

/*
 * Resolves the server and token (client_config.h) and starts the HTTP client.
 * Returns EXIT_DONE, or EXIT_REFUSED after saying why.
 */
int ctl_connect(struct cmd_ctx *c);

/*
 * Starts the HTTP client for the url and token already in c->cfg (login
 * and logout fill them themselves). EXIT_DONE, or EXIT_REFUSED after
 * saying why, with the token wiped.
 */
int ctl_start(struct cmd_ctx *c);

/*
 * Sends a request (ctl_connect first if needed). On a 2xx answer returns
 * EXIT_DONE with the parsed body in *out (the caller's reference; NULL
 * for an empty answer such as 204). Otherwise prints
 * "patctl: <error_description> (<error>, HTTP <status>)", or why the
 * server could not be reached, and returns EXIT_REFUSED; *out is NULL.
 */
int ctl_call(struct cmd_ctx *c, const char *method, const char *path,
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
int ctl_path(struct cmd_ctx *c, struct buf *path, const char *base,
             const char *id);

/* Appends a query parameter (no-op for a NULL value); EXIT_REFUSED if full. */
int ctl_query(struct cmd_ctx *c, struct buf *path, const char *key,
              const char *value);

/* Prints obj for a script (--json) or a person (fields). */
void ctl_show(const struct cmd_ctx *c, const json_t *obj,
              const struct field *fields);

/* Stops the HTTP client and wipes the token. */
void ctl_release(struct cmd_ctx *c);

/* Commands, by file. */
int cmd_login(struct cmd_ctx *c, int argc, char **argv);
int cmd_logout(struct cmd_ctx *c, int argc, char **argv);
int cmd_whoami(struct cmd_ctx *c, int argc, char **argv);
int cmd_token(struct cmd_ctx *c, int argc, char **argv);
/* patctl token exchange (cmd_exchange.c), dispatched by cmd_token. */
int token_exchange(struct cmd_ctx *c, int argc, char **argv);
int cmd_user(struct cmd_ctx *c, int argc, char **argv);
int cmd_tokens(struct cmd_ctx *c, int argc, char **argv);
/* The approval queue (cmd_approvals.c), subcommands of tokens. */
int ctl_tokens_pending(struct cmd_ctx *c, int argc, char **argv);
int ctl_tokens_approve(struct cmd_ctx *c, int argc, char **argv);
int ctl_tokens_deny(struct cmd_ctx *c, int argc, char **argv);
int cmd_audit(struct cmd_ctx *c, int argc, char **argv);
int cmd_events(struct cmd_ctx *c, int argc, char **argv);
int cmd_scan(struct cmd_ctx *c, int argc, char **argv);
int cmd_verify(struct cmd_ctx *c, int argc, char **argv);
int cmd_webhook(struct cmd_ctx *c, int argc, char **argv);

#endif
