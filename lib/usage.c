/* SPDX-License-Identifier: MIT */
/*
 * Writing the usage noted in memory (see usage.h) to the store: a flusher
 * thread takes every pending record once per usage interval and writes
 * them in one write transaction, so a busy token costs one write per
 * interval and not one per request. Each record is merged with what the
 * store has, so that nodes sharing a store keep each other's addresses
 * and the latest use wins.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verifier_int.h"
#include "store/store_int.h"

void
pat__usage_init(struct pat_usage *u)
{
    int i;

    for (i = 0; i < USAGE_SHARDS; i++)
        pthread_mutex_init(&u->shards[i].lock, NULL);
}

void
pat__usage_release(struct pat_usage *u)
{
    int i;

    for (i = 0; i < USAGE_SHARDS; i++)
        pthread_mutex_destroy(&u->shards[i].lock);
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
    int rc = pat__db_token_get(st, u->token_id, &t);

    if (rc == PAT_ENOTFOUND)
        return PAT_OK;
    if (rc != PAT_OK)
        return rc;
    /* Another node may have written a later use: the latest wins. */
    stored_later = t.last_used_at > u->last;
    merge_ips(u, t.recent_ips, stored_later, ips, sizeof(ips));
    if (stored_later)
        return pat__db_token_usage_put(st, t.id, t.last_used_at, t.last_used_ip,
                                       ips);
    return pat__db_token_usage_put(
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
        struct usage_shard *s = &v->usage.shards[i];
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
    st = pat__verifier_pool_get(v);
    rc = st ? pat__tx_begin(st) : PAT_EUNAVAIL;
    for (u = list; u != NULL; u = next) {
        next = u->next;
        if (rc == PAT_OK) {
            rc = write_usage(st, u);
            n++;
        }
        free(u);
        atomic_fetch_sub(&v->usage.count, 1);
    }
    if (st != NULL) {
        if (rc == PAT_OK)
            rc = pat__tx_commit(st);
        else
            pat__tx_rollback(st);
        pat__verifier_pool_put(v, st);
    }
    if (rc == PAT_OK) {
        atomic_fetch_add(&v->usage_batches, 1);
        atomic_fetch_add(&v->usage_writes, n);
    }
    return rc;
}

void *
pat__flusher_main(void *arg)
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
