/* SPDX-License-Identifier: MIT */
/*
 * Failed sign-in counters, per username and per client address, in fixed
 * windows. The keys are chosen by clients (any username can be typed),
 * so the table is built to be neither evicted nor collided on purpose:
 *
 * - usernames and addresses live in separate tables, so no username can
 *   share an address's counter;
 * - keys are hashed with SipHash-2-4 (libsodium crypto_shorthash) under a
 *   random key made when the table is, so nobody can compute which keys
 *   meet in the table;
 * - a counter whose window is still running is never replaced; memory is
 *   bounded by the capacity given at creation, and when a new key finds
 *   no free place the answer is LOGIN_FULL: the caller refuses that
 *   sign-in (429) rather than forget someone's failures.
 *
 * Every call takes the table's mutex: sign-ins are rare and each costs an
 * argon2id hash, so the lock is never the slow part.
 */
#ifndef PATD_LOGINLIMIT_H
#define PATD_LOGINLIMIT_H

#include <stdint.h>

/* Which table a key belongs to. */
enum login_domain { LOGIN_USER, LOGIN_ADDR };

enum login_verdict {
    LOGIN_ALLOW,   /* under the limit, or unknown with room to count it */
    LOGIN_BLOCKED, /* max failures in the current window */
    LOGIN_FULL     /* unknown, and no free place to count it */
};

struct loginlimit;

/*
 * Two tables of capacity counters each (at least 16); NULL when out of
 * memory. Owned by the caller, freed with loginlimit_free.
 */
struct loginlimit *loginlimit_new(unsigned capacity);
void loginlimit_free(struct loginlimit *ll);

/*
 * Whether key (of domain d) may try to sign in at now, with at most max
 * failures per window seconds. On LOGIN_BLOCKED and LOGIN_FULL
 * *retry_after receives the seconds until that may change (at least 1).
 */
enum login_verdict loginlimit_check(struct loginlimit *ll, enum login_domain d,
                                    const char *key, int64_t now, long window,
                                    long max, long *retry_after);

/*
 * Counts one failure for key. When the table has no free place for a
 * new key the failure is not recorded (loginlimit_check refuses such keys
 * first, so only a race between two sign-ins can get here).
 */
void loginlimit_fail(struct loginlimit *ll, enum login_domain d,
                     const char *key, int64_t now, long window);

/* Forgets key's failures (after a successful sign-in); frees its place. */
void loginlimit_clear(struct loginlimit *ll, enum login_domain d,
                      const char *key);

#endif
