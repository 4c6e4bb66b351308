/* SPDX-License-Identifier: MIT */
/*
 * patctl tokens pending|approve|deny: the approval queue of tokens that
 * asked for a scope of the policy's approval_required_scopes (DESIGN.md
 * section 13), through /v1/approvals.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "list.h"
#include "views.h"
#include "banned.h"

struct approval_args {
    const char *reason;
    long long limit;
    const char *bad;
};

static const struct option approval_opts[] = {
    CTL_COMMON_OPTS,
    {"reason", required_argument, NULL, 'r'},
    {"limit", required_argument, NULL, 'l'},
    {NULL, 0, NULL, 0},
};

static int
approval_opt(int opt, const char *arg, void *ctx)
{
    struct approval_args *a = ctx;

    switch (opt) {
    case 'r':
        a->reason = arg;
        return 0;
    case 'l':
        if (!pat_parse_number(arg, 1, 1000000000, &a->limit))
            a->bad = arg;
        return 0;
    default:
        return 1;
    }
}

/* -1 to go on (noperands operands given), else the exit status. */
static int
approval_parse(struct cmd_ctx *c, int argc, char **argv, const char *usage,
               struct approval_args *a, int noperands)
{
    int status;

    memset(a, 0, sizeof(*a));
    status = cli_parse(c, argc, argv, approval_opts, usage, approval_opt, a);
    if (status != -1)
        return status;
    if (a->bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a->bad);
    if (argc - optind != noperands)
        return cli_usage_error(usage, noperands ? "expected a token id"
                                                : "unexpected operand");
    return -1;
}

int
ctl_tokens_pending(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "tokens pending [--limit N] [--json]";
    struct approval_args a;
    int status = approval_parse(c, argc, argv, usage, &a, 0);

    if (status != -1)
        return status;
    if (a.reason != NULL)
        return cli_usage_error(usage, "--reason does not apply here");
    return list_print(c, "/v1/approvals", a.limit, &view_all_tokens);
}

static int
decide(struct cmd_ctx *c, int argc, char **argv, const char *usage,
       bool approve)
{
    struct approval_args a;
    struct buf path;
    json_t *body = NULL, *tok = NULL;
    int status = approval_parse(c, argc, argv, usage, &a, 1);

    if (status != -1)
        return status;
    if (a.limit > 0 || (approve && a.reason != NULL))
        return cli_usage_error(usage, "%s does not apply here",
                               a.limit > 0 ? "--limit" : "--reason");
    body = json_pack("{s:s}", "action", approve ? "approve" : "deny");
    if (body != NULL && a.reason != NULL &&
        json_object_set_new(body, "reason", json_string(a.reason)) != 0) {
        json_decref(body);
        body = NULL;
    }
    if (body == NULL)
        return cli_refuse("out of memory");
    buf_init(&path, 0);
    status = ctl_path(c, &path, "/v1/approvals", argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "POST", buf_str(&path), body, &tok);
    if (status == EXIT_DONE && c->json)
        ctl_show(c, tok, view_token_fields);
    else if (status == EXIT_DONE)
        printf("%s token %s\n", approve ? "Approved" : "Denied", argv[optind]);
    json_decref(tok);
    json_decref(body);
    buf_release(&path);
    return status;
}

int
ctl_tokens_approve(struct cmd_ctx *c, int argc, char **argv)
{
    return decide(c, argc, argv, "tokens approve ID [--json]", true);
}

int
ctl_tokens_deny(struct cmd_ctx *c, int argc, char **argv)
{
    return decide(c, argc, argv, "tokens deny ID [--reason TEXT] [--json]",
                  false);
}
