/* SPDX-License-Identifier: MIT */
/*
 * The verifier's listener for changes committed by other nodes.
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
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "verifier_int.h"
#include "store/store_int.h"

/* The listener: one wait, and the pause before reconnecting (doubling). */
#define LISTEN_WAIT_MS        200
#define LISTEN_BACKOFF_MS     50
#define LISTEN_BACKOFF_MAX_MS 2000

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
    if (st->drv->listen_start(st, PAT_CHANGES_CHANNEL) != PAT_OK) {
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
void *
pat__listener_main(void *arg)
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
        rc = st->drv->listen_wait(st, LISTEN_WAIT_MS, payload, sizeof(payload));
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
