/* SPDX-License-Identifier: MIT */
/*
 * What a background thread of patd serve (maintenance, notices, the
 * webhook sender, the JWT keyring) waits on between rounds: a timed wait
 * that a stop request cuts short.
 */
#ifndef PATD_STOPPER_H
#define PATD_STOPPER_H

#include <pthread.h>
#include <stdbool.h>

struct stopper {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

#define STOPPER_INIT                                                           \
    {                                                                          \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false             \
    }

/* Before the thread starts (a server may run again in one process). */
void stopper_reset(struct stopper *s);
/* Waits up to ms milliseconds; true when a stop was asked for. */
bool stopper_wait(struct stopper *s, long ms);
/* Whether a stop was asked for, without waiting. */
bool stopper_stopping(struct stopper *s);
/* Asks the thread to stop and wakes it. */
void stopper_stop(struct stopper *s);

#endif
