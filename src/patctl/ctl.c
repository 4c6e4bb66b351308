/* SPDX-License-Identifier: MIT */
/*
 * The plumbing of ctl.h between the command files and the HTTP client:
 * the options every command takes, and turning the server's answers
 * into an exit status and one line on stderr.
 */
#include <string.h>

#include "ctl.h"
#include "banned.h"

/* Explains why there is no --token option; returns 2. */
static int
no_token_option(void)
{
    fputs("patctl: a token is never taken from the command line, where "
          "every user of the machine can read it; use patctl login, "
          "--token-file FILE or PATCTL_TOKEN\n",
          stderr);
    return EXIT_USAGE;
}

int
ctl_common_opt(struct cmd_ctx *c, int opt, const char *arg)
{
    switch (opt) {
    case 'U':
        c->url_flag = arg;
        return CLI_OPT_TAKEN;
    case 'K':
        c->token_file = arg;
        return CLI_OPT_TAKEN;
    case 'J':
        c->json = true;
        return CLI_OPT_TAKEN;
    case 'X':
        return no_token_option();
    default:
        return CLI_OPT_OTHER;
    }
}

int
ctl_start(struct cmd_ctx *c)
{
    char err[256];

    if (!http_init(&c->http, c->cfg.url, c->cfg.token, err, sizeof(err))) {
        config_wipe(&c->cfg);
        return cli_refuse("%s", err);
    }
    c->connected = true;
    return EXIT_DONE;
}

int
ctl_connect(struct cmd_ctx *c)
{
    char err[CONFIG_PATH_MAX + 512];

    if (c->connected)
        return EXIT_DONE;
    if (!config_load(&c->cfg, c->url_flag, c->token_file, err, sizeof(err)))
        return cli_refuse("%s", err);
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
        cli_refuse("unexpected answer from the server (HTTP %ld)", res->status);
        return;
    }
    render_clean(code, ccode, sizeof(ccode));
    render_clean(desc != NULL && desc[0] != '\0' ? desc : code, cdesc,
                 sizeof(cdesc));
    if (res->retry_after >= 0)
        snprintf(retry, sizeof(retry), "; retry after %ld s", res->retry_after);
    cli_refuse("%s (%s, HTTP %ld)%s", cdesc, ccode, res->status, retry);
}

int
ctl_call(struct cmd_ctx *c, const char *method, const char *path,
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
        return cli_refuse("%s", err);
    if (res.status < 200 || res.status > 299) {
        ctl_report(&res);
        http_res_release(&res);
        return EXIT_REFUSED;
    }
    *out = res.body;
    return EXIT_DONE;
}

int
ctl_path(struct cmd_ctx *c, struct buf *path, const char *base, const char *id)
{
    int status;

    buf_init(path, HTTP_PATH_MAX);
    status = ctl_connect(c);
    if (status != EXIT_DONE)
        return status;
    if (!buf_puts(path, base) ||
        (id != NULL && !http_path_segment(&c->http, path, id)))
        return cli_refuse("request path too long");
    return EXIT_DONE;
}

int
ctl_query(struct cmd_ctx *c, struct buf *path, const char *key,
          const char *value)
{
    if (!http_path_query(&c->http, path, key, value))
        return cli_refuse("request path too long");
    return EXIT_DONE;
}

void
ctl_show(const struct cmd_ctx *c, const json_t *obj, const struct field *fields)
{
    if (c->json)
        render_json(stdout, obj);
    else
        render_fields(stdout, obj, fields);
}

void
ctl_release(struct cmd_ctx *c)
{
    if (c->connected)
        http_release(&c->http);
    config_wipe(&c->cfg);
    c->connected = false;
}
