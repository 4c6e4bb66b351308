/* SPDX-License-Identifier: MIT */
/*
 * The timed wait of patd serve's background threads, cut short by a stop
 * request (stopper.h).
 */
#include <time.h>

#include "stopper.h"

void
stopper_reset(struct stopper *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = false;
    pthread_mutex_unlock(&s->lock);
}

bool
stopper_wait(struct stopper *s, long ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
        ;
    stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

bool
stopper_stopping(struct stopper *s)
{
    bool stop;

    pthread_mutex_lock(&s->lock);
    stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

void
stopper_stop(struct stopper *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}
