/* SPDX-License-Identifier: MIT */
/*
 * Exact invalidation for the verification cache: marks that say "every
 * answer about this token (or this user's tokens) read before epoch E is
 * stale". The cache is keyed by a token's hash, which a change never
 * names; a mark is keyed by the token or user id the change feed names,
 * and a cached answer carries both ids and the epoch it was read in, so
 * a hit checks two marks instead of the change having to find its
 * entries. A revocation thus costs the cache one answer, not all of them.
 *
 * Epochs come from one counter per verifier: a reader takes the current
 * value before reading the store, a mark takes the next one. A read that
 * began before the mark is older than it, and so stale; one that began
 * after it saw the change. A mark is needed only as long as an answer
 * read before it could still be served, i.e. one cache TTL: older marks
 * are pruned.
 */
#ifndef PAT_STALE_H
#define PAT_STALE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* At most this many marks are kept; past it, the caller flushes. */
#define PAT_STALE_MAX 65536

enum pat_stale_kind { PAT_STALE_TOKEN, PAT_STALE_USER };

struct pat_stale;

/* A set with no marks; NULL when out of memory. */
struct pat_stale *pat__stale_new(void);
void pat__stale_free(struct pat_stale *s);

/*
 * Marks id (a token or user id) stale for every answer read before epoch
 * (the value the caller took from the epoch counter for this mark), at
 * time now (Unix seconds, for pruning). Returns false when the set is
 * full: the caller must then make every cached answer stale itself.
 */
bool pat__stale_mark(struct pat_stale *s, enum pat_stale_kind kind,
                     const char *id, uint64_t epoch, int64_t now);

/*
 * Whether an answer about token_id of user_id, read in epoch, is stale.
 * Lock-free and immediate while the set is empty (the common case).
 */
bool pat__stale_is(struct pat_stale *s, const char *token_id,
                   const char *user_id, uint64_t epoch);

/* Drops the marks made before `before` (Unix seconds); returns how many. */
size_t pat__stale_prune(struct pat_stale *s, int64_t before);

/* Marks currently held. */
size_t pat__stale_count(struct pat_stale *s);

#endif
