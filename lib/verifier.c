/* SPDX-License-Identifier: MIT */
/*
 * The verifier (include/pat/verify.h): the hot path of DESIGN.md section
 * 5. Order: format and checksum, SHA-256, one cache shard lookup, the
 * request's checks, usage noted in memory. A miss borrows a store
 * connection from a small pool, runs pat_verify once and fills the cache.
 *
 * Coherence: every cached answer carries the generation it was read in.
 * pat_verifier_invalidate bumps the generation, so after a change every
 * answer is read again. The generation is taken before the store read,
 * so a read that races with a change is filed under the old generation
 * and never served.
 *
 * Scale-out (DESIGN.md section 5): when the backend can listen
 * (PostgreSQL), a listener thread holds its own store handle and bumps
 * the generation on every notification, i.e. on every change committed
 * by any node. Notifications are not replayed, so each time the
 * listener (re)connects it bumps the generation too, after its LISTEN is
 * in place: a change it may have missed is then read from the store.
 * While it is disconnected, misses still read the store and entries
 * still expire after the TTL, which bounds how stale an answer can be.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "internal.h"
#include "store/store_int.h"

#define POOL_MAX      256
#define USAGE_SHARDS  16
#define USAGE_BUCKETS 4096    /* per shard: short chains at a million tokens */
#define USAGE_MAX     1000000 /* tokens with unwritten usage, in all */

/* The listener: one wait, and the pause before reconnecting (doubling). */
#define LISTEN_WAIT_MS        200
#define LISTEN_BACKOFF_MS     50
#define LISTEN_BACKOFF_MAX_MS 2000

const double pat_latency_bounds[PAT_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1};

/*
 * An address in binary: a usage record keeps five of them, so text
 * (46 bytes each) would more than double its size, and a million tokens
 * used within one interval would cost hundreds of megabytes.
 */
struct addr {
    uint8_t family; /* 4 or 6; 0: none */
    uint8_t bytes[16];
};

/* Usage of one token since the last flush; ips newest first. */
struct usage {
    struct usage *next;
    char token_id[PAT_ID_LEN + 1];
    int64_t last;
    int nips;
    struct addr ips[PAT_RECENT_IPS];
};

struct usage_shard {
    pthread_mutex_t lock;
    struct usage *buckets[USAGE_BUCKETS];
};

/*
 * Invariants: idle[0..nidle) are connections not in use; all[0..nall)
 * every connection opened (pool_lock guards both). Counters are atomics
 * read without locks. The flusher runs while flusher_on, the listener
 * while listener_on; stop and stop_cond (under stop_lock) end both. The
 * listener's store handle belongs to the listener thread alone.
 */
struct pat_verifier {
    char *url;
    char prefix[PAT_PREFIX_MAX + 1];
    struct pat_cache *cache;
    int ttl;
    int usage_interval;
    atomic_uint_fast64_t gen;

    pthread_mutex_t pool_lock;
    struct pat_store *idle[POOL_MAX];
    size_t nidle;
    struct pat_store *all[POOL_MAX];
    size_t nall;

    struct usage_shard usage[USAGE_SHARDS];
    atomic_long usage_count;

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
        usage_writes, miss_ns;
    atomic_uint_fast64_t latency[PAT_LATENCY_BUCKETS + 1];
};

static struct pat_store *
pool_get(struct pat_verifier *v)
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

static void
pool_put(struct pat_verifier *v, struct pat_store *st)
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
     uint64_t gen, int64_t now, struct pat_verdict *out)
{
    struct pat_store *st = pool_get(v);
    int64_t t0 = mono_ns();
    int rc;

    atomic_fetch_add(&v->misses, 1);
    if (st == NULL) {
        atomic_fetch_add(&v->store_errors, 1);
        return PAT_EUNAVAIL;
    }
    rc = pat_verify(st, token, len, out);
    pool_put(v, st);
    note_latency(v, mono_ns() - t0);
    /*
     * A store that cannot answer gives no verdict: nothing is cached and
     * the caller fails closed on PAT_EUNAVAIL. A store that says it is
     * not initialised counts too (a refusal elsewhere, here the store lost
     * its schema under a running verifier). ECRYPTO, transient as well,
     * has always been cached like a verdict; that is kept as it was, as
     * changing it would be a change of behaviour of its own.
     */
    if (rc == PAT_ENOTINIT ||
        (pat_err_class(rc) == PAT_CLASS_TRANSIENT && rc != PAT_ECRYPTO)) {
        atomic_fetch_add(&v->store_errors, 1);
        return PAT_EUNAVAIL;
    }
    (void)pat__cache_put(v->cache, hash, gen, now, rc, out);
    /* A reuse may have revoked the token (revoke_on_reuse): re-read all. */
    if (rc == PAT_EREUSED)
        pat_verifier_invalidate(v);
    return rc;
}

static unsigned
id_hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool
parse_addr(const char *ip, struct addr *a)
{
    memset(a, 0, sizeof(*a));
    if (ip == NULL || ip[0] == '\0')
        return false;
    if (inet_pton(AF_INET, ip, a->bytes) == 1)
        a->family = 4;
    else if (inet_pton(AF_INET6, ip, a->bytes) == 1)
        a->family = 6;
    return a->family != 0;
}

static bool
same_addr(const struct addr *x, const struct addr *y)
{
    return x->family == y->family && memcmp(x->bytes, y->bytes, 16) == 0;
}

/* The text form of a into out[PAT_IP_MAX + 1]. */
static const char *
addr_text(const struct addr *a, char *out)
{
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, out,
                  PAT_IP_MAX + 1) == NULL)
        out[0] = '\0';
    return out;
}

/* Notes one use of a token from ip in memory. */
static void
note_usage(struct pat_verifier *v, const char *token_id, const char *ip,
           int64_t now)
{
    unsigned h = id_hash(token_id);
    struct usage_shard *s = &v->usage[h % USAGE_SHARDS];
    struct usage **head = &s->buckets[(h / USAGE_SHARDS) % USAGE_BUCKETS];
    struct usage *u;
    struct addr a;
    bool have = parse_addr(ip, &a); /* before the lock */
    int i;

    pthread_mutex_lock(&s->lock);
    for (u = *head; u != NULL; u = u->next) {
        if (strcmp(u->token_id, token_id) == 0)
            break;
    }
    if (u == NULL && atomic_load(&v->usage_count) < USAGE_MAX) {
        u = calloc(1, sizeof(*u));
        if (u != NULL) {
            memcpy(u->token_id, token_id, sizeof(u->token_id));
            u->next = *head;
            *head = u;
            atomic_fetch_add(&v->usage_count, 1);
        }
    }
    if (u != NULL) {
        u->last = now;
        if (have && (u->nips == 0 || !same_addr(&u->ips[0], &a))) {
            /* Move a to the front, keeping the others in order. */
            for (i = 0; i < u->nips && !same_addr(&u->ips[i], &a); i++)
                ;
            if (i == u->nips && u->nips < PAT_RECENT_IPS)
                u->nips++;
            if (i == PAT_RECENT_IPS)
                i = PAT_RECENT_IPS - 1;
            memmove(&u->ips[1], &u->ips[0], (size_t)i * sizeof(u->ips[0]));
            u->ips[0] = a;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* The checks a request makes of a valid token. */
static int
demands(const struct pat_verdict *out, const struct pat_check *c)
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

int
pat_verifier_check(struct pat_verifier *v, const char *token, size_t len,
                   const struct pat_check *c, struct pat_verdict *out)
{
    uint8_t hash[PAT_HASH_LEN];
    uint64_t gen;
    int64_t now;
    int rc;

    out->token_id[0] = out->user_id[0] = out->username[0] = '\0';
    out->scopes[0] = '\0';
    out->expires_at = 0;
    if (token == NULL || pat_token_check(v->prefix, token, len) != PAT_OK)
        return PAT_EMALFORMED;
    if (pat_token_hash(token, len, hash) != PAT_OK)
        return PAT_ECRYPTO;
    now = (int64_t)time(NULL);
    gen = atomic_load(&v->gen);
    rc = pat__cache_get(v->cache, hash, gen, now, v->ttl, out);
    /* An old secret past its grace goes to the store: that is a reuse. */
    if (rc == PAT_ENOTFOUND ||
        (rc == PAT_OK && out->grace_until != 0 && now >= out->grace_until)) {
        if (c != NULL && c->cache_only)
            return PAT_ELIMIT;
        rc = miss(v, token, len, hash, gen, now, out);
    } else
        atomic_fetch_add(&v->hits, 1);
    if (rc == PAT_OK && out->expires_at != 0 && now >= out->expires_at)
        rc = PAT_EEXPIRED;
    if (rc != PAT_OK)
        return rc;
    rc = demands(out, c);
    if (rc == PAT_OK && v->usage_interval > 0)
        note_usage(v, out->token_id, c ? c->ip : NULL, now);
    return rc;
}

void
pat_verifier_invalidate(struct pat_verifier *v)
{
    atomic_fetch_add(&v->gen, 1);
}

/* Appends item (len bytes) to a list being built in out[cap] at *w. */
static void
append_item(char *out, size_t cap, size_t *w, const char *item, size_t len)
{
    if (*w + 1 + len + 1 > cap)
        return;
    if (*w > 0)
        out[(*w)++] = ' ';
    memcpy(out + *w, item, len);
    *w += len;
    out[*w] = '\0';
}

/* Appends the items of a stored list that out lacks, up to the limit. */
static void
merge_stored(const char *stored, char *out, size_t cap, size_t *w, size_t *n)
{
    const char *p = stored;

    while (*p != '\0' && *n < PAT_RECENT_IPS) {
        size_t len = strcspn(p, " ");
        if (len > 0 && len <= PAT_IP_MAX && !pat__list_has(out, p, len)) {
            append_item(out, cap, w, p, len);
            (*n)++;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
}

/*
 * Merges our addresses and the stored ones into out, newest first: ours
 * lead unless the stored use is the later one (another node's).
 */
static void
merge_ips(const struct usage *u, const char *stored, bool stored_first,
          char *out, size_t cap)
{
    size_t n = 0, w = 0;
    int i;

    out[0] = '\0';
    if (stored_first)
        merge_stored(stored, out, cap, &w, &n);
    for (i = 0; i < u->nips && n < PAT_RECENT_IPS; i++) {
        char text[PAT_IP_MAX + 1];
        size_t len = strlen(addr_text(&u->ips[i], text));
        if (len > 0 && !pat__list_has(out, text, len)) {
            append_item(out, cap, &w, text, len);
            n++;
        }
    }
    if (!stored_first)
        merge_stored(stored, out, cap, &w, &n);
}

/*
 * Writes one token's usage, merged with what the store has. This read,
 * merge and write runs inside the flush's write transaction, which on
 * every backend excludes every other writer of every node (SQLite's
 * BEGIN IMMEDIATE; PostgreSQL's writers' advisory lock, taken before the
 * read): two nodes flushing the same token cannot lose each other's
 * addresses or put an older time over a newer one.
 */
static int
write_usage(struct pat_store *st, const struct usage *u)
{
    struct pat_token t;
    char ips[PAT_RECENTSTR_MAX + 1], last[PAT_IP_MAX + 1];
    bool stored_later;
    int rc = st->ops->token_get(st, u->token_id, &t);

    if (rc == PAT_ENOTFOUND)
        return PAT_OK;
    if (rc != PAT_OK)
        return rc;
    /* Another node may have written a later use: the latest wins. */
    stored_later = t.last_used_at > u->last;
    merge_ips(u, t.recent_ips, stored_later, ips, sizeof(ips));
    if (stored_later)
        return st->ops->token_usage_put(st, t.id, t.last_used_at,
                                        t.last_used_ip, ips);
    return st->ops->token_usage_put(
        st, t.id, u->last,
        u->nips > 0 ? addr_text(&u->ips[0], last) : t.last_used_ip, ips);
}

int
pat_verifier_flush(struct pat_verifier *v)
{
    struct usage *list = NULL, *u, *next;
    struct pat_store *st;
    uint64_t n = 0;
    int rc = PAT_OK, i;

    for (i = 0; i < USAGE_SHARDS; i++) {
        struct usage_shard *s = &v->usage[i];
        size_t b;
        pthread_mutex_lock(&s->lock);
        for (b = 0; b < USAGE_BUCKETS; b++) {
            for (u = s->buckets[b]; u != NULL; u = next) {
                next = u->next;
                u->next = list;
                list = u;
            }
            s->buckets[b] = NULL;
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (list == NULL)
        return PAT_OK;
    st = pool_get(v);
    rc = st ? pat__tx_begin(st) : PAT_EUNAVAIL;
    for (u = list; u != NULL; u = next) {
        next = u->next;
        if (rc == PAT_OK) {
            rc = write_usage(st, u);
            n++;
        }
        free(u);
        atomic_fetch_sub(&v->usage_count, 1);
    }
    if (st != NULL) {
        if (rc == PAT_OK)
            rc = pat__tx_commit(st);
        else
            pat__tx_rollback(st);
        pool_put(v, st);
    }
    if (rc == PAT_OK) {
        atomic_fetch_add(&v->usage_batches, 1);
        atomic_fetch_add(&v->usage_writes, n);
    }
    return rc;
}

static void *
flusher_main(void *arg)
{
    struct pat_verifier *v = arg;
    struct timespec until;
    bool stop = false;

    while (!stop) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += v->usage_interval;
        pthread_mutex_lock(&v->stop_lock);
        while (!v->stop && pthread_cond_timedwait(&v->stop_cond, &v->stop_lock,
                                                  &until) == 0)
            ;
        stop = v->stop;
        pthread_mutex_unlock(&v->stop_lock);
        (void)pat_verifier_flush(v);
    }
    return NULL;
}

/*
 * Waits up to ms, or until pat_verifier_free asks the threads to stop;
 * returns whether it did.
 */
static bool
pause_or_stop(struct pat_verifier *v, int ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&v->stop_lock);
    while (!v->stop &&
           pthread_cond_timedwait(&v->stop_cond, &v->stop_lock, &until) == 0)
        ;
    stop = v->stop;
    pthread_mutex_unlock(&v->stop_lock);
    return stop;
}

static bool
stopping(struct pat_verifier *v)
{
    bool stop;

    pthread_mutex_lock(&v->stop_lock);
    stop = v->stop;
    pthread_mutex_unlock(&v->stop_lock);
    return stop;
}

/*
 * A listening handle, or NULL. The LISTEN is in place before the flush,
 * so that every change is either announced to us or already committed
 * when the cache is dropped.
 */
static struct pat_store *
listener_connect(struct pat_verifier *v)
{
    struct pat_store *st = NULL;
    char err[256];

    if (pat_store_open(v->url, 0, &st, err, sizeof(err)) != PAT_OK)
        return NULL;
    pat_store_set_errbuf(st, NULL, 0);
    if (st->ops->listen_start(st, PAT_CHANGES_CHANNEL) != PAT_OK) {
        pat_store_close(st);
        return NULL;
    }
    pat_verifier_invalidate(v);
    atomic_fetch_add(&v->listener_connects, 1);
    atomic_store(&v->listener_up, 1);
    return st;
}

/* The pause before the next attempt to connect: 50 ms, doubling to 2 s. */
static int
next_backoff(int ms)
{
    if (ms == 0)
        return LISTEN_BACKOFF_MS;
    return ms * 2 > LISTEN_BACKOFF_MAX_MS ? LISTEN_BACKOFF_MAX_MS : ms * 2;
}

/*
 * The listener thread: every notification drops every cached answer
 * (the generation bump is the eviction). A lost connection is reopened
 * with a doubling pause; the reconnect itself flushes.
 */
static void *
listener_main(void *arg)
{
    struct pat_verifier *v = arg;
    struct pat_store *st = NULL;
    char payload[PAT_PAYLOAD_MAX + 1];
    int backoff = 0, rc;

    while (!stopping(v)) {
        if (st == NULL) {
            if (backoff > 0 && pause_or_stop(v, backoff))
                break;
            st = listener_connect(v);
            backoff = st != NULL ? 0 : next_backoff(backoff);
            continue;
        }
        rc = st->ops->listen_wait(st, LISTEN_WAIT_MS, payload, sizeof(payload));
        if (rc == PAT_OK) {
            pat_verifier_invalidate(v);
            atomic_fetch_add(&v->notifications, 1);
        } else if (rc != PAT_ENOTFOUND) {
            atomic_store(&v->listener_up, 0);
            pat_store_close(st);
            st = NULL;
            backoff = LISTEN_BACKOFF_MS;
        }
    }
    atomic_store(&v->listener_up, 0);
    pat_store_close(st);
    return NULL;
}

int
pat_verifier_new(const char *url, const struct pat_verifier_options *o,
                 struct pat_verifier **out, char *errbuf, size_t errlen)
{
    struct pat_verifier *v = calloc(1, sizeof(*v));
    struct pat_store *st = NULL;
    int rc, i;

    *out = NULL;
    if (v == NULL)
        return PAT_ENOMEM;
    v->ttl = o && o->cache_ttl > 0 ? o->cache_ttl : 10;
    v->usage_interval = o && o->usage_interval != 0 ? o->usage_interval : 60;
    v->url = strdup(url);
    v->cache =
        pat__cache_new(o && o->cache_entries ? o->cache_entries : 1000000);
    pthread_mutex_init(&v->pool_lock, NULL);
    pthread_mutex_init(&v->stop_lock, NULL);
    pthread_cond_init(&v->stop_cond, NULL);
    for (i = 0; i < USAGE_SHARDS; i++)
        pthread_mutex_init(&v->usage[i].lock, NULL);
    if (v->url == NULL || v->cache == NULL) {
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
    v->all[v->nall++] = st;
    v->idle[v->nidle++] = st;
    if (st->ops->listen_start != NULL) {
        if (pthread_create(&v->listener, NULL, listener_main, v) != 0) {
            rc = PAT_ENOMEM;
            goto fail;
        }
        v->listener_on = true;
    }
    if (v->usage_interval > 0) {
        if (pthread_create(&v->flusher, NULL, flusher_main, v) != 0) {
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
    for (i = 0; i < USAGE_SHARDS; i++)
        pthread_mutex_destroy(&v->usage[i].lock);
    pthread_mutex_destroy(&v->pool_lock);
    pthread_mutex_destroy(&v->stop_lock);
    pthread_cond_destroy(&v->stop_cond);
    pat__cache_free(v->cache);
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
    out->listener_up = v->listener_on ? atomic_load(&v->listener_up) : -1;
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
