/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for patctl scan's scanner (src/patctl/scan.c). The
 * first byte says where to cut the rest in two chunks; the scanner must
 * find exactly the same tokens on the same lines whether the stream comes
 * whole or cut there, and every token it reports must pass the format
 * check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pat/pat.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    unsigned long long n, lines;
    uint32_t sum; /* of the tokens' bytes, to compare the two runs */
};

static int
found(void *ctx, unsigned long long line, const char *tok, size_t len)
{
    struct seen *s = ctx;
    size_t i;

    if (pat_token_check_any(tok, len) != PAT_OK)
        abort();
    s->n++;
    s->lines += line;
    for (i = 0; i < len; i++)
        s->sum = s->sum * 31 + (unsigned char)tok[i];
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen whole = {0, 0, 0}, cut = {0, 0, 0};
    struct scan s;
    char *p;
    size_t len, at;

    if (size < 1)
        return 0;
    len = size - 1;
    p = malloc(len ? len : 1);
    if (p == NULL)
        return 0;
    memcpy(p, data + 1, len);
    at = len ? data[0] % (len + 1) : 0;

    scan_init(&s);
    scan_feed(&s, p, len, found, &whole);
    scan_end(&s, found, &whole);
    scan_release(&s);

    scan_init(&s);
    scan_feed(&s, p, at, found, &cut);
    scan_feed(&s, p + at, len - at, found, &cut);
    scan_end(&s, found, &cut);
    scan_release(&s);
    if (whole.n != cut.n || whole.lines != cut.lines || whole.sum != cut.sum)
        abort();
    free(p);
    return 0;
}
