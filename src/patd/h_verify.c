/* SPDX-License-Identifier: MIT */
/*
 * The verification endpoints (DESIGN.md section 4, "Verification"):
 * gateway forward auth (/v1/auth, RFC 6750 answers), introspection (RFC
 * 7662), revocation (RFC 7009), leak reports, and the metrics page. They
 * check tokens through the shared verifier and its cache; a store that
 * cannot answer a miss gives 503, never an allow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "failures.h"
#include "jwt.h"
#include "serve_config.h"
#include "metrics.h"
#include "ratelimit.h"
#include "routes.h"
#include "banned.h"

static const char realm[] = "Bearer realm=\"patd\"";

/* The longest token introspection reads: a JWT of patd's. */
#define JWT_TEXT_MAX 4096

/* A JSON array of the items of a space-separated list. */
static json_t *
list_json(const char *list)
{
    json_t *a = json_array();
    const char *p = list;

    while (a != NULL && *p != '\0') {
        size_t n = strcspn(p, " ");
        if (n > 0)
            json_array_append_new(a, json_stringn(p, n));
        p += n;
        while (*p == ' ')
            p++;
    }
    return a;
}

/*
 * What forward auth counts in one pass over the headers and one over the
 * query: every credential and every requirement must come once.
 */
struct counts {
    int authorization;
    int scope_headers;
    int audience_headers;
    int scope_args;
    int audience_args;
    int access_token_args;
};

static enum MHD_Result
count_values(void *cls, enum MHD_ValueKind kind, const char *key,
             const char *value)
{
    struct counts *c = cls;

    (void)value;
    if (kind == MHD_HEADER_KIND) {
        c->authorization += strcasecmp(key, "Authorization") == 0;
        c->scope_headers += strcasecmp(key, "X-Pat-Required-Scopes") == 0;
        c->audience_headers += strcasecmp(key, "X-Pat-Audience") == 0;
    } else {
        c->scope_args += strcmp(key, "scope") == 0;
        c->audience_args += strcmp(key, "audience") == 0;
        c->access_token_args += strcmp(key, "access_token") == 0;
    }
    return MHD_YES;
}

/*
 * An empty header value. libmicrohttpd drops headers whose value is "",
 * so an empty one is sent as a single space, which HTTP parsers strip
 * (RFC 9110 section 5.5): the header is there, and empty.
 */
static const char *
value(bool allowed, const char *v)
{
    return allowed && v[0] != '\0' ? v : " ";
}

/* The five identity headers, always present, empty unless allowed. */
static void
identity_headers(struct req *r, bool allowed)
{
    const struct pat_verdict *v = &r->token;

    r->expires_buf[0] = '\0';
    if (allowed && v->expires_at != 0)
        pat_time_format(v->expires_at, r->expires_buf, sizeof(r->expires_buf));
    reply_header(r, "X-Pat-User-Id", value(allowed, v->user_id));
    reply_header(r, "X-Pat-Username", value(allowed, v->username));
    reply_header(r, "X-Pat-Token-Id", value(allowed, v->token_id));
    reply_header(r, "X-Pat-Scopes", value(allowed, v->scopes));
    reply_header(r, "X-Pat-Expires", value(allowed, r->expires_buf));
    reply_header(r, "X-Pat-User-Kind",
                 value(allowed, v->service ? "service" : "person"));
}

/*
 * The rate-limit headers of a token with a rate limit (DESIGN.md section
 * 13; docs/governance.md): the limit this node applies, what remains of
 * it and the seconds until the window ends (delta seconds, as GitHub's
 * X-RateLimit-Reset is not: it is an epoch; ours follow the IETF
 * RateLimit header fields draft).
 */
static void
rate_headers(struct req *r)
{
    const struct pat_verdict *v = &r->token;

    if (v->rate_node_limit <= 0)
        return;
    snprintf(r->rate_buf[0], sizeof(r->rate_buf[0]), "%d", v->rate_node_limit);
    snprintf(r->rate_buf[1], sizeof(r->rate_buf[1]), "%d", v->rate_remaining);
    snprintf(r->rate_buf[2], sizeof(r->rate_buf[2]), "%d", v->rate_reset);
    reply_header(r, "X-RateLimit-Limit", r->rate_buf[0]);
    reply_header(r, "X-RateLimit-Remaining", r->rate_buf[1]);
    reply_header(r, "X-RateLimit-Reset", r->rate_buf[2]);
}

/* 429 for a token over its rate limit, with Retry-After. */
static int
rate_refused(struct req *r)
{
    r->nhdrs = 0;
    identity_headers(r, false);
    rate_headers(r);
    snprintf(r->retry_after, sizeof(r->retry_after), "%d",
             r->token.rate_reset > 0 ? r->token.rate_reset : 1);
    return reply_error(r, 429, "rate_limited",
                       "the token is over its rate limit");
}

/* RFC 6750 section 2.1: "Bearer" 1*SP b64token. */
static bool
bearer_token(const char *hdr, const char **tok, size_t *len)
{
    const char *p;
    size_t n;

    if (strncasecmp(hdr, "Bearer ", 7) != 0)
        return false;
    p = hdr + 7;
    while (*p == ' ')
        p++;
    n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789-._~+/");
    while (p[n] == '=')
        n++;
    if (n == 0 || p[n] != '\0' || n > 4096)
        return false;
    *tok = p;
    *len = n;
    return true;
}

/* 400 invalid_request with the RFC 6750 challenge. */
static int
bad_request(struct req *r, const char *why)
{
    snprintf(r->www_auth, sizeof(r->www_auth), "%s, error=\"invalid_request\"",
             realm);
    return reply_error(r, 400, "invalid_request", "%s", why);
}

static int
refuse_token(struct req *r, int rc)
{
    if (pat_err_class(rc) == PAT_CLASS_TRANSIENT) {
        snprintf(r->retry_after, sizeof(r->retry_after), "5");
        return reply_error(r, 503, "unavailable",
                           "cannot verify tokens right now");
    }
    failures_count(r, LIMIT_AUTH);
    /* One description for every dead token (auth.h); metrics tell why. */
    snprintf(r->www_auth, sizeof(r->www_auth),
             "%s, error=\"invalid_token\", error_description=\"%s\"", realm,
             AUTH_INVALID_TOKEN);
    return reply_error(r, 401, "invalid_token", "%s", AUTH_INVALID_TOKEN);
}

/*
 * The scopes a request requires: those of ?scope= and of the header
 * X-Pat-Required-Scopes together (a client that controls the query can
 * add requirements, never remove the gateway's). Each must be a valid
 * scope name, which also keeps quotes out of the challenge we echo.
 */
static bool
required_scopes(struct req *r, char *out, size_t cap)
{
    const char *q = req_query(r, "scope");
    const char *h = req_header(r, "X-Pat-Required-Scopes");
    char both[2 * PAT_SCOPESTR_MAX + 2];
    int n;

    out[0] = '\0';
    if (q == NULL && h == NULL)
        return true;
    n = snprintf(both, sizeof(both), "%s %s", q ? q : "", h ? h : "");
    if (n < 0 || (size_t)n >= sizeof(both))
        return false;
    return pat_scope_list_parse(both, out, cap) == PAT_OK;
}

/*
 * The audience: the gateway's header wins over the query, for the same
 * reason; a value that is not a plain audience is refused.
 */
static bool
audience(struct req *r, const char **aud)
{
    const char *h = req_header(r, "X-Pat-Audience");
    const char *a = h ? h : req_query(r, "audience");
    size_t i, len = a ? strlen(a) : 0;

    *aud = a;
    if (a == NULL)
        return true;
    if (len == 0 || len > PAT_AUDIENCE_MAX)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/*
 * A PAT, or one of patd's own JWTs when token exchange is on: both go
 * through the verifier's cache and the change feed's invalidation.
 */
static int
check_bearer(struct req *r, const char *tok, size_t len,
             const struct pat_check *check, unsigned flags)
{
    const struct pat_jwt_rules *rules = jwt_rules();

    if (rules != NULL && pat_looks_like_jwt(tok, len))
        return pat_verifier_check_jwt(r->verifier, rules, tok, len, check,
                                      &r->token);
    return pat_verifier_check_flags(r->verifier, tok, len, check, flags,
                                    &r->token);
}

int
h_auth(struct req *r)
{
    char scopes[PAT_SCOPESTR_MAX + 1];
    const char *aud = NULL;
    const char *hdr = req_header(r, "Authorization"), *tok = NULL;
    struct pat_check check;
    struct counts n = {0, 0, 0, 0, 0, 0};
    size_t len = 0;
    bool blocked;
    int rc;

    identity_headers(r, false);
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_values, &n);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, count_values, &n);
    if (n.access_token_args > 0)
        return bad_request(r, "tokens are not accepted in the query string");
    /*
     * A requirement given twice is refused (RFC 6750 3.1): reading only
     * the first copy would drop the other, and a gateway that appends its
     * header to a client's copy would let the client's win.
     */
    if (n.scope_args > 1 || n.audience_args > 1 || n.scope_headers > 1 ||
        n.audience_headers > 1)
        return bad_request(r, "a required scope or audience is given twice");
    if (!required_scopes(r, scopes, sizeof(scopes)))
        return bad_request(r, "required scopes must be valid scope names");
    if (!audience(r, &aud))
        return bad_request(r, "invalid audience");
    if (n.authorization == 0) {
        snprintf(r->www_auth, sizeof(r->www_auth), "%s", realm);
        return reply_error(r, 401, "invalid_token", "authentication required");
    }
    if (n.authorization > 1 || !bearer_token(hdr, &tok, &len))
        return bad_request(r, "send exactly one 'Authorization: Bearer "
                              "<token>' header");
    check.ip = r->ip;
    check.scopes = scopes;
    check.audience = aud;
    /*
     * An address over its failure limit is answered from the cache alone:
     * a valid token it already used still passes (a gateway's address is
     * shared by all its clients), but it cannot make the store read
     * anything more, and every other answer is 429.
     */
    blocked = failures_blocked(r, r->cfg->auth_max_failures, LIMIT_AUTH);
    /*
     * Where a miss is a round trip to another machine, this thread only
     * answers from the cache; a miss goes to a worker (r->defer).
     */
    check.cache_only = blocked || (r->can_defer && r->defer_misses);
    /*
     * A use-limited token writes to the store: never on this thread
     * (DESIGN.md section 13). Tokens without limits take the path above.
     */
    rc = check_bearer(r, tok, len, &check,
                      PAT_CHECK_RATE |
                          (r->can_defer ? PAT_CHECK_DEFER_LIMITED : 0u));
    if (!blocked && r->can_defer && rc == PAT_ELIMIT) {
        r->defer = true;
        return 0;
    }
    if (blocked && rc != PAT_OK && rc != PAT_EINSUFFICIENT)
        return failures_reply(r, LIMIT_AUTH);
    metrics_verify(rc);
    if (rc == PAT_EINSUFFICIENT) {
        snprintf(r->www_auth, sizeof(r->www_auth),
                 "%s, error=\"insufficient_scope\", scope=\"%s\"", realm,
                 scopes);
        return reply_error(r, 403, "insufficient_scope",
                           "the token lacks a required scope");
    }
    if (rc == PAT_ERATE)
        return rate_refused(r);
    if (rc != PAT_OK)
        return refuse_token(r, rc);
    r->nhdrs = 0;
    identity_headers(r, true);
    rate_headers(r);
    return reply(r, 200, NULL);
}

/*
 * The caller of introspection: a PAT with patd:introspect, answered as
 * RFC 6750 says (no credentials 401, malformed 400, invalid 401, a valid
 * token without the scope 403).
 */
static bool
introspector(struct req *r)
{
    const char *hdr = req_header(r, "Authorization"), *tok;
    struct pat_check check = {r->ip, "patd:introspect", NULL, false};
    struct pat_verdict *caller;
    size_t len;
    int rc;

    if (hdr == NULL) {
        snprintf(r->www_auth, sizeof(r->www_auth), "%s", realm);
        reply_error(r, 401, "invalid_token",
                    "introspection needs a token with scope "
                    "'patd:introspect'");
        return false;
    }
    if (!bearer_token(hdr, &tok, &len)) {
        bad_request(r, "send 'Authorization: Bearer <token>'");
        return false;
    }
    caller = malloc(sizeof(*caller));
    if (caller == NULL) {
        reply_pat(r, PAT_ENOMEM);
        return false;
    }
    /* A caller over its failure limit is answered from the cache alone. */
    check.cache_only =
        failures_blocked(r, r->cfg->auth_max_failures, LIMIT_AUTH);
    rc = pat_verifier_check(r->verifier, tok, len, &check, caller);
    free(caller);
    if (rc == PAT_OK)
        return true;
    if (check.cache_only && rc != PAT_EINSUFFICIENT) {
        failures_reply(r, LIMIT_AUTH);
        return false;
    }
    if (rc == PAT_EINSUFFICIENT) {
        snprintf(r->www_auth, sizeof(r->www_auth),
                 "%s, error=\"insufficient_scope\", "
                 "scope=\"patd:introspect\"",
                 realm);
        reply_error(r, 403, "insufficient_scope",
                    "introspection needs scope 'patd:introspect'");
        return false;
    }
    refuse_token(r, rc);
    return false;
}

int
h_introspect(struct req *r)
{
    char tok[JWT_TEXT_MAX + 2];
    int rc;

    if (!introspector(r))
        return r->status;
    if (!req_form_has(r, "token"))
        return reply_error(r, 400, "invalid_request",
                           "the form parameter 'token' is required");
    /* A value too long to be any token is simply not active. */
    if (!req_form(r, "token", tok, sizeof(tok)))
        return reply(r, 200, json_pack("{s:b}", "active", 0));
    /* A use-limited token spends its use on a worker (a store write). */
    rc = check_bearer(r, tok, strlen(tok), NULL,
                      r->can_defer ? PAT_CHECK_DEFER_LIMITED : 0u);
    OPENSSL_cleanse(tok, sizeof(tok));
    if (rc == PAT_ELIMIT && r->can_defer) {
        r->defer = true;
        return 0;
    }
    metrics_verify(rc);
    if (rc == PAT_EUNAVAIL)
        return refuse_token(r, rc);
    if (rc != PAT_OK)
        return reply(r, 200, json_pack("{s:b}", "active", 0));
    {
        const struct pat_verdict *v = &r->token;
        json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:s, s:s}",
                              "active", 1, "scope", v->scopes, "sub",
                              v->user_id, "username", v->username, "token_type",
                              "Bearer", "iat", (json_int_t)v->created_at, "jti",
                              v->token_id, "client_id", v->token_id);
        if (o != NULL && v->expires_at != 0)
            json_object_set_new(o, "exp", json_integer(v->expires_at));
        /*
         * The resource server enforces what only it can see: the
         * audiences (RFC 7662 "aud") and the address ranges of its own
         * client (an extension member).
         */
        /* RFC 7662 / 7519: one audience a string, several an array. */
        if (o != NULL && v->audiences[0] != '\0')
            json_object_set_new(o, "aud",
                                strchr(v->audiences, ' ')
                                    ? list_json(v->audiences)
                                    : json_string(v->audiences));
        if (o != NULL && v->allowed_cidrs[0] != '\0')
            json_object_set_new(o, "allowed_cidrs",
                                json_string(v->allowed_cidrs));
        /* Extension members (DESIGN.md section 13). */
        if (o != NULL)
            json_object_set_new(o, "user_kind",
                                json_string(v->service ? "service" : "person"));
        if (o != NULL && v->uses_limited)
            json_object_set_new(o, "uses_left", json_integer(v->uses_left));
        return reply(r, 200, o);
    }
}

int
h_oauth_revoke(struct req *r)
{
    char tok[PAT_TOKEN_MAX + 2];
    bool revoked = false;
    int rc;

    if (!req_form_has(r, "token"))
        return reply_error(r, 400, "invalid_request",
                           "the form parameter 'token' is required");
    /*
     * Each revocation attempt is a write transaction: an address that
     * keeps sending tokens that are not ours is stopped like a prober.
     */
    if (failures_limited(r, r->cfg->auth_max_failures, LIMIT_AUTH))
        return r->status;
    if (!req_form(r, "token", tok, sizeof(tok))) {
        failures_count(r, LIMIT_AUTH);
        return reply(r, 200, NULL); /* longer than any token: unknown */
    }
    rc = pat_token_revoke_secret(r->st, &r->actor, tok, strlen(tok),
                                 "oauth_revoke", &revoked);
    OPENSSL_cleanse(tok, sizeof(tok));
    /* RFC 7009 2.2: unknown and invalid tokens are not an error. */
    if (rc == PAT_EUNKNOWN || rc == PAT_EMALFORMED)
        failures_count(r, LIMIT_AUTH);
    if (rc == PAT_OK || rc == PAT_EUNKNOWN || rc == PAT_EMALFORMED)
        return reply(r, 200, NULL);
    /* RFC 7009 2.2.1: 503 when the revocation could not be made. */
    if (pat_err_class(rc) == PAT_CLASS_TRANSIENT)
        rc = PAT_EUNAVAIL;
    return reply_pat(r, rc);
}

int
h_credentials_revoke(struct req *r)
{
    static const char *const fields[] = {"credentials", NULL};
    json_t *list, *item;
    bool revoked = false, down = false;
    size_t i;
    int rc = PAT_OK;

    if (failures_limited(r, r->cfg->leak_max_reports, LIMIT_LEAKS))
        return r->status;
    failures_count(r, LIMIT_LEAKS); /* every report counts, valid or not */
    if (body_fields(r, fields))
        return r->status;
    list = r->body ? json_object_get(r->body, "credentials") : NULL;
    if (!json_is_array(list) || json_array_size(list) > 1000)
        return reply_error(r, 400, "invalid_request",
                           "credentials must be an array of at most 1000 "
                           "strings");
    json_array_foreach(list, i, item)
    {
        const char *s = json_string_value(item);
        if (s == NULL)
            continue; /* malformed entries are skipped, silently */
        rc = pat_token_revoke_secret(
            r->st, &r->actor, s, json_string_length(item), "leaked", &revoked);
        /*
         * A failure that is not about the credential ends the report with
         * 503: the reporter must send it again, not believe it was taken.
         */
        down = pat_err_class(rc) == PAT_CLASS_TRANSIENT;
        if (down)
            break;
    }
    if (down)
        return reply_pat(r, PAT_EUNAVAIL);
    /* The same answer whatever was found: a report reveals nothing. */
    return reply(
        r, 202,
        json_pack("{s:I}", "received", (json_int_t)json_array_size(list)));
}

int
h_metrics(struct req *r)
{
    r->raw = metrics_render(r->verifier);
    if (r->raw == NULL)
        return reply_pat(r, PAT_ENOMEM);
    r->raw_type = "text/plain; version=0.0.4";
    r->status = 200;
    return 200;
}
