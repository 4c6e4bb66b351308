/* SPDX-License-Identifier: MIT */
/*
 * Verifying a presented token string: is it valid, whose is it, and what
 * may it do. The order is fixed: format and checksum (no lookup for a
 * malformed string), SHA-256, one store read, then the checks.
 */
#ifndef PAT_VERIFY_H
#define PAT_VERIFY_H

#include "feed.h"
#include "store.h"

struct pat_verdict {
    char token_id[PAT_ID_LEN + 1];
    char user_id[PAT_ID_LEN + 1];
    char username[PAT_USERNAME_MAX + 1];
    char scopes[PAT_SCOPESTR_MAX + 1]; /* token's ∩ the owner's current */
    char audiences[PAT_AUDSTR_MAX + 1];
    char allowed_cidrs[PAT_CIDRSTR_MAX + 1];
    int64_t created_at;
    int64_t expires_at;  /* 0: never */
    int64_t grace_until; /* nonzero: an old secret inside its grace */
    /* Governance (DESIGN.md section 13). */
    bool service;      /* the owner is a service account */
    bool uses_limited; /* max_uses set: every success spends one use */
    int64_t uses_left; /* after this check's use (uses_limited) */
    int rate_limit;    /* requests per rate_window seconds; 0: none */
    int rate_window;
    /*
     * Set by a check that counted the rate limit (pat_check.rate): the
     * limit this node applies, what remains of it in the current window
     * and the seconds until that window ends. Never cached.
     */
    int rate_node_limit;
    int rate_remaining;
    int rate_reset;
};

/*
 * Verifies token (len bytes). Returns PAT_OK with *out filled, or the
 * reason it is not valid: PAT_EMALFORMED, PAT_EUNKNOWN, PAT_EREVOKED,
 * PAT_EREUSED, PAT_EEXPIRED, PAT_EDISABLED; or PAT_EUNAVAIL / PAT_ESTORE
 * when the store cannot answer (callers must fail closed). For
 * PAT_EREVOKED, PAT_EREUSED and PAT_EEXPIRED, out->token_id and
 * out->user_id name the token. A reuse is written to the audit trail and,
 * under the revoke_on_reuse policy, revokes the token: the only writes
 * this call makes.
 */
int pat_verify(struct pat_store *st, const char *token, size_t len,
               struct pat_verdict *out);

/*
 * Whether a verified token may be used from ip (text form, IPv4 or IPv6):
 * true when the token has no allowed_cidrs or ip lies in one of them.
 */
bool pat_verdict_allows_ip(const struct pat_verdict *v, const char *ip);

/* Whether a verified token holds scope (an item of v->scopes). */
bool pat_verdict_has_scope(const struct pat_verdict *v, const char *scope);

/*
 * The verifier: pat_verify behind a sharded in-memory cache, safe to call
 * from any number of threads, for the daemon and for C programs that
 * check tokens in-process (DESIGN.md section 5). A cache hit touches no
 * store and takes one shard lock; a miss reads the store once and fills
 * the cache. Usage (last use time and addresses) is gathered in memory
 * and written in batches, once per interval per token at most.
 */
struct pat_verifier;

struct pat_verifier_options {
    size_t cache_entries; /* bound on cached tokens; 0: 1,000,000 */
    int cache_ttl;        /* seconds an entry may serve; 0: 10 */
    int usage_interval;   /* seconds between usage writes; 0: 60, <0: off */
};

/* What a request demands of a token. Every field may be NULL. */
struct pat_check {
    const char *ip;       /* the client address: allowed_cidrs and usage */
    const char *scopes;   /* required scopes, space-separated, all needed */
    const char *audience; /* the resource's audience */
    /*
     * Answer only from the cache: a miss returns PAT_ELIMIT without
     * reading the store (for callers that are being rate-limited).
     */
    bool cache_only;
};

/*
 * Opens a verifier on the store at url (see pat_store_open). Store
 * connections are opened as threads need them. On a PostgreSQL store a
 * thread of the verifier also holds one connection that listens for the
 * changes other nodes commit. On failure *out is NULL and errbuf
 * receives the reason.
 */
int pat_verifier_new(const char *url, const struct pat_verifier_options *o,
                     struct pat_verifier **out, char *errbuf, size_t errlen);

/* Writes pending usage, then frees everything. Accepts NULL. */
void pat_verifier_free(struct pat_verifier *v);

/*
 * Verifies token and checks c. Returns PAT_OK with *out filled, a reason
 * the token is not valid (as pat_verify), PAT_EADDRESS (address outside
 * allowed_cidrs), PAT_EAUDIENCE (a token limited to audiences, and the
 * request names none of them or none at all), PAT_EINSUFFICIENT (a
 * required scope is missing; out is filled), PAT_ERATE (over its rate
 * limit, with PAT_CHECK_RATE; out is filled), or PAT_EUNAVAIL when the
 * store cannot answer a miss: callers must fail closed. A use-limited
 * token spends one use in the store on every check that would succeed
 * (one atomic conditional decrement, exact across nodes): PAT_EEXHAUSTED
 * when none is left. Tokens without a limit never write.
 */
int pat_verifier_check(struct pat_verifier *v, const char *token, size_t len,
                       const struct pat_check *c, struct pat_verdict *out);

/*
 * Flags of pat_verifier_check_flags (governance, DESIGN.md section 13).
 * PAT_CHECK_RATE: count and enforce the token's rate limit (forward
 * auth). PAT_CHECK_DEFER_LIMITED: a use-limited token is not checked
 * but answered PAT_ELIMIT, before its rate limit is counted, so that
 * the caller runs the check again where a store write may wait (the
 * daemon's workers).
 */
#define PAT_CHECK_RATE          1u
#define PAT_CHECK_DEFER_LIMITED 2u

/* pat_verifier_check with flags; pat_verifier_check passes 0. */
int pat_verifier_check_flags(struct pat_verifier *v, const char *token,
                             size_t len, const struct pat_check *c,
                             unsigned flags, struct pat_verdict *out);

/*
 * Per-token rate limits are counted on each node: with n nodes, a node
 * allows ceil(limit / n) requests per window (docs/governance.md).
 * Default 1; call before the verifier serves.
 */
void pat_verifier_set_rate_nodes(struct pat_verifier *v, int n);

/*
 * Makes every cached answer stale: the next check of every token reads
 * the store again. Changes made through a store handle registered with
 * pat_verifier_on_commit (and, on PostgreSQL, by any node) reach the
 * verifier by themselves; this is for changes it cannot hear of.
 */
void pat_verifier_invalidate(struct pat_verifier *v);

/*
 * A pat_commit_cb (include/pat/feed.h) for the store handles whose
 * changes verifier must hear of at once:
 * pat_store_on_commit(st, pat_verifier_on_commit, v). It runs on the
 * committing thread before the change is acknowledged, so a revocation
 * is refused by the very next check on this node. verifier must outlive
 * the registration.
 */
void pat_verifier_on_commit(void *verifier, const struct pat_change_ref *refs,
                            size_t n, bool overflow);

/* Writes the pending usage now (the daemon's shutdown calls it). */
int pat_verifier_flush(struct pat_verifier *v);

struct pat_verifier_stats {
    uint64_t hits;          /* answered from the cache */
    uint64_t misses;        /* read from the store */
    uint64_t evictions;     /* entries dropped to stay within the bound */
    uint64_t entries;       /* entries held now */
    uint64_t store_errors;  /* misses the store could not answer */
    uint64_t usage_batches; /* usage flushes that wrote something */
    uint64_t usage_writes;  /* token rows written by them */
    uint64_t miss_ns_total; /* time spent in store reads, nanoseconds */
    /*
     * Scale-out (a store with notifications, i.e. PostgreSQL):
     * notifications heard (each makes the verifier read the change feed);
     * times the listening connection was opened (each reads what was
     * committed while it was down from the feed); whether it is up now
     * (1 or 0), or -1 when the store has no notifications.
     */
    uint64_t notifications;
    uint64_t listener_connects;
    int listener_up;
    /*
     * Exact invalidation (DESIGN.md section 5): tokens and users whose
     * cached answers were made stale one by one, times the whole cache
     * was dropped (the scope catalog or the policy changed, a bulk change
     * too large to name, or the feed could not be followed), and the
     * sequence number of the last feed row applied.
     */
    uint64_t stale_tokens;
    uint64_t stale_users;
    uint64_t flushes;
    int64_t feed_seq;
    /* Governance: uses spent by this verifier, rate-limit refusals. */
    uint64_t uses_spent;
    uint64_t rate_refused;
};

void pat_verifier_stats(struct pat_verifier *v, struct pat_verifier_stats *out);

/* Counts of store reads by duration, for a latency histogram. */
#define PAT_LATENCY_BUCKETS 8
extern const double pat_latency_bounds[PAT_LATENCY_BUCKETS]; /* seconds */
void pat_verifier_latency(struct pat_verifier *v,
                          uint64_t counts[PAT_LATENCY_BUCKETS + 1]);

#endif
