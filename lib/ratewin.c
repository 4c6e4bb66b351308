/* SPDX-License-Identifier: MIT */
/*
 * Per-token rate-limit counters of one node (see ratewin.h). Each shard
 * is an open-addressed array of slots under its own mutex; a token's
 * slot is found by a probe run of PROBE slots from its hash.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratewin.h"
#include "internal.h"

#define SHARDS 64
#define PROBE  16

struct slot {
    char id[PAT_ID_LEN + 1]; /* "" when free */
    int64_t start;           /* the window's first second */
    int64_t end;
    int count;
};

/* lock guards slots[0..n). */
struct shard {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t n;
};

struct pat_ratewin {
    struct shard shards[SHARDS];
};

static uint64_t
hash_id(const char *id)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *id != '\0'; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ULL;
    return h;
}

struct pat_ratewin *
pat__ratewin_new(size_t slots)
{
    struct pat_ratewin *w = calloc(1, sizeof(*w));
    size_t per = slots / SHARDS < PROBE ? PROBE : slots / SHARDS, i;

    if (w == NULL)
        return NULL;
    for (i = 0; i < SHARDS; i++) {
        w->shards[i].slots = calloc(per, sizeof(struct slot));
        w->shards[i].n = per;
        if (w->shards[i].slots == NULL ||
            pthread_mutex_init(&w->shards[i].lock, NULL) != 0) {
            free(w->shards[i].slots);
            w->shards[i].slots = NULL;
            pat__ratewin_free(w);
            return NULL;
        }
    }
    return w;
}

void
pat__ratewin_free(struct pat_ratewin *w)
{
    size_t i;

    if (w == NULL)
        return;
    for (i = 0; i < SHARDS; i++) {
        if (w->shards[i].slots == NULL)
            continue;
        free(w->shards[i].slots);
        pthread_mutex_destroy(&w->shards[i].lock);
    }
    free(w);
}

/* The slot of id in s (the lock is held), claimed if it had none. */
static struct slot *
find(struct shard *s, const char *id, uint64_t h, int64_t now)
{
    struct slot *oldest = NULL, *free_slot = NULL;
    size_t i;

    for (i = 0; i < PROBE; i++) {
        struct slot *sl = &s->slots[(h + i) % s->n];
        if (strcmp(sl->id, id) == 0)
            return sl;
        if (free_slot == NULL && (sl->id[0] == '\0' || sl->end <= now))
            free_slot = sl;
        if (oldest == NULL || sl->start < oldest->start)
            oldest = sl;
    }
    if (free_slot == NULL)
        free_slot = oldest;
    pat__copy(free_slot->id, sizeof(free_slot->id), id);
    free_slot->start = free_slot->end = 0;
    free_slot->count = 0;
    return free_slot;
}

bool
pat__ratewin_take(struct pat_ratewin *w, const char *id, int limit, int window,
                  int64_t now, int *remaining, int *reset)
{
    uint64_t h = hash_id(id);
    struct shard *s = &w->shards[h % SHARDS];
    int64_t start = now - now % window;
    struct slot *sl;
    bool ok;

    pthread_mutex_lock(&s->lock);
    sl = find(s, id, h / SHARDS, now);
    if (sl->start != start) {
        sl->start = start;
        sl->end = start + window;
        sl->count = 0;
    }
    ok = sl->count < limit;
    if (ok)
        sl->count++;
    *remaining = limit - sl->count;
    *reset = (int)(sl->end - now);
    pthread_mutex_unlock(&s->lock);
    return ok;
}
