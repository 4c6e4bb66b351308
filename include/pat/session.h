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
 * Starts a session for user_id lasting ttl seconds, recording who->ip and
 * who->user_agent (either may be NULL). In the same transaction it
 * deletes every expired session (of anyone) and the user's oldest
 * sessions beyond max_per_user (the new one always stays). cookie and
 * csrf receive NUL-terminated values (buffers of at least
 * PAT_SESSION_LEN + 1 and PAT_CSRF_LEN + 1 bytes); they are wiped on
 * failure.
 */
int pat_session_create(struct pat_store *st, const struct pat_actor *who,
                       const char *user_id, int64_t ttl, int max_per_user,
                       char *cookie, size_t cookie_len, char *csrf,
                       size_t csrf_len);

/*
 * Finds the live session of cookie (len bytes): its user (enabled, not
 * deleted) into *u, its CSRF token into csrf and its public id into
 * id[PAT_ID_LEN + 1] (id may be NULL). PAT_ENOTFOUND otherwise.
 */
int pat_session_get(struct pat_store *st, const char *cookie, size_t len,
                    struct pat_user *u, char *csrf, size_t csrf_len, char *id);

/* Ends a session; ending an unknown one succeeds. */
int pat_session_delete(struct pat_store *st, const char *cookie, size_t len);

/*
 * Up to cap of user_id's live sessions, newest first, into out; *n
 * receives the count. The one whose id is current_id (may be NULL) has
 * current set. Never the cookie or its hash.
 */
int pat_session_list(struct pat_store *st, const char *user_id,
                     const char *current_id, struct pat_session *out,
                     size_t cap, size_t *n);

/*
 * Ends user_id's session id, with an audit event. Another user's session
 * is PAT_ENOTFOUND, exactly like a missing one.
 */
int pat_session_end(struct pat_store *st, const struct pat_actor *who,
                    const char *user_id, const char *id);

/* Deletes every expired session; *n (may be NULL) counts them. */
int pat_session_prune(struct pat_store *st, int64_t *n);

#endif
