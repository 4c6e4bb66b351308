/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the verification cache (lib/cache.c): answers are kept
 * and copied out whole, an older generation or an entry past its TTL is
 * absent, a shard never holds more than its bound (evicting instead),
 * and tables grow as entries arrive without losing any.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "stale.h"

static void
key_of(unsigned n, uint8_t *hash)
{
    /* Any 32 bytes will do: spread n over the shard and bucket bytes. */
    memset(hash, 0, PAT_HASH_LEN);
    hash[0] = (uint8_t)(n * 37);
    memcpy(hash + 8, &n, sizeof(n));
    hash[31] = (uint8_t)(n >> 8);
}

static void
verdict_of(unsigned n, struct pat_verdict *v)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->token_id, sizeof(v->token_id), "tok_%016u", n);
    snprintf(v->user_id, sizeof(v->user_id), "usr_%016u", n % 7);
    snprintf(v->username, sizeof(v->username), "user%u", n % 7);
    snprintf(v->scopes, sizeof(v->scopes), "repo:read s%u", n);
    snprintf(v->audiences, sizeof(v->audiences), "%s", n % 2 ? "api" : "");
    v->expires_at = 1000 + n;
    v->created_at = n;
    v->grace_until = n % 3 ? 0 : 5000;
}

static void
test_put_get(void **state)
{
    struct pat_cache *c = pat__cache_new(100000);
    uint64_t ep = 0;
    struct pat_verdict in, out;
    uint8_t h[PAT_HASH_LEN];
    unsigned n;

    (void)state;
    assert_non_null(c);
    /* Enough entries to make every shard's table grow several times. */
    for (n = 0; n < 20000; n++) {
        key_of(n, h);
        verdict_of(n, &in);
        assert_int_equal(
            pat__cache_put(c, h, 1, 0, 100, n % 5 ? PAT_OK : PAT_EREVOKED, &in),
            PAT_OK);
    }
    for (n = 0; n < 20000; n++) {
        key_of(n, h);
        verdict_of(n, &in);
        memset(&out, 0xaa, sizeof(out));
        assert_int_equal(pat__cache_get(c, h, 1, 105, 10, &out, &ep),
                         n % 5 ? PAT_OK : PAT_EREVOKED);
        assert_string_equal(out.token_id, in.token_id);
        assert_string_equal(out.user_id, in.user_id);
        assert_string_equal(out.username, in.username);
        assert_string_equal(out.scopes, in.scopes);
        assert_string_equal(out.audiences, in.audiences);
        assert_string_equal(out.allowed_cidrs, "");
        assert_int_equal(out.expires_at, in.expires_at);
        assert_int_equal(out.grace_until, in.grace_until);
    }
    {
        uint64_t entries, evictions;
        pat__cache_counts(c, &entries, &evictions);
        assert_int_equal(entries, 20000);
        assert_int_equal(evictions, 0);
    }
    pat__cache_free(c);
}

static void
test_generation_and_ttl(void **state)
{
    struct pat_cache *c = pat__cache_new(1000);
    uint64_t ep = 0;
    struct pat_verdict v, out;
    uint8_t h[PAT_HASH_LEN];

    (void)state;
    key_of(7, h);
    verdict_of(7, &v);
    assert_int_equal(pat__cache_put(c, h, 3, 0, 100, PAT_OK, &v), PAT_OK);
    assert_int_equal(pat__cache_get(c, h, 3, 109, 10, &out, &ep), PAT_OK);
    /* Past the TTL, or read in another generation: absent. */
    assert_int_equal(pat__cache_get(c, h, 3, 110, 10, &out, &ep),
                     PAT_ENOTFOUND);
    assert_int_equal(pat__cache_get(c, h, 4, 101, 10, &out, &ep),
                     PAT_ENOTFOUND);
    /* A newer answer replaces the old one in place. */
    assert_int_equal(pat__cache_put(c, h, 4, 0, 101, PAT_EREVOKED, &v), PAT_OK);
    assert_int_equal(pat__cache_get(c, h, 4, 102, 10, &out, &ep), PAT_EREVOKED);
    key_of(8, h);
    assert_int_equal(pat__cache_get(c, h, 4, 102, 10, &out, &ep),
                     PAT_ENOTFOUND);
    pat__cache_free(c);
}

static void
test_bound(void **state)
{
    struct pat_cache *c = pat__cache_new(1000);
    uint64_t ep = 0;
    struct pat_verdict v, out;
    uint8_t h[PAT_HASH_LEN];
    uint64_t entries, evictions;
    unsigned n, found = 0;

    (void)state;
    for (n = 0; n < 50000; n++) {
        key_of(n, h);
        verdict_of(n, &v);
        assert_int_equal(pat__cache_put(c, h, 1, 0, 100, PAT_OK, &v), PAT_OK);
    }
    pat__cache_counts(c, &entries, &evictions);
    /* 64 shards of 1000 / 64 + 1 = 16 entries each at most. */
    assert_true(entries <= 64 * 16);
    assert_int_equal(entries + evictions, 50000);
    for (n = 0; n < 50000; n++) {
        key_of(n, h);
        found += pat__cache_get(c, h, 1, 100, 10, &out, &ep) == PAT_OK;
    }
    assert_int_equal(found, entries);
    pat__cache_free(c);
}

/* An entry hands back the epoch it was read in. */
static void
test_epoch(void **state)
{
    struct pat_cache *c = pat__cache_new(1000);
    struct pat_verdict v, out;
    uint8_t h[PAT_HASH_LEN];
    uint64_t ep = 0;

    (void)state;
    memset(h, 7, sizeof(h));
    memset(&v, 0, sizeof(v));
    snprintf(v.token_id, sizeof(v.token_id), "tok_AAAAAAAAAAAAAAAA");
    assert_int_equal(pat__cache_put(c, h, 1, 42, 100, PAT_OK, &v), PAT_OK);
    assert_int_equal(pat__cache_get(c, h, 1, 101, 10, &out, &ep), PAT_OK);
    assert_int_equal(ep, 42);
    assert_string_equal(out.token_id, v.token_id);
    pat__cache_free(c);
}

/* Marks: stale before their epoch only, by token or user, then pruned. */
static void
test_stale_marks(void **state)
{
    struct pat_stale *s = pat__stale_new();
    const char *t = "tok_AAAAAAAAAAAAAAAA", *u = "usr_BBBBBBBBBBBBBBBB";
    char id[PAT_ID_LEN + 1];
    size_t i;

    (void)state;
    assert_non_null(s);
    assert_false(pat__stale_is(s, t, u, 0));
    assert_true(pat__stale_mark(s, PAT_STALE_TOKEN, t, 5, 100));
    assert_true(pat__stale_is(s, t, u, 4));
    assert_false(pat__stale_is(s, t, u, 5)); /* read after the mark */
    assert_false(pat__stale_is(s, "tok_CCCCCCCCCCCCCCCC", u, 0));
    /* A token id is not a user id: the kinds do not mix. */
    assert_false(pat__stale_is(s, "tok_CCCCCCCCCCCCCCCC", t, 0));
    assert_true(pat__stale_mark(s, PAT_STALE_USER, u, 7, 101));
    assert_true(pat__stale_is(s, "tok_CCCCCCCCCCCCCCCC", u, 6));
    assert_false(pat__stale_is(s, "", "", 0));
    /* A later mark of the same id moves its epoch on. */
    assert_true(pat__stale_mark(s, PAT_STALE_TOKEN, t, 9, 102));
    assert_true(pat__stale_is(s, t, "", 8));
    assert_int_equal(pat__stale_count(s), 2);
    assert_int_equal(pat__stale_prune(s, 102), 1); /* the user's, at 101 */
    assert_false(pat__stale_is(s, "tok_CCCCCCCCCCCCCCCC", u, 6));
    assert_int_equal(pat__stale_prune(s, 1000), 1);
    assert_false(pat__stale_is(s, t, u, 0));
    /* Full: the caller is told, so that it can flush instead. */
    for (i = 0; i < PAT_STALE_MAX; i++) {
        snprintf(id, sizeof(id), "tok_%016zu", i);
        assert_true(pat__stale_mark(s, PAT_STALE_TOKEN, id, 1, 200));
    }
    assert_false(
        pat__stale_mark(s, PAT_STALE_TOKEN, "tok_ZZZZZZZZZZZZZZZZ", 2, 200));
    assert_true(pat__stale_mark(s, PAT_STALE_TOKEN, "tok_0000000000000001", 3,
                                200)); /* one already held */
    pat__stale_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_generation_and_ttl),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_stale_marks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
