/* SPDX-License-Identifier: MIT */
/*
 * The token string format of DESIGN.md section 2: generation, the offline
 * check (prefix, length, alphabet, CRC-32 checksum) and the SHA-256 that
 * is all the store ever sees. This is the first step of every
 * verification, so it allocates nothing after the first call per thread.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "internal.h"

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* 62 * 4 = 248: bytes at or above it are rejected to keep the draw uniform. */
#define B62_LIMIT 248

/*
 * Membership of the base62 alphabet without branches on the character
 * class: a digit, or a letter once folded to lower case.
 */
static bool
is_b62(unsigned char c)
{
    return (unsigned)(c - '0') < 10u || (unsigned)((c | 0x20) - 'a') < 26u;
}

static int
prefix_check(const char *p, size_t len)
{
    size_t i;

    if (len < PAT_PREFIX_MIN || len > PAT_PREFIX_MAX)
        return PAT_EINVAL;
    if (p[0] < 'a' || p[0] > 'z')
        return PAT_EINVAL;
    for (i = 1; i < len; i++) {
        bool ok = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9');
        if (!ok)
            return PAT_EINVAL;
    }
    return PAT_OK;
}

int
pat_prefix_check(const char *prefix)
{
    if (prefix == NULL)
        return PAT_EINVAL;
    return prefix_check(prefix, strnlen(prefix, PAT_PREFIX_MAX + 1));
}

int
pat_random_base62(char *out, size_t len)
{
    unsigned char buf[64];
    size_t filled = 0;

    while (filled < len) {
        size_t i;

        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return PAT_ERANDOM;
        for (i = 0; i < sizeof(buf) && filled < len; i++) {
            if (buf[i] < B62_LIMIT)
                out[filled++] = b62[buf[i] % 62];
        }
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return PAT_OK;
}

void
pat_token_checksum(const char *s, size_t len, char out[PAT_CHECKSUM_LEN])
{
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)s, (uInt)len);
    int i;

    for (i = PAT_CHECKSUM_LEN - 1; i >= 0; i--) {
        out[i] = b62[crc % 62];
        crc /= 62;
    }
}

int
pat_token_generate(const char *prefix, char *out, size_t outlen)
{
    size_t plen;
    int rc;

    if (out == NULL || outlen < PAT_TOKEN_MAX + 1)
        return PAT_EINVAL;
    if (pat_prefix_check(prefix) != PAT_OK)
        return PAT_EINVAL;
    plen = strlen(prefix);
    memcpy(out, prefix, plen);
    out[plen] = '_';
    rc = pat_random_base62(out + plen + 1, PAT_RANDOM_LEN);
    if (rc != PAT_OK) {
        OPENSSL_cleanse(out, outlen);
        return rc;
    }
    pat_token_checksum(out, plen + 1 + PAT_RANDOM_LEN,
                       out + plen + 1 + PAT_RANDOM_LEN);
    out[plen + 1 + PAT_RANDOM_LEN + PAT_CHECKSUM_LEN] = '\0';
    return PAT_OK;
}

/* Checks body and checksum after a prefix of plen bytes and the '_'. */
static int
check_body(const char *s, size_t len, size_t plen)
{
    char sum[PAT_CHECKSUM_LEN];
    size_t i;

    if (len != plen + 1 + PAT_RANDOM_LEN + PAT_CHECKSUM_LEN)
        return PAT_EMALFORMED;
    if (s[plen] != '_')
        return PAT_EMALFORMED;
    for (i = plen + 1; i < len; i++) {
        if (!is_b62((unsigned char)s[i]))
            return PAT_EMALFORMED;
    }
    pat_token_checksum(s, plen + 1 + PAT_RANDOM_LEN, sum);
    if (memcmp(sum, s + plen + 1 + PAT_RANDOM_LEN, PAT_CHECKSUM_LEN) != 0)
        return PAT_EMALFORMED;
    return PAT_OK;
}

int
pat_token_check(const char *prefix, const char *s, size_t len)
{
    size_t plen;

    if (prefix == NULL || s == NULL)
        return PAT_EMALFORMED;
    plen = strnlen(prefix, PAT_PREFIX_MAX + 1);
    if (plen > PAT_PREFIX_MAX || len <= plen || memcmp(s, prefix, plen) != 0)
        return PAT_EMALFORMED;
    return check_body(s, len, plen);
}

int
pat_token_check_any(const char *s, size_t len)
{
    size_t plen;

    if (s == NULL || len < PAT_RANDOM_LEN + PAT_CHECKSUM_LEN + 1)
        return PAT_EMALFORMED;
    plen = len - 1 - PAT_RANDOM_LEN - PAT_CHECKSUM_LEN;
    if (prefix_check(s, plen) != PAT_OK)
        return PAT_EMALFORMED;
    return check_body(s, len, plen);
}

/*
 * SHA-256 with the digest fetched once per process (OpenSSL 3 otherwise
 * fetches it on every one-shot call) and one context per thread, freed by
 * the thread-key destructor when the thread exits.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t sha256_key;

static void
ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void
sha256_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&sha256_key, ctx_free) != 0) {
        EVP_MD_free(sha256_md);
        sha256_md = NULL;
    }
}

int
pat_token_hash(const char *s, size_t len, uint8_t out[PAT_HASH_LEN])
{
    EVP_MD_CTX *ctx;
    unsigned int n = 0;

    if (pthread_once(&sha256_once, sha256_init) != 0 || sha256_md == NULL)
        return PAT_ECRYPTO;
    ctx = pthread_getspecific(sha256_key);
    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
        if (ctx == NULL)
            return PAT_ENOMEM;
        if (pthread_setspecific(sha256_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            return PAT_ENOMEM;
        }
    }
    if (EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, s, len) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != PAT_HASH_LEN)
        return PAT_ECRYPTO;
    return PAT_OK;
}
