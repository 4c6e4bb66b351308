/* SPDX-License-Identifier: MIT */
/*
 * Sign and verify cost of a compact JWS (an RFC 9068 access token's
 * claims) with three JOSE stacks on Debian 12: cjose (libcjose-dev),
 * latchset's libjose (libjose-dev) and patd's own lib/jose.c (OpenSSL 3
 * EVP + jansson + libsodium base64url). Each figure is operations per
 * second on one thread, over a fixed wall-clock slice, in one run, so
 * the ratios compare like with like on a shared machine.
 *
 * Every stack produces and consumes the compact form a JWT travels in:
 * libjose only speaks the JSON serialisation, so its figures include the
 * splitting and joining a caller has to write around it (see
 * integrations.md section 8). Built and run by bench/jose.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <jose/jose.h>
#include <openssl/evp.h>

#include "jose.h"

static const char claims_text[] =
    "{\"iss\":\"https://patd.example.com\",\"sub\":\"u_01HZX3Q8\",\"aud\":"
    "\"https://api.example.com\",\"exp\":1767225900,\"iat\":1767225600,"
    "\"jti\":\"3f1c2a9e7b6d4c5a\",\"client_id\":\"t_01HZX3QA\",\"scope\":"
    "\"read:repo write:repo\",\"username\":\"alice\",\"status\":{"
    "\"status_list\":{\"idx\":4711,\"uri\":\"https://patd.example.com/v1/"
    "status-lists/0\"}}}";

static double slice = 0.5;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define RUN(label, ...)                                                        \
    do {                                                                       \
        double t0 = now_s(), t;                                                \
        long n = 0;                                                            \
        do {                                                                   \
            int k;                                                             \
            for (k = 0; k < 16; k++) {                                         \
                __VA_ARGS__;                                                   \
            }                                                                  \
            n += 16;                                                           \
            t = now_s();                                                       \
        } while (t - t0 < slice);                                              \
        printf("%-8s %-6s %-7s %10.0f\n", lib, alg, label, n / (t - t0));      \
        fflush(stdout);                                                        \
    } while (0)

static void
die(const char *what)
{
    fprintf(stderr, "jose_bench: %s failed\n", what);
    exit(1);
}

/* ---- patd's lib/jose.c (OpenSSL EVP) ---- */
static void
bench_evp(int a, const char *alg)
{
    const char *lib = "evp";
    EVP_PKEY *key = NULL, *pub = NULL;
    json_t *claims = json_loads(claims_text, 0, NULL), *jwk;
    char *tok = NULL;
    struct pat__jws jws;

    if (pat__jose_keygen(a, &key) != 0 || claims == NULL)
        die("evp keygen");
    jwk = pat__jwk_export(key, "k1");
    if (jwk == NULL || pat__jwk_import(jwk, &pub, NULL) != 0)
        die("evp jwk");
    RUN("sign", {
        free(tok);
        tok = NULL;
        if (pat__jws_sign(key, "k1", "at+jwt", claims, &tok) != 0)
            die("evp sign");
    });
    RUN("verify", {
        if (pat__jws_parse(tok, strlen(tok), &jws) != 0 ||
            pat__jws_verify(&jws, pub, PAT__JOSE_ALL) != 0)
            die("evp verify");
        pat__jws_release(&jws);
    });
    free(tok);
    json_decref(jwk);
    json_decref(claims);
    EVP_PKEY_free(key);
    EVP_PKEY_free(pub);
}

/* ---- cjose ---- */
static void
bench_cjose(int a, const char *alg)
{
    const char *lib = "cjose";
    cjose_err err;
    cjose_jwk_t *jwk = NULL, *pub = NULL;
    cjose_header_t *hdr;
    char *pubjson;
    const char *compact = NULL;
    char *tok = NULL;

    if (a == PAT__JOSE_RS256)
        jwk = cjose_jwk_create_RSA_random(2048, NULL, 0, &err);
    else
        jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    if (jwk == NULL)
        die("cjose keygen");
    pubjson = cjose_jwk_to_json(jwk, false, &err);
    pub = pubjson != NULL ? cjose_jwk_import(pubjson, strlen(pubjson), &err)
                          : NULL;
    if (pub == NULL)
        die("cjose jwk");
    RUN("sign", {
        cjose_jws_t *jws;

        hdr = cjose_header_new(&err);
        cjose_header_set(hdr, CJOSE_HDR_ALG,
                         a == PAT__JOSE_RS256 ? CJOSE_HDR_ALG_RS256
                                              : CJOSE_HDR_ALG_ES256,
                         &err);
        cjose_header_set(hdr, CJOSE_HDR_KID, "k1", &err);
        cjose_header_set(hdr, "typ", "at+jwt", &err);
        jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)claims_text,
                             sizeof(claims_text) - 1, &err);
        if (jws == NULL || !cjose_jws_export(jws, &compact, &err))
            die("cjose sign");
        free(tok);
        tok = strdup(compact);
        cjose_jws_release(jws);
        cjose_header_release(hdr);
    });
    RUN("verify", {
        cjose_jws_t *jws = cjose_jws_import(tok, strlen(tok), &err);
        uint8_t *pt;
        size_t ptlen;

        if (jws == NULL || !cjose_jws_verify(jws, pub, &err) ||
            !cjose_jws_get_plaintext(jws, &pt, &ptlen, &err))
            die("cjose verify");
        cjose_jws_release(jws);
    });
    free(tok);
    free(pubjson);
    cjose_jwk_release(jwk);
    cjose_jwk_release(pub);
}

/* ---- libjose: JSON serialisation, compact form joined by hand ---- */
static char *
join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(n);

    if (s == NULL)
        die("malloc");
    snprintf(s, n, "%s.%s.%s", a, b, c);
    return s;
}

static void
bench_libjose(int a, const char *alg)
{
    const char *lib = "libjose";
    json_t *jwk, *pub;
    char *tok = NULL;

    jwk = json_pack("{ss}", "alg", alg);
    if (a == PAT__JOSE_RS256)
        json_object_set_new(jwk, "bits", json_integer(2048));
    if (!jose_jwk_gen(NULL, jwk))
        die("libjose keygen");
    pub = json_deep_copy(jwk);
    if (!jose_jwk_pub(NULL, pub))
        die("libjose pub");
    RUN("sign", {
        json_t *jws =
            json_pack("{so}", "payload",
                      jose_b64_enc(claims_text, sizeof(claims_text) - 1));
        json_t *sig = json_pack("{s{ssssss}}", "protected", "alg", alg, "kid",
                                "k1", "typ", "at+jwt");

        if (!jose_jws_sig(NULL, jws, sig, jwk))
            die("libjose sign");
        free(tok);
        tok = join3(json_string_value(json_object_get(jws, "protected")),
                    json_string_value(json_object_get(jws, "payload")),
                    json_string_value(json_object_get(jws, "signature")));
        json_decref(jws);
        json_decref(sig);
    });
    RUN("verify", {
        const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
        json_t *jws = json_pack("{ss% ss% ss}", "protected", tok,
                                (size_t)(d1 - tok), "payload", d1 + 1,
                                (size_t)(d2 - d1 - 1), "signature", d2 + 1);

        if (jws == NULL || !jose_jws_ver(NULL, jws, NULL, pub, false))
            die("libjose verify");
        json_decref(jws);
    });
    free(tok);
    json_decref(jwk);
    json_decref(pub);
}

int
main(int argc, char **argv)
{
    if (argc > 1)
        slice = strtod(argv[1], NULL);
    if (slice <= 0 || slice > 5)
        slice = 0.5;
    printf("%-8s %-6s %-7s %10s\n", "stack", "alg", "op", "ops/s");
    bench_evp(PAT__JOSE_RS256, "RS256");
    bench_cjose(PAT__JOSE_RS256, "RS256");
    bench_libjose(PAT__JOSE_RS256, "RS256");
    bench_evp(PAT__JOSE_ES256, "ES256");
    bench_cjose(PAT__JOSE_ES256, "ES256");
    bench_libjose(PAT__JOSE_ES256, "ES256");
    bench_evp(PAT__JOSE_EDDSA, "EdDSA");
    return 0;
}
