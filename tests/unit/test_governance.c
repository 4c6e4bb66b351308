/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of governance (DESIGN.md section 13) on a real store, with
 * the store's clock under the test's control, on SQLite and, through
 * tests/unit/with_pg.sh (test_governance_pg), on PostgreSQL: service
 * accounts, every state transition of an approval, a pending request
 * that expires, use limits and rate limits through the verifier, and
 * the unused-token sweep (notice first, then revocation) with a window
 * of days run on the fake clock. The fixture is test_lifecycle.c's.
 */
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
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store_int.h"

#define T0  1795773600LL /* 2026-11-27T10:00:00Z */
#define DAY 86400LL

/* The PostgreSQL server under test (PATD_TEST_STORE), or NULL: SQLite. */
static const char *pg_base;

struct fx {
    char dir[64];
    char path[512];      /* the store's URL or file */
    char schemas[2][48]; /* PostgreSQL schemas to drop in teardown */
    int nschemas;
    int64_t now;
    struct pat_store *st;
    struct pat_user admin;
    struct pat_user alice;
    char err[256];
};

static int64_t
fake_now(void *arg)
{
    return ((struct fx *)arg)->now;
}

/* Notices ("drop cascades to table ...") are expected, not news. */
static void
quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs sql on the database at url, failing the test on an error. */
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

/*
 * A new empty store for f: a file name in f->dir, or a fresh schema
 * (dropped by teardown) in the PostgreSQL database, which the URL's
 * options put first on the search path.
 */
static void
new_store(struct fx *f, const char *tag, char *url, size_t cap)
{
    static int serial;
    char sql[128];
    char *name;

    if (pg_base == NULL) {
        snprintf(url, cap, "%s/%s.db", f->dir, tag);
        return;
    }
    assert_true(f->nschemas < 2);
    name = f->schemas[f->nschemas++];
    snprintf(name, sizeof(f->schemas[0]), "patd_t%d_%d_%s", (int)getpid(),
             ++serial, tag);
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", name);
    pg_run(pg_base, sql);
    snprintf(url, cap, "%s%coptions=-csearch_path%%3D%s", pg_base,
             strchr(pg_base, '?') ? '&' : '?', name);
}

/* Raw SQL on f's store, behind the library's back. */
static void
raw_sql(struct fx *f, const char *sql)
{
    sqlite3 *db;

    if (pg_base != NULL) {
        pg_run(f->path, sql);
        return;
    }
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct pat_user_spec alice = {"alice", "Alice", "alice@example.org",
                                  PAT_ROLE_USER, "patd:self repo:read"};
    struct pat_token tok;
    char secret[PAT_TOKEN_MAX + 1];

    snprintf(f->dir, sizeof(f->dir), "/tmp/patunit.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    new_store(f, "t", f->path, sizeof(f->path));
    f->now = T0;
    assert_int_equal(pat_store_open(f->path, PAT_OPEN_CREATE, &f->st, f->err,
                                    sizeof(f->err)),
                     PAT_OK);
    pat_store_set_clock(f->st, fake_now, f);
    assert_int_equal(
        pat_store_init(f->st, NULL, &f->admin, &tok, secret, sizeof(secret)),
        PAT_OK);
    assert_int_equal(pat_scope_put(f->st, NULL, "repo:read", "Read"), PAT_OK);
    assert_int_equal(pat_scope_put(f->st, NULL, "repo:write", "Write"), PAT_OK);
    assert_int_equal(pat_user_create(f->st, NULL, &alice, &f->alice), PAT_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];
    int i;

    pat_store_close(f->st);
    for (i = 0; i < f->nschemas; i++) {
        snprintf(cmd, sizeof(cmd), "DROP SCHEMA %s CASCADE", f->schemas[i]);
        pg_run(pg_base, cmd);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static const struct pat_expiry NOEXP = {0, 0, false};

/* alice, acting through her session (self-service). */
static struct pat_actor
as_user(const struct pat_user *u)
{
    struct pat_actor a = {u->id, NULL, NULL, 0, NULL, NULL, false};
    return a;
}

static void
set_policy(struct fx *f, const char *approval, int64_t pending_age,
           int unused_days)
{
    struct pat_policy p;

    assert_int_equal(pat_policy_get(f->st, &p), PAT_OK);
    snprintf(p.approval_required_scopes, sizeof(p.approval_required_scopes),
             "%s", approval);
    p.pending_max_age_seconds = pending_age;
    p.revoke_unused_after_days = unused_days;
    assert_int_equal(pat_policy_put(f->st, NULL, &p), PAT_OK);
}

/* The type and data of the last feed row. */
static void
last_change(struct fx *f, struct pat_change *out)
{
    static struct pat_change cl[512];
    size_t n = 0;

    assert_int_equal(pat_changes_list(f->st, 0, cl, 512, &n), PAT_OK);
    assert_true(n > 0);
    *out = cl[n - 1];
}

static int
mint(struct fx *f, const struct pat_actor *who, const char *user,
     const char *name, const char *scopes, const struct pat_token_limits *lim,
     struct pat_token *t, char *secret)
{
    struct pat_token_spec s = {user, name, NULL, scopes, NULL, NULL, NOEXP};

    return pat_token_create_limited(f->st, who, &s, lim, t, secret,
                                    PAT_TOKEN_MAX + 1);
}

static void
test_service_accounts(void **state)
{
    struct fx *f = *state;
    struct pat_user_spec bot = {"ci-bot", "CI", NULL, PAT_ROLE_USER,
                                "patd:self repo:read"};
    struct pat_user_spec bad = {"root-bot", NULL, NULL, PAT_ROLE_ADMIN, NULL};
    struct pat_user svc, u, list[8];
    struct pat_token t;
    struct pat_actor self, admin = as_user(&f->admin);
    struct pat_policy p;
    struct pat_token_spec never = {
        "ci-bot", "forever", NULL, "repo:read", NULL, NULL, {0, 0, true}};
    char secret[PAT_TOKEN_MAX + 1];
    size_t n = 0;

    assert_int_equal(
        pat_user_create_kind(f->st, NULL, &bot, PAT_KIND_SERVICE, &svc),
        PAT_OK);
    assert_int_equal(svc.kind, PAT_KIND_SERVICE);
    assert_int_equal(pat_user_get(f->st, "ci-bot", &u), PAT_OK);
    assert_int_equal(u.kind, PAT_KIND_SERVICE);
    assert_int_equal(pat_user_get(f->st, "alice", &u), PAT_OK);
    assert_int_equal(u.kind, PAT_KIND_PERSON);
    assert_int_equal(
        pat_user_create_kind(f->st, NULL, &bad, PAT_KIND_SERVICE, NULL),
        PAT_EINVAL);
    assert_int_equal(pat_user_create_kind(f->st, NULL, &bad, 7, NULL),
                     PAT_EINVAL);
    /* Never a password, never a sign-in. */
    assert_int_equal(
        pat_user_set_password(f->st, NULL, "ci-bot", "long enough pw"),
        PAT_EFORBIDDEN);
    raw_sql(f, "UPDATE users SET password_hash = (SELECT password_hash FROM"
               " users WHERE username = 'alice') WHERE username = 'ci-bot'");
    assert_int_equal(pat_user_set_password(f->st, NULL, "alice", "alice pw 1"),
                     PAT_OK);
    raw_sql(f, "UPDATE users SET password_hash = (SELECT password_hash FROM"
               " users WHERE username = 'alice') WHERE username = 'ci-bot'");
    assert_int_equal(pat_user_check_password(f->st, "alice", "alice pw 1", &u),
                     PAT_OK);
    assert_int_equal(pat_user_check_password(f->st, "ci-bot", "alice pw 1", &u),
                     PAT_EFORBIDDEN);
    /* Its tokens are issued by administrators (or local commands). */
    self = as_user(&svc);
    self.token_id = "tok_0000000000000000";
    self.token_scopes = "patd:self repo:read";
    assert_int_equal(
        mint(f, &self, "ci-bot", "mine", "repo:read", NULL, &t, secret),
        PAT_EFORBIDDEN);
    assert_int_equal(
        mint(f, &admin, "ci-bot", "theirs", "repo:read", NULL, &t, secret),
        PAT_EFORBIDDEN); /* an admin, but not on behalf */
    admin.on_behalf = true;
    assert_int_equal(
        mint(f, &admin, "ci-bot", "deploy", "repo:read", NULL, &t, secret),
        PAT_OK);
    assert_int_equal(
        mint(f, NULL, "ci-bot", "local", "repo:read", NULL, &t, secret),
        PAT_OK);
    /* Their own no-expiry allowance. */
    assert_int_equal(
        pat_token_create(f->st, NULL, &never, &t, secret, sizeof(secret)),
        PAT_EPOLICY);
    assert_int_equal(pat_policy_get(f->st, &p), PAT_OK);
    p.service_allow_no_expiry = true;
    assert_int_equal(pat_policy_put(f->st, NULL, &p), PAT_OK);
    assert_int_equal(
        pat_token_create(f->st, NULL, &never, &t, secret, sizeof(secret)),
        PAT_OK);
    assert_int_equal(t.expires_at, 0);
    never.user_id = "alice";
    assert_int_equal(
        pat_token_create(f->st, NULL, &never, &t, secret, sizeof(secret)),
        PAT_EPOLICY); /* people's allowance is still off */
    /* The inventory by kind. */
    assert_int_equal(pat_user_list_kind(f->st, 0, NULL, "service", list, 8, &n),
                     PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].username, "ci-bot");
    assert_int_equal(pat_user_list_kind(f->st, 0, NULL, "person", list, 8, &n),
                     PAT_OK);
    assert_int_equal(n, 2);
}

static void
test_approvals(void **state)
{
    struct fx *f = *state;
    struct pat_actor alice = as_user(&f->alice), admin = as_user(&f->admin);
    struct pat_token t, t2, plain, got, list[8];
    struct pat_verdict v;
    struct pat_change ch;
    char secret[PAT_TOKEN_MAX + 1], secret2[PAT_TOKEN_MAX + 1];
    size_t n = 0;

    set_policy(f, "repo:read", 7 * DAY, 0);
    assert_int_equal(
        mint(f, &alice, "alice", "ask", "repo:read", NULL, &t, secret), PAT_OK);
    assert_int_equal(t.approval, PAT_APPROVAL_PENDING);
    last_change(f, &ch);
    assert_string_equal(ch.type, "token.created");
    assert_non_null(strstr(ch.data, "pending"));
    assert_int_equal(
        mint(f, &alice, "alice", "plain", "patd:self", NULL, &plain, secret2),
        PAT_OK);
    assert_int_equal(plain.approval, PAT_APPROVAL_NONE);
    /* Pending: inactive. */
    assert_int_equal(pat_verify(f->st, secret, strlen(secret), &v),
                     PAT_EPENDING);
    assert_int_equal(pat_verify(f->st, secret2, strlen(secret2), &v), PAT_OK);
    assert_int_equal(pat_token_pending_list(f->st, 0, list, 8, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, t.id);
    /* The requester cannot decide; nothing changes. */
    assert_int_equal(pat_token_decide(f->st, &alice, t.id, true, NULL, NULL),
                     PAT_EFORBIDDEN);
    assert_int_equal(
        pat_token_decide(f->st, &admin, plain.id, true, NULL, NULL),
        PAT_ECONFLICT);
    assert_int_equal(
        pat_token_decide(f->st, &admin, "tok_nothere0000000", true, NULL, NULL),
        PAT_ENOTFOUND);
    assert_int_equal(pat_verify(f->st, secret, strlen(secret), &v),
                     PAT_EPENDING);
    /* Approved: active, audited, in the feed, out of the queue. */
    assert_int_equal(pat_token_decide(f->st, &admin, t.id, true, NULL, &got),
                     PAT_OK);
    assert_int_equal(got.approval, PAT_APPROVAL_APPROVED);
    assert_string_equal(got.decided_by, f->admin.id);
    assert_int_equal(got.decided_at, f->now);
    last_change(f, &ch);
    assert_string_equal(ch.type, "token.approved");
    assert_int_equal(ch.evict, PAT_EVICT_TOKEN);
    assert_string_equal(ch.token_id, t.id);
    assert_int_equal(pat_verify(f->st, secret, strlen(secret), &v), PAT_OK);
    assert_int_equal(pat_token_pending_list(f->st, 0, list, 8, &n), PAT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pat_token_decide(f->st, &admin, t.id, false, "late", NULL),
                     PAT_ECONFLICT);
    /* Denied with a reason: revoked, the reason kept for the owner. */
    assert_int_equal(
        mint(f, &alice, "alice", "ask2", "repo:read", NULL, &t2, secret2),
        PAT_OK);
    assert_int_equal(pat_token_decide(f->st, &admin, t2.id, false,
                                      "use the read-only mirror", &got),
                     PAT_OK);
    assert_int_equal(pat_token_get(f->st, "alice", t2.id, &got), PAT_OK);
    assert_int_equal(got.approval, PAT_APPROVAL_DENIED);
    assert_string_equal(got.approval_reason, "use the read-only mirror");
    assert_string_equal(got.revoked_reason, "denied");
    last_change(f, &ch);
    assert_string_equal(ch.type, "token.denied");
    assert_non_null(strstr(ch.data, "read-only mirror"));
    assert_int_equal(pat_verify(f->st, secret2, strlen(secret2), &v),
                     PAT_EREVOKED);
    /* An administrator issuing on behalf needs no approval. */
    admin.on_behalf = true;
    assert_int_equal(
        mint(f, &admin, "alice", "issued", "repo:read", NULL, &t, secret),
        PAT_OK);
    assert_int_equal(t.approval, PAT_APPROVAL_NONE);
    /* A bad reason is refused before anything is read. */
    assert_int_equal(
        mint(f, &alice, "alice", "ask3", "repo:read", NULL, &t, secret),
        PAT_OK);
    assert_int_equal(
        pat_token_decide(f->st, &admin, t.id, false, "bad\x01reason", NULL),
        PAT_EINVAL);
    assert_int_equal(pat_verify(f->st, secret, strlen(secret), &v),
                     PAT_EPENDING);
}

static void
test_pending_expires(void **state)
{
    struct fx *f = *state;
    struct pat_actor alice = as_user(&f->alice), admin = as_user(&f->admin);
    struct pat_sweep_report rep;
    struct pat_token t, got;
    struct pat_verdict v;
    struct pat_change ch;
    char secret[PAT_TOKEN_MAX + 1];

    set_policy(f, "repo:write repo:read", 3600, 0);
    assert_int_equal(
        mint(f, &alice, "alice", "ask", "repo:read", NULL, &t, secret), PAT_OK);
    f->now += 3599;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.pending_expired, 0);
    f->now += 1;
    /* Past its age: no decision, and the sweep expires it. */
    assert_int_equal(pat_token_decide(f->st, &admin, t.id, true, NULL, NULL),
                     PAT_ECONFLICT);
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.pending_expired, 1);
    assert_int_equal(pat_token_get(f->st, NULL, t.id, &got), PAT_OK);
    assert_int_equal(got.approval, PAT_APPROVAL_EXPIRED);
    assert_string_equal(got.revoked_reason, "approval_expired");
    last_change(f, &ch);
    assert_string_equal(ch.type, "token.expired");
    assert_int_equal(pat_verify(f->st, secret, strlen(secret), &v),
                     PAT_EREVOKED);
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.pending_expired, 0);
}

static void
test_unused_sweep(void **state)
{
    struct fx *f = *state;
    struct pat_sweep_report rep;
    struct pat_token idle, used, got;
    struct pat_change ch;
    char secret[PAT_TOKEN_MAX + 1];

    /* Only the two tokens below: the bootstrap token goes. */
    assert_int_equal(
        pat_token_revoke_user(f->st, NULL, f->admin.id, NULL, NULL), PAT_OK);
    assert_int_equal(
        mint(f, NULL, "alice", "idle", "repo:read", NULL, &idle, secret),
        PAT_OK);
    assert_int_equal(
        mint(f, NULL, "alice", "used", "repo:read", NULL, &used, secret),
        PAT_OK);
    /* Off by default. */
    f->now += 20 * DAY;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_noticed + rep.unused_revoked, 0);
    f->now -= 20 * DAY;
    /* Ten days: the notice comes five days before (half, under 14). */
    set_policy(f, "", 7 * DAY, 10);
    f->now += 4 * DAY;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_noticed, 0);
    f->now += DAY;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_noticed, 2);
    assert_int_equal(rep.unused_revoked, 0);
    last_change(f, &ch);
    assert_string_equal(ch.type, "token.expiring");
    assert_non_null(strstr(ch.data, "unused"));
    assert_non_null(strstr(ch.data, "revoke_at"));
    /* Once only. */
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_noticed, 0);
    /* One of them is used after its notice. */
    f->now += 3 * DAY;
    assert_int_equal(pat__db_token_usage_put(f->st, used.id, f->now,
                                             "192.0.2.1", "192.0.2.1"),
                     PAT_OK);
    f->now += 2 * DAY - 1;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_revoked, 0);
    f->now += 1; /* ten days idle */
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_revoked, 1);
    assert_int_equal(pat_token_get(f->st, NULL, idle.id, &got), PAT_OK);
    assert_string_equal(got.revoked_reason, "unused");
    last_change(f, &ch);
    assert_string_equal(ch.type, "token.revoked");
    assert_int_equal(pat_token_get(f->st, NULL, used.id, &got), PAT_OK);
    assert_int_equal(got.revoked_at, 0);
    /* The used one gets a new notice five days after its use, then goes. */
    f->now += 3 * DAY;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_noticed, 1);
    f->now += 5 * DAY;
    assert_int_equal(pat_governance_sweep(f->st, &rep), PAT_OK);
    assert_int_equal(rep.unused_revoked, 1);
}

static struct pat_verifier *
verifier(struct fx *f)
{
    struct pat_verifier_options o = {0, 0, -1};
    struct pat_verifier *v = NULL;

    assert_int_equal(pat_verifier_new(f->path, &o, &v, f->err, sizeof(f->err)),
                     PAT_OK);
    return v;
}

static void
test_use_limits(void **state)
{
    struct fx *f = *state;
    struct pat_token_limits three = {3, 0, 0}, bad = {-1, 0, 0};
    struct pat_token t, plain, got;
    struct pat_verdict out;
    struct pat_verifier *v;
    char secret[PAT_TOKEN_MAX + 1], secret2[PAT_TOKEN_MAX + 1];
    int i;

    f->now = (int64_t)time(NULL); /* the verifier runs on the real clock */
    assert_int_equal(
        mint(f, NULL, "alice", "bad", "repo:read", &bad, &t, secret),
        PAT_EINVAL);
    bad.max_uses = PAT_MAX_USES_MAX + 1;
    assert_int_equal(
        mint(f, NULL, "alice", "bad", "repo:read", &bad, &t, secret),
        PAT_EINVAL);
    assert_int_equal(
        mint(f, NULL, "alice", "three", "repo:read", &three, &t, secret),
        PAT_OK);
    assert_int_equal(t.max_uses, 3);
    assert_int_equal(t.uses_left, 3);
    assert_int_equal(
        mint(f, NULL, "alice", "plain", "repo:read", NULL, &plain, secret2),
        PAT_OK);
    v = verifier(f);
    for (i = 2; i >= 0; i--) {
        assert_int_equal(
            pat_verifier_check(v, secret, strlen(secret), NULL, &out), PAT_OK);
        assert_true(out.uses_limited);
        assert_int_equal(out.uses_left, i);
    }
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), NULL, &out),
                     PAT_EEXHAUSTED);
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), NULL, &out),
                     PAT_EEXHAUSTED);
    assert_int_equal(pat_verify(f->st, secret, strlen(secret), &out),
                     PAT_EEXHAUSTED);
    assert_int_equal(pat_token_get(f->st, NULL, t.id, &got), PAT_OK);
    assert_int_equal(got.uses_left, 0);
    /* A failed requirement spends nothing; deferral neither. */
    assert_int_equal(
        pat_verifier_check(v, secret2, strlen(secret2), NULL, &out), PAT_OK);
    assert_false(out.uses_limited);
    assert_int_equal(mint(f, NULL, "alice", "one", "repo:read",
                          &(struct pat_token_limits){1, 0, 0}, &t, secret),
                     PAT_OK);
    {
        struct pat_check need = {NULL, "repo:write", NULL, false};
        assert_int_equal(
            pat_verifier_check(v, secret, strlen(secret), &need, &out),
            PAT_EINSUFFICIENT);
    }
    assert_int_equal(pat_verifier_check_flags(v, secret, strlen(secret), NULL,
                                              PAT_CHECK_DEFER_LIMITED, &out),
                     PAT_ELIMIT);
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), NULL, &out),
                     PAT_OK);
    assert_int_equal(out.uses_left, 0);
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), NULL, &out),
                     PAT_EEXHAUSTED);
    pat_verifier_free(v);
}

static void
test_rate_limits(void **state)
{
    struct fx *f = *state;
    struct pat_token_limits rl = {0, 3, 3600}, bad = {0, 3, 0};
    struct pat_token t;
    struct pat_verdict out;
    struct pat_verifier *v;
    char secret[PAT_TOKEN_MAX + 1];
    int i;

    f->now = (int64_t)time(NULL);
    assert_int_equal(
        mint(f, NULL, "alice", "bad", "repo:read", &bad, &t, secret),
        PAT_EINVAL);
    bad.rate_window = PAT_RATE_WINDOW_MAX + 1;
    assert_int_equal(
        mint(f, NULL, "alice", "bad", "repo:read", &bad, &t, secret),
        PAT_EINVAL);
    assert_int_equal(
        mint(f, NULL, "alice", "rated", "repo:read", &rl, &t, secret), PAT_OK);
    assert_int_equal(t.rate_limit, 3);
    assert_int_equal(t.rate_window, 3600);
    v = verifier(f);
    for (i = 2; i >= 0; i--) {
        assert_int_equal(pat_verifier_check_flags(v, secret, strlen(secret),
                                                  NULL, PAT_CHECK_RATE, &out),
                         PAT_OK);
        assert_int_equal(out.rate_node_limit, 3);
        assert_int_equal(out.rate_remaining, i);
        assert_true(out.rate_reset > 0 && out.rate_reset <= 3600);
    }
    assert_int_equal(pat_verifier_check_flags(v, secret, strlen(secret), NULL,
                                              PAT_CHECK_RATE, &out),
                     PAT_ERATE);
    assert_int_equal(out.rate_remaining, 0);
    /* Without the flag (introspection), nothing is counted. */
    assert_int_equal(pat_verifier_check(v, secret, strlen(secret), NULL, &out),
                     PAT_OK);
    pat_verifier_free(v);
    /* Two nodes: each allows its share, rounded up. */
    v = verifier(f);
    pat_verifier_set_rate_nodes(v, 2);
    for (i = 0; i < 2; i++)
        assert_int_equal(pat_verifier_check_flags(v, secret, strlen(secret),
                                                  NULL, PAT_CHECK_RATE, &out),
                         PAT_OK);
    assert_int_equal(out.rate_node_limit, 2);
    assert_int_equal(pat_verifier_check_flags(v, secret, strlen(secret), NULL,
                                              PAT_CHECK_RATE, &out),
                     PAT_ERATE);
    pat_verifier_free(v);
}

/* Export lines, kept for the import. */
struct lines {
    char *buf[256];
    size_t n, next;
};

static int
keep_line(void *arg, const char *line, size_t len)
{
    struct lines *l = arg;

    assert_true(l->n < 256);
    l->buf[l->n] = strndup(line, len);
    return l->buf[l->n++] ? PAT_OK : PAT_ENOMEM;
}

static int
next_line(void *arg, const char **line, size_t *len)
{
    struct lines *l = arg;

    if (l->next == l->n)
        return PAT_ENOTFOUND;
    *line = l->buf[l->next];
    *len = strlen(l->buf[l->next++]);
    return PAT_OK;
}

/* patd export | patd import keeps every governance field. */
static void
test_transfer(void **state)
{
    struct fx *f = *state;
    struct pat_user_spec bot = {"ci-bot", NULL, NULL, PAT_ROLE_USER,
                                "patd:self repo:read"};
    struct pat_token_limits lim = {5, 7, 60};
    struct pat_actor alice = as_user(&f->alice);
    struct pat_token pend, limited, got;
    struct pat_user svc, u;
    struct pat_policy pol;
    struct pat_store *dst = NULL;
    struct lines l;
    char secret[PAT_TOKEN_MAX + 1], url[512];
    size_t i;

    memset(&l, 0, sizeof(l));
    set_policy(f, "repo:read", 3600, 30);
    assert_int_equal(
        pat_user_create_kind(f->st, NULL, &bot, PAT_KIND_SERVICE, &svc),
        PAT_OK);
    assert_int_equal(
        mint(f, &alice, "alice", "ask", "repo:read", NULL, &pend, secret),
        PAT_OK);
    assert_int_equal(pend.approval, PAT_APPROVAL_PENDING);
    assert_int_equal(
        mint(f, NULL, "ci-bot", "lim", "repo:read", &lim, &limited, secret),
        PAT_OK);
    assert_int_equal(pat_store_export(f->st, keep_line, &l, NULL), PAT_OK);
    new_store(f, "dst", url, sizeof(url));
    assert_int_equal(
        pat_store_open(url, PAT_OPEN_CREATE, &dst, f->err, sizeof(f->err)),
        PAT_OK);
    assert_int_equal(pat_store_import(dst, next_line, &l, NULL), PAT_OK);
    assert_int_equal(pat_user_get(dst, "ci-bot", &u), PAT_OK);
    assert_int_equal(u.kind, PAT_KIND_SERVICE);
    assert_int_equal(pat_token_get(dst, NULL, limited.id, &got), PAT_OK);
    assert_int_equal(got.max_uses, 5);
    assert_int_equal(got.uses_left, 5);
    assert_int_equal(got.rate_limit, 7);
    assert_int_equal(got.rate_window, 60);
    assert_int_equal(pat_token_get(dst, NULL, pend.id, &got), PAT_OK);
    assert_int_equal(got.approval, PAT_APPROVAL_PENDING);
    assert_int_equal(pat_policy_get(dst, &pol), PAT_OK);
    assert_string_equal(pol.approval_required_scopes, "repo:read");
    assert_int_equal(pol.pending_max_age_seconds, 3600);
    assert_int_equal(pol.revoke_unused_after_days, 30);
    pat_store_close(dst);
    for (i = 0; i < l.n; i++)
        free(l.buf[i]);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_service_accounts), T(test_approvals),  T(test_pending_expires),
        T(test_unused_sweep),     T(test_use_limits), T(test_rate_limits),
        T(test_transfer),
    };
#undef T
    pg_base = getenv("PATD_TEST_STORE");
    if (pg_base != NULL && pg_base[0] == '\0')
        pg_base = NULL;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
