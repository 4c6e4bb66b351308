/* SPDX-License-Identifier: MIT */
/*
 * patctl token list|create|show|rename|regenerate|revoke: a user's own
 * tokens, through /v1/me/tokens. A command that returns a new token
 * prints it alone on stdout (with --json: the whole object, "token"
 * included), so TOKEN=$(patctl token create ...) works.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "list.h"
#include "views.h"
#include "banned.h"

/* Longest lifetime and grace period patctl passes on; patd decides. */
#define DAYS_MAX  36600
#define GRACE_MAX (366LL * 24 * 3600)

/* The options of every token command; NULL or -1 when not given. */
struct token_args {
    const char *name;
    const char *description;
    const char *expires_at;
    const char *status;
    long long days;
    long long grace;
    long long limit;
    bool no_expiry;
    int nexpiry;    /* how many expiry options were given */
    json_t *scopes; /* owned arrays, built while parsing */
    json_t *audiences;
    json_t *cidrs;
    const char *bad; /* a value that did not parse */
};

static const struct option token_opts[] = {
    CTL_COMMON_OPTS,
    {"name", required_argument, NULL, 'n'},
    {"description", required_argument, NULL, 'd'},
    {"scope", required_argument, NULL, 's'},
    {"audience", required_argument, NULL, 'a'},
    {"cidr", required_argument, NULL, 'c'},
    {"expires-in-days", required_argument, NULL, 'E'},
    {"expires-at", required_argument, NULL, 'T'},
    {"no-expiry", no_argument, NULL, 'N'},
    {"grace", required_argument, NULL, 'g'},
    {"status", required_argument, NULL, 'S'},
    {"limit", required_argument, NULL, 'l'},
    {NULL, 0, NULL, 0},
};

/* Appends arg to the array *a, creating it; nonzero when out of memory. */
static int
push(json_t **a, const char *arg)
{
    if (*a == NULL)
        *a = json_array();
    return *a == NULL || json_array_append_new(*a, json_string(arg)) != 0;
}

static bool
is_status(const char *s)
{
    return strcmp(s, "active") == 0 || strcmp(s, "expired") == 0 ||
           strcmp(s, "revoked") == 0 || strcmp(s, "all") == 0;
}

static int
token_opt(int opt, const char *arg, void *ctx)
{
    struct token_args *a = ctx;

    switch (opt) {
    case 'n':
        a->name = arg;
        return 0;
    case 'd':
        a->description = arg;
        return 0;
    case 's':
        return push(&a->scopes, arg);
    case 'a':
        return push(&a->audiences, arg);
    case 'c':
        return push(&a->cidrs, arg);
    case 'E':
        a->nexpiry++;
        if (!pat_parse_number(arg, 1, DAYS_MAX, &a->days))
            a->bad = arg;
        return 0;
    case 'T':
        a->nexpiry++;
        a->expires_at = arg;
        return 0;
    case 'N':
        a->nexpiry++;
        a->no_expiry = true;
        return 0;
    case 'g':
        if (!pat_parse_number(arg, 0, GRACE_MAX, &a->grace))
            a->bad = arg;
        return 0;
    case 'S':
        a->status = arg;
        if (!is_status(arg))
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

static void
token_args_release(struct token_args *a)
{
    json_decref(a->scopes);
    json_decref(a->audiences);
    json_decref(a->cidrs);
}

/*
 * Parses argv into a; operands must number exactly noperands. Returns -1
 * to go on, else the exit status.
 */
static int
token_parse(struct cmd_ctx *c, int argc, char **argv, const char *usage,
            struct token_args *a, int noperands)
{
    int status;

    memset(a, 0, sizeof(*a));
    a->days = -1;
    a->grace = -1;
    status = cli_parse(c, argc, argv, token_opts, usage, token_opt, a);
    if (status != -1)
        return status;
    if (a->bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a->bad);
    if (a->nexpiry > 1)
        return cli_usage_error(usage, "give at most one of --expires-in-days, "
                                      "--expires-at and --no-expiry");
    if (argc - optind != noperands)
        return cli_usage_error(usage, "expected %d argument%s", noperands,
                               noperands == 1 ? "" : "s");
    return -1;
}

/* Refuses options that the command does not take. */
static int
only(const char *usage, const struct token_args *a, const char *allowed)
{
    static const struct {
        char code;
        const char *flag;
    } flags[] = {
        {'n', "--name"},     {'d', "--description"}, {'s', "--scope"},
        {'a', "--audience"}, {'c', "--cidr"},        {'E', "--expires-in-days"},
        {'g', "--grace"},    {'S', "--status"},      {'l', "--limit"},
    };
    bool given[sizeof(flags) / sizeof(flags[0])] = {
        a->name != NULL,      a->description != NULL, a->scopes != NULL,
        a->audiences != NULL, a->cidrs != NULL,       a->nexpiry > 0,
        a->grace >= 0,        a->status != NULL,      a->limit > 0,
    };
    size_t i;

    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (given[i] && strchr(allowed, flags[i].code) == NULL)
            return cli_usage_error(usage, "%s does not apply here",
                                   flags[i].flag);
    }
    return -1;
}

/* Adds the expiry options to body; nonzero when out of memory. */
static int
add_expiry(json_t *body, const struct token_args *a)
{
    if (a->days > 0)
        return json_object_set_new(body, "expires_in_days",
                                   json_integer(a->days));
    if (a->expires_at != NULL)
        return json_object_set_new(body, "expires_at",
                                   json_string(a->expires_at));
    if (a->no_expiry)
        return json_object_set_new(body, "expires_at", json_null());
    return 0;
}

/* Prints a token the server just made: alone, or as JSON with --json. */
static int
print_secret(const struct cmd_ctx *c, const json_t *tok, const char *verb)
{
    const char *secret = json_string_value(json_object_get(tok, "token"));
    char id[64], exp[64];

    if (secret == NULL || !config_token_ok(secret))
        return cli_refuse("the server's answer holds no token");
    if (c->json) {
        render_json(stdout, tok);
        return EXIT_DONE;
    }
    printf("%s\n", secret);
    /* For a person only: scripts read stdout and need nothing else. */
    if (isatty(STDERR_FILENO) == 1)
        fprintf(stderr,
                "patctl: %s token %s (expires %s); it is shown once, "
                "above\n",
                verb,
                render_value(json_object_get(tok, "id"), "-", id, sizeof(id)),
                render_value(json_object_get(tok, "expires_at"), "never", exp,
                             sizeof(exp)));
    return EXIT_DONE;
}

static int
token_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token list [--status active|expired|revoked|all] [--limit N] "
        "[--json]";
    struct token_args a;
    struct buf path;
    int status;

    buf_init(&path, 0);
    status = token_parse(c, argc, argv, usage, &a, 0);
    if (status == -1)
        status = only(usage, &a, "Sl");
    if (status != -1)
        goto out;
    status = ctl_path(c, &path, "/v1/me/tokens", NULL);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "status", a.status);
    if (status == EXIT_DONE)
        status = list_print(c, buf_str(&path), a.limit, &view_my_tokens);
out:
    buf_release(&path);
    token_args_release(&a);
    return status;
}

/* Builds the body of POST /v1/me/tokens; NULL when out of memory. */
static json_t *
create_body(const struct token_args *a)
{
    json_t *body = json_object();

    if (body == NULL ||
        json_object_set_new(body, "name", json_string(a->name)) != 0 ||
        json_object_set(body, "scopes", a->scopes) != 0 ||
        (a->description != NULL &&
         json_object_set_new(body, "description",
                             json_string(a->description)) != 0) ||
        add_expiry(body, a) != 0 ||
        (a->audiences != NULL &&
         json_object_set(body, "audiences", a->audiences) != 0) ||
        (a->cidrs != NULL &&
         json_object_set(body, "allowed_cidrs", a->cidrs) != 0)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

static int
token_create(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token create --name NAME --scope SCOPE... [--description TEXT] "
        "[--expires-in-days N | --expires-at TIME | --no-expiry] "
        "[--audience AUD]... [--cidr RANGE]... [--json]";
    struct token_args a;
    json_t *body = NULL, *tok = NULL;
    int status;

    status = token_parse(c, argc, argv, usage, &a, 0);
    if (status == -1)
        status = only(usage, &a, "ndsacE");
    if (status == -1 && (a.name == NULL || a.scopes == NULL))
        status = cli_usage_error(usage, "--name and --scope are required");
    if (status != -1)
        goto out;
    body = create_body(&a);
    if (body == NULL) {
        status = cli_refuse("out of memory");
        goto out;
    }
    status = ctl_call(c, "POST", "/v1/me/tokens", body, &tok);
    if (status == EXIT_DONE)
        status = print_secret(c, tok, "created");
out:
    json_decref(tok);
    json_decref(body);
    token_args_release(&a);
    return status;
}

static int
token_show(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "token show ID [--json]";
    struct token_args a;
    struct buf path;
    json_t *tok = NULL;
    int status;

    buf_init(&path, 0);
    status = token_parse(c, argc, argv, usage, &a, 1);
    if (status == -1)
        status = only(usage, &a, "");
    if (status != -1)
        goto out;
    status = ctl_path(c, &path, "/v1/me/tokens", argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "GET", buf_str(&path), NULL, &tok);
    if (status == EXIT_DONE)
        ctl_show(c, tok, view_token_fields);
out:
    json_decref(tok);
    buf_release(&path);
    token_args_release(&a);
    return status;
}

static int
token_rename(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token rename ID NEW_NAME [--description TEXT] [--json]";
    struct token_args a;
    struct buf path;
    json_t *body = NULL, *tok = NULL;
    int status;

    buf_init(&path, 0);
    status = token_parse(c, argc, argv, usage, &a, 2);
    if (status == -1)
        status = only(usage, &a, "d");
    if (status != -1)
        goto out;
    body = json_pack("{s:s}", "name", argv[optind + 1]);
    if (body == NULL ||
        (a.description != NULL &&
         json_object_set_new(body, "description", json_string(a.description)) !=
             0)) {
        status = cli_refuse("out of memory");
        goto out;
    }
    status = ctl_path(c, &path, "/v1/me/tokens", argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "PATCH", buf_str(&path), body, &tok);
    if (status == EXIT_DONE)
        ctl_show(c, tok, view_token_fields);
out:
    json_decref(tok);
    json_decref(body);
    buf_release(&path);
    token_args_release(&a);
    return status;
}

static int
token_regenerate(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token regenerate ID [--grace SECONDS] "
        "[--expires-in-days N | --expires-at TIME | --no-expiry] [--json]";
    struct token_args a;
    struct buf path;
    json_t *body = NULL, *tok = NULL;
    int status;

    buf_init(&path, 0);
    status = token_parse(c, argc, argv, usage, &a, 1);
    if (status == -1)
        status = only(usage, &a, "Eg");
    if (status != -1)
        goto out;
    body = json_object();
    if (body == NULL || add_expiry(body, &a) != 0 ||
        (a.grace >= 0 && json_object_set_new(body, "grace_seconds",
                                             json_integer(a.grace)) != 0)) {
        status = cli_refuse("out of memory");
        goto out;
    }
    status = ctl_path(c, &path, "/v1/me/tokens", argv[optind]);
    if (status == EXIT_DONE && !buf_puts(&path, "/regenerate"))
        status = cli_refuse("request path too long");
    if (status == EXIT_DONE)
        status = ctl_call(c, "POST", buf_str(&path), body, &tok);
    if (status == EXIT_DONE)
        status = print_secret(c, tok, "regenerated");
out:
    json_decref(tok);
    json_decref(body);
    buf_release(&path);
    token_args_release(&a);
    return status;
}

static int
token_revoke(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "token revoke ID";
    struct token_args a;
    struct buf path;
    json_t *none = NULL;
    int status;

    buf_init(&path, 0);
    status = token_parse(c, argc, argv, usage, &a, 1);
    if (status == -1)
        status = only(usage, &a, "");
    if (status != -1)
        goto out;
    status = ctl_path(c, &path, "/v1/me/tokens", argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "DELETE", buf_str(&path), NULL, &none);
    if (status == EXIT_DONE && !c->json)
        printf("Revoked token %s\n", argv[optind]);
out:
    json_decref(none);
    buf_release(&path);
    token_args_release(&a);
    return status;
}

int
cmd_token(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"list", "token list [--status active|expired|revoked|all] [--limit N]",
         token_list},
        {"create",
         "token create --name NAME --scope SCOPE... [--description TEXT] "
         "[--expires-in-days N | --expires-at TIME | --no-expiry] "
         "[--audience AUD]... [--cidr RANGE]...",
         token_create},
        {"show", "token show ID", token_show},
        {"rename", "token rename ID NEW_NAME [--description TEXT]",
         token_rename},
        {"regenerate",
         "token regenerate ID [--grace SECONDS] [--expires-in-days N | "
         "--expires-at TIME | --no-expiry]",
         token_regenerate},
        {"revoke", "token revoke ID", token_revoke},
        {"exchange",
         "token exchange [--scope SCOPE]... [--audience AUD]... "
         "[--resource URI]... [--json]",
         token_exchange},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
