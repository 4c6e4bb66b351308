/* SPDX-License-Identifier: MIT */
/*
 * Who is calling (see auth.h). Tokens go through the verifier and its
 * cache, as on the gateway path, so a revoked token stops working here
 * as soon as it stops working there; sessions are read from the store.
 * A store that cannot answer is 503, never a pass.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "csrf.h"
#include "failures.h"
#include "serve_config.h"
#include "banned.h"

static int
insufficient(struct req *r, const char *scope)
{
    snprintf(r->www_auth, sizeof(r->www_auth),
             "Bearer realm=\"patd\", error=\"insufficient_scope\", "
             "scope=\"%s\"",
             scope);
    return reply_error(r, 403, "insufficient_scope",
                       "this endpoint needs a token with scope '%s'", scope);
}

/* A dead token: one description whatever its state (auth.h). */
static int
invalid_token(struct req *r)
{
    snprintf(r->www_auth, sizeof(r->www_auth),
             "Bearer realm=\"patd\", error=\"invalid_token\"");
    return reply_error(r, 401, "invalid_token", "%s", AUTH_INVALID_TOKEN);
}

/* Authenticates a Bearer PAT; 0 or the status answered. */
static int
auth_bearer(struct req *r, const char *hdr, enum auth_need need)
{
    const char *tok;
    size_t len;
    int rc;

    if (strncasecmp(hdr, "Bearer ", 7) != 0) {
        snprintf(r->www_auth, sizeof(r->www_auth),
                 "Bearer realm=\"patd\", error=\"invalid_request\"");
        return reply_error(r, 400, "invalid_request",
                           "the Authorization header must be 'Bearer "
                           "<token>'");
    }
    tok = hdr + 7;
    while (*tok == ' ')
        tok++;
    len = strnlen(tok, PAT_TOKEN_MAX + 1);
    {
        /*
         * Bounded like /v1/auth: an address over its failure limit is
         * answered from the cache alone, so that probing tokens through
         * the API costs it a 429, not a store read.
         */
        struct pat_check check = {r->ip, NULL, NULL, false};
        check.cache_only =
            failures_blocked(r, r->cfg->auth_max_failures, LIMIT_AUTH);
        rc = pat_verifier_check(r->verifier, tok, len, &check, &r->token);
        if (check.cache_only && rc != PAT_OK)
            return failures_reply(r, LIMIT_AUTH);
    }
    /* A failure that says nothing about the token is 503, never 401. */
    if (pat_err_class(rc) == PAT_CLASS_TRANSIENT)
        return reply_pat(r, PAT_EUNAVAIL);
    if (rc != PAT_OK) {
        failures_count(r, LIMIT_AUTH);
        return invalid_token(r);
    }
    rc = pat_user_get(r->st, r->token.user_id, &r->user);
    if (rc != PAT_OK)
        return rc == PAT_ENOTFOUND ? invalid_token(r) : reply_pat(r, rc);
    r->authed = AUTHED_TOKEN;
    r->actor.token_id = r->token.token_id;
    r->actor.token_scopes = r->token.scopes;
    r->actor.token_expires_at = r->token.expires_at;
    if (need == AUTH_SELF && !pat_verdict_has_scope(&r->token, "patd:self"))
        return insufficient(r, "patd:self");
    if (need == AUTH_ADMIN && r->user.role != PAT_ROLE_ADMIN)
        return reply_error(r, 403, "forbidden", "administrators only");
    if (need == AUTH_ADMIN && !pat_verdict_has_scope(&r->token, "patd:admin"))
        return insufficient(r, "patd:admin");
    return 0;
}

/* Authenticates a session cookie, with CSRF on state changes. */
static int
auth_session(struct req *r, const char *cookie, enum auth_need need)
{
    char *csrf = r->csrf;
    const char *sent;
    bool safe = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int rc;

    if (need == AUTH_TOKEN)
        return reply_error(r, 401, "invalid_token",
                           "this endpoint needs a token");
    /* Another site's page must not use the cookie to change anything. */
    if (!safe && csrf_refuse_cross_site(r))
        return r->status;
    rc = pat_session_get(r->st, cookie, strlen(cookie), &r->user, csrf,
                         sizeof(r->csrf), r->session_id);
    /* A failure that says nothing about the cookie is 503, never 401. */
    if (pat_err_class(rc) == PAT_CLASS_TRANSIENT)
        return reply_pat(r, PAT_EUNAVAIL);
    if (rc != PAT_OK)
        return reply_error(r, 401, "invalid_token",
                           "the session has ended; sign in again");
    r->authed = AUTHED_SESSION;
    sent =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!safe && (sent == NULL || strlen(sent) != PAT_CSRF_LEN ||
                  CRYPTO_memcmp(sent, csrf, PAT_CSRF_LEN) != 0))
        return reply_error(r, 403, "forbidden",
                           "missing or wrong X-CSRF-Token header");
    if (need == AUTH_ADMIN && r->user.role != PAT_ROLE_ADMIN)
        return reply_error(r, 403, "forbidden", "administrators only");
    return 0;
}

int
auth_request(struct req *r, enum auth_need need)
{
    const char *hdr =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    const char *cookie =
        MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "patd_session");
    int rc;

    if (need == AUTH_NONE)
        return 0;
    if (hdr != NULL)
        rc = auth_bearer(r, hdr, need);
    else if (cookie != NULL)
        rc = auth_session(r, cookie, need);
    else
        return reply_error(r, 401, "invalid_token", "authentication required");
    if (r->authed != AUTHED_NONE)
        r->actor.user_id = r->user.id;
    return rc;
}
