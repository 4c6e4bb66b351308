/* SPDX-License-Identifier: MIT */
/*
 * Token redaction for the access log (see log_redact.h). A token can
 * reach a URL by mistake in any segment, inside a segment
 * ("/pat_....json", "/x/token=pat_..."), or percent-encoded
 * ("%70at_..."), so the check is on the shape of every substring, not on
 * whole segments, and it runs on the path as sent and on each
 * percent-decoding of it. Each decoded byte remembers the span of the
 * original it came from, so a token found in a decoding hides exactly
 * the original bytes that spell it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "log_redact.h"
#include "banned.h"

#define TOKEN_BODY   38 /* 32 random + 6 checksum characters */
#define DECODE_DEPTH 4  /* "%25" encodes '%': a few levels are plenty */

/* One level of the path: its bytes and, for each, its span in the original. */
struct level {
    char c[LOG_PATH_SCAN];
    uint16_t from[LOG_PATH_SCAN], to[LOG_PATH_SCAN];
    size_t len;
};

static bool
is_base62(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= 'a' && ch <= 'z');
}

static bool
is_prefix_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static int
hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Marks in hide[] the original bytes of every token-shaped run of lv. */
static void
mark_tokens(const struct level *lv, bool *hide)
{
    size_t i, j, k, start;

    for (i = 0; i < lv->len; i++) {
        if (lv->c[i] != '_')
            continue;
        for (j = i + 1; j < lv->len && is_base62((unsigned char)lv->c[j]); j++)
            ;
        if (j - i - 1 < TOKEN_BODY)
            continue;
        start = i;
        while (start > 0 && is_prefix_char((unsigned char)lv->c[start - 1]))
            start--;
        for (k = lv->from[start]; k < lv->to[j - 1]; k++)
            hide[k] = true;
        i = j - 1;
    }
}

/* Percent-decodes src into dst; false when there was nothing to decode. */
static bool
decode(const struct level *src, struct level *dst)
{
    size_t i = 0, w = 0;
    bool changed = false;
    int hi, lo;

    while (i < src->len) {
        hi = i + 2 < src->len ? hexval((unsigned char)src->c[i + 1]) : -1;
        lo = i + 2 < src->len ? hexval((unsigned char)src->c[i + 2]) : -1;
        if (src->c[i] == '%' && hi >= 0 && lo >= 0) {
            dst->c[w] = (char)(hi * 16 + lo);
            dst->from[w] = src->from[i];
            dst->to[w] = src->to[i + 2];
            i += 3;
            changed = true;
        } else {
            dst->c[w] = src->c[i];
            dst->from[w] = src->from[i];
            dst->to[w] = src->to[i];
            i++;
        }
        w++;
    }
    dst->len = w;
    return changed;
}

size_t
log_path_redact(const char *path, char *out, size_t cap)
{
    static _Thread_local struct level lv[2];
    static _Thread_local bool hide[LOG_PATH_SCAN];
    const char *p = path ? path : "";
    size_t i, w = 0, n = strnlen(p, LOG_PATH_SCAN);
    int depth, cur = 0;

    for (i = 0; i < n; i++) {
        lv[0].c[i] = p[i];
        lv[0].from[i] = (uint16_t)i;
        lv[0].to[i] = (uint16_t)(i + 1);
        hide[i] = false;
    }
    lv[0].len = n;
    mark_tokens(&lv[0], hide);
    for (depth = 0; depth < DECODE_DEPTH; depth++) {
        if (!decode(&lv[cur], &lv[!cur]))
            break;
        cur = !cur;
        mark_tokens(&lv[cur], hide);
    }
    for (i = 0; i < n && w + 1 < cap;) {
        unsigned char ch = (unsigned char)p[i];

        if (hide[i]) {
            if (w + 8 > cap)
                break;
            memcpy(out + w, "[token]", 7);
            w += 7;
            while (i < n && hide[i])
                i++;
            continue;
        }
        out[w++] = (ch >= 0x21 && ch < 0x7f && ch != '"') ? (char)ch : '?';
        i++;
    }
    out[w] = '\0';
    return w;
}
