/* SPDX-License-Identifier: MIT */
/*
 * Token exchange (DESIGN.md section 10): the JWT signing keys kept in the
 * store under a key-encryption key (KEK), the in-memory keyring a server
 * signs and verifies with, the record of each exchange (its status-list
 * index), JWT verification with the verifier's cache, and the status
 * lists. docs/tokens-and-jwts.md describes the behaviour.
 */
#ifndef PAT_EXCHANGE_H
#define PAT_EXCHANGE_H

#include "format.h"
#include "verify.h"

#define PAT_KEK_LEN       32 /* AES-256-GCM key-encryption key, bytes */
#define PAT_KID_MAX       32
#define PAT_JWK_MAX       1024 /* a public JWK as JSON text */
#define PAT_SEALED_MAX    4096 /* base64url of nonce || ciphertext || tag */
#define PAT_JTI_MAX       32
#define PAT_STATUS_LIST_N 16384 /* entries in one status list */

/* A signing key as stored. retired_at 0: not retired. */
struct pat_signing_key {
    char kid[PAT_KID_MAX + 1];
    char alg[8];
    char public_jwk[PAT_JWK_MAX + 1];
    char sealed[PAT_SEALED_MAX + 1];
    int64_t created_at;
    int64_t active_at; /* signs from then on (published from created_at) */
    int64_t retired_at;
};

/*
 * Reads a KEK: 64 hexadecimal digits (surrounding white space ignored).
 * PAT_EINVAL otherwise. The caller wipes kek when done.
 */
int pat_kek_parse(const char *text, uint8_t kek[PAT_KEK_LEN]);

/*
 * The KEK from the environment: PATD_JWT_KEK (the hex itself) or else
 * PATD_JWT_KEK_FILE, or else file (may be NULL: the configuration's
 * [jwt] kek_file). PAT_ENOTFOUND when none is set; PAT_EINVAL with
 * detail in err when one is set but unreadable or malformed.
 */
int pat_kek_load(const char *file, uint8_t kek[PAT_KEK_LEN], char *err,
                 size_t errlen);

/* Every key, oldest activation first. *n counts them (at most cap). */
int pat_keys_list(struct pat_store *st, struct pat_signing_key *out, size_t cap,
                  size_t *n);

/*
 * Generates a key of alg ("RS256", "ES256", "EdDSA"), seals its private
 * part under kek and stores it, published at once and signing from
 * active_at (now for the first key; now + the pre-publication period for
 * a rotation). Audited as "key.created". out (may be NULL) receives the
 * row.
 */
int pat_key_create(struct pat_store *st, const struct pat_actor *who,
                   const uint8_t kek[PAT_KEK_LEN], const char *alg,
                   int64_t active_at, struct pat_signing_key *out);

/*
 * Retires key kid now: it signs nothing more, and stays published until
 * the last JWT it signed has expired. PAT_ENOTFOUND for an unknown or
 * already retired kid; PAT_ECONFLICT when it is the only key able to sign
 * (rotate first). Audited as "key.retired".
 */
int pat_key_retire(struct pat_store *st, const struct pat_actor *who,
                   const char *kid);

/* Number of keys in the store (0 or more). */
int pat_keys_count(struct pat_store *st, size_t *n);

/*
 * The keyring: the published public keys and the current signing key,
 * loaded from the store. Shared by threads (its own lock); reloaded
 * periodically by the server.
 */
struct pat_keyring;

/*
 * A new, empty keyring for tokens that live at most max_lifetime seconds
 * (a superseded or retired key stays published that long).
 */
int pat_keyring_new(int64_t max_lifetime, struct pat_keyring **out);
void pat_keyring_free(struct pat_keyring *kr);

/*
 * (Re)loads every key from st, opening private parts with kek. Keys
 * whose private part does not open with kek make it fail (PAT_EFORBIDDEN:
 * the wrong KEK); on failure the keyring keeps what it had.
 */
int pat_keyring_load(struct pat_keyring *kr, struct pat_store *st,
                     const uint8_t kek[PAT_KEK_LEN], int64_t now);

/*
 * The JWKS of the keys published at now, as JSON text the caller frees;
 * NULL when out of memory.
 */
char *pat_keyring_jwks(struct pat_keyring *kr, int64_t now);

/* The kid of the key that signs at now ("" when none); false when none. */
bool pat_keyring_current(struct pat_keyring *kr, int64_t now, char *kid,
                         size_t cap);

/*
 * Signs claims (a JSON object as text) with the key current at now, as a
 * compact JWS with typ (e.g. "at+jwt"); *out is a new string the caller
 * frees. PAT_EUNAVAIL when no key signs at now.
 */
int pat_keyring_sign(struct pat_keyring *kr, int64_t now, const char *typ,
                     const char *claims, char **out);

/*
 * Records an exchange in one transaction with its audit event
 * ("token.exchanged", never the JWT): the PAT v (as the verifier answered
 * it) presented with secret hash, the JWT's jti, kid and times. *idx
 * receives the JWT's status-list index (0-based, never reused).
 */
int pat_exchange_record(struct pat_store *st, const struct pat_actor *who,
                        const struct pat_verdict *v,
                        const uint8_t hash[PAT_HASH_LEN], const char *jti,
                        const char *kid, int64_t iat, int64_t exp,
                        const char *detail, int64_t *idx);

/* One of a user's tokens that was exchanged: how often and when last. */
struct pat_exchange_summary {
    char token_id[PAT_ID_LEN + 1];
    char token_name[PAT_NAME_MAX + 1];
    int64_t count;
    int64_t last_at;
};

int pat_exchanges_of_user(struct pat_store *st, const char *user_id,
                          struct pat_exchange_summary *out, size_t cap,
                          size_t *n);

/* Deletes the records of JWTs expired before `before`. */
int pat_exchanges_prune(struct pat_store *st, int64_t before, int64_t *n);

/*
 * The status bits of list k (PAT_STATUS_LIST_N entries, 1 bit each,
 * least significant bit first): 1 for every issued JWT of the list that
 * is not alive at now (its PAT revoked, expired or regenerated, its owner
 * disabled, or itself expired), 0 for live ones and unused indexes.
 * bits[PAT_STATUS_LIST_N / 8]. PAT_ENOTFOUND when no JWT of list k was
 * ever issued.
 */
int pat_status_list_bits(struct pat_store *st, int64_t k, int64_t now,
                         uint8_t *bits);

/* What patd's JWTs are checked against (pat_verifier_check_jwt). */
struct pat_jwt_rules {
    struct pat_keyring *keys;
    const char *issuer; /* the "iss" to demand */
    int allowed_algs;   /* 0: whatever the keyring signs with */
};

/*
 * Whether text is shaped like a JWS (three base64url parts) rather than
 * a PAT; cheap, for routing a bearer credential.
 */
bool pat_looks_like_jwt(const char *text, size_t len);

/*
 * pat_verifier_check for one of patd's own JWTs: signature (a known kid
 * of the keyring; RS256/ES256/EdDSA only), typ at+jwt, iss, exp, nbf;
 * then its status: alive only while its PAT is (see Q_EXCHANGE_STATUS),
 * read from the store and cached by the JWT's hash exactly like a PAT's
 * answer, so that the change feed makes a killed JWT fail within the
 * same bound on every node. c->audience must be among the JWT's "aud".
 * out: token_id (client_id), user_id (sub), username, scopes (the JWT's
 * scope), audiences (aud), created_at (iat), expires_at (exp).
 * Errors as pat_verifier_check; a bad signature or claim is
 * PAT_EUNKNOWN, a killed JWT PAT_EREVOKED.
 */
int pat_verifier_check_jwt(struct pat_verifier *v,
                           const struct pat_jwt_rules *rules, const char *text,
                           size_t len, const struct pat_check *c,
                           struct pat_verdict *out);

/* JWT verifications by outcome since start (for metrics). */
struct pat_jwt_stats {
    uint64_t ok, bad_signature, bad_claims, killed, expired, hits, misses;
};
void pat_jwt_stats(struct pat_jwt_stats *out);

#endif
