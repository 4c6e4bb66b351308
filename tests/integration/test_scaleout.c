/* SPDX-License-Identifier: MIT */
/*
 * Scale-out: three patd nodes (A, B, C) on one PostgreSQL database
 * (DESIGN.md section 5, docs/scaling.md). Needs the cluster that
 * tests/unit/with_pg.sh starts (PATD_TEST_STORE, PATD_TEST_PG_DIR).
 *
 *   propagation   200 tokens, each checked on B and C (so cached there),
 *                 revoked through A; from A's 204, B and C are polled in a
 *                 tight loop until they refuse. Every one must take under
 *                 a second; p50, p99 and max are printed.
 *   change kinds  each other change that makes a token less valid, made
 *                 on A, refused on B within a second.
 *   listener      B's listening connection is killed in the database and
 *                 a token cached on B is revoked through A at once: B
 *                 reconnects (and flushes), and refuses within its TTL.
 *   outage        the database is halted (as a crash would): uncached
 *                 tokens answer 503, never 200; cached ones keep
 *                 answering until their TTL, then 503; after a restart
 *                 every node recovers without a restart of its own, and
 *                 what was acknowledged before the halt is all there.
 *   start-up      three `patd serve` at once on a fresh database migrate
 *                 it exactly once; three `patd init` at once initialise
 *                 it exactly once.
 *
 * Verification goes through GET /v1/auth (the forward-auth endpoint,
 * which reads nothing but the verifier) on a reused libcurl handle per
 * node, so that a poll costs a loopback round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "harness.h"

#define NREVOKE     200
#define LIMIT_MS    1000  /* the bound on propagation to another node */
#define POLL_MAX_MS 3000  /* how long a poll waits before giving up */
#define TTL_B       2     /* B's cache TTL from the listener test on */
#define RECOVER_MS  30000 /* the database's restart and the reconnects */

/* A node: the harness's server and a kept-alive handle for /v1/auth. */
struct node {
    struct h h;
    const char *name;
    CURL *c;
};

static struct node A, B, C;
static const char *url, *pgdir, *user_id;

/* Nodes run with a failure limit no test here comes near. */
static const char *const env_default[] = {
    "PATD_AUTH_MAX_FAILURES_PER_IP=1000000", NULL};
static const char *const env_ttl_b[] = {"PATD_AUTH_MAX_FAILURES_PER_IP=1000000",
                                        "PATD_CACHE_TTL=2", NULL};

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* GET /v1/auth[query] with tok on node n: the status, 0 for none. */
static long
auth(struct node *n, const char *tok, const char *query)
{
    char u[256], hdr[H_TOKEN_CAP + 32];
    struct curl_slist *hl;
    long status = 0;

    snprintf(u, sizeof(u), "%s/v1/auth%s", n->h.base, query ? query : "");
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
    hl = curl_slist_append(NULL, hdr);
    if (n->c == NULL) {
        n->c = curl_easy_init();
        if (n->c == NULL)
            return 0;
    }
    curl_easy_setopt(n->c, CURLOPT_URL, u);
    curl_easy_setopt(n->c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(n->c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(n->c, CURLOPT_TIMEOUT_MS, 5000L);
    if (curl_easy_perform(n->c) == CURLE_OK)
        curl_easy_getinfo(n->c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    return status;
}

/* A milliseconds clock finer than h_now_ms, for the measurements. */
static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Polls tok on node n, as fast as answers come, until it answers
 * something but 200 or POLL_MAX_MS pass. Returns the milliseconds from
 * t0 to the refusal (-1: none) and its status in *status.
 */
static double
until_refused(struct node *n, const char *tok, const char *query, double t0,
              long *status)
{
    for (;;) {
        long s = auth(n, tok, query);
        double now = now_ms();
        if (s != 200) {
            *status = s;
            return now - t0;
        }
        if (now - t0 > POLL_MAX_MS) {
            *status = s;
            return -1;
        }
    }
}

/* Runs sql on the test database; the first value goes to out. */
static bool
pg_query(const char *db_url, const char *sql, char *out, size_t cap)
{
    PGconn *pg = PQconnectdb(db_url);
    PGresult *r = NULL;
    bool ok = false;

    if (out != NULL && cap > 0)
        out[0] = '\0';
    if (PQstatus(pg) != CONNECTION_OK) {
        printf("# postgres: %s", PQerrorMessage(pg));
        goto out;
    }
    r = PQexec(pg, sql);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK ||
         PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        printf("# postgres: %s", PQresultErrorMessage(r));
    else if (out != NULL && PQntuples(r) > 0 && PQnfields(r) > 0)
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
out:
    PQclear(r);
    PQfinish(pg);
    return ok;
}

/* The value of metric name on node n, -1 when absent. */
static long long
metric(struct node *n, const char *name)
{
    struct resp *r = http(&n->h, "GET", "/metrics", NULL, NULL, NULL);
    const char *p = r->body;
    size_t len = strlen(name);

    while ((p = strstr(p, name)) != NULL) {
        if ((p == r->body || p[-1] == '\n') && p[len] == ' ')
            return strtoll(p + len + 1, NULL, 10);
        p += len;
    }
    return -1;
}

/* Changes node n has heard of from the database. */
static long long
notes(struct node *n)
{
    return metric(n, "patd_change_notifications_total");
}

/*
 * Waits until node n has heard at least want changes, so that a late
 * notification of an earlier change cannot drop what a test is about to
 * cache there (which would make the next measurement look faster).
 */
static bool
heard(struct node *n, long long want)
{
    long long deadline = h_now_ms() + 5000;

    while (notes(n) < want) {
        if (h_now_ms() > deadline)
            return CHECK(false, "%s did not hear change %lld", n->name, want);
        h_poll_pause();
    }
    return true;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void
report(const char *what, double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    printf("# %s over %zu revocations: p50 %.2f ms, p99 %.2f ms, max %.2f "
           "ms\n",
           what, n, v[n / 2], v[(n * 99) / 100 - (n >= 100 ? 1 : 0)], v[n - 1]);
}

/* A token of user_id with scope repo:read, minted on A. */
static const char *
mint(const char *name, const char **id)
{
    return h_token(&A.h, user_id, name, "[\"repo:read\",\"patd:self\"]", id);
}

/* Checks tok on B and C, so that both hold it in their caches. */
static bool
warm(const char *tok)
{
    return auth(&B, tok, NULL) == 200 && auth(&C, tok, NULL) == 200;
}

static void
test_propagation(void)
{
    static double tb[NREVOKE], tc[NREVOKE], both[2 * NREVOKE];
    const char *tok[NREVOKE], *id[NREVOKE];
    size_t i, n = 0, late = 0;
    long long nb, nc;

    h_section("propagation: revoke on A, refused on B and C");
    for (i = 0; i < NREVOKE; i++) {
        tok[i] = mint(hfmt(&A.h, "prop-%zu", i), &id[i]);
        if (tok[i] == NULL)
            return;
    }
    nb = notes(&B);
    nc = notes(&C);
    for (i = 0; i < NREVOKE; i++) {
        struct resp *r;
        long sb = 0, sc = 0;
        double t0, db = -2, dc = -2;

        /* Each revocation is one notification on every node. */
        if (!heard(&B, nb + (long long)i) || !heard(&C, nc + (long long)i) ||
            !CHECK(warm(tok[i]), "token %zu is not valid on B and C", i))
            return;
        r = http(&A.h, "DELETE", hfmt(&A.h, "/v1/tokens/%s", id[i]),
                 A.h.admin_token, NULL, NULL);
        t0 = now_ms();
        if (!EXPECT_STATUS(r, 204))
            return;
        /* Both in turn, so that neither waits for the other. */
        while (db == -2 || dc == -2) {
            if (db == -2 && auth(&B, tok[i], NULL) != 200)
                db = now_ms() - t0;
            if (dc == -2 && auth(&C, tok[i], NULL) != 200)
                dc = now_ms() - t0;
            if (now_ms() - t0 > POLL_MAX_MS)
                break;
        }
        sb = auth(&B, tok[i], NULL);
        sc = auth(&C, tok[i], NULL);
        CHECK(db >= 0 && dc >= 0 && sb == 401 && sc == 401,
              "revocation %zu: B %.1f ms (%ld), C %.1f ms (%ld)", i, db, sb, dc,
              sc);
        tb[n] = db;
        tc[n] = dc;
        both[2 * n] = db;
        both[2 * n + 1] = dc;
        late += db >= LIMIT_MS || dc >= LIMIT_MS || db < 0 || dc < 0;
        n++;
    }
    CHECK(late == 0, "%zu of %zu revocations took a second or more", late, n);
    report("propagation to B", tb, n);
    report("propagation to C", tc, n);
    report("propagation to B and C", both, 2 * n);
}

/*
 * One change on A that node B must act on within LIMIT_MS; then B must
 * have heard of it (nb: what B had heard before the change).
 */
static void
expect_refused(const char *what, const char *tok, const char *query, long want,
               double t0, long long nb)
{
    long s = 0;
    double ms = until_refused(&B, tok, query, t0, &s);

    CHECK(ms >= 0 && ms < LIMIT_MS && s == want,
          "%s: B answered %ld after %.1f ms (want %ld within %d ms)", what, s,
          ms, want, LIMIT_MS);
    printf("# %-28s refused on B after %.2f ms\n", what, ms);
    heard(&B, nb + 1);
}

/* A user of its own with one token, checked on B. */
static const char *
fresh_user_token(const char *name, const char **uid, const char **tid)
{
    const char *tok;

    *uid = h_user(&A.h, name, "[\"patd:self\",\"repo:read\"]", NULL);
    if (*uid == NULL)
        return NULL;
    tok = h_token(&A.h, *uid, "main", "[\"repo:read\",\"patd:self\"]", tid);
    if (tok == NULL || !CHECK(warm(tok), "%s's token is not valid", name))
        return NULL;
    return tok;
}

static void
test_change_kinds(void)
{
    const char *uid, *tid, *tok, *fresh;
    struct resp *r;
    long long nb;
    double t0;

    h_section("change kinds: each made on A, refused on B");

    tok = fresh_user_token("k-all", &uid, &tid);
    nb = notes(&B);
    r = http(&A.h, "DELETE", hfmt(&A.h, "/v1/users/%s/tokens", uid),
             A.h.admin_token, NULL, NULL);
    t0 = now_ms();
    if (tok != NULL && EXPECT_STATUS(r, 200))
        expect_refused("revoke all of a user", tok, NULL, 401, t0, nb);

    tok = fresh_user_token("k-bulk", &uid, &tid);
    nb = notes(&B);
    r = httpf(&A.h, "POST", "/v1/tokens/revoke", A.h.admin_token,
              "{\"user_id\":\"%s\"}", uid);
    t0 = now_ms();
    if (tok != NULL && EXPECT_STATUS(r, 200))
        expect_refused("bulk revocation", tok, NULL, 401, t0, nb);

    tok = fresh_user_token("k-disable", &uid, &tid);
    nb = notes(&B);
    r = httpf(&A.h, "PATCH", hfmt(&A.h, "/v1/users/%s", uid), A.h.admin_token,
              "{\"disabled\":true}");
    t0 = now_ms();
    if (tok != NULL && EXPECT_STATUS(r, 200))
        expect_refused("user disabled", tok, NULL, 401, t0, nb);

    tok = fresh_user_token("k-delete", &uid, &tid);
    nb = notes(&B);
    r = http(&A.h, "DELETE", hfmt(&A.h, "/v1/users/%s", uid), A.h.admin_token,
             NULL, NULL);
    t0 = now_ms();
    if (tok != NULL && (r->status == 200 || EXPECT_STATUS(r, 204)))
        expect_refused("user deleted", tok, NULL, 401, t0, nb);

    tok = fresh_user_token("k-scope", &uid, &tid);
    if (tok != NULL)
        CHECK(auth(&B, tok, "?scope=repo:read") == 200,
              "the token holds repo:read on B");
    nb = notes(&B);
    r = httpf(&A.h, "PATCH", hfmt(&A.h, "/v1/users/%s", uid), A.h.admin_token,
              "{\"scopes\":[\"patd:self\"]}");
    t0 = now_ms();
    if (tok != NULL && EXPECT_STATUS(r, 200))
        expect_refused("scope taken from the user", tok, "?scope=repo:read",
                       403, t0, nb);

    tok = fresh_user_token("k-oauth", &uid, &tid);
    nb = notes(&B);
    r = http(&A.h, "POST", "/oauth2/revoke", NULL,
             hfmt(&A.h, "token=%s", tok ? tok : ""),
             (const char *const[]){
                 "Content-Type: application/x-www-form-urlencoded", NULL});
    t0 = now_ms();
    if (tok != NULL && EXPECT_STATUS(r, 200))
        expect_refused("revoke by secret (RFC 7009)", tok, NULL, 401, t0, nb);

    /* Regenerated without grace: the old secret is refused at once. */
    tok = fresh_user_token("k-regen", &uid, &tid);
    nb = notes(&B);
    r = httpf(&A.h, "POST", hfmt(&A.h, "/v1/me/tokens/%s/regenerate", tid), tok,
              "{\"grace_seconds\":0}");
    t0 = now_ms();
    fresh = jstr(r->json, "token");
    if (tok != NULL && EXPECT_STATUS(r, 200))
        expect_refused("regenerated (old secret)", tok, NULL, 401, t0, nb);

    /*
     * Reuse revocation: under revoke_on_reuse, the old secret presented
     * to A revokes the token, and B refuses the new secret.
     */
    r = httpf(&A.h, "PUT", "/v1/policy", A.h.admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":true}");
    EXPECT_STATUS(r, 200);
    heard(&B, notes(&A)); /* the policy change, heard by B as by A */
    if (fresh != NULL && CHECK(auth(&B, fresh, NULL) == 200,
                               "the regenerated token is valid on B")) {
        nb = notes(&B);
        CHECK(auth(&A, tok, NULL) == 401, "the old secret is refused on A");
        t0 = now_ms();
        expect_refused("revoked on reuse", fresh, NULL, 401, t0, nb);
    }
    r = httpf(&A.h, "PUT", "/v1/policy", A.h.admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":false}");
    EXPECT_STATUS(r, 200);
}

/* The pids of the listening connections, as " pid pid ... ". */
static void
listeners(char *out, size_t cap)
{
    char sql[] = "SELECT coalesce(' ' || string_agg(pid::text, ' ') || ' ',"
                 " ' ') FROM pg_stat_activity"
                 " WHERE application_name = 'patd-listener'"
                 " AND query LIKE 'LISTEN%'";

    if (!pg_query(url, sql, out, cap))
        snprintf(out, cap, " ");
}

static int
count_words(const char *s)
{
    int n = 0;

    while (*s != '\0') {
        s += strspn(s, " ");
        if (*s != '\0')
            n++;
        s += strcspn(s, " ");
    }
    return n;
}

/* Polls until the listeners are want in number; their pids go to out. */
static bool
wait_listeners(int want, char *out, size_t cap)
{
    long long deadline = h_now_ms() + 15000;

    for (;;) {
        listeners(out, cap);
        if (count_words(out) == want)
            return true;
        if (h_now_ms() > deadline)
            return false;
        h_poll_pause();
    }
}

/* The one pid of now that is not in before, into pid. */
static bool
new_pid(const char *before, const char *now, char *pid, size_t cap)
{
    const char *p = now;

    while (*p != '\0') {
        char needle[32];
        size_t len;
        p += strspn(p, " ");
        len = strcspn(p, " ");
        if (len > 0 && len < 20) {
            snprintf(needle, sizeof(needle), " %.*s ", (int)len, p);
            if (strstr(before, needle) == NULL) {
                snprintf(pid, cap, "%.*s", (int)len, p);
                return true;
            }
        }
        p += len;
    }
    return false;
}

static void
test_listener_drop(void)
{
    char before[512], now[512], pid[32] = "", sql[128];
    const char *tok, *id, *other, *cached;
    long long connects, flushes, misses;
    long status = 0;
    double t0, ms;
    struct resp *r;

    h_section("listener: B's listening connection killed");
    /* B again, with a short TTL; its listener is the one that is new. */
    h_stop(&B.h);
    curl_easy_cleanup(B.c);
    B.c = NULL;
    if (!CHECK(wait_listeners(2, before, sizeof(before)),
               "A's and C's listeners: '%s'", before) ||
        !h_start(&B.h, env_ttl_b))
        return;
    if (!CHECK(wait_listeners(3, now, sizeof(now)) &&
                   new_pid(before, now, pid, sizeof(pid)),
               "B's listener: before '%s', now '%s'", before, now))
        return;
    connects = metric(&B, "patd_listener_connects_total");
    CHECK(connects >= 1 && metric(&B, "patd_listener_up") == 1,
          "B's listener is up (%lld connects)", connects);

    tok = mint("drop-1", &id);
    other = mint("drop-2", NULL);
    cached = mint("drop-3", NULL);
    if (tok == NULL || other == NULL || cached == NULL ||
        !CHECK(auth(&B, tok, NULL) == 200, "the token is valid on B") ||
        !CHECK(auth(&B, cached, NULL) == 200, "a token cached on B"))
        return;
    flushes = metric(&B, "patd_cache_flushes_total");
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s)", pid);
    CHECK(pg_query(url, sql, now, sizeof(now)) && strcmp(now, "t") == 0,
          "terminated B's listener %s: '%s'", pid, now);
    /* Revoked at once: most likely while B is not listening. */
    r = http(&A.h, "DELETE", hfmt(&A.h, "/v1/tokens/%s", id), A.h.admin_token,
             NULL, NULL);
    t0 = now_ms();
    EXPECT_STATUS(r, 204);
    /* Misses are still read from the store meanwhile. */
    CHECK(auth(&B, other, NULL) == 200, "an uncached token is valid on B");
    ms = until_refused(&B, tok, NULL, t0, &status);
    CHECK(ms >= 0 && ms <= TTL_B * 1000 + 200 && status == 401,
          "B refused the revoked token after %.1f ms with %ld (TTL %d s)", ms,
          status, TTL_B);
    printf("# listener killed: revoked token refused on B after %.2f ms\n", ms);
    {
        long long deadline = h_now_ms() + 10000;
        while (metric(&B, "patd_listener_connects_total") <= connects &&
               h_now_ms() < deadline)
            h_poll_pause();
    }
    CHECK(metric(&B, "patd_listener_connects_total") == connects + 1 &&
              metric(&B, "patd_listener_up") == 1,
          "B's listener reconnected once");
    /* It caught up from the feed: nothing else was dropped. */
    misses = metric(&B, "patd_cache_misses_total");
    CHECK(auth(&B, cached, NULL) == 200 &&
              metric(&B, "patd_cache_misses_total") == misses,
          "a token cached before the listener died was read again");
    CHECK(metric(&B, "patd_cache_flushes_total") == flushes,
          "B flushed its cache (%lld flushes, %lld before)",
          metric(&B, "patd_cache_flushes_total"), flushes);
    CHECK(wait_listeners(3, now, sizeof(now)), "three listeners again: '%s'",
          now);
}

static bool
pg_script(const char *verb)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "sh '%s' %s '%s' >/dev/null", PATD_PG_SH, verb,
             pgdir);
    return system(cmd) == 0;
}

/* Polls tok on n until it answers want, or RECOVER_MS pass. */
static bool
until_status(struct node *n, const char *tok, long want)
{
    long long deadline = h_now_ms() + RECOVER_MS;

    for (;;) {
        if (auth(n, tok, NULL) == want)
            return true;
        if (h_now_ms() > deadline)
            return false;
        h_poll_pause();
    }
}

static void
test_outage(void)
{
    struct node *all[] = {&A, &B, &C};
    const char *cached, *acked, *revoked, *rid, *later;
    long s, sa = 0, sb = 0, sc = 0;
    long long nb, nc;
    double t0, ms;
    struct resp *r;
    size_t i;
    bool ever200 = false;

    h_section("outage: the database halted and resumed");
    cached = mint("out-cached", NULL);
    acked = mint("out-acked", NULL);
    revoked = mint("out-revoked", &rid);
    if (cached == NULL || acked == NULL || revoked == NULL)
        return;
    nb = notes(&B);
    nc = notes(&C);
    r = http(&A.h, "DELETE", hfmt(&A.h, "/v1/tokens/%s", rid), A.h.admin_token,
             NULL, NULL);
    EXPECT_STATUS(r, 204);
    if (!heard(&B, nb + 1) || !heard(&C, nc + 1) ||
        !CHECK(warm(cached), "the cached token is valid on B and C") ||
        !CHECK(pg_script("halt"), "pg.sh halt"))
        return;
    t0 = now_ms();
    /* C's TTL is 10 s: its entry serves; nothing uncached ever does. */
    s = auth(&C, cached, NULL);
    CHECK(s == 200, "a cached token on C during the outage: %ld", s);
    for (i = 0; i < 3; i++) {
        s = auth(all[i], acked, NULL);
        CHECK(s == 503,
              "an uncached token on %s during the outage: %ld (want "
              "503)",
              all[i]->name, s);
    }
    r = httpf(&A.h, "POST", hfmt(&A.h, "/v1/users/%s/tokens", user_id),
              A.h.admin_token,
              "{\"name\":\"during\",\"scopes\":[\"repo:read\"]}");
    EXPECT_ERROR(r, 503, "unavailable");
    /* B's TTL is 2 s: its entry stops serving then, and gives 503. */
    for (;;) {
        s = auth(&B, cached, NULL);
        ever200 |= s == 200;
        if (s != 200 || now_ms() - t0 > 5000)
            break;
        h_poll_pause();
    }
    ms = now_ms() - t0;
    CHECK(s == 503 && ms <= TTL_B * 1000 + 200,
          "B's cached entry ended %.0f ms into the outage with %ld (TTL %d s)",
          ms, s, TTL_B);
    printf("# outage: B served its cached token for %.0f ms (%s), then %ld\n",
           ms, ever200 ? "200" : "never", s);
    if (!CHECK(pg_script("resume"), "pg.sh resume"))
        return;
    t0 = now_ms();
    for (i = 0; i < 3; i++) {
        CHECK(until_status(all[i], acked, 200),
              "%s: the token acknowledged before the outage verifies",
              all[i]->name);
        CHECK(until_status(all[i], cached, 200), "%s: the cached token",
              all[i]->name);
        CHECK(auth(all[i], revoked, NULL) == 401,
              "%s: the token revoked before the outage stays revoked",
              all[i]->name);
    }
    printf("# outage: all nodes answered again %.0f ms after the restart\n",
           now_ms() - t0);
    later = mint("after", NULL);
    if (later != NULL) {
        sa = auth(&A, later, NULL);
        sb = auth(&B, later, NULL);
        sc = auth(&C, later, NULL);
    }
    CHECK(sa == 200 && sb == 200 && sc == 200, "writes work again: %ld %ld %ld",
          sa, sb, sc);
    for (i = 0; i < 3; i++) {
        long long deadline = h_now_ms() + 10000;
        while (metric(all[i], "patd_listener_up") != 1 && h_now_ms() < deadline)
            h_poll_pause();
        CHECK(metric(all[i], "patd_listener_up") == 1, "%s listens again",
              all[i]->name);
        EXPECT_HEALTHY(&all[i]->h);
    }
}

/* Runs patd ARGS with the fresh database three times at once. */
static void
three_at_once(const char *patd, const char *fresh, const char *const *args,
              const char *dir, int status[3], char out[3][512])
{
    pid_t pid[3];
    int i;

    for (i = 0; i < 3; i++) {
        pid[i] = fork();
        if (pid[i] == 0) {
            const char *argv[12];
            char path[700];
            int n = 0, fd;
            argv[n++] = patd;
            while (*args != NULL && n < 8)
                argv[n++] = *args++;
            argv[n++] = "--db";
            argv[n++] = fresh;
            argv[n] = NULL;
            snprintf(path, sizeof(path), "%s/at-once-%d.log", dir, i);
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                _exit(127);
            execv(patd, (char *const *)(uintptr_t)argv);
            _exit(127);
        }
    }
    for (i = 0; i < 3; i++) {
        char path[700];
        FILE *f;
        size_t n = 0;
        int st = 0;
        while (pid[i] > 0 && waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
            ;
        status[i] = pid[i] > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        snprintf(path, sizeof(path), "%s/at-once-%d.log", dir, i);
        f = fopen(path, "re");
        if (f != NULL) {
            n = fread(out[i], 1, 511, f);
            fclose(f);
        }
        out[i][n] = '\0';
    }
}

static void
test_startup(void)
{
    static const char *const serve[] = {"serve", "--listen", "127.0.0.1:9",
                                        NULL};
    static const char *const init[] = {"init", NULL};
    char fresh[sizeof(A.h.db)], v[64], out[3][512];
    struct h peers[3];
    const char *p = strrchr(url, '/');
    int status[3], i, ok = 0, refused = 0;

    h_section("start-up: a fresh database, three nodes at once");
    if (!CHECK(p != NULL &&
                   pg_query(url, "CREATE DATABASE patd_fresh", NULL, 0),
               "a fresh database"))
        return;
    if (!CHECK(snprintf(fresh, sizeof(fresh), "%.*s/patd_fresh", (int)(p - url),
                        url) < (int)sizeof(fresh),
               "the fresh database's URL fits"))
        return;
    /* Each opens the store (and so migrates it) before it finds no init. */
    three_at_once(A.h.patd, fresh, serve, A.h.dir, status, out);
    for (i = 0; i < 3; i++)
        CHECK(status[i] == 1 && strstr(out[i], "not initialised") != NULL,
              "serve %d on an empty store: exit %d, '%s'", i, status[i],
              out[i]);
    CHECK(pg_query(fresh,
                   "SELECT count(*) || '/' || count(DISTINCT version) || '/'"
                   " || max(version) FROM schema_migrations",
                   v, sizeof(v)),
          "schema_migrations");
    {
        char want[64];
        char n[16] = "", m[16] = "";
        /* Versions may have gaps (numbers taken by other branches). */
        pg_query(fresh, "SELECT count(DISTINCT version) FROM schema_migrations",
                 n, sizeof(n));
        pg_query(fresh, "SELECT max(version) FROM schema_migrations", m,
                 sizeof(m));
        snprintf(want, sizeof(want), "%s/%s/%s", n, n, m);
        CHECK(n[0] != '\0' && strcmp(v, want) == 0,
              "every migration recorded once: %s (count/distinct/max)", v);
    }
    three_at_once(A.h.patd, fresh, init, A.h.dir, status, out);
    for (i = 0; i < 3; i++) {
        ok += status[i] == 0;
        refused += status[i] == 1 && strstr(out[i], "already") != NULL;
    }
    CHECK(ok == 1 && refused == 2,
          "three inits at once: %d succeeded, %d refused as initialised", ok,
          refused);
    for (i = 0; i < 3; i++) {
        h_init_peer(&peers[i], &A.h, hfmt(&A.h, "fresh-%d", i));
        memcpy(peers[i].db, fresh, sizeof(fresh));
        h_start(&peers[i], env_default);
    }
    for (i = 0; i < 3; i++) {
        EXPECT_HEALTHY(&peers[i]);
        h_finish_peer(&peers[i]);
    }
}

/*
 * A token can only mint scopes it holds, and the bootstrap token does not
 * hold repo:read: the admin gets the scope, and a token with it (minted
 * by the local command, as the system) replaces the bootstrap one.
 */
static void
use_minter(void)
{
    static const char *const args[] = {"--scope",   "patd:admin", "--scope",
                                       "patd:self", "--scope",    "repo:read",
                                       NULL};
    const char *tok;
    struct resp *r;

    r = httpf(&A.h, "PATCH", hfmt(&A.h, "/v1/users/%s", A.h.admin_id),
              A.h.admin_token,
              "{\"scopes\":[\"patd:admin\",\"patd:introspect\","
              "\"patd:self\",\"repo:read\"]}");
    EXPECT_STATUS(r, 200);
    tok = h_cli_token(&A.h, "admin", "minter", args, NULL);
    if (tok != NULL && strlen(tok) < sizeof(A.h.admin_token))
        memcpy(A.h.admin_token, tok, strlen(tok) + 1);
}

int
main(int argc, char **argv)
{
    struct resp *r;

    url = getenv("PATD_TEST_STORE");
    pgdir = getenv("PATD_TEST_PG_DIR");
    if (url == NULL || pgdir == NULL || strncmp(url, "postgres", 8) != 0) {
        fprintf(stderr,
                "%s: run by tests/unit/with_pg.sh (needs "
                "PATD_TEST_STORE and PATD_TEST_PG_DIR)\n",
                argv[0]);
        return 1;
    }
    A.name = "A";
    B.name = "B";
    C.name = "C";
    h_init(&A.h, argc, argv);
    if (!h_start(&A.h, env_default))
        return h_finish(&A.h);
    h_init_peer(&B.h, &A.h, "b");
    h_init_peer(&C.h, &A.h, "c");
    if (h_start(&B.h, env_default) && h_start(&C.h, env_default)) {
        r = httpf(&A.h, "PUT", "/v1/scopes", A.h.admin_token,
                  "{\"items\":[{\"name\":\"repo:read\",\"description\":"
                  "\"Read repositories\"}]}");
        EXPECT_STATUS(r, 200);
        use_minter();
        user_id = h_user(&A.h, "dev", "[\"patd:self\",\"repo:read\"]", NULL);
        if (user_id != NULL) {
            test_propagation();
            test_change_kinds();
            test_listener_drop();
            test_outage();
        }
        test_startup();
    }
    curl_easy_cleanup(A.c);
    curl_easy_cleanup(B.c);
    curl_easy_cleanup(C.c);
    h_finish_peer(&B.h);
    h_finish_peer(&C.h);
    return h_finish(&A.h);
}
