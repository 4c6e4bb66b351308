/* SPDX-License-Identifier: MIT */
/* Bounded failure counters (see ratelimit.h), guarded by one mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "banned.h"

#define KEY_MAX 80
#define PROBES  8

struct slot {
    char key[KEY_MAX];
    int64_t start; /* window start; 0: empty */
    long count;
};

struct ratelimit {
    pthread_mutex_t lock;
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

/* FNV-1a: a spread of keys over slots, not a defence against anyone. */
static unsigned
hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot of key, or (create) an empty or the oldest one. */
static struct slot *
lookup(struct ratelimit *rl, const char *key, bool create)
{
    unsigned h = hash(key), i;
    struct slot *oldest = NULL;

    for (i = 0; i < PROBES; i++) {
        struct slot *s = &rl->slots[(h + i) % rl->n];
        if (s->start != 0 && strncmp(s->key, key, KEY_MAX - 1) == 0)
            return s;
        if (oldest == NULL || s->start < oldest->start)
            oldest = s;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    strncpy(oldest->key, key, KEY_MAX - 1);
    return oldest;
}

bool
ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now,
                  long window, long max, long *retry_after)
{
    struct slot *s;
    bool blocked = false;

    pthread_mutex_lock(&rl->lock);
    s = lookup(rl, key, false);
    if (s != NULL && now < s->start + window && s->count >= max) {
        blocked = true;
        *retry_after = (long)(s->start + window - now);
    }
    pthread_mutex_unlock(&rl->lock);
    return blocked;
}

void
ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now, long window)
{
    struct slot *s;

    pthread_mutex_lock(&rl->lock);
    s = lookup(rl, key, true);
    if (s->start == 0 || now >= s->start + window) {
        s->start = now;
        s->count = 0;
    }
    s->count++;
    pthread_mutex_unlock(&rl->lock);
}

void
ratelimit_clear(struct ratelimit *rl, const char *key)
{
    struct slot *s;

    pthread_mutex_lock(&rl->lock);
    s = lookup(rl, key, false);
    if (s != NULL)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&rl->lock);
}
