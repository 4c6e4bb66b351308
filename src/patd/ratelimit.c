/* SPDX-License-Identifier: MIT */
/*
 * Bounded failure counters (see ratelimit.h). Writers (a failure, a
 * reset) take the mutex; ratelimit_blocked reads the slot's atomics
 * without it, so the check on every request takes no lock. Keys are kept
 * as 64-bit hashes: a slot is 24 bytes, and a read never sees a key half
 * written.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "banned.h"

#define PROBES 8

struct slot {
    _Atomic uint64_t key;  /* 0: empty */
    _Atomic int64_t start; /* window start */
    _Atomic long count;
};

struct ratelimit {
    pthread_mutex_t lock; /* serialises writers */
    unsigned n;
    struct slot *slots;
};

struct ratelimit *
ratelimit_new(unsigned slots)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));

    if (rl == NULL)
        return NULL;
    rl->slots = calloc(slots, sizeof(*rl->slots));
    if (rl->slots == NULL || pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl->slots);
        free(rl);
        return NULL;
    }
    rl->n = slots;
    return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

/* FNV-1a, 64 bits; never 0, which marks an empty slot. */
static uint64_t
hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

static struct slot *
find(struct ratelimit *rl, uint64_t h)
{
    unsigned i;

    for (i = 0; i < PROBES; i++) {
        struct slot *s = &rl->slots[(h + i) % rl->n];
        if (atomic_load_explicit(&s->key, memory_order_acquire) == h)
            return s;
    }
    return NULL;
}

bool
ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now,
                  long window, long max, long *retry_after)
{
    struct slot *s = find(rl, hash(key));
    int64_t start;

    if (s == NULL)
        return false;
    start = atomic_load_explicit(&s->start, memory_order_relaxed);
    if (now >= start + window ||
        atomic_load_explicit(&s->count, memory_order_relaxed) < max)
        return false;
    *retry_after = (long)(start + window - now);
    return true;
}

void
ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now, long window)
{
    uint64_t h = hash(key);
    struct slot *s;
    unsigned i;

    pthread_mutex_lock(&rl->lock);
    s = find(rl, h);
    if (s == NULL) {
        /* An empty slot, else the oldest window of the probe run. */
        struct slot *oldest = NULL;
        for (i = 0; i < PROBES; i++) {
            struct slot *c = &rl->slots[(h + i) % rl->n];
            if (oldest == NULL || atomic_load(&c->key) == 0 ||
                atomic_load(&c->start) < atomic_load(&oldest->start))
                oldest = c;
            if (atomic_load(&c->key) == 0)
                break;
        }
        s = oldest;
        atomic_store(&s->count, 0);
        atomic_store(&s->start, now);
        atomic_store_explicit(&s->key, h, memory_order_release);
    }
    if (now >= atomic_load(&s->start) + window) {
        atomic_store(&s->count, 0);
        atomic_store(&s->start, now);
    }
    atomic_fetch_add(&s->count, 1);
    pthread_mutex_unlock(&rl->lock);
}

void
ratelimit_clear(struct ratelimit *rl, const char *key)
{
    struct slot *s;

    pthread_mutex_lock(&rl->lock);
    s = find(rl, hash(key));
    if (s != NULL)
        atomic_store(&s->count, 0);
    pthread_mutex_unlock(&rl->lock);
}
