/* SPDX-License-Identifier: MIT */
/*
 * The change feed (DESIGN.md section 12): one row for every change,
 * appended in the same transaction as the change, so that nothing
 * committed is missing and nothing rolled back is there. The audit trail
 * is for people; the feed is for machines: cache invalidation, webhooks
 * and notifications read it by sequence number. It never holds a secret.
 */
#ifndef PAT_FEED_H
#define PAT_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct pat_store;

#define PAT_CHANGE_TYPE_MAX 31
#define PAT_CHANGE_DATA_MAX 4096 /* bytes of JSON: an audit detail fits */
#define PAT_FEED_RETENTION  (30 * 86400) /* default, in seconds */

/* What a verifier must forget because of a change. */
enum pat_evict {
    PAT_EVICT_NONE = 0,  /* nothing can have become less valid */
    PAT_EVICT_TOKEN = 1, /* the token named by token_id */
    PAT_EVICT_USER = 2,  /* every token of user_id */
    PAT_EVICT_ALL = 3,   /* every token (scope catalog, policy) */
};

/*
 * One row of the feed. actor is the acting user's id, or "system" (a
 * local command, the server itself, an unauthenticated leak report).
 * user_id and token_id are "" where the change names none. data is a
 * small JSON object.
 */
struct pat_change {
    int64_t seq;
    int64_t at;
    char type[PAT_CHANGE_TYPE_MAX + 1];
    char actor[PAT_ID_LEN + 1];
    char user_id[PAT_ID_LEN + 1];
    char token_id[PAT_ID_LEN + 1];
    int evict; /* enum pat_evict */
    char data[PAT_CHANGE_DATA_MAX + 1];
};

/*
 * Up to cap rows with seq > after, oldest first; *n receives the count.
 * out is the caller's; its contents past *n are unspecified.
 */
int pat_changes_list(struct pat_store *st, int64_t after,
                     struct pat_change *out, size_t cap, size_t *n);

/* The highest seq in the feed, 0 when it is empty. */
int pat_changes_last(struct pat_store *st, int64_t *seq);

/* Deletes the rows older than before (Unix seconds); *n: how many. */
int pat_changes_prune(struct pat_store *st, int64_t before, int64_t *n);

/*
 * The commit signal: what a committed transaction appended to the feed,
 * as far as a verifier needs it. At most PAT_COMMIT_REFS_MAX refs are
 * kept per transaction; beyond that (a bulk revocation) overflow is true
 * and the receiver must treat every token as changed.
 */
#define PAT_COMMIT_REFS_MAX 64

struct pat_change_ref {
    int64_t seq;
    int evict; /* enum pat_evict */
    char user_id[PAT_ID_LEN + 1];
    char token_id[PAT_ID_LEN + 1];
};

/*
 * Called on the committing thread right after a commit that appended at
 * least one feed row whose evict is not PAT_EVICT_NONE, before the call
 * that committed returns (so a revocation is known to the caller's cache
 * before it is acknowledged). refs is borrowed for the call.
 */
typedef void (*pat_commit_cb)(void *arg, const struct pat_change_ref *refs,
                              size_t n, bool overflow);

/* Registers cb on st (NULL: none). One callback per handle. */
void pat_store_on_commit(struct pat_store *st, pat_commit_cb cb, void *arg);

#endif
