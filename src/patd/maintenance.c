/* SPDX-License-Identifier: MIT */
/*
 * Housekeeping that patd serve runs beside the requests, on a thread of
 * its own with its own store handle: pruning the change feed past its
 * retention ([feed] retention_days) and expired web sessions, and the
 * governance sweep (pending token requests past the policy's age, unused
 * tokens: lib/governance.c), at start and then every hour. On several
 * nodes each runs them; each is idempotent (the sweep re-reads every
 * token in its own transaction).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "pat/pat.h"

#include "maintenance.h"
#include "stopper.h"
#include "banned.h"

#define PERIOD_S 3600

/* What the governance sweeps of this process did, for /metrics. */
static atomic_ulong swept[3];

static struct {
    pthread_t thread;
    bool on;
    struct stopper stop;
    const struct patd_config *cfg;
} m = {
    .stop = STOPPER_INIT,
};

static void
prune(struct pat_store **st)
{
    char err[256] = "";
    int64_t n = 0, before;
    int rc;

    if (*st == NULL &&
        pat_store_open(m.cfg->store, 0, st, err, sizeof(err)) != PAT_OK) {
        fprintf(stderr, "patd: feed pruning: cannot open the store: %s\n", err);
        return;
    }
    pat_store_set_errbuf(*st, err, sizeof(err));
    before = pat_store_now(*st) - (int64_t)m.cfg->feed_retention_days * 86400;
    rc = pat_changes_prune(*st, before, &n);
    /* Expired sessions go too (sign-in also deletes them). */
    if (rc == PAT_OK)
        rc = pat_session_prune(*st, NULL);
    /* Webhook delivery attempts are kept as long as the feed. */
    if (rc == PAT_OK)
        rc = pat_webhook_attempts_prune(*st, before * 1000, &n);
    if (rc != PAT_OK) {
        fprintf(stderr, "patd: feed pruning failed: %s\n",
                err[0] ? err : pat_strerror(rc));
        /* A handle that failed may be broken: open a new one next time. */
        pat_store_close(*st);
        *st = NULL;
        return;
    }
    {
        struct pat_sweep_report rep;
        rc = pat_governance_sweep(*st, &rep);
        atomic_fetch_add(&swept[0], (unsigned long)rep.pending_expired);
        atomic_fetch_add(&swept[1], (unsigned long)rep.unused_noticed);
        atomic_fetch_add(&swept[2], (unsigned long)rep.unused_revoked);
        if (rc != PAT_OK)
            fprintf(stderr, "patd: governance sweep failed: %s\n",
                    err[0] ? err : pat_strerror(rc));
    }
    pat_store_set_errbuf(*st, NULL, 0);
}

void
maintenance_swept(unsigned long out[3])
{
    int i;

    for (i = 0; i < 3; i++)
        out[i] = atomic_load(&swept[i]);
}

static void *
main_loop(void *arg)
{
    struct pat_store *st = NULL;

    (void)arg;
    do {
        prune(&st);
    } while (!stopper_wait(&m.stop, PERIOD_S * 1000L));
    pat_store_close(st);
    return NULL;
}

int
maintenance_start(const struct patd_config *cfg)
{
    m.cfg = cfg;
    stopper_reset(&m.stop);
    if (pthread_create(&m.thread, NULL, main_loop, NULL) != 0)
        return -1;
    m.on = true;
    return 0;
}

void
maintenance_stop(void)
{
    if (!m.on)
        return;
    stopper_stop(&m.stop);
    pthread_join(m.thread, NULL);
    m.on = false;
}
