/* SPDX-License-Identifier: MIT */
/*
 * Finding leaked tokens in a stream of bytes, for patctl scan. Bytes are
 * fed in chunks of any size and split into words: maximal runs of
 * [0-9A-Za-z_], every other byte being a boundary (as \b in a regular
 * expression, so binary files need no special case). A word that is a
 * well-formed token of any valid prefix with a valid checksum
 * (pat_token_check_any in libpat) goes to a callback with its line
 * number. Only the first PAT_TOKEN_MAX bytes of a word are kept, so
 * memory is constant whatever the length of lines and files.
 */
#ifndef PATCTL_SCAN_H
#define PATCTL_SCAN_H

#include <stddef.h>

#include "pat/format.h"

/*
 * The state between two chunks. Invariant: word holds the first
 * min(len, PAT_TOKEN_MAX) bytes of the word being read; len saturates at
 * PAT_TOKEN_MAX + 1, which means "too long to be a token". line is the
 * line (from 1) of the next byte. word may hold a secret: scan_release
 * wipes it.
 */
struct scan {
    char word[PAT_TOKEN_MAX];
    size_t len;
    unsigned long long line;
};

/*
 * Called for each token found: line is where it is, tok (len bytes, not
 * terminated) is borrowed for the call only. A nonzero return stops the
 * scan, and scan_feed or scan_end return it.
 */
typedef int (*scan_found_cb)(void *ctx, unsigned long long line,
                             const char *tok, size_t len);

/* Sets s up at the start of a stream (line 1). Allocates nothing. */
void scan_init(struct scan *s);

/*
 * Scans len bytes of p, which continue what was fed before. Returns 0,
 * or the first nonzero value of found.
 */
int scan_feed(struct scan *s, const char *p, size_t len, scan_found_cb found,
              void *ctx);

/* Ends the stream (the last word may be a token); as scan_feed. */
int scan_end(struct scan *s, scan_found_cb found, void *ctx);

/* Wipes the word buffer. */
void scan_release(struct scan *s);

#endif
