/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the JOSE layer (lib/jose.c) and the JWT shape
 * check (lib/jwtcheck.c): any bytes are a bearer credential at /v1/auth
 * and a JWKS or ID token to the single sign-on code. Parsing either
 * fails cleanly or yields JSON objects; verification against a fixed
 * JWKS never succeeds for what the fuzzer makes (it holds no private
 * key), and a JWK import either fails or yields a key of a known alg.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jose.h"
#include "pat/exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *jwks;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct pat__jws jws;
    EVP_PKEY *key = NULL;
    json_t *j;
    int alg = 0;

    if (jwks == NULL) {
        EVP_PKEY *k = NULL;

        if (pat__jose_keygen(PAT__JOSE_ES256, &k) != 0)
            abort();
        jwks = json_pack("{s[o]}", "keys", pat__jwk_export(k, "k1"));
        EVP_PKEY_free(k);
    }
    (void)pat_looks_like_jwt(text, size);
    if (pat__jws_parse(text, size, &jws) == 0) {
        if (!json_is_object(jws.header) || !json_is_object(jws.payload) ||
            jws.alg == 0)
            abort();
        pat__jws_release(&jws);
    }
    if (pat__jws_verify_jwks(text, size, jwks, PAT__JOSE_ALL, &jws) == 0)
        abort(); /* a forgery */
    j = json_loadb(text, size, 0, NULL);
    if (j != NULL) {
        if (pat__jwk_import(j, &key, &alg) == 0 &&
            (key == NULL || alg == 0 || pat__jose_alg_of_key(key) != alg))
            abort();
        EVP_PKEY_free(key);
        (void)pat__jwt_check(j, "https://iss", "aud", 1000, 0, NULL, 0);
        json_decref(j);
    }
    return 0;
}
