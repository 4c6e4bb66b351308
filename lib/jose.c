/* SPDX-License-Identifier: MIT */
/*
 * Compact JWS, JWK and JWKS on OpenSSL 3 EVP, jansson and libsodium's
 * base64url (see jose.h for the contract and docs/internals/jose.md for
 * the choice). No cryptography and no base64 is written here: this file
 * only moves bytes between the JOSE wire forms and EVP.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "jose.h"
#include "internal.h"

/* ES256 signatures are R || S, each 32 bytes (RFC 7518 section 3.4). */
#define ES256_HALF  32
#define ED25519_LEN 32
/* The largest RSA modulus we import, in bytes (8192 bits). */
#define RSA_MAX_BYTES 1024

static const struct {
    int alg;
    const char *name;
} algs[] = {
    {PAT__JOSE_RS256, "RS256"},
    {PAT__JOSE_ES256, "ES256"},
    {PAT__JOSE_EDDSA, "EdDSA"},
};

const char *
pat__jose_alg_name(int alg)
{
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (algs[i].alg == alg)
            return algs[i].name;
    return NULL;
}

int
pat__jose_alg_from_name(const char *name)
{
    size_t i;

    if (name == NULL)
        return 0;
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strcmp(algs[i].name, name) == 0)
            return algs[i].alg;
    return 0;
}

int
pat__jose_alg_of_key(const EVP_PKEY *key)
{
    char group[32];

    if (key == NULL)
        return 0;
    if (EVP_PKEY_is_a(key, "RSA"))
        return EVP_PKEY_get_bits(key) >= 2048 ? PAT__JOSE_RS256 : 0;
    if (EVP_PKEY_is_a(key, "ED25519"))
        return PAT__JOSE_EDDSA;
    if (EVP_PKEY_is_a(key, "EC")) {
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), NULL) != 1)
            return 0;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            return PAT__JOSE_ES256;
    }
    return 0;
}

int
pat__jose_keygen(int alg, EVP_PKEY **out)
{
    *out = NULL;
    switch (alg) {
    case PAT__JOSE_RS256:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case PAT__JOSE_ES256:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case PAT__JOSE_EDDSA:
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    default:
        return PAT_EINVAL;
    }
    return *out != NULL ? 0 : PAT_ECRYPTO;
}

int
pat__b64url_encode(const void *in, size_t inlen, char **out)
{
    size_t cap;

    cap = sodium_base64_encoded_len(inlen,
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *out = malloc(cap);
    if (*out == NULL)
        return PAT_ENOMEM;
    sodium_bin2base64(*out, cap, in, inlen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int
pat__b64url_decode(const char *in, size_t inlen, unsigned char **out,
                   size_t *outlen)
{
    size_t cap = inlen / 4 * 3 + 3;

    *out = NULL;
    *outlen = 0;
    *out = malloc(cap + 1);
    if (*out == NULL)
        return PAT_ENOMEM;
    if (sodium_base642bin(*out, cap, in, inlen, NULL, outlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(*out);
        *out = NULL;
        *outlen = 0;
        return PAT_EMALFORMED;
    }
    (*out)[*outlen] = 0;
    return 0;
}

/* Sets member name of obj to the base64url of buf[0..len). */
static int
set_b64(json_t *obj, const char *name, const unsigned char *buf, size_t len)
{
    char *s = NULL;
    int rc;

    rc = pat__b64url_encode(buf, len, &s);
    if (rc != 0)
        return rc;
    rc = json_object_set_new(obj, name, json_string(s)) == 0 ? 0 : PAT_ENOMEM;
    free(s);
    return rc;
}

static int
set_bn(json_t *obj, const char *name, const BIGNUM *bn, int pad)
{
    unsigned char buf[RSA_MAX_BYTES];
    int n = pad > 0 ? pad : BN_num_bytes(bn);

    if (n <= 0 || n > (int)sizeof(buf) || BN_bn2binpad(bn, buf, n) != n)
        return PAT_ECRYPTO;
    return set_b64(obj, name, buf, (size_t)n);
}

static int
export_rsa(const EVP_PKEY *key, json_t *jwk)
{
    BIGNUM *n = NULL, *e = NULL;
    int rc = PAT_ECRYPTO;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        goto out;
    if (json_object_set_new(jwk, "kty", json_string("RSA")) != 0) {
        rc = PAT_ENOMEM;
        goto out;
    }
    rc = set_bn(jwk, "n", n, 0);
    if (rc == 0)
        rc = set_bn(jwk, "e", e, 0);
out:
    BN_free(n);
    BN_free(e);
    return rc;
}

static int
export_ec(const EVP_PKEY *key, json_t *jwk)
{
    BIGNUM *x = NULL, *y = NULL;
    int rc = PAT_ECRYPTO;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
        goto out;
    if (json_object_set_new(jwk, "kty", json_string("EC")) != 0 ||
        json_object_set_new(jwk, "crv", json_string("P-256")) != 0) {
        rc = PAT_ENOMEM;
        goto out;
    }
    rc = set_bn(jwk, "x", x, ES256_HALF);
    if (rc == 0)
        rc = set_bn(jwk, "y", y, ES256_HALF);
out:
    BN_free(x);
    BN_free(y);
    return rc;
}

static int
export_okp(const EVP_PKEY *key, json_t *jwk)
{
    unsigned char raw[ED25519_LEN];
    size_t len = sizeof(raw);

    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != ED25519_LEN)
        return PAT_ECRYPTO;
    if (json_object_set_new(jwk, "kty", json_string("OKP")) != 0 ||
        json_object_set_new(jwk, "crv", json_string("Ed25519")) != 0)
        return PAT_ENOMEM;
    return set_b64(jwk, "x", raw, len);
}

json_t *
pat__jwk_export(const EVP_PKEY *key, const char *kid)
{
    json_t *jwk = NULL;
    int alg, rc;

    alg = pat__jose_alg_of_key(key);
    if (alg == 0)
        return NULL;
    jwk = json_object();
    if (jwk == NULL)
        return NULL;
    if (alg == PAT__JOSE_RS256)
        rc = export_rsa(key, jwk);
    else if (alg == PAT__JOSE_ES256)
        rc = export_ec(key, jwk);
    else
        rc = export_okp(key, jwk);
    if (rc == 0 &&
        (json_object_set_new(jwk, "use", json_string("sig")) != 0 ||
         json_object_set_new(jwk, "alg",
                             json_string(pat__jose_alg_name(alg))) != 0 ||
         (kid != NULL &&
          json_object_set_new(jwk, "kid", json_string(kid)) != 0)))
        rc = PAT_ENOMEM;
    if (rc != 0) {
        json_decref(jwk);
        return NULL;
    }
    return jwk;
}

/* Decodes the base64url string member name of jwk into a new buffer. */
static int
get_b64(const json_t *jwk, const char *name, unsigned char **out,
        size_t *outlen)
{
    const json_t *v = json_object_get(jwk, name);

    *out = NULL;
    *outlen = 0;
    if (!json_is_string(v))
        return PAT_EMALFORMED;
    return pat__b64url_decode(json_string_value(v), json_string_length(v), out,
                              outlen);
}

/* Builds a public key of type name from params. */
static int
from_params(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **key)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int rc = PAT_EMALFORMED;

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (params == NULL || ctx == NULL) {
        rc = PAT_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    rc = 0;
out:
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

static int
import_rsa(const json_t *jwk, EVP_PKEY **key)
{
    unsigned char *nb = NULL, *eb = NULL;
    size_t nlen, elen;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    int rc;

    rc = get_b64(jwk, "n", &nb, &nlen);
    if (rc == 0)
        rc = get_b64(jwk, "e", &eb, &elen);
    if (rc != 0)
        goto out;
    rc = PAT_EMALFORMED;
    if (nlen < 256 || nlen > RSA_MAX_BYTES || elen == 0 || elen > 8)
        goto out;
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n == NULL || e == NULL || bld == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
        rc = PAT_ENOMEM;
        goto out;
    }
    rc = from_params("RSA", bld, key);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);
    return rc;
}

static int
import_ec(const json_t *jwk, EVP_PKEY **key)
{
    unsigned char *x = NULL, *y = NULL;
    unsigned char point[1 + 2 * ES256_HALF];
    size_t xlen, ylen;
    OSSL_PARAM_BLD *bld = NULL;
    int rc;

    if (!json_is_string(json_object_get(jwk, "crv")) ||
        strcmp(json_string_value(json_object_get(jwk, "crv")), "P-256") != 0)
        return PAT_EPOLICY;
    rc = get_b64(jwk, "x", &x, &xlen);
    if (rc == 0)
        rc = get_b64(jwk, "y", &y, &ylen);
    if (rc != 0)
        goto out;
    rc = PAT_EMALFORMED;
    if (xlen != ES256_HALF || ylen != ES256_HALF)
        goto out;
    point[0] = 0x04; /* uncompressed point, SEC 1 section 2.3.3 */
    memcpy(point + 1, x, ES256_HALF);
    memcpy(point + 1 + ES256_HALF, y, ES256_HALF);
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point)) != 1) {
        rc = PAT_ENOMEM;
        goto out;
    }
    rc = from_params("EC", bld, key);
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return rc;
}

static int
import_okp(const json_t *jwk, EVP_PKEY **key)
{
    unsigned char *x = NULL;
    size_t xlen;
    int rc;

    if (!json_is_string(json_object_get(jwk, "crv")) ||
        strcmp(json_string_value(json_object_get(jwk, "crv")), "Ed25519") != 0)
        return PAT_EPOLICY;
    rc = get_b64(jwk, "x", &x, &xlen);
    if (rc != 0)
        return rc;
    rc = PAT_EMALFORMED;
    if (xlen == ED25519_LEN) {
        *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
        rc = *key != NULL ? 0 : PAT_EMALFORMED;
    }
    free(x);
    return rc;
}

int
pat__jwk_import(const json_t *jwk, EVP_PKEY **key, int *alg)
{
    const char *kty, *use, *name;
    int rc, kalg, named;

    *key = NULL;
    if (alg != NULL)
        *alg = 0;
    if (!json_is_object(jwk) || !json_is_string(json_object_get(jwk, "kty")))
        return PAT_EMALFORMED;
    kty = json_string_value(json_object_get(jwk, "kty"));
    use = json_string_value(json_object_get(jwk, "use"));
    if (use != NULL && strcmp(use, "sig") != 0)
        return PAT_EPOLICY;
    if (strcmp(kty, "RSA") == 0)
        rc = import_rsa(jwk, key);
    else if (strcmp(kty, "EC") == 0)
        rc = import_ec(jwk, key);
    else if (strcmp(kty, "OKP") == 0)
        rc = import_okp(jwk, key);
    else
        rc = PAT_EPOLICY;
    if (rc != 0)
        goto fail;
    kalg = pat__jose_alg_of_key(*key);
    name = json_string_value(json_object_get(jwk, "alg"));
    named = name != NULL ? pat__jose_alg_from_name(name) : kalg;
    if (kalg == 0 || named != kalg) {
        rc = PAT_EPOLICY;
        goto fail;
    }
    if (alg != NULL)
        *alg = kalg;
    return 0;
fail:
    EVP_PKEY_free(*key);
    *key = NULL;
    return rc;
}

const json_t *
pat__jwks_find(const json_t *jwks, const char *kid)
{
    const json_t *keys, *k;
    const char *v;
    size_t i;

    keys = json_object_get(jwks, "keys");
    if (kid == NULL || !json_is_array(keys))
        return NULL;
    json_array_foreach(keys, i, k)
    {
        v = json_string_value(json_object_get(k, "kid"));
        if (v != NULL && strcmp(v, kid) == 0)
            return k;
    }
    return NULL;
}

/* ECDSA DER (what EVP gives) to and from JOSE's fixed R || S. */
static int
der_to_raw(const unsigned char *der, size_t len, unsigned char *raw)
{
    ECDSA_SIG *s = NULL;
    const BIGNUM *r, *ss;
    int rc = PAT_ECRYPTO;

    s = d2i_ECDSA_SIG(NULL, &der, (long)len);
    if (s == NULL)
        return rc;
    ECDSA_SIG_get0(s, &r, &ss);
    if (BN_bn2binpad(r, raw, ES256_HALF) == ES256_HALF &&
        BN_bn2binpad(ss, raw + ES256_HALF, ES256_HALF) == ES256_HALF)
        rc = 0;
    ECDSA_SIG_free(s);
    return rc;
}

static int
raw_to_der(const unsigned char *raw, unsigned char **der, size_t *len)
{
    ECDSA_SIG *s = NULL;
    BIGNUM *r = NULL, *ss = NULL;
    int n, rc = PAT_ENOMEM;

    *der = NULL;
    s = ECDSA_SIG_new();
    r = BN_bin2bn(raw, ES256_HALF, NULL);
    ss = BN_bin2bn(raw + ES256_HALF, ES256_HALF, NULL);
    if (s == NULL || r == NULL || ss == NULL)
        goto out;
    if (ECDSA_SIG_set0(s, r, ss) != 1)
        goto out;
    r = ss = NULL;
    n = i2d_ECDSA_SIG(s, der);
    if (n <= 0) {
        rc = PAT_ECRYPTO;
        goto out;
    }
    *len = (size_t)n;
    rc = 0;
out:
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return rc;
}

static const EVP_MD *
md_of(int alg)
{
    return alg == PAT__JOSE_EDDSA ? NULL : EVP_sha256();
}

/* Signs tbs with key; *sig is a new buffer of the JOSE signature. */
static int
sign_bytes(EVP_PKEY *key, int alg, const char *tbs, size_t tbslen,
           unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *ctx = NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    int rc = PAT_ECRYPTO;

    *sig = NULL;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return PAT_ENOMEM;
    if (EVP_DigestSignInit(ctx, NULL, md_of(alg), NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)tbs, tbslen) !=
            1)
        goto out;
    der = malloc(len);
    if (der == NULL) {
        rc = PAT_ENOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, der, &len, (const unsigned char *)tbs, tbslen) != 1)
        goto out;
    if (alg == PAT__JOSE_ES256) {
        *sig = malloc(2 * ES256_HALF);
        if (*sig == NULL) {
            rc = PAT_ENOMEM;
            goto out;
        }
        rc = der_to_raw(der, len, *sig);
        if (rc != 0) {
            free(*sig);
            *sig = NULL;
            goto out;
        }
        *siglen = 2 * ES256_HALF;
    } else {
        *sig = der;
        *siglen = len;
        der = NULL;
    }
    rc = 0;
out:
    free(der);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Appends "." and the base64url of buf to the dynamic string *s. */
static int
append_b64(char **s, size_t *len, const void *buf, size_t buflen)
{
    char *b = NULL, *grown;
    size_t blen;
    int rc;

    rc = pat__b64url_encode(buf, buflen, &b);
    if (rc != 0)
        return rc;
    blen = strlen(b);
    grown = realloc(*s, *len + blen + 2);
    if (grown == NULL) {
        free(b);
        return PAT_ENOMEM;
    }
    *s = grown;
    if (*len > 0)
        (*s)[(*len)++] = '.';
    memcpy(*s + *len, b, blen + 1);
    *len += blen;
    free(b);
    return 0;
}

int
pat__jws_sign(EVP_PKEY *key, const char *kid, const char *typ,
              const json_t *claims, char **out)
{
    json_t *hdr = NULL;
    char *htxt = NULL, *ptxt = NULL, *s = NULL;
    unsigned char *sig = NULL;
    size_t len = 0, siglen = 0;
    int alg, rc = PAT_ENOMEM;

    *out = NULL;
    alg = pat__jose_alg_of_key(key);
    if (alg == 0 || !json_is_object(claims))
        return PAT_EINVAL;
    hdr = json_pack("{ss}", "alg", pat__jose_alg_name(alg));
    if (hdr == NULL)
        goto out;
    if ((typ != NULL &&
         json_object_set_new(hdr, "typ", json_string(typ)) != 0) ||
        (kid != NULL && json_object_set_new(hdr, "kid", json_string(kid)) != 0))
        goto out;
    htxt = json_dumps(hdr, JSON_COMPACT);
    ptxt = json_dumps(claims, JSON_COMPACT);
    if (htxt == NULL || ptxt == NULL)
        goto out;
    rc = append_b64(&s, &len, htxt, strlen(htxt));
    if (rc == 0)
        rc = append_b64(&s, &len, ptxt, strlen(ptxt));
    if (rc == 0)
        rc = sign_bytes(key, alg, s, len, &sig, &siglen);
    if (rc == 0)
        rc = append_b64(&s, &len, sig, siglen);
    if (rc == 0) {
        *out = s;
        s = NULL;
    }
out:
    json_decref(hdr);
    free(htxt);
    free(ptxt);
    free(s);
    free(sig);
    return rc;
}

void
pat__jws_init(struct pat__jws *jws)
{
    memset(jws, 0, sizeof(*jws));
}

void
pat__jws_release(struct pat__jws *jws)
{
    json_decref(jws->header);
    json_decref(jws->payload);
    free(jws->sig);
    pat__jws_init(jws);
}

/* Decodes one base64url part into a JSON object. */
static int
part_json(const char *p, size_t len, json_t **out)
{
    unsigned char *buf = NULL;
    size_t blen;
    int rc;

    *out = NULL;
    rc = pat__b64url_decode(p, len, &buf, &blen);
    if (rc != 0)
        return rc;
    *out = json_loadb((const char *)buf, blen, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return PAT_EMALFORMED;
    }
    return 0;
}

int
pat__jws_parse(const char *text, size_t len, struct pat__jws *jws)
{
    const char *d1, *d2;
    const json_t *alg;
    int rc;

    pat__jws_init(jws);
    if (text == NULL || len == 0 || len > PAT__JWS_MAX)
        return PAT_EMALFORMED;
    d1 = memchr(text, '.', len);
    if (d1 == NULL)
        return PAT_EMALFORMED;
    d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - text));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - text)))
        return PAT_EMALFORMED;
    rc = part_json(text, (size_t)(d1 - text), &jws->header);
    if (rc != 0)
        goto fail;
    alg = json_object_get(jws->header, "alg");
    rc = PAT_EMALFORMED;
    if (!json_is_string(alg))
        goto fail;
    /* No extension is understood, so any "crit" must be refused
     * (RFC 7515 section 4.1.11). */
    rc = PAT_EPOLICY;
    jws->alg = pat__jose_alg_from_name(json_string_value(alg));
    if (jws->alg == 0 || json_object_get(jws->header, "crit") != NULL)
        goto fail;
    jws->kid = json_string_value(json_object_get(jws->header, "kid"));
    rc = part_json(d1 + 1, (size_t)(d2 - d1 - 1), &jws->payload);
    if (rc != 0)
        goto fail;
    rc = pat__b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - text), &jws->sig,
                            &jws->siglen);
    if (rc != 0)
        goto fail;
    if (jws->siglen == 0) {
        rc = PAT_EMALFORMED;
        goto fail;
    }
    jws->text = text;
    jws->signed_len = (size_t)(d2 - text);
    return 0;
fail:
    pat__jws_release(jws);
    return rc;
}

int
pat__jws_verify(const struct pat__jws *jws, EVP_PKEY *key, int allowed)
{
    EVP_MD_CTX *ctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *sig = jws->sig;
    size_t siglen = jws->siglen;
    int rc;

    if (jws->alg == 0 || (jws->alg & allowed) == 0 ||
        pat__jose_alg_of_key(key) != jws->alg)
        return PAT_EPOLICY;
    if (jws->alg == PAT__JOSE_ES256) {
        if (siglen != 2 * ES256_HALF)
            return PAT_EFORBIDDEN;
        rc = raw_to_der(jws->sig, &der, &siglen);
        if (rc != 0)
            return rc;
        sig = der;
    }
    rc = PAT_ENOMEM;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        goto out;
    rc = PAT_ECRYPTO;
    if (EVP_DigestVerifyInit(ctx, NULL, md_of(jws->alg), NULL, key) != 1)
        goto out;
    rc = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jws->text,
                          jws->signed_len) == 1
             ? 0
             : PAT_EFORBIDDEN;
out:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}

int
pat__jws_verify_jwks(const char *text, size_t len, const json_t *jwks,
                     int allowed, struct pat__jws *jws)
{
    const json_t *jwk, *keys;
    EVP_PKEY *key = NULL;
    int rc;

    rc = pat__jws_parse(text, len, jws);
    if (rc != 0)
        return rc;
    if ((jws->alg & allowed) == 0) {
        rc = PAT_EPOLICY;
        goto out;
    }
    jwk = pat__jwks_find(jwks, jws->kid);
    keys = json_object_get(jwks, "keys");
    if (jwk == NULL && jws->kid == NULL && json_array_size(keys) == 1)
        jwk = json_array_get(keys, 0);
    rc = PAT_ENOTFOUND;
    if (jwk == NULL)
        goto out;
    rc = pat__jwk_import(jwk, &key, NULL);
    if (rc == 0)
        rc = pat__jws_verify(jws, key, allowed);
out:
    EVP_PKEY_free(key);
    if (rc != 0)
        pat__jws_release(jws);
    return rc;
}

static int
aud_has(const json_t *v, const char *aud)
{
    const json_t *e;
    size_t i;

    if (json_is_string(v))
        return strcmp(json_string_value(v), aud) == 0;
    if (!json_is_array(v))
        return 0;
    json_array_foreach(v, i, e)
    {
        if (json_is_string(e) && strcmp(json_string_value(e), aud) == 0)
            return 1;
    }
    return 0;
}

int
pat__jwt_check(const json_t *claims, const char *iss, const char *aud,
               int64_t now, int64_t leeway, char *detail, size_t cap)
{
    const json_t *exp, *nbf, *v;

    if (iss != NULL) {
        v = json_object_get(claims, "iss");
        if (!json_is_string(v) || strcmp(json_string_value(v), iss) != 0) {
            pat__detail(detail, cap, "issuer is not '%s'", iss);
            return PAT_EUNKNOWN;
        }
    }
    if (aud != NULL && !aud_has(json_object_get(claims, "aud"), aud)) {
        pat__detail(detail, cap, "audience lacks '%s'", aud);
        return PAT_EAUDIENCE;
    }
    exp = json_object_get(claims, "exp");
    if (!json_is_number(exp)) {
        pat__detail(detail, cap, "no 'exp' claim");
        return PAT_EMALFORMED;
    }
    if (json_number_value(exp) <= (double)(now - leeway)) {
        pat__detail(detail, cap, "expired");
        return PAT_EEXPIRED;
    }
    nbf = json_object_get(claims, "nbf");
    if (nbf != NULL && (!json_is_number(nbf) ||
                        json_number_value(nbf) > (double)(now + leeway))) {
        pat__detail(detail, cap, "not valid before 'nbf'");
        return PAT_EEXPIRED;
    }
    return 0;
}
