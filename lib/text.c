/* SPDX-License-Identifier: MIT */
/*
 * Bounded checks of the free text users give (names, descriptions) and
 * small string helpers. Every check reads at most the given length.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Length of the UTF-8 sequence starting with c, 0 for an invalid lead. */
static size_t
seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

/* Decodes one sequence of n bytes at p; -1 for overlong or surrogates. */
static long
decode(const unsigned char *p, size_t n)
{
    long cp;
    size_t i;

    if (n == 1)
        return p[0];
    cp = p[0] & (0x7f >> n);
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff)
        return -1;
    if (cp >= 0xd800 && cp <= 0xdfff)
        return -1;
    return cp;
}

int
pat_utf8_check(const char *s, size_t len, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, count = 0;

    while (i < len) {
        size_t n = seq_len(p[i]);
        long cp;

        if (n == 0 || n > len - i)
            return PAT_EINVAL;
        cp = decode(p + i, n);
        if (cp < 0)
            return PAT_EINVAL;
        /* C0 controls, DEL and C1 controls have no place in a name. */
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return PAT_EINVAL;
        i += n;
        count++;
    }
    if (chars != NULL)
        *chars = count;
    return PAT_OK;
}

int
pat__text_check(struct pat_store *st, const char *field, const char *s,
                size_t max_chars, size_t max_bytes, bool need)
{
    size_t len, chars;

    if (s == NULL)
        s = "";
    len = strnlen(s, max_bytes + 1);
    if (len > max_bytes)
        return pat__fail(st, PAT_EINVAL, "%s is longer than %zu bytes", field,
                         max_bytes);
    if (pat_utf8_check(s, len, &chars) != PAT_OK)
        return pat__fail(st, PAT_EINVAL,
                         "%s is not valid UTF-8 text without control "
                         "characters",
                         field);
    if (chars > max_chars)
        return pat__fail(st, PAT_EINVAL, "%s is longer than %zu characters",
                         field, max_chars);
    if (need && len == 0)
        return pat__fail(st, PAT_EINVAL, "%s must not be empty", field);
    if (need && (s[0] == ' ' || s[len - 1] == ' '))
        return pat__fail(st, PAT_EINVAL,
                         "%s must not start or end with a space", field);
    return PAT_OK;
}

int
pat__copy(char *dst, size_t cap, const char *src)
{
    size_t len;

    if (src == NULL)
        src = "";
    len = strnlen(src, cap);
    if (len >= cap) {
        if (cap > 0)
            dst[0] = '\0';
        return PAT_ERANGE;
    }
    memcpy(dst, src, len + 1);
    return PAT_OK;
}

int
pat__random_id(const char *kind, char *out, size_t outlen)
{
    size_t klen = strlen(kind);

    if (outlen < klen + 1 + PAT_ID_RANDOM + 1)
        return PAT_EINVAL;
    memcpy(out, kind, klen);
    out[klen] = '_';
    if (pat_random_base62(out + klen + 1, PAT_ID_RANDOM) != PAT_OK)
        return PAT_ERANDOM;
    out[klen + 1 + PAT_ID_RANDOM] = '\0';
    return PAT_OK;
}

bool
pat_parse_number(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] == '\0' || strlen(s) > 20)
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}
