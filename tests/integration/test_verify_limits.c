/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the limits of the verification path, on three
 * servers in turn over one database:
 *
 * A (trusts 127.0.0.1 as a proxy, 5 failures per address): which address
 *   counts (X-Forwarded-For, right-most entry that is not a trusted
 *   proxy); the failed-verification limit (the 6th failure from an
 *   address is 429 with Retry-After; while blocked, a valid token already
 *   in the cache still passes, a token the store would have to read does
 *   not, and nothing reaches the store; another address is never
 *   blocked); failures on the API, revocation and introspection count
 *   together and are refused with 429 like those of /v1/auth.
 * B (no trusted proxy, 5 failures per 3 s): the block lifts when the
 *   window ends; X-Forwarded-For from an untrusted peer is ignored.
 * C (defaults, a 1,000-entry cache): 10,000 verifications of one token on
 *   one kept-alive connection write nothing to the store (usage is
 *   batched: at most one write per token per minute), and the cache stays
 *   within its bound, evicting, under a flood of unknown tokens.
 *
 * The counters of /metrics are checked against every one of these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_verify.h"

#define LOOP_N      10000
#define LOOP_BUDGET 25000 /* ms for the loop, generous for ASan */
#define FLOOD_N     1300
#define CACHE_BOUND 1024 /* 64 shards of 1000 / 64 + 1 entries */
#define WINDOW_S    3

struct tok {
    const char *secret;
    const char *id;
    const char *expires;
};

struct ctx {
    struct h h;
    const char *alice_id;
    const char *alice; /* alice's master PAT: patd:self repo:read */
    struct tok v1, v2, v3, net, loop, fresh, fresh2, hot;
};

static bool
mint(struct ctx *c, const char *name, const char *extra, struct tok *t)
{
    struct h *h = &c->h;
    struct resp *r =
        httpf(h, "POST", "/v1/me/tokens", c->alice,
              "{\"name\":\"%s\",\"scopes\":[\"repo:read\"]%s}", name, extra);

    if (!EXPECT_STATUS(r, 201))
        return false;
    t->secret = jstr(r->json, "token");
    t->id = jstr(r->json, "id");
    t->expires = jstr(r->json, "expires_at");
    return t->secret != NULL && t->id != NULL && t->expires != NULL;
}

static bool
setup(struct ctx *c)
{
    struct h *h = &c->h;
    static const char *const args[] = {"--scope", "patd:self", "--scope",
                                       "repo:read", NULL};
    struct resp *r;
    bool ok = true;

    h_section("set-up");
    r = httpf(h, "PUT", "/v1/scopes", h->admin_token,
              "{\"items\":[{\"name\":\"repo:read\",\"description\":\"R\"}]}");
    EXPECT_STATUS(r, 200);
    c->alice_id = h_user(h, "alice", "[\"patd:self\",\"repo:read\"]", NULL);
    if (c->alice_id == NULL)
        return false;
    c->alice = h_cli_token(h, "alice", "alice-master", args, NULL);
    if (c->alice == NULL)
        return false;
    ok &= mint(c, "v1", "", &c->v1);
    ok &= mint(c, "v2", "", &c->v2);
    ok &= mint(c, "v3", "", &c->v3);
    ok &= mint(c, "net", ",\"allowed_cidrs\":[\"10.0.0.0/8\"]", &c->net);
    ok &= mint(c, "loop", ",\"allowed_cidrs\":[\"127.0.0.0/8\"]", &c->loop);
    ok &= mint(c, "fresh", "", &c->fresh);
    ok &= mint(c, "fresh2", "", &c->fresh2);
    ok &= mint(c, "hot", "", &c->hot);
    return ok;
}

/* How much a counter moved between two /metrics answers (absent: 0). */
static double
delta(const struct resp *m0, const struct resp *m1, const char *series)
{
    double a = v_sample(m0, series), b = v_sample(m1, series);

    return (b < 0 ? 0 : b) - (a < 0 ? 0 : a);
}

/* GET /v1/auth with token, from xff through the proxy (NULL: none). */
static struct resp *
auth_from(struct h *h, const char *token, const char *xff)
{
    const char *hdrs[2] = {xff ? hfmt(h, "X-Forwarded-For: %s", xff) : NULL,
                           NULL};

    return v_auth(h, "GET", "", token, hdrs);
}

static void
expect_from(struct h *h, const char *token, const char *xff, long status,
            const char *why)
{
    struct resp *r = auth_from(h, token, xff);

    CHECK(r->status == status,
          "%s (X-Forwarded-For: %s): expected %ld, got %ld: %.200s", why,
          xff ? xff : "none", status, r->status, r->body);
}

static void
test_client_address(struct ctx *c)
{
    struct h *h = &c->h;

    h_section("A: the client address behind a trusted proxy");
    expect_from(h, c->net.secret, "10.1.2.3", 200,
                "a 10/8 token from 10.1.2.3 through the proxy");
    expect_from(h, c->net.secret, NULL, 401,
                "a 10/8 token from the proxy itself");
    expect_from(h, c->net.secret, "10.1.2.3, 203.0.113.9", 401,
                "the right-most untrusted entry is the client");
    expect_from(h, c->net.secret, "203.0.113.9, 10.1.2.3", 200,
                "what the client wrote on the left is not believed");
    expect_from(h, c->net.secret, "10.1.2.3, 127.0.0.1", 200,
                "a trusted proxy in the chain is skipped");
    expect_from(h, c->net.secret, "not-an-address", 401,
                "garbage leaves the proxy's own address");
    expect_from(h, c->loop.secret, "10.1.2.3", 401,
                "a 127/8 token from 10.1.2.3 through the proxy");
    expect_from(h, c->loop.secret, NULL, 200,
                "a 127/8 token from the proxy itself");

    h_section("A: several X-Forwarded-For lines are one list, in order");
    {
        static const char *const forged_first[] = {
            "X-Forwarded-For: 10.1.2.3", "X-Forwarded-For: 203.0.113.9", NULL};
        static const char *const proxy_last[] = {
            "X-Forwarded-For: 203.0.113.9", "X-Forwarded-For: 10.1.2.3", NULL};
        static const char *const all_trusted[] = {
            "X-Forwarded-For: 10.1.2.3", "X-Forwarded-For: 127.0.0.1", NULL};
        struct resp *r = v_auth(h, "GET", "", c->net.secret, forged_first);
        CHECK(r->status == 401,
              "a client's own X-Forwarded-For line before the proxy's was "
              "believed: %ld",
              r->status);
        r = v_auth(h, "GET", "", c->net.secret, proxy_last);
        CHECK(r->status == 200, "the last line's right-most entry: %ld",
              r->status);
        r = v_auth(h, "GET", "", c->net.secret, all_trusted);
        CHECK(r->status == 200,
              "a trusted proxy on the last line is skipped to the line "
              "before: %ld",
              r->status);
    }
}

static void
test_failure_limit(struct ctx *c)
{
    struct h *h = &c->h;
    static const char blocked[] = "203.0.113.7", other[] = "203.0.113.8";
    static const char r429[] = "patd_http_requests_total{method=\"ANY\","
                               "route=\"/v1/auth\",status=\"429\"}";
    static const char limited[] = "patd_rate_limited_total{limit=\"auth\"}";
    const struct v_identity v1 = {c->alice_id, "alice", c->v1.id, "repo:read",
                                  c->v1.expires};
    struct resp *r, *m0, *m1;
    int i;

    h_section("A: 5 failed verifications per address, the 6th is 429");
    expect_from(h, c->v1.secret, blocked, 200, "v1 before the failures");
    m0 = v_metrics(h);
    for (i = 0; i < 5; i++)
        expect_from(h, i == 4 ? "pat_notAToken" : v_forge(h), blocked, 401,
                    hfmt(h, "failure %d of 5", i + 1));
    r = auth_from(h, v_forge(h), blocked);
    EXPECT_ERROR(r, 429, "rate_limited");
    CHECK(strtol(r->retry_after, NULL, 10) >= 1 &&
              strtol(r->retry_after, NULL, 10) <= 60,
          "the 6th failure: Retry-After '%s'", r->retry_after);
    EXPECT_IDENTITY(r, NULL, "429");
    expect_from(h, "pat_notAToken", blocked, 429,
                "a malformed token from a blocked address");

    h_section("A: what a blocked address still gets");
    r = auth_from(h, c->v1.secret, blocked);
    EXPECT_IDENTITY(r, &v1,
                    "a valid token verified before, from the blocked address");
    r = v_auth(
        h, "GET", "?scope=repo:write", c->v1.secret,
        (const char *const[]){hfmt(h, "X-Forwarded-For: %s", blocked), NULL});
    EXPECT_ERROR(r, 403, "insufficient_scope");
    expect_from(h, c->v2.secret, blocked, 429,
                "a valid token never seen before, from the blocked address");
    r = v_auth(
        h, "GET", "", NULL,
        (const char *const[]){hfmt(h, "X-Forwarded-For: %s", blocked), NULL});
    CHECK(r->status == 401 && strcmp(r->www_auth, "Bearer realm=\"patd\"") == 0,
          "no credentials from a blocked address: %ld '%s'", r->status,
          r->www_auth);
    m1 = v_metrics(h);
    CHECK(delta(m0, m1, "patd_cache_misses_total") == 4,
          "while blocked, the store was read: misses moved by %g, not 4 (the "
          "unknown tokens before the block)",
          delta(m0, m1, "patd_cache_misses_total"));

    h_section("A: another address is never blocked");
    expect_from(h, c->v2.secret, other, 200, "v2 from another address");
    expect_from(h, c->v3.secret, other, 200, "v3 from another address");
    expect_from(h, v_forge(h), other, 401, "a failure from another address");
    expect_from(h, c->v3.secret, NULL, 200, "v3 from the proxy itself");
    m1 = v_metrics(h);
    CHECK(delta(m0, m1, limited) == 3, "%s moved by %g, not 3", limited,
          delta(m0, m1, limited));
    CHECK(delta(m0, m1, r429) == 3, "%s moved by %g, not 3", r429,
          delta(m0, m1, r429));
    EXPECT_HEALTHY(h);
}

static void
test_window_and_untrusted(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    long long t0;
    int i;

    h_section("B: the block lifts when the window ends");
    for (i = 0; i < 5; i++)
        expect_from(h, v_forge(h), NULL, 401,
                    hfmt(h, "failure %d of 5", i + 1));
    r = auth_from(h, c->fresh.secret, NULL);
    t0 = h_now_ms();
    EXPECT_ERROR(r, 429, "rate_limited");
    CHECK(strtol(r->retry_after, NULL, 10) >= 1 &&
              strtol(r->retry_after, NULL, 10) <= WINDOW_S,
          "Retry-After '%s' beyond the %d s window", r->retry_after, WINDOW_S);
    CHECK(h_poll_status(h, "/v1/auth", c->fresh.secret, 200,
                        (WINDOW_S + 4) * 1000L),
          "the address is still blocked %d s after the %d s window",
          WINDOW_S + 4, WINDOW_S);
    printf("# note: unblocked %lld ms after the first 429 (window %d s)\n",
           h_now_ms() - t0, WINDOW_S);
}

static void
test_untrusted(struct ctx *c)
{
    struct h *h = &c->h;

    h_section("B: X-Forwarded-For from a peer that is not trusted is ignored");
    expect_from(h, c->net.secret, "10.1.2.3", 401,
                "a 10/8 token, the untrusted peer 127.0.0.1 claiming 10.1.2.3");
    expect_from(h, c->loop.secret, "10.1.2.3", 200,
                "a 127/8 token, the untrusted peer 127.0.0.1 claiming "
                "10.1.2.3");
    EXPECT_HEALTHY(h);
}

/*
 * The failure limit holds on every route that accepts a token, not only
 * /v1/auth, and on all of them together: API authentication, RFC 7009
 * revocation (each attempt a write) and the introspection caller. On A,
 * from an address of its own (through the trusted proxy), so that the
 * 60 s window cannot end in the middle on a slow machine.
 */
static void
test_every_route(struct ctx *c)
{
    static const char *const from[] = {"X-Forwarded-For: 203.0.113.50", NULL};
    struct h *h = &c->h;
    struct resp *r;
    int i;

    h_section("A: failures on every token route count, and are refused");
    r = http(h, "GET", "/v1/me", c->alice, NULL, from);
    EXPECT_STATUS(r, 200); /* cached on this server */
    for (i = 0; i < 3; i++) {
        r = http(h, "GET", "/v1/me", v_forge(h), NULL, from);
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    for (i = 0; i < 2; i++) {
        r = v_form(h, "/oauth2/revoke", NULL, hfmt(h, "token=%s", v_forge(h)),
                   from);
        EXPECT_STATUS(r, 200); /* RFC 7009: unknown is not an error */
    }
    r = http(h, "GET", "/v1/me", v_forge(h), NULL, from);
    EXPECT_ERROR(r, 429, "rate_limited");
    CHECK(strtol(r->retry_after, NULL, 10) >= 1, "no Retry-After: '%s'",
          r->retry_after);
    r = v_form(h, "/oauth2/revoke", NULL, hfmt(h, "token=%s", v_forge(h)),
               from);
    EXPECT_ERROR(r, 429, "rate_limited");
    r = v_form(h, "/oauth2/introspect", v_forge(h),
               hfmt(h, "token=%s", c->fresh.secret), from);
    EXPECT_ERROR(r, 429, "rate_limited");
    /* A token this server already knows still works from there. */
    r = http(h, "GET", "/v1/me", c->alice, NULL, from);
    EXPECT_STATUS(r, 200);
    EXPECT_HEALTHY(h);
}

static void
test_batching(struct ctx *c)
{
    struct h *h = &c->h;
    struct v_conn *conn = v_conn_new(h);
    long long deadline = h_now_ms() + LOOP_BUDGET, t0 = h_now_ms();
    double w0, h0, m0, worst = 0;
    long ok = 0, n;
    struct resp *m, *r;

    h_section("C: 10,000 verifications of one token, one kept-alive "
              "connection");
    m = v_metrics(h);
    w0 = v_sample(m, "patd_usage_writes_total");
    h0 = v_sample(m, "patd_cache_hits_total");
    m0 = v_sample(m, "patd_cache_misses_total");
    for (n = 0; n < LOOP_N && h_now_ms() < deadline; n++) {
        ok += v_conn_auth(conn, c->hot.secret, NULL) == 200;
        if ((n + 1) % 2500 == 0) {
            double w = v_sample(v_metrics(h), "patd_usage_writes_total") - w0;
            worst = w > worst ? w : worst;
        }
    }
    printf("# note: %ld verifications in %lld ms on %ld connection(s)\n", n,
           h_now_ms() - t0, v_conn_connects(conn));
    CHECK(n == LOOP_N, "only %ld of %d verifications within %d ms", n, LOOP_N,
          LOOP_BUDGET);
    CHECK(ok == n, "%ld of %ld verifications were not 200", n - ok, n);
    CHECK(v_conn_connects(conn) <= 2,
          "the loop opened %ld connections: no keep-alive",
          v_conn_connects(conn));
    m = v_metrics(h);
    if (v_sample(m, "patd_usage_writes_total") - w0 > worst)
        worst = v_sample(m, "patd_usage_writes_total") - w0;
    CHECK(worst <= 1,
          "%g usage writes during %ld verifications of one token (at most 1)",
          worst, n);
    /*
     * One miss fills the cache; a few more are allowed for generation
     * bumps that are not about this token (on PostgreSQL, the listener
     * bumps it when it connects, which may be after the first request).
     */
    CHECK(v_sample(m, "patd_cache_misses_total") - m0 <= 5 &&
              v_sample(m, "patd_cache_hits_total") - h0 >= (double)n - 5,
          "the hot path read the store: %g misses, %g hits for %ld requests",
          v_sample(m, "patd_cache_misses_total") - m0,
          v_sample(m, "patd_cache_hits_total") - h0, n);
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", c->hot.id), h->admin_token,
             NULL, NULL);
    CHECK(r->status == 200 && jnull(r->json, "last_used_at"),
          "usage was written on the hot path, before the first interval "
          "ended: %s",
          r->body);
    v_conn_close(conn);
}

static void
test_cache_bound(struct ctx *c)
{
    struct h *h = &c->h;
    struct v_conn *conn = v_conn_new(h);
    long long deadline = h_now_ms() + LOOP_BUDGET;
    double e0, ev0, mi0, e1, ev1, mi1;
    struct resp *m;
    long refused = 0, n;

    h_section("C: the cache stays within [cache] max_entries = 1000");
    m = v_metrics(h);
    e0 = v_sample(m, "patd_cache_entries");
    ev0 = v_sample(m, "patd_cache_evictions_total");
    mi0 = v_sample(m, "patd_cache_misses_total");
    for (n = 0; n < FLOOD_N && h_now_ms() < deadline; n++)
        refused += v_conn_auth(conn, v_forge(h), NULL) == 401;
    v_conn_close(conn);
    CHECK(n == FLOOD_N && refused == n,
          "%ld of %ld unknown tokens answered 401 (%d sent)", refused, n,
          FLOOD_N);
    m = v_metrics(h);
    e1 = v_sample(m, "patd_cache_entries");
    ev1 = v_sample(m, "patd_cache_evictions_total");
    mi1 = v_sample(m, "patd_cache_misses_total");
    printf("# note: cache entries %g -> %g, evictions %g -> %g\n", e0, e1, ev0,
           ev1);
    CHECK(e1 >= 0 && e1 <= CACHE_BOUND,
          "patd_cache_entries %g beyond the bound %d", e1, CACHE_BOUND);
    CHECK(ev1 - ev0 >= e0 + FLOOD_N - CACHE_BOUND,
          "patd_cache_evictions_total moved by %g, at least %g expected",
          ev1 - ev0, e0 + FLOOD_N - CACHE_BOUND);
    CHECK(mi1 - mi0 == (double)n,
          "patd_cache_misses_total moved by %g, not %ld", mi1 - mi0, n);
    expect_from(h, c->hot.secret, NULL, 200, "the hot token after the flood");
    EXPECT_HEALTHY(h);
}

int
main(int argc, char **argv)
{
    static const char *const env_a[] = {
        "PATD_SERVER_TRUSTED_PROXIES=127.0.0.1/32",
        "PATD_AUTH_MAX_FAILURES_PER_IP=5", NULL};
    static const char *const env_b[] = {"PATD_AUTH_MAX_FAILURES_PER_IP=5",
                                        "PATD_AUTH_WINDOW=3", NULL};
    static const char *const env_c[] = {"PATD_AUTH_MAX_FAILURES_PER_IP=1000000",
                                        "PATD_CACHE_MAX_ENTRIES=1000", NULL};
    struct ctx c;
    struct h *h = &c.h;

    memset(&c, 0, sizeof(c));
    h_init(h, argc, argv);
    if (h_start(h, env_a) && setup(&c)) {
        test_client_address(&c);
        test_failure_limit(&c);
        test_every_route(&c);
        h_stop(h);
        if (h_start(h, env_b)) {
            test_window_and_untrusted(&c);
            test_untrusted(&c);
        }
        h_stop(h);
        if (h_start(h, env_c)) {
            test_batching(&c);
            test_cache_bound(&c);
        }
    }
    return h_finish(h);
}
