/* SPDX-License-Identifier: MIT */
/*
 * The marks of stale.h: a small hash table per shard, chained, each shard
 * with its own mutex, and an atomic count so that a hit pays nothing
 * while nothing is marked. Ids are server-made random strings (usr_/tok_
 * + 16 base62), so a plain FNV-1a spreads them well enough; a client
 * cannot choose them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stale.h"

#define SHARDS  64
#define BUCKETS 256 /* per shard: short chains at PAT_STALE_MAX marks */

struct mark {
    struct mark *next;
    uint8_t kind;
    char id[PAT_ID_LEN + 1];
    uint64_t epoch;
    int64_t at;
};

struct shard {
    pthread_mutex_t lock;
    struct mark *buckets[BUCKETS];
};

/* count: marks in all shards; changed under a shard lock, read without. */
struct pat_stale {
    atomic_size_t count;
    struct shard shards[SHARDS];
};

struct pat_stale *
pat__stale_new(void)
{
    struct pat_stale *s = calloc(1, sizeof(*s));
    int i;

    if (s == NULL)
        return NULL;
    for (i = 0; i < SHARDS; i++)
        pthread_mutex_init(&s->shards[i].lock, NULL);
    return s;
}

void
pat__stale_free(struct pat_stale *s)
{
    int i, b;

    if (s == NULL)
        return;
    for (i = 0; i < SHARDS; i++) {
        for (b = 0; b < BUCKETS; b++) {
            struct mark *m = s->shards[i].buckets[b], *next;
            for (; m != NULL; m = next) {
                next = m->next;
                free(m);
            }
        }
        pthread_mutex_destroy(&s->shards[i].lock);
    }
    free(s);
}

static uint32_t
hash_id(uint8_t kind, const char *id)
{
    uint32_t h = 2166136261u ^ kind;

    for (; *id != '\0'; id++)
        h = (h ^ (uint8_t)*id) * 16777619u;
    return h;
}

/* The mark for (kind, id) in its bucket, or NULL; shard lock held. */
static struct mark *
find(struct mark *m, uint8_t kind, const char *id)
{
    for (; m != NULL; m = m->next) {
        if (m->kind == kind && strcmp(m->id, id) == 0)
            return m;
    }
    return NULL;
}

bool
pat__stale_mark(struct pat_stale *s, enum pat_stale_kind kind, const char *id,
                uint64_t epoch, int64_t now)
{
    uint32_t h = hash_id((uint8_t)kind, id);
    struct shard *sh = &s->shards[h % SHARDS];
    struct mark **head = &sh->buckets[(h / SHARDS) % BUCKETS], *m;
    bool ok = true;

    if (id[0] == '\0' || strlen(id) > PAT_ID_LEN)
        return true; /* names nothing the cache can hold */
    pthread_mutex_lock(&sh->lock);
    m = find(*head, (uint8_t)kind, id);
    if (m == NULL) {
        m = atomic_load(&s->count) < PAT_STALE_MAX ? calloc(1, sizeof(*m))
                                                   : NULL;
        if (m != NULL) {
            m->kind = (uint8_t)kind;
            memcpy(m->id, id, strlen(id) + 1);
            m->next = *head;
            *head = m;
            atomic_fetch_add(&s->count, 1);
        }
    }
    if (m != NULL) {
        if (epoch > m->epoch)
            m->epoch = epoch;
        m->at = now;
    } else {
        ok = false;
    }
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

/* Whether (kind, id) has a mark later than epoch. */
static bool
marked_after(struct pat_stale *s, uint8_t kind, const char *id, uint64_t epoch)
{
    uint32_t h = hash_id(kind, id);
    struct shard *sh = &s->shards[h % SHARDS];
    struct mark *m;
    bool stale;

    pthread_mutex_lock(&sh->lock);
    m = find(sh->buckets[(h / SHARDS) % BUCKETS], kind, id);
    stale = m != NULL && epoch < m->epoch;
    pthread_mutex_unlock(&sh->lock);
    return stale;
}

bool
pat__stale_is(struct pat_stale *s, const char *token_id, const char *user_id,
              uint64_t epoch)
{
    if (atomic_load_explicit(&s->count, memory_order_acquire) == 0)
        return false;
    return (token_id[0] != '\0' &&
            marked_after(s, PAT_STALE_TOKEN, token_id, epoch)) ||
           (user_id[0] != '\0' &&
            marked_after(s, PAT_STALE_USER, user_id, epoch));
}

size_t
pat__stale_prune(struct pat_stale *s, int64_t before)
{
    size_t dropped = 0;
    int i, b;

    if (atomic_load(&s->count) == 0)
        return 0;
    for (i = 0; i < SHARDS; i++) {
        struct shard *sh = &s->shards[i];

        pthread_mutex_lock(&sh->lock);
        for (b = 0; b < BUCKETS; b++) {
            struct mark **pp = &sh->buckets[b], *m;
            while ((m = *pp) != NULL) {
                if (m->at < before) {
                    *pp = m->next;
                    free(m);
                    atomic_fetch_sub(&s->count, 1);
                    dropped++;
                } else {
                    pp = &m->next;
                }
            }
        }
        pthread_mutex_unlock(&sh->lock);
    }
    return dropped;
}

size_t
pat__stale_count(struct pat_stale *s)
{
    return atomic_load(&s->count);
}
