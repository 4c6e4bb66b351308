/* SPDX-License-Identifier: MIT */
/*
 * The verification cache (see cache.h). Each shard is a chained hash
 * table of variable-length entries: the strings of a verdict (username,
 * scopes, audiences, ranges) are stored once, back to back, after the
 * fixed part, which keeps a typical entry near 200 bytes so that a
 * million tokens fit in well under 400 MB.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define SHARDS 64

struct entry {
    struct entry *next;
    uint8_t key[PAT_HASH_LEN];
    uint64_t gen;
    uint64_t epoch;
    int64_t filled_at;
    int result;
    int64_t created_at;
    int64_t expires_at;
    int64_t grace_until;
    int32_t rate_limit, rate_window;
    bool service, uses_limited;
    char token_id[PAT_ID_LEN + 1];
    char user_id[PAT_ID_LEN + 1];
    uint16_t len[4]; /* username, scopes, audiences, allowed_cidrs */
    char data[];     /* the four strings, each NUL-terminated */
};

/*
 * A shard. lock guards every field; count <= max; buckets has nbuckets
 * (a power of two) chains, doubled whenever count reaches nbuckets, up to
 * the first power of two at or above max: the table stays as small as
 * what it holds, so a cache of ten thousand tokens keeps its buckets in
 * the CPU's caches instead of one DRAM miss per lookup. hand walks the
 * buckets to choose evictions.
 */
struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t nbuckets;
    size_t count;
    size_t max;
    size_t hand;
    uint64_t evictions;
};

struct pat_cache {
    struct shard shards[SHARDS];
};

static size_t
pow2_at_least(size_t n)
{
    size_t p = 16;

    while (p < n)
        p <<= 1;
    return p;
}

struct pat_cache *
pat__cache_new(size_t max)
{
    struct pat_cache *c = calloc(1, sizeof(*c));
    size_t per = max / SHARDS + 1, i;

    if (c == NULL)
        return NULL;
    for (i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        s->max = per;
        s->nbuckets = 16;
        s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
        if (s->buckets == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
            free(s->buckets);
            s->buckets = NULL;
            pat__cache_free(c);
            return NULL;
        }
    }
    return c;
}

void
pat__cache_free(struct pat_cache *c)
{
    size_t i, b;

    if (c == NULL)
        return;
    for (i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        if (s->buckets == NULL)
            continue;
        for (b = 0; b < s->nbuckets; b++) {
            struct entry *e = s->buckets[b], *next;
            for (; e != NULL; e = next) {
                next = e->next;
                free(e);
            }
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

/* The hash is uniformly random: its bytes pick shard and bucket. */
static struct shard *
shard_of(struct pat_cache *c, const uint8_t *hash)
{
    return &c->shards[hash[0] % SHARDS];
}

static size_t
bucket_of(const struct shard *s, const uint8_t *hash)
{
    uint64_t h;

    memcpy(&h, hash + 8, sizeof(h));
    return (size_t)(h & (s->nbuckets - 1));
}

static void
copy_out(const struct entry *e, struct pat_verdict *v)
{
    const char *p = e->data;

    memcpy(v->token_id, e->token_id, sizeof(v->token_id));
    memcpy(v->user_id, e->user_id, sizeof(v->user_id));
    memcpy(v->username, p, e->len[0] + 1);
    p += e->len[0] + 1;
    memcpy(v->scopes, p, e->len[1] + 1);
    p += e->len[1] + 1;
    memcpy(v->audiences, p, e->len[2] + 1);
    p += e->len[2] + 1;
    memcpy(v->allowed_cidrs, p, e->len[3] + 1);
    v->created_at = e->created_at;
    v->expires_at = e->expires_at;
    v->grace_until = e->grace_until;
    v->service = e->service;
    v->uses_limited = e->uses_limited;
    v->rate_limit = e->rate_limit;
    v->rate_window = e->rate_window;
}

int
pat__cache_get(struct pat_cache *c, const uint8_t *hash, uint64_t gen,
               int64_t now, int ttl, struct pat_verdict *out, uint64_t *epoch)
{
    struct shard *s = shard_of(c, hash);
    struct entry *e;
    int rc = PAT_ENOTFOUND;

    pthread_mutex_lock(&s->lock);
    for (e = s->buckets[bucket_of(s, hash)]; e != NULL; e = e->next) {
        if (memcmp(e->key, hash, PAT_HASH_LEN) != 0)
            continue;
        /*
         * Each entry ends up to a fifth of the TTL early, by its hash: the
         * entries filled together (a warm-up, a flush) do not all expire
         * in the same second and send every request to the store at once.
         */
        if (e->gen == gen &&
            now < e->filled_at + ttl - hash[1] % (ttl / 5 + 1)) {
            copy_out(e, out);
            *epoch = e->epoch;
            rc = e->result;
        }
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Doubles the bucket array (the shard lock is held); false: no memory. */
static bool
grow(struct shard *s)
{
    size_t n = s->nbuckets * 2, b;
    struct entry **nb = calloc(n, sizeof(*nb));

    if (nb == NULL)
        return false;
    for (b = 0; b < s->nbuckets; b++) {
        struct entry *e = s->buckets[b], *next;
        for (; e != NULL; e = next) {
            uint64_t h;
            next = e->next;
            memcpy(&h, e->key + 8, sizeof(h));
            e->next = nb[h & (n - 1)];
            nb[h & (n - 1)] = e;
        }
    }
    free(s->buckets);
    s->buckets = nb;
    s->nbuckets = n;
    s->hand = 0;
    return true;
}

/* Unlinks and frees one entry at the hand (the shard lock is held). */
static void
evict_one(struct shard *s)
{
    size_t i;

    for (i = 0; i < s->nbuckets; i++) {
        struct entry **slot = &s->buckets[(s->hand + i) & (s->nbuckets - 1)];
        if (*slot != NULL) {
            struct entry *victim = *slot;
            *slot = victim->next;
            free(victim);
            s->count--;
            s->evictions++;
            s->hand = (s->hand + i + 1) & (s->nbuckets - 1);
            return;
        }
    }
}

int
pat__cache_put(struct pat_cache *c, const uint8_t *hash, uint64_t gen,
               uint64_t epoch, int64_t now, int result,
               const struct pat_verdict *v)
{
    const char *strs[4] = {v->username, v->scopes, v->audiences,
                           v->allowed_cidrs};
    struct shard *s = shard_of(c, hash);
    struct entry *e, **slot;
    size_t lens[4], total = 0, i;
    char *p;

    for (i = 0; i < 4; i++) {
        lens[i] = strlen(strs[i]);
        total += lens[i] + 1;
    }
    e = malloc(sizeof(*e) + total);
    if (e == NULL)
        return PAT_ENOMEM;
    memcpy(e->key, hash, PAT_HASH_LEN);
    e->gen = gen;
    e->epoch = epoch;
    e->filled_at = now;
    e->result = result;
    e->created_at = v->created_at;
    e->expires_at = v->expires_at;
    e->grace_until = v->grace_until;
    e->service = v->service;
    e->uses_limited = v->uses_limited;
    e->rate_limit = v->rate_limit;
    e->rate_window = v->rate_window;
    memcpy(e->token_id, v->token_id, sizeof(e->token_id));
    memcpy(e->user_id, v->user_id, sizeof(e->user_id));
    for (p = e->data, i = 0; i < 4; i++) {
        e->len[i] = (uint16_t)lens[i];
        memcpy(p, strs[i], lens[i] + 1);
        p += lens[i] + 1;
    }
    pthread_mutex_lock(&s->lock);
    for (slot = &s->buckets[bucket_of(s, hash)]; *slot != NULL;
         slot = &(*slot)->next) {
        if (memcmp((*slot)->key, hash, PAT_HASH_LEN) == 0) {
            struct entry *old = *slot;
            e->next = old->next;
            *slot = e;
            free(old);
            pthread_mutex_unlock(&s->lock);
            return PAT_OK;
        }
    }
    if (s->count >= s->max)
        evict_one(s);
    else if (s->count >= s->nbuckets && s->nbuckets < pow2_at_least(s->max))
        (void)grow(s); /* without memory, chains just get longer */
    slot = &s->buckets[bucket_of(s, hash)];
    e->next = *slot;
    *slot = e;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    return PAT_OK;
}

void
pat__cache_counts(struct pat_cache *c, uint64_t *entries, uint64_t *evictions)
{
    size_t i;

    *entries = 0;
    *evictions = 0;
    for (i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        *entries += s->count;
        *evictions += s->evictions;
        pthread_mutex_unlock(&s->lock);
    }
}
