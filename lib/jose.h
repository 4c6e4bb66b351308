/* SPDX-License-Identifier: MIT */
/*
 * JOSE for patd (internal, pat__ prefix): compact JWS (RFC 7515) signed
 * and verified with OpenSSL 3 EVP, JWK (RFC 7517, RFC 8037) public
 * import and export, JWKS lookup by kid, key generation, and the JWT
 * (RFC 7519) time, issuer and audience checks. JSON is jansson's,
 * base64url is libsodium's. docs/internals/jose.md says why this and not
 * cjose or libjose.
 *
 * Only three algorithms exist here: RS256, ES256 (P-256) and EdDSA
 * (Ed25519). "none" and every HS* are unknown names, so they can never be
 * allowed; each verification also takes the caller's allow-list.
 *
 * Error codes (enum pat_err):
 *   PAT_EMALFORMED  not three base64url parts, header or payload not a
 *                   JSON object, no "alg", bad JWK members
 *   PAT_EPOLICY     "alg" not in the allow-list, or not the key's kind
 *   PAT_ENOTFOUND   no key in the JWKS has the token's "kid"
 *   PAT_EFORBIDDEN  the signature does not verify
 *   PAT_EEXPIRED    "exp" passed or "nbf" not yet reached (claims check)
 *   PAT_EUNKNOWN    "iss" is not the expected issuer (claims check)
 *   PAT_EAUDIENCE   "aud" lacks the expected audience (claims check)
 *   PAT_ENOMEM, PAT_ECRYPTO, PAT_EINVAL as usual.
 */
#ifndef PAT_JOSE_H
#define PAT_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "pat/err.h"

/* Algorithms; the values are bits so that an allow-list is a mask. */
enum pat__jose_alg {
    PAT__JOSE_RS256 = 1 << 0,
    PAT__JOSE_ES256 = 1 << 1,
    PAT__JOSE_EDDSA = 1 << 2,
};

#define PAT__JOSE_ALL (PAT__JOSE_RS256 | PAT__JOSE_ES256 | PAT__JOSE_EDDSA)

/* Largest compact JWS accepted for verification, in bytes. */
#define PAT__JWS_MAX 16384

/* "RS256", "ES256", "EdDSA"; NULL for anything else. */
const char *pat__jose_alg_name(int alg);

/* The alg of a name (exact, case-sensitive); 0 for "none", HS* and any
 * name not listed above. */
int pat__jose_alg_from_name(const char *name);

/* The algorithm a key signs with (0 for any other kind of key). RSA keys
 * must be at least 2048 bits to count. */
int pat__jose_alg_of_key(const EVP_PKEY *key);

/*
 * Generates a signing key for alg (RSA 2048 for RS256). On success *out
 * is a new key the caller frees with EVP_PKEY_free; on failure *out is
 * NULL.
 */
int pat__jose_keygen(int alg, EVP_PKEY **out);

/*
 * base64url without padding (libsodium). encode: *out is a new
 * NUL-terminated string the caller frees. decode: *out is a new buffer of
 * *outlen bytes (plus a NUL not counted) the caller frees; PAT_EMALFORMED
 * for any character outside the alphabet, padding included. On failure
 * *out is NULL.
 */
int pat__b64url_encode(const void *in, size_t inlen, char **out);
int pat__b64url_decode(const char *in, size_t inlen, unsigned char **out,
                       size_t *outlen);

/*
 * The public JWK of key: {"kty", the public members, "use":"sig",
 * "alg", "kid"} (kid omitted when NULL). Never a private member. Returns
 * a new reference the caller owns, or NULL on failure.
 */
json_t *pat__jwk_export(const EVP_PKEY *key, const char *kid);

/*
 * Imports the public part of a JWK (RSA, EC P-256, OKP Ed25519; private
 * members are ignored). *key is a new key the caller frees; *alg (may be
 * NULL) is the alg it signs with. A JWK whose "alg" member disagrees with
 * the key kind, or whose "use" is not "sig", is refused (PAT_EPOLICY).
 */
int pat__jwk_import(const json_t *jwk, EVP_PKEY **key, int *alg);

/*
 * The key in jwks ({"keys":[...]}) whose "kid" equals kid; borrowed from
 * jwks. NULL when there is none, kid is NULL, or jwks is not a JWKS.
 */
const json_t *pat__jwks_find(const json_t *jwks, const char *kid);

/*
 * Signs claims as a compact JWS with header {"alg","typ","kid"} (typ and
 * kid omitted when NULL). The alg is the key's. *out is a new string the
 * caller frees; NULL on failure.
 */
int pat__jws_sign(EVP_PKEY *key, const char *kid, const char *typ,
                  const json_t *claims, char **out);

/*
 * A parsed compact JWS: header and payload as JSON objects (owned), the
 * alg and kid read from the header (kid borrowed from header, may be
 * NULL), the signing input length (the bytes before the second dot of
 * the text it was parsed from) and the decoded signature (owned).
 * Initialise with pat__jws_init; release with pat__jws_release.
 */
struct pat__jws {
    json_t *header;
    json_t *payload;
    int alg;
    const char *kid;
    const char *text;
    size_t signed_len;
    unsigned char *sig;
    size_t siglen;
};

void pat__jws_init(struct pat__jws *jws);
void pat__jws_release(struct pat__jws *jws);

/*
 * Parses text[0..len) without verifying. The text is borrowed and must
 * outlive jws. On failure jws holds nothing (release is still safe).
 * An unknown or forbidden "alg" ("none", HS*) fails here with
 * PAT_EPOLICY, before any key is looked at.
 */
int pat__jws_parse(const char *text, size_t len, struct pat__jws *jws);

/*
 * Verifies a parsed JWS with key: the header alg must be in allowed (a
 * mask of enum pat__jose_alg) and be the key's alg. 0 when the signature
 * verifies.
 */
int pat__jws_verify(const struct pat__jws *jws, EVP_PKEY *key, int allowed);

/*
 * Parses, finds the key by the header's kid in jwks (a token without a
 * kid is refused unless the JWKS holds exactly one key), imports it and
 * verifies. On success jws holds the parsed token; on failure it holds
 * nothing.
 */
int pat__jws_verify_jwks(const char *text, size_t len, const json_t *jwks,
                         int allowed, struct pat__jws *jws);

/*
 * The JWT claim checks of RFC 7519 section 4.1 on a verified payload:
 * "iss" equals iss (skipped when iss is NULL), "aud" (a string or an
 * array of strings) contains aud (skipped when aud is NULL), "exp" is
 * present and later than now - leeway, "nbf" (if present) is at most
 * now + leeway. Detail (may be NULL) says which check failed.
 */
int pat__jwt_check(const json_t *claims, const char *iss, const char *aud,
                   int64_t now, int64_t leeway, char *detail, size_t cap);

#endif
