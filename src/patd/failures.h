/* SPDX-License-Identifier: MIT */
/*
 * Failure limits per client address, for every route that accepts a
 * token: /v1/auth, the API's Bearer authentication, introspection and
 * revocation ([auth] max_failures_per_ip per window), and leak reports
 * ([auth] max_leak_reports_per_ip), and starts of a single sign-on
 * ([sso] max_starts_per_ip). An address over its limit gets 429
 * with Retry-After, or, where a token is checked, an answer from the
 * cache alone (a gateway's address is shared by all its clients).
 */
#ifndef PATD_FAILURES_H
#define PATD_FAILURES_H

#include <stdbool.h>

#include "metrics.h"
#include "request.h"

/* Whether r's address is over max failures of kind; sets Retry-After. */
bool failures_blocked(struct req *r, long max, enum limit_kind kind);

/* Answers 429 rate_limited (counted in the metrics); returns the status. */
int failures_reply(struct req *r, enum limit_kind kind);

/* failures_blocked, then failures_reply: true when it answered. */
bool failures_limited(struct req *r, long max, enum limit_kind kind);

/* Counts one failure of kind for r's address. */
void failures_count(struct req *r, enum limit_kind kind);

#endif
