/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of what single sign-on and SCIM keep in the store
 * (include/pat/sso.h): usernames derived from a provider's names, user
 * attributes and the lookup by value (deleted users never match),
 * one-time grants (taken once, refused after they expire, only by their
 * own kind and handle, never stored as the handle), users counted and
 * paged by offset, and the built-in scope patd:scim of a new store.
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
#include <sqlite3.h>

#include "pat/pat.h"

struct fx {
    char dir[64];
    char path[128];
    struct pat_store *st;
    int64_t now;
    struct pat_user alice;
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
    struct pat_user_spec alice = {"alice", "Alice", NULL, PAT_ROLE_USER, NULL};
    struct pat_user admin;
    struct pat_token tok;
    char secret[PAT_TOKEN_MAX + 1], err[256];

    snprintf(f->dir, sizeof(f->dir), "/tmp/patsso.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    f->now = 1800000000;
    assert_int_equal(
        pat_store_open(f->path, PAT_OPEN_CREATE, &f->st, err, sizeof(err)),
        PAT_OK);
    pat_store_set_clock(f->st, fake_now, f);
    assert_int_equal(
        pat_store_init(f->st, NULL, &admin, &tok, secret, sizeof(secret)),
        PAT_OK);
    assert_int_equal(pat_user_create(f->st, NULL, &alice, &f->alice), PAT_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    pat_store_close(f->st);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
test_username_derive(void **state)
{
    char out[PAT_USERNAME_MAX + 1], longname[100];

    (void)state;
    assert_int_equal(pat_username_derive("Jane.Doe@Example.com", out), PAT_OK);
    assert_string_equal(out, "jane.doe-example.com");
    assert_int_equal(pat_username_derive("bob", out), PAT_OK);
    assert_string_equal(out, "bob");
    assert_int_equal(pat_username_derive("_x y", out), PAT_OK);
    assert_string_equal(out, "u_x-y");
    assert_int_equal(pat_username_derive("Zoë", out), PAT_OK);
    assert_string_equal(out, "zo--");
    assert_int_equal(pat_username_derive("", out), PAT_EINVAL);
    memset(longname, 'a', 65);
    longname[65] = '\0';
    assert_int_equal(pat_username_derive(longname, out), PAT_EINVAL);
    longname[64] = '\0';
    assert_int_equal(pat_username_derive(longname, out), PAT_OK);
}

static void
test_attrs(void **state)
{
    struct fx *f = *state;
    char v[PAT_ATTR_MAX + 1], id[PAT_ID_LEN + 1], big[PAT_ATTR_MAX + 2];

    assert_int_equal(pat_user_attr_get(f->st, f->alice.id, "x", v, sizeof(v)),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_user_attr_set(f->st, f->alice.id,
                                       PAT_ATTR_OIDC_SUBJECT, "https://i s1"),
                     PAT_OK);
    assert_int_equal(pat_user_attr_set(f->st, f->alice.id,
                                       PAT_ATTR_OIDC_SUBJECT, "https://i s2"),
                     PAT_OK);
    assert_int_equal(pat_user_attr_get(f->st, f->alice.id,
                                       PAT_ATTR_OIDC_SUBJECT, v, sizeof(v)),
                     PAT_OK);
    assert_string_equal(v, "https://i s2");
    assert_int_equal(
        pat_user_attr_find(f->st, PAT_ATTR_OIDC_SUBJECT, "https://i s2", id),
        PAT_OK);
    assert_string_equal(id, f->alice.id);
    assert_int_equal(
        pat_user_attr_find(f->st, PAT_ATTR_OIDC_SUBJECT, "https://i s1", id),
        PAT_ENOTFOUND);
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(pat_user_attr_set(f->st, f->alice.id, "x", big),
                     PAT_EINVAL);
    /* A deleted user is found by no attribute. */
    assert_int_equal(pat_user_delete(f->st, NULL, f->alice.id), PAT_OK);
    assert_int_equal(
        pat_user_attr_find(f->st, PAT_ATTR_OIDC_SUBJECT, "https://i s2", id),
        PAT_ENOTFOUND);
}

/* The grants table holds no handle, only its hash. */
static bool
db_has(const char *path, const char *text)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    bool found = false;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM grants WHERE "
                                        "instr(key, ?1) > 0 OR instr(data, "
                                        "?1) > 0",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    found = sqlite3_column_int(s, 0) > 0;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return found;
}

static void
test_grants(void **state)
{
    struct fx *f = *state;
    char h1[PAT_HANDLE_LEN + 1], h2[PAT_HANDLE_LEN + 1], out[PAT_GRANT_MAX + 1];
    char big[PAT_GRANT_MAX + 2];

    assert_int_equal(pat_grant_put(f->st, "sso", "{\"n\":1}", 60, h1), PAT_OK);
    assert_int_equal(strlen(h1), PAT_HANDLE_LEN);
    assert_false(db_has(f->path, h1));
    assert_int_equal(pat_grant_put(f->st, "sso", "{\"n\":2}", 60, h2), PAT_OK);
    assert_string_not_equal(h1, h2);
    /* Another kind, a truncated handle: nothing. */
    assert_int_equal(
        pat_grant_take(f->st, "cli", h1, strlen(h1), out, sizeof(out)),
        PAT_ENOTFOUND);
    assert_int_equal(
        pat_grant_take(f->st, "sso", h1, strlen(h1) - 1, out, sizeof(out)),
        PAT_ENOTFOUND);
    assert_int_equal(
        pat_grant_take(f->st, "sso", h1, strlen(h1), out, sizeof(out)), PAT_OK);
    assert_string_equal(out, "{\"n\":1}");
    /* Once only. */
    assert_int_equal(
        pat_grant_take(f->st, "sso", h1, strlen(h1), out, sizeof(out)),
        PAT_ENOTFOUND);
    /* Expired: refused (and gone). */
    f->now += 61;
    assert_int_equal(
        pat_grant_take(f->st, "sso", h2, strlen(h2), out, sizeof(out)),
        PAT_ENOTFOUND);
    memset(big, 'd', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(pat_grant_put(f->st, "sso", big, 60, h1), PAT_EINVAL);
}

static void
test_count_page_and_scim_scope(void **state)
{
    struct fx *f = *state;
    struct pat_user page[4];
    struct pat_scope sc[16];
    int64_t n = 0;
    size_t got = 0, i, ns = 0;
    bool scim = false;

    assert_int_equal(pat_user_count(f->st, &n), PAT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pat_user_page(f->st, 1, page, 4, &got), PAT_OK);
    assert_int_equal(got, 1);
    assert_string_equal(page[0].id, f->alice.id);
    assert_int_equal(pat_user_page(f->st, 2, page, 4, &got), PAT_OK);
    assert_int_equal(got, 0);
    assert_int_equal(pat_scope_list(f->st, sc, 16, &ns), PAT_OK);
    for (i = 0; i < ns; i++)
        scim |= strcmp(sc[i].name, "patd:scim") == 0 && sc[i].builtin;
    assert_true(scim);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_username_derive),
        cmocka_unit_test_setup_teardown(test_attrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_page_and_scim_scope, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
