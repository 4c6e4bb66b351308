/* SPDX-License-Identifier: MIT */
/* patd user add|list|show|disable|enable|set-scopes. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_cmd.h"

struct user_args {
    struct pat_user_spec spec;
    char scopes[PAT_SCOPESTR_MAX + 1];
    bool have_scopes;
    bool overflow;
    int kind; /* enum pat_user_kind */
    bool bad_kind;
};

static int
user_opt(int opt, const char *arg, void *ctx)
{
    struct user_args *a = ctx;

    switch (opt) {
    case 'n':
        a->spec.display_name = arg;
        return 0;
    case 'e':
        a->spec.email = arg;
        return 0;
    case 'A':
        a->spec.role = PAT_ROLE_ADMIN;
        return 0;
    case 'k':
        a->bad_kind = pat_user_kind_parse(arg, &a->kind) != PAT_OK;
        return 0;
    case 's':
        a->have_scopes = true;
        if (!admin_list_add(a->scopes, sizeof(a->scopes), arg))
            a->overflow = true;
        return 0;
    default:
        return 1;
    }
}

static void
print_user(struct cmd_ctx *c, const struct pat_user *u)
{
    char t1[PAT_TIME_LEN + 1], t2[PAT_TIME_LEN + 1];

    if (c->json) {
        admin_print_json(render_user(u));
        return;
    }
    printf("id:           %s\n"
           "username:     %s\n"
           "display name: %s\n"
           "email:        %s\n"
           "role:         %s\n"
           "kind:         %s\n"
           "scopes:       %s\n"
           "disabled:     %s\n"
           "created:      %s\n"
           "updated:      %s\n",
           u->id, u->username, u->display_name, u->email,
           u->role == PAT_ROLE_ADMIN ? "admin" : "user",
           pat_user_kind_name(u->kind), u->scopes, u->disabled ? "yes" : "no",
           admin_time(u->created_at, "-", t1, sizeof(t1)),
           admin_time(u->updated_at, "-", t2, sizeof(t2)));
}

static int
user_add(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "user add NAME [--display-name TEXT] [--email ADDR] [--admin] "
        "[--kind person|service] [--scope SCOPE]... [--db PATH] [--json]";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"display-name", required_argument, NULL, 'n'},
        {"email", required_argument, NULL, 'e'},
        {"admin", no_argument, NULL, 'A'},
        {"scope", required_argument, NULL, 's'},
        {"kind", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct user_args a;
    struct pat_store *st = NULL;
    struct pat_user u;
    int rc, status;

    memset(&a, 0, sizeof(a));
    a.spec.role = PAT_ROLE_USER;
    status = cli_parse(c, argc, argv, opts, usage, user_opt, &a);
    if (status >= 0)
        return status;
    if (argc - optind != 1)
        return cli_usage_error(usage, "expected one user name");
    if (a.overflow)
        return cli_usage_error(usage, "too many scopes");
    if (a.bad_kind)
        return cli_usage_error(usage, "--kind is 'person' or 'service'");
    a.spec.username = argv[optind];
    if (a.have_scopes)
        a.spec.scopes = a.scopes;
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_user_create_kind(st, NULL, &a.spec, a.kind, &u);
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot add the user", rc);
    else
        print_user(c, &u);
    pat_store_close(st);
    return status;
}

static int
user_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "user list [--db PATH] [--json]";
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    enum { PAGE = 200 };
    struct pat_user *page = NULL;
    struct pat_store *st = NULL;
    json_t *items = NULL;
    int64_t after = 0;
    size_t n, i;
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
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
        status = admin_refuse(c, "cannot list users", PAT_ENOMEM);
        goto out;
    }
    if (!c->json)
        printf("%-20s %-24s %-5s %-8s %s\n", "ID", "USERNAME", "ROLE", "STATE",
               "SCOPES");
    do {
        rc = pat_user_list(st, after, NULL, page, PAGE, &n);
        if (rc != PAT_OK) {
            status = admin_refuse(c, "cannot list users", rc);
            goto out;
        }
        for (i = 0; i < n; i++) {
            const struct pat_user *u = &page[i];
            if (c->json)
                json_array_append_new(items, render_user(u));
            else
                printf("%-20s %-24s %-5s %-8s %s\n", u->id, u->username,
                       u->role == PAT_ROLE_ADMIN ? "admin" : "user",
                       u->disabled ? "disabled" : "enabled", u->scopes);
        }
        if (n > 0)
            after = page[n - 1].seq;
    } while (n == PAGE);
    if (c->json)
        admin_print_json(json_pack("{s:O}", "items", items));
out:
    json_decref(items);
    free(page);
    pat_store_close(st);
    return status;
}

/* user show|disable|enable|set-scopes USER [ARGS]. */
static int
user_one(struct cmd_ctx *c, int argc, char **argv, const char *usage,
         int min_args, int max_args)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    char scopes[PAT_SCOPESTR_MAX + 1] = "";
    struct pat_store *st = NULL;
    struct pat_user u;
    const char *verb = argv[0];
    int rc, status, i;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
    if (status >= 0)
        return status;
    if (argc - optind < min_args || argc - optind > max_args)
        return cli_usage_error(usage, "wrong number of arguments");
    for (i = optind + 1; i < argc; i++) {
        if (!admin_list_add(scopes, sizeof(scopes), argv[i]))
            return cli_usage_error(usage, "too many scopes");
    }
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0)
        rc = pat_user_set_disabled(st, NULL, argv[optind],
                                   strcmp(verb, "disable") == 0);
    else if (strcmp(verb, "set-scopes") == 0)
        rc = pat_user_set_scopes(st, NULL, argv[optind], scopes);
    else
        rc = PAT_OK;
    if (rc == PAT_OK)
        rc = pat_user_get(st, argv[optind], &u);
    if (rc != PAT_OK)
        status = admin_refuse(c, verb, rc);
    else
        print_user(c, &u);
    pat_store_close(st);
    return status;
}

static int
user_show(struct cmd_ctx *c, int argc, char **argv)
{
    return user_one(c, argc, argv, "user show USER [--db PATH] [--json]", 1, 1);
}

static int
user_disable(struct cmd_ctx *c, int argc, char **argv)
{
    return user_one(c, argc, argv, "user disable USER [--db PATH] [--json]", 1,
                    1);
}

static int
user_enable(struct cmd_ctx *c, int argc, char **argv)
{
    return user_one(c, argc, argv, "user enable USER [--db PATH] [--json]", 1,
                    1);
}

static int
user_set_scopes(struct cmd_ctx *c, int argc, char **argv)
{
    return user_one(c, argc, argv,
                    "user set-scopes USER [SCOPE...] [--db PATH] [--json]", 1,
                    1 + PAT_SCOPES_MAX);
}

/*
 * Reads one line (the password) from stdin without its line end ("\n"
 * or "\r\n"). Only the line end goes: a password is never cut at a byte
 * inside it, and one longer than cap - 2 bytes is refused.
 */
static bool
read_password(char *buf, size_t cap)
{
    size_t n;

    if (fgets(buf, (int)cap, stdin) == NULL)
        return false;
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (n == cap - 1)
        return false; /* longer than any password we accept */
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return true;
}

static int
user_passwd(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "user passwd USER [--db PATH]   (the password is read from stdin)";
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    char pw[PAT_PASSWORD_MAX + 2];
    struct pat_store *st = NULL;
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
    if (status >= 0)
        return status;
    if (argc - optind != 1)
        return cli_usage_error(usage, "expected one user");
    if (!read_password(pw, sizeof(pw))) {
        return cli_refuse("user passwd: no password on standard input, or "
                          "one longer than 256 bytes");
    }
    status = admin_open(c, 0, &st);
    if (status == EXIT_DONE) {
        rc = pat_user_set_password(st, NULL, argv[optind], pw);
        if (rc != PAT_OK)
            status = admin_refuse(c, "cannot set the password", rc);
    }
    OPENSSL_cleanse(pw, sizeof(pw));
    pat_store_close(st);
    return status;
}

int
cmd_user(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"add",
         "user add NAME [--display-name TEXT] [--email ADDR] [--admin] "
         "[--scope SCOPE]... [--db PATH] [--json]",
         user_add},
        {"list", "user list [--db PATH] [--json]", user_list},
        {"show", "user show USER [--db PATH] [--json]", user_show},
        {"disable", "user disable USER [--db PATH] [--json]", user_disable},
        {"enable", "user enable USER [--db PATH] [--json]", user_enable},
        {"set-scopes", "user set-scopes USER [SCOPE...] [--db PATH] [--json]",
         user_set_scopes},
        {"passwd", "user passwd USER [--db PATH]   (password on stdin)",
         user_passwd},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
