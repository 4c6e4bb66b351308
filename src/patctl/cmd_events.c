/* SPDX-License-Identifier: MIT */
/*
 * patctl events: the change feed (GET /v1/events), for admins. Reads
 * page after page by sequence number from --after (default: the start),
 * up to --limit rows (default 1,000), and prints them as a table or, with
 * --json, as {"items": [...]} like every list of patctl. The last line of a
 * table says which --after to ask with next, so a script or a person can read
 * on from where they stopped.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "banned.h"

#define PAGE_MAX 200

struct events_args {
    long long after;
    long long limit;
    const char *bad;
};

static int
events_opt(int opt, const char *arg, void *ctx)
{
    struct events_args *a = ctx;

    switch (opt) {
    case 'a':
        if (!pat_parse_number(arg, 0, INT64_MAX, &a->after))
            a->bad = arg;
        return 0;
    case 'l':
        if (!pat_parse_number(arg, 1, 1000000000, &a->limit))
            a->bad = arg;
        return 0;
    default:
        return 1;
    }
}

static const char *const heads[] = {"SEQ",  "AT",    "TYPE", "ACTOR",
                                    "USER", "TOKEN", "DATA"};
static const char *const keys[] = {"seq",     "at",       "type", "actor",
                                   "user_id", "token_id", "data"};
#define NCOLS (sizeof(heads) / sizeof(heads[0]))

static bool
show(struct cmd_ctx *c, struct table *t, struct json_items *items,
     const json_t *item)
{
    char cells[NCOLS][256];
    const char *row[NCOLS];
    size_t i;

    if (c->json)
        return render_json_item(stdout, items, item);
    for (i = 0; i < NCOLS; i++)
        row[i] = render_value(json_object_get(item, keys[i]), "-", cells[i],
                              sizeof(cells[i]));
    return table_add(t, row);
}

/* One page after *after: prints it, moves *after, counts into *n. */
static int
page(struct cmd_ctx *c, struct table *t, struct json_items *items,
     long long *after, long long want, long long *n)
{
    char path[96];
    json_t *ans = NULL, *item;
    size_t i;
    int status;

    snprintf(path, sizeof(path), "/v1/events?after=%lld&limit=%lld", *after,
             want < PAGE_MAX ? want : PAGE_MAX);
    status = ctl_call(c, "GET", path, NULL, &ans);
    if (status != EXIT_DONE)
        return status;
    json_array_foreach(json_object_get(ans, "items"), i, item)
    {
        if (!show(c, t, items, item)) {
            json_decref(ans);
            return cli_refuse("out of memory");
        }
        (*n)++;
    }
    *after = (long long)json_integer_value(json_object_get(ans, "next_after"));
    json_decref(ans);
    return EXIT_DONE;
}

int
cmd_events(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "events [--after SEQ] [--limit N] [--json]";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"after", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct events_args a = {0, 1000, NULL};
    struct json_items items = {0};
    struct table t;
    long long n = 0, before;
    int status;

    status = cli_parse(c, argc, argv, opts, usage, events_opt, &a);
    if (status != -1)
        return status;
    if (a.bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a.bad);
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    table_init(&t, heads, NCOLS);
    do {
        before = n;
        status = page(c, &t, &items, &a.after, a.limit - n, &n);
        if (!c->json)
            table_flush(&t, stdout);
    } while (status == EXIT_DONE && n > before && n < a.limit);
    if (status != EXIT_DONE)
        ; /* ctl_call said why */
    else if (c->json)
        render_json_end(stdout, &items);
    else if (n == 0)
        printf("No events after %lld.\n", a.after);
    else
        printf("# next: --after %lld\n", a.after);
    table_release(&t);
    return status;
}
