/* SPDX-License-Identifier: MIT */
/*
 * Verifying patd's own JWTs at /v1/auth and introspection, through the
 * verifier's cache (lib/verifier.c does the same for PATs). A JWT's
 * answer is cached under the SHA-256 of its whole text, so the signature
 * and the claims are checked once per JWT (the cache hit is the same
 * lookup as a PAT's); the answer names the JWT's PAT and owner, so the
 * stale marks the change feed sets for a revoked, regenerated or expired
 * PAT or a disabled user make it a miss on every node within the feed's
 * bound, and the miss reads the JWT's status from the store again
 * (Q_EXCHANGE_STATUS): a killed JWT is refused like its PAT.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "jose.h"
#include "verifier_int.h"
#include "exchange_int.h"
#include "store/store_int.h"

static atomic_uint_fast64_t st_ok, st_badsig, st_badclaims, st_killed,
    st_expired, st_hits, st_misses;

void
pat_jwt_stats(struct pat_jwt_stats *out)
{
    out->ok = atomic_load(&st_ok);
    out->bad_signature = atomic_load(&st_badsig);
    out->bad_claims = atomic_load(&st_badclaims);
    out->killed = atomic_load(&st_killed);
    out->expired = atomic_load(&st_expired);
    out->hits = atomic_load(&st_hits);
    out->misses = atomic_load(&st_misses);
}

bool
pat_looks_like_jwt(const char *text, size_t len)
{
    size_t i, dots = 0;

    if (text == NULL || len < 5 || len > PAT__JWS_MAX)
        return false;
    /* A JWS header is a JSON object: its base64url starts "ey". */
    if (text[0] != 'e' || text[1] != 'y')
        return false;
    for (i = 0; i < len; i++) {
        char c = text[i];

        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return dots == 2;
}

/* Space-separated items of a string or array claim into buf. */
static bool
join_claim(const json_t *v, char *buf, size_t cap)
{
    const json_t *e;
    size_t i, w = 0;

    buf[0] = '\0';
    if (v == NULL)
        return true;
    if (json_is_string(v))
        return (size_t)snprintf(buf, cap, "%s", json_string_value(v)) < cap;
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, e)
    {
        int n;

        if (!json_is_string(e))
            return false;
        n = snprintf(buf + w, cap - w, "%s%s", w ? " " : "",
                     json_string_value(e));
        if (n < 0 || (size_t)n >= cap - w)
            return false;
        w += (size_t)n;
    }
    return true;
}

static const char *
claim_str(const json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

/*
 * Signature and claims. 0 (with out's JWT fields set, *jti filled), or
 * PAT_EUNKNOWN (forged, another issuer, not an access token),
 * PAT_EEXPIRED, PAT_EMALFORMED.
 */
static int
check_jws(const struct pat_jwt_rules *rules, const char *text, size_t len,
          int64_t now, struct pat_verdict *out, char *jti, size_t jticap,
          bool *cacheable)
{
    struct pat__jws jws;
    EVP_PKEY *key = NULL;
    const char *typ, *sub, *cid, *j;
    int alg = 0, allowed, rc;

    *cacheable = true;
    rc = pat__jws_parse(text, len, &jws);
    if (rc != PAT_OK) {
        atomic_fetch_add(&st_badsig, 1);
        return PAT_EUNKNOWN;
    }
    allowed = rules->allowed_algs ? rules->allowed_algs
                                  : pat__keyring_algs(rules->keys);
    key = pat__keyring_find(rules->keys, jws.kid, now, &alg);
    if (key == NULL) {
        /* Perhaps a key this node has not loaded yet: do not remember. */
        *cacheable = false;
        rc = PAT_EUNKNOWN;
        atomic_fetch_add(&st_badsig, 1);
        goto out;
    }
    rc = pat__jws_verify(&jws, key, allowed);
    if (rc != PAT_OK) {
        rc = pat_err_class(rc) == PAT_CLASS_TRANSIENT ? rc : PAT_EUNKNOWN;
        atomic_fetch_add(&st_badsig, 1);
        goto out;
    }
    /* RFC 9068 section 4: an access token says so in typ. */
    typ = json_string_value(json_object_get(jws.header, "typ"));
    rc = pat__jwt_check(jws.payload, rules->issuer, NULL, now, 0, NULL, 0);
    if (rc == PAT_EEXPIRED) {
        atomic_fetch_add(&st_expired, 1);
        goto out;
    }
    sub = claim_str(jws.payload, "sub");
    cid = claim_str(jws.payload, "client_id");
    j = claim_str(jws.payload, "jti");
    if (rc != PAT_OK || typ == NULL ||
        (strcmp(typ, "at+jwt") != 0 &&
         strcmp(typ, "application/at+jwt") != 0) ||
        sub == NULL || cid == NULL || j == NULL || strlen(j) >= jticap ||
        strlen(sub) > PAT_ID_LEN || strlen(cid) > PAT_ID_LEN ||
        !json_is_integer(json_object_get(jws.payload, "exp")) ||
        !join_claim(json_object_get(jws.payload, "scope"), out->scopes,
                    sizeof(out->scopes)) ||
        !join_claim(json_object_get(jws.payload, "aud"), out->audiences,
                    sizeof(out->audiences))) {
        atomic_fetch_add(&st_badclaims, 1);
        rc = PAT_EUNKNOWN;
        goto out;
    }
    /* The default audience (the issuer itself) restricts nothing. */
    if (strcmp(out->audiences, rules->issuer) == 0)
        out->audiences[0] = '\0';
    snprintf(out->user_id, sizeof(out->user_id), "%s", sub);
    snprintf(out->token_id, sizeof(out->token_id), "%s", cid);
    snprintf(jti, jticap, "%s", j);
    out->expires_at =
        (int64_t)json_integer_value(json_object_get(jws.payload, "exp"));
    out->created_at =
        (int64_t)json_integer_value(json_object_get(jws.payload, "iat"));
    rc = PAT_OK;
out:
    EVP_PKEY_free(key);
    pat__jws_release(&jws);
    return rc;
}

/* The status of the JWT jti, read from the store; completes out. */
static int
check_status(struct pat_verifier *v, const char *jti, int64_t now,
             struct pat_verdict *out)
{
    struct pat__exchange_status es;
    struct pat_store *st;
    int rc;

    st = pat__verifier_pool_get(v);
    if (st == NULL)
        return PAT_EUNAVAIL;
    rc = pat__db_exchange_status(st, jti, now, &es);
    pat__verifier_pool_put(v, st);
    if (rc == PAT_ENOTFOUND)
        return PAT_EUNKNOWN;
    if (rc != PAT_OK)
        return pat_err_class(rc) == PAT_CLASS_TRANSIENT ? PAT_EUNAVAIL : rc;
    /* The record must be the one the signed claims name. */
    if (strcmp(es.token_id, out->token_id) != 0 ||
        strcmp(es.user_id, out->user_id) != 0)
        return PAT_EUNKNOWN;
    snprintf(out->username, sizeof(out->username), "%s", es.username);
    snprintf(out->allowed_cidrs, sizeof(out->allowed_cidrs), "%s",
             es.allowed_cidrs);
    if (!es.alive) {
        atomic_fetch_add(&st_killed, 1);
        return PAT_EREVOKED;
    }
    return PAT_OK;
}

static int
miss(struct pat_verifier *v, const struct pat_jwt_rules *rules,
     const char *text, size_t len, const uint8_t *hash, uint64_t gen,
     uint64_t epoch, int64_t now, struct pat_verdict *out)
{
    char jti[PAT_JTI_MAX + 1];
    bool cacheable = true;
    int rc;

    atomic_fetch_add(&st_misses, 1);
    rc = check_jws(rules, text, len, now, out, jti, sizeof(jti), &cacheable);
    if (rc == PAT_OK)
        rc = check_status(v, jti, now, out);
    if (rc == PAT_EUNAVAIL || pat_err_class(rc) == PAT_CLASS_TRANSIENT) {
        atomic_fetch_add(&v->store_errors, 1);
        return rc;
    }
    if (cacheable && rc != PAT_EEXPIRED)
        (void)pat__cache_put(v->cache, hash, gen, epoch, now, rc, out);
    return rc;
}

int
pat_verifier_check_jwt(struct pat_verifier *v,
                       const struct pat_jwt_rules *rules, const char *text,
                       size_t len, const struct pat_check *c,
                       struct pat_verdict *out)
{
    uint8_t hash[PAT_HASH_LEN];
    uint64_t gen, epoch;
    int64_t now;
    int rc;

    memset(out, 0, sizeof(*out));
    if (rules == NULL || rules->keys == NULL || !pat_looks_like_jwt(text, len))
        return PAT_EMALFORMED;
    if (pat_token_hash(text, len, hash) != PAT_OK)
        return PAT_ECRYPTO;
    now = (int64_t)time(NULL);
    rc = pat__verifier_cached(v, hash, now, out, &gen, &epoch);
    if (rc == PAT_ENOTFOUND) {
        if (c != NULL && c->cache_only)
            return PAT_ELIMIT;
        memset(out, 0, sizeof(*out));
        rc = miss(v, rules, text, len, hash, gen, epoch, now, out);
    } else {
        atomic_fetch_add(&st_hits, 1);
    }
    if (rc == PAT_OK && now >= out->expires_at) {
        atomic_fetch_add(&st_expired, 1);
        rc = PAT_EEXPIRED;
    }
    if (rc != PAT_OK)
        return rc;
    rc = pat__verdict_demands(out, c);
    if (rc == PAT_OK)
        atomic_fetch_add(&st_ok, 1);
    return rc;
}
