/* SPDX-License-Identifier: MIT */
/*
 * patd token create|list|show|rename|regenerate|revoke|verify. A command
 * that returns a new token prints it alone on stdout, so that
 * TOKEN=$(patd token create ...) works; verify reads the token from
 * standard input, never from argv.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_cmd.h"

struct token_args {
    const char *user;
    const char *name;
    const char *description;
    const char *reason;
    int status;
    long long grace;
    struct pat_expiry expiry;
    char scopes[PAT_SCOPESTR_MAX + 1];
    char audiences[PAT_AUDSTR_MAX + 1];
    char cidrs[PAT_CIDRSTR_MAX + 1];
    const char *bad; /* a value that did not parse */
    bool overflow;
};

static int
token_opt(int opt, const char *arg, void *ctx)
{
    struct token_args *a = ctx;
    long long v;

    switch (opt) {
    case 'u':
        a->user = arg;
        break;
    case 'n':
        a->name = arg;
        break;
    case 'd':
        a->description = arg;
        break;
    case 'r':
        a->reason = arg;
        break;
    case 's':
        a->overflow |= !admin_list_add(a->scopes, sizeof(a->scopes), arg);
        break;
    case 'a':
        a->overflow |= !admin_list_add(a->audiences, sizeof(a->audiences), arg);
        break;
    case 'c':
        a->overflow |= !admin_list_add(a->cidrs, sizeof(a->cidrs), arg);
        break;
    case 'N':
        a->expiry.never = true;
        break;
    case 'E':
        if (!pat_parse_number(arg, 1, PAT_LIFETIME_CAP, &v))
            a->bad = arg;
        else
            a->expiry.days = (int)v;
        break;
    case 'T':
        if (pat_time_parse(arg, strlen(arg), &a->expiry.at) != PAT_OK)
            a->bad = arg;
        else if (a->expiry.at == 0)
            a->expiry.at = -1; /* the epoch: given, and in the past */
        break;
    case 'g':
        if (!pat_parse_number(arg, 0, PAT_GRACE_MAX, &a->grace))
            a->bad = arg;
        break;
    case 'S':
        if (pat_status_parse(arg, &a->status) != PAT_OK)
            a->bad = arg;
        break;
    default:
        return 1;
    }
    return 0;
}

static const struct option token_opts[] = {
    ADMIN_COMMON_OPTS,
    {"user", required_argument, NULL, 'u'},
    {"name", required_argument, NULL, 'n'},
    {"description", required_argument, NULL, 'd'},
    {"reason", required_argument, NULL, 'r'},
    {"scope", required_argument, NULL, 's'},
    {"audience", required_argument, NULL, 'a'},
    {"cidr", required_argument, NULL, 'c'},
    {"no-expiry", no_argument, NULL, 'N'},
    {"expires-in-days", required_argument, NULL, 'E'},
    {"expires-at", required_argument, NULL, 'T'},
    {"grace", required_argument, NULL, 'g'},
    {"status", required_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

/* Parses the options into a; returns -1 to go on, else an exit status. */
static int
token_parse(struct cmd_ctx *c, int argc, char **argv, const char *usage,
            struct token_args *a, int positional)
{
    int status;

    memset(a, 0, sizeof(*a));
    status = cli_parse(c, argc, argv, token_opts, usage, token_opt, a);
    if (status >= 0)
        return status;
    if (a->bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a->bad);
    if (a->overflow)
        return cli_usage_error(usage, "too many values for a list option");
    if (argc - optind != positional)
        return cli_usage_error(usage, "expected %d argument%s", positional,
                               positional == 1 ? "" : "s");
    return -1;
}

static void
print_token(struct cmd_ctx *c, const struct pat_token *t, int64_t now)
{
    char t1[PAT_TIME_LEN + 1], t2[PAT_TIME_LEN + 1], t3[PAT_TIME_LEN + 1],
        t4[PAT_TIME_LEN + 1];

    if (c->json) {
        admin_print_json(render_token(t, now));
        return;
    }
    printf("id:            %s\n"
           "name:          %s\n"
           "description:   %s\n"
           "user:          %s\n"
           "scopes:        %s\n"
           "audiences:     %s\n"
           "allowed cidrs: %s\n"
           "hint:          ...%s\n"
           "status:        %s\n"
           "created:       %s\n"
           "expires:       %s\n"
           "last used:     %s %s\n"
           "revoked:       %s %s\n",
           t->id, t->name, t->description, t->user_id, t->scopes, t->audiences,
           t->allowed_cidrs, t->hint, pat_status_name(pat_token_status(t, now)),
           admin_time(t->created_at, "-", t1, sizeof(t1)),
           admin_time(t->expires_at, "never", t2, sizeof(t2)),
           admin_time(t->last_used_at, "never", t3, sizeof(t3)),
           t->last_used_ip, admin_time(t->revoked_at, "-", t4, sizeof(t4)),
           t->revoked_reason);
}

/* Prints a new token: alone on stdout, or inside the JSON object. */
static void
print_secret(struct cmd_ctx *c, const struct pat_token *t, const char *secret,
             int64_t now)
{
    if (c->json) {
        json_t *o = render_token(t, now);
        json_object_set_new(o, "token", json_string(secret));
        admin_print_json(o);
        return;
    }
    printf("%s\n", secret);
}

static int
token_create(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token create --user USER --name NAME --scope SCOPE... "
        "[--description TEXT] [--expires-in-days N | --expires-at TIME | "
        "--no-expiry] [--audience AUD]... [--cidr RANGE]... [--db PATH] "
        "[--json]";
    struct token_args a;
    struct pat_token_spec spec;
    struct pat_token t;
    struct pat_store *st = NULL;
    char secret[PAT_TOKEN_MAX + 1];
    int rc, status;

    status = token_parse(c, argc, argv, usage, &a, 0);
    if (status >= 0)
        return status;
    if (a.user == NULL || a.name == NULL)
        return cli_usage_error(usage, "--user and --name are required");
    spec =
        (struct pat_token_spec){a.user,      a.name,  a.description, a.scopes,
                                a.audiences, a.cidrs, a.expiry};
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_token_create(st, NULL, &spec, &t, secret, sizeof(secret));
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot create the token", rc);
    else
        print_secret(c, &t, secret, pat_store_now(st));
    OPENSSL_cleanse(secret, sizeof(secret));
    pat_store_close(st);
    return status;
}

static int
token_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token list [--user USER] [--status active|expired|revoked|all] "
        "[--scope SCOPE] [--db PATH] [--json]";
    enum { PAGE = 200 };
    struct token_args a;
    struct pat_token_filter f;
    struct pat_token *page = NULL;
    struct pat_store *st = NULL;
    struct pat_user u;
    json_t *items = NULL;
    char exp[PAT_TIME_LEN + 1];
    size_t n, i;
    int rc, status;

    status = token_parse(c, argc, argv, usage, &a, 0);
    if (status >= 0)
        return status;
    if (strchr(a.scopes, ' ') != NULL)
        return cli_usage_error(usage, "give at most one --scope");
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    memset(&f, 0, sizeof(f));
    f.status = a.status ? a.status : PAT_STATUS_ACTIVE;
    f.scope = a.scopes[0] ? a.scopes : NULL;
    if (a.user != NULL) {
        rc = pat_user_get(st, a.user, &u);
        if (rc != PAT_OK) {
            status = admin_refuse(c, "cannot list tokens", rc);
            goto out;
        }
        f.user_id = u.id;
    }
    page = calloc(PAGE, sizeof(*page));
    items = json_array();
    if (page == NULL || items == NULL) {
        status = admin_refuse(c, "cannot list tokens", PAT_ENOMEM);
        goto out;
    }
    if (!c->json)
        printf("%-20s %-20s %-24s %-8s %-5s %-20s %s\n", "ID", "USER", "NAME",
               "STATUS", "HINT", "EXPIRES", "SCOPES");
    do {
        rc = pat_token_list(st, &f, page, PAGE, &n);
        if (rc != PAT_OK) {
            status = admin_refuse(c, "cannot list tokens", rc);
            goto out;
        }
        for (i = 0; i < n; i++) {
            const struct pat_token *t = &page[i];
            int64_t now = pat_store_now(st);
            if (c->json)
                json_array_append_new(items, render_token(t, now));
            else
                printf("%-20s %-20s %-24s %-8s %-5s %-20s %s\n", t->id,
                       t->user_id, t->name,
                       pat_status_name(pat_token_status(t, now)), t->hint,
                       admin_time(t->expires_at, "never", exp, sizeof(exp)),
                       t->scopes);
        }
        if (n > 0)
            f.after = page[n - 1].seq;
    } while (n == PAGE);
    if (c->json)
        admin_print_json(json_pack("{s:O}", "items", items));
out:
    json_decref(items);
    free(page);
    pat_store_close(st);
    return status;
}

static int
token_show(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "token show ID [--db PATH] [--json]";
    struct token_args a;
    struct pat_store *st = NULL;
    struct pat_token t;
    int rc, status;

    status = token_parse(c, argc, argv, usage, &a, 1);
    if (status >= 0)
        return status;
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_token_get(st, NULL, argv[optind], &t);
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot show the token", rc);
    else
        print_token(c, &t, pat_store_now(st));
    pat_store_close(st);
    return status;
}

static int
token_rename(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token rename ID NEW_NAME [--description TEXT] [--db PATH] [--json]";
    struct token_args a;
    struct pat_store *st = NULL;
    struct pat_token t;
    int rc, status;

    status = token_parse(c, argc, argv, usage, &a, 2);
    if (status >= 0)
        return status;
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_token_update(st, NULL, NULL, argv[optind], argv[optind + 1],
                          a.description, &t);
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot rename the token", rc);
    else
        print_token(c, &t, pat_store_now(st));
    pat_store_close(st);
    return status;
}

static int
token_regenerate(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token regenerate ID [--grace SECONDS] [--expires-in-days N | "
        "--expires-at TIME | --no-expiry] [--db PATH] [--json]";
    struct token_args a;
    struct pat_store *st = NULL;
    struct pat_token t;
    char secret[PAT_TOKEN_MAX + 1];
    int rc, status;

    status = token_parse(c, argc, argv, usage, &a, 1);
    if (status >= 0)
        return status;
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_token_regenerate(st, NULL, NULL, argv[optind], &a.expiry,
                              (int)a.grace, &t, secret, sizeof(secret));
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot regenerate the token", rc);
    else
        print_secret(c, &t, secret, pat_store_now(st));
    OPENSSL_cleanse(secret, sizeof(secret));
    pat_store_close(st);
    return status;
}

static int
token_revoke(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token revoke ID [--reason REASON] [--db PATH] | "
        "token revoke --user USER [--reason REASON] [--db PATH]";
    struct token_args a;
    struct pat_store *st = NULL;
    int64_t count = 0;
    int rc, status;

    memset(&a, 0, sizeof(a));
    status = cli_parse(c, argc, argv, token_opts, usage, token_opt, &a);
    if (status >= 0)
        return status;
    if ((a.user == NULL) != (argc - optind == 1) || argc - optind > 1)
        return cli_usage_error(usage, "give a token id, or --user alone");
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    if (a.user != NULL)
        rc = pat_token_revoke_user(st, NULL, a.user, a.reason, &count);
    else
        rc = pat_token_revoke(st, NULL, NULL, argv[optind], a.reason);
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot revoke", rc);
    else if (a.user != NULL && c->json)
        admin_print_json(json_pack("{s:I}", "revoked", (json_int_t)count));
    else if (a.user != NULL)
        printf("revoked %lld token%s\n", (long long)count,
               count == 1 ? "" : "s");
    pat_store_close(st);
    return status;
}

static int
token_verify(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token verify [--db PATH] [--json]   (reads the token from stdin)";
    struct token_args a;
    struct pat_store *st = NULL;
    struct pat_verdict v;
    char tok[PAT_TOKEN_MAX + 2], exp[PAT_TIME_LEN + 1];
    int rc, status;

    status = token_parse(c, argc, argv, usage, &a, 0);
    if (status >= 0)
        return status;
    if (!admin_read_token(tok, sizeof(tok))) {
        OPENSSL_cleanse(tok, sizeof(tok));
        return cli_refuse("token verify: no token on standard input, or one "
                          "longer than any token");
    }
    status = admin_open(c, 0, &st);
    if (status == EXIT_DONE) {
        rc = pat_verify(st, tok, strlen(tok), &v);
        if (c->json)
            admin_print_json(json_pack(
                "{s:b, s:s, s:s?, s:s?, s:s?, s:o, s:o}", "valid", rc == PAT_OK,
                "result", rc == PAT_OK ? "valid" : pat_errname(rc), "token_id",
                v.token_id[0] ? v.token_id : NULL, "user_id",
                v.user_id[0] ? v.user_id : NULL, "username",
                v.username[0] ? v.username : NULL, "scopes",
                json_string(v.scopes), "expires_at",
                v.expires_at ? json_string(admin_time(v.expires_at, "", exp,
                                                      sizeof(exp)))
                             : json_null()));
        else if (rc == PAT_OK)
            printf("valid: token %s of %s (%s); scopes: %s; expires %s\n",
                   v.token_id, v.username, v.user_id, v.scopes,
                   admin_time(v.expires_at, "never", exp, sizeof(exp)));
        if (rc != PAT_OK)
            status = cli_refuse("token is not valid: %s", pat_strerror(rc));
    }
    OPENSSL_cleanse(tok, sizeof(tok));
    pat_store_close(st);
    return status;
}

int
cmd_token(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"create",
         "token create --user USER --name NAME --scope SCOPE... "
         "[--description TEXT] [--expires-in-days N | --expires-at TIME | "
         "--no-expiry] [--audience AUD]... [--cidr RANGE]... [--json]",
         token_create},
        {"list",
         "token list [--user USER] [--status active|expired|revoked|all] "
         "[--scope SCOPE] [--json]",
         token_list},
        {"show", "token show ID [--json]", token_show},
        {"rename", "token rename ID NEW_NAME [--description TEXT] [--json]",
         token_rename},
        {"regenerate",
         "token regenerate ID [--grace SECONDS] [--expires-in-days N | "
         "--expires-at TIME | --no-expiry] [--json]",
         token_regenerate},
        {"revoke", "token revoke ID|--user USER [--reason REASON]",
         token_revoke},
        {"verify", "token verify [--json]  (token on standard input)",
         token_verify},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
