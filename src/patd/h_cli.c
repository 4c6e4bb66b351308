/* SPDX-License-Identifier: MIT */
/*
 * `patctl login --web` (DESIGN.md section 11), the RFC 8252 loopback
 * pattern with a one-time code rather than the token in a URL:
 *
 *   1. patctl listens on 127.0.0.1 (a random port), makes a `state` and
 *      a PKCE code_verifier, and opens the web page at
 *      #/cli-login?port=..&state=..&code_challenge=..&scope=..&days=..
 *   2. The signed-in person approves there; the page calls
 *      POST /v1/me/cli-grants (session and CSRF only: a token cannot
 *      approve for itself), which writes a one-time grant (user, scopes,
 *      lifetime, name, code_challenge) for two minutes and answers the
 *      loopback URL with its handle as `code` and the `state`.
 *   3. patctl checks the state and calls POST /v1/cli/token with the code
 *      and its code_verifier; the grant is taken once, the verifier must
 *      hash to the challenge, and only then is the token created, for the
 *      user and within their allowed scopes and the policy. The
 *      plaintext travels only in that answer: never in a URL, the
 *      browser's history or the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "jose.h"
#include "routes.h"
#include "banned.h"

#define CLI_GRANT_TTL 120
#define CLI_STATE_MAX 128

static _Thread_local char redirect[512];

static bool
url_safe(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s), i;

    if (n < min || n > max)
        return false;
    for (i = 0; i < n; i++) {
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789-._~",
                   s[i]) == NULL)
            return false;
    }
    return true;
}

int
h_cli_grant_create(struct req *r)
{
    static const char *const fields[] = {
        "port", "state", "code_challenge", "scopes", "expires_in_days",
        "name", NULL};
    char scopes[PAT_SCOPESTR_MAX + 1], code[PAT_HANDLE_LEN + 1], *data;
    const char *state, *challenge, *name;
    long long port = 0, days = 0;
    bool has_port, has_days, has_scopes;
    json_t *g;
    int rc;

    if (r->authed != AUTHED_SESSION)
        return reply_error(r, 403, "forbidden",
                           "a token for patctl is approved in the web page "
                           "(session), not with a token");
    if (body_fields(r, fields) ||
        body_int(r, "port", 1, 65535, &port, &has_port) ||
        body_string(r, "state", true, &state) ||
        body_string(r, "code_challenge", true, &challenge) ||
        body_string(r, "name", true, &name) ||
        body_list(r, "scopes", PAT_SCOPES_MAX, scopes, sizeof(scopes),
                  &has_scopes) ||
        body_int(r, "expires_in_days", 1, PAT_LIFETIME_CAP, &days, &has_days))
        return r->status;
    if (!has_port || !has_scopes)
        return reply_error(r, 400, "invalid_request",
                           "port and scopes are required");
    if (!url_safe(state, 8, CLI_STATE_MAX))
        return reply_error(r, 400, "invalid_request",
                           "state must be 8 to %d characters of "
                           "[A-Za-z0-9-._~]",
                           CLI_STATE_MAX);
    if (!url_safe(challenge, 43, 43))
        return reply_error(r, 400, "invalid_request",
                           "code_challenge must be a base64url SHA-256 (43 "
                           "characters)");
    g = json_pack("{s:s, s:s, s:I, s:s, s:s}", "user_id", r->user.id, "scopes",
                  scopes, "days", (json_int_t)(has_days ? days : 0), "name",
                  name, "challenge", challenge);
    data = g ? json_dumps(g, JSON_COMPACT) : NULL;
    json_decref(g);
    if (data == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_grant_put(r->st, "cli", data, CLI_GRANT_TTL, code);
    free(data);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    snprintf(redirect, sizeof(redirect),
             "http://127.0.0.1:%lld/callback?code=%s&state=%s", port, code,
             state);
    OPENSSL_cleanse(code, sizeof(code));
    return reply(r, 201,
                 json_pack("{s:s, s:i}", "redirect", redirect, "expires_in",
                           CLI_GRANT_TTL));
}

/* Whether BASE64URL(SHA256(verifier)) is challenge (RFC 7636 4.6). */
static bool
pkce_ok(const char *verifier, const char *challenge)
{
    unsigned char md[32];
    unsigned n = 0;
    char *enc = NULL;
    bool ok;

    if (!url_safe(verifier, 43, 128) ||
        EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL) !=
            1 ||
        pat__b64url_encode(md, n, &enc) != PAT_OK)
        return false;
    ok = strlen(enc) == strlen(challenge) &&
         CRYPTO_memcmp(enc, challenge, strlen(enc)) == 0;
    free(enc);
    return ok;
}

int
h_cli_token(struct req *r)
{
    static const char *const fields[] = {"code", "code_verifier", NULL};
    char data[PAT_GRANT_MAX + 1], secret[PAT_TOKEN_MAX + 1];
    const char *code, *verifier, *uid, *scopes, *name, *challenge;
    struct pat_actor who;
    struct pat_token_spec spec;
    struct pat_token t;
    json_t *g, *o;
    int rc;

    if (body_fields(r, fields) || body_string(r, "code", true, &code) ||
        body_string(r, "code_verifier", true, &verifier))
        return r->status;
    rc = pat_grant_take(r->st, "cli", code, strlen(code), data, sizeof(data));
    if (rc == PAT_ENOTFOUND)
        return reply_error(r, 400, "invalid_request",
                           "the code is unknown, used or expired");
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    g = json_loads(data, 0, NULL);
    uid = json_string_value(json_object_get(g, "user_id"));
    scopes = json_string_value(json_object_get(g, "scopes"));
    name = json_string_value(json_object_get(g, "name"));
    challenge = json_string_value(json_object_get(g, "challenge"));
    if (uid == NULL || scopes == NULL || name == NULL || challenge == NULL) {
        json_decref(g);
        return reply_error(r, 500, "internal_error", "unreadable grant");
    }
    /* The code is spent either way: a wrong verifier gets no retry. */
    if (!pkce_ok(verifier, challenge)) {
        json_decref(g);
        return reply_error(r, 400, "invalid_request",
                           "code_verifier does not match the code");
    }
    memset(&who, 0, sizeof(who));
    who.user_id = uid;
    who.ip = r->ip;
    who.user_agent = r->user_agent;
    memset(&spec, 0, sizeof(spec));
    spec.user_id = uid;
    spec.name = name;
    spec.description = "created by patctl login --web";
    spec.scopes = scopes;
    spec.expiry.days = (int)json_integer_value(json_object_get(g, "days"));
    rc = pat_token_create(r->st, &who, &spec, &t, secret, sizeof(secret));
    json_decref(g);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    o = render_token(&t, pat_store_now(r->st));
    if (o != NULL)
        json_object_set_new(o, "token", json_string(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    return reply(r, 201, o);
}
