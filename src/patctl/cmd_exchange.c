/* SPDX-License-Identifier: MIT */
/*
 * patctl token exchange: trades the token patctl signs in with for a
 * short-lived JWT (POST /oauth2/token, RFC 8693), optionally narrowed to
 * some scopes and audiences or resources. The JWT alone goes to stdout
 * (JWT=$(patctl token exchange ...)); --json prints the whole answer.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"
#include "views.h"
#include "banned.h"

#define FORM_MAX 16384
#define ARGS_MAX 32

/* The options given, borrowed from argv, in order. */
struct xargs {
    const char *key[ARGS_MAX];
    const char *value[ARGS_MAX];
    int n;
};

static int
exchange_opt(int opt, const char *arg, void *ctx)
{
    struct xargs *a = ctx;
    const char *key = opt == 's'   ? "scope"
                      : opt == 'a' ? "audience"
                      : opt == 'r' ? "resource"
                                   : NULL;

    if (key == NULL || a->n >= ARGS_MAX)
        return 1;
    a->key[a->n] = key;
    a->value[a->n++] = arg;
    return 0;
}

/* Appends "&key=" and value percent-encoded (or sep + value). */
static bool
add(struct cmd_ctx *c, struct buf *f, const char *prefix, const char *value)
{
    char *e = curl_easy_escape(c->http.curl, value, 0);
    bool ok = e != NULL && buf_puts(f, prefix) && buf_puts(f, e);

    curl_free(e);
    return ok;
}

/* The form: the grant, the subject token, targets, scopes as one. */
static bool
build_form(struct cmd_ctx *c, const struct xargs *a, struct buf *f)
{
    bool scoped = false;
    int i;

    if (!buf_puts(f, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type"
                     "%3Atoken-exchange&subject_token_type=urn%3Aietf"
                     "%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token") ||
        !add(c, f, "&subject_token=", c->http.token))
        return false;
    for (i = 0; i < a->n; i++)
        if (strcmp(a->key[i], "scope") != 0 &&
            !(buf_puts(f, "&") && buf_puts(f, a->key[i]) &&
              add(c, f, "=", a->value[i])))
            return false;
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->key[i], "scope") != 0)
            continue;
        if (!add(c, f, scoped ? "%20" : "&scope=", a->value[i]))
            return false;
        scoped = true;
    }
    return true;
}

int
token_exchange(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "token exchange [--scope SCOPE]... [--audience AUD]... "
        "[--resource URI]... [--json]";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"scope", required_argument, NULL, 's'},
        {"audience", required_argument, NULL, 'a'},
        {"resource", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    struct xargs a;
    struct buf f;
    json_t *body = NULL, *out = NULL;
    int status;

    memset(&a, 0, sizeof(a));
    buf_init(&f, FORM_MAX);
    status = cli_parse(c, argc, argv, opts, usage, exchange_opt, &a);
    if (status >= 0)
        goto out;
    if (optind != argc) {
        status =
            cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    status = ctl_connect(c);
    if (status != EXIT_DONE)
        goto out;
    if (c->http.token == NULL) {
        status = cli_refuse("no token to exchange: sign in with 'patctl "
                            "login' or give --token-file");
        goto out;
    }
    if (!build_form(c, &a, &f)) {
        status = cli_refuse("the request is too long");
        goto out;
    }
    body = json_string(buf_str(&f));
    status = body ? ctl_call(c, "POST", "/oauth2/token", body, &out)
                  : cli_refuse("out of memory");
    if (status != EXIT_DONE)
        goto out;
    if (c->json)
        render_json(stdout, out);
    else
        printf("%s\n", json_string_value(json_object_get(out, "access_token")));
out:
    if (f.ptr != NULL)
        explicit_bzero(f.ptr, f.len);
    if (body != NULL)
        explicit_bzero((char *)(uintptr_t)json_string_value(body),
                       json_string_length(body));
    json_decref(body);
    json_decref(out);
    buf_release(&f);
    return status;
}
