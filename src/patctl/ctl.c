/* SPDX-License-Identifier: MIT */
/*
 * The plumbing of ctl.h between the command files and the HTTP client:
 * option parsing, subcommand dispatch, and turning the server's answers
 * into an exit status and one line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "banned.h"

/*
 * The command name getopt shows in its messages ("patctl token create"),
 * grown by ctl_dispatch as it descends.
 */
static char progname[96] = "patctl";

void
ctl_usage(FILE *f, const char *usage)
{
    fprintf(f, "usage: patctl %s\n", usage);
}

int
ctl_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fputs("patctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ctl_usage(stderr, usage);
    return EXIT_USAGE;
}

int
ctl_refuse(const char *fmt, ...)
{
    va_list ap;

    fputs("patctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_REFUSED;
}

int
ctl_no_token_option(void)
{
    fputs("patctl: a token is never taken from the command line, where "
          "every user of the machine can read it; use patctl login, "
          "--token-file FILE or PATCTL_TOKEN\n",
          stderr);
    return EXIT_USAGE;
}

bool
ctl_common_opt(struct ctl *c, int opt, const char *arg)
{
    switch (opt) {
    case 'U':
        c->url_flag = arg;
        return true;
    case 'K':
        c->token_file = arg;
        return true;
    case 'J':
        c->json = true;
        return true;
    default:
        return false;
    }
}

int
ctl_parse(struct ctl *c, int argc, char **argv, const struct option *opts,
          const char *usage, ctl_opt_cb fn, void *ctx)
{
    int opt;

    /* 0, not 1: GNU getopt then starts afresh for each command. */
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (ctl_common_opt(c, opt, optarg))
            continue;
        if (opt == 'X')
            return ctl_no_token_option();
        if (opt == 'h') {
            ctl_usage(stdout, usage);
            return EXIT_DONE;
        }
        if (opt == '?' || fn == NULL || fn(opt, optarg, ctx) != 0) {
            ctl_usage(stderr, usage);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int
ctl_dispatch(struct ctl *c, const struct ctl_cmd *cmds, int argc, char **argv)
{
    const struct ctl_cmd *cmd;
    size_t len = strlen(progname);
    bool help;

    help = argc < 2 || strcmp(argv[1], "--help") == 0 ||
           strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0;
    for (cmd = cmds; !help && cmd->name != NULL; cmd++) {
        if (strcmp(cmd->name, argv[1]) != 0)
            continue;
        if (len + 1 + strlen(cmd->name) < sizeof(progname)) {
            progname[len] = ' ';
            memcpy(progname + len + 1, cmd->name, strlen(cmd->name) + 1);
        }
        argv[1] = progname;
        return cmd->run(c, argc - 1, argv + 1);
    }
    /* progname is "patctl" or "patctl GROUP"; name the group only. */
    if (!help)
        fprintf(stderr, "patctl: unknown command '%s%s%s'\n",
                len > 7 ? progname + 7 : "", len > 7 ? " " : "", argv[1]);
    for (cmd = cmds; cmd->name != NULL; cmd++)
        ctl_usage(help ? stdout : stderr, cmd->usage);
    return help && argc >= 2 ? EXIT_DONE : EXIT_USAGE;
}

int
ctl_start(struct ctl *c)
{
    char err[256];

    if (!http_init(&c->http, c->cfg.url, c->cfg.token, err, sizeof(err))) {
        config_wipe(&c->cfg);
        return ctl_refuse("%s", err);
    }
    c->connected = true;
    return EXIT_DONE;
}

int
ctl_connect(struct ctl *c)
{
    char err[CONFIG_PATH_MAX + 512];

    if (c->connected)
        return EXIT_DONE;
    if (!config_load(&c->cfg, c->url_flag, c->token_file, err, sizeof(err)))
        return ctl_refuse("%s", err);
    return ctl_start(c);
}

void
ctl_report(const struct http_res *res)
{
    const json_t *body = res->body;
    const char *code = json_string_value(json_object_get(body, "error"));
    const char *desc =
        json_string_value(json_object_get(body, "error_description"));
    char ccode[64], cdesc[512], retry[48] = "";

    if (code == NULL) {
        ctl_refuse("unexpected answer from the server (HTTP %ld)", res->status);
        return;
    }
    render_clean(code, ccode, sizeof(ccode));
    render_clean(desc != NULL && desc[0] != '\0' ? desc : code, cdesc,
                 sizeof(cdesc));
    if (res->retry_after >= 0)
        snprintf(retry, sizeof(retry), "; retry after %ld s", res->retry_after);
    ctl_refuse("%s (%s, HTTP %ld)%s", cdesc, ccode, res->status, retry);
}

int
ctl_call(struct ctl *c, const char *method, const char *path,
         const json_t *body, json_t **out)
{
    struct http_res res;
    char err[CONFIG_URL_MAX + 512];
    int status;

    *out = NULL;
    status = ctl_connect(c);
    if (status != EXIT_DONE)
        return status;
    if (!http_request(&c->http, method, path, body, &res, err, sizeof(err)))
        return ctl_refuse("%s", err);
    if (res.status < 200 || res.status > 299) {
        ctl_report(&res);
        http_res_release(&res);
        return EXIT_REFUSED;
    }
    *out = res.body;
    return EXIT_DONE;
}

int
ctl_path(struct ctl *c, struct buf *path, const char *base, const char *id)
{
    int status;

    buf_init(path, HTTP_PATH_MAX);
    status = ctl_connect(c);
    if (status != EXIT_DONE)
        return status;
    if (!buf_puts(path, base) ||
        (id != NULL && !http_path_segment(&c->http, path, id)))
        return ctl_refuse("request path too long");
    return EXIT_DONE;
}

int
ctl_query(struct ctl *c, struct buf *path, const char *key, const char *value)
{
    if (!http_path_query(&c->http, path, key, value))
        return ctl_refuse("request path too long");
    return EXIT_DONE;
}

void
ctl_show(const struct ctl *c, const json_t *obj, const struct field *fields)
{
    if (c->json)
        render_json(stdout, obj);
    else
        render_fields(stdout, obj, fields);
}

void
ctl_release(struct ctl *c)
{
    if (c->connected)
        http_release(&c->http);
    config_wipe(&c->cfg);
    c->connected = false;
}
