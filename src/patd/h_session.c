/* SPDX-License-Identifier: MIT */
/*
 * Web sign-in: a session is created from a username and password, read
 * back after a page reload, and ended. The cookie is HttpOnly and
 * SameSite=Strict, and failed sign-ins are limited per user and per
 * address so that passwords cannot be guessed at speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "serve_config.h"
#include "csrf.h"
#include "loginlimit.h"
#include "metrics.h"
#include "routes.h"
#include "banned.h"

/* The most sessions a list answers: [session] max_per_user's maximum. */
#define SESSIONS_LIST_MAX 1000

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

    /* [sso] local_passwords = false: people sign in with the provider. */
    if (!r->cfg->sso_local_passwords)
        return reply_error(r, 403, "forbidden",
                           "password sign-in is turned off; sign in with "
                           "single sign-on");
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
                            (int)r->cfg->session_max_per_user, cookie,
                            sizeof(cookie), csrf, sizeof(csrf));
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

/* The Set-Cookie that ends the session cookie in the browser. */
static void
clear_cookie(struct req *r)
{
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             "patd_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             r->cfg->cookie_secure ? "; Secure" : "");
}

/*
 * The caller's live sessions, newest first, the caller's own marked
 * current. Bounded by [session] max_per_user's largest value: sign-in
 * trims a user's sessions to the configured number.
 */
int
h_me_sessions_list(struct req *r)
{
    struct pat_session *page;
    const char *current = r->authed == AUTHED_SESSION ? r->session_id : NULL;
    json_t *items;
    size_t n = 0, i;
    int rc;

    page = calloc(SESSIONS_LIST_MAX, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_session_list(r->st, r->user.id, current, page, SESSIONS_LIST_MAX,
                          &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items, render_session(&page[i]));
    free(page);
    return reply(r, 200, page_json(items, false, 0));
}

/* Ends one of the caller's sessions; another user's is 404. */
int
h_me_session_delete(struct req *r)
{
    int rc = pat_session_end(r->st, &r->actor, r->user.id, r->params[0]);

    if (rc != PAT_OK)
        return reply_pat(r, rc);
    if (r->authed == AUTHED_SESSION && strcmp(r->session_id, r->params[0]) == 0)
        clear_cookie(r);
    return reply(r, 204, NULL);
}
