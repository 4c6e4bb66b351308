/* SPDX-License-Identifier: MIT */
/*
 * Failure counters per client address (failed verifications, leak
 * reports; sign-ins, whose keys clients choose, use loginlimit.h) in
 * fixed windows, in a fixed-size table: memory is bounded whatever clients
 * send. When the table is full the oldest window is replaced, which can
 * only forget failures, never invent them. Checking takes no lock.
 */
#ifndef PATD_RATELIMIT_H
#define PATD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* A table of slots entries; NULL when out of memory. */
struct ratelimit *ratelimit_new(unsigned slots);
void ratelimit_free(struct ratelimit *rl);

/*
 * Whether key has reached max failures in the window of window seconds
 * that contains now; if so *retry_after receives the seconds left.
 */
bool ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now,
                       long window, long max, long *retry_after);

/* Counts one failure for key. */
void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now,
                    long window);

/* Forgets key's failures (after a success). */
void ratelimit_clear(struct ratelimit *rl, const char *key);

#endif
