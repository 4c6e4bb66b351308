/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the sign-in limits against crafted usernames
 * (issue #11.4). The old table hashed "u:<username>" and "i:<address>"
 * with unkeyed FNV-1a into one 8192-slot table and evicted the oldest
 * entry of an 8-slot probe run; so usernames chosen offline to land in
 * a victim's run lifted the victim's block, and usernames landing in the
 * address's run kept resetting the per-address counter. This program
 * crafts exactly those usernames and checks that they change nothing
 * now, and that a full table refuses new usernames (429) instead of
 * evicting anyone.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define OLD_SLOTS 8192

static uint64_t
fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/*
 * Fills names[n] with usernames whose old key "u:<name>" started its
 * probe run at the same slot as the old key target.
 */
static void
craft(const char *target, const char *stem, char names[][32], int n)
{
    uint64_t want = fnv1a(target) % OLD_SLOTS;
    char key[40];
    unsigned long i;
    int found = 0;

    for (i = 0; found < n && i < 100000000UL; i++) {
        snprintf(key, sizeof(key), "u:%s%lu", stem, i);
        if (fnv1a(key) % OLD_SLOTS == want)
            snprintf(names[found++], 32, "%s%lu", stem, i);
    }
}

static struct resp *
sign_in(struct h *h, const char *user, const char *password)
{
    return httpf(h, "POST", "/v1/session", NULL,
                 "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
}

static bool
restart(struct h *h, const char *const *env)
{
    h_stop(h);
    return h_start(h, env);
}

static void
test_victim_block(struct h *h)
{
    static const char *const env[] = {"PATD_LOGIN_MAX_FAILURES_PER_USER=3",
                                      "PATD_LOGIN_MAX_FAILURES_PER_IP=1000",
                                      NULL};
    char names[24][32];
    struct resp *r;
    int i;

    h_section("usernames crafted to meet the victim's cannot lift its block");
    if (!restart(h, env))
        return;
    craft("u:vic", "e", names, 24);
    for (i = 0; i < 3; i++) {
        r = sign_in(h, "vic", "wrong password");
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    r = sign_in(h, "vic", "vic's password");
    EXPECT_ERROR(r, 429, "rate_limited");
    for (i = 0; i < 24; i++) {
        r = sign_in(h, names[i], "wrong password");
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    r = sign_in(h, "vic", "vic's password");
    EXPECT_ERROR(r, 429, "rate_limited");
    CHECK(r->set_cookie[0] == '\0', "a blocked sign-in set a cookie");
    EXPECT_HEALTHY(h);
}

static void
test_address_counter(struct h *h)
{
    static const char *const env[] = {"PATD_LOGIN_MAX_FAILURES_PER_USER=1000",
                                      "PATD_LOGIN_MAX_FAILURES_PER_IP=10",
                                      NULL};
    char names[33][32];
    struct resp *r;
    int i, n429 = 0, n401 = 0;

    h_section("usernames crafted to meet the address's key share nothing");
    if (!restart(h, env))
        return;
    craft("i:127.0.0.1", "a", names, 33);
    for (i = 0; i < 33; i++) {
        r = sign_in(h, names[i], "wrong password");
        if (r->status == 429)
            n429++;
        else if (r->status == 401)
            n401++;
    }
    CHECK(n401 == 10 && n429 == 23,
          "33 failures from one address: %d answered 401, %d 429 (want 10, "
          "23)",
          n401, n429);
    /* A username that is the address string has its own counter. */
    r = sign_in(h, "127.0.0.1", "wrong password");
    EXPECT_ERROR(r, 429, "rate_limited");
    EXPECT_HEALTHY(h);
}

static void
test_full_table(struct h *h)
{
    static const char *const env[] = {"PATD_LOGIN_MAX_FAILURES_PER_USER=3",
                                      "PATD_LOGIN_MAX_FAILURES_PER_IP=1000",
                                      "PATD_LOGIN_MAX_TRACKED=16", NULL};
    struct resp *r;
    int i;

    h_section("a full table refuses new usernames, evicts nobody");
    if (!restart(h, env))
        return;
    for (i = 0; i < 3; i++)
        sign_in(h, "vic", "wrong password");
    r = sign_in(h, "tess", "wrong password");
    EXPECT_ERROR(r, 401, "invalid_token");
    for (i = 0; i < 14; i++) {
        r = sign_in(h, hfmt(h, "filler%d", i), "wrong password");
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    /* 16 usernames counted: a 17th is refused before its password. */
    r = sign_in(h, "newcomer", "wrong password");
    EXPECT_ERROR(r, 429, "rate_limited");
    CHECK(r->retry_after[0] != '\0', "429 without Retry-After");
    r = sign_in(h, "rita", "rita's password");
    EXPECT_ERROR(r, 429, "rate_limited");
    /* The victim is still blocked; a counted user still signs in. */
    r = sign_in(h, "vic", "vic's password");
    EXPECT_ERROR(r, 429, "rate_limited");
    r = sign_in(h, "tess", "tess's password");
    EXPECT_STATUS(r, 200);
    /* That success freed a place. */
    r = sign_in(h, "rita", "rita's password");
    EXPECT_STATUS(r, 200);
    /* Tokens are not affected. */
    r = http(h, "GET", "/v1/me", h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
    EXPECT_HEALTHY(h);
}

int
main(int argc, char **argv)
{
    struct h h;

    memset(&h, 0, sizeof(h));
    h_init(&h, argc, argv);
    if (h_start(&h, NULL)) {
        if (h_user(&h, "vic", NULL, "vic's password") &&
            h_user(&h, "tess", NULL, "tess's password") &&
            h_user(&h, "rita", NULL, "rita's password")) {
            test_victim_block(&h);
            test_address_counter(&h);
            test_full_table(&h);
        }
        EXPECT_HEALTHY(&h);
    }
    return h_finish(&h);
}
