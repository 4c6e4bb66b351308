/* SPDX-License-Identifier: MIT */
/*
 * The token string format (DESIGN.md section 2):
 *
 *     <prefix>_<random><checksum>
 *
 * prefix: 2-16 of [a-z0-9], starting with a letter; random: 32 base62
 * characters from a CSPRNG; checksum: CRC-32 of "<prefix>_<random>" in
 * base62, most significant digit first, zero-padded to 6 characters.
 * Only this file's functions know that shape.
 */
#ifndef PAT_FORMAT_H
#define PAT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PAT_PREFIX_MIN   2
#define PAT_PREFIX_MAX   16
#define PAT_RANDOM_LEN   32
#define PAT_CHECKSUM_LEN 6
#define PAT_TOKEN_MAX    (PAT_PREFIX_MAX + 1 + PAT_RANDOM_LEN + PAT_CHECKSUM_LEN)
#define PAT_HASH_LEN     32
#define PAT_HINT_LEN     4

/* Returns PAT_OK when prefix is a valid token prefix, else PAT_EINVAL. */
int pat_prefix_check(const char *prefix);

/*
 * Writes a new token for prefix into out (NUL-terminated). outlen must be
 * at least PAT_TOKEN_MAX + 1. Returns PAT_EINVAL for a bad prefix or short
 * buffer, PAT_ERANDOM when the CSPRNG fails; out is wiped on failure. The
 * caller owns the plaintext and must OPENSSL_cleanse it when done.
 */
int pat_token_generate(const char *prefix, char *out, size_t outlen);

/*
 * Checks that s (len bytes, need not be NUL-terminated) is a well-formed
 * token for prefix with a valid checksum. Returns PAT_OK or
 * PAT_EMALFORMED. Reads at most len bytes and touches no store.
 */
int pat_token_check(const char *prefix, const char *s, size_t len);

/*
 * Like pat_token_check, but for any valid prefix: used by scanners that do
 * not know which prefix a deployment chose.
 */
int pat_token_check_any(const char *s, size_t len);

/* Writes the 6-character base62 CRC-32 of s into out (not terminated). */
void pat_token_checksum(const char *s, size_t len, char out[PAT_CHECKSUM_LEN]);

/*
 * SHA-256 of the token string s into out. The digest is fetched once per
 * process and a context is reused per thread. Returns PAT_OK or
 * PAT_ECRYPTO.
 */
int pat_token_hash(const char *s, size_t len, uint8_t out[PAT_HASH_LEN]);

/* Fills out with len characters drawn uniformly from base62. */
int pat_random_base62(char *out, size_t len);

#endif
