/* SPDX-License-Identifier: MIT */
/*
 * The verification cache: SHA-256 of a token -> the verdict the store
 * gave, positive or negative. Sharded by the first bytes of the hash,
 * each shard with its own mutex and its own bound, so a lookup takes one
 * shard lock and never a global one. Entries carry the generation they
 * were read in; pat__cache_get treats an older generation or an entry
 * past its TTL as absent.
 */
#ifndef PAT_CACHE_H
#define PAT_CACHE_H

#include <stdatomic.h>

#include "internal.h"

struct pat_cache;

/* A cache of at most max entries (rounded to shards). NULL: no memory. */
struct pat_cache *pat__cache_new(size_t max);
void pat__cache_free(struct pat_cache *c);

/*
 * Looks hash up. On a fresh entry (generation gen, filled less than ttl
 * seconds before now, less again up to a fifth of ttl chosen by the
 * hash so that entries filled together expire apart) copies the verdict
 * into *out and the epoch it was read in into *epoch, and returns its
 * result (PAT_OK or a negative reason); otherwise returns PAT_ENOTFOUND.
 * Whether the epoch is still good is the caller's to decide (stale.h).
 */
int pat__cache_get(struct pat_cache *c, const uint8_t *hash, uint64_t gen,
                   int64_t now, int ttl, struct pat_verdict *out,
                   uint64_t *epoch);

/*
 * Stores the result of a store read made in generation gen and epoch
 * epoch (both taken before the read), replacing any entry for hash;
 * evicts one entry of the shard when it is full. Returns PAT_OK or
 * PAT_ENOMEM (the cache is then just not filled).
 */
int pat__cache_put(struct pat_cache *c, const uint8_t *hash, uint64_t gen,
                   uint64_t epoch, int64_t now, int result,
                   const struct pat_verdict *v);

/* Entries held and evictions so far. */
void pat__cache_counts(struct pat_cache *c, uint64_t *entries,
                       uint64_t *evictions);

#endif
