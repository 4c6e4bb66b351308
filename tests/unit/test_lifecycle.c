/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the token lifecycle on a real store, with the store's
 * clock under the test's control: migrations, bootstrap, every policy
 * rule, every refusal (and that a refusal changes nothing), verification
 * reasons, regeneration grace and reuse.
 *
 * The store is a SQLite file in a temporary directory, or, when
 * PATD_TEST_STORE names a PostgreSQL server (a postgres:// URL, as
 * tests/unit/with_pg.sh sets it), a schema of its own in that database,
 * created for each test and dropped after it (the store's URL puts it
 * first on the search path), so that every test starts from an empty
 * store on either backend. A schema rather than a database per test:
 * CREATE and DROP DATABASE cost about two seconds with fsync on. On
 * PostgreSQL a few more tests cover what only a server has: errors it
 * reports and connections that are lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The URL of database name on pg_base's server, with pg_base's options. */
static void
pg_url(const char *name, char *out, size_t cap)
{
    const char *auth = strstr(pg_base, "://");
    const char *end, *query;

    auth = auth ? auth + 3 : pg_base;
    query = strchr(auth, '?');
    end = strchr(auth, '/');
    if (end == NULL || (query != NULL && end > query))
        end = query ? query : auth + strlen(auth);
    snprintf(out, cap, "%.*s/%s%s", (int)(end - pg_base), pg_base, name,
             query ? query : "");
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

static struct pat_store *
reopen(struct fx *f)
{
    pat_store_close(f->st);
    f->st = NULL;
    assert_int_equal(pat_store_open(f->path, 0, &f->st, f->err, sizeof(f->err)),
                     PAT_OK);
    pat_store_set_clock(f->st, fake_now, f);
    return f->st;
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

/* A token of alice with the given scopes and expiry; returns its rc. */
static int
make(struct fx *f, const char *name, const char *scopes, struct pat_expiry exp,
     struct pat_token *t, char *secret)
{
    struct pat_token_spec s = {"alice", name, NULL, scopes, NULL, NULL, exp};

    return pat_token_create(f->st, NULL, &s, t, secret, PAT_TOKEN_MAX + 1);
}

static const struct pat_expiry NOEXP = {0, 0, false};

/*
 * Number of tokens, and of audit events plus feed rows: what a refusal
 * must not change.
 */
static void
census(struct fx *f, size_t *tokens, size_t *events)
{
    static struct pat_token tl[256];
    static struct pat_audit al[256];
    static struct pat_change cl[256];
    struct pat_token_filter all = {0};
    struct pat_audit_filter any = {0};
    size_t changes = 0;

    all.status = PAT_STATUS_ALL;
    assert_int_equal(pat_token_list(f->st, &all, tl, 256, tokens), PAT_OK);
    assert_int_equal(pat_audit_list(f->st, &any, al, 256, events), PAT_OK);
    assert_int_equal(pat_changes_list(f->st, 0, cl, 256, &changes), PAT_OK);
    *events += changes;
}

/*
 * The feed rows appended since *after, as "type id/evict; ..." (id: the
 * token's, else the user's, else "-"), moving *after past them. Checks
 * what every row must hold: a time, an actor, JSON data.
 */
static void
feed_since(struct fx *f, int64_t *after, char *out, size_t cap)
{
    static struct pat_change cl[256];
    size_t n = 0, i;
    int w = 0;

    out[0] = '\0';
    assert_int_equal(pat_changes_list(f->st, *after, cl, 256, &n), PAT_OK);
    for (i = 0; i < n; i++) {
        const struct pat_change *c = &cl[i];
        const char *id = c->token_id[0]  ? c->token_id
                         : c->user_id[0] ? c->user_id
                                         : "-";

        assert_true(c->seq > *after);
        assert_int_equal(c->at, f->now);
        assert_true(c->actor[0] != '\0');
        assert_int_equal(c->data[0], '{');
        w += snprintf(out + w, cap - (size_t)w, "%s%s %s/%d", i ? "; " : "",
                      c->type, id, c->evict);
        assert_true((size_t)w < cap);
        *after = c->seq;
    }
}

static void
expect_feed(struct fx *f, int64_t *after, const char *want)
{
    char got[2048];

    feed_since(f, after, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("feed: got '%s', want '%s'", got, want);
}

static void
test_migrations(void **state)
{
    struct fx *f = *state;

    /* setup applied every migration once; a reopen applies none. */
    reopen(f);
    assert_int_equal(pat_store_schema_version(f->st),
                     pat_store_schema_latest());
    assert_int_equal(pat_store_migrations_applied(f->st), 0);
    /* A store migrated by a newer patd is refused, not touched. */
    pat_store_close(f->st);
    f->st = NULL;
    raw_sql(f, "INSERT INTO schema_migrations VALUES (999, 'future', 0)");
    assert_int_equal(pat_store_open(f->path, 0, &f->st, f->err, sizeof(f->err)),
                     PAT_ESCHEMA);
    assert_null(f->st);
    assert_non_null(strstr(f->err, "999"));
    raw_sql(f, "DELETE FROM schema_migrations WHERE version = 999");
    reopen(f);
}

static void
test_fresh_store(void **state)
{
    struct fx *f = *state;
    char path[512], err[256];
    struct pat_store *st = NULL;
    struct pat_user u;
    struct pat_token t;
    char secret[PAT_TOKEN_MAX + 1];

    if (pg_base == NULL) {
        snprintf(path, sizeof(path), "%s/missing.db", f->dir);
        assert_int_equal(pat_store_open(path, 0, &st, err, sizeof(err)),
                         PAT_ENOTFOUND);
        assert_int_equal(access(path, F_OK), -1);
    } else {
        /* A server database must exist; PAT_OPEN_CREATE does not make it. */
        pg_url("patd_no_such_db", path, sizeof(path));
        assert_int_equal(
            pat_store_open(path, PAT_OPEN_CREATE, &st, err, sizeof(err)),
            PAT_EUNAVAIL);
        assert_null(st);
        assert_non_null(strstr(err, "patd_no_such_db"));
        /* A malformed URL is the caller's mistake, not an outage. */
        assert_int_equal(
            pat_store_open("postgres://h/db?bogus=1", 0, &st, err, sizeof(err)),
            PAT_EINVAL);
        assert_null(st);
    }
    new_store(f, "fresh", path, sizeof(path));
    assert_int_equal(
        pat_store_open(path, PAT_OPEN_CREATE, &st, err, sizeof(err)), PAT_OK);
    assert_int_equal(pat_store_migrations_applied(st),
                     pat_store_schema_count());
    assert_null(pat_store_prefix(st));
    /* Nothing works on a store that was never initialised. */
    assert_int_equal(pat_verify(st, "x", 1, &(struct pat_verdict){0}),
                     PAT_ENOTINIT);
    {
        struct pat_init_spec bad = {"Bad!", NULL};
        assert_int_equal(
            pat_store_init(st, &bad, &u, &t, secret, sizeof(secret)),
            PAT_EINVAL);
        assert_null(pat_store_prefix(st));
    }
    {
        struct pat_init_spec ok = {"acme", "root"};
        assert_int_equal(
            pat_store_init(st, &ok, &u, &t, secret, sizeof(secret)), PAT_OK);
        assert_string_equal(pat_store_prefix(st), "acme");
        assert_int_equal(strncmp(secret, "acme_", 5), 0);
        assert_string_equal(u.username, "root");
        assert_string_equal(t.scopes, "patd:admin patd:self");
        assert_int_equal(
            pat_store_init(st, &ok, &u, &t, secret, sizeof(secret)),
            PAT_EINITED);
        assert_string_equal(secret, ""); /* wiped on refusal */
    }
    pat_store_close(st);
}

static void
test_create_and_verify(void **state)
{
    struct fx *f = *state;
    struct pat_token t;
    struct pat_verdict v;
    char secret[PAT_TOKEN_MAX + 1];

    assert_int_equal(make(f, "ci", "repo:read", NOEXP, &t, secret), PAT_OK);
    assert_int_equal(strlen(secret), 42);
    assert_int_equal(pat_token_check("pat", secret, 42), PAT_OK);
    assert_string_equal(t.hint, secret + 38);
    assert_int_equal(t.expires_at, T0 + 30 * DAY); /* policy default */
    assert_int_equal(pat_verify(f->st, secret, 42, &v), PAT_OK);
    assert_string_equal(v.token_id, t.id);
    assert_string_equal(v.user_id, f->alice.id);
    assert_string_equal(v.username, "alice");
    assert_string_equal(v.scopes, "repo:read");
    assert_int_equal(v.expires_at, T0 + 30 * DAY);
    /* Unknown, malformed, wrong prefix. */
    secret[10] = secret[10] == 'A' ? 'B' : 'A';
    assert_int_equal(pat_verify(f->st, secret, 42, &v), PAT_EMALFORMED);
    assert_int_equal(pat_verify(f->st,
                                "pat_00000000000000000000000000000000"
                                "0dawQ1",
                                42, &v),
                     PAT_EUNKNOWN);
    assert_int_equal(pat_verify(f->st, "", 0, &v), PAT_EMALFORMED);
    assert_int_equal(pat_verify(f->st, NULL, 0, &v), PAT_EMALFORMED);
}

static void
test_expiry_rules(void **state)
{
    struct fx *f = *state;
    struct pat_token t;
    struct pat_policy pol;
    struct pat_verdict v;
    char s[PAT_TOKEN_MAX + 1];
    size_t tk0, ev0, tk1, ev1;

    census(f, &tk0, &ev0);
    assert_int_equal(
        make(f, "a", "repo:read", (struct pat_expiry){0, 367, 0}, &t, s),
        PAT_EPOLICY);
    assert_int_equal(
        make(f, "a", "repo:read", (struct pat_expiry){0, -1, 0}, &t, s),
        PAT_EPOLICY);
    assert_int_equal(
        make(f, "a", "repo:read", (struct pat_expiry){T0 - 1, 0, 0}, &t, s),
        PAT_EINVAL);
    assert_int_equal(make(f, "a", "repo:read",
                          (struct pat_expiry){T0 + 367 * DAY, 0, 0}, &t, s),
                     PAT_EPOLICY);
    assert_int_equal(
        make(f, "a", "repo:read", (struct pat_expiry){0, 0, 1}, &t, s),
        PAT_EPOLICY);
    assert_int_equal(
        make(f, "a", "repo:read", (struct pat_expiry){T0 + DAY, 5, 0}, &t, s),
        PAT_EINVAL);
    census(f, &tk1, &ev1);
    assert_int_equal(tk0, tk1);
    assert_int_equal(ev0, ev1);
    assert_string_equal(s, ""); /* secret buffer wiped on refusal */

    assert_int_equal(
        make(f, "d", "repo:read", (struct pat_expiry){0, 366, 0}, &t, s),
        PAT_OK);
    assert_int_equal(t.expires_at, T0 + 366 * DAY);
    assert_int_equal(
        make(f, "e", "repo:read", (struct pat_expiry){T0 + 3600, 0, 0}, &t, s),
        PAT_OK);
    assert_int_equal(t.expires_at, T0 + 3600);
    /* Expired one second after its time, with the precise reason. */
    f->now = T0 + 3600;
    assert_int_equal(pat_verify(f->st, s, 42, &v), PAT_EEXPIRED);
    assert_string_equal(v.token_id, t.id);
    f->now = T0;

    assert_int_equal(pat_policy_get(f->st, &pol), PAT_OK);
    pol.allow_no_expiry = true;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_OK);
    assert_int_equal(
        make(f, "never", "repo:read", (struct pat_expiry){0, 0, 1}, &t, s),
        PAT_OK);
    assert_int_equal(t.expires_at, 0);
    f->now = T0 + 5000 * DAY;
    assert_int_equal(pat_verify(f->st, s, 42, &v), PAT_OK);
    f->now = T0;
    /* Policies out of range are refused. */
    pol.default_lifetime_days = pol.max_lifetime_days + 1;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_EINVAL);
    pol.default_lifetime_days = 0;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_EINVAL);
}

static void
test_scope_rules(void **state)
{
    struct fx *f = *state;
    struct pat_token t, parent;
    struct pat_verdict v;
    char s[PAT_TOKEN_MAX + 1], big[4096];
    size_t tk0, ev0, tk1, ev1;
    int i;

    census(f, &tk0, &ev0);
    assert_int_equal(make(f, "a", "nope", NOEXP, &t, s), PAT_ESCOPE);
    assert_int_equal(make(f, "a", "repo:write", NOEXP, &t, s), PAT_ESCOPE);
    assert_int_equal(make(f, "a", "patd:admin", NOEXP, &t, s), PAT_ESCOPE);
    assert_int_equal(make(f, "a", "", NOEXP, &t, s), PAT_EINVAL);
    assert_int_equal(make(f, "a", "Repo:Read", NOEXP, &t, s), PAT_EINVAL);
    big[0] = '\0';
    for (i = 0; i < 51; i++) {
        char item[16];
        snprintf(item, sizeof(item), "s%d ", i);
        strncat(big, item, sizeof(big) - strlen(big) - 1);
    }
    assert_int_equal(make(f, "a", big, NOEXP, &t, s), PAT_EINVAL);
    census(f, &tk1, &ev1);
    assert_int_equal(tk0, tk1);
    assert_int_equal(ev0, ev1);

    /* Duplicates collapse; order is canonical. */
    assert_int_equal(make(f, "p", "repo:read patd:self repo:read",
                          (struct pat_expiry){0, 10, 0}, &parent, s),
                     PAT_OK);
    assert_string_equal(parent.scopes, "patd:self repo:read");

    /* A token can only mint within its own scopes and expiry. */
    {
        struct pat_actor who = {f->alice.id, parent.id, "patd:self", 0,
                                NULL,        NULL,      false};
        struct pat_token_spec sp = {"alice", "child", NULL, "repo:read",
                                    NULL,    NULL,    NOEXP};
        who.token_expires_at = parent.expires_at;
        assert_int_equal(pat_token_create(f->st, &who, &sp, &t, s, sizeof(s)),
                         PAT_ESCOPE);
        sp.scopes = "patd:self";
        sp.expiry.days = 11;
        assert_int_equal(pat_token_create(f->st, &who, &sp, &t, s, sizeof(s)),
                         PAT_EPOLICY);
        sp.expiry.days = 0;
        assert_int_equal(pat_token_create(f->st, &who, &sp, &t, s, sizeof(s)),
                         PAT_OK);
        /* The default lifetime is cut to the parent's expiry. */
        assert_int_equal(t.expires_at, parent.expires_at);
    }

    /* Effective scopes follow the owner's current allowed scopes. */
    assert_int_equal(make(f, "both", "patd:self repo:read", NOEXP, &t, s),
                     PAT_OK);
    assert_int_equal(pat_user_set_scopes(f->st, NULL, "alice", "patd:self"),
                     PAT_OK);
    assert_int_equal(pat_verify(f->st, s, 42, &v), PAT_OK);
    assert_string_equal(v.scopes, "patd:self");
    assert_int_equal(pat_user_set_scopes(f->st, NULL, "alice", "no-such"),
                     PAT_ESCOPE);
}

static void
test_names_and_limits(void **state)
{
    struct fx *f = *state;
    struct pat_token t, t2;
    struct pat_policy pol;
    char s[PAT_TOKEN_MAX + 1], name[512];
    size_t tk0, ev0, tk1, ev1;
    int i;

    assert_int_equal(make(f, "ci", "repo:read", NOEXP, &t, s), PAT_OK);
    census(f, &tk0, &ev0);
    assert_int_equal(make(f, "ci", "repo:read", NOEXP, &t2, s), PAT_ECONFLICT);
    memset(name, 'n', 101);
    name[101] = '\0';
    assert_int_equal(make(f, name, "repo:read", NOEXP, &t2, s), PAT_EINVAL);
    assert_int_equal(make(f, "", "repo:read", NOEXP, &t2, s), PAT_EINVAL);
    assert_int_equal(make(f, " x", "repo:read", NOEXP, &t2, s), PAT_EINVAL);
    assert_int_equal(make(f, "a\tb", "repo:read", NOEXP, &t2, s), PAT_EINVAL);
    assert_int_equal(make(f, "bad\xff", "repo:read", NOEXP, &t2, s),
                     PAT_EINVAL);
    {
        struct pat_token_spec sp = {"alice",     "c",  NULL, "repo:read",
                                    "api ok\"x", NULL, NOEXP};
        assert_int_equal(pat_token_create(f->st, NULL, &sp, &t2, s, sizeof(s)),
                         PAT_EINVAL);
        sp.audiences = NULL;
        sp.allowed_cidrs = "10.0.0.0/8 300.1.1.1";
        assert_int_equal(pat_token_create(f->st, NULL, &sp, &t2, s, sizeof(s)),
                         PAT_EINVAL);
        sp.user_id = "nobody";
        assert_int_equal(pat_token_create(f->st, NULL, &sp, &t2, s, sizeof(s)),
                         PAT_ENOTFOUND);
    }
    census(f, &tk1, &ev1);
    assert_int_equal(tk0, tk1);
    assert_int_equal(ev0, ev1);
    /* 100 characters of multi-byte text is fine. */
    name[0] = '\0';
    for (i = 0; i < 100; i++)
        strncat(name, "\xc3\xa9", sizeof(name) - strlen(name) - 1);
    assert_int_equal(make(f, name, "repo:read", NOEXP, &t2, s), PAT_OK);
    /* A revoked token's name is free again. */
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t.id, NULL), PAT_OK);
    assert_int_equal(make(f, "ci", "repo:read", NOEXP, &t2, s), PAT_OK);

    /* max_tokens_per_user counts active tokens only. */
    assert_int_equal(pat_policy_get(f->st, &pol), PAT_OK);
    pol.max_tokens_per_user = 3;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_OK);
    assert_int_equal(make(f, "third", "repo:read", NOEXP, &t, s), PAT_OK);
    assert_int_equal(make(f, "fourth", "repo:read", NOEXP, &t2, s), PAT_ELIMIT);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t.id, "user"), PAT_OK);
    assert_int_equal(make(f, "fourth", "repo:read", NOEXP, &t2, s), PAT_OK);
}

static void
test_update_and_ownership(void **state)
{
    struct fx *f = *state;
    struct pat_user_spec bs = {"bob", NULL, NULL, PAT_ROLE_USER, NULL};
    struct pat_user bob;
    struct pat_token a, b, out;
    char s[PAT_TOKEN_MAX + 1];

    assert_int_equal(pat_user_create(f->st, NULL, &bs, &bob), PAT_OK);
    assert_int_equal(pat_user_create(f->st, NULL, &bs, &bob), PAT_ECONFLICT);
    bs.username = "Bad Name";
    assert_int_equal(pat_user_create(f->st, NULL, &bs, NULL), PAT_EINVAL);
    bs.username = "carol";
    bs.email = "not-an-email";
    assert_int_equal(pat_user_create(f->st, NULL, &bs, NULL), PAT_EINVAL);
    bs.email = NULL;
    bs.scopes = "unknown:scope";
    assert_int_equal(pat_user_create(f->st, NULL, &bs, NULL), PAT_ESCOPE);

    assert_int_equal(make(f, "a", "repo:read", NOEXP, &a, s), PAT_OK);
    assert_int_equal(make(f, "b", "repo:read", NOEXP, &b, s), PAT_OK);
    /* Another user's token is missing, exactly like a missing one. */
    assert_int_equal(pat_token_get(f->st, bob.id, a.id, &out), PAT_ENOTFOUND);
    assert_int_equal(pat_token_get(f->st, "bob", a.id, &out), PAT_ENOTFOUND);
    assert_int_equal(pat_token_revoke(f->st, NULL, bob.id, a.id, NULL),
                     PAT_ENOTFOUND);
    assert_int_equal(
        pat_token_update(f->st, NULL, bob.id, a.id, "x", NULL, &out),
        PAT_ENOTFOUND);
    assert_int_equal(pat_token_get(f->st, f->alice.id, a.id, &out), PAT_OK);
    assert_int_equal(pat_token_get(f->st, NULL, "tok_nope", &out),
                     PAT_ENOTFOUND);

    assert_int_equal(pat_token_update(f->st, NULL, "alice", a.id, "renamed",
                                      "new text", &out),
                     PAT_OK);
    assert_string_equal(out.name, "renamed");
    assert_string_equal(out.description, "new text");
    assert_int_equal(pat_token_update(f->st, NULL, NULL, a.id, "b", NULL, &out),
                     PAT_ECONFLICT);
    assert_int_equal(pat_token_get(f->st, NULL, a.id, &out), PAT_OK);
    assert_string_equal(out.name, "renamed");
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, a.id, NULL), PAT_OK);
    assert_int_equal(
        pat_token_update(f->st, NULL, NULL, a.id, "again", NULL, &out),
        PAT_EREVOKED);
}

static void
test_revoke(void **state)
{
    struct fx *f = *state;
    struct pat_token a, b, c;
    struct pat_verdict v;
    char sa[PAT_TOKEN_MAX + 1], sb[PAT_TOKEN_MAX + 1], sc[PAT_TOKEN_MAX + 1];
    size_t tk0, ev0, tk1, ev1;
    int64_t n = -1;

    assert_int_equal(make(f, "a", "repo:read", NOEXP, &a, sa), PAT_OK);
    assert_int_equal(make(f, "b", "repo:read", NOEXP, &b, sb), PAT_OK);
    assert_int_equal(make(f, "c", "repo:read", NOEXP, &c, sc), PAT_OK);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, a.id, "bad reason"),
                     PAT_EINVAL);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, a.id, "user"), PAT_OK);
    census(f, &tk0, &ev0);
    /* Idempotent: a second revoke succeeds and writes nothing. */
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, a.id, "user"), PAT_OK);
    census(f, &tk1, &ev1);
    assert_int_equal(ev0, ev1);
    assert_int_equal(pat_verify(f->st, sa, 42, &v), PAT_EREVOKED);
    assert_int_equal(pat_token_get(f->st, NULL, a.id, &a), PAT_OK);
    assert_int_equal(a.revoked_at, T0);
    assert_string_equal(a.revoked_reason, "user");
    assert_int_equal(pat_token_status(&a, T0), PAT_STATUS_REVOKED);

    assert_int_equal(
        pat_token_revoke_user(f->st, NULL, "alice", "offboarded", &n), PAT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pat_verify(f->st, sb, 42, &v), PAT_EREVOKED);
    assert_int_equal(pat_verify(f->st, sc, 42, &v), PAT_EREVOKED);
    assert_int_equal(pat_token_revoke_user(f->st, NULL, "nobody", NULL, &n),
                     PAT_ENOTFOUND);
}

static void
test_disabled_user(void **state)
{
    struct fx *f = *state;
    struct pat_token t;
    struct pat_verdict v;
    char s[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1];

    assert_int_equal(make(f, "a", "repo:read", NOEXP, &t, s), PAT_OK);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "alice", true), PAT_OK);
    assert_int_equal(pat_verify(f->st, s, 42, &v), PAT_EDISABLED);
    assert_int_equal(make(f, "b", "repo:read", NOEXP, &t, s2), PAT_EDISABLED);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "alice", false),
                     PAT_OK);
    assert_int_equal(pat_verify(f->st, s, 42, &v), PAT_OK);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "ghost", true),
                     PAT_ENOTFOUND);
}

static void
test_regenerate(void **state)
{
    struct fx *f = *state;
    struct pat_token t, t2;
    struct pat_verdict v;
    struct pat_policy pol;
    struct pat_audit ev[64];
    struct pat_audit_filter af = {.action = "token.reuse_detected"};
    char s1[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1], s3[PAT_TOKEN_MAX + 1];
    size_t n;

    assert_int_equal(make(f, "rot", "repo:read", NOEXP, &t, s1), PAT_OK);
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id, NULL,
                                          PAT_GRACE_MAX + 1, &t2, s2,
                                          sizeof(s2)),
                     PAT_EINVAL);
    /* With a grace of 60 s both secrets open the token until it ends. */
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id,
                                          &(struct pat_expiry){0, 90, 0}, 60,
                                          &t2, s2, sizeof(s2)),
                     PAT_OK);
    assert_string_equal(t2.id, t.id);
    assert_string_equal(t2.hint, s2 + 38);
    assert_int_equal(t2.expires_at, T0 + 90 * DAY);
    assert_true(strcmp(s1, s2) != 0);
    assert_int_equal(pat_verify(f->st, s1, 42, &v), PAT_OK);
    assert_int_equal(v.grace_until, T0 + 60);
    assert_int_equal(pat_verify(f->st, s2, 42, &v), PAT_OK);
    assert_int_equal(v.grace_until, 0);
    f->now = T0 + 60;
    assert_int_equal(pat_verify(f->st, s1, 42, &v), PAT_EREUSED);
    assert_string_equal(v.token_id, t.id);
    assert_int_equal(pat_verify(f->st, s2, 42, &v), PAT_OK);
    assert_int_equal(pat_audit_list(f->st, &af, ev, 64, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].target_token_id, t.id);

    /* Without grace the old secret is retired at once; a later
     * regeneration does not extend an earlier secret's grace. */
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id, NULL, 0, &t2,
                                          s3, sizeof(s3)),
                     PAT_OK);
    assert_int_equal(pat_verify(f->st, s2, 42, &v), PAT_EREUSED);
    assert_int_equal(pat_verify(f->st, s3, 42, &v), PAT_OK);

    /* revoke_on_reuse: presenting a retired secret revokes the token. */
    assert_int_equal(pat_policy_get(f->st, &pol), PAT_OK);
    pol.revoke_on_reuse = true;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_OK);
    assert_int_equal(pat_verify(f->st, s1, 42, &v), PAT_EREUSED);
    assert_int_equal(pat_verify(f->st, s3, 42, &v), PAT_EREVOKED);
    assert_int_equal(pat_token_get(f->st, NULL, t.id, &t2), PAT_OK);
    assert_string_equal(t2.revoked_reason, "reuse");
    /* A revoked token cannot be regenerated. */
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id, NULL, 0, &t2,
                                          s3, sizeof(s3)),
                     PAT_EREVOKED);
}

/*
 * A grace period never outlives the old expiry: regenerating an expired
 * token must not revive its old secret, and a token that expires during
 * the grace closes its old secret at that expiry (issue #11.3).
 */
static void
test_regenerate_expired_grace(void **state)
{
    struct fx *f = *state;
    struct pat_token t, t2;
    struct pat_verdict v;
    char s1[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1], s3[PAT_TOKEN_MAX + 1],
        s4[PAT_TOKEN_MAX + 1];

    assert_int_equal(
        make(f, "lapsed", "repo:read", (struct pat_expiry){0, 1, 0}, &t, s1),
        PAT_OK);
    f->now = T0 + 2 * DAY;
    assert_int_not_equal(pat_verify(f->st, s1, 42, &v), PAT_OK);
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id,
                                          &(struct pat_expiry){0, 30, 0}, 3600,
                                          &t2, s2, sizeof(s2)),
                     PAT_OK);
    assert_int_equal(pat_verify(f->st, s2, 42, &v), PAT_OK);
    /* The old secret expired a day ago: no grace brings it back. */
    assert_int_not_equal(pat_verify(f->st, s1, 42, &v), PAT_OK);
    f->now = T0 + 2 * DAY + 60;
    assert_int_not_equal(pat_verify(f->st, s1, 42, &v), PAT_OK);

    /* Ten seconds left, a grace of an hour: the old secret stops at the
     * old expiry, the new one goes on. */
    f->now = T0 + 3 * DAY;
    assert_int_equal(
        make(f, "ending", "repo:read", (struct pat_expiry){0, 1, 0}, &t, s3),
        PAT_OK);
    f->now = T0 + 4 * DAY - 10;
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id,
                                          &(struct pat_expiry){0, 30, 0}, 3600,
                                          &t2, s4, sizeof(s4)),
                     PAT_OK);
    assert_int_equal(pat_verify(f->st, s3, 42, &v), PAT_OK);
    assert_true(v.grace_until != 0 && v.grace_until <= T0 + 4 * DAY);
    f->now = T0 + 4 * DAY;
    assert_int_not_equal(pat_verify(f->st, s3, 42, &v), PAT_OK);
    assert_int_equal(pat_verify(f->st, s4, 42, &v), PAT_OK);
}

/* A password is checked whole: over-long ones are refused, not cut. */
static void
test_password_length(void **state)
{
    struct fx *f = *state;
    char pw[PAT_PASSWORD_MAX + 1], longer[PAT_PASSWORD_MAX + 8];
    struct pat_user u;

    memset(pw, 'p', PAT_PASSWORD_MAX);
    pw[PAT_PASSWORD_MAX] = '\0';
    snprintf(longer, sizeof(longer), "%sJUNK", pw);
    assert_int_equal(pat_user_set_password(f->st, NULL, "alice", longer),
                     PAT_EINVAL);
    assert_int_equal(pat_user_set_password(f->st, NULL, "alice", pw), PAT_OK);
    assert_int_equal(pat_user_check_password(f->st, "alice", pw, &u), PAT_OK);
    assert_int_equal(pat_user_check_password(f->st, "alice", longer, &u),
                     PAT_EINVAL);
    longer[PAT_PASSWORD_MAX] = '\0';
    longer[PAT_PASSWORD_MAX - 1] = 'q';
    assert_int_equal(pat_user_check_password(f->st, "alice", longer, &u),
                     PAT_EFORBIDDEN);
}

/*
 * Web sessions (issue #11.6): expired ones are deleted at every sign-in
 * and by pat_session_prune, a user holds at most max_per_user (the
 * oldest goes), and a user lists and ends their own by a public id.
 */
static void
test_sessions(void **state)
{
    struct fx *f = *state;
    struct pat_actor who = {NULL, NULL, NULL, 0, "192.0.2.9", "ua/2.0", false};
    char c[6][PAT_SESSION_LEN + 1], csrf[PAT_CSRF_LEN + 1];
    char id[PAT_ID_LEN + 1], admin_id[PAT_ID_LEN + 1];
    char ca[PAT_SESSION_LEN + 1];
    struct pat_session list[8];
    struct pat_user u;
    int64_t n = -1;
    size_t k = 0;
    int i;

    /* An expired session is gone after the next sign-in of anyone. */
    assert_int_equal(pat_session_create(f->st, &who, f->alice.id, 60, 10, c[0],
                                        sizeof(c[0]), csrf, sizeof(csrf)),
                     PAT_OK);
    f->now = T0 + 61;
    assert_int_equal(pat_session_get(f->st, c[0], PAT_SESSION_LEN, &u, csrf,
                                     sizeof(csrf), NULL),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_session_create(f->st, &who, f->admin.id, 3600, 10, ca,
                                        sizeof(ca), csrf, sizeof(csrf)),
                     PAT_OK);
    assert_int_equal(pat_session_prune(f->st, &n), PAT_OK);
    assert_int_equal(n, 0);
    /* And pat_session_prune deletes what expired since. */
    assert_int_equal(pat_session_create(f->st, &who, f->alice.id, 60, 10, c[0],
                                        sizeof(c[0]), csrf, sizeof(csrf)),
                     PAT_OK);
    f->now = T0 + 200;
    assert_int_equal(pat_session_prune(f->st, &n), PAT_OK);
    assert_int_equal(n, 1);

    /* At most 3: the fourth and fifth sign-ins end the oldest. */
    for (i = 0; i < 5; i++) {
        f->now = T0 + 300 + i;
        assert_int_equal(pat_session_create(f->st, &who, f->alice.id, 3600, 3,
                                            c[i], sizeof(c[i]), csrf,
                                            sizeof(csrf)),
                         PAT_OK);
    }
    for (i = 0; i < 5; i++)
        assert_int_equal(pat_session_get(f->st, c[i], PAT_SESSION_LEN, &u, csrf,
                                         sizeof(csrf), NULL),
                         i < 2 ? PAT_ENOTFOUND : PAT_OK);
    /* Even several in one second keep the newest. */
    assert_int_equal(pat_session_create(f->st, &who, f->alice.id, 3600, 1, c[5],
                                        sizeof(c[5]), csrf, sizeof(csrf)),
                     PAT_OK);
    assert_int_equal(pat_session_get(f->st, c[5], PAT_SESSION_LEN, &u, csrf,
                                     sizeof(csrf), id),
                     PAT_OK);
    assert_int_equal(pat_session_get(f->st, c[4], PAT_SESSION_LEN, &u, csrf,
                                     sizeof(csrf), NULL),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_session_create(f->st, &who, f->alice.id, 3600, 3, c[4],
                                        sizeof(c[4]), csrf, sizeof(csrf)),
                     PAT_OK);

    /* The list: public ids, never the cookie; the caller's is current. */
    assert_int_equal(pat_session_list(f->st, f->alice.id, id, list, 8, &k),
                     PAT_OK);
    assert_int_equal(k, 2);
    assert_memory_equal(list[0].id, "ses_", 4);
    assert_int_equal(strlen(list[0].id), PAT_ID_LEN);
    assert_true(list[0].current != list[1].current);
    assert_string_equal(list[0].ip, "192.0.2.9");
    assert_string_equal(list[0].user_agent, "ua/2.0");
    assert_int_equal(list[0].expires_at, list[0].created_at + 3600);
    for (i = 0; i < 2; i++) {
        assert_null(strstr(c[4], list[i].id + 4));
        assert_null(strstr(c[5], list[i].id + 4));
    }

    /* Ending: only one's own; another's is missing. */
    assert_int_equal(pat_session_get(f->st, ca, PAT_SESSION_LEN, &u, csrf,
                                     sizeof(csrf), admin_id),
                     PAT_OK);
    assert_int_equal(pat_session_end(f->st, &who, f->alice.id, admin_id),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_session_get(f->st, ca, PAT_SESSION_LEN, &u, csrf,
                                     sizeof(csrf), NULL),
                     PAT_OK);
    assert_int_equal(pat_session_end(f->st, &who, f->alice.id, "ses_nope"),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_session_end(f->st, &who, f->alice.id, id), PAT_OK);
    assert_int_equal(pat_session_get(f->st, c[5], PAT_SESSION_LEN, &u, csrf,
                                     sizeof(csrf), NULL),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_session_end(f->st, &who, f->alice.id, id),
                     PAT_ENOTFOUND);
    assert_int_equal(pat_session_list(f->st, f->alice.id, NULL, list, 8, &k),
                     PAT_OK);
    assert_int_equal(k, 1);
    assert_false(list[0].current);
}

static void
test_list_filters(void **state)
{
    struct fx *f = *state;
    struct pat_token t, out[8];
    struct pat_token_filter flt;
    char s[PAT_TOKEN_MAX + 1];
    size_t n;

    assert_int_equal(make(f, "a", "repo:read", NOEXP, &t, s), PAT_OK);
    assert_int_equal(make(f, "b", "patd:self", NOEXP, &t, s), PAT_OK);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t.id, NULL), PAT_OK);
    assert_int_equal(
        make(f, "c", "repo:read", (struct pat_expiry){T0 + 10, 0, 0}, &t, s),
        PAT_OK);
    f->now = T0 + 20;
    memset(&flt, 0, sizeof(flt));
    flt.user_id = f->alice.id;
    flt.status = PAT_STATUS_ACTIVE;
    assert_int_equal(pat_token_list(f->st, &flt, out, 8, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].name, "a");
    flt.status = PAT_STATUS_EXPIRED;
    assert_int_equal(pat_token_list(f->st, &flt, out, 8, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].name, "c");
    flt.status = PAT_STATUS_REVOKED;
    assert_int_equal(pat_token_list(f->st, &flt, out, 8, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].name, "b");
    flt.status = PAT_STATUS_ALL;
    flt.scope = "repo:read";
    assert_int_equal(pat_token_list(f->st, &flt, out, 8, &n), PAT_OK);
    assert_int_equal(n, 2);
    /* "repo" is not "repo:read": scope match is by whole item. */
    flt.scope = "repo";
    assert_int_equal(pat_token_list(f->st, &flt, out, 8, &n), PAT_OK);
    assert_int_equal(n, 0);
    /* Paging by cursor. */
    flt.scope = NULL;
    assert_int_equal(pat_token_list(f->st, &flt, out, 2, &n), PAT_OK);
    assert_int_equal(n, 2);
    flt.after = out[1].seq;
    assert_int_equal(pat_token_list(f->st, &flt, out, 2, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].name, "c");
    flt.status = 99;
    assert_int_equal(pat_token_list(f->st, &flt, out, 2, &n), PAT_EINVAL);
    assert_int_equal(pat_status_parse("expired", &flt.status), PAT_OK);
    assert_int_equal(flt.status, PAT_STATUS_EXPIRED);
    assert_int_equal(pat_status_parse("bogus", &flt.status), PAT_EINVAL);
}

static void
test_audit_actor(void **state)
{
    struct fx *f = *state;
    struct pat_actor who = {NULL, NULL, NULL, 0, "192.0.2.1", "ua/1.0", false};
    struct pat_audit ev[8];
    struct pat_audit_filter af = {.action = "token.created"};
    struct pat_token_spec sp = {"alice", "x\"y", NULL, "repo:read",
                                NULL,    NULL,   NOEXP};
    struct pat_token t;
    char s[PAT_TOKEN_MAX + 1];
    size_t n, i;

    who.user_id = f->alice.id;
    assert_int_equal(pat_token_create(f->st, &who, &sp, &t, s, sizeof(s)),
                     PAT_OK);
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    assert_int_equal(n, 2); /* the bootstrap token and this one */
    assert_string_equal(ev[1].actor_user_id, f->alice.id);
    assert_string_equal(ev[1].ip, "192.0.2.1");
    assert_string_equal(ev[1].user_agent, "ua/1.0");
    assert_string_equal(ev[1].target_token_id, t.id);
    /* The detail is valid JSON even for names with quotes. */
    assert_non_null(strstr(ev[1].detail, "\"name\":\"x\\\"y\""));
    /* No event ever holds the secret or its random part. */
    af.action = NULL;
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    for (i = 0; i < n; i++)
        assert_null(strstr(ev[i].detail, s + 4));
}

/*
 * An event's detail keeps its fields when it is long: a token with the
 * most and longest scopes keeps them all, and only the longest free text
 * is cut, marked with "..." and "truncated":true (issue #11: such events
 * used to become {"truncated":true}).
 */
static void
test_detail_long(void **state)
{
    static char scopes[PAT_SCOPESTR_MAX + 1], name[PAT_NAME_MAX + 1],
        desc[PAT_DESC_MAX + 1], out[PAT_DETAIL_MAX + 1];
    char small[40];
    json_t *o;
    size_t i, w = 0;

    (void)state;
    for (i = 0; i < PAT_SCOPES_MAX; i++) {
        if (i > 0)
            scopes[w++] = ' ';
        memset(scopes + w, 'a' + (char)(i % 26), PAT_SCOPE_MAX);
        w += PAT_SCOPE_MAX;
    }
    scopes[w] = '\0';
    for (i = 0; i < PAT_NAME_MAX_CHARS; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 3);
    memset(desc, '"', PAT_DESC_MAX);
    desc[PAT_DESC_MAX] = '\0';
    pat__detail(out, sizeof(out), "{s:s, s:s, s:s, s:s}", "name", name,
                "scopes", scopes, "expires_at", "2026-11-27T10:00:00Z",
                "description", desc);
    assert_true(strlen(out) <= PAT_DETAIL_MAX);
    o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "scopes")),
                        scopes);
    assert_string_equal(json_string_value(json_object_get(o, "name")), name);
    assert_string_equal(json_string_value(json_object_get(o, "expires_at")),
                        "2026-11-27T10:00:00Z");
    assert_true(json_is_true(json_object_get(o, "truncated")));
    assert_true(json_string_length(json_object_get(o, "description")) <
                PAT_DESC_MAX);
    assert_non_null(
        strstr(json_string_value(json_object_get(o, "description")), "..."));
    json_decref(o);

    /* A cut never splits a character. */
    pat__detail(small, sizeof(small), "{s:s}", "name", name);
    o = json_loads(small, 0, NULL);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "truncated")));
    json_decref(o);
    /* When nothing can be cut enough, the old marker, still valid JSON. */
    pat__detail(small, sizeof(small), "{s:s, s:s, s:s}", "a",
                "0123456789abcdefgh", "b", "0123456789abcdefgh", "c",
                "0123456789abcdefgh");
    assert_string_equal(small, "{\"truncated\":true}");
}

/*
 * Bytes that are not UTF-8 reach the store only as filters from a
 * request or as a client's user agent: a filter matches nothing, and a
 * user agent is stored with '?' for each bad byte (PostgreSQL stores no
 * invalid text, and an event must render as JSON).
 */
static void
test_not_utf8(void **state)
{
    struct fx *f = *state;
    struct pat_actor who = {NULL, NULL, NULL, 0, "192.0.2.1", NULL, false};
    struct pat_audit ev[8];
    struct pat_audit_filter af = {.action = "token.created"};
    struct pat_token_filter tf = {.status = PAT_STATUS_ALL};
    struct pat_token_spec sp = {"alice", "n",  NULL, "repo:read",
                                NULL,    NULL, NOEXP};
    struct pat_user users[4];
    struct pat_token t, toks[4];
    char s[PAT_TOKEN_MAX + 1], ua[PAT_UA_MAX + 8];
    size_t n;

    who.user_agent = "ua/1 \xff\x01"
                     "caf\xc3\xa9 \xe2\x82";
    assert_int_equal(pat_token_create(f->st, &who, &sp, &t, s, sizeof(s)),
                     PAT_OK);
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[1].user_agent, "ua/1 ??caf\xc3\xa9 ??");
    /* A long one is cut between characters, not inside one. */
    memset(ua, 'a', PAT_UA_MAX - 1);
    memcpy(ua + PAT_UA_MAX - 1, "\xc3\xa9", 3);
    who.user_agent = ua;
    sp.name = "m";
    assert_int_equal(pat_token_create(f->st, &who, &sp, &t, s, sizeof(s)),
                     PAT_OK);
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(strlen(ev[2].user_agent), PAT_UA_MAX - 1);

    assert_int_equal(pat_user_list(f->st, 0, "\xff", users, 4, &n), PAT_OK);
    assert_int_equal(n, 0);
    tf.scope = "repo:\xff";
    assert_int_equal(pat_token_list(f->st, &tf, toks, 4, &n), PAT_OK);
    assert_int_equal(n, 0);
    af.action = "token.\xc3";
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pat_token_get(f->st, NULL, "tok_\xff", &t), PAT_ENOTFOUND);
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, "tok_\xff", NULL),
                     PAT_ENOTFOUND);
}

/*
 * Ends every session of the library (its connections name themselves
 * "patd"), as a server restart would. Only f's store is open.
 */
static void
kill_sessions(void)
{
    /* With a timeout the call returns once the sessions are gone. */
    pg_run(pg_base,
           "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
           " WHERE application_name = 'patd' AND pid <> pg_backend_pid()");
}

static void
test_pg_connection_lost(void **state)
{
    struct fx *f = *state;
    struct pat_token t, out;
    struct pat_verdict v;
    char s[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1];
    int64_t n;

    assert_int_equal(make(f, "a", "repo:read", NOEXP, &t, s), PAT_OK);
    /* A read outside a transaction is sent once more on a new connection. */
    kill_sessions();
    assert_int_equal(pat_token_get(f->st, NULL, t.id, &out), PAT_OK);
    kill_sessions();
    assert_int_equal(pat_verify(f->st, s, 42, &v), PAT_OK);
    /* A write is not: it may have happened before the connection went. */
    kill_sessions();
    assert_int_equal(pat__db_token_usage_put(f->st, t.id, T0, "192.0.2.1", ""),
                     PAT_EUNAVAIL);
    assert_non_null(strstr(f->err, "postgres: "));
    /* The next call reconnects before it sends anything. */
    assert_int_equal(pat__db_token_usage_put(f->st, t.id, T0, "192.0.2.1", ""),
                     PAT_OK);
    /* BEGIN is safe to send again: nothing had happened yet. */
    kill_sessions();
    assert_int_equal(make(f, "b", "repo:read", NOEXP, &t, s2), PAT_OK);
    /* Inside a transaction nothing is retried: the transaction is gone. */
    assert_int_equal(pat__tx_begin(f->st), PAT_OK);
    kill_sessions();
    assert_int_equal(pat__db_token_count_live(f->st, f->alice.id, T0, &n),
                     PAT_EUNAVAIL);
    assert_int_equal(pat__db_token_count_live(f->st, f->alice.id, T0, &n),
                     PAT_EUNAVAIL);
    pat__tx_rollback(f->st);
    /* After the rollback the handle serves again. */
    assert_int_equal(pat__db_token_count_live(f->st, f->alice.id, T0, &n),
                     PAT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pat_verify(f->st, s2, 42, &v), PAT_OK);
}

static void
test_pg_errors(void **state)
{
    struct fx *f = *state;
    size_t tk0, ev0, tk1, ev1;

    assert_int_equal(f->st->drv->exec(f->st, "SELEC 1"), PAT_ESTORE);
    assert_non_null(strstr(f->err, "postgres: syntax error"));
    /*
     * After a failed statement PostgreSQL answers COMMIT with ROLLBACK
     * and no error; the commit must not look like a success.
     */
    census(f, &tk0, &ev0);
    assert_int_equal(pat__tx_begin(f->st), PAT_OK);
    assert_int_equal(pat__audit(f->st, NULL, "test.event", NULL, NULL, NULL),
                     PAT_OK);
    assert_int_equal(f->st->drv->exec(f->st, "SELECT 1 / 0"), PAT_ESTORE);
    assert_int_equal(pat__tx_commit(f->st), PAT_ESTORE);
    census(f, &tk1, &ev1);
    assert_int_equal(ev0, ev1);
    /* A unique key is PAT_ECONFLICT, with the server's words. */
    assert_int_equal(pat__db_user_insert(f->st, &f->alice), PAT_ECONFLICT);
    assert_non_null(strstr(f->err, "duplicate key"));
}

/* Every lifecycle call appends exactly its feed rows, never a secret. */
static void
test_feed_rows(void **state)
{
    struct fx *f = *state;
    struct pat_actor admin = {f->admin.id, NULL, NULL, 0,
                              "192.0.2.1", NULL, false};
    struct pat_token t1, t2, t3, out;
    struct pat_verdict v;
    struct pat_bulk_filter bulk = {NULL, "repo:read", 0};
    struct pat_user_patch patch = {"Alice A.", NULL, -1, NULL, -1};
    struct pat_policy pol;
    struct pat_scope keep[2] = {{"repo:read", "Read", false},
                                {"repo:write", "Write", false}};
    struct pat_change all[256];
    char s1[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1], s3[PAT_TOKEN_MAX + 1];
    char want[512];
    int64_t after = 0, n = 0;
    bool revoked = false;
    size_t i, count;

    assert_int_equal(pat_changes_last(f->st, &after), PAT_OK);
    assert_true(after > 0); /* init and setup wrote rows */

    assert_int_equal(make(f, "one", "repo:read", NOEXP, &t1, s1), PAT_OK);
    snprintf(want, sizeof(want), "token.created %s/0", t1.id);
    expect_feed(f, &after, want);
    assert_int_equal(
        pat_token_update(f->st, &admin, NULL, t1.id, "uno", NULL, NULL),
        PAT_OK);
    snprintf(want, sizeof(want), "token.renamed %s/0", t1.id);
    expect_feed(f, &after, want);
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t1.id, NULL, 60,
                                          &out, s2, sizeof(s2)),
                     PAT_OK);
    snprintf(want, sizeof(want), "token.regenerated %s/1", t1.id);
    expect_feed(f, &after, want);
    /* The retired secret presented after its grace: a reuse, recorded. */
    f->now += 61;
    assert_int_equal(pat_verify(f->st, s1, strlen(s1), &v), PAT_EREUSED);
    snprintf(want, sizeof(want), "token.reuse_detected %s/0", t1.id);
    expect_feed(f, &after, want);
    assert_int_equal(pat_token_revoke_secret(f->st, NULL, s2, strlen(s2),
                                             "leaked", &revoked),
                     PAT_OK);
    assert_true(revoked);
    snprintf(want, sizeof(want), "token.leaked %s/1", t1.id);
    expect_feed(f, &after, want);
    /* Nothing changed, nothing written. */
    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t1.id, NULL), PAT_OK);
    expect_feed(f, &after, "");

    assert_int_equal(make(f, "two", "repo:read", NOEXP, &t2, s2), PAT_OK);
    assert_int_equal(make(f, "three", "repo:read", NOEXP, &t3, s3), PAT_OK);
    after += 2;
    assert_int_equal(pat_token_revoke_bulk(f->st, NULL, &bulk, NULL, true, &n),
                     PAT_OK);
    assert_int_equal(n, 2);
    expect_feed(f, &after, "");
    assert_int_equal(pat_token_revoke_bulk(f->st, NULL, &bulk, NULL, false, &n),
                     PAT_OK);
    snprintf(want, sizeof(want), "token.revoked %s/1; token.revoked %s/1",
             t2.id, t3.id);
    expect_feed(f, &after, want);

    assert_int_equal(make(f, "four", "repo:read", NOEXP, &t2, s2), PAT_OK);
    after++;
    assert_int_equal(pat_token_revoke_user(f->st, &admin, "alice", NULL, &n),
                     PAT_OK);
    snprintf(want, sizeof(want), "token.revoked %s/1", t2.id);
    expect_feed(f, &after, want);

    assert_int_equal(pat_user_set_scopes(f->st, NULL, "alice", "patd:self"),
                     PAT_OK);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "alice", true), PAT_OK);
    assert_int_equal(pat_user_set_disabled(f->st, NULL, "alice", false),
                     PAT_OK);
    assert_int_equal(pat_user_update(f->st, NULL, "alice", &patch, NULL),
                     PAT_OK);
    assert_int_equal(
        pat_user_set_password(f->st, NULL, "alice", "a long password"), PAT_OK);
    snprintf(want, sizeof(want),
             "user.updated %s/2; user.disabled %s/2; user.updated %s/2; "
             "user.updated %s/2; user.updated %s/2",
             f->alice.id, f->alice.id, f->alice.id, f->alice.id, f->alice.id);
    expect_feed(f, &after, want);

    assert_int_equal(pat_scope_put(f->st, NULL, "repo:admin", "Admin"), PAT_OK);
    assert_int_equal(pat_scope_replace(f->st, NULL, keep, 2), PAT_OK);
    assert_int_equal(pat_policy_get(f->st, &pol), PAT_OK);
    pol.revoke_on_reuse = true;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_OK);
    expect_feed(f, &after,
                "scopes.changed -/3; scopes.changed -/3; policy.changed -/3");

    assert_int_equal(
        pat_user_set_scopes(f->st, NULL, "alice", "patd:self repo:read"),
        PAT_OK);
    snprintf(want, sizeof(want), "user.updated %s/2", f->alice.id);
    expect_feed(f, &after, want);
    assert_int_equal(make(f, "five", "repo:read", NOEXP, &t3, s3), PAT_OK);
    after++;
    assert_int_equal(pat_user_delete(f->st, &admin, "alice"), PAT_OK);
    snprintf(want, sizeof(want), "token.revoked %s/1; user.deleted %s/2", t3.id,
             f->alice.id);
    expect_feed(f, &after, want);

    /* No row holds a plaintext; the acting admin is named. */
    assert_int_equal(pat_changes_list(f->st, 0, all, 256, &count), PAT_OK);
    for (i = 0; i < count; i++) {
        assert_null(strstr(all[i].data, s1));
        assert_null(strstr(all[i].data, s2));
        assert_null(strstr(all[i].data, s3));
        assert_null(strstr(all[i].data, "a long password"));
        if (strcmp(all[i].type, "user.deleted") == 0)
            assert_string_equal(all[i].actor, f->admin.id);
    }
}

/*
 * A retired secret presented again is recorded at most once a minute per
 * token; the presentations in between are counted into the next record.
 */
static void
test_reuse_recorded_once(void **state)
{
    struct fx *f = *state;
    struct pat_audit_filter af = {.action = "token.reuse_detected"};
    struct pat_audit ev[8];
    struct pat_token t, out;
    struct pat_verdict v;
    char s1[PAT_TOKEN_MAX + 1], s2[PAT_TOKEN_MAX + 1];
    size_t n = 0;
    int i;

    assert_int_equal(make(f, "r", "repo:read", NOEXP, &t, s1), PAT_OK);
    assert_int_equal(pat_token_regenerate(f->st, NULL, NULL, t.id, NULL, 0,
                                          &out, s2, sizeof(s2)),
                     PAT_OK);
    for (i = 0; i < 5; i++) {
        assert_int_equal(pat_verify(f->st, s1, strlen(s1), &v), PAT_EREUSED);
        f->now += 10;
    }
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].detail, "{\"repeats\":0}");
    f->now += PAT_REUSE_RECORD_S;
    assert_int_equal(pat_verify(f->st, s1, strlen(s1), &v), PAT_EREUSED);
    assert_int_equal(pat_audit_list(f->st, &af, ev, 8, &n), PAT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[1].detail, "{\"repeats\":4}");
    /* The current secret was never disturbed. */
    assert_int_equal(pat_verify(f->st, s2, strlen(s2), &v), PAT_OK);
}

static int commits;
static struct pat_change_ref last_refs[PAT_COMMIT_REFS_MAX];
static size_t last_n;
static bool last_over;

static void
on_commit(void *arg, const struct pat_change_ref *refs, size_t n, bool overflow)
{
    (void)arg;
    commits++;
    memcpy(last_refs, refs, n * sizeof(*refs));
    last_n = n;
    last_over = overflow;
}

/*
 * A rolled-back change leaves no row and no signal; a committed one
 * signals what it names; more than the signal holds is an overflow.
 */
static void
test_feed_commit_signal(void **state)
{
    struct fx *f = *state;
    struct pat_token t, out;
    struct pat_policy pol;
    struct pat_bulk_filter bulk = {NULL, "repo:read", 0};
    char s[PAT_TOKEN_MAX + 1], name[16];
    int64_t before, last, n;
    int i;

    pat_store_on_commit(f->st, on_commit, f);
    commits = 0;
    assert_int_equal(pat_changes_last(f->st, &before), PAT_OK);
    assert_int_equal(pat__tx_begin(f->st), PAT_OK);
    assert_int_equal(
        pat__feed(f->st, NULL, "token.revoked", f->alice.id, NULL, NULL),
        PAT_OK);
    pat__tx_rollback(f->st);
    assert_int_equal(pat_changes_last(f->st, &last), PAT_OK);
    assert_int_equal(last, before);
    assert_int_equal(commits, 0);
    /* An unknown type is refused; a row outside a transaction too. */
    assert_int_equal(pat__tx_begin(f->st), PAT_OK);
    assert_int_equal(pat__feed(f->st, NULL, "token.eaten", NULL, NULL, NULL),
                     PAT_EINVAL);
    pat__tx_rollback(f->st);
    assert_int_equal(pat__feed(f->st, NULL, "token.revoked", NULL, NULL, NULL),
                     PAT_ESTORE);
    /* A refused call writes nothing and signals nothing. */
    assert_int_equal(make(f, "a", "repo:read", NOEXP, &t, s), PAT_OK);
    assert_int_equal(make(f, "a", "repo:read", NOEXP, &out, s), PAT_ECONFLICT);
    assert_int_equal(commits, 0); /* creation makes nothing less valid */

    assert_int_equal(pat_token_revoke(f->st, NULL, NULL, t.id, NULL), PAT_OK);
    assert_int_equal(commits, 1);
    assert_int_equal(last_n, 1);
    assert_false(last_over);
    assert_string_equal(last_refs[0].token_id, t.id);
    assert_string_equal(last_refs[0].user_id, f->alice.id);
    assert_int_equal(last_refs[0].evict, PAT_EVICT_TOKEN);
    assert_int_equal(pat_changes_last(f->st, &last), PAT_OK);
    assert_int_equal(last_refs[0].seq, last);

    assert_int_equal(pat_policy_get(f->st, &pol), PAT_OK);
    pol.max_tokens_per_user = 1000;
    assert_int_equal(pat_policy_put(f->st, NULL, &pol), PAT_OK);
    assert_int_equal(commits, 2);
    assert_int_equal(last_refs[0].evict, PAT_EVICT_ALL);

    for (i = 0; i < PAT_COMMIT_REFS_MAX + 1; i++) {
        snprintf(name, sizeof(name), "b%d", i);
        assert_int_equal(make(f, name, "repo:read", NOEXP, &t, s), PAT_OK);
    }
    assert_int_equal(pat_token_revoke_bulk(f->st, NULL, &bulk, NULL, false, &n),
                     PAT_OK);
    assert_int_equal(n, PAT_COMMIT_REFS_MAX + 1);
    assert_int_equal(commits, 3);
    assert_int_equal(last_n, PAT_COMMIT_REFS_MAX);
    assert_true(last_over);
    pat_store_on_commit(f->st, NULL, NULL);
}

/* Pruning drops old rows; the sequence never goes back, even when empty. */
static void
test_feed_prune(void **state)
{
    struct fx *f = *state;
    struct pat_change c[4];
    struct pat_token t;
    char s[PAT_TOKEN_MAX + 1];
    int64_t last, n = 0;
    size_t got = 0;

    assert_int_equal(pat_changes_last(f->st, &last), PAT_OK);
    assert_int_equal(pat_changes_list(f->st, -1, c, 4, &got), PAT_EINVAL);
    f->now += DAY;
    assert_int_equal(pat_changes_prune(f->st, f->now, &n), PAT_OK);
    assert_int_equal(n, last);
    assert_int_equal(pat_changes_list(f->st, 0, c, 4, &got), PAT_OK);
    assert_int_equal(got, 0);
    assert_int_equal(make(f, "after", "repo:read", NOEXP, &t, s), PAT_OK);
    assert_int_equal(pat_changes_list(f->st, 0, c, 4, &got), PAT_OK);
    assert_int_equal(got, 1);
    assert_true(c[0].seq > last);
    reopen(f);
    assert_int_equal(pat_changes_prune(f->st, f->now, &n), PAT_OK);
    assert_int_equal(n, 0); /* not older than the bound */
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_migrations),
        T(test_fresh_store),
        T(test_create_and_verify),
        T(test_expiry_rules),
        T(test_scope_rules),
        T(test_names_and_limits),
        T(test_update_and_ownership),
        T(test_revoke),
        T(test_disabled_user),
        T(test_regenerate),
        T(test_regenerate_expired_grace),
        T(test_password_length),
        T(test_sessions),
        T(test_list_filters),
        T(test_audit_actor),
        T(test_detail_long),
        T(test_not_utf8),
        T(test_feed_rows),
        T(test_reuse_recorded_once),
        T(test_feed_commit_signal),
        T(test_feed_prune),
    };
    const struct CMUnitTest pg_tests[] = {
        T(test_pg_connection_lost),
        T(test_pg_errors),
    };
#undef T
    int failed;

    pg_base = getenv("PATD_TEST_STORE");
    if (pg_base != NULL && pg_base[0] == '\0')
        pg_base = NULL;
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (pg_base != NULL)
        failed += cmocka_run_group_tests(pg_tests, NULL, NULL);
    return failed;
}
