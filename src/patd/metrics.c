/* SPDX-License-Identifier: MIT */
/* The counters of GET /metrics and their rendering (see metrics.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maintenance.h"
#include "metrics.h"
#include "jwt.h"
#include "pat/pat.h"
#include "routes.h"
#include "deliver.h"
#include "notify.h"
#include "banned.h"

#define MAX_ROUTES 128 /* patd serve refuses to start with more routes */
#define N_RESULTS  32  /* PAT_OK and -1 .. -31 */

static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404,
                               405, 409, 413, 414, 429, 431, 500, 503};
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + other */

static atomic_ulong requests[MAX_ROUTES + 1][N_STATUS];
static atomic_ulong results[N_RESULTS];
static atomic_ulong limited[LIMIT_KINDS];
static atomic_ulong deferred;

static size_t
status_index(int status)
{
    size_t i;

    for (i = 0; i < N_STATUS - 1; i++) {
        if (statuses[i] == status)
            return i;
    }
    return N_STATUS - 1;
}

bool
metrics_routes_fit(void)
{
    return route_count() < MAX_ROUTES;
}

void
metrics_request(size_t route, int status)
{
    if (route > MAX_ROUTES)
        route = MAX_ROUTES;
    atomic_fetch_add_explicit(&requests[route][status_index(status)], 1,
                              memory_order_relaxed);
}

void
metrics_verify(int result)
{
    int i = -result;

    if (i >= 0 && i < N_RESULTS)
        atomic_fetch_add_explicit(&results[i], 1, memory_order_relaxed);
}

void
metrics_limited(enum limit_kind kind)
{
    atomic_fetch_add_explicit(&limited[kind], 1, memory_order_relaxed);
}

void
metrics_deferred(void)
{
    atomic_fetch_add_explicit(&deferred, 1, memory_order_relaxed);
}

/* A growable text buffer with a hard cap. */
struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void out(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        if (b->cap >= (1u << 22)) { /* 4 MiB: far beyond any real output */
            b->failed = true;
            return;
        }
        char *np = realloc(b->p, b->cap * 2);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap *= 2;
    }
}

/* Governance counters (DESIGN.md section 13). */
static void
render_governance(struct buf *b, struct pat_verifier *v)
{
    static const char *const what[3] = {"pending_expired", "unused_noticed",
                                        "unused_revoked"};
    unsigned long n[3];
    int i;

    maintenance_swept(n);
    out(b, "# HELP patd_governance_swept_total What the governance sweeps "
           "of this process did.\n"
           "# TYPE patd_governance_swept_total counter\n");
    for (i = 0; i < 3; i++)
        out(b, "patd_governance_swept_total{action=\"%s\"} %lu\n", what[i],
            n[i]);
    if (v != NULL) {
        struct pat_verifier_stats st;
        pat_verifier_stats(v, &st);
        out(b,
            "# HELP patd_token_uses_spent_total Uses of use-limited tokens "
            "spent by this process.\n"
            "# TYPE patd_token_uses_spent_total counter\n"
            "patd_token_uses_spent_total %llu\n"
            "# HELP patd_token_rate_limited_total Forward-auth requests "
            "refused by a token's rate limit.\n"
            "# TYPE patd_token_rate_limited_total counter\n"
            "patd_token_rate_limited_total %llu\n",
            (unsigned long long)st.uses_spent,
            (unsigned long long)st.rate_refused);
    }
}

static const char *
result_name(int i)
{
    return i == 0 ? "valid" : pat_errname(-i);
}

static void
render_requests(struct buf *b)
{
    size_t r, s, n = route_count();

    out(b, "# HELP patd_http_requests_total HTTP requests by route and "
           "status.\n# TYPE patd_http_requests_total counter\n");
    for (r = 0; r <= n && r <= MAX_ROUTES; r++) {
        for (s = 0; s < N_STATUS; s++) {
            unsigned long v = atomic_load(&requests[r][s]);
            char status[8];
            if (v == 0)
                continue;
            if (s < N_STATUS - 1)
                snprintf(status, sizeof(status), "%d", statuses[s]);
            else
                snprintf(status, sizeof(status), "other");
            out(b,
                "patd_http_requests_total{method=\"%s\",route=\"%s\","
                "status=\"%s\"} %lu\n",
                r < n ? routes[r].method : "-",
                r < n ? routes[r].pattern : "unmatched", status, v);
        }
    }
}

static void
render_verifier(struct buf *b, struct pat_verifier *v)
{
    struct pat_verifier_stats st;
    uint64_t lat[PAT_LATENCY_BUCKETS + 1], cum = 0;
    int i;

    pat_verifier_stats(v, &st);
    pat_verifier_latency(v, lat);
    out(b,
        "# HELP patd_cache_hits_total Verifications answered from the "
        "cache.\n# TYPE patd_cache_hits_total counter\n"
        "patd_cache_hits_total %llu\n"
        "# HELP patd_cache_misses_total Verifications read from the store.\n"
        "# TYPE patd_cache_misses_total counter\n"
        "patd_cache_misses_total %llu\n"
        "# HELP patd_cache_evictions_total Entries dropped to stay within "
        "the bound.\n# TYPE patd_cache_evictions_total counter\n"
        "patd_cache_evictions_total %llu\n"
        "# HELP patd_cache_entries Entries in the cache.\n"
        "# TYPE patd_cache_entries gauge\npatd_cache_entries %llu\n"
        "# HELP patd_store_errors_total Misses the store could not answer.\n"
        "# TYPE patd_store_errors_total counter\n"
        "patd_store_errors_total %llu\n"
        "# HELP patd_usage_flush_batches_total Usage flushes that wrote.\n"
        "# TYPE patd_usage_flush_batches_total counter\n"
        "patd_usage_flush_batches_total %llu\n"
        "# HELP patd_usage_writes_total Token rows written by usage "
        "flushes.\n# TYPE patd_usage_writes_total counter\n"
        "patd_usage_writes_total %llu\n",
        (unsigned long long)st.hits, (unsigned long long)st.misses,
        (unsigned long long)st.evictions, (unsigned long long)st.entries,
        (unsigned long long)st.store_errors,
        (unsigned long long)st.usage_batches,
        (unsigned long long)st.usage_writes);
    if (st.listener_up >= 0)
        out(b,
            "# HELP patd_listener_up Whether the connection that hears "
            "other nodes' changes is up.\n# TYPE patd_listener_up gauge\n"
            "patd_listener_up %d\n"
            "# HELP patd_listener_connects_total Times that connection was "
            "opened (each catches up from the change feed).\n"
            "# TYPE patd_listener_connects_total counter\n"
            "patd_listener_connects_total %llu\n"
            "# HELP patd_change_notifications_total Changes announced by "
            "any node (each makes the node read the change feed).\n"
            "# TYPE patd_change_notifications_total counter\n"
            "patd_change_notifications_total %llu\n",
            st.listener_up, (unsigned long long)st.listener_connects,
            (unsigned long long)st.notifications);
    out(b,
        "# HELP patd_cache_stale_total Tokens and users whose cached "
        "answers a change made stale, one by one.\n"
        "# TYPE patd_cache_stale_total counter\n"
        "patd_cache_stale_total{kind=\"token\"} %llu\n"
        "patd_cache_stale_total{kind=\"user\"} %llu\n"
        "# HELP patd_cache_flushes_total Times every cached answer was "
        "dropped (scope catalog, policy, or a change too large to name).\n"
        "# TYPE patd_cache_flushes_total counter\n"
        "patd_cache_flushes_total %llu\n"
        "# HELP patd_feed_seq The last change feed row this node applied.\n"
        "# TYPE patd_feed_seq gauge\npatd_feed_seq %lld\n",
        (unsigned long long)st.stale_tokens, (unsigned long long)st.stale_users,
        (unsigned long long)st.flushes, (long long)st.feed_seq);
    out(b, "# HELP patd_store_query_seconds Store reads on cache misses.\n"
           "# TYPE patd_store_query_seconds histogram\n");
    for (i = 0; i < PAT_LATENCY_BUCKETS; i++) {
        cum += lat[i];
        out(b, "patd_store_query_seconds_bucket{le=\"%g\"} %llu\n",
            pat_latency_bounds[i], (unsigned long long)cum);
    }
    cum += lat[PAT_LATENCY_BUCKETS];
    out(b,
        "patd_store_query_seconds_bucket{le=\"+Inf\"} %llu\n"
        "patd_store_query_seconds_sum %.9f\n"
        "patd_store_query_seconds_count %llu\n",
        (unsigned long long)cum, (double)st.miss_ns_total / 1e9,
        (unsigned long long)cum);
}

char *
metrics_render(struct pat_verifier *v)
{
    static const char *const kinds[] = {"login", "auth", "leaks", "sso_start"};
    struct buf b = {malloc(16384), 0, 16384, false};
    int i;

    if (b.p == NULL)
        return NULL;
    render_requests(&b);
    out(&b, "# HELP patd_verifications_total Token verifications by "
            "result.\n# TYPE patd_verifications_total counter\n");
    for (i = 0; i < N_RESULTS; i++) {
        unsigned long n = atomic_load(&results[i]);
        if (n > 0)
            out(&b, "patd_verifications_total{result=\"%s\"} %lu\n",
                result_name(i), n);
    }
    out(&b, "# HELP patd_rate_limited_total Requests refused by a rate "
            "limit.\n# TYPE patd_rate_limited_total counter\n");
    for (i = 0; i < LIMIT_KINDS; i++)
        out(&b, "patd_rate_limited_total{limit=\"%s\"} %lu\n", kinds[i],
            atomic_load(&limited[i]));
    out(&b,
        "# HELP patd_auth_deferred_total Forward-auth cache misses "
        "read on a worker thread.\n"
        "# TYPE patd_auth_deferred_total counter\n"
        "patd_auth_deferred_total %lu\n",
        atomic_load(&deferred));
    if (v != NULL)
        render_verifier(&b, v);
    {
        char jb[4096];
        size_t w = 0;

        jb[0] = '\0';
        jwt_metrics(jb, sizeof(jb), &w);
        out(&b, "%s", jb);
    }
    render_governance(&b, v);
    {
        char events[2048];
        deliver_metrics(events, sizeof(events));
        out(&b, "%s", events);
        notify_metrics(events, sizeof(events));
        out(&b, "%s", events);
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
