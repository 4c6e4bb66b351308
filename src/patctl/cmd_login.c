/* SPDX-License-Identifier: MIT */
/*
 * patctl login, logout and whoami: who patctl speaks as. login asks for
 * the server URL and a token (never echoed, never from argv), checks
 * them with GET /v1/me and only then writes the config file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_config.h"
#include "ctl.h"
#include "login_web.h"
#include "prompt.h"
#include "views.h"
#include "banned.h"

static const struct option plain_opts[] = {
    CTL_COMMON_OPTS,
    {NULL, 0, NULL, 0},
};

/* The URL to offer when the answer is empty: PATCTL_URL, else the file's. */
static void
default_url(const struct config *cfg, char *out, size_t outcap)
{
    const char *env = getenv("PATCTL_URL");
    char token[CONFIG_TOKEN_MAX + 1];
    char err[CONFIG_PATH_MAX + 128];

    out[0] = '\0';
    if (env != NULL && env[0] != '\0' &&
        config_url_check(env, out, outcap, err, sizeof(err)))
        return;
    out[0] = '\0';
    if (!config_read_file(cfg->path, out, outcap, token, sizeof(token), err,
                          sizeof(err)))
        out[0] = '\0';
    explicit_bzero(token, sizeof(token));
}

/* Gets the server URL from --url or by asking. */
static int
login_url(struct cmd_ctx *c, char *url, size_t urlcap)
{
    char answer[CONFIG_URL_MAX + 2], fallback[CONFIG_URL_MAX + 1];
    char question[CONFIG_URL_MAX + 64], err[256];
    const char *given = c->url_flag;

    if (given == NULL) {
        default_url(&c->cfg, fallback, sizeof(fallback));
        snprintf(question, sizeof(question),
                 "patd server URL%s%s%s: ", fallback[0] ? " [" : "", fallback,
                 fallback[0] ? "]" : "");
        if (!prompt_line(question, false, answer, sizeof(answer), err,
                         sizeof(err)))
            return cli_refuse("cannot read the server URL: %s", err);
        given = answer[0] != '\0' ? answer : fallback;
    }
    if (!config_url_check(given, url, urlcap, err, sizeof(err)))
        return cli_refuse("%s", err);
    return EXIT_DONE;
}

/* Gets the token from --token-file or by asking, without echo. */
static int
login_token(struct cmd_ctx *c, char *token, size_t tokencap)
{
    char err[CONFIG_PATH_MAX + 128];

    if (c->token_file != NULL) {
        if (!config_read_token_file(c->token_file, token, tokencap, err,
                                    sizeof(err)))
            return cli_refuse("%s", err);
        return EXIT_DONE;
    }
    if (!prompt_line("Token (input hidden): ", true, token, tokencap, err,
                     sizeof(err)))
        return cli_refuse("cannot read the token: %s", err);
    if (!config_token_ok(token)) {
        explicit_bzero(token, tokencap);
        return cli_refuse("that is not a token");
    }
    return EXIT_DONE;
}

/* login's own options: --web, and with it --scope and --expires-in-days. */
struct login_args {
    bool web;
    char scopes[1024];
    long long days;
};

static int
login_opt(int opt, const char *arg, void *ctx)
{
    struct login_args *a = ctx;
    size_t used = strlen(a->scopes);

    switch (opt) {
    case 'W':
        a->web = true;
        return 0;
    case 's':
        if (used + strlen(arg) + 2 > sizeof(a->scopes))
            return 1;
        snprintf(a->scopes + used, sizeof(a->scopes) - used, "%s%s",
                 used ? " " : "", arg);
        return 0;
    case 'E':
        return pat_parse_number(arg, 1, 36500, &a->days) ? 0 : 1;
    default:
        return 1;
    }
}

int
cmd_login(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "login [--url URL] [--token-file FILE | --web [--scope SCOPE]... "
        "[--expires-in-days N]] [--json]";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"web", no_argument, NULL, 'W'},
        {"scope", required_argument, NULL, 's'},
        {"expires-in-days", required_argument, NULL, 'E'},
        {NULL, 0, NULL, 0},
    };
    struct login_args a = {false, "", 0};
    char err[CONFIG_PATH_MAX + 512];
    char name[256], id[64];
    json_t *me = NULL;
    int status;

    status = cli_parse(c, argc, argv, opts, usage, login_opt, &a);
    if (status != -1)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (!a.web && (a.scopes[0] || a.days))
        return cli_usage_error(usage, "--scope and --expires-in-days go with "
                                      "--web");
    if (a.web && c->token_file != NULL)
        return cli_usage_error(usage, "give --web or --token-file, not both");
    memset(&c->cfg, 0, sizeof(c->cfg));
    if (!config_find(&c->cfg, err, sizeof(err)))
        return cli_refuse("%s", err);
    status = login_url(c, c->cfg.url, sizeof(c->cfg.url));
    if (status == EXIT_DONE && a.web) {
        struct login_web w = {a.scopes[0] ? a.scopes : "patd:self", a.days};
        status = login_web(c, &w);
    } else if (status == EXIT_DONE) {
        status = login_token(c, c->cfg.token, sizeof(c->cfg.token));
    }
    if (status != EXIT_DONE)
        goto out;
    status = ctl_start(c);
    if (status == EXIT_DONE)
        status = ctl_call(c, "GET", "/v1/me", NULL, &me);
    if (status != EXIT_DONE)
        goto out;
    if (!config_save(c->cfg.path, c->cfg.url, c->cfg.token, err, sizeof(err))) {
        status = cli_refuse("%s", err);
        goto out;
    }
    if (c->json) {
        render_json(stdout, me);
        goto out;
    }
    printf(
        "Logged in to %s as %s (%s); saved in %s\n", c->cfg.url,
        render_value(json_object_get(me, "username"), "-", name, sizeof(name)),
        render_value(json_object_get(me, "id"), "-", id, sizeof(id)),
        c->cfg.path);
out:
    json_decref(me);
    config_wipe(&c->cfg);
    return status;
}

/* logout's one option of its own: --revoke. */
static int
logout_opt(int opt, const char *arg, void *ctx)
{
    (void)arg;
    if (opt != 'R')
        return 1;
    *(bool *)ctx = true;
    return 0;
}

int
cmd_logout(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "logout [--revoke]";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"revoke", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    char err[CONFIG_PATH_MAX + 128];
    json_t *none = NULL;
    bool revoke = false;
    int status;

    status = cli_parse(c, argc, argv, opts, usage, logout_opt, &revoke);
    if (status != -1)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    memset(&c->cfg, 0, sizeof(c->cfg));
    if (!config_find(&c->cfg, err, sizeof(err)))
        return cli_refuse("%s", err);
    /*
     * Revoke first (without the file there is no token left to do it
     * with), and the file's token: PATCTL_TOKEN is not what logout is
     * about.
     */
    if (revoke) {
        if (!config_read_file(c->cfg.path, c->cfg.url, sizeof(c->cfg.url),
                              c->cfg.token, sizeof(c->cfg.token), err,
                              sizeof(err)))
            return cli_refuse("%s", err);
        if (c->cfg.url[0] == '\0' || c->cfg.token[0] == '\0')
            return cli_refuse("'%s' holds no token to revoke", c->cfg.path);
        status = ctl_start(c);
        if (status == EXIT_DONE)
            status = ctl_call(c, "DELETE", "/v1/token", NULL, &none);
        json_decref(none);
        if (status != EXIT_DONE)
            return status;
    }
    if (unlink(c->cfg.path) != 0 && errno != ENOENT)
        return cli_refuse("cannot remove '%s': %s", c->cfg.path,
                          strerror(errno));
    if (!c->json)
        printf("%sRemoved %s\n", revoke ? "Revoked the token. " : "",
               c->cfg.path);
    return EXIT_DONE;
}

int
cmd_whoami(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "whoami [--json]";
    json_t *me = NULL;
    int status;

    status = cli_parse(c, argc, argv, plain_opts, usage, NULL, NULL);
    if (status != -1)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    status = ctl_call(c, "GET", "/v1/me", NULL, &me);
    if (status != EXIT_DONE)
        return status;
    ctl_show(c, me, view_user_fields);
    if (!c->json)
        printf("server:       %s\ntoken from:   %s\n", c->cfg.url,
               c->cfg.token_from);
    json_decref(me);
    return EXIT_DONE;
}
