/* SPDX-License-Identifier: MIT */
/*
 * The capped growable buffer of buf.h. Growth doubles, but never past the
 * cap, and old memory is wiped before it is freed because a buffer may
 * have held a token on its way to or from the config file.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "banned.h"

void
buf_init(struct buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Makes room for need more bytes plus the NUL. */
static bool
buf_reserve(struct buf *b, size_t need)
{
    size_t want, cap;
    char *p;

    if (need > b->max - b->len)
        return false;
    want = b->len + need + 1;
    if (want <= b->cap)
        return true;
    cap = b->cap ? b->cap : (b->max < 255 ? b->max + 1 : 256);
    while (cap < want)
        cap = cap > (b->max + 1) / 2 ? b->max + 1 : cap * 2;
    p = malloc(cap);
    if (p == NULL)
        return false;
    if (b->ptr != NULL) {
        memcpy(p, b->ptr, b->len + 1);
        explicit_bzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = p;
    b->cap = cap;
    return true;
}

bool
buf_append(struct buf *b, const char *p, size_t len)
{
    if (!buf_reserve(b, len))
        return false;
    if (len > 0)
        memcpy(b->ptr + b->len, p, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return true;
}

bool
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

const char *
buf_str(const struct buf *b)
{
    return b->ptr != NULL ? b->ptr : "";
}

void
buf_truncate(struct buf *b, size_t len)
{
    if (len >= b->len)
        return;
    b->len = len;
    b->ptr[len] = '\0';
}

void
buf_clear(struct buf *b)
{
    b->len = 0;
    if (b->ptr != NULL)
        b->ptr[0] = '\0';
}

void
buf_release(struct buf *b)
{
    if (b->ptr != NULL) {
        explicit_bzero(b->ptr, b->cap);
        free(b->ptr);
    }
    buf_init(b, b->max);
}
