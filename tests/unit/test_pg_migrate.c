/* SPDX-License-Identifier: MIT */
/*
 * Several patd nodes sharing one PostgreSQL store, played by processes
 * released at the same moment (run through tests/unit/with_pg.sh, which
 * sets PATD_TEST_STORE):
 *
 * - all open a fresh store at once: every migration is applied exactly
 *   once, by one of them, and none fails;
 * - all create tokens at once for one user under a token limit: the limit
 *   holds, because every write transaction takes the same lock, as
 *   BEGIN IMMEDIATE gives on SQLite.
 *
 * Without PATD_TEST_STORE the tests are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "internal.h"

#define NPROC  4  /* nodes */
#define ROUNDS 10 /* fresh stores opened at once, to meet the race often */
#define LIMIT  3  /* max_tokens_per_user in the writers test */
#define EACH   2  /* tokens each node tries to create */

static const char *pg_base;
static const struct pat_expiry NOEXP = {0, 0, false};

/* Notices ("drop cascades to table ...") are expected, not news. */
static void
quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs sql on url; the first column of its first row, or 0. */
static int64_t
pg_run(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r;
    int64_t v = 0;

    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to '%s': %s", url, PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet, NULL);
    r = PQexec(c, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return v;
}

/*
 * A fresh store: an empty schema, first on the search path of the URL
 * written to url (a schema, not a database: CREATE DATABASE costs about
 * a second with fsync on). Its name goes to name.
 */
static void
fresh_store(const char *tag, char *name, size_t name_cap, char *url,
            size_t url_cap)
{
    static int serial;
    char sql[128];

    snprintf(name, name_cap, "patd_m%d_%d_%s", (int)getpid(), ++serial, tag);
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", name);
    pg_run(pg_base, sql);
    snprintf(url, url_cap, "%s%coptions=-csearch_path%%3D%s", pg_base,
             strchr(pg_base, '?') ? '&' : '?', name);
}

static void
drop_store(const char *name)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", name);
    pg_run(pg_base, sql);
}

/* What one node reports back: counts of its outcomes. */
struct report {
    int ok;        /* opens or creations that succeeded */
    int applied;   /* migrations its open applied */
    int limited;   /* creations refused with PAT_ELIMIT */
    int other;     /* anything else: always a failure */
    char err[200]; /* the last unexpected failure */
};

/* A node of the writers test: creates EACH tokens for alice. */
static void
create_tokens(struct pat_store *st, int node, struct report *rep)
{
    int i, rc;

    for (i = 0; i < EACH; i++) {
        struct pat_token t;
        char name[32], secret[PAT_TOKEN_MAX + 1];
        struct pat_token_spec sp = {"alice", name, NULL, "repo:read",
                                    NULL,    NULL, NOEXP};

        snprintf(name, sizeof(name), "n%d-%d", node, i);
        rc = pat_token_create(st, NULL, &sp, &t, secret, sizeof(secret));
        if (rc == PAT_OK)
            rep->ok++;
        else if (rc == PAT_ELIMIT)
            rep->limited++;
        else
            rep->other++;
    }
}

/*
 * One node: in the migration test opens the store after the start signal;
 * in the writers test opens it first, says it is ready, and creates
 * tokens after the signal. Never returns.
 */
static void
node(int id, const char *url, bool writers, int ready, int go, int out)
{
    struct report rep = {0};
    struct pat_store *st = NULL;
    char b = 0;
    int rc = PAT_OK;

    if (writers)
        rc = pat_store_open(url, 0, &st, rep.err, sizeof(rep.err));
    if (write(ready, &b, 1) != 1 || read(go, &b, 1) < 0)
        _exit(2);
    if (!writers)
        rc = pat_store_open(url, 0, &st, rep.err, sizeof(rep.err));
    if (rc != PAT_OK) {
        rep.other++;
    } else if (writers) {
        pat_store_set_errbuf(st, rep.err, sizeof(rep.err));
        create_tokens(st, id, &rep);
    } else {
        rep.ok++;
        rep.applied = pat_store_migrations_applied(st);
    }
    pat_store_close(st);
    _exit(write(out, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 3);
}

/*
 * Starts NPROC nodes on url, releases them together once all are ready,
 * and sums their reports into *sum.
 */
static void
run_nodes(const char *url, bool writers, struct report *sum)
{
    int ready[2], go[2], out[2], i, status;
    pid_t pids[NPROC];
    char b;

    memset(sum, 0, sizeof(*sum));
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(out), 0);
    for (i = 0; i < NPROC; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            close(out[0]);
            node(i, url, writers, ready[1], go[0], out[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(out[1]);
    for (i = 0; i < NPROC; i++)
        assert_int_equal(read(ready[0], &b, 1), 1);
    /* Closing the pipe wakes every node at once. */
    close(go[1]);
    for (i = 0; i < NPROC; i++) {
        struct report rep;

        assert_int_equal(read(out[0], &rep, sizeof(rep)), sizeof(rep));
        if (rep.other > 0)
            print_error("node failed: %s\n", rep.err);
        sum->ok += rep.ok;
        sum->applied += rep.applied;
        sum->limited += rep.limited;
        sum->other += rep.other;
    }
    for (i = 0; i < NPROC; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    close(ready[0]);
    close(out[0]);
}

static void
test_concurrent_migrations(void **state)
{
    char name[64], url[512];
    struct report sum;
    int round, latest = pat_store_schema_latest();

    (void)state;
    if (pg_base == NULL)
        skip();
    for (round = 0; round < ROUNDS; round++) {
        fresh_store("mig", name, sizeof(name), url, sizeof(url));
        run_nodes(url, false, &sum);
        assert_int_equal(sum.other, 0);
        assert_int_equal(sum.ok, NPROC);
        /* One node applied them all; the others found them applied. */
        assert_int_equal(sum.applied, pat_store_schema_count());
        assert_int_equal(pg_run(url, "SELECT count(*) FROM schema_migrations"),
                         pat_store_schema_count());
        assert_int_equal(
            pg_run(url,
                   "SELECT count(DISTINCT version) FROM schema_migrations"),
            pat_store_schema_count());
        assert_int_equal(
            pg_run(url, "SELECT max(version) FROM schema_migrations"), latest);
        drop_store(name);
    }
}

static void
test_concurrent_writers(void **state)
{
    struct pat_user_spec alice = {"alice", NULL, NULL, PAT_ROLE_USER,
                                  "repo:read"};
    char name[64], url[512], err[256], secret[PAT_TOKEN_MAX + 1];
    struct pat_store *st = NULL;
    struct pat_user admin;
    struct pat_token tok;
    struct pat_policy pol;
    struct report sum;
    int64_t live;

    (void)state;
    if (pg_base == NULL)
        skip();
    fresh_store("w", name, sizeof(name), url, sizeof(url));
    assert_int_equal(pat_store_open(url, 0, &st, err, sizeof(err)), PAT_OK);
    assert_int_equal(
        pat_store_init(st, NULL, &admin, &tok, secret, sizeof(secret)), PAT_OK);
    assert_int_equal(pat_scope_put(st, NULL, "repo:read", "Read"), PAT_OK);
    assert_int_equal(pat_user_create(st, NULL, &alice, NULL), PAT_OK);
    assert_int_equal(pat_policy_get(st, &pol), PAT_OK);
    pol.max_tokens_per_user = LIMIT;
    assert_int_equal(pat_policy_put(st, NULL, &pol), PAT_OK);
    pat_store_close(st);

    run_nodes(url, true, &sum);
    assert_int_equal(sum.other, 0);
    assert_int_equal(sum.ok, LIMIT);
    assert_int_equal(sum.limited, NPROC * EACH - LIMIT);
    live = pg_run(url, "SELECT count(*) FROM tokens t JOIN users u"
                       " ON u.id = t.user_id WHERE u.username = 'alice'");
    assert_int_equal(live, LIMIT);
    drop_store(name);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_migrations),
        cmocka_unit_test(test_concurrent_writers),
    };

    pg_base = getenv("PATD_TEST_STORE");
    if (pg_base != NULL && pg_base[0] == '\0')
        pg_base = NULL;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
