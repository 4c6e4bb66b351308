/* SPDX-License-Identifier: MIT */
/*
 * A pool of worker threads for the slow part of serving: everything but
 * forward auth, introspection, health, metrics and the static pages runs
 * here, with the connection suspended, so that password hashing, store
 * writes and waits on a store lock never hold up a thread that answers
 * /v1/auth (DESIGN.md section 5, "Isolation").
 */
#ifndef PATD_WORKERS_H
#define PATD_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*workers_job_fn)(void *arg);

/*
 * Starts n threads taking jobs from a queue of at most cap. Returns 0, or
 * -1 when a thread cannot start (those started are stopped).
 */
int workers_start(size_t n, size_t cap);

/*
 * Queues fn(arg) for a worker. false when the pool is not running or the
 * queue is full: the caller then runs the job itself or refuses it.
 */
bool workers_submit(workers_job_fn fn, void *arg);

/* Runs every queued job, then stops and joins the threads. */
void workers_stop(void);

#endif
