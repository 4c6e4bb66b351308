/* SPDX-License-Identifier: MIT */
/*
 * The worker pool of workers.h: one mutex, one condition, a ring of jobs.
 * A job is small (a function and its argument); the work it does is a
 * request's handler, on a store handle of the worker's own thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "workers.h"
#include "banned.h"

#define THREADS_MAX 64
#define WORKER_NICE 10

struct job {
    workers_job_fn fn;
    void *arg;
};

/*
 * ring[head .. head + n) (mod cap) are the queued jobs; on is true from
 * start to stop, stopping from stop on (the threads then drain the ring
 * and leave). All under lock.
 */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *ring;
    size_t cap, head, n;
    pthread_t threads[THREADS_MAX];
    size_t nthreads;
    bool on, stopping;
} w = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
};

/*
 * Workers run below the threads that answer forward auth: on a machine
 * short of cores, a burst of password hashing then takes the CPU they
 * leave, not theirs. (Linux: the nice value is per thread.)
 */
static void
lower_priority(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
}

static void *
worker_main(void *arg)
{
    (void)arg;
    lower_priority();
    for (;;) {
        struct job j;

        pthread_mutex_lock(&w.lock);
        while (w.n == 0 && !w.stopping)
            pthread_cond_wait(&w.cond, &w.lock);
        if (w.n == 0) {
            pthread_mutex_unlock(&w.lock);
            return NULL;
        }
        j = w.ring[w.head];
        w.head = (w.head + 1) % w.cap;
        w.n--;
        pthread_mutex_unlock(&w.lock);
        j.fn(j.arg);
    }
}

int
workers_start(size_t n, size_t cap)
{
    size_t i;

    if (n > THREADS_MAX)
        n = THREADS_MAX;
    w.ring = calloc(cap, sizeof(*w.ring));
    if (w.ring == NULL)
        return -1;
    w.cap = cap;
    w.head = w.n = 0;
    w.stopping = false;
    for (i = 0; i < n; i++) {
        if (pthread_create(&w.threads[i], NULL, worker_main, NULL) != 0)
            break;
        w.nthreads++;
    }
    w.on = true;
    if (w.nthreads < n) {
        workers_stop();
        return -1;
    }
    return 0;
}

bool
workers_submit(workers_job_fn fn, void *arg)
{
    bool ok = false;

    pthread_mutex_lock(&w.lock);
    if (w.on && !w.stopping && w.n < w.cap) {
        w.ring[(w.head + w.n) % w.cap] = (struct job){fn, arg};
        w.n++;
        ok = true;
        pthread_cond_signal(&w.cond);
    }
    pthread_mutex_unlock(&w.lock);
    return ok;
}

void
workers_stop(void)
{
    size_t i;

    if (!w.on)
        return;
    pthread_mutex_lock(&w.lock);
    w.stopping = true;
    pthread_cond_broadcast(&w.cond);
    pthread_mutex_unlock(&w.lock);
    for (i = 0; i < w.nthreads; i++)
        pthread_join(w.threads[i], NULL);
    w.nthreads = 0;
    w.on = false;
    free(w.ring);
    w.ring = NULL;
}
