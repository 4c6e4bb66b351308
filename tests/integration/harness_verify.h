/* SPDX-License-Identifier: MIT */
/*
 * The integration-test harness, part three: what the tests of the
 * verification path (test_verify*.c) share. Requests to /v1/auth with
 * any method, query and headers; form posts for RFC 7662 and RFC 7009;
 * the samples of GET /metrics; well-formed tokens that no server issued;
 * the five identity headers of an allow; and a keep-alive client for
 * loops of thousands of verifications. Everything returned lives in the
 * arena of struct h (see harness.h).
 */
#ifndef PATD_TEST_HARNESS_VERIFY_H
#define PATD_TEST_HARNESS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/*
 * METHOD /v1/auth + query ("" or "?..."), with token as Bearer (or NULL)
 * and headers (NULL-terminated "Name: value", or NULL). A POST carries a
 * small JSON body, which the endpoint must ignore.
 */
struct resp *v_auth(struct h *h, const char *method, const char *query,
                    const char *token, const char *const *headers);

/*
 * POST path with an application/x-www-form-urlencoded body (form), token
 * as Bearer or NULL, and up to four more headers (NULL-terminated, or
 * NULL).
 */
struct resp *v_form(struct h *h, const char *path, const char *token,
                    const char *form, const char *const *headers);

/*
 * Sends request (a whole HTTP/1.1 request, "Connection: close" included)
 * on a new connection and returns the answer's status, 0 for none; the
 * answer goes to buf.
 */
long v_raw(struct h *h, const char *request, char *buf, size_t cap);

/* GET /metrics. */
struct resp *v_metrics(struct h *h);

/*
 * The value of one sample of a /metrics answer, series written exactly as
 * the server writes it ("patd_cache_hits_total",
 * "patd_verifications_total{result=\"valid\"}"); -1 when absent.
 */
double v_sample(const struct resp *m, const char *series);

/*
 * A token of the default prefix with a valid checksum and fresh random
 * characters: well-formed, and unknown to every server. Remembered as a
 * secret (no log may hold it).
 */
const char *v_forge(struct h *h);

/* Whether s is an RFC 3339 UTC time as patd writes it. */
bool v_is_time(const char *s);

/* Seconds since the epoch of an RFC 3339 UTC time; -1 if it is not one. */
long long v_epoch(const char *s);

/* What an allow must say in its five X-Pat-* headers. */
struct v_identity {
    const char *user_id;
    const char *username;
    const char *token_id;
    const char *scopes;  /* space-separated, sorted */
    const char *expires; /* RFC 3339, or "" for a token that never expires */
};

/*
 * Checks an answer of /v1/auth: an allow is exactly 200 with each of the
 * five identity headers exactly once and equal to id; anything else
 * carries no identity (each header at most once, and empty). Records
 * failures at file:line with label; returns whether all held.
 */
bool v_expect_identity(const struct resp *r, const struct v_identity *id,
                       const char *label, const char *file, int line);
#define EXPECT_IDENTITY(r, id, label)                                          \
    v_expect_identity((r), (id), (label), __FILE__, __LINE__)

/*
 * A keep-alive client: one libcurl handle, reused, so that a loop of
 * requests runs on one connection. Owned by the arena; v_conn_close ends
 * it sooner.
 */
struct v_conn;
struct v_conn *v_conn_new(struct h *h);
/* GET /v1/auth with token and headers (as v_auth); the status, 0 if none. */
long v_conn_auth(struct v_conn *c, const char *token,
                 const char *const *headers);
/* Connections opened so far. */
long v_conn_connects(const struct v_conn *c);
void v_conn_close(struct v_conn *c);

#endif
