/* SPDX-License-Identifier: MIT */
/*
 * The word splitter of scan.h. A token is a whole word, since every
 * character of it is a word character: "xpat_..." and "pat_..._x" are
 * longer words that fail the check, as \b<prefix>_[0-9A-Za-z]{38}\b
 * would not match them. Only words of a token's possible lengths are
 * checked, so the CRC-32 runs rarely.
 */
#include <string.h>

#include "pat/err.h"
#include "scan.h"
#include "banned.h"

/* The shortest token: a two-character prefix, '_', random and checksum. */
#define TOKEN_MIN (PAT_PREFIX_MIN + 1 + PAT_RANDOM_LEN + PAT_CHECKSUM_LEN)

static int
is_word(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= 'a' && ch <= 'z') || ch == '_';
}

void
scan_init(struct scan *s)
{
    s->len = 0;
    s->line = 1;
}

/* Ends the current word, reporting it if it is a token. */
static int
end_word(struct scan *s, scan_found_cb found, void *ctx)
{
    size_t len = s->len;

    s->len = 0;
    if (len < TOKEN_MIN || len > PAT_TOKEN_MAX)
        return 0;
    if (pat_token_check_any(s->word, len) != PAT_OK)
        return 0;
    return found(ctx, s->line, s->word, len);
}

/* Skips bytes that are not word characters, counting lines. */
static size_t
skip_gap(struct scan *s, const char *p, size_t i, size_t len)
{
    for (; i < len && !is_word((unsigned char)p[i]); i++) {
        if (p[i] == '\n')
            s->line++;
    }
    return i;
}

int
scan_feed(struct scan *s, const char *p, size_t len, scan_found_cb found,
          void *ctx)
{
    size_t i = 0, start, n;
    int rc;

    while (i < len) {
        start = i;
        while (i < len && is_word((unsigned char)p[i]))
            i++;
        /* Keep what fits; a longer word only needs its length. */
        n = i - start;
        if (s->len < PAT_TOKEN_MAX)
            memcpy(s->word + s->len, p + start,
                   n < PAT_TOKEN_MAX - s->len ? n : PAT_TOKEN_MAX - s->len);
        s->len =
            n > PAT_TOKEN_MAX + 1 - s->len ? PAT_TOKEN_MAX + 1 : s->len + n;
        if (i == len)
            break; /* the word may go on in the next chunk */
        rc = s->len > 0 ? end_word(s, found, ctx) : 0;
        if (rc != 0)
            return rc;
        i = skip_gap(s, p, i, len);
    }
    return 0;
}

int
scan_end(struct scan *s, scan_found_cb found, void *ctx)
{
    return s->len > 0 ? end_word(s, found, ctx) : 0;
}

void
scan_release(struct scan *s)
{
    explicit_bzero(s->word, sizeof(s->word));
    s->len = 0;
}
