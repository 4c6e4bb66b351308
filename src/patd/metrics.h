/* SPDX-License-Identifier: MIT */
/*
 * Counters for GET /metrics (Prometheus text format 0.0.4): requests by
 * route and status, verification results by reason, rate-limit refusals,
 * and the verifier's cache, store-latency and usage-flush figures. Every
 * counter is a relaxed atomic: counting costs no lock.
 */
#ifndef PATD_METRICS_H
#define PATD_METRICS_H

#include <stddef.h>

struct pat_verifier;

enum limit_kind {
    LIMIT_LOGIN,
    LIMIT_AUTH,
    LIMIT_LEAKS,
    LIMIT_SSO,
    LIMIT_KINDS
};

/* Whether every route has its own request counters (checked at start). */
bool metrics_routes_fit(void);
void metrics_request(size_t route, int status);
void metrics_verify(int result);
void metrics_limited(enum limit_kind kind);
/* A forward-auth miss handed to a worker thread (server.c). */
void metrics_deferred(void);

/*
 * The whole exposition as a new string (caller frees), or NULL when out
 * of memory.
 */
char *metrics_render(struct pat_verifier *v);

#endif
