/* SPDX-License-Identifier: MIT */
/*
 * patctl verify: asks the server whether a token is good, the way a
 * gateway does (GET /v1/auth, forward auth), optionally for some scopes
 * and an audience. The token comes from standard input (or the first
 * line of --token-file), never from argv, and it is the only credential
 * sent: verify needs a server URL but no token of its own. Prints the
 * verdict, that is the identity patd vouches for (the X-Pat-* headers)
 * or the error of its RFC 6750 challenge. Exit status 0 valid, 1 not
 * valid or no verdict (rate limited, server unavailable), 2 usage.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "prompt.h"
#include "banned.h"

/* Longest header value read: patd's scope lists and challenges fit. */
#define HEADER_MAX ((size_t)16 << 10)

struct verify_args {
    struct buf scopes; /* required scopes, space-separated */
    const char *audience;
    const char *bad; /* a value that did not fit */
};

static int
verify_opt(int opt, const char *arg, void *ctx)
{
    struct verify_args *a = ctx;

    switch (opt) {
    case 's':
        /* A scope is one word: patd splits the list at spaces. */
        if (arg[0] == '\0' || strpbrk(arg, " \t\r\n") != NULL ||
            (a->scopes.len > 0 && !buf_puts(&a->scopes, " ")) ||
            !buf_puts(&a->scopes, arg))
            a->bad = arg;
        return 0;
    case 'a':
        a->audience = arg;
        return 0;
    default:
        return 1;
    }
}

/* A JSON string of s, or null when s is empty or not UTF-8. */
static json_t *
string_or_null(const char *s)
{
    json_t *v = s[0] != '\0' ? json_string(s) : NULL;

    return v != NULL ? v : json_null();
}

/* The words of the space-separated s as a JSON array. */
static json_t *
words(const char *s)
{
    json_t *a = json_array();
    size_t n;

    while (a != NULL && *s != '\0') {
        n = strcspn(s, " ");
        if (n > 0 && json_array_append_new(a, json_stringn(s, n)) != 0) {
            json_decref(a);
            return NULL;
        }
        s += n + strspn(s + n, " ");
    }
    return a;
}

/*
 * Copies the value of the auth-param key of the challenge h (RFC 9110
 * section 11.6.1: scheme, then key=token or key="quoted" pairs separated
 * by commas) into out; false when it is absent.
 */
static bool
challenge_param(const char *h, const char *key, char *out, size_t outcap)
{
    const char *name;
    size_t nlen, n;
    bool match;

    h += strcspn(h, " "); /* the scheme */
    while (*h != '\0') {
        h += strspn(h, " ,\t");
        name = h;
        nlen = strcspn(h, "= ,\t");
        h += nlen + strspn(h + nlen, " \t");
        if (*h != '=') {
            h += *h != '\0';
            continue;
        }
        h += 1 + strspn(h + 1, " \t");
        match = nlen == strlen(key) && strncasecmp(name, key, nlen) == 0;
        n = 0;
        if (*h == '"') {
            for (h++; *h != '\0' && *h != '"'; h++) {
                if (*h == '\\' && h[1] != '\0')
                    h++;
                if (match && n + 1 < outcap)
                    out[n++] = *h;
            }
            h += *h == '"';
        } else {
            for (; *h != '\0' && *h != ',' && *h != ' '; h++) {
                if (match && n + 1 < outcap)
                    out[n++] = *h;
            }
        }
        if (match) {
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

/* Adds the identity patd vouched for (200) to o; nonzero on failure. */
static int
add_identity(struct http *h, json_t *o, char *v)
{
    static const struct {
        const char *key;
        const char *header;
    } ids[] = {
        {"user_id", "X-Pat-User-Id"},
        {"username", "X-Pat-Username"},
        {"token_id", "X-Pat-Token-Id"},
    };
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        http_header(h, ids[i].header, v, HEADER_MAX);
        rc |= json_object_set_new(o, ids[i].key, string_or_null(v));
    }
    http_header(h, "X-Pat-Scopes", v, HEADER_MAX);
    rc |= json_object_set_new(o, "scopes", words(v));
    http_header(h, "X-Pat-Expires", v, HEADER_MAX);
    return rc | json_object_set_new(o, "expires", string_or_null(v));
}

/*
 * Adds the error and its description to o, from the challenge (401,
 * 403, 400) or else the JSON body; nonzero on failure.
 */
static int
add_error(struct http *h, const struct http_res *res, json_t *o, char *v)
{
    char challenge[HEADER_MAX];
    const char *code, *desc;
    int rc;

    http_header(h, "WWW-Authenticate", challenge, sizeof(challenge));
    code = json_string_value(json_object_get(res->body, "error"));
    desc = json_string_value(json_object_get(res->body, "error_description"));
    if (!challenge_param(challenge, "error", v, HEADER_MAX))
        snprintf(v, HEADER_MAX, "%s", code != NULL ? code : "");
    rc = json_object_set_new(o, "error", string_or_null(v));
    if (!challenge_param(challenge, "error_description", v, HEADER_MAX))
        snprintf(v, HEADER_MAX, "%s", desc != NULL ? desc : "");
    return rc | json_object_set_new(o, "error_description", string_or_null(v));
}

/* The verdict as the object --json prints; NULL when out of memory. */
static json_t *
verdict(struct http *h, const struct http_res *res)
{
    json_t *o = json_pack("{s:b, s:i}", "valid", res->status == 200, "status",
                          (int)res->status);
    char *v = malloc(HEADER_MAX);
    int rc;

    if (o == NULL || v == NULL) {
        free(v);
        json_decref(o);
        return NULL;
    }
    if (res->status == 200) {
        rc = add_identity(h, o, v) |
             json_object_set_new(o, "error", json_null()) |
             json_object_set_new(o, "error_description", json_null());
    } else {
        rc = json_object_set_new(o, "user_id", json_null()) |
             json_object_set_new(o, "username", json_null()) |
             json_object_set_new(o, "token_id", json_null()) |
             json_object_set_new(o, "scopes", json_null()) |
             json_object_set_new(o, "expires", json_null()) |
             add_error(h, res, o, v);
    }
    free(v);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Prints the verdict and says what it means for the exit status. */
static int
show_verdict(const struct cmd_ctx *c, const struct http_res *res,
             const json_t *o)
{
    static const struct field valid_fields[] = {
        {"valid", "valid", "-"},
        {"user id", "user_id", "-"},
        {"username", "username", "-"},
        {"token id", "token_id", "-"},
        {"scopes", "scopes", "none"},
        {"expires", "expires", "never"},
        {NULL, NULL, NULL},
    };
    static const struct field refused_fields[] = {
        {"valid", "valid", "-"}, {"status", "status", "-"},
        {"error", "error", "-"}, {"description", "error_description", "-"},
        {NULL, NULL, NULL},
    };
    /* A verdict on the token, rather than no verdict at all. */
    bool verdict_given = res->status == 200 || res->status == 400 ||
                         res->status == 401 || res->status == 403;

    if (c->json)
        render_json(stdout, o);
    else if (verdict_given)
        render_fields(stdout, o,
                      res->status == 200 ? valid_fields : refused_fields);
    if (!verdict_given)
        ctl_report(res);
    return res->status == 200 ? EXIT_DONE : EXIT_REFUSED;
}

/* Reads the token under test into c->cfg.token. */
static int
read_token(struct cmd_ctx *c)
{
    char err[CONFIG_PATH_MAX + 128];
    char *tok = c->cfg.token;

    if (c->token_file != NULL) {
        if (!config_read_token_file(c->token_file, tok, sizeof(c->cfg.token),
                                    err, sizeof(err)))
            return cli_refuse("%s", err);
    } else if (!prompt_line("Token to verify (input hidden): ", true, tok,
                            sizeof(c->cfg.token), err, sizeof(err))) {
        return cli_refuse("cannot read the token: %s", err);
    }
    if (!config_token_ok(tok)) {
        config_wipe(&c->cfg);
        return cli_refuse("that is not a token");
    }
    return EXIT_DONE;
}

/* Asks /v1/auth about the token and prints the verdict. */
static int
ask(struct cmd_ctx *c, const struct verify_args *a)
{
    char err[CONFIG_URL_MAX + 512];
    struct http_res res = {0, NULL, -1};
    struct buf path;
    json_t *o = NULL;
    int status;

    status = ctl_path(c, &path, "/v1/auth", NULL);
    if (status == EXIT_DONE && a->scopes.len > 0)
        status = ctl_query(c, &path, "scope", buf_str(&a->scopes));
    if (status == EXIT_DONE)
        status = ctl_query(c, &path, "audience", a->audience);
    if (status != EXIT_DONE)
        goto out;
    if (!http_request(&c->http, "GET", buf_str(&path), NULL, &res, err,
                      sizeof(err))) {
        status = cli_refuse("%s", err);
        goto out;
    }
    o = verdict(&c->http, &res);
    status = o != NULL ? show_verdict(c, &res, o) : cli_refuse("out of memory");
out:
    json_decref(o);
    http_res_release(&res);
    buf_release(&path);
    return status;
}

int
cmd_verify(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "verify [--scope SCOPE]... [--audience AUD] [--url URL] [--json] "
        "< TOKEN";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"scope", required_argument, NULL, 's'},
        {"audience", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    char err[CONFIG_PATH_MAX + 512];
    struct verify_args a;
    int status;

    memset(&a, 0, sizeof(a));
    buf_init(&a.scopes, HTTP_PATH_MAX / 2);
    status = cli_parse(c, argc, argv, opts, usage, verify_opt, &a);
    if (status != -1)
        goto out;
    if (a.bad != NULL) {
        status = cli_usage_error(usage, "invalid scope '%s'", a.bad);
        goto out;
    }
    /* Not quoted back: the argument may well be the token itself. */
    if (optind != argc) {
        status = cli_usage_error(usage, "verify takes no argument; it reads "
                                        "the token from standard input");
        goto out;
    }
    if (!config_load_url(&c->cfg, c->url_flag, err, sizeof(err))) {
        status = cli_refuse("%s", err);
        goto out;
    }
    status = read_token(c);
    if (status == EXIT_DONE)
        status = ctl_start(c);
    if (status == EXIT_DONE)
        status = ask(c, &a);
out:
    buf_release(&a.scopes);
    return status;
}
