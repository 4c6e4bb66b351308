/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the signing keys and the keyring (lib/keys.c) on a real
 * store with a fake clock: the KEK's format, a sealed key that only its
 * KEK opens, which key signs and which are published as time passes
 * (pre-publication, supersession, retirement and its window), refusing
 * to retire the only key, and the status bits of an exchange record
 * (lib/exchange.c) following its PAT. Runs on SQLite, and on PostgreSQL
 * under with_pg.sh (PATD_TEST_STORE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pat/exchange.h"
#include "pat/pat.h"

#define T0   1795773600LL
#define LIFE 300

static const char kek_hex[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct fx {
    char dir[64];
    char url[600];
    int64_t now;
    struct pat_store *st;
    uint8_t kek[PAT_KEK_LEN];
    char err[256];
};

static int64_t
fake_now(void *arg)
{
    return ((struct fx *)arg)->now;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *pg = getenv("PATD_TEST_STORE");
    struct pat_user admin;
    struct pat_token tok;
    char secret[PAT_TOKEN_MAX + 1];

    assert_non_null(f);
    f->now = T0;
    snprintf(f->dir, sizeof(f->dir), "/tmp/patd-keys-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (pg != NULL && pg[0] != '\0')
        snprintf(f->url, sizeof(f->url), "%s", pg);
    else
        snprintf(f->url, sizeof(f->url), "%s/p.db", f->dir);
    assert_int_equal(
        pat_store_open(f->url, PAT_OPEN_CREATE, &f->st, f->err, sizeof(f->err)),
        PAT_OK);
    pat_store_set_clock(f->st, fake_now, f);
    if (pat_store_prefix(f->st) == NULL)
        assert_int_equal(
            pat_store_init(f->st, NULL, &admin, &tok, secret, sizeof(secret)),
            PAT_OK);
    assert_int_equal(pat_kek_parse(kek_hex, f->kek), PAT_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char path[700];

    pat_store_close(f->st);
    snprintf(path, sizeof(path), "%s/p.db", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/p.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/p.db-shm", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
test_kek_parse(void **state)
{
    uint8_t k[PAT_KEK_LEN];

    (void)state;
    assert_int_equal(pat_kek_parse("  00112233445566778899aabbccddeeff0011223"
                                   "3445566778899aabbccddeeff\n",
                                   k),
                     PAT_OK);
    assert_int_equal(k[1], 0x11);
    assert_int_equal(pat_kek_parse("0011", k), PAT_EINVAL);
    assert_int_equal(pat_kek_parse("zz112233445566778899aabbccddeeff0011223"
                                   "3445566778899aabbccddeeff",
                                   k),
                     PAT_EINVAL);
}

/* Whether kid is in the JWKS text of kr at now. */
static bool
published(struct pat_keyring *kr, const char *kid, int64_t now)
{
    char *jwks = pat_keyring_jwks(kr, now);
    bool yes = jwks != NULL && strstr(jwks, kid) != NULL;

    assert_non_null(jwks);
    assert_null(strstr(jwks, "\"d\"")); /* never a private member */
    free(jwks);
    return yes;
}

static void
test_rotation_and_windows(void **state)
{
    struct fx *f = *state;
    struct pat_signing_key k1, k2;
    struct pat_keyring *kr = NULL;
    char cur[PAT_KID_MAX + 1];
    char *jwt = NULL;

    assert_int_equal(pat_key_create(f->st, NULL, f->kek, "ES256", f->now, &k1),
                     PAT_OK);
    assert_int_equal(pat_keyring_new(LIFE, &kr), PAT_OK);
    assert_int_equal(pat_keyring_load(kr, f->st, f->kek, f->now), PAT_OK);
    assert_true(pat_keyring_current(kr, f->now, cur, sizeof(cur)));
    assert_string_equal(cur, k1.kid);
    assert_int_equal(
        pat_keyring_sign(kr, f->now, "at+jwt", "{\"sub\":\"x\"}", &jwt),
        PAT_OK);
    assert_non_null(strstr(jwt, "."));
    free(jwt);

    /* Rotation at T0+10, signing from T0+70. */
    f->now = T0 + 10;
    assert_int_equal(
        pat_key_create(f->st, NULL, f->kek, "EdDSA", f->now + 60, &k2), PAT_OK);
    assert_int_equal(pat_keyring_load(kr, f->st, f->kek, f->now), PAT_OK);
    assert_true(published(kr, k2.kid, f->now));
    assert_true(pat_keyring_current(kr, f->now + 59, cur, sizeof(cur)));
    assert_string_equal(cur, k1.kid);
    assert_true(pat_keyring_current(kr, f->now + 60, cur, sizeof(cur)));
    assert_string_equal(cur, k2.kid);
    /* k1 stopped at T0+70: published until T0+70+LIFE. */
    assert_true(published(kr, k1.kid, T0 + 70 + LIFE - 1));
    assert_false(published(kr, k1.kid, T0 + 70 + LIFE));
    assert_true(published(kr, k2.kid, T0 + 70 + LIFE));

    /* The only key that can sign cannot be retired once k1 is. */
    f->now = T0 + 100;
    assert_int_equal(pat_key_retire(f->st, NULL, k1.kid), PAT_OK);
    assert_int_equal(pat_key_retire(f->st, NULL, k1.kid), PAT_ENOTFOUND);
    assert_int_equal(pat_key_retire(f->st, NULL, k2.kid), PAT_ECONFLICT);
    assert_int_equal(pat_key_retire(f->st, NULL, "nokey"), PAT_ENOTFOUND);
    assert_int_equal(pat_keyring_load(kr, f->st, f->kek, f->now), PAT_OK);
    assert_true(pat_keyring_current(kr, f->now, cur, sizeof(cur)));
    assert_string_equal(cur, k2.kid);
    pat_keyring_free(kr);
}

static void
test_wrong_kek(void **state)
{
    struct fx *f = *state;
    struct pat_keyring *kr = NULL;
    uint8_t other[PAT_KEK_LEN];
    size_t n = 0;

    assert_int_equal(pat_key_create(f->st, NULL, f->kek, "RS256", f->now, NULL),
                     PAT_OK);
    assert_int_equal(pat_keys_count(f->st, &n), PAT_OK);
    assert_true(n >= 1);
    memcpy(other, f->kek, sizeof(other));
    other[0] ^= 1;
    assert_int_equal(pat_keyring_new(LIFE, &kr), PAT_OK);
    assert_int_equal(pat_keyring_load(kr, f->st, other, f->now),
                     PAT_EFORBIDDEN);
    assert_false(pat_keyring_current(kr, f->now, (char[40]){0}, 40));
    assert_int_equal(pat_keyring_load(kr, f->st, f->kek, f->now), PAT_OK);
    assert_int_equal(pat_key_create(f->st, NULL, f->kek, "HS256", f->now, NULL),
                     PAT_EINVAL);
    pat_keyring_free(kr);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kek_parse),
        T(test_rotation_and_windows),
        T(test_wrong_kek),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
