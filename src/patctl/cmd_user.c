/* SPDX-License-Identifier: MIT */
/*
 * patctl user list|create|show|disable|enable|set-scopes|delete: user
 * administration through /v1/users. A user is named by id (usr_...) or
 * by username, which is looked up first. A password is never taken from
 * the command line: --password asks for it (or reads a line of stdin).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "list.h"
#include "prompt.h"
#include "views.h"
#include "banned.h"

#define USER_ID_LEN  20 /* "usr_" + 16 base62 */
#define PASSWORD_MAX 1024

struct user_args {
    const char *query;
    const char *display_name;
    const char *email;
    const char *role;
    json_t *scopes; /* owned */
    long long limit;
    bool password;
    bool none;
    bool yes;
    bool service; /* a service account (create), or only those (list) */
    const char *bad;
};

static const struct option user_opts[] = {
    CTL_COMMON_OPTS,
    {"query", required_argument, NULL, 'q'},
    {"display-name", required_argument, NULL, 'n'},
    {"email", required_argument, NULL, 'e'},
    {"role", required_argument, NULL, 'r'},
    {"admin", no_argument, NULL, 'A'},
    {"scope", required_argument, NULL, 's'},
    {"password", no_argument, NULL, 'p'},
    {"none", no_argument, NULL, '0'},
    {"limit", required_argument, NULL, 'l'},
    {"yes", no_argument, NULL, 'y'},
    {"service", no_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

static int
user_opt(int opt, const char *arg, void *ctx)
{
    struct user_args *a = ctx;

    switch (opt) {
    case 'q':
        a->query = arg;
        return 0;
    case 'n':
        a->display_name = arg;
        return 0;
    case 'e':
        a->email = arg;
        return 0;
    case 'r':
        a->role = arg;
        if (strcmp(arg, "admin") != 0 && strcmp(arg, "user") != 0)
            a->bad = arg;
        return 0;
    case 'A':
        a->role = "admin";
        return 0;
    case 's':
        if (a->scopes == NULL)
            a->scopes = json_array();
        return a->scopes == NULL ||
               json_array_append_new(a->scopes, json_string(arg)) != 0;
    case 'p':
        a->password = true;
        return 0;
    case '0':
        a->none = true;
        return 0;
    case 'l':
        if (!pat_parse_number(arg, 1, 1000000000, &a->limit))
            a->bad = arg;
        return 0;
    case 'y':
        a->yes = true;
        return 0;
    case 'S':
        a->service = true;
        return 0;
    default:
        return 1;
    }
}

/*
 * Parses argv into a, which may only hold the options whose codes are in
 * allowed, with noperands operands (at least, if more is set). -1 to go
 * on, else the exit status.
 */
static int
user_parse(struct cmd_ctx *c, int argc, char **argv, const char *usage,
           struct user_args *a, const char *allowed, int noperands, bool more)
{
    static const struct {
        char code;
        const char *flag;
    } flags[] = {
        {'q', "--query"},   {'n', "--display-name"}, {'e', "--email"},
        {'r', "--role"},    {'s', "--scope"},        {'p', "--password"},
        {'0', "--none"},    {'l', "--limit"},        {'y', "--yes"},
        {'S', "--service"},
    };
    bool given[sizeof(flags) / sizeof(flags[0])];
    size_t i;
    int status, n;

    memset(a, 0, sizeof(*a));
    status = cli_parse(c, argc, argv, user_opts, usage, user_opt, a);
    if (status != -1)
        return status;
    if (a->bad != NULL)
        return cli_usage_error(usage, "invalid value '%s'", a->bad);
    given[0] = a->query != NULL;
    given[1] = a->display_name != NULL;
    given[2] = a->email != NULL;
    given[3] = a->role != NULL;
    given[4] = a->scopes != NULL;
    given[5] = a->password;
    given[6] = a->none;
    given[7] = a->limit > 0;
    given[8] = a->yes;
    given[9] = a->service;
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (given[i] && strchr(allowed, flags[i].code) == NULL)
            return cli_usage_error(usage, "%s does not apply here",
                                   flags[i].flag);
    }
    n = argc - optind;
    if (n < noperands || (!more && n > noperands))
        return cli_usage_error(usage, "expected %s%d argument%s",
                               more ? "at least " : "", noperands,
                               noperands == 1 ? "" : "s");
    return -1;
}

/* Whether s has the shape of a user id rather than a username. */
static bool
is_user_id(const char *s)
{
    size_t i;

    if (strlen(s) != USER_ID_LEN || strncmp(s, "usr_", 4) != 0)
        return false;
    for (i = 4; i < USER_ID_LEN; i++) {
        char ch = s[i];

        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= 'a' && ch <= 'z')))
            return false;
    }
    return true;
}

/* What find_user looks for, and what it found. */
struct user_search {
    const char *username;
    char id[64];
};

static bool
match_user(const json_t *u, void *ctx)
{
    struct user_search *s = ctx;
    const char *name = json_string_value(json_object_get(u, "username"));
    const char *id = json_string_value(json_object_get(u, "id"));

    if (name == NULL || id == NULL || strcmp(name, s->username) != 0 ||
        strlen(id) >= sizeof(s->id))
        return false;
    memcpy(s->id, id, strlen(id) + 1);
    return true;
}

/*
 * Builds /v1/users/<id> into path for who (an id or a username, which is
 * looked up). path is initialised here and released by the caller.
 */
static int
user_path(struct cmd_ctx *c, struct buf *path, const char *who)
{
    struct user_search s;
    int status;

    if (is_user_id(who))
        return ctl_path(c, path, "/v1/users", who);
    s.username = who;
    s.id[0] = '\0';
    status = ctl_path(c, path, "/v1/users", NULL);
    if (status == EXIT_DONE)
        status = ctl_query(c, path, "q", who);
    if (status == EXIT_DONE)
        status = list_each(c, buf_str(path), match_user, &s);
    buf_release(path);
    if (status != EXIT_DONE)
        return status;
    if (s.id[0] == '\0') {
        char clean[256];

        render_clean(who, clean, sizeof(clean));
        return cli_refuse("no user named '%s' (not_found)", clean);
    }
    return ctl_path(c, path, "/v1/users", s.id);
}

static int
user_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "user list [--query TEXT] [--service] [--limit N] [--json]";
    struct user_args a;
    struct buf path;
    int status;

    buf_init(&path, 0);
    status = user_parse(c, argc, argv, usage, &a, "qlS", 0, false);
    if (status != -1)
        goto out;
    status = ctl_path(c, &path, "/v1/users", NULL);
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "q", a.query);
    if (status == EXIT_DONE && a.service)
        status = ctl_query(c, &path, "kind", "service");
    if (status == EXIT_DONE)
        status = list_print(c, buf_str(&path), a.limit, &view_users);
out:
    json_decref(a.scopes);
    buf_release(&path);
    return status;
}

/* Builds the body of POST /v1/users; NULL when out of memory. */
static json_t *
create_body(const struct user_args *a, const char *username,
            const char *password)
{
    json_t *body = json_pack("{s:s}", "username", username);

    if (body == NULL ||
        (a->display_name != NULL &&
         json_object_set_new(body, "display_name",
                             json_string(a->display_name)) != 0) ||
        (a->email != NULL &&
         json_object_set_new(body, "email", json_string(a->email)) != 0) ||
        (a->role != NULL &&
         json_object_set_new(body, "role", json_string(a->role)) != 0) ||
        (a->scopes != NULL &&
         json_object_set(body, "scopes", a->scopes) != 0) ||
        (password != NULL &&
         json_object_set_new(body, "password", json_string(password)) != 0) ||
        (a->service &&
         json_object_set_new(body, "kind", json_string("service")) != 0)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

static int
user_create(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "user create USERNAME [--display-name TEXT] [--email ADDR] "
        "[--role admin|user | --admin] [--scope SCOPE]... "
        "[--password | --service] [--json]";
    struct user_args a;
    json_t *body = NULL, *user = NULL;
    char password[PASSWORD_MAX + 1];
    char err[128];
    int status;

    password[0] = '\0';
    status = user_parse(c, argc, argv, usage, &a, "nerspS", 1, false);
    if (status != -1)
        goto out;
    if (a.service && a.password) {
        status = cli_usage_error(usage, "a service account has no password");
        goto out;
    }
    if (a.password && !prompt_line("Password: ", true, password,
                                   sizeof(password), err, sizeof(err))) {
        status = cli_refuse("cannot read the password: %s", err);
        goto out;
    }
    body = create_body(&a, argv[optind], a.password ? password : NULL);
    if (body == NULL) {
        status = cli_refuse("out of memory");
        goto out;
    }
    status = ctl_call(c, "POST", "/v1/users", body, &user);
    if (status == EXIT_DONE)
        ctl_show(c, user, view_user_fields);
out:
    explicit_bzero(password, sizeof(password));
    json_decref(user);
    json_decref(body);
    json_decref(a.scopes);
    return status;
}

static int
user_show(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "user show USER [--json]";
    struct user_args a;
    struct buf path;
    json_t *user = NULL;
    int status;

    buf_init(&path, 0);
    status = user_parse(c, argc, argv, usage, &a, "", 1, false);
    if (status != -1)
        goto out;
    status = user_path(c, &path, argv[optind]);
    if (status == EXIT_DONE)
        status = ctl_call(c, "GET", buf_str(&path), NULL, &user);
    if (status == EXIT_DONE)
        ctl_show(c, user, view_user_fields);
out:
    json_decref(user);
    json_decref(a.scopes);
    buf_release(&path);
    return status;
}

/* PATCHes the user named by who with body and shows the result. */
static int
user_patch(struct cmd_ctx *c, const char *who, json_t *body)
{
    struct buf path;
    json_t *user = NULL;
    int status;

    if (body == NULL)
        return cli_refuse("out of memory");
    buf_init(&path, 0);
    status = user_path(c, &path, who);
    if (status == EXIT_DONE)
        status = ctl_call(c, "PATCH", buf_str(&path), body, &user);
    if (status == EXIT_DONE)
        ctl_show(c, user, view_user_fields);
    json_decref(user);
    buf_release(&path);
    return status;
}

static int
user_disable(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "user disable USER [--json]";
    struct user_args a;
    int status;

    status = user_parse(c, argc, argv, usage, &a, "", 1, false);
    if (status == -1) {
        json_t *body = json_pack("{s:b}", "disabled", 1);

        status = user_patch(c, argv[optind], body);
        json_decref(body);
    }
    json_decref(a.scopes);
    return status;
}

static int
user_enable(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "user enable USER [--json]";
    struct user_args a;
    int status;

    status = user_parse(c, argc, argv, usage, &a, "", 1, false);
    if (status == -1) {
        json_t *body = json_pack("{s:b}", "disabled", 0);

        status = user_patch(c, argv[optind], body);
        json_decref(body);
    }
    json_decref(a.scopes);
    return status;
}

static int
user_set_scopes(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "user set-scopes USER SCOPE... | USER --none [--json]";
    struct user_args a;
    json_t *scopes = NULL, *body = NULL;
    int status, i;

    status = user_parse(c, argc, argv, usage, &a, "0", 1, true);
    if (status != -1)
        goto out;
    /* An empty list takes every grant away: only when asked for by name. */
    if (a.none == (argc - optind > 1)) {
        status = cli_usage_error(usage, "give the scopes, or --none alone");
        goto out;
    }
    scopes = json_array();
    for (i = optind + 1; scopes != NULL && i < argc; i++) {
        if (json_array_append_new(scopes, json_string(argv[i])) != 0) {
            json_decref(scopes);
            scopes = NULL;
        }
    }
    body = scopes != NULL ? json_pack("{s:O}", "scopes", scopes) : NULL;
    status = user_patch(c, argv[optind], body);
out:
    json_decref(body);
    json_decref(scopes);
    json_decref(a.scopes);
    return status;
}

static int
user_delete(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "user delete USER [--yes]";
    struct user_args a;
    struct buf path;
    json_t *none = NULL;
    char question[320], clean[256];
    int status;

    buf_init(&path, 0);
    status = user_parse(c, argc, argv, usage, &a, "y", 1, false);
    if (status != -1)
        goto out;
    if (!a.yes && !prompt_interactive()) {
        status = cli_usage_error(usage, "not a terminal: give --yes to "
                                        "delete");
        goto out;
    }
    status = user_path(c, &path, argv[optind]);
    if (status != EXIT_DONE)
        goto out;
    render_clean(argv[optind], clean, sizeof(clean));
    snprintf(question, sizeof(question),
             "Delete user %s and revoke all their tokens? [y/N] ", clean);
    if (!a.yes && !prompt_confirm(question)) {
        status = cli_refuse("nothing deleted");
        goto out;
    }
    status = ctl_call(c, "DELETE", buf_str(&path), NULL, &none);
    if (status == EXIT_DONE && !c->json)
        printf("Deleted user %s\n", clean);
out:
    json_decref(none);
    json_decref(a.scopes);
    buf_release(&path);
    return status;
}

int
cmd_user(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"list", "user list [--query TEXT] [--service] [--limit N]", user_list},
        {"create",
         "user create USERNAME [--display-name TEXT] [--email ADDR] "
         "[--role admin|user | --admin] [--scope SCOPE]... "
         "[--password | --service]",
         user_create},
        {"show", "user show USER", user_show},
        {"disable", "user disable USER", user_disable},
        {"enable", "user enable USER", user_enable},
        {"set-scopes", "user set-scopes USER SCOPE... | USER --none",
         user_set_scopes},
        {"delete", "user delete USER [--yes]", user_delete},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
