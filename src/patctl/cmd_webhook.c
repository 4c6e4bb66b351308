/* SPDX-License-Identifier: MIT */
/*
 * patctl webhook list|add|show|enable|disable|delete|secret|test|
 * deliveries|redeliver: webhook endpoints through /v1/webhooks
 * (docs/webhooks.md). The secret is printed twice only: by add and by
 * secret (regeneration), as the server shows it then.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "banned.h"

struct hook_args {
    json_t *events; /* owned */
    const char *description;
    const char *url;
    long long limit;
    const char *bad;
};

static int
hook_opt(int opt, const char *arg, void *ctx)
{
    struct hook_args *a = ctx;

    switch (opt) {
    case 'e':
        if (a->events == NULL)
            a->events = json_array();
        return a->events == NULL ||
               json_array_append_new(a->events, json_string(arg)) != 0;
    case 'd':
        a->description = arg;
        return 0;
    case 'u':
        a->url = arg;
        return 0;
    case 'l':
        if (!pat_parse_number(arg, 1, 200, &a->limit))
            a->bad = arg;
        return 0;
    default:
        return 1;
    }
}

static const struct field hook_fields[] = {
    {"ID", "id", "-"},
    {"URL", "url", "-"},
    {"Events", "events", "-"},
    {"Description", "description", "-"},
    {"Enabled", "enabled", "-"},
    {"Failing since", "failing_since", "-"},
    {"Disabled because", "disabled_reason", "-"},
    {NULL, NULL, NULL},
};

/* The same with the secret: only answers that carry one. */
static const struct field hook_secret_fields[] = {
    {"ID", "id", "-"},         {"URL", "url", "-"},
    {"Events", "events", "-"}, {"Description", "description", "-"},
    {"Secret", "secret", "-"}, {NULL, NULL, NULL},
};

static const struct field queued_fields[] = {
    {"Message", "msg_id", "-"},
    {"Status", "status", "-"},
    {NULL, NULL, NULL},
};

/*
 * Parses argv into a with exactly noperands operands. -1 to go on, else
 * the exit status.
 */
static int
hook_parse(struct cmd_ctx *c, int argc, char **argv, const char *usage,
           struct hook_args *a, int noperands)
{
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"event", required_argument, NULL, 'e'},
        {"description", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    int status;

    memset(a, 0, sizeof(*a));
    a->limit = 50;
    status = cli_parse(c, argc, argv, opts, usage, hook_opt, a);
    if (status != -1)
        return status;
    if (a->bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a->bad);
    if (argc - optind != noperands)
        return cli_usage_error(usage, "expected %d argument%s", noperands,
                               noperands == 1 ? "" : "s");
    return -1;
}

/* Calls method on /v1/webhooks[/id[/tail]] and shows the endpoint. */
static int
hook_call(struct cmd_ctx *c, const char *method, const char *id,
          const char *tail, json_t *body, bool show)
{
    struct buf path;
    json_t *ans = NULL;
    int status;

    buf_init(&path, 0);
    status = ctl_path(c, &path, "/v1/webhooks", id);
    if (status == EXIT_DONE && tail != NULL && !buf_puts(&path, tail))
        status = cli_refuse("out of memory");
    if (status == EXIT_DONE)
        status = ctl_call(c, method, buf_str(&path), body, &ans);
    if (status == EXIT_DONE && ans != NULL)
        ctl_show(c, ans,
                 json_object_get(ans, "secret") != NULL ? hook_secret_fields
                 : show                                 ? hook_fields
                                                        : queued_fields);
    json_decref(ans);
    buf_release(&path);
    return status;
}

static int
hook_add(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "webhook add URL --event TYPE... "
                                "[--description TEXT] [--json]";
    struct hook_args a;
    json_t *body = NULL;
    int status = hook_parse(c, argc, argv, usage, &a, 1);

    if (status != -1)
        goto out;
    if (a.events == NULL) {
        status = cli_usage_error(usage, "give at least one --event");
        goto out;
    }
    body = json_pack("{s:s, s:O}", "url", argv[optind], "events", a.events);
    if (body != NULL && a.description != NULL)
        json_object_set_new(body, "description", json_string(a.description));
    status = body ? hook_call(c, "POST", NULL, NULL, body, true)
                  : cli_refuse("out of memory");
    if (status == EXIT_DONE && !c->json)
        printf("The secret is shown this once: keep it to verify "
               "signatures.\n");
out:
    json_decref(body);
    json_decref(a.events);
    return status;
}

/* Prints a table of the items of GET path (columns by key). */
static int
hook_table(struct cmd_ctx *c, const char *path, const char *const *heads,
           const char *const *keys, size_t ncols)
{
    struct table t;
    json_t *ans = NULL, *item;
    char cells[8][256];
    const char *row[8];
    size_t i, k;
    int status = ctl_call(c, "GET", path, NULL, &ans);

    if (status != EXIT_DONE)
        return status;
    if (c->json) {
        render_json(stdout, ans);
        json_decref(ans);
        return EXIT_DONE;
    }
    table_init(&t, heads, ncols);
    json_array_foreach(json_object_get(ans, "items"), i, item)
    {
        for (k = 0; k < ncols; k++)
            row[k] = render_value(json_object_get(item, keys[k]), "-", cells[k],
                                  sizeof(cells[k]));
        table_add(&t, row);
    }
    table_flush(&t, stdout);
    table_release(&t);
    json_decref(ans);
    return EXIT_DONE;
}

static int
hook_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char *const heads[] = {"ID", "URL", "EVENTS", "ENABLED",
                                        "FAILING SINCE"};
    static const char *const keys[] = {"id", "url", "events", "enabled",
                                       "failing_since"};
    struct hook_args a;
    char path[64];
    int status =
        hook_parse(c, argc, argv, "webhook list [--limit N] [--json]", &a, 0);

    if (status != -1)
        return status;
    snprintf(path, sizeof(path), "/v1/webhooks?limit=%lld", a.limit);
    return hook_table(c, path, heads, keys, 5);
}

static int
hook_deliveries(struct cmd_ctx *c, int argc, char **argv)
{
    static const char *const heads[] = {"ID",     "AT", "TYPE", "RESULT",
                                        "STATUS", "MS", "MSG",  "RESPONSE"};
    static const char *const keys[] = {"id",     "at",      "type",
                                       "result", "status",  "latency_ms",
                                       "msg_id", "response"};
    struct hook_args a;
    struct buf path;
    char lim[32];
    int status = hook_parse(
        c, argc, argv, "webhook deliveries ID [--limit N] [--json]", &a, 1);

    if (status != -1)
        return status;
    buf_init(&path, 0);
    snprintf(lim, sizeof(lim), "%lld", a.limit);
    status = ctl_path(c, &path, "/v1/webhooks", argv[optind]);
    if (status == EXIT_DONE && !buf_puts(&path, "/deliveries"))
        status = cli_refuse("out of memory");
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "limit", lim);
    if (status == EXIT_DONE)
        status = hook_table(c, buf_str(&path), heads, keys, 8);
    buf_release(&path);
    return status;
}

/* The commands that take one ID and no body. */
static int
hook_simple(struct cmd_ctx *c, int argc, char **argv, const char *usage,
            const char *method, const char *tail, json_t *body, bool show)
{
    struct hook_args a;
    int status = hook_parse(c, argc, argv, usage, &a, 1);

    if (status == -1)
        status = hook_call(c, method, argv[optind], tail, body, show);
    json_decref(a.events);
    return status;
}

static int
hook_show(struct cmd_ctx *c, int argc, char **argv)
{
    return hook_simple(c, argc, argv, "webhook show ID [--json]", "GET", NULL,
                       NULL, true);
}

static int
hook_enable(struct cmd_ctx *c, int argc, char **argv)
{
    json_t *b = json_pack("{s:b}", "enabled", 1);
    int status = hook_simple(c, argc, argv, "webhook enable ID [--json]",
                             "PATCH", NULL, b, true);

    json_decref(b);
    return status;
}

static int
hook_disable(struct cmd_ctx *c, int argc, char **argv)
{
    json_t *b = json_pack("{s:b}", "enabled", 0);
    int status = hook_simple(c, argc, argv, "webhook disable ID [--json]",
                             "PATCH", NULL, b, true);

    json_decref(b);
    return status;
}

static int
hook_delete(struct cmd_ctx *c, int argc, char **argv)
{
    int status = hook_simple(c, argc, argv, "webhook delete ID", "DELETE", NULL,
                             NULL, false);

    if (status == EXIT_DONE && !c->json)
        printf("Deleted webhook %s\n", argv[argc - 1]);
    return status;
}

static int
hook_secret(struct cmd_ctx *c, int argc, char **argv)
{
    return hook_simple(c, argc, argv, "webhook secret ID [--json]", "POST",
                       "/secret", NULL, false);
}

static int
hook_test(struct cmd_ctx *c, int argc, char **argv)
{
    return hook_simple(c, argc, argv, "webhook test ID [--json]", "POST",
                       "/test", NULL, false);
}

static int
hook_redeliver(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "webhook redeliver ID DELIVERY [--json]";
    struct hook_args a;
    char tail[96], clean[64];
    int status = hook_parse(c, argc, argv, usage, &a, 2);

    if (status != -1)
        return status;
    render_clean(argv[optind + 1], clean, sizeof(clean));
    if (strspn(clean, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_") != strlen(clean))
        return cli_usage_error(usage, "invalid delivery id '%s'", clean);
    snprintf(tail, sizeof(tail), "/deliveries/%s/redeliver", clean);
    return hook_call(c, "POST", argv[optind], tail, NULL, false);
}

int
cmd_webhook(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"list", "webhook list [--limit N]", hook_list},
        {"add", "webhook add URL --event TYPE... [--description TEXT]",
         hook_add},
        {"show", "webhook show ID", hook_show},
        {"enable", "webhook enable ID", hook_enable},
        {"disable", "webhook disable ID", hook_disable},
        {"delete", "webhook delete ID", hook_delete},
        {"secret", "webhook secret ID (a new secret, shown once)", hook_secret},
        {"test", "webhook test ID", hook_test},
        {"deliveries", "webhook deliveries ID [--limit N]", hook_deliveries},
        {"redeliver", "webhook redeliver ID DELIVERY", hook_redeliver},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
