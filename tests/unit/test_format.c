/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the token format (DESIGN.md section 2) against the shared
 * vectors, and of the small text parsers the library relies on: base62,
 * CRC edge cases, SHA-256, RFC 3339 times, UTF-8, lists and CIDRs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "internal.h"

#ifndef PAT_VECTORS_DIR
#error "PAT_VECTORS_DIR must name ../shared/vectors"
#endif

/* Splits line at tabs into at most n fields (in place); returns count. */
static int
split_tabs(char *line, char **f, int n)
{
    int k = 0;
    char *p = line;

    line[strcspn(line, "\r\n")] = '\0';
    while (k < n) {
        char *tab = strchr(p, '\t');
        f[k++] = p;
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return k;
}

static FILE *
open_vectors(const char *name)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", PAT_VECTORS_DIR, name);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open test vectors '%s'", path);
    return f;
}

static void
test_valid_vectors(void **state)
{
    FILE *f = open_vectors("token-format.tsv");
    char line[512];
    int count = 0;

    (void)state;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *fld[4], sum[PAT_CHECKSUM_LEN], expect[64];
        uint32_t crc;
        size_t plen;

        if (line[0] == '#')
            continue;
        assert_int_equal(split_tabs(line, fld, 4), 4);
        plen = strlen(fld[0]);
        /* The vector's CRC is zlib's CRC-32 of "<prefix>_<random>". */
        crc = (uint32_t)crc32(0L, (const Bytef *)fld[3], (uInt)plen + 33);
        snprintf(expect, sizeof(expect), "%08x", crc);
        assert_string_equal(expect, fld[2]);
        pat_token_checksum(fld[3], plen + 33, sum);
        assert_memory_equal(sum, fld[3] + plen + 33, PAT_CHECKSUM_LEN);
        assert_memory_equal(fld[3] + plen + 1, fld[1], PAT_RANDOM_LEN);
        assert_int_equal(pat_token_check(fld[0], fld[3], strlen(fld[3])),
                         PAT_OK);
        assert_int_equal(pat_token_check_any(fld[3], strlen(fld[3])), PAT_OK);
        count++;
    }
    fclose(f);
    assert_true(count >= 10);
}

static void
test_invalid_vectors(void **state)
{
    FILE *f = open_vectors("token-invalid.tsv");
    char line[512];
    int count = 0;

    (void)state;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *fld[2] = {NULL, NULL};
        int n;

        if (line[0] == '#')
            continue;
        n = split_tabs(line, fld, 2);
        if (n < 2)
            fld[1] = (char *)(uintptr_t) "";
        if (pat_token_check("pat", fld[1], strlen(fld[1])) != PAT_EMALFORMED)
            fail_msg("accepted invalid vector (%s): '%s'", fld[0], fld[1]);
        count++;
    }
    fclose(f);
    assert_true(count >= 10);
}

static void
test_checksum_edges(void **state)
{
    char sum[PAT_CHECKSUM_LEN];

    (void)state;
    /* CRC-32 of nothing is 0: all padding. */
    pat_token_checksum("", 0, sum);
    assert_memory_equal(sum, "000000", 6);
    /* The largest CRC still fits in six base62 digits. */
    assert_true(62ULL * 62 * 62 * 62 * 62 * 62 > 0xffffffffULL);
    /* crc32("a") = 0xe8b7be43 = 3904355907: check against a hand count. */
    pat_token_checksum("a", 1, sum);
    {
        const char *b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                          "nopqrstuvwxyz";
        uint64_t v = 0xe8b7be43u;
        char expect[6];
        int i;
        for (i = 5; i >= 0; i--) {
            expect[i] = b62[v % 62];
            v /= 62;
        }
        assert_memory_equal(sum, expect, 6);
    }
}

static void
test_prefixes(void **state)
{
    (void)state;
    assert_int_equal(pat_prefix_check("pat"), PAT_OK);
    assert_int_equal(pat_prefix_check("x9"), PAT_OK);
    assert_int_equal(pat_prefix_check("abcdefghijklmnop"), PAT_OK);
    assert_int_equal(pat_prefix_check("abcdefghijklmnopq"), PAT_EINVAL);
    assert_int_equal(pat_prefix_check("p"), PAT_EINVAL);
    assert_int_equal(pat_prefix_check("9at"), PAT_EINVAL);
    assert_int_equal(pat_prefix_check("Pat"), PAT_EINVAL);
    assert_int_equal(pat_prefix_check("pa_t"), PAT_EINVAL);
    assert_int_equal(pat_prefix_check(""), PAT_EINVAL);
    assert_int_equal(pat_prefix_check(NULL), PAT_EINVAL);
}

static int
cmp_tokens(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
test_generate_many(void **state)
{
    enum { N = 10000, W = PAT_TOKEN_MAX + 1 };
    char *all = calloc(N, W);
    int seen[256] = {0}, i, distinct_chars = 0;

    (void)state;
    assert_non_null(all);
    for (i = 0; i < N; i++) {
        char *t = all + (size_t)i * W;
        size_t j;
        assert_int_equal(pat_token_generate("pat", t, W), PAT_OK);
        assert_int_equal(strlen(t), 42);
        assert_int_equal(pat_token_check("pat", t, 42), PAT_OK);
        for (j = 4; j < 36; j++)
            seen[(unsigned char)t[j]]++;
    }
    qsort(all, N, W, cmp_tokens);
    for (i = 1; i < N; i++)
        assert_true(strcmp(all + (size_t)(i - 1) * W, all + (size_t)i * W) !=
                    0);
    /* 320,000 draws: every base62 character shows up, nothing else. */
    for (i = 0; i < 256; i++) {
        bool b62 = (i >= '0' && i <= '9') || (i >= 'A' && i <= 'Z') ||
                   (i >= 'a' && i <= 'z');
        if (seen[i] > 0) {
            assert_true(b62);
            distinct_chars++;
            /* Uniform: each expected ~5161; far outside is a biased draw. */
            assert_true(seen[i] > 4500 && seen[i] < 5900);
        }
    }
    assert_int_equal(distinct_chars, 62);
    free(all);
}

static void
test_generate_rejects(void **state)
{
    char small[10], buf[PAT_TOKEN_MAX + 1];

    (void)state;
    assert_int_equal(pat_token_generate("pat", small, sizeof(small)),
                     PAT_EINVAL);
    assert_int_equal(pat_token_generate("BAD", buf, sizeof(buf)), PAT_EINVAL);
    assert_int_equal(pat_token_generate("acme", buf, sizeof(buf)), PAT_OK);
    assert_int_equal(pat_token_check("acme", buf, strlen(buf)), PAT_OK);
    /* A valid token for one prefix is malformed for another. */
    assert_int_equal(pat_token_check("pat", buf, strlen(buf)), PAT_EMALFORMED);
    /* Length is checked without reading past len. */
    assert_int_equal(pat_token_check("acme", buf, strlen(buf) - 1),
                     PAT_EMALFORMED);
}

static void
test_hash(void **state)
{
    static const char tok[] = "pat_000000000000000000000000000000000dawQ1";
    static const uint8_t expect[32] = {
        0x65, 0xea, 0xa6, 0x5c, 0x1f, 0x07, 0x88, 0xa3, 0x70, 0x14, 0x25,
        0x2f, 0x9d, 0xe0, 0x6a, 0xa3, 0x21, 0xb0, 0x70, 0x0d, 0xf6, 0x2c,
        0x6f, 0x07, 0x7a, 0xdd, 0xd5, 0xab, 0x92, 0xac, 0xbe, 0x78};
    uint8_t h[PAT_HASH_LEN];

    (void)state;
    assert_int_equal(pat_token_hash(tok, strlen(tok), h), PAT_OK);
    assert_memory_equal(h, expect, 32);
    /* The per-thread context is reused: a second hash is the same. */
    assert_int_equal(pat_token_hash(tok, strlen(tok), h), PAT_OK);
    assert_memory_equal(h, expect, 32);
}

static void
test_time(void **state)
{
    char buf[PAT_TIME_LEN + 1];
    int64_t t;

    (void)state;
    assert_int_equal(pat_time_format(0, buf, sizeof(buf)), PAT_OK);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(pat_time_parse("2026-11-27T10:00:00Z", 20, &t), PAT_OK);
    assert_int_equal(t, 1795773600);
    assert_int_equal(pat_time_format(t, buf, sizeof(buf)), PAT_OK);
    assert_string_equal(buf, "2026-11-27T10:00:00Z");
    assert_int_equal(pat_time_parse("2026-11-27T11:30:00+01:30", 25, &t),
                     PAT_OK);
    assert_int_equal(t, 1795773600);
    assert_int_equal(pat_time_parse("2026-11-27T10:00:00.123Z", 24, &t),
                     PAT_OK);
    assert_int_equal(t, 1795773600);
    assert_int_equal(pat_time_parse("2026-11-27", 10, &t), PAT_OK);
    assert_int_equal(t, 1795737600);
    assert_int_equal(pat_time_parse("2028-02-29", 10, &t), PAT_OK);
    assert_int_equal(pat_time_parse("2027-02-29", 10, &t), PAT_EINVAL);
    assert_int_equal(pat_time_parse("2026-13-01", 10, &t), PAT_EINVAL);
    assert_int_equal(pat_time_parse("2026-11-27T10:00:00", 19, &t), PAT_EINVAL);
    assert_int_equal(pat_time_parse("2026-11-27T25:00:00Z", 20, &t),
                     PAT_EINVAL);
    assert_int_equal(pat_time_parse("2026-11-27T10:00:00Zjunk", 24, &t),
                     PAT_EINVAL);
    assert_int_equal(pat_time_parse("tomorrow", 8, &t), PAT_EINVAL);
    assert_int_equal(pat_time_parse("", 0, &t), PAT_EINVAL);
    assert_int_equal(pat_time_format(-1, buf, sizeof(buf)), PAT_ERANGE);
    assert_int_equal(pat_time_format(1, buf, 5), PAT_ERANGE);
}

static void
test_utf8(void **state)
{
    size_t n = 0;

    (void)state;
    assert_int_equal(pat_utf8_check("caf\xc3\xa9", 5, &n), PAT_OK);
    assert_int_equal(n, 4);
    assert_int_equal(pat_utf8_check("\xf0\x9f\x94\x91", 4, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pat_utf8_check("\xc3", 1, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("\xc0\xaf", 2, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("\xe0\x80\xaf", 3, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("\xed\xa0\x80", 3, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("\xf4\x90\x80\x80", 4, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("a\nb", 3, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("a\x7f", 2, NULL), PAT_EINVAL);
    assert_int_equal(pat_utf8_check("\xc2\x85", 2, NULL), PAT_EINVAL);
}

static void
test_lists(void **state)
{
    char out[PAT_SCOPESTR_MAX + 1], bad[80], big[4096];
    size_t n = 0;
    int i;

    (void)state;
    assert_int_equal(pat__list_normalize("  b a  c a ", pat__scope_canon, 50,
                                         64, out, sizeof(out), bad, sizeof(bad),
                                         &n),
                     PAT_OK);
    assert_string_equal(out, "a b c");
    assert_int_equal(n, 4); /* items given, before de-duplication */
    assert_int_equal(pat__list_normalize("ok Bad", pat__scope_canon, 50, 64,
                                         out, sizeof(out), bad, sizeof(bad),
                                         NULL),
                     PAT_EINVAL);
    assert_string_equal(bad, "Bad");
    big[0] = '\0';
    for (i = 0; i < 51; i++) {
        char item[16];
        snprintf(item, sizeof(item), "s%d ", i);
        strncat(big, item, sizeof(big) - strlen(big) - 1);
    }
    assert_int_equal(pat__list_normalize(big, pat__scope_canon, 50, 64, out,
                                         sizeof(out), bad, sizeof(bad), NULL),
                     PAT_ELIMIT);
    assert_true(pat__list_has("a bb c", "bb", 2));
    assert_false(pat__list_has("a bb c", "b", 1));
    assert_int_equal(pat__list_intersect("a b c", "b c d", out, sizeof(out)),
                     PAT_OK);
    assert_string_equal(out, "b c");
    assert_true(pat__list_missing("a b", "b", out, sizeof(out)));
    assert_string_equal(out, "a");
    assert_false(pat__list_missing("b", "a b", out, sizeof(out)));
}

static void
test_cidr(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(pat__cidr_canon("10.1.2.3/16", 11, out, sizeof(out)),
                     PAT_OK);
    assert_string_equal(out, "10.1.0.0/16");
    assert_int_equal(pat__cidr_canon("192.0.2.7", 9, out, sizeof(out)), PAT_OK);
    assert_string_equal(out, "192.0.2.7/32");
    assert_int_equal(pat__cidr_canon("2001:db8::1/32", 14, out, sizeof(out)),
                     PAT_OK);
    assert_string_equal(out, "2001:db8::/32");
    assert_int_equal(pat__cidr_canon("10.0.0.0/33", 11, out, sizeof(out)),
                     PAT_EINVAL);
    assert_int_equal(pat__cidr_canon("10.0.0/8", 8, out, sizeof(out)),
                     PAT_EINVAL);
    assert_int_equal(pat__cidr_canon("10.0.0.0/", 9, out, sizeof(out)),
                     PAT_EINVAL);
    assert_int_equal(pat__cidr_canon("host/8", 6, out, sizeof(out)),
                     PAT_EINVAL);
    assert_true(pat__cidr_match("10.1.0.0/16", "10.1.255.3"));
    assert_false(pat__cidr_match("10.1.0.0/16", "10.2.0.1"));
    assert_true(pat__cidr_match("10.0.0.0/8 192.0.2.0/25", "192.0.2.100"));
    assert_false(pat__cidr_match("192.0.2.0/25", "192.0.2.200"));
    assert_true(pat__cidr_match("127.0.0.0/8", "::ffff:127.0.0.1"));
    assert_true(pat__cidr_match("2001:db8::/32", "2001:db8:1::5"));
    assert_false(pat__cidr_match("2001:db8::/32", "10.0.0.1"));
    assert_true(pat__cidr_match("0.0.0.0/0", "203.0.113.9"));
    assert_false(pat__cidr_match("", "10.0.0.1"));
    assert_false(pat__cidr_match("10.0.0.0/8", "not-an-ip"));
}

static void
test_errors(void **state)
{
    (void)state;
    assert_string_equal(pat_strerror(PAT_OK), "success");
    assert_string_equal(pat_strerror(PAT_EREVOKED), "token revoked");
    assert_string_equal(pat_errname(PAT_EMALFORMED), "EMALFORMED");
    assert_string_equal(pat_strerror(-999), "unknown error");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_vectors),
        cmocka_unit_test(test_invalid_vectors),
        cmocka_unit_test(test_checksum_edges),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_generate_many),
        cmocka_unit_test(test_generate_rejects),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
