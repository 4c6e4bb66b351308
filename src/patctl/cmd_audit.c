/* SPDX-License-Identifier: MIT */
/*
 * patctl audit: the audit trail. Admins read all of it through
 * /v1/audit, with filters; --mine reads /v1/me/audit, the events where
 * the caller is the actor or the target, which takes no filters.
 */
#include <getopt.h>
#include <string.h>

#include "ctl.h"
#include "list.h"
#include "views.h"
#include "banned.h"

struct audit_args {
    const char *since;
    const char *action;
    const char *actor;
    const char *target;
    long long limit;
    bool mine;
    const char *bad;
};

static int
audit_opt(int opt, const char *arg, void *ctx)
{
    struct audit_args *a = ctx;

    switch (opt) {
    case 's':
        a->since = arg;
        return 0;
    case 'a':
        a->action = arg;
        return 0;
    case 'A':
        a->actor = arg;
        return 0;
    case 't':
        a->target = arg;
        return 0;
    case 'm':
        a->mine = true;
        return 0;
    case 'l':
        if (!pat_parse_number(arg, 1, 1000000000, &a->limit))
            a->bad = arg;
        return 0;
    default:
        return 1;
    }
}

int
cmd_audit(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "audit [--since TIME] [--action ACTION] [--actor USER_ID] "
        "[--target ID] [--limit N] [--json] | audit --mine [--limit N] "
        "[--json]";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"since", required_argument, NULL, 's'},
        {"action", required_argument, NULL, 'a'},
        {"actor", required_argument, NULL, 'A'},
        {"target", required_argument, NULL, 't'},
        {"mine", no_argument, NULL, 'm'},
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct audit_args a;
    struct buf path;
    int status;

    memset(&a, 0, sizeof(a));
    status = cli_parse(c, argc, argv, opts, usage, audit_opt, &a);
    if (status != -1)
        return status;
    if (a.bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a.bad);
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (a.mine && (a.since || a.action || a.actor || a.target))
        return cli_usage_error(usage, "--mine takes no filters");
    buf_init(&path, 0);
    status = ctl_path(c, &path, a.mine ? "/v1/me/audit" : "/v1/audit", NULL);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "since", a.since);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "action", a.action);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "actor", a.actor);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "target", a.target);
    if (status == EXIT_DONE)
        status = list_print(c, buf_str(&path), a.limit, &view_audit);
    buf_release(&path);
    return status;
}
