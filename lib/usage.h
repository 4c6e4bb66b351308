/* SPDX-License-Identifier: MIT */
/*
 * Usage of tokens noted in memory until the next batch is written: per
 * token id, the time of the last use and the last PAT_RECENT_IPS distinct
 * addresses, newest first. Noting is part of every successful
 * verification, so it is inline here: it takes one shard's lock and
 * allocates only on a token's first use since the last batch. Writing a
 * batch to the store is in usage.c.
 */
#ifndef PAT_USAGE_H
#define PAT_USAGE_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define USAGE_SHARDS  16
#define USAGE_BUCKETS 4096    /* per shard: short chains at a million tokens */
#define USAGE_MAX     1000000 /* tokens with unwritten usage, in all */

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
 * The pending usage of a verifier: token id -> record, hashed into
 * USAGE_SHARDS shards of USAGE_BUCKETS chains, each shard under its own
 * lock. count (records in all shards) is an atomic read without a lock;
 * it bounds the memory at USAGE_MAX records.
 */
struct pat_usage {
    struct usage_shard shards[USAGE_SHARDS];
    atomic_long count;
};

/* Initialises the locks of an empty u (zeroed memory); never allocates. */
void pat__usage_init(struct pat_usage *u);

/*
 * Destroys the locks. Records are not freed here: pat_verifier_flush
 * takes them all, whether or not it could write them.
 */
void pat__usage_release(struct pat_usage *u);

static inline unsigned
id_hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static inline bool
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

static inline bool
same_addr(const struct addr *x, const struct addr *y)
{
    return x->family == y->family && memcmp(x->bytes, y->bytes, 16) == 0;
}

/*
 * Notes one use of token_id from ip (text, or NULL) at now. Nothing is
 * noted for a token first seen once USAGE_MAX tokens are pending, or
 * when memory runs out: usage is best effort, verification is not.
 */
static inline void
pat__usage_note(struct pat_usage *pu, const char *token_id, const char *ip,
                int64_t now)
{
    unsigned h = id_hash(token_id);
    struct usage_shard *s = &pu->shards[h % USAGE_SHARDS];
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
    if (u == NULL && atomic_load(&pu->count) < USAGE_MAX) {
        u = calloc(1, sizeof(*u));
        if (u != NULL) {
            memcpy(u->token_id, token_id, sizeof(u->token_id));
            u->next = *head;
            *head = u;
            atomic_fetch_add(&pu->count, 1);
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

#endif
