/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the verification cache against the store, on four
 * servers in turn over one database:
 *
 * A (cache TTL 60 s, so that nothing here can pass by waiting): coherence
 *   on one node. Every change that makes a token less valid (revocation
 *   by each route, a user disabled or deleted, a user's scopes reduced, a
 *   regeneration's grace ending, revoke_on_reuse) is seen by the very
 *   next verification of a token that was cached just before; and with
 *   two threads verifying the token without pause while it is revoked,
 *   no verification that starts after the revocation was acknowledged
 *   is allowed.
 * B (cache TTL 3 s): fail closed. While the store cannot answer, a token
 *   that is not cached gets 503 with Retry-After, never 200; a cached
 *   valid one keeps its 200 until the TTL ends (the documented rule),
 *   then 503; /readyz is 503; once the store is back, everything answers
 *   again without a restart.
 * C (usage interval 1 s, trusting 127.0.0.1 as a proxy): last_used_at,
 *   last_used_ip and the last five distinct addresses, newest first; at
 *   most one usage write per token per interval.
 * D (usage interval 3600 s): pending usage is written at SIGTERM.
 *
 * How the store is made to fail (SQLite). The server keeps its store
 * connections open: the verifier's pool (which a cache miss borrows)
 * and one per HTTP thread. An open connection keeps reading through its
 * file descriptors and its mmap whatever happens to the path: moving
 * the database's directory away, or chmod 000 on the database and its
 * -wal and -shm (which root ignores anyway), only stops connections not
 * yet opened, and a miss normally finds an open one in the pool. So the
 * test first moves the directory away and only records what an
 * uncached token is answered (200 from an open connection, or 503), checking
 * that no answer is wrong; then it makes every read fail for every
 * connection, open or new, by renaming the tables the verification and
 * readiness queries read (secrets, policy) with a SQLite connection of
 * its own, and renames them back to recover. Against PostgreSQL
 * (PATD_TEST_STORE) the SQLite-only parts are skipped.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <sqlite3.h>

#include "harness.h"
#include "harness_verify.h"

#define TTL_B 3

struct tok {
    const char *secret;
    const char *id;
    const char *expires;
};

struct ctx {
    struct h h;
    bool sqlite; /* the store is h.db, a SQLite file */
    const char *alice_id, *bob_id, *carol_id, *erin_id, *gate_id;
    const char *alice; /* alice's master PAT: patd:self repo:read repo:write */
};

/* One of alice's tokens, minted with her master PAT. */
static bool
mint(struct ctx *c, const char *name, const char *scopes, struct tok *t)
{
    struct h *h = &c->h;
    struct resp *r = httpf(h, "POST", "/v1/me/tokens", c->alice,
                           "{\"name\":\"%s\",\"scopes\":%s}", name, scopes);

    if (!EXPECT_STATUS(r, 201))
        return false;
    t->secret = jstr(r->json, "token");
    t->id = jstr(r->json, "id");
    t->expires = jstr(r->json, "expires_at");
    return t->secret != NULL && t->id != NULL && t->expires != NULL;
}

/* A token of another user, minted by the local command. */
static bool
mint_cli(struct ctx *c, const char *user, const char *name, struct tok *t)
{
    static const char *const args[] = {"--scope", "repo:read", "--scope",
                                       "repo:write", NULL};
    struct h *h = &c->h;
    struct resp *r;

    t->secret = h_cli_token(h, user, name, args, &t->id);
    if (t->secret == NULL || t->id == NULL)
        return false;
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", t->id), h->admin_token, NULL,
             NULL);
    t->expires = jstr(r->json, "expires_at");
    return EXPECT_STATUS(r, 200) && t->expires != NULL;
}

static long
auth(struct h *h, const char *token)
{
    return v_auth(h, "GET", "", token, NULL)->status;
}

/* Checks that token verifies (200), which also puts it in the cache. */
static bool
warm(struct h *h, const char *token, const char *what)
{
    long st = auth(h, token);

    return CHECK(st == 200, "%s: expected 200 before the change, got %ld", what,
                 st);
}

static void
expect_next(struct h *h, const char *token, long status, const char *what)
{
    long st = auth(h, token);

    CHECK(st == status, "%s: the very next verification answered %ld, not %ld",
          what, st, status);
}

static const char *
policy(bool revoke_on_reuse)
{
    return revoke_on_reuse
               ? "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
                 "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
                 "\"revoke_on_reuse\":true}"
               : "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
                 "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
                 "\"revoke_on_reuse\":false}";
}

static bool
setup(struct ctx *c)
{
    struct h *h = &c->h;
    static const char *const args[] = {"--scope",   "patd:self", "--scope",
                                       "repo:read", "--scope",   "repo:write",
                                       NULL};
    static const char *const scopes = "[\"repo:read\",\"repo:write\"]";
    struct resp *r;

    h_section("set-up");
    r = httpf(h, "PUT", "/v1/scopes", h->admin_token,
              "{\"items\":[{\"name\":\"repo:read\",\"description\":\"R\"},"
              "{\"name\":\"repo:write\",\"description\":\"W\"}]}");
    EXPECT_STATUS(r, 200);
    c->alice_id = h_user(h, "alice",
                         "[\"patd:self\",\"repo:read\",\"repo:write\"]", NULL);
    c->bob_id = h_user(h, "bob", scopes, NULL);
    c->carol_id = h_user(h, "carol", scopes, NULL);
    c->erin_id = h_user(h, "erin", scopes, NULL);
    c->gate_id = h_user(h, "gate", "[\"patd:introspect\"]", NULL);
    if (!c->alice_id || !c->bob_id || !c->carol_id || !c->erin_id ||
        !c->gate_id)
        return false;
    c->alice = h_cli_token(h, "alice", "alice-master", args, NULL);
    return c->alice != NULL;
}

/* The change in a counter of /metrics since m0. */
static double
delta(struct h *h, const struct resp *m0, const char *series)
{
    return v_sample(v_metrics(h), series) - v_sample(m0, series);
}

/*
 * Invalidation is exact: a revocation or a user's change makes only the
 * answers about that token or user stale; everything else stays cached.
 * A revocation made by a local command (another process on the same
 * SQLite file) is refused without waiting for the TTL (60 s here).
 */
static void
test_exact(struct ctx *c)
{
    static const char *const args[] = {"--scope", "repo:read", NULL};
    struct h *h = &c->h;
    struct tok t1, t2, t3;
    const char *b1, *cmd[4];
    struct resp *m0, *r;
    char out[512];
    long long t0, deadline;
    long st = 0;

    h_section("exact invalidation: only what a change names goes");
    if (!mint(c, "exact-1", "[\"repo:read\"]", &t1) ||
        !mint(c, "exact-2", "[\"repo:read\"]", &t2) ||
        !mint(c, "exact-3", "[\"repo:read\"]", &t3))
        return;
    b1 = h_cli_token(h, "bob", "exact-b", args, NULL);
    if (b1 == NULL || !warm(h, t1.secret, "t1") || !warm(h, t2.secret, "t2") ||
        !warm(h, t3.secret, "t3") || !warm(h, b1, "bob's token"))
        return;

    m0 = v_metrics(h);
    r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", t1.id), c->alice, NULL,
             NULL);
    EXPECT_STATUS(r, 204);
    expect_next(h, t1.secret, 401, "the revoked token");
    expect_next(h, t2.secret, 200, "another token of the same user");
    expect_next(h, b1, 200, "another user's token");
    CHECK(delta(h, m0, "patd_cache_misses_total") == 1,
          "a revocation cost %.0f misses, not 1 (the revoked token's)",
          delta(h, m0, "patd_cache_misses_total"));
    CHECK(delta(h, m0, "patd_cache_flushes_total") == 0,
          "a revocation flushed the cache");

    m0 = v_metrics(h);
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->bob_id), h->admin_token,
              "{\"disabled\":true}");
    EXPECT_STATUS(r, 200);
    expect_next(h, b1, 401, "a disabled user's token");
    expect_next(h, t2.secret, 200, "a token of another user");
    CHECK(delta(h, m0, "patd_cache_misses_total") == 1 &&
              delta(h, m0, "patd_cache_flushes_total") == 0,
          "disabling a user cost %.0f misses and %.0f flushes, not 1 and 0",
          delta(h, m0, "patd_cache_misses_total"),
          delta(h, m0, "patd_cache_flushes_total"));
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->bob_id), h->admin_token,
              "{\"disabled\":false}");
    EXPECT_STATUS(r, 200);
    expect_next(h, b1, 200, "the token of a user enabled again");

    if (c->sqlite) {
        m0 = v_metrics(h);
        cmd[0] = "token";
        cmd[1] = "revoke";
        cmd[2] = t3.id;
        cmd[3] = NULL;
        CHECK(h_run(h, cmd, out, sizeof(out)) == 0, "patd token revoke %s: %s",
              t3.id, out);
        t0 = h_now_ms();
        deadline = t0 + 5000;
        while ((st = auth(h, t3.secret)) == 200 && h_now_ms() < deadline)
            h_poll_pause();
        CHECK(st == 401, "a token revoked by a local command still works");
        printf("# revoked by a local command: refused after %lld ms "
               "(cache TTL 60 s)\n",
               h_now_ms() - t0);
        expect_next(h, t2.secret, 200, "a token the command did not name");
        CHECK(delta(h, m0, "patd_cache_flushes_total") == 0,
              "a local revocation flushed the cache");
    }

    m0 = v_metrics(h);
    r = http(h, "GET", "/v1/policy", h->admin_token, NULL, NULL);
    r = http(h, "PUT", "/v1/policy", h->admin_token, r->body, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(delta(h, m0, "patd_cache_flushes_total") >= 1,
          "a policy change did not drop the cache");
}

/* Whether fd has something to read (an answer) right now. */
static bool
readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};

    return poll(&p, 1, 0) > 0;
}

/*
 * Nothing slow shares a thread with forward auth: while another process
 * holds the store's write lock, two API writes wait for it (on the
 * worker threads, their connections suspended), and a cached token is
 * still answered by /v1/auth before either of them. With the writes on
 * the two threads that read requests, forward auth would wait too
 * (PATD_SERVER_WORKERS=0 makes this test fail).
 */
static void
test_isolation(struct ctx *c)
{
    struct h *h = &c->h;
    struct tok t;
    sqlite3 *db = NULL;
    char req[1024], body[64], buf[4096];
    int fds[2] = {-1, -1}, i, n;
    long st;

    h_section("isolation: a held write lock does not hold forward auth");
    if (!mint(c, "isolated", "[\"repo:read\"]", &t) ||
        !warm(h, t.secret, "the token"))
        return;
    if (!CHECK(sqlite3_open(h->db, &db) == SQLITE_OK &&
                   sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
                       SQLITE_OK,
               "cannot take the write lock"))
        goto out;
    for (i = 0; i < 2; i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"w%d\",\"scopes\":[\"repo:read\"]}", i);
        n = snprintf(req, sizeof(req),
                     "POST /v1/me/tokens HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     c->alice, strlen(body), body);
        fds[i] = h_connect(h);
        CHECK(fds[i] >= 0 && n > 0 && h_send_all(fds[i], req, (size_t)n),
              "send write %d", i);
    }
    h_poll_pause(); /* let both reach the lock */
    st = auth(h, t.secret);
    CHECK(st == 200, "forward auth under a held lock answered %ld", st);
    CHECK(!readable(fds[0]) && !readable(fds[1]),
          "a write was answered while the lock was held");
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    for (i = 0; i < 2; i++) {
        st = fds[i] >= 0 ? h_read_answer(fds[i], 10000, buf, sizeof(buf)) : 0;
        CHECK(st == 201, "write %d after the lock: %ld %.200s", i, st, buf);
    }
out:
    for (i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    sqlite3_close(db);
}

/* Revocation by every route is seen by the next verification. */
static void
test_revocations(struct ctx *c)
{
    struct h *h = &c->h;
    struct tok t[4], b1, b2, e1;
    struct resp *r, *m0, *m1;
    int i;

    h_section("A: the answer is cached");
    if (!mint(c, "cached", "[\"repo:read\"]", &t[0]))
        return;
    warm(h, t[0].secret, "first verification");
    m0 = v_metrics(h);
    warm(h, t[0].secret, "second verification");
    m1 = v_metrics(h);
    CHECK(v_sample(m1, "patd_cache_hits_total") -
                  v_sample(m0, "patd_cache_hits_total") ==
              1,
          "the second verification of a token was not a cache hit");

    h_section("A: a revocation is seen by the very next verification");
    for (i = 1; i < 4; i++)
        if (!mint(c, hfmt(h, "revoke-%d", i), "[\"repo:read\"]", &t[i]))
            return;
    warm(h, t[0].secret, "DELETE /v1/me/tokens/{id}");
    r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", t[0].id), c->alice, NULL,
             NULL);
    EXPECT_STATUS(r, 204);
    expect_next(h, t[0].secret, 401, "DELETE /v1/me/tokens/{id}");
    warm(h, t[1].secret, "DELETE /v1/tokens/{id}");
    r = http(h, "DELETE", hfmt(h, "/v1/tokens/%s", t[1].id), h->admin_token,
             NULL, NULL);
    EXPECT_STATUS(r, 204);
    expect_next(h, t[1].secret, 401, "DELETE /v1/tokens/{id}");
    warm(h, t[2].secret, "DELETE /v1/token");
    r = http(h, "DELETE", "/v1/token", t[2].secret, NULL, NULL);
    EXPECT_STATUS(r, 204);
    expect_next(h, t[2].secret, 401, "DELETE /v1/token");
    warm(h, t[3].secret, "POST /oauth2/revoke");
    r = v_form(h, "/oauth2/revoke", NULL, hfmt(h, "token=%s", t[3].secret),
               NULL);
    EXPECT_STATUS(r, 200);
    expect_next(h, t[3].secret, 401, "POST /oauth2/revoke");

    if (!mint_cli(c, "bob", "bob-1", &b1) ||
        !mint_cli(c, "bob", "bob-2", &b2) ||
        !mint_cli(c, "erin", "erin-1", &e1))
        return;
    warm(h, b1.secret, "POST /v1/tokens/revoke");
    r = httpf(h, "POST", "/v1/tokens/revoke", h->admin_token,
              "{\"user_id\":\"%s\"}", c->bob_id);
    CHECK(r->status == 200 && jint(r->json, "revoked") == 2,
          "bulk revocation of bob's tokens: %ld %s", r->status, r->body);
    expect_next(h, b1.secret, 401, "POST /v1/tokens/revoke");
    expect_next(h, b2.secret, 401, "POST /v1/tokens/revoke (not cached)");
    warm(h, e1.secret, "DELETE /v1/users/{id}/tokens");
    r = http(h, "DELETE", hfmt(h, "/v1/users/%s/tokens", c->erin_id),
             h->admin_token, NULL, NULL);
    CHECK(r->status == 200 || r->status == 204,
          "DELETE /v1/users/{id}/tokens: %ld %s", r->status, r->body);
    expect_next(h, e1.secret, 401, "DELETE /v1/users/{id}/tokens");
    EXPECT_HEALTHY(h);
}

/*
 * A thread verifying one token without pause on a connection of its own.
 * It touches nothing of the harness but its connection (the arena and
 * the pass/fail record are the main thread's); the main thread reads
 * the results after joining it.
 */
struct hammer {
    pthread_t thread;
    struct v_conn *conn;
    const char *token;
    atomic_bool *stop;
    atomic_long n;     /* answers so far */
    long long last_ok; /* when the latest request answered 200 started */
    long odd;          /* answers neither 200 nor 401 */
};

static void *
hammer_main(void *arg)
{
    struct hammer *w = arg;

    while (!atomic_load(w->stop)) {
        long long t = h_now_ms();
        long st = v_conn_auth(w->conn, w->token, NULL);

        if (st == 200)
            w->last_ok = t;
        else if (st != 401)
            w->odd++;
        atomic_fetch_add(&w->n, 1);
    }
    return NULL;
}

/* Waits until every hammer answered at least n more times than base[]. */
static bool
hammers_reach(struct hammer *w, size_t nw, const long *base, long n)
{
    long long deadline = h_now_ms() + 10000;
    size_t i;

    for (;;) {
        for (i = 0; i < nw && atomic_load(&w[i].n) >= base[i] + n; i++)
            ;
        if (i == nw)
            return true;
        if (h_now_ms() > deadline)
            return false;
        h_poll_pause();
    }
}

static void
test_revoke_under_load(struct ctx *c)
{
    struct h *h = &c->h;
    enum { THREADS = 2, ROUNDS = 4 };
    struct hammer w[THREADS];
    atomic_bool stop;
    long base[THREADS];
    int round;
    size_t i;

    h_section("A: revoked while two threads verify it: nothing after the ack");
    for (round = 0; round < ROUNDS; round++) {
        struct tok t;
        struct resp *r;
        long long ack;
        bool ran;

        if (!mint(c, hfmt(h, "hammered-%d", round), "[\"repo:read\"]", &t))
            return;
        atomic_init(&stop, false);
        memset(w, 0, sizeof(w));
        for (i = 0; i < THREADS; i++) {
            w[i].conn = v_conn_new(h);
            w[i].token = t.secret;
            w[i].stop = &stop;
            atomic_init(&w[i].n, 0);
            w[i].last_ok = -1;
            base[i] = 0;
            if (pthread_create(&w[i].thread, NULL, hammer_main, &w[i]) != 0) {
                CHECK(false, "pthread_create failed");
                atomic_store(&stop, true);
                while (i-- > 0)
                    pthread_join(w[i].thread, NULL);
                return;
            }
        }
        ran = hammers_reach(w, THREADS, base, 20);
        if (round % 2 == 0)
            r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", t.id), c->alice,
                     NULL, NULL);
        else
            r = v_form(h, "/oauth2/revoke", NULL, hfmt(h, "token=%s", t.secret),
                       NULL);
        ack = h_now_ms();
        for (i = 0; i < THREADS; i++)
            base[i] = atomic_load(&w[i].n);
        ran &= hammers_reach(w, THREADS, base, 20);
        atomic_store(&stop, true);
        for (i = 0; i < THREADS; i++) {
            pthread_join(w[i].thread, NULL);
            v_conn_close(w[i].conn);
        }
        CHECK(r->status == 204 || r->status == 200, "%s: %ld", r->what,
              r->status);
        CHECK(ran, "round %d: the threads did not get answers", round);
        for (i = 0; i < THREADS; i++) {
            CHECK(w[i].last_ok >= 0 && w[i].last_ok <= ack,
                  "round %d (%s), thread %zu: a verification that started "
                  "%lld ms after the revocation was acknowledged answered 200",
                  round, r->what, i, w[i].last_ok - ack);
            CHECK(w[i].odd == 0,
                  "round %d, thread %zu: %ld answers neither "
                  "200 nor 401",
                  round, i, w[i].odd);
        }
    }
    EXPECT_HEALTHY(h);
}

/* Changes to the owner are seen by the next verification. */
static void
test_owner_changes(struct ctx *c)
{
    struct h *h = &c->h;
    const char *carol = hfmt(h, "/v1/users/%s", c->carol_id);
    struct tok t, e;
    struct resp *r;
    char scopes[128];

    h_section("A: the owner disabled, re-enabled, deleted");
    if (!mint_cli(c, "carol", "carol-1", &t) ||
        !mint_cli(c, "erin", "erin-2", &e))
        return;
    warm(h, t.secret, "a disabled user");
    r = httpf(h, "PATCH", carol, h->admin_token, "{\"disabled\":true}");
    EXPECT_STATUS(r, 200);
    expect_next(h, t.secret, 401, "PATCH /v1/users/{id} disabled");
    r = httpf(h, "PATCH", carol, h->admin_token, "{\"disabled\":false}");
    EXPECT_STATUS(r, 200);
    expect_next(h, t.secret, 200, "PATCH /v1/users/{id} enabled again");
    warm(h, e.secret, "a deleted user");
    r = http(h, "DELETE", hfmt(h, "/v1/users/%s", c->erin_id), h->admin_token,
             NULL, NULL);
    EXPECT_STATUS(r, 204);
    expect_next(h, e.secret, 401, "DELETE /v1/users/{id}");

    h_section("A: the owner's allowed scopes reduced, then restored");
    r = v_auth(h, "GET", "?scope=repo:write", t.secret, NULL);
    EXPECT_STATUS(r, 200);
    resp_header(r, "X-Pat-Scopes", scopes, sizeof(scopes));
    CHECK(strcmp(scopes, "repo:read repo:write") == 0,
          "X-Pat-Scopes before: '%s'", scopes);
    r = httpf(h, "PATCH", carol, h->admin_token,
              "{\"scopes\":[\"repo:read\"]}");
    EXPECT_STATUS(r, 200);
    r = v_auth(h, "GET", "?scope=repo:write", t.secret, NULL);
    EXPECT_ERROR(r, 403, "insufficient_scope");
    CHECK(strstr(r->www_auth, "scope=\"repo:write\"") != NULL,
          "403 WWW-Authenticate '%s'", r->www_auth);
    r = v_auth(h, "GET", "", t.secret, NULL);
    EXPECT_STATUS(r, 200);
    resp_header(r, "X-Pat-Scopes", scopes, sizeof(scopes));
    CHECK(strcmp(scopes, "repo:read") == 0,
          "X-Pat-Scopes after the user lost repo:write: '%s'", scopes);
    r = httpf(h, "PATCH", carol, h->admin_token,
              "{\"scopes\":[\"repo:read\",\"repo:write\"]}");
    EXPECT_STATUS(r, 200);
    r = v_auth(h, "GET", "?scope=repo:write", t.secret, NULL);
    CHECK(r->status == 200, "repo:write given back: %ld", r->status);
    EXPECT_HEALTHY(h);
}

/* Regeneration: the grace period, reuse, revoke_on_reuse. */
static void
test_regeneration(struct ctx *c)
{
    struct h *h = &c->h;
    struct tok g, q;
    const char *fresh, *q2;
    long long t0, deadline, flipped = -1;
    long old_st = 0, new_st = 0;
    bool only_ok = true;
    struct resp *r;

    h_section("A: regenerate with grace_seconds = 2");
    if (!mint(c, "graced", "[\"repo:read\"]", &g) ||
        !mint(c, "reused", "[\"repo:read\"]", &q))
        return;
    warm(h, g.secret, "the secret before regeneration");
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", g.id), c->alice,
              "{\"grace_seconds\":2}");
    t0 = h_now_ms();
    EXPECT_STATUS(r, 200);
    fresh = jstr(r->json, "token");
    if (fresh == NULL)
        return;
    expect_next(h, g.secret, 200, "the old secret within its grace");
    expect_next(h, fresh, 200, "the new secret");
    deadline = t0 + 8000;
    while (h_now_ms() < deadline) {
        old_st = auth(h, g.secret);
        new_st = auth(h, fresh);
        only_ok &= (old_st == 200 || old_st == 401) && new_st == 200;
        if (old_st == 401) {
            flipped = h_now_ms() - t0;
            break;
        }
        h_poll_pause();
    }
    CHECK(only_ok, "during the grace: old %ld, new %ld", old_st, new_st);
    CHECK(flipped >= 0, "the old secret still verifies 8 s into a 2 s grace");
    CHECK(flipped < 0 || flipped >= 900,
          "the old secret stopped %lld ms into a 2 s grace", flipped);
    printf("# note: the old secret stopped %lld ms after the regeneration\n",
           flipped);
    expect_next(h, fresh, 200, "the new secret after the grace");
    expect_next(h, g.secret, 401, "the old secret again (cached reuse)");
    r = http(h, "GET",
             hfmt(h, "/v1/audit?action=token.reuse_detected&target=%s", g.id),
             h->admin_token, NULL, NULL);
    CHECK(r->status == 200 && nitems(r) >= 1,
          "no token.reuse_detected event for the old secret: %s", r->body);

    h_section("A: revoke_on_reuse: the retired secret revokes the token");
    r = http(h, "PUT", "/v1/policy", h->admin_token, policy(true), NULL);
    EXPECT_STATUS(r, 200);
    warm(h, q.secret, "the secret before regeneration");
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", q.id), c->alice,
              "{\"grace_seconds\":0}");
    EXPECT_STATUS(r, 200);
    q2 = jstr(r->json, "token");
    if (q2 == NULL)
        return;
    warm(h, q2, "the new secret");
    expect_next(h, q.secret, 401, "the retired secret");
    expect_next(h, q2, 401, "the new secret after a reuse (revoke_on_reuse)");
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", q.id), h->admin_token, NULL,
             NULL);
    CHECK(jstr(r->json, "revoked_reason") &&
              strcmp(jstr(r->json, "revoked_reason"), "reuse") == 0,
          "after a reuse under revoke_on_reuse: %s", r->body);
    r = http(h, "PUT", "/v1/policy", h->admin_token, policy(false), NULL);
    EXPECT_STATUS(r, 200);
    EXPECT_HEALTHY(h);
}

/* Runs sql with a SQLite connection of the test's own. */
static bool
db_exec(struct h *h, const char *sql)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc = sqlite3_open_v2(h->db, &db, SQLITE_OPEN_READWRITE, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    }
    CHECK(rc == SQLITE_OK, "sqlite3 '%s': %s", sql,
          err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

/* The first column of the first row of sql (one text parameter), or "". */
static const char *
db_text(struct h *h, const char *sql, const char *param)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *out = "";
    int rc = sqlite3_open_v2(h->db, &db, SQLITE_OPEN_READONLY, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            out = hstrdup(h, (const char *)sqlite3_column_text(st, 0));
    }
    CHECK(rc == SQLITE_OK, "sqlite3 '%s': %s", sql, sqlite3_errstr(rc));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/*
 * The database's directory moved away: what an uncached token gets is
 * recorded, not prescribed (see the top of the file); no answer may be
 * wrong.
 */
static void
test_moved_away(struct ctx *c)
{
    struct h *h = &c->h;
    const char *away = hfmt(h, "%s.away", h->dir);
    struct tok ok, gone;
    long st_ok, st_gone, st_ready;
    struct resp *r;

    h_section("B: the database directory moved away (recorded)");
    if (!mint(c, "moved-ok", "[\"repo:read\"]", &ok) ||
        !mint(c, "moved-gone", "[\"repo:read\"]", &gone))
        return;
    r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", gone.id), c->alice, NULL,
             NULL);
    EXPECT_STATUS(r, 204);
    if (!CHECK(rename(h->dir, away) == 0, "rename %s: %s", h->dir,
               strerror(errno)))
        return;
    st_ok = auth(h, ok.secret);
    st_gone = auth(h, gone.secret);
    st_ready = http(h, "GET", "/readyz", NULL, NULL, NULL)->status;
    CHECK(rename(away, h->dir) == 0, "rename back %s: %s", away,
          strerror(errno));
    CHECK(st_ok == 200 || st_ok == 503,
          "a valid uncached token with the store moved away: %ld", st_ok);
    CHECK(st_gone == 401 || st_gone == 503,
          "a revoked uncached token with the store moved away: %ld", st_gone);
    printf("# note: database directory moved away: a valid uncached token "
           "%ld, a revoked one %ld, /readyz %ld (open connections keep "
           "reading the moved file)\n",
           st_ok, st_gone, st_ready);
    expect_next(h, ok.secret, 200, "the store back in place");
}

/*
 * /readyz answers whether the node could commit, not only read (issue
 * #11): while another process holds SQLite's write lock, every change
 * fails (busy past the timeout) though every read still works, and
 * /readyz must say 503; once the lock is gone, 200 again.
 */
static void
test_ready_needs_writes(struct ctx *c)
{
    struct h *h = &c->h;
    sqlite3 *db = NULL;
    struct resp *r;
    int rc;

    h_section("B: /readyz is 503 while writes cannot commit");
    rc = sqlite3_open_v2(h->db, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (!CHECK(rc == SQLITE_OK, "cannot take the write lock: %s",
               sqlite3_errstr(rc))) {
        sqlite3_close(db);
        return;
    }
    r = http(h, "GET", "/v1/me", c->alice, NULL, NULL);
    CHECK(r->status == 200, "a read with the write lock held elsewhere: %ld",
          r->status);
    r = http(h, "GET", "/readyz", NULL, NULL, NULL);
    EXPECT_ERROR(r, 503, "unavailable");
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    r = http(h, "GET", "/readyz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(db_text(h, "SELECT value FROM settings WHERE key = ?1",
                  "write_probe")[0] == '\0',
          "the readiness probe left a row behind");
}

static void
test_fail_closed(struct ctx *c)
{
    struct h *h = &c->h;
    struct tok cached, uncached, revoked, gw;
    const char *unknown = v_forge(h);
    long long t0, deadline, served = -1;
    long st = 0;
    bool only = true;
    struct resp *r, *m0;
    int i;

    h_section("B: the store fails: 503, never 200, for what is not cached");
    if (!mint(c, "down-cached", "[\"repo:read\"]", &cached) ||
        !mint(c, "down-uncached", "[\"repo:read\"]", &uncached) ||
        !mint(c, "down-revoked", "[\"repo:read\"]", &revoked))
        return;
    {
        static const char *const args[] = {"--scope", "patd:introspect", NULL};
        gw.secret = h_cli_token(h, "gate", "introspector", args, NULL);
        if (gw.secret == NULL)
            return;
    }
    r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", revoked.id), c->alice,
             NULL, NULL);
    EXPECT_STATUS(r, 204);
    /* The introspector's own token must be in the cache too. */
    r = v_form(h, "/oauth2/introspect", gw.secret,
               hfmt(h, "token=%s", cached.secret), NULL);
    CHECK(r->status == 200 && jbool(r->json, "active"),
          "introspection before the failure: %ld %s", r->status, r->body);
    m0 = v_metrics(h);
    warm(h, cached.secret, "the cached token");
    t0 = h_now_ms();
    if (!db_exec(h, "ALTER TABLE secrets RENAME TO secrets_down;"
                    "ALTER TABLE policy RENAME TO policy_down;"))
        return;

    expect_next(h, cached.secret, 200,
                "a cached valid token within the TTL while the store fails");
    for (i = 0; i < 2; i++) {
        r = v_auth(h, i ? "POST" : "GET", "", uncached.secret, NULL);
        CHECK(r->status == 503 && strtol(r->retry_after, NULL, 10) >= 1,
              "an uncached valid token while the store fails: %ld, "
              "Retry-After '%s': %.200s",
              r->status, r->retry_after, r->body);
        EXPECT_IDENTITY(r, NULL, "503");
    }
    expect_next(h, revoked.secret, 503,
                "an uncached revoked token while the store fails");
    expect_next(h, unknown, 503,
                "an unknown well-formed token while the store fails");
    expect_next(h, "pat_notAToken", 401,
                "a malformed token (refused before any lookup)");
    r = http(h, "GET", "/readyz", NULL, NULL, NULL);
    EXPECT_ERROR(r, 503, "unavailable");
    r = v_form(h, "/oauth2/introspect", gw.secret,
               hfmt(h, "token=%s", uncached.secret), NULL);
    CHECK(r->status == 503 && strtol(r->retry_after, NULL, 10) >= 1,
          "introspection of an uncached token while the store fails: %ld %s",
          r->status, r->body);
    r = v_form(h, "/oauth2/revoke", NULL, hfmt(h, "token=%s", uncached.secret),
               NULL);
    CHECK(r->status == 503 && strtol(r->retry_after, NULL, 10) >= 1,
          "RFC 7009 revocation while the store fails: %ld, Retry-After '%s'",
          r->status, r->retry_after);
    r = httpf(h, "POST", "/v1/credentials/revoke", NULL,
              "{\"credentials\":[\"%s\"]}", uncached.secret);
    CHECK(r->status == 503,
          "a leak report while the store fails: %ld (202 would claim it was "
          "handled)",
          r->status);
    CHECK(v_sample(v_metrics(h), "patd_store_errors_total") >
              v_sample(m0, "patd_store_errors_total"),
          "patd_store_errors_total did not move");

    h_section("B: the cached answer lasts until the TTL (3 s), no longer");
    deadline = t0 + (TTL_B + 4) * 1000L;
    while (h_now_ms() < deadline) {
        st = auth(h, cached.secret);
        only &= st == 200 || st == 503;
        if (st == 503) {
            served = h_now_ms() - t0;
            break;
        }
        h_poll_pause();
    }
    CHECK(only, "a cached token during the outage answered %ld", st);
    CHECK(served >= 0,
          "a cached token still verifies %d s into the outage "
          "(TTL %d s)",
          TTL_B + 4, TTL_B);
    printf("# note: the cached token was served for %lld ms into the outage "
           "(TTL %d s)\n",
           served, TTL_B);

    h_section("B: the store is back: recovery without a restart");
    if (!db_exec(h, "ALTER TABLE secrets_down RENAME TO secrets;"
                    "ALTER TABLE policy_down RENAME TO policy;"))
        return;
    CHECK(h_poll_status(h, "/v1/auth", uncached.secret, 200, 5000),
          "the uncached token does not verify 5 s after the store is back");
    r = http(h, "GET", "/readyz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    expect_next(h, cached.secret, 200, "the cached token after the outage");
    expect_next(h, revoked.secret, 401, "the revoked token after the outage");
    expect_next(h, unknown, 401, "an unknown token after the outage");
    r = v_form(h, "/oauth2/revoke", NULL, hfmt(h, "token=%s", uncached.secret),
               NULL);
    EXPECT_STATUS(r, 200);
    expect_next(h, uncached.secret, 401, "revoked after the outage");
    EXPECT_HEALTHY(h);
}

/* GET /v1/tokens/{id} until last_used_ip is ip; the last answer. */
static struct resp *
poll_used_from(struct h *h, const char *id, const char *ip, long timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    struct resp *r;

    for (;;) {
        r = http(h, "GET", hfmt(h, "/v1/tokens/%s", id), h->admin_token, NULL,
                 NULL);
        if (jstr(r->json, "last_used_ip") &&
            strcmp(jstr(r->json, "last_used_ip"), ip) == 0)
            return r;
        if (h_now_ms() > deadline)
            return r;
        h_poll_pause();
    }
}

/* The addresses of r's recent_ips, space-separated ("" when absent). */
static const char *
recent_of(struct h *h, const struct resp *r)
{
    json_t *a = json_object_get(r->json, "recent_ips"), *v;
    char buf[512] = "";
    size_t i, w = 0;

    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        int n = snprintf(buf + w, sizeof(buf) - w, "%s%s", w ? " " : "",
                         s ? s : "?");
        if (n < 0 || (size_t)n >= sizeof(buf) - w)
            break;
        w += (size_t)n;
    }
    return hstrdup(h, buf);
}

static void
check_recent(struct ctx *c, const struct resp *r, const char *id,
             const char *want)
{
    struct h *h = &c->h;

    /*
     * SERVER BUG: the model keeps "the last 5 distinct IPs" of a token
     * (DESIGN.md section 3; docs/operations.md "Usage data") and the
     * store has them (tokens.recent_ips), but render_token
     * (src/patd/model_json.c) leaves them out, so no API, page or command
     * shows them: GET /v1/tokens/{id} has no recent_ips.
     */
    CHECK(json_is_array(json_object_get(r->json, "recent_ips")) &&
              strcmp(recent_of(h, r), want) == 0,
          "SERVER BUG: GET /v1/tokens/{id} must list recent_ips [%s], newest "
          "first; got %s",
          want, r->body);
    if (c->sqlite) {
        const char *stored =
            db_text(h, "SELECT recent_ips FROM tokens WHERE id = ?1", id);
        CHECK(strcmp(stored, want) == 0,
              "tokens.recent_ips is '%s', expected '%s'", stored, want);
    }
}

static void
test_usage(struct ctx *c)
{
    struct h *h = &c->h;
    struct tok t;
    struct v_conn *conn;
    struct resp *r, *m0, *m1;
    long long now = (long long)time(NULL), t0, took;
    double writes, batches;
    long n = 0;
    int i;

    h_section("C: last use and the last 5 distinct addresses");
    if (!mint(c, "used", "[\"repo:read\"]", &t))
        return;
    for (i = 1; i <= 7; i++) {
        const char *hdrs[2] = {hfmt(h, "X-Forwarded-For: 203.0.113.%d", i),
                               NULL};
        r = v_auth(h, "GET", "", t.secret, hdrs);
        EXPECT_STATUS(r, 200);
    }
    r = poll_used_from(h, t.id, "203.0.113.7", 6000);
    CHECK(jstr(r->json, "last_used_ip") &&
              strcmp(jstr(r->json, "last_used_ip"), "203.0.113.7") == 0,
          "last_used_ip 6 s after the uses (interval 1 s): %s", r->body);
    CHECK(v_epoch(jstr(r->json, "last_used_at")) >= now - 5 &&
              v_epoch(jstr(r->json, "last_used_at")) <= now + 30,
          "last_used_at is not the time of the last use (now %lld): %s", now,
          r->body);
    check_recent(c, r, t.id,
                 "203.0.113.7 203.0.113.6 203.0.113.5 203.0.113.4 "
                 "203.0.113.3");

    r = v_auth(h, "GET", "", t.secret,
               (const char *const[]){"X-Forwarded-For: 203.0.113.5", NULL});
    EXPECT_STATUS(r, 200);
    r = poll_used_from(h, t.id, "203.0.113.5", 6000);
    CHECK(jstr(r->json, "last_used_ip") &&
              strcmp(jstr(r->json, "last_used_ip"), "203.0.113.5") == 0,
          "last_used_ip after a use from an older address: %s", r->body);
    check_recent(c, r, t.id,
                 "203.0.113.5 203.0.113.7 203.0.113.6 203.0.113.4 "
                 "203.0.113.3");

    h_section("C: at most one usage write per token per interval");
    conn = v_conn_new(h);
    m0 = v_metrics(h);
    t0 = h_now_ms();
    while (h_now_ms() - t0 < 2500)
        n += v_conn_auth(conn, t.secret, NULL) == 200;
    took = h_now_ms() - t0;
    v_conn_close(conn);
    m1 = v_metrics(h);
    writes = v_sample(m1, "patd_usage_writes_total") -
             v_sample(m0, "patd_usage_writes_total");
    batches = v_sample(m1, "patd_usage_flush_batches_total") -
              v_sample(m0, "patd_usage_flush_batches_total");
    printf("# note: %ld verifications in %lld ms: %g usage writes in %g "
           "batches\n",
           n, took, writes, batches);
    /*
     * Each batch writes this token once at most; one more write may be the
     * admin token's, pending from the polls above.
     */
    CHECK(n > 0 && writes >= 1 && writes <= batches + 1,
          "%g usage writes in %g batches for one token", writes, batches);
    CHECK(batches >= 1 && batches <= (double)(took / 1000) + 2,
          "%g usage batches in %lld ms (interval 1 s)", batches, took);
    EXPECT_HEALTHY(h);
}

/*
 * The server prunes the change feed past [feed] retention_days at start:
 * a row two days old goes with a retention of one day, newer rows stay.
 */
static void
test_feed_pruned(struct ctx *c)
{
    static const char *const env[] = {"PATD_FEED_RETENTION_DAYS=1", NULL};
    struct h *h = &c->h;
    struct resp *r = NULL;
    long long deadline;
    bool gone = false;

    h_section("the change feed is pruned past its retention");
    if (!db_exec(h, "INSERT INTO changes (at, type, actor, evict, data)"
                    " VALUES (strftime('%s', 'now') - 2 * 86400,"
                    " 'policy.changed', 'system', 3, '{\"old\":true}')"))
        return;
    if (!h_start(h, env))
        return;
    deadline = h_now_ms() + 5000;
    while (!gone && h_now_ms() < deadline) {
        r = http(h, "GET", "/v1/events?limit=200", h->admin_token, NULL, NULL);
        gone = r->status == 200 && strstr(r->body, "\"old\"") == NULL;
        if (!gone)
            h_poll_pause();
    }
    CHECK(gone, "a feed row past the retention is still there: %s",
          r ? r->body : "");
    CHECK(r != NULL && nitems(r) > 0, "pruning took the recent rows too: %s",
          r ? r->body : "");
    h_stop(h);
}

int
main(int argc, char **argv)
{
    /* The threads of test_revoke_under_load fail hundreds of times. */
    static const char *const env_a[] = {
        "PATD_CACHE_TTL=60", "PATD_AUTH_MAX_FAILURES_PER_IP=1000000", NULL};
    static const char *const env_b[] = {"PATD_CACHE_TTL=3", NULL};
    static const char *const env_c[] = {
        "PATD_USAGE_INTERVAL=1", "PATD_SERVER_TRUSTED_PROXIES=127.0.0.1/32",
        NULL};
    static const char *const env_d[] = {"PATD_USAGE_INTERVAL=3600", NULL};
    const char *pg = getenv("PATD_TEST_STORE");
    struct ctx c;
    struct h *h = &c.h;
    struct tok w;
    struct resp *r;
    int i;

    memset(&c, 0, sizeof(c));
    c.sqlite = pg == NULL || pg[0] == '\0';
    h_init(h, argc, argv);
    if (!h_start(h, env_a) || !setup(&c))
        return h_finish(h);
    test_revocations(&c);
    test_exact(&c);
    test_revoke_under_load(&c);
    test_owner_changes(&c);
    test_regeneration(&c);
    h_stop(h);

    if (!c.sqlite) {
        printf("# skipped: failing the store on purpose (SQLite only)\n");
    } else if (h_start(h, env_b)) {
        test_moved_away(&c);
        test_fail_closed(&c);
        test_ready_needs_writes(&c);
        h_stop(h);
    }

    if (h_start(h, env_c)) {
        test_usage(&c);
        h_stop(h);
    }
    if (c.sqlite && h_start(h, env_c)) {
        test_isolation(&c);
        h_stop(h);
    }
    if (c.sqlite)
        test_feed_pruned(&c);

    h_section("D: pending usage is written at SIGTERM");
    if (!h_start(h, env_d) || !mint(&c, "flushed", "[\"repo:read\"]", &w))
        return h_finish(h);
    for (i = 0; i < 3; i++)
        warm(h, w.secret, "a token used before SIGTERM");
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", w.id), h->admin_token, NULL,
             NULL);
    CHECK(r->status == 200 && jnull(r->json, "last_used_at"),
          "usage written before SIGTERM with an interval of 3600 s: %s",
          r->body);
    h_stop(h);
    if (h_start(h, env_d)) {
        r = http(h, "GET", hfmt(h, "/v1/tokens/%s", w.id), h->admin_token, NULL,
                 NULL);
        CHECK(v_is_time(jstr(r->json, "last_used_at")) &&
                  jstr(r->json, "last_used_ip") &&
                  strcmp(jstr(r->json, "last_used_ip"), "127.0.0.1") == 0,
              "the usage pending at SIGTERM was lost: %s", r->body);
    }
    return h_finish(h);
}
