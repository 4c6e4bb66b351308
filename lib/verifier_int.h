/* SPDX-License-Identifier: MIT */
/*
 * The verifier's state, shared by the files that make it up: the hot
 * path, its connection pool and the lifecycle (verifier.c), usage
 * batches (usage.c) and the listener for changes made by other nodes
 * (listener.c). Not installed.
 */
#ifndef PAT_VERIFIER_INT_H
#define PAT_VERIFIER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "usage.h" /* first: it includes system headers before banned.h */
#include "cache.h"
#include "stale.h"
#include "ratewin.h"

#define POOL_MAX      256
#define APPLIED_SLOTS 4096

/*
 * Invariants: idle[0..nidle) are connections not in use; all[0..nall)
 * every connection opened (pool_lock guards both). Counters are atomics
 * read without locks. The flusher runs while flusher_on, the listener
 * while listener_on; stop and stop_cond (under stop_lock) end both. The
 * listener's store handle belongs to the listener thread alone. usage
 * has locks of its own (usage.h), stale too (stale.h). epoch is the
 * counter of stale.h: readers load it, marks advance it. feed_seq is the
 * last feed row applied (written by the listener thread only).
 */
struct pat_verifier {
    char *url;
    char prefix[PAT_PREFIX_MAX + 1];
    struct pat_cache *cache;
    int ttl;
    int usage_interval;
    atomic_uint_fast64_t gen;
    atomic_uint_fast64_t epoch;
    struct pat_stale *stale;
    bool listens; /* the store can LISTEN (PostgreSQL) */
    atomic_int_fast64_t feed_seq;
    /*
     * The feed rows applied lately, by seq (slot seq % APPLIED_SLOTS):
     * a row reaches the verifier twice, from the commit signal and from
     * the feed, and marking it twice would make answers read in between
     * stale for nothing. Whichever comes first applies it.
     */
    atomic_uint_fast64_t applied[APPLIED_SLOTS];

    pthread_mutex_t pool_lock;
    struct pat_store *idle[POOL_MAX];
    size_t nidle;
    struct pat_store *all[POOL_MAX];
    size_t nall;

    struct pat_usage usage;

    /* Governance: rate-limit counters (own locks) and the node share. */
    struct pat_ratewin *rates;
    int rate_nodes;

    pthread_t flusher;
    bool flusher_on;
    pthread_t listener;
    bool listener_on;
    atomic_int listener_up;
    atomic_uint_fast64_t notifications, listener_connects;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stop;

    atomic_uint_fast64_t hits, misses, store_errors, usage_batches,
        usage_writes, miss_ns, stale_tokens, stale_users, flushes;
    atomic_uint_fast64_t uses_spent, rate_refused;
    atomic_uint_fast64_t latency[PAT_LATENCY_BUCKETS + 1];
};

/*
 * Borrows a store connection from v's pool, opening one when none is
 * idle; NULL when none can be opened or POOL_MAX are open. The handle
 * has no error buffer. Give it back with pat__verifier_pool_put.
 */
struct pat_store *pat__verifier_pool_get(struct pat_verifier *v);
void pat__verifier_pool_put(struct pat_verifier *v, struct pat_store *st);

/*
 * Makes what one change names stale (enum pat_evict: a token, a user's
 * tokens, or everything); from the commit signal and the change feed.
 */
void pat__verifier_apply(struct pat_verifier *v, int evict, const char *user_id,
                         const char *token_id);

/* pat__verifier_apply for feed row seq, unless it was applied already. */
void pat__verifier_apply_row(struct pat_verifier *v, int64_t seq, int evict,
                             const char *user_id, const char *token_id);

/*
 * Thread bodies that pat_verifier_new starts with v as arg: the usage
 * flusher (usage.c) and the feed follower (listener.c). Both return once
 * pat_verifier_free sets v->stop.
 */
/*
 * The cached answer for the credential hashed as hash (a PAT or a JWT),
 * into out, or PAT_ENOTFOUND: none, or one read before a change to its
 * token or user. *gen and *epoch are what a miss caches its answer under.
 */
int pat__verifier_cached(struct pat_verifier *v,
                         const uint8_t hash[PAT_HASH_LEN], int64_t now,
                         struct pat_verdict *out, uint64_t *gen,
                         uint64_t *epoch);

/*
 * What a request demands of a valid verdict (c may be NULL): its address
 * in allowed_cidrs, one of its audiences, every required scope. PAT_OK,
 * PAT_EADDRESS, PAT_EAUDIENCE or PAT_EINSUFFICIENT.
 */
int pat__verdict_demands(const struct pat_verdict *out,
                         const struct pat_check *c);

void *pat__flusher_main(void *arg);
void *pat__listener_main(void *arg);

#endif
