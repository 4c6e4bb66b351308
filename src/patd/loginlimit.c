/* SPDX-License-Identifier: MIT */
/*
 * Failed sign-in counters (see loginlimit.h): two open-addressing tables
 * of keyed 64-bit hashes. A key's place is found among PROBES slots from
 * its hash; a slot is taken when its window is still running, free
 * otherwise. Lookups scan the whole probe run, so a key is never counted
 * twice even after slots before it have been freed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "loginlimit.h"
#include "banned.h"

#define PROBES 64

struct slot {
    uint64_t hash; /* 0: never used or cleared */
    int64_t start; /* window start */
    long count;
};

/* Invariant: at most one slot of a probe run holds a live given hash. */
struct table {
    unsigned char key[crypto_shorthash_KEYBYTES]; /* random, per process */
    unsigned n;
    struct slot *slots;
};

struct loginlimit {
    pthread_mutex_t lock; /* guards both tables */
    struct table t[2];    /* indexed by enum login_domain */
};

struct loginlimit *
loginlimit_new(unsigned capacity)
{
    struct loginlimit *ll = NULL;
    int i;

    if (capacity < 16 || sodium_init() < 0)
        return NULL;
    ll = calloc(1, sizeof(*ll));
    if (ll == NULL)
        return NULL;
    for (i = 0; i < 2; i++) {
        crypto_shorthash_keygen(ll->t[i].key);
        ll->t[i].n = capacity;
        ll->t[i].slots = calloc(capacity, sizeof(struct slot));
        if (ll->t[i].slots == NULL)
            goto fail;
    }
    if (pthread_mutex_init(&ll->lock, NULL) != 0)
        goto fail;
    return ll;
fail:
    free(ll->t[0].slots);
    free(ll->t[1].slots);
    free(ll);
    return NULL;
}

void
loginlimit_free(struct loginlimit *ll)
{
    if (ll == NULL)
        return;
    pthread_mutex_destroy(&ll->lock);
    free(ll->t[0].slots);
    free(ll->t[1].slots);
    sodium_memzero(ll, sizeof(*ll));
    free(ll);
}

/* SipHash-2-4 of key under the table's secret; never 0 (empty). */
static uint64_t
hash(const struct table *t, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    crypto_shorthash(out, (const unsigned char *)key, strlen(key), t->key);
    memcpy(&h, out, sizeof(h));
    return h ? h : 1;
}

static bool
live(const struct slot *s, int64_t now, long window)
{
    return s->hash != 0 && now < s->start + window;
}

static unsigned
probes(const struct table *t)
{
    return t->n < PROBES ? t->n : PROBES;
}

/*
 * The live slot of h, else (when free is not NULL) the first free slot of
 * its probe run in *free (NULL when there is none). Caller holds the lock.
 */
static struct slot *
find(struct table *t, uint64_t h, int64_t now, long window,
     struct slot **free_slot)
{
    struct slot *first_free = NULL;
    unsigned i;

    for (i = 0; i < probes(t); i++) {
        struct slot *s = &t->slots[(h + i) % t->n];
        if (s->hash == h && live(s, now, window))
            return s;
        if (first_free == NULL && !live(s, now, window))
            first_free = s;
    }
    if (free_slot != NULL)
        *free_slot = first_free;
    return NULL;
}

/* Seconds until the first window of h's probe run ends (at least 1). */
static long
soonest_end(const struct table *t, uint64_t h, int64_t now, long window)
{
    int64_t end = now + window;
    unsigned i;

    for (i = 0; i < probes(t); i++) {
        const struct slot *s = &t->slots[(h + i) % t->n];
        if (s->start + window < end)
            end = s->start + window;
    }
    return end > now ? (long)(end - now) : 1;
}

enum login_verdict
loginlimit_check(struct loginlimit *ll, enum login_domain d, const char *key,
                 int64_t now, long window, long max, long *retry_after)
{
    struct table *t = &ll->t[d];
    uint64_t h = hash(t, key);
    struct slot *s, *free_slot = NULL;
    enum login_verdict v = LOGIN_ALLOW;

    pthread_mutex_lock(&ll->lock);
    s = find(t, h, now, window, &free_slot);
    if (s != NULL && s->count >= max) {
        *retry_after = (long)(s->start + window - now);
        v = LOGIN_BLOCKED;
    } else if (s == NULL && free_slot == NULL) {
        *retry_after = soonest_end(t, h, now, window);
        v = LOGIN_FULL;
    }
    pthread_mutex_unlock(&ll->lock);
    if (v != LOGIN_ALLOW && *retry_after < 1)
        *retry_after = 1;
    return v;
}

void
loginlimit_fail(struct loginlimit *ll, enum login_domain d, const char *key,
                int64_t now, long window)
{
    struct table *t = &ll->t[d];
    uint64_t h = hash(t, key);
    struct slot *s, *free_slot = NULL;

    pthread_mutex_lock(&ll->lock);
    s = find(t, h, now, window, &free_slot);
    if (s == NULL && free_slot != NULL) {
        s = free_slot;
        s->hash = h;
        s->start = now;
        s->count = 0;
    }
    if (s != NULL)
        s->count++;
    pthread_mutex_unlock(&ll->lock);
}

void
loginlimit_clear(struct loginlimit *ll, enum login_domain d, const char *key)
{
    struct table *t = &ll->t[d];
    uint64_t h = hash(t, key);
    unsigned i;

    pthread_mutex_lock(&ll->lock);
    /* Every slot of the run with h, live or not: nothing of it stays. */
    for (i = 0; i < probes(t); i++) {
        struct slot *s = &t->slots[(h + i) % t->n];
        if (s->hash == h)
            memset(s, 0, sizeof(*s));
    }
    pthread_mutex_unlock(&ll->lock);
}
