/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of scale-out (DESIGN.md section 5, docs/scaling.md):
 *
 * - every lifecycle call that can make a token less valid announces
 *   itself with exactly one notification, committed with the change,
 *   and calls that change nothing (or fail) announce nothing;
 * - a verifier hears another node's change and stops serving its cached
 *   answer; when its listening connection is killed it reconnects, and
 *   the reconnection drops the cache;
 * - usage batches written by two verifiers (two nodes) at the same time
 *   for one token keep both nodes' addresses, and the latest use wins.
 *
 * The usage tests run on SQLite too; the others need PostgreSQL
 * (PATD_TEST_STORE, set by tests/unit/with_pg.sh), where each test has a
 * schema of its own, dropped after it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store/store_int.h"

static const char *pg_base;
static const struct pat_expiry NOEXP = {0, 0, false};

struct fx {
    char dir[64];
    char url[512];
    char schema[48];
    struct pat_store *st;
    struct pat_user alice;
    char err[256];
};

static void
quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void
pg_run(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r;

    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to '%s': %s", url, PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet, NULL);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static int
setup(void **state)
{
    static int serial;
    struct fx *f = calloc(1, sizeof(*f));
    struct pat_user_spec alice = {"alice", "Alice", NULL, PAT_ROLE_USER,
                                  "patd:self repo:read"};
    struct pat_user admin;
    struct pat_token tok;
    char secret[PAT_TOKEN_MAX + 1], sql[96];

    snprintf(f->dir, sizeof(f->dir), "/tmp/patscale.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (pg_base == NULL) {
        snprintf(f->url, sizeof(f->url), "%s/s.db", f->dir);
    } else {
        snprintf(f->schema, sizeof(f->schema), "patd_s%d_%d", (int)getpid(),
                 ++serial);
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f->schema);
        pg_run(pg_base, sql);
        snprintf(f->url, sizeof(f->url), "%s%coptions=-csearch_path%%3D%s",
                 pg_base, strchr(pg_base, '?') ? '&' : '?', f->schema);
    }
    assert_int_equal(
        pat_store_open(f->url, PAT_OPEN_CREATE, &f->st, f->err, sizeof(f->err)),
        PAT_OK);
    assert_int_equal(
        pat_store_init(f->st, NULL, &admin, &tok, secret, sizeof(secret)),
        PAT_OK);
    assert_int_equal(pat_scope_put(f->st, NULL, "repo:read", "Read"), PAT_OK);
    assert_int_equal(pat_user_create(f->st, NULL, &alice, &f->alice), PAT_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];

    pat_store_close(f->st);
    if (f->schema[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "DROP SCHEMA %s CASCADE", f->schema);
        pg_run(pg_base, cmd);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void
make(struct fx *f, const char *user, const char *name, struct pat_token *t,
     char *secret)
{
    struct pat_token_spec s = {user, name, NULL, "repo:read",
                               NULL, NULL, NOEXP};

    assert_int_equal(
        pat_token_create(f->st, NULL, &s, t, secret, PAT_TOKEN_MAX + 1),
        PAT_OK);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/*
 * A notification's payload is the seq of a feed row: described here as
 * "type id", with the token's id, else the user's, else nothing.
 */
static void
describe(struct fx *f, const char *payload, char *out, size_t cap)
{
    struct pat_change ch;
    size_t n = 0;
    long long seq = strtoll(payload, NULL, 10);

    assert_true(seq > 0);
    assert_int_equal(pat_changes_list(f->st, seq - 1, &ch, 1, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ch.seq, seq);
    if (ch.token_id[0] != '\0')
        snprintf(out, cap, "%s %s", ch.type, ch.token_id);
    else if (ch.user_id[0] != '\0')
        snprintf(out, cap, "%s %s", ch.type, ch.user_id);
    else
        snprintf(out, cap, "%s", ch.type);
}

/*
 * The notifications the listener lst has received since the last call,
 * described as "d1, d2, ..." in out. A marker sent last (its own
 * transaction) arrives after everything committed before it, so nothing
 * is missed and nothing is waited for blindly.
 */
static void
heard(struct fx *f, struct pat_store *lst, char *out, size_t cap)
{
    char payload[PAT_PAYLOAD_MAX + 1], d[128];
    int i;

    out[0] = '\0';
    pg_run(f->url, "NOTIFY " PAT_CHANGES_CHANNEL ", 'mark'");
    for (i = 0; i < 100; i++) {
        int rc = lst->drv->listen_wait(lst, 100, payload, sizeof(payload));
        if (rc == PAT_ENOTFOUND)
            continue;
        assert_int_equal(rc, PAT_OK);
        if (strcmp(payload, "mark") == 0)
            return;
        describe(f, payload, d, sizeof(d));
        if (out[0] != '\0')
            strncat(out, ", ", cap - strlen(out) - 1);
        strncat(out, d, cap - strlen(out) - 1);
    }
    fail_msg("the marker never came");
}

static void
expect_heard(struct fx *f, struct pat_store *lst, const char *type,
             const char *id)
{
    char got[512], want[128];

    if (type == NULL)
        want[0] = '\0';
    else if (id == NULL)
        snprintf(want, sizeof(want), "%s", type);
    else
        snprintf(want, sizeof(want), "%s %s", type, id);
    heard(f, lst, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("heard '%s', want '%s'", got, want);
}

static void
test_notify_each_change(void **state)
{
    struct fx *f = *state;
    struct pat_store *lst = NULL;
    struct pat_token t1, t2, t3, t4, out;
    struct pat_verdict v;
    struct pat_bulk_filter bulk = {NULL, "repo:read", 0};
    struct pat_policy pol;
    struct pat_scope keep[1];
    char s1[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1], s3[PAT_TOKEN_MAX + 1],
        s4[PAT_TOKEN_MAX + 1], s5[PAT_TOKEN_MAX + 1];
    bool revoked = false;
    int64_t n = 0;

    if (pg_base == NULL)
        skip();
    assert_int_equal(pat_store_open(f->url, 0, &lst, NULL, 0), PAT_OK);
    assert_non_null(lst->drv->listen_start);
    assert_int_equal(lst->drv->listen_start(lst, PAT_CHANGES_CHANNEL), PAT_OK);

    /* Creation and renaming make nothing less valid: silence. */
    make(f, "alice", "one", &t1, s1);
    make(f, "alice", "two", &t2, s2);
    assert_int_equal(
        pat_token_update(f->st, NULL, NULL, t1.id, "uno", NULL, NULL), PAT_OK);
    expect_heard(f, lst, NULL, NULL);

    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t1.id, NULL), PAT_OK);
    expect_heard(f, lst, "token.revoked", t1.id);
    /* Revoked already, or refused: nothing changed, nothing said. */
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t1.id, NULL), PAT_OK);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t2.id, "Bad Reason"),
                     PAT_EINVAL);
    expect_heard(f, lst, NULL, NULL);

    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t2.id, NULL, 0,
                                          &out, s3, sizeof(s3)),
                     PAT_OK);
    expect_heard(f, lst, "token.regenerated", t2.id);

    assert_int_equal(pat_token_revoke_secret(f->st, NULL, s3, strlen(s3),
                                             "leaked", &revoked),
                     PAT_OK);
    assert_true(revoked);
    expect_heard(f, lst, "token.leaked", t2.id);

    make(f, "alice", "three", &t3, s4);
    assert_int_equal(pat_token_revoke_bulk(f->st, NULL, &bulk, NULL, true, &n),
                     PAT_OK);
    assert_int_equal(n, 1);
    expect_heard(f, lst, NULL, NULL); /* a dry run */
    assert_int_equal(pat_token_revoke_bulk(f->st, NULL, &bulk, NULL, false, &n),
                     PAT_OK);
    expect_heard(f, lst, "token.revoked", t3.id);

    make(f, "alice", "four", &t4, s5);
    assert_int_equal(pat_token_revoke_user(f->st, NULL, "alice", NULL, &n),
                     PAT_OK);
    assert_int_equal(n, 1);
    expect_heard(f, lst, "token.revoked", t4.id);
    assert_int_equal(pat_token_revoke_user(f->st, NULL, "alice", NULL, &n),
                     PAT_OK);
    assert_int_equal(n, 0);
    expect_heard(f, lst, NULL, NULL);

    /* Every user change; the scope catalog; the policy. */
    assert_int_equal(pat_user_set_scopes(f->st, NULL, "alice", "patd:self"),
                     PAT_OK);
    expect_heard(f, lst, "user.updated", f->alice.id);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "alice", true), PAT_OK);
    expect_heard(f, lst, "user.disabled", f->alice.id);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "nobody", true),
                     PAT_ENOTFOUND);
    expect_heard(f, lst, NULL, NULL);
    snprintf(keep[0].name, sizeof(keep[0].name), "repo:read");
    snprintf(keep[0].description, sizeof(keep[0].description), "Read");
    keep[0].builtin = false;
    assert_int_equal(pat_scope_replace(f->st, NULL, keep, 1), PAT_OK);
    expect_heard(f, lst, "scopes.changed", NULL);
    assert_int_equal(pat_policy_get(f->st, &pol), PAT_OK);
    pol.revoke_on_reuse = true;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_OK);
    expect_heard(f, lst, "policy.changed", NULL);
    assert_int_equal(pat_user_delete(f->st, NULL, "alice"), PAT_OK);
    expect_heard(f, lst, "user.deleted", f->alice.id);

    /* Reuse of a retired secret under revoke_on_reuse revokes: said. */
    {
        struct pat_user_spec bob = {"bob", "Bob", NULL, PAT_ROLE_USER,
                                    "repo:read"};
        struct pat_user u;
        assert_int_equal(pat_user_create(f->st, NULL, &bob, &u), PAT_OK);
        make(f, "bob", "b1", &t1, s1);
        assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t1.id, NULL, 0,
                                              &out, s2, sizeof(s2)),
                         PAT_OK);
        expect_heard(f, lst, "token.regenerated", t1.id);
        assert_int_equal(pat_verify(f->st, s1, strlen(s1), &v), PAT_EREUSED);
        expect_heard(f, lst, "token.revoked", t1.id);
    }
    pat_store_close(lst);
}

/* Checks tok on v until it is refused, up to ms; returns the last rc. */
static int
poll_refused(struct pat_verifier *v, const char *tok, long ms)
{
    struct pat_verdict out;
    int rc = PAT_OK;
    long waited;

    for (waited = 0; waited <= ms; waited += 5) {
        rc = pat_verifier_check(v, tok, strlen(tok), NULL, &out);
        if (rc != PAT_OK)
            break;
        sleep_ms(5);
    }
    return rc;
}

static void
wait_stats(struct pat_verifier *v, uint64_t connects, int up)
{
    struct pat_verifier_stats s;
    int i;

    for (i = 0; i < 400; i++) {
        pat_verifier_stats(v, &s);
        if (s.listener_connects >= connects && s.listener_up == up)
            return;
        sleep_ms(25);
    }
    fail_msg("listener: %llu connects, up %d; want %llu, %d",
             (unsigned long long)s.listener_connects, s.listener_up,
             (unsigned long long)connects, up);
}

static void
test_verifier_hears(void **state)
{
    struct fx *f = *state;
    struct pat_verifier_options o = {0, 60, -1}; /* long TTL, no usage */
    struct pat_verifier *v = NULL;
    struct pat_verifier_stats s;
    struct pat_verdict out;
    struct pat_token t1, t2;
    char s1[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1], sql[160];

    if (pg_base == NULL)
        skip();
    assert_int_equal(pat_verifier_new(f->url, &o, &v, f->err, sizeof(f->err)),
                     PAT_OK);
    wait_stats(v, 1, 1);
    make(f, "alice", "one", &t1, s1);
    make(f, "alice", "two", &t2, s2);
    assert_int_equal(pat_verifier_check(v, s1, strlen(s1), NULL, &out), PAT_OK);
    assert_int_equal(pat_verifier_check(v, s1, strlen(s1), NULL, &out), PAT_OK);
    pat_verifier_stats(v, &s);
    assert_true(s.hits >= 1);

    /* Another node (f->st) revokes: this one hears it. */
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t1.id, NULL), PAT_OK);
    assert_int_equal(poll_refused(v, s1, 1000), PAT_EREVOKED);
    pat_verifier_stats(v, &s);
    assert_true(s.notifications >= 1);

    /* Its listening connection killed: it comes back, once. */
    assert_int_equal(pat_verifier_check(v, s2, strlen(s2), NULL, &out), PAT_OK);
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = 'patd-listener'");
    pg_run(f->url, sql);
    wait_stats(v, 2, 1);
    pat_verifier_stats(v, &s);
    assert_int_equal(s.listener_connects, 2);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t2.id, NULL), PAT_OK);
    assert_int_equal(poll_refused(v, s2, 1000), PAT_EREVOKED);
    pat_verifier_free(v);
}

struct flush_arg {
    struct pat_verifier *v;
    pthread_barrier_t *go;
    int rc;
};

static void *
flush_main(void *p)
{
    struct flush_arg *a = p;

    pthread_barrier_wait(a->go);
    a->rc = pat_verifier_flush(a->v);
    return NULL;
}

/*
 * Two nodes note uses of one token from their own addresses and write
 * their batches at the same moment, round after round: the stored list
 * must hold the latest address of each.
 */
static void
test_usage_two_nodes(void **state)
{
    struct fx *f = *state;
    struct pat_verifier_options o = {0, 60, 3600}; /* flushed by hand */
    struct pat_verifier *va = NULL, *vb = NULL;
    struct pat_verdict out;
    struct pat_token t, got;
    char secret[PAT_TOKEN_MAX + 1];
    int round;

    make(f, "alice", "shared", &t, secret);
    assert_int_equal(pat_verifier_new(f->url, &o, &va, f->err, sizeof(f->err)),
                     PAT_OK);
    assert_int_equal(pat_verifier_new(f->url, &o, &vb, f->err, sizeof(f->err)),
                     PAT_OK);
    for (round = 0; round < 20; round++) {
        char ipa[32], ipb[32];
        struct pat_check ca = {ipa, NULL, NULL, false};
        struct pat_check cb = {ipb, NULL, NULL, false};
        struct flush_arg fa = {va, NULL, -1}, fb = {vb, NULL, -1};
        pthread_barrier_t go;
        pthread_t ta, tb;

        snprintf(ipa, sizeof(ipa), "10.1.0.%d", round);
        snprintf(ipb, sizeof(ipb), "10.2.0.%d", round);
        assert_int_equal(
            pat_verifier_check(va, secret, strlen(secret), &ca, &out), PAT_OK);
        assert_int_equal(
            pat_verifier_check(vb, secret, strlen(secret), &cb, &out), PAT_OK);
        pthread_barrier_init(&go, NULL, 2);
        fa.go = fb.go = &go;
        pthread_create(&ta, NULL, flush_main, &fa);
        pthread_create(&tb, NULL, flush_main, &fb);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        assert_int_equal(fa.rc, PAT_OK);
        assert_int_equal(fb.rc, PAT_OK);
        assert_int_equal(pat_token_get(f->st, NULL, t.id, &got), PAT_OK);
        if (!pat__list_has(got.recent_ips, ipa, strlen(ipa)) ||
            !pat__list_has(got.recent_ips, ipb, strlen(ipb)))
            fail_msg("round %d: recent_ips '%s' lost %s or %s", round,
                     got.recent_ips, ipa, ipb);
        assert_true(got.last_used_at != 0);
    }
    pat_verifier_free(va);
    pat_verifier_free(vb);
}

/*
 * A later use stored by another node wins over an older batch: its time
 * and address stay, and its address stays first in the list.
 */
static void
test_usage_latest_wins(void **state)
{
    struct fx *f = *state;
    struct pat_verifier_options o = {0, 60, 3600};
    struct pat_verifier *v = NULL;
    struct pat_check c = {"10.0.0.1", NULL, NULL, false};
    struct pat_verdict out;
    struct pat_token t, got;
    char secret[PAT_TOKEN_MAX + 1];
    int64_t later = (int64_t)time(NULL) + 3600;

    make(f, "alice", "later", &t, secret);
    assert_int_equal(pat_verifier_new(f->url, &o, &v, f->err, sizeof(f->err)),
                     PAT_OK);
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), &c, &out),
                     PAT_OK);
    assert_int_equal(
        pat__db_token_usage_put(f->st, t.id, later, "10.9.9.9", "10.9.9.9"),
        PAT_OK);
    assert_int_equal(pat_verifier_flush(v), PAT_OK);
    assert_int_equal(pat_token_get(f->st, NULL, t.id, &got), PAT_OK);
    assert_int_equal(got.last_used_at, later);
    assert_string_equal(got.last_used_ip, "10.9.9.9");
    assert_string_equal(got.recent_ips, "10.9.9.9 10.0.0.1");

    /* And a newer batch leads: its time, its address first. */
    assert_int_equal(pat__db_token_usage_put(f->st, t.id, 1000, "10.9.9.9",
                                             "10.9.9.9 10.0.0.1"),
                     PAT_OK);
    c.ip = "10.0.0.2";
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), &c, &out),
                     PAT_OK);
    assert_int_equal(pat_verifier_flush(v), PAT_OK);
    assert_int_equal(pat_token_get(f->st, NULL, t.id, &got), PAT_OK);
    assert_true(got.last_used_at > 1000);
    assert_string_equal(got.last_used_ip, "10.0.0.2");
    assert_string_equal(got.recent_ips, "10.0.0.2 10.9.9.9 10.0.0.1");
    pat_verifier_free(v);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_notify_each_change),
        T(test_verifier_hears),
        T(test_usage_two_nodes),
        T(test_usage_latest_wins),
    };
#undef T

    pg_base = getenv("PATD_TEST_STORE");
    if (pg_base != NULL && pg_base[0] == '\0')
        pg_base = NULL;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
