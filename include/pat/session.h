/* SPDX-License-Identifier: MIT */
/*
 * Web sessions: a random cookie value whose SHA-256 is stored with the
 * user, a CSRF token and an expiry. Like tokens, the cookie itself is
 * never stored.
 */
#ifndef PAT_SESSION_H
#define PAT_SESSION_H

#include "store.h"

#define PAT_SESSION_LEN 43 /* base62 characters: about 256 bits */
#define PAT_CSRF_LEN    32

/*
 * Starts a session for user_id lasting ttl seconds. cookie and csrf
 * receive NUL-terminated values (buffers of at least PAT_SESSION_LEN + 1
 * and PAT_CSRF_LEN + 1 bytes).
 */
int pat_session_create(struct pat_store *st, const struct pat_actor *who,
                       const char *user_id, int64_t ttl, char *cookie,
                       size_t cookie_len, char *csrf, size_t csrf_len);

/*
 * Finds the live session of cookie (len bytes): its user (enabled, not
 * deleted) into *u and its CSRF token into csrf. PAT_ENOTFOUND otherwise.
 */
int pat_session_get(struct pat_store *st, const char *cookie, size_t len,
                    struct pat_user *u, char *csrf, size_t csrf_len);

/* Ends a session; ending an unknown one succeeds. */
int pat_session_delete(struct pat_store *st, const char *cookie, size_t len);

#endif
