/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libpat's parsers of untrusted input: the token
 * format check (any prefix and a fixed one), RFC 3339 times, UTF-8 text
 * checks, scope lists and address ranges (parse and match). The first
 * byte picks the parser; the rest is its input. Every parser must return
 * a result for any bytes, without reading past its length (ASan) or
 * undefined behaviour (UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[PAT_CIDRSTR_MAX + PAT_SCOPESTR_MAX + 2];
    const char *s;
    char *z;
    size_t len, n;
    int64_t t;

    if (size < 1)
        return 0;
    /* An exact-size copy: ASan sees any read past len. */
    len = size - 1;
    z = malloc(len + 1);
    if (z == NULL)
        return 0;
    memcpy(z, data + 1, len);
    z[len] = '\0';
    s = z;
    switch (data[0] % 7) {
    case 0:
        (void)pat_token_check_any(s, len);
        break;
    case 1:
        if (pat_token_check("pat", s, len) == PAT_OK &&
            pat_token_check_any(s, len) != PAT_OK)
            abort(); /* a valid pat_ token is valid for "any prefix" */
        break;
    case 2:
        if (pat_time_parse(s, len, &t) == PAT_OK &&
            pat_time_format(t, out, sizeof(out)) == PAT_OK &&
            pat_time_parse(out, strlen(out), &t) != PAT_OK)
            abort(); /* what we write, we read back */
        break;
    case 3:
        (void)pat_utf8_check(s, len, &n);
        break;
    case 4:
        if (strlen(s) == len)
            (void)pat_scope_list_parse(s, out, sizeof(out));
        break;
    case 5:
        if (strlen(s) == len && pat_cidr_list_check(s) == PAT_OK)
            (void)pat_cidr_list_match(s, "10.1.2.3");
        break;
    case 6: {
        /* "ranges|address": match an address against a list. */
        char *bar = memchr(z, '|', len);
        if (bar != NULL && strlen(s) == len) {
            *bar = '\0';
            (void)pat_cidr_list_match(z, bar + 1);
        }
        break;
    }
    }
    free(z);
    return 0;
}
