/* SPDX-License-Identifier: MIT */
/*
 * Web sign-in: a session is created from a username and password, read
 * back after a page reload, and ended. The cookie is HttpOnly and
 * SameSite=Strict, and failed sign-ins are limited per user and per
 * address so that passwords cannot be guessed at speed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "serve_config.h"
#include "csrf.h"
#include "loginlimit.h"
#include "metrics.h"
#include "routes.h"
#include "banned.h"

/*
 * Refuses a sign-in while the user or the address has too many failures,
 * or while there is no room to count a new one's (never forgetting
 * someone else's failures to make room).
 */
static int
login_limited(struct req *r, const char *name, int64_t now)
{
    const struct patd_config *c = r->cfg;
    enum login_verdict vu, va = LOGIN_ALLOW;
    long wait = 0;

    vu = loginlimit_check(r->logins, LOGIN_USER, name, now, c->login_window,
                          c->login_max_per_user, &wait);
    if (vu == LOGIN_ALLOW)
        va = loginlimit_check(r->logins, LOGIN_ADDR, r->ip, now,
                              c->login_window, c->login_max_per_ip, &wait);
    if (vu == LOGIN_ALLOW && va == LOGIN_ALLOW)
        return 0;
    metrics_limited(LIMIT_LOGIN);
    snprintf(r->retry_after, sizeof(r->retry_after), "%ld",
             wait > 0 ? wait : 1);
    if (vu == LOGIN_FULL || va == LOGIN_FULL)
        return reply_error(r, 429, "rate_limited",
                           "too many sign-ins are being limited; try again "
                           "later");
    return reply_error(r, 429, "rate_limited",
                       "too many failed sign-ins; try again later");
}

int
h_session_create(struct req *r)
{
    static const char *const fields[] = {"username", "password", NULL};
    char cookie[PAT_SESSION_LEN + 1], csrf[PAT_CSRF_LEN + 1];
    const char *name, *password;
    int64_t now = (int64_t)time(NULL);
    int rc;

    /* Login CSRF: another site must not sign a browser in as someone. */
    if (csrf_refuse_cross_site(r) || csrf_require_json(r))
        return r->status;
    if (body_fields(r, fields) || body_string(r, "username", true, &name) ||
        body_string(r, "password", true, &password))
        return r->status;
    /* Refused, never cut: no password that long can have been set. */
    if (strnlen(password, PAT_PASSWORD_MAX + 1) > PAT_PASSWORD_MAX)
        return reply_error(r, 400, "invalid_request",
                           "password must have at most %d bytes",
                           PAT_PASSWORD_MAX);
    if (login_limited(r, name, now))
        return r->status;
    rc = pat_user_check_password(r->st, name, password, &r->user);
    if (rc == PAT_EFORBIDDEN) {
        loginlimit_fail(r->logins, LOGIN_USER, name, now, r->cfg->login_window);
        loginlimit_fail(r->logins, LOGIN_ADDR, r->ip, now,
                        r->cfg->login_window);
        return reply_error(r, 401, "invalid_token",
                           "wrong username or password");
    }
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    loginlimit_clear(r->logins, LOGIN_USER, name);
    r->actor.user_id = r->user.id;
    rc = pat_session_create(r->st, &r->actor, r->user.id, r->cfg->session_ttl,
                            cookie, sizeof(cookie), csrf, sizeof(csrf));
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             "patd_session=%s; Path=/; Max-Age=%ld; HttpOnly; "
             "SameSite=Strict%s",
             cookie, r->cfg->session_ttl,
             r->cfg->cookie_secure ? "; Secure" : "");
    OPENSSL_cleanse(cookie, sizeof(cookie));
    return reply(r, 200,
                 json_pack("{s:o, s:s}", "user", render_user(&r->user),
                           "csrf_token", csrf));
}

/* The signed-in user and the session's CSRF token (after a page reload). */
int
h_session_get(struct req *r)
{
    if (r->authed != AUTHED_SESSION)
        return reply_error(r, 404, "not_found",
                           "no session: this request carries a token");
    return reply(r, 200,
                 json_pack("{s:o, s:s}", "user", render_user(&r->user),
                           "csrf_token", r->csrf));
}

int
h_session_delete(struct req *r)
{
    const char *cookie = req_cookie(r, "patd_session");

    /* It sets the cookie: never at another site's request. */
    if (csrf_refuse_cross_site(r))
        return r->status;
    if (cookie != NULL) {
        int rc = pat_session_delete(r->st, cookie, strlen(cookie));
        if (rc != PAT_OK)
            return reply_pat(r, rc);
    }
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             "patd_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             r->cfg->cookie_secure ? "; Secure" : "");
    return reply(r, 204, NULL);
}
