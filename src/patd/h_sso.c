/* SPDX-License-Identifier: MIT */
/*
 * Web sign-in through the OpenID Provider (DESIGN.md section 11).
 *
 * GET /v1/sso/start writes a one-time grant holding the nonce, the PKCE
 * verifier and where to return; its handle is the `state`, and it is
 * also set as the short-lived cookie patd_sso (SameSite=Lax, so that
 * the provider's redirect back carries it): the callback only goes on
 * when the state it gets is this browser's. Start needs no credentials,
 * so it is bounded per client address ([sso] max_starts_per_ip per
 * [auth] window) and in total ([sso] max_pending unexpired grants):
 * beyond either, 429 rate_limited and nothing written. GET /v1/sso/callback
 * takes the grant (once), lets sso.c exchange the code and check the ID token,
 * then finds the user by the provider's subject (or creates one, kind person),
 * refreshes the display name, email, allowed scopes and role from the mapping,
 * and starts a session. Every failure ends on an error page and an audit event
 * "sso.failed", before anything about a user is written.
 *
 * The session cookie is SameSite=Strict; a browser does not send it on
 * the navigation that follows a cross-site redirect chain, so the
 * callback answers a page that moves on by itself (meta refresh) rather
 * than a redirect, and the page's own requests carry the cookie.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "failures.h"
#include "routes.h"
#include "serve_config.h"
#include "sso.h"
#include "banned.h"

#define SSO_GRANT_TTL     600 /* seconds to finish a sign-in at the provider */
#define SSO_PENDING_RETRY 60  /* Retry-After when max_pending is reached */

/*
 * Header values must outlive the request (reply_header): the answer is
 * sent by the thread that ran the handler, before it runs another.
 */
static _Thread_local char location[4096];
static _Thread_local char extra_cookie[160];

int
h_sso_config(struct req *r)
{
    return reply(r, 200,
                 json_pack("{s:b, s:b, s:s}", "enabled", sso_enabled(),
                           "local_passwords", r->cfg->sso_local_passwords,
                           "start", "/v1/sso/start"));
}

/* A page with a title and a sentence (static text only, nothing echoed). */
static int
page(struct req *r, int status, const char *title, const char *text,
     const char *next)
{
    char *html = malloc(2048);

    if (html == NULL)
        return reply_error(r, 500, "internal_error", "out of memory");
    snprintf(html, 2048,
             "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             "%s%s%s<title>patd: %s</title></head><body><main>"
             "<h1 id=\"sso-title\">%s</h1><p id=\"sso-message\">%s</p>"
             "<p><a href=\"/\">Back to the sign-in page</a></p>"
             "</main></body></html>",
             next ? "<meta http-equiv=\"refresh\" content=\"0;url=" : "",
             next ? next : "", next ? "\">" : "", title, title, text);
    r->raw = html;
    r->raw_type = "text/html; charset=utf-8";
    reply_header(r, "Content-Security-Policy",
                 "default-src 'none'; base-uri 'none'; "
                 "frame-ancestors 'none'");
    return reply(r, status, NULL);
}

/* A return path of our own: "/..." of safe characters, never "//". */
static const char *
safe_return(const char *p)
{
    size_t i;

    if (p == NULL || p[0] != '/' || p[1] == '/' || p[1] == '\\' ||
        strlen(p) > 512)
        return "/";
    for (i = 0; p[i] != '\0'; i++) {
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789/_-.~#?=&%:+",
                   p[i]) == NULL)
            return "/";
    }
    return p;
}

static void
clear_sso_cookie(struct req *r)
{
    snprintf(extra_cookie, sizeof(extra_cookie),
             "patd_sso=; Path=/v1/sso; Max-Age=0; HttpOnly; SameSite=Lax%s",
             r->cfg->cookie_secure ? "; Secure" : "");
    reply_header(r, "Set-Cookie", extra_cookie);
}

static int fail(struct req *r, enum sso_fail f, const char *detail,
                const char *user_id);

int
h_sso_start(struct req *r)
{
    char state[PAT_HANDLE_LEN + 1], nonce[SSO_NONCE_LEN + 1];
    char verifier[SSO_VERIFIER_LEN + 1], *data = NULL;
    json_t *g;
    enum sso_fail f;
    int rc;

    if (!sso_enabled())
        return page(r, 404, "Single sign-on is off",
                    sso_fail_text(SSO_NOT_CONFIGURED), NULL);
    /* Unauthenticated and a write: bounded per address, and in total. */
    if (failures_limited(r, r->cfg->sso_max_starts_per_ip, LIMIT_SSO))
        return r->status;
    failures_count(r, LIMIT_SSO);
    if (sso_random(nonce, SSO_NONCE_LEN) != 0 ||
        sso_random(verifier, SSO_VERIFIER_LEN) != 0)
        return page(r, 500, "Sign-in failed", sso_fail_text(SSO_INTERNAL),
                    NULL);
    g = json_pack("{s:s, s:s, s:s}", "nonce", nonce, "verifier", verifier,
                  "return", safe_return(req_query(r, "return")));
    data = g ? json_dumps(g, JSON_COMPACT) : NULL;
    json_decref(g);
    if (data == NULL)
        return page(r, 500, "Sign-in failed", sso_fail_text(SSO_INTERNAL),
                    NULL);
    rc = pat_grant_put_max(r->st, "sso", data, SSO_GRANT_TTL,
                           r->cfg->sso_max_pending, state);
    OPENSSL_cleanse(data, strlen(data));
    free(data);
    if (rc == PAT_ELIMIT) {
        snprintf(r->retry_after, sizeof(r->retry_after), "%d",
                 SSO_PENDING_RETRY);
        return failures_reply(r, LIMIT_SSO);
    }
    if (rc != PAT_OK)
        return page(r, 503, "Sign-in failed",
                    "The server cannot reach its store. Try again later.",
                    NULL);
    f = sso_authorize_url(state, nonce, verifier, location, sizeof(location));
    OPENSSL_cleanse(verifier, sizeof(verifier));
    if (f != SSO_OK)
        return fail(r, f, "discovery", NULL);
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             "patd_sso=%s; Path=/v1/sso; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             state, SSO_GRANT_TTL, r->cfg->cookie_secure ? "; Secure" : "");
    reply_header(r, "Location", location);
    return reply(r, 302, NULL);
}

/* Ends a failed sign-in: the audit event, then the page. */
static int
fail(struct req *r, enum sso_fail f, const char *detail, const char *user_id)
{
    char d[PAT_DETAIL_MAX + 1];
    json_t *o = json_pack("{s:s, s:s}", "reason", sso_fail_reason(f), "detail",
                          detail ? detail : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

    snprintf(d, sizeof(d), "%s", text ? text : "{}");
    free(text);
    json_decref(o);
    if (pat_audit_record(r->st, &r->actor, "sso.failed", user_id, d) != PAT_OK)
        fprintf(stderr, "patd: sso: cannot record a failed sign-in (%s)\n",
                sso_fail_reason(f));
    return page(r,
                sso_fail_upstream(f)      ? 502
                : f == SSO_NOT_CONFIGURED ? 404
                : f == SSO_INTERNAL       ? 500
                : f == SSO_USER_DISABLED || f == SSO_USERNAME_TAKEN ||
                        f == SSO_MAPPING
                    ? 403
                    : 400,
                "Sign-in failed", sso_fail_text(f), NULL);
}

/*
 * The user of id: found by subject, or an account of the same username
 * that only single sign-on or SCIM made (no password, no other subject),
 * or a new one. Updated from the mapping. Nothing is written unless
 * every check passes; the libpat calls each run in one transaction.
 */
static enum sso_fail
sign_in_user(struct req *r, const struct sso_identity *id, struct pat_user *u,
             char *detail, size_t cap)
{
    struct pat_user_patch p = {NULL, NULL, -1, NULL, -1};
    char uid[PAT_ID_LEN + 1], other[PAT_ATTR_MAX + 1];
    char scopes[PAT_SCOPESTR_MAX + 16];
    bool link = false;
    int rc;

    snprintf(scopes, sizeof(scopes), "%s%s", id->scopes,
             id->role == PAT_ROLE_ADMIN ? " patd:admin" : "");
    rc = pat_user_attr_find(r->st, PAT_ATTR_OIDC_SUBJECT, id->subject, uid);
    if (rc == PAT_OK)
        rc = pat_user_get(r->st, uid, u);
    if (rc == PAT_ENOTFOUND) {
        rc = pat_user_get(r->st, id->username, u);
        if (rc == PAT_OK) {
            if (u->has_password ||
                pat_user_attr_get(r->st, u->id, PAT_ATTR_OIDC_SUBJECT, other,
                                  sizeof(other)) != PAT_ENOTFOUND) {
                snprintf(detail, cap,
                         "username '%s' belongs to another "
                         "account",
                         id->username);
                return SSO_USERNAME_TAKEN;
            }
            link = true;
        } else if (rc == PAT_ENOTFOUND) {
            struct pat_user_spec spec = {id->username, id->display_name,
                                         id->email, id->role, scopes};

            rc = pat_user_create(r->st, &r->actor, &spec, u);
            if (rc == PAT_OK)
                rc = pat_user_attr_set(r->st, u->id, PAT_ATTR_OIDC_SUBJECT,
                                       id->subject);
            if (rc == PAT_ESCOPE || rc == PAT_EINVAL) {
                snprintf(detail, cap, "%.250s", r->errdetail);
                return rc == PAT_ESCOPE ? SSO_MAPPING : SSO_CLAIMS;
            }
            return rc == PAT_OK ? SSO_OK : SSO_INTERNAL;
        }
    }
    if (rc != PAT_OK)
        return SSO_INTERNAL;
    if (u->disabled) {
        snprintf(detail, cap, "user %s is disabled", u->id);
        return SSO_USER_DISABLED;
    }
    p.display_name = id->display_name;
    p.email = id->email;
    /* Without a map, scopes are managed in patd, not at the provider. */
    if (r->cfg->sso_map[0] != '\0')
        p.scopes = scopes;
    if (r->cfg->sso_admin_group[0] != '\0')
        p.role = id->role;
    rc = pat_user_update(r->st, &r->actor, u->id, &p, u);
    if (rc == PAT_ESCOPE || rc == PAT_EINVAL) {
        snprintf(detail, cap, "%.250s", r->errdetail);
        return rc == PAT_ESCOPE ? SSO_MAPPING : SSO_CLAIMS;
    }
    if (rc == PAT_OK && link)
        rc =
            pat_user_attr_set(r->st, u->id, PAT_ATTR_OIDC_SUBJECT, id->subject);
    return rc == PAT_OK ? SSO_OK : SSO_INTERNAL;
}

/* Reads the grant's nonce, verifier and return path; false if broken. */
static bool
grant_fields(json_t *g, const char **nonce, const char **verifier,
             const char **ret)
{
    *nonce = json_string_value(json_object_get(g, "nonce"));
    *verifier = json_string_value(json_object_get(g, "verifier"));
    *ret = json_string_value(json_object_get(g, "return"));
    return *nonce != NULL && *verifier != NULL && *ret != NULL;
}

int
h_sso_callback(struct req *r)
{
    const char *state = req_query(r, "state"), *code = req_query(r, "code");
    const char *err = req_query(r, "error");
    const char *cookie = req_cookie(r, "patd_sso");
    const char *nonce, *verifier, *ret;
    char data[PAT_GRANT_MAX + 1], detail[300], csrf[PAT_CSRF_LEN + 1];
    char session[PAT_SESSION_LEN + 1];
    struct sso_identity id;
    struct pat_user u;
    enum sso_fail f;
    json_t *g;
    int rc;

    if (!sso_enabled())
        return fail(r, SSO_NOT_CONFIGURED, NULL, NULL);
    /* Nothing is read or taken for a state that is not this browser's. */
    if (state == NULL || cookie == NULL || strlen(state) != strlen(cookie) ||
        CRYPTO_memcmp(state, cookie, strlen(state)) != 0)
        return fail(r, SSO_STATE, "state missing or not this browser's", NULL);
    rc = pat_grant_take(r->st, "sso", state, strlen(state), data, sizeof(data));
    clear_sso_cookie(r);
    if (rc == PAT_ENOTFOUND)
        return fail(r, SSO_UNKNOWN_STATE, NULL, NULL);
    if (rc != PAT_OK)
        return page(r, 503, "Sign-in failed",
                    "The server cannot reach its store. Try again later.",
                    NULL);
    if (err != NULL || code == NULL) {
        snprintf(detail, sizeof(detail), "%.64s: %.160s", err ? err : "no code",
                 req_query(r, "error_description")
                     ? req_query(r, "error_description")
                     : "");
        OPENSSL_cleanse(data, sizeof(data));
        return fail(r, SSO_PROVIDER_ERROR, detail, NULL);
    }
    g = json_loads(data, 0, NULL);
    OPENSSL_cleanse(data, sizeof(data));
    if (g == NULL || !grant_fields(g, &nonce, &verifier, &ret)) {
        json_decref(g);
        return fail(r, SSO_INTERNAL, "unreadable grant", NULL);
    }
    f = sso_finish(code, verifier, nonce, &id, detail, sizeof(detail));
    snprintf(location, sizeof(location), "%s", safe_return(ret));
    json_decref(g);
    if (f != SSO_OK)
        return fail(r, f, detail, NULL);
    f = sign_in_user(r, &id, &u, detail, sizeof(detail));
    if (f != SSO_OK)
        return fail(r, f, detail, f == SSO_USER_DISABLED ? u.id : NULL);
    r->actor.user_id = u.id;
    rc = pat_session_create(r->st, &r->actor, u.id, r->cfg->session_ttl,
                            (int)r->cfg->session_max_per_user, session,
                            sizeof(session), csrf, sizeof(csrf));
    if (rc != PAT_OK)
        return page(r, 503, "Sign-in failed",
                    "The server cannot reach its store. Try again later.",
                    NULL);
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             "patd_session=%s; Path=/; Max-Age=%ld; HttpOnly; "
             "SameSite=Strict%s",
             session, r->cfg->session_ttl,
             r->cfg->cookie_secure ? "; Secure" : "");
    OPENSSL_cleanse(session, sizeof(session));
    OPENSSL_cleanse(csrf, sizeof(csrf));
    return page(r, 200, "Signed in", "Signed in; taking you on.", location);
}
