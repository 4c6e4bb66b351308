/* SPDX-License-Identifier: MIT */
/*
 * The verifier (include/pat/verify.h): the hot path of DESIGN.md section
 * 5. Order: format and checksum, SHA-256, one cache shard lookup, the
 * request's checks, usage noted in memory. A miss borrows a store
 * connection from a small pool, runs pat_verify once and fills the cache.
 *
 * Coherence is exact (DESIGN.md section 5): a change that names a token
 * or a user makes only the cached answers about that token or that
 * user's tokens stale (stale.h: marks by id, checked on every hit against
 * the epoch the answer was read in); only the scope catalog, the policy,
 * and what cannot be named (a bulk change past the commit signal's
 * bound, a mark table full, a feed that could not be followed) bump the
 * generation, which drops every answer. Both the epoch and the
 * generation are taken before the store read, so a read that races with
 * a change is filed as older than it and never served. Changes reach the
 * verifier from the commit of this process's own store handles
 * (pat_verifier_on_commit) and, for other processes and nodes, from the
 * change feed (listener.c). Usage noted here is written in batches
 * (usage.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verifier_int.h"
#include "store/store_int.h"

const double pat_latency_bounds[PAT_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1};

struct pat_store *
pat__verifier_pool_get(struct pat_verifier *v)
{
    struct pat_store *st = NULL;
    char err[256];

    pthread_mutex_lock(&v->pool_lock);
    if (v->nidle > 0)
        st = v->idle[--v->nidle];
    pthread_mutex_unlock(&v->pool_lock);
    if (st != NULL)
        return st;
    if (pat_store_open(v->url, 0, &st, err, sizeof(err)) != PAT_OK)
        return NULL;
    /* err is gone when this returns; the handle must not keep it. */
    pat_store_set_errbuf(st, NULL, 0);
    pat_store_on_commit(st, pat_verifier_on_commit, v);
    pthread_mutex_lock(&v->pool_lock);
    if (v->nall < POOL_MAX) {
        v->all[v->nall++] = st;
    } else {
        pat_store_close(st);
        st = NULL;
    }
    pthread_mutex_unlock(&v->pool_lock);
    return st;
}

void
pat__verifier_pool_put(struct pat_verifier *v, struct pat_store *st)
{
    pthread_mutex_lock(&v->pool_lock);
    v->idle[v->nidle++] = st;
    pthread_mutex_unlock(&v->pool_lock);
}

static int64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
note_latency(struct pat_verifier *v, int64_t ns)
{
    double s = (double)ns / 1e9;
    int i;

    atomic_fetch_add(&v->miss_ns, (uint64_t)ns);
    for (i = 0; i < PAT_LATENCY_BUCKETS && s > pat_latency_bounds[i]; i++)
        ;
    atomic_fetch_add(&v->latency[i], 1);
}

/* Reads the store once for hash's token and files the answer. */
static int
miss(struct pat_verifier *v, const char *token, size_t len, const uint8_t *hash,
     uint64_t gen, uint64_t epoch, int64_t now, struct pat_verdict *out)
{
    struct pat_store *st = pat__verifier_pool_get(v);
    int64_t t0 = mono_ns();
    int rc;

    atomic_fetch_add(&v->misses, 1);
    if (st == NULL) {
        atomic_fetch_add(&v->store_errors, 1);
        return PAT_EUNAVAIL;
    }
    rc = pat_verify(st, token, len, out);
    pat__verifier_pool_put(v, st);
    note_latency(v, mono_ns() - t0);
    /*
     * A failure that is not an answer about the token gives no verdict:
     * nothing is cached and the caller fails closed on PAT_EUNAVAIL. A
     * store that says it is not initialised counts too (a refusal
     * elsewhere, here the store lost its schema under a running
     * verifier). A reuse that revoked the token (revoke_on_reuse) was
     * committed on this pool handle: its commit signal made the cache
     * stale before this returns.
     */
    if (rc == PAT_ENOTINIT || pat_err_class(rc) == PAT_CLASS_TRANSIENT) {
        atomic_fetch_add(&v->store_errors, 1);
        return PAT_EUNAVAIL;
    }
    (void)pat__cache_put(v->cache, hash, gen, epoch, now, rc, out);
    return rc;
}

int
pat__verifier_cached(struct pat_verifier *v, const uint8_t hash[PAT_HASH_LEN],
                     int64_t now, struct pat_verdict *out, uint64_t *gen,
                     uint64_t *epoch)
{
    uint64_t filled = 0;
    int rc;

    *gen = atomic_load(&v->gen);
    *epoch = atomic_load(&v->epoch);
    rc = pat__cache_get(v->cache, hash, *gen, now, v->ttl, out, &filled);
    /* An answer read before a change to its token or user is gone. */
    if (rc != PAT_ENOTFOUND &&
        pat__stale_is(v->stale, out->token_id, out->user_id, filled))
        rc = PAT_ENOTFOUND;
    return rc;
}

/* The checks a request makes of a valid token (a PAT's or a JWT's). */
int
pat__verdict_demands(const struct pat_verdict *out, const struct pat_check *c)
{
    const char *p;

    if (c == NULL)
        return PAT_OK;
    if (!pat_verdict_allows_ip(out, c->ip))
        return PAT_EADDRESS;
    if (out->audiences[0] != '\0' &&
        (c->audience == NULL ||
         !pat__list_has(out->audiences, c->audience, strlen(c->audience))))
        return PAT_EAUDIENCE;
    for (p = c->scopes; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n > 0 && !pat__list_has(out->scopes, p, n))
            return PAT_EINSUFFICIENT;
        p += n;
        while (*p == ' ')
            p++;
    }
    return PAT_OK;
}

/*
 * Spends one use of a use-limited token in the store (an atomic
 * conditional decrement; exact across nodes). A token found with none
 * left is cached as such, filed under the epoch read before the check.
 */
static int
spend(struct pat_verifier *v, const uint8_t *hash, uint64_t gen, uint64_t epoch,
      int64_t now, struct pat_verdict *out)
{
    struct pat_store *st = pat__verifier_pool_get(v);
    int64_t left = 0;
    int rc;

    if (st == NULL) {
        atomic_fetch_add(&v->store_errors, 1);
        return PAT_EUNAVAIL;
    }
    rc = pat__db_token_use(st, out->token_id, &left);
    pat__verifier_pool_put(v, st);
    if (rc == PAT_ENOTFOUND) {
        (void)pat__cache_put(v->cache, hash, gen, epoch, now, PAT_EEXHAUSTED,
                             out);
        return PAT_EEXHAUSTED;
    }
    if (rc != PAT_OK) {
        atomic_fetch_add(&v->store_errors, 1);
        return PAT_EUNAVAIL;
    }
    atomic_fetch_add(&v->uses_spent, 1);
    out->uses_left = left;
    return PAT_OK;
}

/*
 * The limits of a valid token (DESIGN.md section 13): first whether the
 * check must move (a use-limited token where a store write must not
 * wait), then the rate limit, then the use. A token without limits
 * passes with two tests of fields of its verdict.
 */
static int
limited(struct pat_verifier *v, const uint8_t *hash, uint64_t gen,
        uint64_t epoch, int64_t now, unsigned flags, struct pat_verdict *out)
{
    if (out->uses_limited && (flags & PAT_CHECK_DEFER_LIMITED) != 0)
        return PAT_ELIMIT;
    if (out->rate_limit > 0 && (flags & PAT_CHECK_RATE) != 0) {
        int share = (out->rate_limit + v->rate_nodes - 1) / v->rate_nodes;

        out->rate_node_limit = share;
        if (!pat__ratewin_take(v->rates, out->token_id, share, out->rate_window,
                               now, &out->rate_remaining, &out->rate_reset)) {
            atomic_fetch_add(&v->rate_refused, 1);
            return PAT_ERATE;
        }
    }
    if (out->uses_limited)
        return spend(v, hash, gen, epoch, now, out);
    return PAT_OK;
}

int
pat_verifier_check(struct pat_verifier *v, const char *token, size_t len,
                   const struct pat_check *c, struct pat_verdict *out)
{
    return pat_verifier_check_flags(v, token, len, c, 0, out);
}

void
pat_verifier_set_rate_nodes(struct pat_verifier *v, int n)
{
    v->rate_nodes = n > 0 ? n : 1;
}

int
pat_verifier_check_flags(struct pat_verifier *v, const char *token, size_t len,
                         const struct pat_check *c, unsigned flags,
                         struct pat_verdict *out)
{
    uint8_t hash[PAT_HASH_LEN];
    uint64_t gen, epoch;
    int64_t now;
    int rc;

    out->token_id[0] = out->user_id[0] = out->username[0] = '\0';
    out->scopes[0] = '\0';
    out->expires_at = 0;
    out->rate_node_limit = 0;
    if (token == NULL || pat_token_check(v->prefix, token, len) != PAT_OK)
        return PAT_EMALFORMED;
    if (pat_token_hash(token, len, hash) != PAT_OK)
        return PAT_ECRYPTO;
    now = (int64_t)time(NULL);
    rc = pat__verifier_cached(v, hash, now, out, &gen, &epoch);
    /* An old secret past its grace goes to the store: that is a reuse. */
    if (rc == PAT_ENOTFOUND ||
        (rc == PAT_OK && out->grace_until != 0 && now >= out->grace_until)) {
        if (c != NULL && c->cache_only)
            return PAT_ELIMIT;
        rc = miss(v, token, len, hash, gen, epoch, now, out);
    } else
        atomic_fetch_add(&v->hits, 1);
    if (rc == PAT_OK && out->expires_at != 0 && now >= out->expires_at)
        rc = PAT_EEXPIRED;
    if (rc != PAT_OK)
        return rc;
    rc = pat__verdict_demands(out, c);
    if (rc == PAT_OK && (out->uses_limited || out->rate_limit > 0))
        rc = limited(v, hash, gen, epoch, now, flags, out);
    if (rc == PAT_OK && v->usage_interval > 0)
        pat__usage_note(&v->usage, out->token_id, c ? c->ip : NULL, now);
    return rc;
}

void
pat_verifier_invalidate(struct pat_verifier *v)
{
    atomic_fetch_add(&v->gen, 1);
    atomic_fetch_add(&v->flushes, 1);
}

/* Marks one id stale; a full mark table drops everything instead. */
static void
mark(struct pat_verifier *v, enum pat_stale_kind kind, const char *id)
{
    uint64_t epoch = atomic_fetch_add(&v->epoch, 1) + 1;

    if (!pat__stale_mark(v->stale, kind, id, epoch, (int64_t)time(NULL)))
        pat_verifier_invalidate(v);
    else
        atomic_fetch_add(
            kind == PAT_STALE_TOKEN ? &v->stale_tokens : &v->stale_users, 1);
}

void
pat__verifier_apply(struct pat_verifier *v, int evict, const char *user_id,
                    const char *token_id)
{
    switch (evict) {
    case PAT_EVICT_NONE:
        break;
    case PAT_EVICT_TOKEN:
        /* A row that names no token cannot be applied exactly. */
        if (token_id != NULL && token_id[0] != '\0')
            mark(v, PAT_STALE_TOKEN, token_id);
        else
            pat_verifier_invalidate(v);
        break;
    case PAT_EVICT_USER:
        if (user_id != NULL && user_id[0] != '\0')
            mark(v, PAT_STALE_USER, user_id);
        else
            pat_verifier_invalidate(v);
        break;
    default:
        pat_verifier_invalidate(v);
        break;
    }
}

void
pat__verifier_apply_row(struct pat_verifier *v, int64_t seq, int evict,
                        const char *user_id, const char *token_id)
{
    uint64_t s = (uint64_t)seq;

    if (seq > 0 && atomic_exchange(&v->applied[s % APPLIED_SLOTS], s) == s)
        return;
    pat__verifier_apply(v, evict, user_id, token_id);
}

/*
 * The refs name exactly what the transaction made less valid; past the
 * signal's bound (overflow) nothing is named, so everything goes.
 */
void
pat_verifier_on_commit(void *verifier, const struct pat_change_ref *refs,
                       size_t n, bool overflow)
{
    struct pat_verifier *v = verifier;
    size_t i;

    if (overflow) {
        pat_verifier_invalidate(v);
        return;
    }
    for (i = 0; i < n; i++)
        pat__verifier_apply_row(v, refs[i].seq, refs[i].evict, refs[i].user_id,
                                refs[i].token_id);
}

int
pat_verifier_new(const char *url, const struct pat_verifier_options *o,
                 struct pat_verifier **out, char *errbuf, size_t errlen)
{
    struct pat_verifier *v = calloc(1, sizeof(*v));
    struct pat_store *st = NULL;
    int rc;

    *out = NULL;
    if (v == NULL)
        return PAT_ENOMEM;
    v->ttl = o && o->cache_ttl > 0 ? o->cache_ttl : 10;
    v->usage_interval = o && o->usage_interval != 0 ? o->usage_interval : 60;
    v->url = strdup(url);
    v->cache =
        pat__cache_new(o && o->cache_entries ? o->cache_entries : 1000000);
    v->stale = pat__stale_new();
    v->rates = pat__ratewin_new(65536);
    v->rate_nodes = 1;
    pthread_mutex_init(&v->pool_lock, NULL);
    pthread_mutex_init(&v->stop_lock, NULL);
    pthread_cond_init(&v->stop_cond, NULL);
    pat__usage_init(&v->usage);
    if (v->url == NULL || v->cache == NULL || v->stale == NULL ||
        v->rates == NULL) {
        rc = PAT_ENOMEM;
        goto fail;
    }
    rc = pat_store_open(url, 0, &st, errbuf, errlen);
    if (rc != PAT_OK)
        goto fail;
    /* The caller's buffer is borrowed for this call only. */
    pat_store_set_errbuf(st, NULL, 0);
    if (pat_store_prefix(st) == NULL) {
        pat_store_close(st);
        rc = PAT_ENOTINIT;
        goto fail;
    }
    pat__copy(v->prefix, sizeof(v->prefix), pat_store_prefix(st));
    pat_store_on_commit(st, pat_verifier_on_commit, v);
    v->all[v->nall++] = st;
    v->idle[v->nidle++] = st;
    /* The cache is empty: what the feed holds so far concerns nothing. */
    {
        int64_t seq = 0;
        rc = pat_changes_last(st, &seq);
        if (rc != PAT_OK)
            goto fail;
        atomic_store(&v->feed_seq, seq);
    }
    v->listens = st->drv->listen_start != NULL;
    if (pthread_create(&v->listener, NULL, pat__listener_main, v) != 0) {
        rc = PAT_ENOMEM;
        goto fail;
    }
    v->listener_on = true;
    if (v->usage_interval > 0) {
        if (pthread_create(&v->flusher, NULL, pat__flusher_main, v) != 0) {
            rc = PAT_ENOMEM;
            goto fail;
        }
        v->flusher_on = true;
    }
    *out = v;
    return PAT_OK;
fail:
    pat_verifier_free(v);
    return rc;
}

void
pat_verifier_free(struct pat_verifier *v)
{
    size_t i;

    if (v == NULL)
        return;
    pthread_mutex_lock(&v->stop_lock);
    v->stop = true;
    pthread_cond_broadcast(&v->stop_cond);
    pthread_mutex_unlock(&v->stop_lock);
    if (v->listener_on)
        pthread_join(v->listener, NULL);
    if (v->flusher_on)
        pthread_join(v->flusher, NULL);
    if (v->nall > 0)
        (void)pat_verifier_flush(v);
    for (i = 0; i < v->nall; i++)
        pat_store_close(v->all[i]);
    pat__usage_release(&v->usage);
    pthread_mutex_destroy(&v->pool_lock);
    pthread_mutex_destroy(&v->stop_lock);
    pthread_cond_destroy(&v->stop_cond);
    pat__cache_free(v->cache);
    pat__stale_free(v->stale);
    pat__ratewin_free(v->rates);
    free(v->url);
    free(v);
}

void
pat_verifier_stats(struct pat_verifier *v, struct pat_verifier_stats *out)
{
    out->hits = atomic_load(&v->hits);
    out->misses = atomic_load(&v->misses);
    out->store_errors = atomic_load(&v->store_errors);
    out->usage_batches = atomic_load(&v->usage_batches);
    out->usage_writes = atomic_load(&v->usage_writes);
    out->miss_ns_total = atomic_load(&v->miss_ns);
    out->notifications = atomic_load(&v->notifications);
    out->listener_connects = atomic_load(&v->listener_connects);
    out->listener_up =
        v->listener_on && v->listens ? atomic_load(&v->listener_up) : -1;
    out->stale_tokens = atomic_load(&v->stale_tokens);
    out->stale_users = atomic_load(&v->stale_users);
    out->flushes = atomic_load(&v->flushes);
    out->feed_seq = atomic_load(&v->feed_seq);
    out->uses_spent = atomic_load(&v->uses_spent);
    out->rate_refused = atomic_load(&v->rate_refused);
    pat__cache_counts(v->cache, &out->entries, &out->evictions);
}

void
pat_verifier_latency(struct pat_verifier *v,
                     uint64_t counts[PAT_LATENCY_BUCKETS + 1])
{
    int i;

    for (i = 0; i <= PAT_LATENCY_BUCKETS; i++)
        counts[i] = atomic_load(&v->latency[i]);
}