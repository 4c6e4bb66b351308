/* SPDX-License-Identifier: MIT */
/* patd audit list: read the audit trail of the store. */
#include <getopt.h>
#include <stdlib.h>

#include "admin_cmd.h"

static int
audit_opt(int opt, const char *arg, void *ctx)
{
    struct pat_audit_filter *f = ctx;

    switch (opt) {
    case 'u':
        f->user_id = arg;
        return 0;
    case 'a':
        f->action = arg;
        return 0;
    case 't':
        f->target = arg;
        return 0;
    default:
        return 1;
    }
}

static void
print_event(const struct pat_audit *ev)
{
    char at[PAT_TIME_LEN + 1];

    printf("%-6lld %s %-24s actor=%s%s%s target=%s%s%s %s\n",
           (long long)ev->seq, admin_time(ev->at, "-", at, sizeof(at)),
           ev->action, ev->actor_user_id[0] ? ev->actor_user_id : "system",
           ev->actor_token_id[0] ? "/" : "", ev->actor_token_id,
           ev->target_user_id[0] ? ev->target_user_id : "-",
           ev->target_token_id[0] ? "/" : "", ev->target_token_id, ev->detail);
}

static int
audit_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "audit list [--user USER_ID] [--action ACTION] [--target ID] "
        "[--db PATH] [--json]";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"user", required_argument, NULL, 'u'},
        {"action", required_argument, NULL, 'a'},
        {"target", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    enum { PAGE = 200 };
    struct pat_audit_filter f = {0};
    struct pat_audit *page = NULL;
    struct pat_store *st = NULL;
    json_t *items = NULL;
    size_t n, i;
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, audit_opt, &f);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    page = calloc(PAGE, sizeof(*page));
    items = json_array();
    if (page == NULL || items == NULL) {
        status = admin_refuse(c, "cannot list events", PAT_ENOMEM);
        goto out;
    }
    do {
        rc = pat_audit_list(st, &f, page, PAGE, &n);
        if (rc != PAT_OK) {
            status = admin_refuse(c, "cannot list events", rc);
            goto out;
        }
        for (i = 0; i < n; i++) {
            if (c->json)
                json_array_append_new(items, render_audit(&page[i]));
            else
                print_event(&page[i]);
        }
        if (n > 0)
            f.after = page[n - 1].seq;
    } while (n == PAGE);
    if (c->json) {
        admin_print_json(json_pack("{s:O}", "items", items));
    }
out:
    json_decref(items);
    free(page);
    pat_store_close(st);
    return status;
}

int
cmd_audit(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"list",
         "audit list [--user USER_ID] [--action ACTION] [--target ID] "
         "[--db PATH] [--json]",
         audit_list},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
