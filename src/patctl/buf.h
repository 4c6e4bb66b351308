/* SPDX-License-Identifier: MIT */
/*
 * A growable byte buffer with a hard cap fixed when it is created (as
 * curl's dynbuf). patctl holds server answers, request paths and config
 * file text in one, so nothing the server or a file sends can make it
 * grow without bound. The contents are always NUL-terminated.
 */
#ifndef PATCTL_BUF_H
#define PATCTL_BUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Invariant: ptr is NULL (nothing appended yet) or holds len bytes plus
 * a NUL, with len < cap <= max + 1.
 */
struct buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /* most bytes the buffer may ever hold */
};

/* Sets b up empty, able to grow to max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/*
 * Appends len bytes of p. Returns false, leaving b as it was, when that
 * would pass the cap or memory runs out.
 */
bool buf_append(struct buf *b, const char *p, size_t len);

/* Appends a NUL-terminated string; as buf_append. */
bool buf_puts(struct buf *b, const char *s);

/*
 * The contents as a string, borrowed until the next change or release;
 * "" when nothing was appended.
 */
const char *buf_str(const struct buf *b);

/* Shortens b to its first len bytes; nothing happens if len >= b->len. */
void buf_truncate(struct buf *b, size_t len);

/* Empties b, keeping its memory and cap. */
void buf_clear(struct buf *b);

/* Wipes the bytes (they may be a secret), frees them, and empties b. */
void buf_release(struct buf *b);

#endif
