/* SPDX-License-Identifier: MIT */
/*
 * Token exchange over HTTP (DESIGN.md section 10): POST /oauth2/token
 * (RFC 8693, answering as RFC 6749 section 5), the JWKS (RFC 7517), the
 * authorization server metadata (RFC 8414), the status lists
 * (draft-ietf-oauth-status-list), a user's exchanged tokens for the
 * page, and the signing keys for admins. The PAT presented is checked by
 * the shared verifier, so whatever it refuses (revoked, expired, a
 * disabled owner, a retired secret, a pending token) cannot exchange.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "failures.h"
#include "jwt.h"
#include "routes.h"
#include "serve_config.h"
#include "banned.h"

#define GRANT_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define TT_ACCESS            "urn:ietf:params:oauth:token-type:access_token"
#define TT_JWT               "urn:ietf:params:oauth:token-type:jwt"
#define TARGETS_MAX          8
#define TARGET_LEN           512

/* The parameters of a token request, each bounded. */
struct xreq {
    char grant_type[64];
    char subject_token[PAT_TOKEN_MAX + 2];
    char subject_token_type[80];
    char requested_token_type[80];
    char scope[PAT_SCOPESTR_MAX + 1];
    char targets[TARGETS_MAX][TARGET_LEN]; /* resources, then audiences */
    int nresources;
    int ntargets;
    bool has_scope, has_requested, has_actor, has_actor_type;
    unsigned seen; /* bit i: single[i] of read_form was given */
};

/* RFC 6749 section 5.2 error: 400 (or 401) and the code. */
static int
oauth_error(struct req *r, enum jwt_exchange_result why, const char *code,
            const char *desc)
{
    jwt_count_exchange(why);
    return reply_error(r, 400, code, "%s", desc);
}

/*
 * Reads the form: single parameters once at most (RFC 6749 section 3.2),
 * resource and audience any number of times up to TARGETS_MAX. false
 * (after answering) on a repeat, an oversized value or too many targets.
 */
static bool
read_form(struct req *r, struct xreq *x)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } single[] = {
        {"grant_type", offsetof(struct xreq, grant_type), 64},
        {"subject_token", offsetof(struct xreq, subject_token),
         PAT_TOKEN_MAX + 2},
        {"subject_token_type", offsetof(struct xreq, subject_token_type), 80},
        {"requested_token_type", offsetof(struct xreq, requested_token_type),
         80},
        {"scope", offsetof(struct xreq, scope), PAT_SCOPESTR_MAX + 1},
    };
    const char *p = r->form, *end = r->form ? r->form + r->form_len : NULL;
    int pass;

    /* Resources first (pass 0), then audiences (pass 1). */
    for (pass = 0; pass < 3; pass++) {
        for (p = r->form; p != NULL && p < end;) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            const char *stop = amp ? amp : end;
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            size_t klen = eq ? (size_t)(eq - p) : (size_t)(stop - p);
            size_t vlen = eq ? (size_t)(stop - eq - 1) : 0;
            const char *start = p;
            char key[32], *dst = NULL;
            size_t cap = 0, i;

            p = amp ? amp + 1 : end;
            if (klen == 0 || klen >= sizeof(key))
                continue;
            memcpy(key, start, klen);
            key[klen] = '\0';
            if (pass < 2) {
                if (strcmp(key, pass == 0 ? "resource" : "audience") != 0)
                    continue;
                if (x->ntargets >= TARGETS_MAX) {
                    oauth_error(r, JWT_X_INVALID_TARGET, "invalid_target",
                                "at most 8 resources and audiences");
                    return false;
                }
                dst = x->targets[x->ntargets++];
                cap = TARGET_LEN;
                if (pass == 0)
                    x->nresources++;
            } else {
                if (strcmp(key, "actor_token") == 0)
                    x->has_actor = true;
                if (strcmp(key, "actor_token_type") == 0)
                    x->has_actor_type = true;
                for (i = 0; i < sizeof(single) / sizeof(single[0]); i++)
                    if (strcmp(key, single[i].name) == 0)
                        break;
                if (i == sizeof(single) / sizeof(single[0]))
                    continue;
                dst = (char *)x + single[i].off;
                cap = single[i].cap;
                if (x->seen & (1u << i)) {
                    oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                                "a parameter is repeated");
                    return false;
                }
                x->seen |= 1u << i;
                if (strcmp(key, "scope") == 0)
                    x->has_scope = true;
                if (strcmp(key, "requested_token_type") == 0)
                    x->has_requested = true;
            }
            if (vlen >= cap) {
                oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                            "a parameter is too long");
                return false;
            }
            if (eq != NULL)
                memcpy(dst, eq + 1, vlen);
            dst[vlen] = '\0';
            for (i = 0; i < vlen; i++)
                if (dst[i] == '+')
                    dst[i] = ' ';
            MHD_http_unescape(dst);
        }
    }
    return true;
}

/* RFC 8707 section 2: an absolute URI without a fragment. */
static bool
resource_ok(const char *s)
{
    const char *colon = strchr(s, ':');
    const char *c;

    if (colon == NULL || colon == s || strchr(s, '#') != NULL ||
        colon[1] == '\0')
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (c = s; c < colon; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '+' || *c == '-' || *c == '.'))
            return false;
    for (c = s; *c != '\0'; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f ||
            *c == '"' || *c == '\\')
            return false;
    return true;
}

static bool
audience_ok(const char *s)
{
    const char *c;

    if (s[0] == '\0' || strlen(s) > PAT_AUDIENCE_MAX)
        return false;
    for (c = s; *c != '\0'; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f ||
            *c == '"' || *c == '\\')
            return false;
    return true;
}

/* Checks the request's shape; answers and returns false when it is bad. */
static bool
check_shape(struct req *r, const struct xreq *x)
{
    int i;

    if (x->grant_type[0] == '\0')
        return oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                           "grant_type is required"),
               false;
    if (strcmp(x->grant_type, GRANT_TOKEN_EXCHANGE) != 0)
        return oauth_error(r, JWT_X_UNSUPPORTED, "unsupported_grant_type",
                           "only token exchange (RFC 8693) is offered"),
               false;
    if (x->subject_token[0] == '\0' || x->subject_token_type[0] == '\0')
        return oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                           "subject_token and subject_token_type are "
                           "required"),
               false;
    if (strcmp(x->subject_token_type, TT_ACCESS) != 0)
        return oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                           "subject_token_type must be " TT_ACCESS),
               false;
    if (x->has_actor || x->has_actor_type)
        return oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                           "actor tokens are not supported"),
               false;
    if (x->has_requested && strcmp(x->requested_token_type, TT_JWT) != 0 &&
        strcmp(x->requested_token_type, TT_ACCESS) != 0)
        return oauth_error(r, JWT_X_INVALID_REQUEST, "invalid_request",
                           "requested_token_type must be " TT_JWT
                           " or " TT_ACCESS),
               false;
    for (i = 0; i < x->ntargets; i++) {
        bool ok = i < x->nresources ? resource_ok(x->targets[i])
                                    : audience_ok(x->targets[i]);
        if (!ok)
            return oauth_error(r, JWT_X_INVALID_TARGET, "invalid_target",
                               i < x->nresources
                                   ? "resource must be an absolute URI "
                                     "without a fragment"
                                   : "invalid audience"),
                   false;
    }
    return true;
}

/*
 * The scope of the JWT: the requested one, each item held by the PAT,
 * or the PAT's whole effective scope.
 */
static bool
narrow_scope(struct req *r, const struct xreq *x, char *out, size_t cap)
{
    char parsed[PAT_SCOPESTR_MAX + 1];
    const char *p;

    if (!x->has_scope || x->scope[0] == '\0') {
        snprintf(out, cap, "%s", r->token.scopes);
        return true;
    }
    if (pat_scope_list_parse(x->scope, parsed, sizeof(parsed)) != PAT_OK) {
        oauth_error(r, JWT_X_INVALID_SCOPE, "invalid_scope",
                    "scope must be space-separated scope names");
        return false;
    }
    for (p = parsed; *p != '\0';) {
        size_t n = strcspn(p, " ");
        char one[PAT_SCOPESTR_MAX + 1];

        snprintf(one, sizeof(one), "%.*s", (int)n, p);
        if (n > 0 && !pat_verdict_has_scope(&r->token, one)) {
            oauth_error(r, JWT_X_INVALID_SCOPE, "invalid_scope",
                        "the token does not hold every requested scope");
            return false;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    snprintf(out, cap, "%s", parsed);
    return true;
}

static bool
in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    const char *p = list;

    while (*p != '\0') {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, item, n) == 0)
            return true;
        p += k;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* The "aud" claim: the targets (each allowed by the PAT), or a default. */
static json_t *
audience_claim(struct req *r, const struct xreq *x)
{
    const char *pat_aud = r->token.audiences;
    json_t *a;
    int i;

    for (i = 0; i < x->ntargets; i++)
        if (pat_aud[0] != '\0' && !in_list(pat_aud, x->targets[i])) {
            oauth_error(r, JWT_X_INVALID_TARGET, "invalid_target",
                        "the token is not valid for a requested resource or "
                        "audience");
            return NULL;
        }
    if (x->ntargets == 1)
        return json_string(x->targets[0]);
    if (x->ntargets > 1) {
        a = json_array();
        for (i = 0; a != NULL && i < x->ntargets; i++)
            json_array_append_new(a, json_string(x->targets[i]));
        return a;
    }
    if (pat_aud[0] == '\0')
        return json_string(jwt_issuer());
    if (strchr(pat_aud, ' ') == NULL)
        return json_string(pat_aud);
    a = json_array();
    for (const char *p = pat_aud; a != NULL && *p != '\0';) {
        size_t k = strcspn(p, " ");
        if (k > 0)
            json_array_append_new(a, json_stringn(p, k));
        p += k;
        while (*p == ' ')
            p++;
    }
    return a;
}

static int
new_jti(char *out, size_t cap)
{
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return PAT_ERANDOM;
    sodium_bin2base64(out, cap, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return PAT_OK;
}

/* Verifies the subject PAT into r->token; false after answering. */
static bool
check_subject(struct req *r, struct xreq *x)
{
    int rc;

    /* An address over its failure limit exchanges nothing more. */
    if (failures_blocked(r, r->cfg->auth_max_failures, LIMIT_AUTH)) {
        jwt_count_exchange(JWT_X_LIMITED);
        failures_reply(r, LIMIT_AUTH);
        return false;
    }
    /*
     * No request demands here (a PAT bound to audiences is checked
     * against the requested targets below), except its address ranges.
     */
    rc = pat_verifier_check_flags(r->verifier, x->subject_token,
                                  strlen(x->subject_token), NULL,
                                  PAT_CHECK_DEFER_LIMITED, &r->token);
    /*
     * A token with a use or rate limit (DESIGN.md section 13) is counted
     * by patd at every use; a JWT made from it would be used where patd
     * cannot count. It is refused without spending a use (the deferred
     * check answers PAT_ELIMIT before any write).
     */
    if (rc == PAT_ELIMIT || (rc == PAT_OK && r->token.rate_limit > 0)) {
        failures_count(r, LIMIT_AUTH);
        oauth_error(r, JWT_X_INVALID_GRANT, "invalid_grant",
                    "a token with a use or rate limit cannot be exchanged");
        return false;
    }
    if (rc == PAT_OK && !pat_verdict_allows_ip(&r->token, r->ip))
        rc = PAT_EADDRESS;
    /*
     * An old secret inside its grace period still verifies, but it is
     * retired: a JWT made from it would be born dead (its status follows
     * the secret), so it is refused like any retired secret.
     */
    if (rc == PAT_OK && r->token.grace_until != 0)
        rc = PAT_EREUSED;
    if (rc == PAT_OK)
        return true;
    if (pat_err_class(rc) == PAT_CLASS_TRANSIENT) {
        jwt_count_exchange(JWT_X_UNAVAILABLE);
        snprintf(r->retry_after, sizeof(r->retry_after), "5");
        reply_error(r, 503, "temporarily_unavailable",
                    "cannot verify tokens right now");
        return false;
    }
    failures_count(r, LIMIT_AUTH);
    oauth_error(r, JWT_X_INVALID_GRANT, "invalid_grant",
                "the subject token is not an active token");
    return false;
}

static int
issue(struct req *r, struct xreq *x, const char *scope, json_t *aud)
{
    const struct patd_config *cfg = r->cfg;
    char jti[PAT_JTI_MAX + 1], kid[PAT_KID_MAX + 1], uri[640], detail[256];
    uint8_t hash[PAT_HASH_LEN];
    struct pat_actor who = r->actor;
    int64_t now = pat_store_now(r->st), exp, idx = -1;
    json_t *claims = NULL, *o;
    char *text = NULL, *jwt = NULL;
    int rc;

    exp = now + cfg->jwt_lifetime;
    if (cfg->jwt_lifetime > cfg->jwt_max_lifetime)
        exp = now + cfg->jwt_max_lifetime;
    if (r->token.expires_at != 0 && r->token.expires_at < exp)
        exp = r->token.expires_at;
    who.user_id = r->token.user_id;
    who.token_id = r->token.token_id;
    if (!pat_keyring_current(jwt_keyring(), now, kid, sizeof(kid)) ||
        new_jti(jti, sizeof(jti)) != PAT_OK ||
        pat_token_hash(x->subject_token, strlen(x->subject_token), hash) !=
            PAT_OK) {
        rc = PAT_EUNAVAIL;
        goto out;
    }
    snprintf(detail, sizeof(detail),
             "{\"jti\":\"%s\",\"kid\":\"%s\",\"exp\":%lld}", jti, kid,
             (long long)exp);
    rc = pat_exchange_record(r->st, &who, &r->token, hash, jti, kid, now, exp,
                             detail, &idx);
    if (rc != PAT_OK)
        goto out;
    snprintf(uri, sizeof(uri), "%s/v1/status-lists/%lld", jwt_issuer(),
             (long long)(idx / PAT_STATUS_LIST_N));
    claims = json_pack("{ss ss sO sI sI sI ss ss ss ss s{s{sI ss}}}", "iss",
                       jwt_issuer(), "sub", r->token.user_id, "aud", aud, "exp",
                       (json_int_t)exp, "iat", (json_int_t)now, "nbf",
                       (json_int_t)now, "jti", jti, "client_id",
                       r->token.token_id, "scope", scope, "username",
                       r->token.username, "status", "status_list", "idx",
                       (json_int_t)(idx % PAT_STATUS_LIST_N), "uri", uri);
    text = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
    rc = text ? pat_keyring_sign(jwt_keyring(), now, "at+jwt", text, &jwt)
              : PAT_ENOMEM;
out:
    OPENSSL_cleanse(x->subject_token, sizeof(x->subject_token));
    json_decref(claims);
    free(text);
    if (rc != PAT_OK) {
        jwt_count_exchange(JWT_X_UNAVAILABLE);
        snprintf(r->retry_after, sizeof(r->retry_after), "5");
        return reply_error(r, 503, "temporarily_unavailable",
                           "cannot issue tokens right now");
    }
    jwt_count_exchange(JWT_X_ISSUED);
    o = json_pack("{ss ss ss sI ss}", "access_token", jwt, "issued_token_type",
                  x->has_requested ? x->requested_token_type : TT_ACCESS,
                  "token_type", "Bearer", "expires_in", (json_int_t)(exp - now),
                  "scope", scope);
    OPENSSL_cleanse(jwt, strlen(jwt));
    free(jwt);
    reply_header(r, "Pragma", "no-cache");
    return reply(r, 200, o);
}

int
h_oauth_token(struct req *r)
{
    char scope[PAT_SCOPESTR_MAX + 1];
    struct xreq *x = calloc(1, sizeof(*x));
    json_t *aud = NULL;
    int status;

    if (x == NULL)
        return reply_pat(r, PAT_ENOMEM);
    if (!read_form(r, x) || !check_shape(r, x))
        goto done;
    if (jwt_rules() == NULL) {
        jwt_count_exchange(JWT_X_UNAVAILABLE);
        reply_error(r, 503, "temporarily_unavailable",
                    "token exchange is not configured (no key-encryption "
                    "key)");
        goto done;
    }
    if (!check_subject(r, x) || !narrow_scope(r, x, scope, sizeof(scope)))
        goto done;
    aud = audience_claim(r, x);
    if (aud == NULL)
        goto done;
    issue(r, x, scope, aud);
done:
    status = r->status;
    json_decref(aud);
    OPENSSL_cleanse(x, sizeof(*x));
    free(x);
    return status;
}

int
h_jwks(struct req *r)
{
    struct pat_keyring *kr = jwt_keyring();
    char *text;

    text = kr ? pat_keyring_jwks(kr, (int64_t)time(NULL))
              : strdup("{\"keys\":[]}");
    if (text == NULL)
        return reply_pat(r, PAT_ENOMEM);
    r->raw = text;
    r->raw_type = "application/jwk-set+json";
    /* Short: a rotation is pre-published for far longer than this. */
    reply_header(r, "Cache-Control", "public, max-age=60");
    r->status = 200;
    return 200;
}

int
h_as_metadata(struct req *r)
{
    const char *iss = jwt_issuer();
    char url[4][640];
    json_t *o;

    snprintf(url[0], sizeof(url[0]), "%s/oauth2/token", iss);
    snprintf(url[1], sizeof(url[1]), "%s/.well-known/jwks.json", iss);
    snprintf(url[2], sizeof(url[2]), "%s/oauth2/introspect", iss);
    snprintf(url[3], sizeof(url[3]), "%s/oauth2/revoke", iss);
    /* RFC 8414 section 2; the PAT itself authenticates an exchange. */
    o = json_pack("{ss ss ss ss ss s[] s[s] s[s] s[s] s[s]}", "issuer", iss,
                  "token_endpoint", url[0], "jwks_uri", url[1],
                  "introspection_endpoint", url[2], "revocation_endpoint",
                  url[3], "response_types_supported", "grant_types_supported",
                  GRANT_TOKEN_EXCHANGE, "token_endpoint_auth_methods_supported",
                  "none", "revocation_endpoint_auth_methods_supported", "none",
                  "introspection_endpoint_auth_methods_supported", "bearer");
    reply_header(r, "Cache-Control", "public, max-age=300");
    return reply(r, 200, o);
}

int
h_status_list(struct req *r)
{
    const char *p = r->params[0];
    char *end = NULL, *jwt = NULL;
    long long k;
    int rc;

    k = strtoll(p, &end, 10);
    if (p[0] < '0' || p[0] > '9' || *end != '\0' || k < 0 ||
        (p[0] == '0' && p[1] != '\0') || k > 1000000000LL)
        return reply_error(r, 404, "not_found", "no such status list");
    rc = jwt_status_list(r->st, (int64_t)k, &jwt);
    if (rc == PAT_ENOTFOUND)
        return reply_error(r, 404, "not_found", "no such status list");
    if (rc != PAT_OK)
        return reply_pat(
            r, pat_err_class(rc) == PAT_CLASS_TRANSIENT ? PAT_EUNAVAIL : rc);
    r->raw = jwt;
    r->raw_type = "application/statuslist+jwt";
    reply_header(r, "Cache-Control", "public, max-age=1");
    reply_header(r, "Access-Control-Allow-Origin", "*");
    r->status = 200;
    return 200;
}

int
h_me_exchanges(struct req *r)
{
    struct pat_exchange_summary *rows = calloc(100, sizeof(*rows));
    json_t *items = json_array();
    size_t n = 0, i;
    int rc;

    if (rows == NULL || items == NULL) {
        free(rows);
        json_decref(items);
        return reply_pat(r, PAT_ENOMEM);
    }
    rc = pat_exchanges_of_user(r->st, r->user.id, rows, 100, &n);
    for (i = 0; rc == PAT_OK && i < n; i++) {
        char at[PAT_TIME_LEN + 1];

        pat_time_format(rows[i].last_at, at, sizeof(at));
        json_array_append_new(items, json_pack("{ss ss sI ss}", "token_id",
                                               rows[i].token_id, "token_name",
                                               rows[i].token_name, "exchanges",
                                               (json_int_t)rows[i].count,
                                               "last_exchanged_at", at));
    }
    free(rows);
    if (rc != PAT_OK) {
        json_decref(items);
        return reply_pat(r, rc);
    }
    return reply(r, 200, json_pack("{so}", "items", items));
}

static json_t *
key_json(const struct pat_signing_key *k, int64_t now, const char *current)
{
    char c[PAT_TIME_LEN + 1], a[PAT_TIME_LEN + 1], t[PAT_TIME_LEN + 1];
    const char *state = k->retired_at != 0             ? "retired"
                        : strcmp(k->kid, current) == 0 ? "current"
                        : k->active_at > now           ? "next"
                                                       : "previous";

    pat_time_format(k->created_at, c, sizeof(c));
    pat_time_format(k->active_at, a, sizeof(a));
    json_t *o = json_pack("{ss ss ss ss ss}", "kid", k->kid, "alg", k->alg,
                          "state", state, "created_at", c, "active_at", a);
    if (o != NULL && k->retired_at != 0) {
        pat_time_format(k->retired_at, t, sizeof(t));
        json_object_set_new(o, "retired_at", json_string(t));
    }
    return o;
}

int
h_keys_list(struct req *r)
{
    struct pat_signing_key *rows = calloc(64, sizeof(*rows));
    char current[PAT_KID_MAX + 1] = "";
    int64_t now = pat_store_now(r->st);
    json_t *items = json_array();
    size_t n = 0, i;
    int rc;

    if (rows == NULL || items == NULL) {
        free(rows);
        json_decref(items);
        return reply_pat(r, PAT_ENOMEM);
    }
    if (jwt_keyring() != NULL)
        pat_keyring_current(jwt_keyring(), now, current, sizeof(current));
    rc = pat_keys_list(r->st, rows, 64, &n);
    for (i = 0; rc == PAT_OK && i < n; i++)
        json_array_append_new(items, key_json(&rows[i], now, current));
    OPENSSL_cleanse(rows, 64 * sizeof(*rows));
    free(rows);
    if (rc != PAT_OK) {
        json_decref(items);
        return reply_pat(r, rc);
    }
    return reply(r, 200, json_pack("{so}", "items", items));
}

int
h_keys_rotate(struct req *r)
{
    const struct patd_config *cfg = r->cfg;
    struct pat_signing_key k;
    int64_t now = pat_store_now(r->st), pre;
    int rc;

    if (jwt_kek() == NULL)
        return reply_error(r, 409, "conflict",
                           "no key-encryption key is configured");
    pre = cfg->jwt_prepublish >= 0 ? cfg->jwt_prepublish : cfg->jwt_lifetime;
    rc = pat_key_create(r->st, &r->actor, jwt_kek(), cfg->jwt_alg, now + pre,
                        &k);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    rc = reply(r, 201, key_json(&k, now, ""));
    OPENSSL_cleanse(&k, sizeof(k));
    return rc;
}

int
h_key_retire(struct req *r)
{
    int rc = pat_key_retire(r->st, &r->actor, r->params[0]);

    if (rc == PAT_ECONFLICT)
        return reply_error(r, 409, "conflict",
                           "the only key cannot be retired: rotate first");
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 204, NULL);
}
