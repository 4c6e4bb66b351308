/* SPDX-License-Identifier: MIT */
/*
 * JWT signing keys (DESIGN.md section 10): generated here, stored with
 * the private part sealed under the key-encryption key (AES-256-GCM,
 * the kid as additional data, so a sealed blob cannot be moved to
 * another row), and loaded into the keyring every node signs and
 * verifies with. When a key signs and how long it is published is
 * decided from the stored times alone, so that every node agrees:
 *
 *   published  from created_at until stop + max_lifetime
 *   signs      from active_at until stop
 *   stop       retired_at, or the active_at of the next key to sign
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jose.h"
#include "exchange_int.h"
#include "internal.h"
#include "store/store_int.h"

#define NONCE_LEN 12
#define TAG_LEN   16
#define DER_MAX   2560 /* PKCS#8 of an RSA-2048 key is about 1,220 bytes */
#define KEYS_MAX  64

int
pat_kek_parse(const char *text, uint8_t kek[PAT_KEK_LEN])
{
    size_t len, bin_len = 0;
    const char *end = NULL;

    while (*text != '\0' && isspace((unsigned char)*text))
        text++;
    len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len != 2 * PAT_KEK_LEN ||
        sodium_hex2bin(kek, PAT_KEK_LEN, text, len, NULL, &bin_len, &end) !=
            0 ||
        bin_len != PAT_KEK_LEN) {
        OPENSSL_cleanse(kek, PAT_KEK_LEN);
        return PAT_EINVAL;
    }
    return PAT_OK;
}

int
pat_kek_load(const char *file, uint8_t kek[PAT_KEK_LEN], char *err,
             size_t errlen)
{
    const char *env = getenv("PATD_JWT_KEK");
    const char *path = getenv("PATD_JWT_KEK_FILE");
    char buf[256];
    size_t n;
    FILE *f;
    int rc;

    if (env != NULL && env[0] != '\0') {
        rc = pat_kek_parse(env, kek);
        if (rc != PAT_OK)
            pat__detail(err, errlen,
                        "PATD_JWT_KEK is not 64 hexadecimal digits");
        return rc;
    }
    if (path == NULL || path[0] == '\0')
        path = file;
    if (path == NULL || path[0] == '\0')
        return PAT_ENOTFOUND;
    f = fopen(path, "re");
    if (f == NULL) {
        pat__detail(err, errlen, "cannot read key-encryption key '%s': %s",
                    path, strerror(errno));
        return PAT_EINVAL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    rc = pat_kek_parse(buf, kek);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc != PAT_OK)
        pat__detail(err, errlen,
                    "key-encryption key '%s' is not 64 hexadecimal digits",
                    path);
    return rc;
}

/* AES-256-GCM of in under kek with aad; *out is base64url text. */
static int
seal(const uint8_t *kek, const char *aad, const unsigned char *in, size_t inlen,
     char *out, size_t cap)
{
    unsigned char buf[NONCE_LEN + DER_MAX + TAG_LEN];
    EVP_CIPHER_CTX *ctx = NULL;
    char *b64 = NULL;
    int len = 0, fin = 0, rc = PAT_ECRYPTO;

    if (inlen > DER_MAX)
        return PAT_EINVAL;
    if (RAND_bytes(buf, NONCE_LEN) != 1)
        return PAT_ERANDOM;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return PAT_ENOMEM;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, buf) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
                          (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &len, in, (int)inlen) != 1 ||
        EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                            buf + NONCE_LEN + len + fin) != 1)
        goto out;
    rc = pat__b64url_encode(buf, (size_t)(NONCE_LEN + len + fin + TAG_LEN),
                            &b64);
    if (rc != PAT_OK)
        goto out;
    rc = strlen(b64) < cap ? PAT_OK : PAT_ERANGE;
    if (rc == PAT_OK)
        memcpy(out, b64, strlen(b64) + 1);
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    free(b64);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* Opens a sealed private key; PAT_EFORBIDDEN when kek is not its KEK. */
static int
unseal(const uint8_t *kek, const char *aad, const char *sealed, EVP_PKEY **key)
{
    unsigned char *raw = NULL, plain[DER_MAX];
    const unsigned char *p = plain;
    EVP_CIPHER_CTX *ctx = NULL;
    size_t rawlen = 0;
    int len = 0, fin = 0, rc;

    *key = NULL;
    rc = pat__b64url_decode(sealed, strlen(sealed), &raw, &rawlen);
    if (rc != PAT_OK)
        return PAT_ESTORE;
    rc = PAT_ESTORE;
    if (rawlen < NONCE_LEN + TAG_LEN + 1 ||
        rawlen - NONCE_LEN - TAG_LEN > DER_MAX)
        goto out;
    rc = PAT_ENOMEM;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto out;
    rc = PAT_EFORBIDDEN;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, raw) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
                          (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(ctx, plain, &len, raw + NONCE_LEN,
                          (int)(rawlen - NONCE_LEN - TAG_LEN)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                            raw + rawlen - TAG_LEN) != 1 ||
        EVP_DecryptFinal_ex(ctx, plain + len, &fin) != 1)
        goto out;
    *key = d2i_AutoPrivateKey(NULL, &p, len + fin);
    rc = *key != NULL ? PAT_OK : PAT_ESTORE;
out:
    OPENSSL_cleanse(plain, sizeof(plain));
    free(raw);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int
pat_keys_list(struct pat_store *st, struct pat_signing_key *out, size_t cap,
              size_t *n)
{
    return pat__db_key_list(st, out, cap, n);
}

int
pat_keys_count(struct pat_store *st, size_t *n)
{
    struct pat_signing_key *rows = calloc(KEYS_MAX, sizeof(*rows));
    int rc;

    *n = 0;
    if (rows == NULL)
        return PAT_ENOMEM;
    rc = pat__db_key_list(st, rows, KEYS_MAX, n);
    free(rows);
    return rc;
}

/* A new kid: 12 random bytes, base64url (16 characters). */
static int
new_kid(char *kid, size_t cap)
{
    unsigned char raw[12];
    char *s = NULL;
    int rc;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return PAT_ERANDOM;
    rc = pat__b64url_encode(raw, sizeof(raw), &s);
    if (rc == PAT_OK)
        snprintf(kid, cap, "%s", s);
    free(s);
    return rc;
}

/* Fills k (kid, alg, public JWK, sealed private part) from a new key. */
static int
make_key(const uint8_t *kek, const char *alg, struct pat_signing_key *k)
{
    EVP_PKEY *key = NULL;
    unsigned char *der = NULL;
    json_t *jwk = NULL;
    char *text = NULL;
    int a, len, rc;

    a = pat__jose_alg_from_name(alg);
    if (a == 0)
        return PAT_EINVAL;
    rc = new_kid(k->kid, sizeof(k->kid));
    if (rc == PAT_OK)
        rc = pat__jose_keygen(a, &key);
    if (rc != PAT_OK)
        goto out;
    snprintf(k->alg, sizeof(k->alg), "%s", alg);
    rc = PAT_ENOMEM;
    jwk = pat__jwk_export(key, k->kid);
    text = jwk ? json_dumps(jwk, JSON_COMPACT) : NULL;
    if (text == NULL)
        goto out;
    rc = PAT_ERANGE;
    if (strlen(text) >= sizeof(k->public_jwk))
        goto out;
    memcpy(k->public_jwk, text, strlen(text) + 1);
    len = i2d_PrivateKey(key, &der);
    rc = PAT_ECRYPTO;
    if (len <= 0)
        goto out;
    rc = seal(kek, k->kid, der, (size_t)len, k->sealed, sizeof(k->sealed));
    OPENSSL_cleanse(der, (size_t)len);
out:
    OPENSSL_free(der);
    free(text);
    json_decref(jwk);
    EVP_PKEY_free(key);
    return rc;
}

int
pat_key_create(struct pat_store *st, const struct pat_actor *who,
               const uint8_t kek[PAT_KEK_LEN], const char *alg,
               int64_t active_at, struct pat_signing_key *out)
{
    struct pat_signing_key *k = calloc(1, sizeof(*k));
    char detail[128];
    int rc;

    if (k == NULL)
        return PAT_ENOMEM;
    rc = make_key(kek, alg, k);
    if (rc != PAT_OK)
        goto out;
    k->created_at = pat_store_now(st);
    k->active_at = active_at > k->created_at ? active_at : k->created_at;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__db_key_insert(st, k);
    pat__detail(detail, sizeof(detail),
                "{\"kid\":\"%s\",\"alg\":\"%s\",\"active_at\":%lld}", k->kid,
                k->alg, (long long)k->active_at);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "key.created", NULL, NULL, detail);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && out != NULL)
        *out = *k;
out:
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
    return rc;
}

int
pat_key_retire(struct pat_store *st, const struct pat_actor *who,
               const char *kid)
{
    struct pat_signing_key *rows = calloc(KEYS_MAX, sizeof(*rows));
    char detail[96];
    int64_t now = pat_store_now(st);
    size_t n = 0, i, others = 0;
    bool found = false;
    int rc;

    if (rows == NULL)
        return PAT_ENOMEM;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__db_key_list(st, rows, KEYS_MAX, &n);
    for (i = 0; rc == PAT_OK && i < n; i++) {
        if (rows[i].retired_at != 0)
            continue;
        if (strcmp(rows[i].kid, kid) == 0)
            found = true;
        else
            others++;
    }
    if (rc == PAT_OK && !found)
        rc = pat__fail(st, PAT_ENOTFOUND, "no live key '%s'", kid);
    /* Retiring the last key would leave nothing to sign with. */
    if (rc == PAT_OK && others == 0)
        rc = pat__fail(st, PAT_ECONFLICT, "'%s' is the only key: rotate first",
                       kid);
    if (rc == PAT_OK)
        rc = pat__db_key_retire(st, kid, now);
    pat__detail(detail, sizeof(detail), "{\"kid\":\"%s\"}", kid);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "key.retired", NULL, NULL, detail);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
out:
    OPENSSL_cleanse(rows, KEYS_MAX * sizeof(*rows));
    free(rows);
    return rc;
}

/* ---- the keyring ---- */

/*
 * One loaded key. pub and priv are references of their own; jwk is the
 * public JWK. stop is when it stops signing (0: not yet known).
 */
struct ring_key {
    char kid[PAT_KID_MAX + 1];
    int alg;
    EVP_PKEY *pub;
    EVP_PKEY *priv;
    json_t *jwk;
    int64_t created_at, active_at, retired_at, stop;
};

/* Invariant: keys[0..n) sorted as the store lists them; lock guards all. */
struct pat_keyring {
    pthread_rwlock_t lock;
    struct ring_key *keys;
    size_t n;
    int64_t max_lifetime;
};

static void
ring_key_release(struct ring_key *k)
{
    EVP_PKEY_free(k->pub);
    EVP_PKEY_free(k->priv);
    json_decref(k->jwk);
    memset(k, 0, sizeof(*k));
}

int
pat_keyring_new(int64_t max_lifetime, struct pat_keyring **out)
{
    struct pat_keyring *kr = calloc(1, sizeof(*kr));

    *out = NULL;
    if (kr == NULL)
        return PAT_ENOMEM;
    if (pthread_rwlock_init(&kr->lock, NULL) != 0) {
        free(kr);
        return PAT_ENOMEM;
    }
    kr->max_lifetime = max_lifetime;
    *out = kr;
    return PAT_OK;
}

void
pat_keyring_free(struct pat_keyring *kr)
{
    size_t i;

    if (kr == NULL)
        return;
    for (i = 0; i < kr->n; i++)
        ring_key_release(&kr->keys[i]);
    free(kr->keys);
    pthread_rwlock_destroy(&kr->lock);
    free(kr);
}

/* Loads row into k, reusing old (the same kid loaded before) if any. */
static int
ring_key_load(const struct pat_signing_key *row, const struct ring_key *old,
              const uint8_t *kek, struct ring_key *k)
{
    json_t *jwk;
    int rc;

    memset(k, 0, sizeof(*k));
    snprintf(k->kid, sizeof(k->kid), "%s", row->kid);
    k->created_at = row->created_at;
    k->active_at = row->active_at;
    k->retired_at = row->retired_at;
    if (old != NULL) {
        k->alg = old->alg;
        k->pub = old->pub;
        k->priv = old->priv;
        k->jwk = json_incref(old->jwk);
        EVP_PKEY_up_ref(k->pub);
        if (k->priv != NULL)
            EVP_PKEY_up_ref(k->priv);
        return PAT_OK;
    }
    jwk = json_loads(row->public_jwk, 0, NULL);
    if (jwk == NULL)
        return PAT_ESTORE;
    k->jwk = jwk;
    rc = pat__jwk_import(jwk, &k->pub, &k->alg);
    if (rc != PAT_OK)
        return PAT_ESTORE;
    rc = unseal(kek, row->kid, row->sealed, &k->priv);
    if (rc == PAT_OK && EVP_PKEY_eq(k->pub, k->priv) != 1)
        rc = PAT_ESTORE;
    return rc;
}

/* Sets each key's stop: retired, or superseded by the next signer. */
static void
ring_stops(struct ring_key *keys, size_t n)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        keys[i].stop = keys[i].retired_at;
        for (j = i + 1; j < n; j++) {
            if (keys[j].retired_at != 0 &&
                keys[j].retired_at <= keys[j].active_at)
                continue;
            if (keys[j].active_at < keys[i].active_at)
                continue;
            if (keys[i].stop == 0 || keys[j].active_at < keys[i].stop)
                keys[i].stop = keys[j].active_at;
            break;
        }
    }
}

int
pat_keyring_load(struct pat_keyring *kr, struct pat_store *st,
                 const uint8_t kek[PAT_KEK_LEN], int64_t now)
{
    struct pat_signing_key *rows = NULL;
    struct ring_key *keys = NULL, *old_keys;
    size_t n = 0, i, j, old_n;
    int rc;

    (void)now;
    rows = calloc(KEYS_MAX, sizeof(*rows));
    keys = calloc(KEYS_MAX, sizeof(*keys));
    if (rows == NULL || keys == NULL) {
        rc = PAT_ENOMEM;
        goto out;
    }
    rc = pat__db_key_list(st, rows, KEYS_MAX, &n);
    if (rc != PAT_OK)
        goto out;
    pthread_rwlock_rdlock(&kr->lock);
    for (i = 0; rc == PAT_OK && i < n; i++) {
        const struct ring_key *old = NULL;

        for (j = 0; j < kr->n; j++)
            if (strcmp(kr->keys[j].kid, rows[i].kid) == 0)
                old = &kr->keys[j];
        rc = ring_key_load(&rows[i], old, kek, &keys[i]);
    }
    pthread_rwlock_unlock(&kr->lock);
    if (rc != PAT_OK)
        goto out;
    ring_stops(keys, n);
    pthread_rwlock_wrlock(&kr->lock);
    old_keys = kr->keys;
    old_n = kr->n;
    kr->keys = keys;
    kr->n = n;
    pthread_rwlock_unlock(&kr->lock);
    keys = old_keys;
    n = old_n;
out:
    for (i = 0; keys != NULL && i < (rc == PAT_OK ? n : KEYS_MAX); i++)
        ring_key_release(&keys[i]);
    free(keys);
    if (rows != NULL)
        OPENSSL_cleanse(rows, KEYS_MAX * sizeof(*rows));
    free(rows);
    return rc;
}

static bool
published(const struct pat_keyring *kr, const struct ring_key *k, int64_t now)
{
    return now >= k->created_at &&
           (k->stop == 0 || now < k->stop + kr->max_lifetime);
}

static bool
signs(const struct ring_key *k, int64_t now)
{
    return k->priv != NULL && now >= k->active_at &&
           (k->stop == 0 || now < k->stop);
}

char *
pat_keyring_jwks(struct pat_keyring *kr, int64_t now)
{
    json_t *keys = json_array(), *jwks;
    char *text = NULL;
    size_t i;

    if (keys == NULL)
        return NULL;
    pthread_rwlock_rdlock(&kr->lock);
    for (i = 0; i < kr->n; i++)
        if (published(kr, &kr->keys[i], now))
            json_array_append(keys, kr->keys[i].jwk);
    pthread_rwlock_unlock(&kr->lock);
    jwks = json_pack("{so}", "keys", keys);
    if (jwks != NULL)
        text = json_dumps(jwks, JSON_COMPACT);
    json_decref(jwks);
    return text;
}

/* The index of the key that signs at now, or -1. Under the lock. */
static long
current(const struct pat_keyring *kr, int64_t now)
{
    long i;

    for (i = (long)kr->n - 1; i >= 0; i--)
        if (signs(&kr->keys[i], now))
            return i;
    return -1;
}

bool
pat_keyring_current(struct pat_keyring *kr, int64_t now, char *kid, size_t cap)
{
    long i;

    pthread_rwlock_rdlock(&kr->lock);
    i = current(kr, now);
    snprintf(kid, cap, "%s", i >= 0 ? kr->keys[i].kid : "");
    pthread_rwlock_unlock(&kr->lock);
    return i >= 0;
}

int
pat_keyring_sign(struct pat_keyring *kr, int64_t now, const char *typ,
                 const char *claims, char **out)
{
    char kid[PAT_KID_MAX + 1];
    EVP_PKEY *key = NULL;
    json_t *c = NULL;
    long i;
    int rc;

    *out = NULL;
    pthread_rwlock_rdlock(&kr->lock);
    i = current(kr, now);
    if (i >= 0) {
        key = kr->keys[i].priv;
        EVP_PKEY_up_ref(key);
        snprintf(kid, sizeof(kid), "%s", kr->keys[i].kid);
    }
    pthread_rwlock_unlock(&kr->lock);
    if (key == NULL)
        return PAT_EUNAVAIL;
    c = json_loads(claims, 0, NULL);
    rc = c != NULL ? pat__jws_sign(key, kid, typ, c, out) : PAT_EINVAL;
    json_decref(c);
    EVP_PKEY_free(key);
    return rc;
}

/*
 * The public key published under kid at now, as a new reference; NULL
 * when none. For lib/jwtcheck.c.
 */
EVP_PKEY *
pat__keyring_find(struct pat_keyring *kr, const char *kid, int64_t now,
                  int *alg)
{
    EVP_PKEY *key = NULL;
    size_t i;

    if (kid == NULL)
        return NULL;
    pthread_rwlock_rdlock(&kr->lock);
    for (i = 0; i < kr->n; i++) {
        if (strcmp(kr->keys[i].kid, kid) == 0 &&
            published(kr, &kr->keys[i], now)) {
            key = kr->keys[i].pub;
            EVP_PKEY_up_ref(key);
            *alg = kr->keys[i].alg;
            break;
        }
    }
    pthread_rwlock_unlock(&kr->lock);
    return key;
}

int
pat__keyring_algs(struct pat_keyring *kr)
{
    int algs = 0;
    size_t i;

    pthread_rwlock_rdlock(&kr->lock);
    for (i = 0; i < kr->n; i++)
        algs |= kr->keys[i].alg;
    pthread_rwlock_unlock(&kr->lock);
    return algs;
}
