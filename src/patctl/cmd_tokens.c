/* SPDX-License-Identifier: MIT */
/*
 * patctl tokens list|show|revoke|bulk-revoke: the admin inventory of
 * every user's tokens, through /v1/tokens. bulk-revoke can say first how
 * many tokens it would revoke (--dry-run), and asks before revoking on a
 * terminal unless --yes is given.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "list.h"
#include "prompt.h"
#include "views.h"
#include "banned.h"

/* The filters and switches of the inventory commands; NULL if not given. */
struct inv_args {
    const char *user_id;
    const char *status;
    const char *scope;
    const char *expires_before;
    const char *last_used_before;
    const char *created_before;
    long long limit;
    bool dry_run;
    bool yes;
    const char *bad;
};

static const struct option inv_opts[] = {
    CTL_COMMON_OPTS,
    {"user-id", required_argument, NULL, 'u'},
    {"status", required_argument, NULL, 'S'},
    {"scope", required_argument, NULL, 's'},
    {"expires-before", required_argument, NULL, 'e'},
    {"last-used-before", required_argument, NULL, 'L'},
    {"created-before", required_argument, NULL, 'C'},
    {"limit", required_argument, NULL, 'l'},
    {"dry-run", no_argument, NULL, 'n'},
    {"yes", no_argument, NULL, 'y'},
    {NULL, 0, NULL, 0},
};

static int
inv_opt(int opt, const char *arg, void *ctx)
{
    struct inv_args *a = ctx;

    switch (opt) {
    case 'u':
        a->user_id = arg;
        return 0;
    case 'S':
        a->status = arg;
        if (strcmp(arg, "active") != 0 && strcmp(arg, "expired") != 0 &&
            strcmp(arg, "revoked") != 0 && strcmp(arg, "all") != 0)
            a->bad = arg;
        return 0;
    case 's':
        a->scope = arg;
        return 0;
    case 'e':
        a->expires_before = arg;
        return 0;
    case 'L':
        a->last_used_before = arg;
        return 0;
    case 'C':
        a->created_before = arg;
        return 0;
    case 'l':
        if (!pat_parse_number(arg, 1, 1000000000, &a->limit))
            a->bad = arg;
        return 0;
    case 'n':
        a->dry_run = true;
        return 0;
    case 'y':
        a->yes = true;
        return 0;
    default:
        return 1;
    }
}

/*
 * Parses argv into a, which may only hold the options whose codes are in
 * allowed; operands must number noperands. -1 to go on, else the status.
 */
static int
inv_parse(struct cmd_ctx *c, int argc, char **argv, const char *usage,
          struct inv_args *a, const char *allowed, int noperands)
{
    static const struct {
        char code;
        const char *flag;
    } flags[] = {
        {'u', "--user-id"},
        {'S', "--status"},
        {'s', "--scope"},
        {'e', "--expires-before"},
        {'L', "--last-used-before"},
        {'C', "--created-before"},
        {'l', "--limit"},
        {'n', "--dry-run"},
        {'y', "--yes"},
    };
    bool given[sizeof(flags) / sizeof(flags[0])];
    size_t i;
    int status;

    memset(a, 0, sizeof(*a));
    status = cli_parse(c, argc, argv, inv_opts, usage, inv_opt, a);
    if (status != -1)
        return status;
    if (a->bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a->bad);
    given[0] = a->user_id != NULL;
    given[1] = a->status != NULL;
    given[2] = a->scope != NULL;
    given[3] = a->expires_before != NULL;
    given[4] = a->last_used_before != NULL;
    given[5] = a->created_before != NULL;
    given[6] = a->limit > 0;
    given[7] = a->dry_run;
    given[8] = a->yes;
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (given[i] && strchr(allowed, flags[i].code) == NULL)
            return cli_usage_error(usage, "%s does not apply here",
                                   flags[i].flag);
    }
    if (argc - optind != noperands)
        return cli_usage_error(usage, "expected %d argument%s", noperands,
                               noperands == 1 ? "" : "s");
    return -1;
}

static int
tokens_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "tokens list [--user-id ID] [--status active|expired|revoked|all] "
        "[--scope SCOPE] [--expires-before TIME] [--last-used-before TIME] "
        "[--created-before TIME] [--limit N] [--json]";
    struct inv_args a;
    struct buf path;
    int status;

    buf_init(&path, 0);
    status = inv_parse(c, argc, argv, usage, &a, "uSseLCl", 0);
    if (status != -1)
        return status;
    status = ctl_path(c, &path, "/v1/tokens", NULL);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "user_id", a.user_id);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "status", a.status);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "scope", a.scope);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "expires_before", a.expires_before);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "last_used_before", a.last_used_before);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "created_before", a.created_before);
    if (status == EXIT_DONE)
        status = list_print(c, buf_str(&path), a.limit, &view_all_tokens);
    buf_release(&path);
    return status;
}

static int
tokens_show(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "tokens show ID [--json]";
    struct inv_args a;
    struct buf path;
    json_t *tok = NULL;
    int status;

    buf_init(&path, 0);
    status = inv_parse(c, argc, argv, usage, &a, "", 1);
    if (status != -1)
        return status;
    status = ctl_path(c, &path, "/v1/tokens", argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "GET", buf_str(&path), NULL, &tok);
    if (status == EXIT_DONE)
        ctl_show(c, tok, view_token_fields);
    json_decref(tok);
    buf_release(&path);
    return status;
}

static int
tokens_revoke(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "tokens revoke ID";
    struct inv_args a;
    struct buf path;
    json_t *none = NULL;
    int status;

    buf_init(&path, 0);
    status = inv_parse(c, argc, argv, usage, &a, "", 1);
    if (status != -1)
        return status;
    status = ctl_path(c, &path, "/v1/tokens", argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "DELETE", buf_str(&path), NULL, &none);
    if (status == EXIT_DONE && !c->json)
        printf("Revoked token %s\n", argv[optind]);
    json_decref(none);
    buf_release(&path);
    return status;
}

/* POSTs a bulk revoke, dry or not; *count gets the server's number. */
static int
bulk_call(struct cmd_ctx *c, const struct inv_args *a, bool dry, json_t **out,
          long long *count)
{
    json_t *body = json_object();
    const json_t *n;
    int status;

    *out = NULL;
    if (body == NULL ||
        (a->user_id != NULL &&
         json_object_set_new(body, "user_id", json_string(a->user_id))) ||
        (a->scope != NULL &&
         json_object_set_new(body, "scope", json_string(a->scope))) ||
        (a->created_before != NULL &&
         json_object_set_new(body, "created_before",
                             json_string(a->created_before))) ||
        (dry && json_object_set_new(body, "dry_run", json_true()))) {
        json_decref(body);
        return cli_refuse("out of memory");
    }
    status = ctl_call(c, "POST", "/v1/tokens/revoke", body, out);
    json_decref(body);
    if (status != EXIT_DONE)
        return status;
    n = json_object_get(*out, "revoked");
    if (!json_is_integer(n)) {
        json_decref(*out);
        *out = NULL;
        return cli_refuse("unexpected answer from the server: no "
                          "\"revoked\" count");
    }
    *count = json_integer_value(n);
    return EXIT_DONE;
}

/* Asks before a real bulk revoke, showing the would-be count. */
static int
bulk_confirm(struct cmd_ctx *c, const char *usage, const struct inv_args *a)
{
    json_t *dry = NULL;
    long long n = 0;
    char question[96];
    int status;

    if (a->yes)
        return EXIT_DONE;
    if (!prompt_interactive())
        return cli_usage_error(usage, "not a terminal: give --yes to revoke, "
                                      "or --dry-run to count");
    status = bulk_call(c, a, true, &dry, &n);
    json_decref(dry);
    if (status != EXIT_DONE)
        return status;
    if (n == 0)
        return EXIT_DONE;
    snprintf(question, sizeof(question), "Revoke %lld token%s? [y/N] ", n,
             n == 1 ? "" : "s");
    if (!prompt_confirm(question))
        return cli_refuse("nothing revoked");
    return EXIT_DONE;
}

static int
tokens_bulk_revoke(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "tokens bulk-revoke [--user-id ID] [--scope SCOPE] "
        "[--created-before TIME] [--dry-run | --yes] [--json]";
    struct inv_args a;
    json_t *res = NULL;
    long long n = 0;
    int status;

    status = inv_parse(c, argc, argv, usage, &a, "usCny", 0);
    if (status != -1)
        return status;
    if (a.user_id == NULL && a.scope == NULL && a.created_before == NULL)
        return cli_usage_error(usage, "give at least one of --user-id, "
                                      "--scope and --created-before");
    if (!a.dry_run) {
        status = bulk_confirm(c, usage, &a);
        if (status != EXIT_DONE)
            return status;
    }
    status = bulk_call(c, &a, a.dry_run, &res, &n);
    if (status == EXIT_DONE && c->json)
        render_json(stdout, res);
    else if (status == EXIT_DONE)
        printf("%s %lld token%s\n", a.dry_run ? "Would revoke" : "Revoked", n,
               n == 1 ? "" : "s");
    json_decref(res);
    return status;
}

int
cmd_tokens(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"list",
         "tokens list [--user-id ID] [--status active|expired|revoked|all] "
         "[--scope SCOPE] [--expires-before TIME] [--last-used-before TIME] "
         "[--created-before TIME] [--limit N]",
         tokens_list},
        {"show", "tokens show ID", tokens_show},
        {"revoke", "tokens revoke ID", tokens_revoke},
        {"bulk-revoke",
         "tokens bulk-revoke [--user-id ID] [--scope SCOPE] "
         "[--created-before TIME] [--dry-run | --yes]",
         tokens_bulk_revoke},
        {"pending", "tokens pending [--limit N]", ctl_tokens_pending},
        {"approve", "tokens approve ID", ctl_tokens_approve},
        {"deny", "tokens deny ID [--reason TEXT]", ctl_tokens_deny},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
