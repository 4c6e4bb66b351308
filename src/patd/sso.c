/* SPDX-License-Identifier: MIT */
/*
 * The OpenID Connect relying party (see sso.h). The provider's discovery
 * document and JWKS are fetched with libcurl (no redirects followed,
 * bounded size and time) and cached for the process; an ID token whose
 * kid the cached JWKS lacks makes one refetch, at most every
 * SSO_JWKS_MIN_REFRESH seconds, so that a provider's key rotation is
 * followed and a stream of forged kids costs the provider nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "jose.h"
#include "serve_config.h"
#include "hygiene.h"
#include "sso.h"
#include "banned.h"

#define FETCH_MAX     (256 * 1024)
#define FETCH_TIMEOUT 10L
#define SECRET_MAX    512

static struct {
    pthread_mutex_t lock;
    const struct patd_config *cfg;
    char secret[SECRET_MAX + 1];
    char redirect_uri[600];
    /* The cache, under lock. */
    json_t *disc; /* the discovery document */
    json_t *jwks;
    time_t jwks_at;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool
sso_enabled(void)
{
    return S.cfg != NULL && S.cfg->sso_issuer[0] != '\0';
}

int
sso_init(const struct patd_config *c, char *err, size_t errlen)
{
    const char *env = getenv("PATD_SSO_CLIENT_SECRET");

    S.cfg = c;
    if (c->sso_issuer[0] == '\0')
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot start libcurl");
        return -1;
    }
    if (c->sso_client_id[0] == '\0') {
        snprintf(err, errlen, "[sso] issuer is set but client_id is not");
        return -1;
    }
    if (c->public_url[0] == '\0') {
        snprintf(err, errlen,
                 "[sso] needs [server] public_url (the callback "
                 "is public_url/v1/sso/callback)");
        return -1;
    }
    snprintf(S.redirect_uri, sizeof(S.redirect_uri), "%s/v1/sso/callback",
             c->public_url);
    if (c->sso_client_secret_file[0] != '\0') {
        if (hygiene_read_secret_line(c->sso_client_secret_file, S.secret,
                                     sizeof(S.secret)) != 0) {
            snprintf(err, errlen, "cannot open '%s'",
                     c->sso_client_secret_file);
            return -1;
        }
    } else if (env != NULL) {
        snprintf(S.secret, sizeof(S.secret), "%s", env);
    }
    return 0;
}

void
sso_release(void)
{
    pthread_mutex_lock(&S.lock);
    json_decref(S.disc);
    json_decref(S.jwks);
    S.disc = S.jwks = NULL;
    pthread_mutex_unlock(&S.lock);
    OPENSSL_cleanse(S.secret, sizeof(S.secret));
}

int
sso_random(char *out, size_t len)
{
    unsigned char raw[96];
    size_t n = (len * 3) / 4 + 3;
    char buf[140];

    if (n > sizeof(raw) || sodium_init() < 0)
        return -1;
    randombytes_buf(raw, n);
    sodium_bin2base64(buf, sizeof(buf), raw, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    OPENSSL_cleanse(raw, sizeof(raw));
    memcpy(out, buf, len);
    out[len] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

/* A growing response body, capped at FETCH_MAX. */
struct body {
    char *p;
    size_t len;
    bool over;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;
    char *q;

    if (b->len + add > FETCH_MAX) {
        b->over = true;
        return 0;
    }
    q = realloc(b->p, b->len + add + 1);
    if (q == NULL)
        return 0;
    memcpy(q + b->len, p, add);
    b->p = q;
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

/*
 * GETs url, or POSTs form when it is not NULL, with an optional
 * Authorization header; *out is the JSON object of a 200 answer. On a
 * non-200 answer *status has the code and *out the body if it is JSON.
 * SSO_PROVIDER_DOWN when nothing usable came back.
 */
static enum sso_fail
fetch(const char *url, const char *form, const char *authz, json_t **out,
      long *status)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    struct body b = {NULL, 0, false};
    enum sso_fail f = SSO_PROVIDER_DOWN;
    CURLcode cc;

    *out = NULL;
    *status = 0;
    if (c == NULL)
        return SSO_INTERNAL;
    hl = curl_slist_append(hl, "Accept: application/json");
    if (authz != NULL)
        hl = curl_slist_append(hl, authz);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, FETCH_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "patd/" PATD_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (form != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK && !b.over && b.p != NULL) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        *out = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, NULL);
        if (*out != NULL && !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
        }
        if (*out != NULL)
            f = SSO_OK;
    }
    if (b.p != NULL)
        OPENSSL_cleanse(b.p, b.len);
    free(b.p);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return f;
}

static const char *
disc_str(const char *key)
{
    json_t *v = json_object_get(S.disc, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Discovery and the JWKS, under S.lock. */
static enum sso_fail
discover_locked(void)
{
    char url[700];
    json_t *d = NULL;
    long status;
    enum sso_fail f;
    const char *iss;
    size_t n = strlen(S.cfg->sso_issuer);

    if (S.disc != NULL)
        return SSO_OK;
    /* Appended to the issuer, trailing slash or not (Discovery 4). */
    snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
             (int)(n > 0 && S.cfg->sso_issuer[n - 1] == '/' ? n - 1 : n),
             S.cfg->sso_issuer);
    f = fetch(url, NULL, NULL, &d, &status);
    if (f != SSO_OK || status != 200) {
        json_decref(d);
        return SSO_PROVIDER_DOWN;
    }
    iss = json_string_value(json_object_get(d, "issuer"));
    if (iss == NULL || strcmp(iss, S.cfg->sso_issuer) != 0 ||
        !json_is_string(json_object_get(d, "authorization_endpoint")) ||
        !json_is_string(json_object_get(d, "token_endpoint")) ||
        !json_is_string(json_object_get(d, "jwks_uri"))) {
        fprintf(stderr,
                "patd: sso: the discovery document of '%s' is not "
                "usable (issuer must match exactly)\n",
                S.cfg->sso_issuer);
        json_decref(d);
        return SSO_ISSUER;
    }
    S.disc = d;
    return SSO_OK;
}

static enum sso_fail
jwks_fetch_locked(void)
{
    json_t *k = NULL;
    long status;
    enum sso_fail f = fetch(disc_str("jwks_uri"), NULL, NULL, &k, &status);

    S.jwks_at = time(NULL);
    if (f != SSO_OK || status != 200 ||
        !json_is_array(json_object_get(k, "keys"))) {
        json_decref(k);
        return SSO_PROVIDER_DOWN;
    }
    json_decref(S.jwks);
    S.jwks = k;
    return SSO_OK;
}

/*
 * The cached JWKS (a new reference), fetched when there is none or, with
 * refresh, when the last fetch is older than SSO_JWKS_MIN_REFRESH.
 */
static enum sso_fail
jwks_get(bool refresh, json_t **out)
{
    enum sso_fail f = SSO_OK;

    *out = NULL;
    pthread_mutex_lock(&S.lock);
    f = discover_locked();
    if (f == SSO_OK &&
        (S.jwks == NULL ||
         (refresh && time(NULL) - S.jwks_at >= SSO_JWKS_MIN_REFRESH)))
        f = jwks_fetch_locked();
    if (f == SSO_OK && S.jwks != NULL)
        *out = json_incref(S.jwks);
    pthread_mutex_unlock(&S.lock);
    return *out != NULL ? SSO_OK : f ? f : SSO_PROVIDER_DOWN;
}

/* Copies a discovery field out under the lock. */
static enum sso_fail
disc_copy(const char *key, char *out, size_t cap)
{
    enum sso_fail f;
    const char *v;

    pthread_mutex_lock(&S.lock);
    f = discover_locked();
    v = f == SSO_OK ? disc_str(key) : NULL;
    if (f == SSO_OK)
        snprintf(out, cap, "%s", v ? v : "");
    pthread_mutex_unlock(&S.lock);
    return f;
}

/* BASE64URL(SHA256(verifier)) into out[64] (RFC 7636 4.2). */
static int
pkce_challenge(const char *verifier, char *out, size_t cap)
{
    unsigned char md[32];
    unsigned n = 0;
    char *enc = NULL;

    if (EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL) !=
            1 ||
        pat__b64url_encode(md, n, &enc) != PAT_OK)
        return -1;
    snprintf(out, cap, "%s", enc);
    free(enc);
    return 0;
}

/* Appends "&key=escaped(value)" to out[cap] at *w. */
static bool
add_param(CURL *c, char *out, size_t cap, size_t *w, const char *key,
          const char *value)
{
    char *e = curl_easy_escape(c, value, 0);
    int n;

    if (e == NULL)
        return false;
    n = snprintf(out + *w, cap - *w, "%s%s=%s", *w ? "&" : "", key, e);
    curl_free(e);
    if (n < 0 || (size_t)n >= cap - *w)
        return false;
    *w += (size_t)n;
    return true;
}

enum sso_fail
sso_authorize_url(const char *state, const char *nonce, const char *verifier,
                  char *out, size_t cap)
{
    char endpoint[1024], challenge[64], scope[640], q[3000];
    size_t w = 0;
    CURL *c;
    bool ok;
    enum sso_fail f;

    if (!sso_enabled())
        return SSO_NOT_CONFIGURED;
    f = disc_copy("authorization_endpoint", endpoint, sizeof(endpoint));
    if (f != SSO_OK)
        return f;
    if (pkce_challenge(verifier, challenge, sizeof(challenge)) != 0)
        return SSO_INTERNAL;
    snprintf(scope, sizeof(scope), "openid profile email%s%s",
             S.cfg->sso_scopes[0] ? " " : "", S.cfg->sso_scopes);
    c = curl_easy_init();
    if (c == NULL)
        return SSO_INTERNAL;
    ok = add_param(c, q, sizeof(q), &w, "response_type", "code") &&
         add_param(c, q, sizeof(q), &w, "client_id", S.cfg->sso_client_id) &&
         add_param(c, q, sizeof(q), &w, "redirect_uri", S.redirect_uri) &&
         add_param(c, q, sizeof(q), &w, "scope", scope) &&
         add_param(c, q, sizeof(q), &w, "state", state) &&
         add_param(c, q, sizeof(q), &w, "nonce", nonce) &&
         add_param(c, q, sizeof(q), &w, "code_challenge", challenge) &&
         add_param(c, q, sizeof(q), &w, "code_challenge_method", "S256");
    curl_easy_cleanup(c);
    if (!ok || snprintf(out, cap, "%s%c%s", endpoint,
                        strchr(endpoint, '?') ? '&' : '?', q) >= (int)cap)
        return SSO_INTERNAL;
    return SSO_OK;
}

/* The code exchange: the token endpoint's answer into *tok. */
static enum sso_fail
exchange(const char *code, const char *verifier, json_t **tok, char *detail,
         size_t cap)
{
    char endpoint[1024], form[4096], authz[1200];
    size_t w = 0;
    long status = 0;
    CURL *c;
    bool ok;
    enum sso_fail f;

    *tok = NULL;
    f = disc_copy("token_endpoint", endpoint, sizeof(endpoint));
    if (f != SSO_OK)
        return f;
    c = curl_easy_init();
    if (c == NULL)
        return SSO_INTERNAL;
    ok = add_param(c, form, sizeof(form), &w, "grant_type",
                   "authorization_code") &&
         add_param(c, form, sizeof(form), &w, "code", code) &&
         add_param(c, form, sizeof(form), &w, "redirect_uri", S.redirect_uri) &&
         add_param(c, form, sizeof(form), &w, "code_verifier", verifier);
    authz[0] = '\0';
    if (ok && S.secret[0] != '\0') {
        /* client_secret_basic: both parts form-encoded (RFC 6749 2.3.1). */
        char *id = curl_easy_escape(c, S.cfg->sso_client_id, 0);
        char *sec = curl_easy_escape(c, S.secret, 0);
        char pair[1100], *b64 = NULL;
        int n =
            snprintf(pair, sizeof(pair), "%s:%s", id ? id : "", sec ? sec : "");

        if (sec != NULL)
            OPENSSL_cleanse(sec, strlen(sec));
        curl_free(id);
        curl_free(sec);
        if (n > 0 && (size_t)n < sizeof(pair)) {
            size_t blen = sodium_base64_ENCODED_LEN(
                (size_t)n, sodium_base64_VARIANT_ORIGINAL);
            b64 = malloc(blen);
            if (b64 != NULL) {
                sodium_bin2base64(b64, blen, (unsigned char *)pair, (size_t)n,
                                  sodium_base64_VARIANT_ORIGINAL);
                snprintf(authz, sizeof(authz), "Authorization: Basic %s", b64);
                OPENSSL_cleanse(b64, blen);
                free(b64);
            }
        }
        OPENSSL_cleanse(pair, sizeof(pair));
        ok = authz[0] != '\0';
    } else if (ok) {
        ok = add_param(c, form, sizeof(form), &w, "client_id",
                       S.cfg->sso_client_id);
    }
    curl_easy_cleanup(c);
    if (!ok)
        return SSO_INTERNAL;
    f = fetch(endpoint, form, authz[0] ? authz : NULL, tok, &status);
    OPENSSL_cleanse(form, sizeof(form));
    OPENSSL_cleanse(authz, sizeof(authz));
    if (f != SSO_OK)
        return f;
    if (status != 200) {
        json_t *e = json_object_get(*tok, "error");
        snprintf(detail, cap, "token endpoint answered %ld %s", status,
                 json_is_string(e) ? json_string_value(e) : "");
        json_decref(*tok);
        *tok = NULL;
        return SSO_TOKEN_ENDPOINT;
    }
    if (!json_is_string(json_object_get(*tok, "id_token"))) {
        snprintf(detail, cap, "no id_token in the token response");
        json_decref(*tok);
        *tok = NULL;
        return SSO_TOKEN_ENDPOINT;
    }
    return SSO_OK;
}

/* Verifies the ID token's signature, following a key rotation once. */
static enum sso_fail
verify_signature(const char *idt, struct pat__jws *jws, char *detail,
                 size_t cap)
{
    json_t *jwks = NULL;
    enum sso_fail f = jwks_get(false, &jwks);
    int rc;

    if (f != SSO_OK)
        return f;
    rc = pat__jws_verify_jwks(idt, strlen(idt), jwks, PAT__JOSE_ALL, jws);
    json_decref(jwks);
    if (rc == PAT_ENOTFOUND) {
        /* An unknown kid: the provider may have rotated its keys. */
        f = jwks_get(true, &jwks);
        if (f != SSO_OK)
            return f;
        rc = pat__jws_verify_jwks(idt, strlen(idt), jwks, PAT__JOSE_ALL, jws);
        json_decref(jwks);
    }
    if (rc != PAT_OK) {
        snprintf(detail, cap, "ID token signature: %s", pat_strerror(rc));
        return SSO_BAD_SIGNATURE;
    }
    return SSO_OK;
}

static const char *
claim_str(const json_t *claims, const char *key)
{
    json_t *v = json_object_get(claims, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The claim checks of OIDC Core 3.1.3.7 beyond the signature. */
static enum sso_fail
check_claims(const json_t *c, const char *nonce, char *detail, size_t cap)
{
    const json_t *aud = json_object_get(c, "aud"), *iat;
    const char *azp = claim_str(c, "azp"), *n = claim_str(c, "nonce");
    int64_t now = (int64_t)time(NULL);
    int rc = pat__jwt_check(c, S.cfg->sso_issuer, S.cfg->sso_client_id, now,
                            SSO_LEEWAY, detail, cap);
    size_t i;
    json_t *a;

    if (rc == PAT_EUNKNOWN)
        return SSO_ISSUER;
    if (rc == PAT_EAUDIENCE)
        return SSO_AUDIENCE;
    if (rc == PAT_EEXPIRED)
        return SSO_EXPIRED;
    if (rc != PAT_OK)
        return SSO_CLAIMS;
    /* Every audience must be us: no token meant for another client too. */
    json_array_foreach(aud, i, a)
    {
        if (!json_is_string(a) ||
            strcmp(json_string_value(a), S.cfg->sso_client_id) != 0) {
            snprintf(detail, cap, "the ID token is also for other audiences");
            return SSO_AUDIENCE;
        }
    }
    if (azp != NULL && strcmp(azp, S.cfg->sso_client_id) != 0) {
        snprintf(detail, cap, "azp is not this client");
        return SSO_AUDIENCE;
    }
    iat = json_object_get(c, "iat");
    if (!json_is_integer(iat) || json_integer_value(iat) > now + SSO_LEEWAY ||
        json_integer_value(iat) < now - SSO_IAT_MAX_AGE - SSO_LEEWAY) {
        snprintf(detail, cap, "iat missing, in the future or too old");
        return SSO_EXPIRED;
    }
    if (n == NULL || strlen(n) != strlen(nonce) ||
        CRYPTO_memcmp(n, nonce, strlen(nonce)) != 0) {
        snprintf(detail, cap, "the nonce does not match");
        return SSO_NONCE;
    }
    if (claim_str(c, "sub") == NULL || claim_str(c, "sub")[0] == '\0') {
        snprintf(detail, cap, "no sub claim");
        return SSO_CLAIMS;
    }
    return SSO_OK;
}

/* Userinfo (OIDC Core 5.3): merged over the ID token's claims. */
static enum sso_fail
userinfo(json_t *claims, const char *access_token, char *detail, size_t cap)
{
    char endpoint[1024], authz[4200];
    json_t *u = NULL;
    long status = 0;
    enum sso_fail f =
        disc_copy("userinfo_endpoint", endpoint, sizeof(endpoint));

    if (f != SSO_OK)
        return f;
    if (endpoint[0] == '\0' || access_token == NULL) {
        snprintf(detail, cap, "userinfo is configured but not offered");
        return SSO_PROVIDER_DOWN;
    }
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", access_token);
    f = fetch(endpoint, NULL, authz, &u, &status);
    OPENSSL_cleanse(authz, sizeof(authz));
    if (f != SSO_OK || status != 200) {
        json_decref(u);
        snprintf(detail, cap, "userinfo answered %ld", status);
        return SSO_PROVIDER_DOWN;
    }
    /* The sub must be the ID token's (OIDC Core 5.3.2). */
    if (claim_str(u, "sub") == NULL ||
        strcmp(claim_str(u, "sub"), claim_str(claims, "sub")) != 0) {
        json_decref(u);
        snprintf(detail, cap, "userinfo sub differs from the ID token's");
        return SSO_CLAIMS;
    }
    json_object_update(claims, u);
    json_decref(u);
    return SSO_OK;
}

/* Whether group is in the claim (an array of strings or one string). */
static bool
in_groups(const json_t *groups, const char *group)
{
    size_t i;
    json_t *g;

    if (json_is_string(groups))
        return strcmp(json_string_value(groups), group) == 0;
    json_array_foreach(groups, i, g)
    {
        if (json_is_string(g) && strcmp(json_string_value(g), group) == 0)
            return true;
    }
    return false;
}

/* Appends the words of list to scopes[cap] (normalised by libpat later). */
static void
add_words(char *scopes, size_t cap, const char *list, size_t len)
{
    size_t used = strlen(scopes);

    snprintf(scopes + used, cap - used, " %.*s", (int)len, list);
}

/*
 * Applies [sso] map ("group = scope ..." a line, or separated by ';')
 * and admin_group to groups.
 */
static void
apply_map(const json_t *groups, struct sso_identity *id)
{
    const char *p = S.cfg->sso_map;

    snprintf(id->scopes, sizeof(id->scopes), "patd:self");
    id->role = PAT_ROLE_USER;
    while (*p != '\0') {
        size_t len = strcspn(p, "\n;"), glen;
        const char *eq = memchr(p, '=', len);
        char group[256];

        if (eq != NULL) {
            const char *g = p, *ge = eq;
            while (g < ge && (*g == ' ' || *g == '\t'))
                g++;
            while (ge > g && (ge[-1] == ' ' || ge[-1] == '\t'))
                ge--;
            glen = (size_t)(ge - g);
            if (glen < sizeof(group)) {
                memcpy(group, g, glen);
                group[glen] = '\0';
                if (in_groups(groups, group))
                    add_words(id->scopes, sizeof(id->scopes), eq + 1,
                              (size_t)(p + len - eq - 1));
            }
        }
        p += len;
        if (*p != '\0')
            p++;
    }
    /* Words are normalised (sorted, unique, checked) by libpat. */
    for (char *q = id->scopes; *q; q++)
        if (*q == '\t' || *q == '\r')
            *q = ' ';
    if (S.cfg->sso_admin_group[0] != '\0' &&
        in_groups(groups, S.cfg->sso_admin_group))
        id->role = PAT_ROLE_ADMIN;
}

/* Fills id from the checked claims. */
static enum sso_fail
identity(const json_t *c, struct sso_identity *id, char *detail, size_t cap)
{
    const char *uname = claim_str(c, S.cfg->sso_username_claim);
    const char *name = claim_str(c, "name"), *email = claim_str(c, "email");
    const json_t *groups = json_object_get(c, S.cfg->sso_groups_claim);
    char *gtext;

    memset(id, 0, sizeof(id[0]));
    if (snprintf(id->subject, sizeof(id->subject), "%s %s", S.cfg->sso_issuer,
                 claim_str(c, "sub")) >= (int)sizeof(id->subject)) {
        snprintf(detail, cap, "the subject is too long");
        return SSO_CLAIMS;
    }
    if (uname == NULL || pat_username_derive(uname, id->username) != PAT_OK) {
        snprintf(detail, cap, "the '%s' claim is missing or unusable",
                 S.cfg->sso_username_claim);
        return SSO_CLAIMS;
    }
    snprintf(id->display_name, sizeof(id->display_name), "%s",
             name ? name : "");
    if (email != NULL && strlen(email) <= PAT_EMAIL_MAX)
        snprintf(id->email, sizeof(id->email), "%s", email);
    apply_map(groups, id);
    gtext = groups ? json_dumps(groups, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(id->groups, sizeof(id->groups), "%s", gtext ? gtext : "[]");
    free(gtext);
    return SSO_OK;
}

enum sso_fail
sso_finish(const char *code, const char *verifier, const char *nonce,
           struct sso_identity *id, char *detail, size_t cap)
{
    struct pat__jws jws;
    json_t *tok = NULL, *claims = NULL;
    enum sso_fail f;

    pat__jws_init(&jws);
    detail[0] = '\0';
    if (!sso_enabled())
        return SSO_NOT_CONFIGURED;
    f = exchange(code, verifier, &tok, detail, cap);
    if (f == SSO_OK)
        f = verify_signature(claim_str(tok, "id_token"), &jws, detail, cap);
    if (f == SSO_OK) {
        claims = json_deep_copy(jws.payload);
        f = claims ? check_claims(claims, nonce, detail, cap) : SSO_INTERNAL;
    }
    if (f == SSO_OK && S.cfg->sso_userinfo)
        f = userinfo(claims, claim_str(tok, "access_token"), detail, cap);
    if (f == SSO_OK)
        f = identity(claims, id, detail, cap);
    pat__jws_release(&jws);
    json_decref(claims);
    json_decref(tok);
    return f;
}

static const struct {
    const char *reason, *text;
} fails[] = {
    [SSO_OK] = {"ok", "Signed in."},
    [SSO_NOT_CONFIGURED] = {"not_configured",
                            "Single sign-on is not configured on this server."},
    [SSO_PROVIDER_ERROR] = {"provider_error",
                            "The identity provider refused the sign-in."},
    [SSO_STATE] = {"state_mismatch",
                   "This sign-in was not started in this browser. Start it "
                   "again from the sign-in page."},
    [SSO_UNKNOWN_STATE] = {"unknown_state",
                           "This sign-in has expired or was already used. "
                           "Start it again from the sign-in page."},
    [SSO_PROVIDER_DOWN] = {"provider_unreachable",
                           "The identity provider cannot be reached. Try "
                           "again later."},
    [SSO_TOKEN_ENDPOINT] = {"code_refused",
                            "The identity provider did not accept the "
                            "sign-in code."},
    [SSO_BAD_SIGNATURE] = {"bad_signature",
                           "The identity provider's answer is not signed "
                           "with its keys."},
    [SSO_ISSUER] = {"wrong_issuer",
                    "The identity provider's answer names another issuer."},
    [SSO_AUDIENCE] = {"wrong_audience",
                      "The identity provider's answer is meant for another "
                      "application."},
    [SSO_EXPIRED] = {"expired",
                     "The identity provider's answer has expired. Check the "
                     "clocks, then sign in again."},
    [SSO_NONCE] = {"nonce_mismatch",
                   "The identity provider's answer does not belong to this "
                   "sign-in."},
    [SSO_CLAIMS] = {"claims",
                    "The identity provider did not say who you are in a way "
                    "patd can use."},
    [SSO_USER_DISABLED] = {"user_disabled",
                           "Your account is disabled. Ask an administrator."},
    [SSO_USERNAME_TAKEN] = {"username_taken",
                            "A local account already has your username. Ask "
                            "an administrator."},
    [SSO_MAPPING] = {"mapping",
                     "Your groups map to scopes this server does not have. "
                     "Ask an administrator."},
    [SSO_INTERNAL] = {"internal", "Something went wrong on this server."},
};

const char *
sso_fail_text(enum sso_fail f)
{
    return fails[f].text;
}

const char *
sso_fail_reason(enum sso_fail f)
{
    return fails[f].reason;
}

bool
sso_fail_upstream(enum sso_fail f)
{
    return f == SSO_PROVIDER_DOWN;
}
