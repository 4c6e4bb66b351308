/* SPDX-License-Identifier: MIT */
/*
 * The verifier's feed follower: it applies to the cache the changes that
 * other processes and nodes commit, read from the change feed by
 * sequence number (DESIGN.md sections 5 and 12). Changes made through
 * this process's own handles arrive earlier, at their commit
 * (pat_verifier_on_commit); a row applied one way is not applied again
 * the other (pat__verifier_apply_row).
 *
 * PostgreSQL: a listening connection (it does nothing else, so that
 * pg_stat_activity shows it as patd-listener running LISTEN) hears each
 * committed change's NOTIFY (its payload is the row's seq), and the
 * follower reads the feed after the last row it applied, on a handle of
 * the verifier's pool; it also reads once a second, so a lost
 * notification costs at most that. When the listening connection is
 * lost, it is reopened with a doubling pause and the follower catches up
 * from the feed: nothing is missed and nothing is flushed.
 *
 * SQLite (one file, perhaps shared with local `patd` commands): no
 * notifications, so the follower reads the feed every 50 ms; an empty
 * read is one indexed probe past the last seq.
 *
 * Only a follower that could not read the feed for longer than the
 * shortest retention (one day, [feed] retention_days) may have missed
 * rows that are gone: it drops the whole cache. Marks older than a TTL
 * are pruned here too (stale.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "verifier_int.h"
#include "store/store_int.h"

#define LISTEN_WAIT_MS        200  /* one wait for a notification */
#define POLL_MS               50   /* SQLite: between reads of the feed */
#define READ_EVERY_MS         1000 /* PostgreSQL: a read without a notice */
#define LISTEN_BACKOFF_MS     50
#define LISTEN_BACKOFF_MAX_MS 2000
#define FEED_PAGE             64
#define GAP_FLUSH_MS          (86400LL * 1000) /* the shortest retention */

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

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The listening handle, or NULL. The LISTEN is in place before the next
 * read of the feed, so that every change is either announced or already
 * in the feed when it is read.
 */
static struct pat_store *
listener_connect(struct pat_verifier *v)
{
    struct pat_store *st = NULL;
    char err[256];

    if (pat_store_open(v->url, 0, &st, err, sizeof(err)) != PAT_OK)
        return NULL;
    pat_store_set_errbuf(st, NULL, 0);
    if (st->drv->listen_start(st, PAT_CHANGES_CHANNEL) != PAT_OK) {
        pat_store_close(st);
        return NULL;
    }
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
 * Applies every feed row after v->feed_seq, read on a handle of the
 * pool; PAT_OK or the store's error.
 */
static int
read_feed(struct pat_verifier *v, struct pat_change *rows)
{
    struct pat_store *st = pat__verifier_pool_get(v);
    int64_t seq = atomic_load(&v->feed_seq);
    size_t n, i;
    int rc;

    if (st == NULL)
        return PAT_EUNAVAIL;
    do {
        rc = pat_changes_list(st, seq, rows, FEED_PAGE, &n);
        if (rc != PAT_OK)
            break;
        for (i = 0; i < n; i++) {
            pat__verifier_apply_row(v, rows[i].seq, rows[i].evict,
                                    rows[i].user_id, rows[i].token_id);
            seq = rows[i].seq;
        }
        atomic_store(&v->feed_seq, seq);
    } while (n == FEED_PAGE && !stopping(v));
    pat__verifier_pool_put(v, st);
    return rc;
}

/* Marks older than an answer can live are no longer needed. */
static void
prune_marks(struct pat_verifier *v)
{
    int64_t horizon = v->ttl + v->ttl / 5 + 2;

    pat__stale_prune(v->stale, (int64_t)time(NULL) - horizon);
}

/*
 * One wait for news: on PostgreSQL a notification (or READ_EVERY_MS
 * without one) on the listening handle lst, on SQLite POLL_MS. Returns
 * PAT_OK when the feed should be read, PAT_ENOTFOUND when not yet, or
 * PAT_EUNAVAIL when the listening connection is lost.
 */
static int
wait_news(struct pat_verifier *v, struct pat_store *lst, int64_t last_read)
{
    char payload[PAT_PAYLOAD_MAX + 1];
    int rc;

    if (lst == NULL)
        return pause_or_stop(v, POLL_MS) ? PAT_ENOTFOUND : PAT_OK;
    rc = lst->drv->listen_wait(lst, LISTEN_WAIT_MS, payload, sizeof(payload));
    if (rc == PAT_OK) {
        atomic_fetch_add(&v->notifications, 1);
        return PAT_OK;
    }
    if (rc == PAT_ENOTFOUND && mono_ms() - last_read >= READ_EVERY_MS)
        return PAT_OK;
    return rc;
}

/*
 * On PostgreSQL, (re)opens the listening handle when there is none:
 * false while it cannot be had (after a pause).
 */
static bool
ensure_listener(struct pat_verifier *v, struct pat_store **lst, int *backoff)
{
    if (!v->listens || *lst != NULL)
        return true;
    if (*backoff > 0 && pause_or_stop(v, *backoff))
        return false;
    *lst = listener_connect(v);
    if (*lst == NULL) {
        *backoff = next_backoff(*backoff);
        return false;
    }
    *backoff = 0;
    return true;
}

void *
pat__listener_main(void *arg)
{
    struct pat_verifier *v = arg;
    struct pat_store *lst = NULL;
    struct pat_change *rows = calloc(FEED_PAGE, sizeof(*rows));
    int64_t last_read = mono_ms(), last_prune = 0;
    int backoff = 0, rc;
    bool fresh;

    while (rows != NULL && !stopping(v)) {
        fresh = v->listens && lst == NULL;
        if (!ensure_listener(v, &lst, &backoff))
            continue;
        /* A new listener first catches up with what it did not hear. */
        rc = fresh ? PAT_OK : wait_news(v, lst, last_read);
        if (rc != PAT_OK && rc != PAT_ENOTFOUND) {
            atomic_store(&v->listener_up, 0);
            pat_store_close(lst);
            lst = NULL;
            backoff = LISTEN_BACKOFF_MS;
            continue;
        }
        /*
         * A feed that could not be read for longer than the shortest
         * retention may have lost rows: then, and only then, everything
         * goes.
         */
        if (rc == PAT_OK && read_feed(v, rows) == PAT_OK) {
            if (mono_ms() - last_read > GAP_FLUSH_MS)
                pat_verifier_invalidate(v);
            last_read = mono_ms();
        }
        if (mono_ms() - last_prune >= 1000) {
            prune_marks(v);
            last_prune = mono_ms();
        }
    }
    atomic_store(&v->listener_up, 0);
    pat_store_close(lst);
    free(rows);
    return NULL;
}
