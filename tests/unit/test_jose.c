/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the JOSE layer (lib/jose.c): compact JWS round trips for
 * RS256, ES256 and EdDSA, JWK export and import, JWKS lookup, and every
 * way a token must be refused: a tampered signature or payload, a wrong
 * or forbidden alg ("none", HS256), an alg outside the allow-list, a kid
 * not in the JWKS, a key of another kind, "crit", bad base64url, and the
 * claim checks (iss, aud, exp, nbf).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "jose.h"

static const int all_algs[] = {PAT__JOSE_RS256, PAT__JOSE_ES256,
                               PAT__JOSE_EDDSA};

static json_t *
claims(void)
{
    return json_pack("{ss ss sI sI}", "iss", "https://patd.test", "aud", "api",
                     "exp", (json_int_t)2000, "iat", (json_int_t)1000);
}

/* A JWKS of the public JWK of key under kid. */
static json_t *
jwks_of(EVP_PKEY *key, const char *kid)
{
    json_t *jwk = pat__jwk_export(key, kid);

    assert_non_null(jwk);
    return json_pack("{s[o]}", "keys", jwk);
}

static char *
b64(const char *s)
{
    char *out = NULL;

    assert_int_equal(pat__b64url_encode(s, strlen(s), &out), 0);
    return out;
}

/* header.payload.sig of a token whose header is replaced by hdr. */
static char *
with_header(const char *token, const char *hdr)
{
    const char *rest = strchr(token, '.');
    char *h = b64(hdr), *out;
    size_t n = strlen(h) + strlen(rest) + 1;

    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s%s", h, rest);
    free(h);
    return out;
}

static void
test_round_trip_each_alg(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(all_algs) / sizeof(all_algs[0]); i++) {
        EVP_PKEY *key = NULL;
        json_t *c = claims(), *jwks;
        char *tok = NULL;
        struct pat__jws jws;

        assert_int_equal(pat__jose_keygen(all_algs[i], &key), 0);
        assert_int_equal(pat__jose_alg_of_key(key), all_algs[i]);
        assert_int_equal(pat__jws_sign(key, "k1", "at+jwt", c, &tok), 0);
        jwks = jwks_of(key, "k1");
        assert_int_equal(
            pat__jws_verify_jwks(tok, strlen(tok), jwks, PAT__JOSE_ALL, &jws),
            0);
        assert_int_equal(jws.alg, all_algs[i]);
        assert_string_equal(jws.kid, "k1");
        assert_string_equal(
            json_string_value(json_object_get(jws.header, "typ")), "at+jwt");
        assert_true(json_equal(jws.payload, c));
        pat__jws_release(&jws);
        free(tok);
        json_decref(jwks);
        json_decref(c);
        EVP_PKEY_free(key);
    }
}

static void
test_tampered_signature_and_payload(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(all_algs) / sizeof(all_algs[0]); i++) {
        EVP_PKEY *key = NULL;
        json_t *c = claims(), *jwks;
        char *tok = NULL, *dot, *p2 = NULL, *forged;
        struct pat__jws jws;
        size_t n, len;
        char orig;

        assert_int_equal(pat__jose_keygen(all_algs[i], &key), 0);
        assert_int_equal(pat__jws_sign(key, "k1", NULL, c, &tok), 0);
        jwks = jwks_of(key, "k1");
        len = strlen(tok);
        /* Flip one signature character (not the last, whose low bits
         * may be padding the decoder rejects anyway). */
        orig = tok[len - 3];
        tok[len - 3] = orig == 'A' ? 'B' : 'A';
        assert_int_equal(
            pat__jws_verify_jwks(tok, len, jwks, PAT__JOSE_ALL, &jws),
            PAT_EFORBIDDEN);
        assert_null(jws.payload);
        tok[len - 3] = orig;
        /* A different payload under the original signature. */
        json_object_set_new(c, "sub", json_string("admin"));
        p2 = json_dumps(c, JSON_COMPACT);
        dot = strchr(tok, '.');
        {
            char *pb = b64(p2);
            const char *sig = strrchr(tok, '.');

            n = (size_t)(dot - tok) + strlen(pb) + strlen(sig) + 2;
            forged = malloc(n);
            assert_non_null(forged);
            snprintf(forged, n, "%.*s.%s%s", (int)(dot - tok), tok, pb, sig);
            free(pb);
        }
        assert_int_equal(pat__jws_verify_jwks(forged, strlen(forged), jwks,
                                              PAT__JOSE_ALL, &jws),
                         PAT_EFORBIDDEN);
        /* The untouched token still verifies. */
        assert_int_equal(
            pat__jws_verify_jwks(tok, len, jwks, PAT__JOSE_ALL, &jws), 0);
        pat__jws_release(&jws);
        free(forged);
        free(p2);
        free(tok);
        json_decref(jwks);
        json_decref(c);
        EVP_PKEY_free(key);
    }
}

static void
test_forbidden_and_wrong_alg(void **state)
{
    EVP_PKEY *rsa = NULL, *ec = NULL;
    json_t *c = claims(), *jwks;
    char *tok = NULL, *t;
    struct pat__jws jws;

    (void)state;
    assert_int_equal(pat__jose_keygen(PAT__JOSE_RS256, &rsa), 0);
    assert_int_equal(pat__jose_keygen(PAT__JOSE_ES256, &ec), 0);
    assert_int_equal(pat__jws_sign(rsa, "k1", NULL, c, &tok), 0);
    jwks = jwks_of(rsa, "k1");

    /* alg none, with and without a signature part. */
    t = with_header(tok, "{\"alg\":\"none\",\"kid\":\"k1\"}");
    assert_int_equal(
        pat__jws_verify_jwks(t, strlen(t), jwks, PAT__JOSE_ALL, &jws),
        PAT_EPOLICY);
    *strrchr(t, '.') = '\0';
    {
        char *unsigned_tok = NULL;
        size_t n = strlen(t) + 2;

        unsigned_tok = malloc(n);
        assert_non_null(unsigned_tok);
        snprintf(unsigned_tok, n, "%s.", t);
        assert_int_not_equal(pat__jws_verify_jwks(unsigned_tok,
                                                  strlen(unsigned_tok), jwks,
                                                  PAT__JOSE_ALL, &jws),
                             0);
        free(unsigned_tok);
    }
    free(t);
    /* HS256 with the RSA public key as the "secret" (the classic
     * confusion attack) is an unknown alg here. */
    t = with_header(tok, "{\"alg\":\"HS256\",\"kid\":\"k1\"}");
    assert_int_equal(
        pat__jws_verify_jwks(t, strlen(t), jwks, PAT__JOSE_ALL, &jws),
        PAT_EPOLICY);
    free(t);
    /* ES256 claimed, RSA key: the alg is not the key's. */
    t = with_header(tok, "{\"alg\":\"ES256\",\"kid\":\"k1\"}");
    assert_int_equal(
        pat__jws_verify_jwks(t, strlen(t), jwks, PAT__JOSE_ALL, &jws),
        PAT_EPOLICY);
    free(t);
    /* RS256 not in the caller's allow-list. */
    assert_int_equal(
        pat__jws_verify_jwks(tok, strlen(tok), jwks, PAT__JOSE_ES256, &jws),
        PAT_EPOLICY);
    /* crit is never understood. */
    t = with_header(tok,
                    "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}");
    assert_int_equal(
        pat__jws_verify_jwks(t, strlen(t), jwks, PAT__JOSE_ALL, &jws),
        PAT_EPOLICY);
    free(t);
    /* Lower-case names are not the registered ones. */
    assert_int_equal(pat__jose_alg_from_name("rs256"), 0);
    assert_int_equal(pat__jose_alg_from_name("none"), 0);
    assert_int_equal(pat__jose_alg_from_name("HS256"), 0);
    assert_null(pat__jose_alg_name(0));
    free(tok);
    json_decref(jwks);
    json_decref(c);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

static void
test_kid_mismatch(void **state)
{
    EVP_PKEY *a = NULL, *b = NULL;
    json_t *c = claims(), *jwks, *both;
    char *tok = NULL;
    struct pat__jws jws;

    (void)state;
    assert_int_equal(pat__jose_keygen(PAT__JOSE_ES256, &a), 0);
    assert_int_equal(pat__jose_keygen(PAT__JOSE_ES256, &b), 0);
    assert_int_equal(pat__jws_sign(a, "ka", NULL, c, &tok), 0);
    /* Only kb published: not found. */
    jwks = jwks_of(b, "kb");
    assert_int_equal(
        pat__jws_verify_jwks(tok, strlen(tok), jwks, PAT__JOSE_ALL, &jws),
        PAT_ENOTFOUND);
    json_decref(jwks);
    /* b's key published under a's kid: the signature fails. */
    jwks = jwks_of(b, "ka");
    assert_int_equal(
        pat__jws_verify_jwks(tok, strlen(tok), jwks, PAT__JOSE_ALL, &jws),
        PAT_EFORBIDDEN);
    json_decref(jwks);
    /* Both published: found by kid among several. */
    both = json_pack("{s[oo]}", "keys", pat__jwk_export(b, "kb"),
                     pat__jwk_export(a, "ka"));
    assert_non_null(pat__jwks_find(both, "ka"));
    assert_null(pat__jwks_find(both, "kc"));
    assert_null(pat__jwks_find(both, NULL));
    assert_int_equal(
        pat__jws_verify_jwks(tok, strlen(tok), both, PAT__JOSE_ALL, &jws), 0);
    pat__jws_release(&jws);
    json_decref(both);
    free(tok);
    json_decref(c);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

static void
test_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "eyJhbGciOiJSUzI1NiJ9..c2ln",
        "eyJhbGciOiJSUzI1NiJ9.e30=.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln+",
        "W10.e30.c2ln",              /* header is an array */
        "e30.e30.c2ln",              /* no alg */
        "eyJhbGciOjF9.e30.c2ln",     /* alg not a string */
        "eyJhbGciOiJSUzI1NiJ9.e30.", /* empty signature */
    };
    struct pat__jws jws;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = pat__jws_parse(bad[i], strlen(bad[i]), &jws);

        assert_true(rc == PAT_EMALFORMED || rc == PAT_EPOLICY);
        assert_null(jws.header);
        pat__jws_release(&jws);
    }
}

static void
test_jwk_export_import(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(all_algs) / sizeof(all_algs[0]); i++) {
        EVP_PKEY *key = NULL, *back = NULL;
        json_t *jwk, *again;
        int alg = 0;

        assert_int_equal(pat__jose_keygen(all_algs[i], &key), 0);
        jwk = pat__jwk_export(key, "kid-1");
        assert_non_null(jwk);
        /* Public members only. */
        assert_null(json_object_get(jwk, "d"));
        assert_null(json_object_get(jwk, "p"));
        assert_string_equal(json_string_value(json_object_get(jwk, "use")),
                            "sig");
        assert_int_equal(pat__jwk_import(jwk, &back, &alg), 0);
        assert_int_equal(alg, all_algs[i]);
        assert_int_equal(EVP_PKEY_eq(key, back), 1);
        again = pat__jwk_export(back, "kid-1");
        assert_true(json_equal(jwk, again));
        /* An alg member that disagrees with the key is refused. */
        json_object_set_new(
            jwk, "alg",
            json_string(all_algs[i] == PAT__JOSE_RS256 ? "ES256" : "RS256"));
        EVP_PKEY_free(back);
        assert_int_equal(pat__jwk_import(jwk, &back, NULL), PAT_EPOLICY);
        assert_null(back);
        json_decref(jwk);
        json_decref(again);
        EVP_PKEY_free(key);
    }
}

static void
test_jwk_import_refusals(void **state)
{
    static const char *bad[] = {
        "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}",
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
        "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"enc\"}",
        "[]",
    };
    /* A P-256 "point" that is not on the curve. */
    const char *off_curve =
        "{\"kty\":\"EC\",\"crv\":\"P-256\","
        "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}";
    EVP_PKEY *key = NULL;
    json_t *j;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        assert_int_not_equal(pat__jwk_import(j, &key, NULL), 0);
        assert_null(key);
        json_decref(j);
    }
    j = json_loads(off_curve, 0, NULL);
    assert_int_not_equal(pat__jwk_import(j, &key, NULL), 0);
    assert_null(key);
    json_decref(j);
}

static void
test_claims(void **state)
{
    json_t *c = claims();
    char d[128];

    (void)state;
    assert_int_equal(
        pat__jwt_check(c, "https://patd.test", "api", 1500, 0, d, sizeof(d)),
        0);
    assert_int_equal(
        pat__jwt_check(c, "https://other", "api", 1500, 0, d, sizeof(d)),
        PAT_EUNKNOWN);
    assert_int_equal(
        pat__jwt_check(c, "https://patd.test", "web", 1500, 0, d, sizeof(d)),
        PAT_EAUDIENCE);
    assert_int_equal(pat__jwt_check(c, NULL, NULL, 2000, 0, d, sizeof(d)),
                     PAT_EEXPIRED);
    assert_int_equal(pat__jwt_check(c, NULL, NULL, 2000, 5, d, sizeof(d)), 0);
    json_object_set_new(c, "aud", json_pack("[ss]", "web", "api"));
    assert_int_equal(pat__jwt_check(c, NULL, "api", 1500, 0, d, sizeof(d)), 0);
    json_object_set_new(c, "nbf", json_integer(1600));
    assert_int_equal(pat__jwt_check(c, NULL, NULL, 1500, 0, d, sizeof(d)),
                     PAT_EEXPIRED);
    json_object_del(c, "exp");
    json_object_del(c, "nbf");
    assert_int_equal(pat__jwt_check(c, NULL, NULL, 1500, 0, d, sizeof(d)),
                     PAT_EMALFORMED);
    json_decref(c);
}

static void
test_b64url(void **state)
{
    unsigned char *out = NULL;
    size_t n;
    char *s = NULL;

    (void)state;
    assert_int_equal(pat__b64url_encode("\xfb\xff", 2, &s), 0);
    assert_string_equal(s, "-_8");
    assert_int_equal(pat__b64url_decode(s, strlen(s), &out, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "\xfb\xff", 2);
    free(out);
    free(s);
    assert_int_equal(pat__b64url_decode("+/8", 3, &out, &n), PAT_EMALFORMED);
    assert_int_equal(pat__b64url_decode("-_8=", 4, &out, &n), PAT_EMALFORMED);
    assert_null(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_each_alg),
        cmocka_unit_test(test_tampered_signature_and_payload),
        cmocka_unit_test(test_forbidden_and_wrong_alg),
        cmocka_unit_test(test_kid_mismatch),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_jwk_export_import),
        cmocka_unit_test(test_jwk_import_refusals),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_b64url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
