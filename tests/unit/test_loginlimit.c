/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the sign-in failure counters (src/patd/loginlimit.c),
 * issue #11.4: many distinct usernames cannot lift a victim's block, a
 * username equal to an address string does not share its counter, and a
 * full table refuses new keys (LOGIN_FULL) instead of evicting a live
 * counter, until windows end or a success frees a place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "loginlimit.h"

#define T0     1795773600LL
#define WINDOW 300
#define MAX    5

static enum login_verdict
check(struct loginlimit *ll, enum login_domain d, const char *key, int64_t now,
      long *wait)
{
    return loginlimit_check(ll, d, key, now, WINDOW, MAX, wait);
}

static void
test_block_survives_many_keys(void **state)
{
    struct loginlimit *ll = loginlimit_new(1024);
    char name[32];
    long wait = 0;
    int i, full = 0;

    (void)state;
    assert_non_null(ll);
    for (i = 0; i < MAX; i++)
        loginlimit_fail(ll, LOGIN_USER, "victim", T0, WINDOW);
    assert_int_equal(check(ll, LOGIN_USER, "victim", T0, &wait), LOGIN_BLOCKED);
    /* Ten times the table's size in other names, each failing once. */
    for (i = 0; i < 10240; i++) {
        snprintf(name, sizeof(name), "x%d", i);
        if (check(ll, LOGIN_USER, name, T0 + 1, &wait) == LOGIN_FULL) {
            full++;
            continue;
        }
        loginlimit_fail(ll, LOGIN_USER, name, T0 + 1, WINDOW);
        assert_int_equal(check(ll, LOGIN_USER, "victim", T0 + 1, &wait),
                         LOGIN_BLOCKED);
    }
    assert_true(full > 0);
    assert_int_equal(check(ll, LOGIN_USER, "victim", T0 + 2, &wait),
                     LOGIN_BLOCKED);
    assert_true(wait >= 1 && wait <= WINDOW);
    /* The block ends with its window, not before. */
    assert_int_equal(check(ll, LOGIN_USER, "victim", T0 + WINDOW - 1, &wait),
                     LOGIN_BLOCKED);
    assert_int_equal(check(ll, LOGIN_USER, "victim", T0 + WINDOW, &wait),
                     LOGIN_ALLOW);
    loginlimit_free(ll);
}

static void
test_domains_apart(void **state)
{
    struct loginlimit *ll = loginlimit_new(64);
    long wait = 0;
    int i;

    (void)state;
    assert_non_null(ll);
    for (i = 0; i < 4 * MAX; i++)
        loginlimit_fail(ll, LOGIN_USER, "127.0.0.1", T0, WINDOW);
    assert_int_equal(check(ll, LOGIN_USER, "127.0.0.1", T0, &wait),
                     LOGIN_BLOCKED);
    assert_int_equal(check(ll, LOGIN_ADDR, "127.0.0.1", T0, &wait),
                     LOGIN_ALLOW);
    for (i = 0; i < MAX; i++)
        loginlimit_fail(ll, LOGIN_ADDR, "192.0.2.7", T0, WINDOW);
    assert_int_equal(check(ll, LOGIN_ADDR, "192.0.2.7", T0, &wait),
                     LOGIN_BLOCKED);
    assert_int_equal(check(ll, LOGIN_USER, "192.0.2.7", T0, &wait),
                     LOGIN_ALLOW);
    /* Clearing a username leaves the address alone. */
    loginlimit_fail(ll, LOGIN_USER, "192.0.2.7", T0, WINDOW);
    loginlimit_clear(ll, LOGIN_USER, "192.0.2.7");
    assert_int_equal(check(ll, LOGIN_ADDR, "192.0.2.7", T0, &wait),
                     LOGIN_BLOCKED);
    loginlimit_free(ll);
}

static void
test_full_table(void **state)
{
    struct loginlimit *ll = loginlimit_new(16);
    char name[32];
    long wait = 0;
    int i;

    (void)state;
    assert_non_null(ll);
    assert_null(loginlimit_new(15));
    for (i = 0; i < 16; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(check(ll, LOGIN_USER, name, T0 + i, &wait),
                         LOGIN_ALLOW);
        loginlimit_fail(ll, LOGIN_USER, name, T0 + i, WINDOW);
    }
    /* No room: a new key is refused, and told when room may come. */
    assert_int_equal(check(ll, LOGIN_USER, "newcomer", T0 + 20, &wait),
                     LOGIN_FULL);
    assert_int_equal(wait, WINDOW - 20);
    /* Its failure, should one race through, evicts nobody. */
    loginlimit_fail(ll, LOGIN_USER, "newcomer", T0 + 20, WINDOW);
    for (i = 0; i < 16; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(check(ll, LOGIN_USER, name, T0 + 20, &wait),
                         LOGIN_ALLOW);
    }
    /* Known keys go on counting. */
    for (i = 1; i < MAX; i++)
        loginlimit_fail(ll, LOGIN_USER, "k3", T0 + 20, WINDOW);
    assert_int_equal(check(ll, LOGIN_USER, "k3", T0 + 20, &wait),
                     LOGIN_BLOCKED);
    /* The other table is not full. */
    assert_int_equal(check(ll, LOGIN_ADDR, "newcomer", T0 + 20, &wait),
                     LOGIN_ALLOW);
    /* A success frees a place... */
    loginlimit_clear(ll, LOGIN_USER, "k5");
    assert_int_equal(check(ll, LOGIN_USER, "newcomer", T0 + 21, &wait),
                     LOGIN_ALLOW);
    loginlimit_fail(ll, LOGIN_USER, "newcomer", T0 + 21, WINDOW);
    assert_int_equal(check(ll, LOGIN_USER, "other", T0 + 21, &wait),
                     LOGIN_FULL);
    /* ...and so does the end of the oldest window (k0's). */
    assert_int_equal(check(ll, LOGIN_USER, "other", T0 + WINDOW, &wait),
                     LOGIN_ALLOW);
    /* No key is counted twice after places before it were freed. */
    loginlimit_fail(ll, LOGIN_USER, "other", T0 + WINDOW, WINDOW);
    assert_int_equal(check(ll, LOGIN_USER, "k3", T0 + WINDOW, &wait),
                     LOGIN_BLOCKED);
    loginlimit_free(ll);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_survives_many_keys),
        cmocka_unit_test(test_domains_apart),
        cmocka_unit_test(test_full_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
