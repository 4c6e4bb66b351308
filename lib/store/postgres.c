/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL driver (scale-out: many patd nodes share one database):
 * the primitives of driver.h on one libpq connection per handle. Each
 * statement of the table is expanded and prepared once per session, on
 * first use; every value is a bound parameter (bytes travel as binary
 * BYTEA, everything else as text; results come back as text).
 *
 * Transactions: the SQLite driver gets a database-wide write lock from
 * BEGIN IMMEDIATE, and the operations' read-check-write sequences (the
 * token limit, unique names, "already initialised", migrations) rely on
 * it. Here begin takes one transaction-scoped advisory lock that every
 * writer on every node takes, so writers are serialised exactly as on
 * SQLite while reads outside transactions stay concurrent. Commits are
 * durable (synchronous_commit is left on).
 *
 * A lost connection is reopened before the next statement when no
 * transaction is open, and a read outside a transaction that finds the
 * connection gone is retried once on the fresh one. Writes and anything
 * inside a transaction are never retried: they fail with PAT_EUNAVAIL.
 *
 * Scale-out: notify queues pg_notify on PAT_CHANGES_CHANNEL inside the
 * transaction (delivered at commit and only then). A listener handle
 * (listen_start, listen_wait) is one connection that does nothing but
 * LISTEN, named patd-listener in pg_stat_activity; it sends its LISTEN
 * again as a heartbeat when it has been quiet, so that a connection that
 * died without a word is noticed.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "store/store_int.h"

/*
 * The key of the advisory lock every write transaction holds ("patd" in
 * ASCII). Any fixed number works as long as all nodes agree on it.
 */
#define WRITE_LOCK "1885434980"

/* The most parameters any statement takes (token_restore: 15). */
#define MAX_PARAMS 16

/*
 * A statement of the table on this connection and one run of it. Numbers
 * are written into num, so the values stay valid until done. r is the
 * result of the run (NULL before the first step); row is the current row.
 */
struct pg_stmt {
    enum pat_q q;
    int n;
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    char num[MAX_PARAMS][24];
    PGresult *r;
    int row;
};

/*
 * The connection. prepared[q] is true once statement q is prepared on
 * the current session; a reset starts a new session and clears them all.
 * in_tx is true from a successful begin until commit or rollback.
 */
struct conn {
    PGconn *pg;
    bool in_tx;
    bool prepared[Q_COUNT];
    struct pg_stmt stmts[Q_COUNT];
    /*
     * A listener only (listen_start): its LISTEN command, when the last
     * heartbeat was sent (0: none in flight) and when one last came back,
     * in monotonic milliseconds.
     */
    char listen_sql[96];
    int64_t hb_sent;
    int64_t hb_back;
};

/*
 * A listener that has heard nothing for this long sends a heartbeat, and
 * gives the connection up when the answer takes as long again.
 */
#define HEARTBEAT_MS 5000

static struct conn *
conn_of(struct pat_store *st)
{
    return st->conn;
}

static struct pg_stmt *
pgs(struct pat_stmt *s)
{
    return (struct pg_stmt *)(void *)s;
}

static bool
lost(const struct conn *c)
{
    return PQstatus(c->pg) != CONNECTION_OK;
}

/* The length of the first line of a libpq message (they end in \n). */
static int
line_len(const char *s)
{
    return (int)strcspn(s, "\n");
}

/*
 * Maps a failed result (or NULL: nothing came back) to pat_err, with the
 * server's message as the detail. The SQLSTATE classes follow sqlite.c:
 * what retrying later can cure (no connection, shutdown, lock or
 * serialisation conflicts, resources) is PAT_EUNAVAIL, like SQLITE_BUSY
 * and SQLITE_IOERR there.
 */
static int
map_err(struct pat_store *st, const PGresult *r)
{
    struct conn *c = conn_of(st);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (msg == NULL && r != NULL && PQresultErrorMessage(r)[0] != '\0')
        msg = PQresultErrorMessage(r);
    if (msg == NULL)
        msg = PQerrorMessage(c->pg);
    if (state != NULL && strcmp(state, "23505") == 0)
        return pat__fail(st, PAT_ECONFLICT, "postgres: %.*s", line_len(msg),
                         msg);
    if (lost(c) ||
        (state != NULL &&
         (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
          strncmp(state, "53", 2) == 0 || strncmp(state, "40", 2) == 0 ||
          strcmp(state, "55P03") == 0)))
        return pat__fail(st, PAT_EUNAVAIL, "postgres: %.*s", line_len(msg),
                         msg);
    return pat__fail(st, PAT_ESTORE, "postgres: %.*s", line_len(msg), msg);
}

static bool
result_ok(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);

    return r != NULL && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
}

/*
 * Opens a new session on the same connection parameters. Prepared
 * statements belong to the old session and are gone with it.
 */
static int
reconnect(struct pat_store *st)
{
    struct conn *c = conn_of(st);

    PQreset(c->pg);
    memset(c->prepared, 0, sizeof(c->prepared));
    if (lost(c))
        return pat__fail(st, PAT_EUNAVAIL, "postgres: %.*s",
                         line_len(PQerrorMessage(c->pg)),
                         PQerrorMessage(c->pg));
    return PAT_OK;
}

/*
 * Before a statement: a connection lost since the last one is reopened
 * when that is safe, i.e. outside a transaction (nothing has been sent
 * yet, so this retries nothing). Inside one, the transaction is gone.
 */
static int
ready(struct pat_store *st)
{
    struct conn *c = conn_of(st);

    if (!lost(c))
        return PAT_OK;
    if (c->in_tx)
        return pat__fail(st, PAT_EUNAVAIL,
                         "postgres: connection lost inside a transaction");
    return reconnect(st);
}

/* Prepares q on first use in this session, then runs it. */
static PGresult *
send_stmt(struct conn *c, const struct pg_stmt *s)
{
    char name[16];

    snprintf(name, sizeof(name), "patd_%d", (int)s->q);
    if (!c->prepared[s->q]) {
        char *sql = pat__sql_expand(PAT_DIALECT_POSTGRES, pat__stmts[s->q].sql,
                                    pat__stmts[s->q].types);
        PGresult *r;

        if (sql == NULL)
            return NULL;
        r = PQprepare(c->pg, name, sql, 0, NULL);
        free(sql);
        if (!result_ok(r))
            return r;
        PQclear(r);
        c->prepared[s->q] = true;
    }
    return PQexecPrepared(c->pg, name, s->n, s->values, s->lengths, s->formats,
                          0);
}

/* True when s is UTF-8 as PostgreSQL accepts it (s has no NUL inside). */
static bool
utf8_valid(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    while (*u != '\0') {
        unsigned long cp;
        size_t n, i;

        if (*u < 0x80) {
            u++;
            continue;
        }
        if (*u >= 0xc2 && *u <= 0xdf)
            n = 2;
        else if (*u >= 0xe0 && *u <= 0xef)
            n = 3;
        else if (*u >= 0xf0 && *u <= 0xf4)
            n = 4;
        else
            return false;
        cp = *u & (0x7f >> n);
        /* A NUL is not a continuation byte: the loop stops at the end. */
        for (i = 1; i < n; i++) {
            if ((u[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (u[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        u += n;
    }
    return true;
}

static bool
texts_valid(const struct pg_stmt *s)
{
    int i;

    for (i = 0; i < s->n; i++) {
        if (s->formats[i] == 0 && s->values[i] != NULL &&
            !utf8_valid(s->values[i]))
            return false;
    }
    return true;
}

/*
 * Runs s. On success returns the result and sets *rc to PAT_OK; on
 * failure returns NULL with *rc mapped. A read outside a transaction that
 * lost its connection is sent once more on a fresh one.
 *
 * Text that is not UTF-8 (a search string or an id from a request)
 * cannot equal or occur in any stored text, so a read with it finds
 * nothing, as on SQLite, instead of failing on the server and aborting
 * the transaction around it. Writing such text is refused.
 */
static PGresult *
query(struct pat_store *st, const struct pg_stmt *s, int *rc)
{
    struct conn *c = conn_of(st);
    bool read = pat__stmts[s->q].read;
    PGresult *r;

    if (!texts_valid(s)) {
        if (!read) {
            *rc = pat__fail(st, PAT_EINVAL, "text that is not UTF-8");
            return NULL;
        }
        r = PQmakeEmptyPGresult(c->pg, PGRES_TUPLES_OK);
        *rc = r != NULL ? PAT_OK : PAT_ENOMEM;
        return r;
    }
    *rc = ready(st);
    if (*rc != PAT_OK)
        return NULL;
    r = send_stmt(c, s);
    if (!result_ok(r) && lost(c) && read && !c->in_tx) {
        PQclear(r);
        r = NULL;
        *rc = reconnect(st);
        if (*rc != PAT_OK)
            return NULL;
        r = send_stmt(c, s);
    }
    if (result_ok(r))
        return r;
    *rc = map_err(st, r);
    PQclear(r);
    return NULL;
}

/*
 * Runs fixed SQL without parameters (transaction control, migration
 * scripts). retry: the SQL may be sent again on a fresh connection if
 * the first attempt lost it (only for statements that change nothing
 * when the connection drops, like BEGIN).
 */
static int
simple(struct pat_store *st, const char *sql, bool retry, PGresult **out)
{
    struct conn *c = conn_of(st);
    PGresult *r;
    int rc = ready(st);

    if (out != NULL)
        *out = NULL;
    if (rc != PAT_OK)
        return rc;
    r = PQexec(c->pg, sql);
    if (!result_ok(r) && lost(c) && retry && !c->in_tx) {
        PQclear(r);
        rc = reconnect(st);
        if (rc != PAT_OK)
            return rc;
        r = PQexec(c->pg, sql);
    }
    if (!result_ok(r)) {
        rc = map_err(st, r);
        PQclear(r);
        return rc;
    }
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return PAT_OK;
}

/* Server notices ("relation already exists, skipping") are not errors. */
static void
quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * target is a libpq URI (postgres://...), passed on as it is. The
 * database must exist: PAT_OPEN_CREATE has no meaning here, and a
 * database that cannot be reached, missing or not, is PAT_EUNAVAIL.
 */
static int
pg_open(struct pat_store *st, const char *target, int flags)
{
    /*
     * libpq applies these in order, the URI expanded in place of dbname:
     * the URI may lengthen the connect timeout (a default that keeps a
     * dead server from holding a caller for minutes), but text always
     * travels as UTF-8, whatever the server's default.
     */
    const char *const keys[] = {"connect_timeout", "dbname", "client_encoding",
                                "fallback_application_name", NULL};
    const char *const vals[] = {"10", target, "UTF8", "patd", NULL};
    PQconninfoOption *opts = NULL;
    struct conn *c = NULL;
    char *perr = NULL;
    int rc = PAT_OK;

    (void)flags;
    /* A malformed URL is the caller's mistake, not an outage. */
    opts = PQconninfoParse(target, &perr);
    if (opts == NULL) {
        rc = perr ? pat__fail(st, PAT_EINVAL, "invalid postgres URL: %.*s",
                              line_len(perr), perr)
                  : PAT_ENOMEM;
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = PAT_ENOMEM;
        goto out;
    }
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL) {
        rc = PAT_ENOMEM;
        goto out;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        rc = pat__fail(st, PAT_EUNAVAIL, "cannot connect to postgres: %.*s",
                       line_len(PQerrorMessage(c->pg)), PQerrorMessage(c->pg));
        goto out;
    }
    PQsetNoticeProcessor(c->pg, quiet, NULL);
    st->conn = c;
    c = NULL;
out:
    if (c != NULL) {
        PQfinish(c->pg);
        free(c);
    }
    PQconninfoFree(opts);
    PQfreemem(perr);
    return rc;
}

static void
pg_close(struct pat_store *st)
{
    struct conn *c = conn_of(st);
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < Q_COUNT; i++)
        PQclear(c->stmts[i].r);
    PQfinish(c->pg);
    free(c);
    st->conn = NULL;
}

static int
pg_exec(struct pat_store *st, const char *sql)
{
    return simple(st, sql, false, NULL);
}

/*
 * BEGIN and the writers' lock in one round trip. Sending them again after
 * a lost connection is safe: a transaction that never got its answer is
 * rolled back by the server.
 */
static int
pg_begin(struct pat_store *st)
{
    struct conn *c = conn_of(st);
    int rc = simple(st, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK ")",
                    true, NULL);

    if (rc == PAT_OK) {
        c->in_tx = true;
        return PAT_OK;
    }
    /* BEGIN may have worked when the lock did not (a timeout). */
    if (!lost(c) && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    return rc;
}

/*
 * COMMIT of a transaction in which a statement failed answers ROLLBACK
 * without an error; that is a failure here. A commit whose answer was
 * lost is PAT_EUNAVAIL: it may or may not have happened.
 */
static int
pg_commit(struct pat_store *st)
{
    struct conn *c = conn_of(st);
    PGresult *r;
    int rc = simple(st, "COMMIT", false, &r);

    if (rc == PAT_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = pat__fail(st, PAT_ESTORE,
                       "postgres: the transaction was rolled back");
    PQclear(r);
    if (rc == PAT_OK)
        c->in_tx = false;
    return rc;
}

/* On a lost connection the server has rolled back already. */
static void
pg_rollback(struct pat_store *st)
{
    struct conn *c = conn_of(st);

    if (!lost(c) && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    c->in_tx = false;
}

static int
pg_prepare(struct pat_store *st, enum pat_q q, struct pat_stmt **out)
{
    struct pg_stmt *s = &conn_of(st)->stmts[q];

    PQclear(s->r);
    memset(s, 0, offsetof(struct pg_stmt, num));
    s->q = q;
    s->r = NULL;
    s->row = -1;
    *out = (struct pat_stmt *)(void *)s;
    return PAT_OK;
}

/* The statements are fixed; only a coding error binds out of range. */
static void
bind_raw(struct pg_stmt *s, int i, const char *v, int len, int format)
{
    if (i < 1 || i > MAX_PARAMS)
        return;
    s->values[i - 1] = v;
    s->lengths[i - 1] = len;
    s->formats[i - 1] = format;
    if (i > s->n)
        s->n = i;
}

static void
pg_bind_text(struct pat_stmt *s, int i, const char *v)
{
    bind_raw(pgs(s), i, v, 0, 0);
}

static void
pg_bind_null(struct pat_stmt *s, int i)
{
    bind_raw(pgs(s), i, NULL, 0, 0);
}

static void
pg_bind_int(struct pat_stmt *s, int i, int64_t v)
{
    struct pg_stmt *p = pgs(s);

    if (i < 1 || i > MAX_PARAMS)
        return;
    snprintf(p->num[i - 1], sizeof(p->num[0]), "%lld", (long long)v);
    bind_raw(p, i, p->num[i - 1], 0, 0);
}

static void
pg_bind_blob(struct pat_stmt *s, int i, const void *v, size_t n)
{
    bind_raw(pgs(s), i, v, (int)n, 1);
}

static int
pg_step(struct pat_store *st, struct pat_stmt *stmt)
{
    struct pg_stmt *s = pgs(stmt);
    int rc;

    if (s->r == NULL) {
        s->r = query(st, s, &rc);
        if (s->r == NULL)
            return rc;
    }
    if (s->row + 1 >= PQntuples(s->r))
        return PAT_ENOTFOUND;
    s->row++;
    return PAT_OK;
}

static int64_t
pg_col_int(struct pat_stmt *stmt, int i)
{
    struct pg_stmt *s = pgs(stmt);

    if (PQgetisnull(s->r, s->row, i))
        return 0;
    return strtoll(PQgetvalue(s->r, s->row, i), NULL, 10);
}

static void
pg_col_text(struct pat_stmt *stmt, int i, char *dst, size_t cap)
{
    struct pg_stmt *s = pgs(stmt);
    const char *v = PQgetvalue(s->r, s->row, i);
    size_t n = (size_t)PQgetlength(s->r, s->row, i);

    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

static int
hex_nibble(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* BYTEA comes back as text in the hex format: \x then two digits a byte. */
static bool
pg_col_blob(struct pat_stmt *stmt, int i, uint8_t *dst, size_t n)
{
    struct pg_stmt *s = pgs(stmt);
    const char *v = PQgetvalue(s->r, s->row, i);
    size_t k;

    if ((size_t)PQgetlength(s->r, s->row, i) != 2 + 2 * n || v[0] != '\\' ||
        v[1] != 'x')
        return false;
    v += 2;
    for (k = 0; k < n; k++) {
        int hi = hex_nibble(v[2 * k]), lo = hex_nibble(v[2 * k + 1]);

        if (hi < 0 || lo < 0)
            return false;
        dst[k] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool
pg_col_null(struct pat_stmt *stmt, int i)
{
    struct pg_stmt *s = pgs(stmt);

    return PQgetisnull(s->r, s->row, i) != 0;
}

static int64_t
pg_changes(struct pat_store *st, struct pat_stmt *stmt)
{
    struct pg_stmt *s = pgs(stmt);

    (void)st;
    return s->r ? strtoll(PQcmdTuples(s->r), NULL, 10) : 0;
}

static void
pg_done(struct pat_stmt *stmt)
{
    struct pg_stmt *s = pgs(stmt);

    PQclear(s->r);
    s->r = NULL;
    s->n = 0;
}

static int
pg_notify(struct pat_store *st, const char *payload)
{
    struct conn *c = conn_of(st);
    const char *values[1] = {payload};
    PGresult *r;
    int rc = ready(st);

    if (rc != PAT_OK)
        return rc;
    r = PQexecParams(c->pg,
                     "SELECT pg_notify('" PAT_CHANGES_CHANNEL "', $1::text)", 1,
                     NULL, values, NULL, NULL, 0);
    rc = result_ok(r) ? PAT_OK : map_err(st, r);
    PQclear(r);
    return rc;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Two statements, so that pg_stat_activity shows the listener as
 * application_name patd-listener with the query "LISTEN ..." (operators
 * and the tests find it either way).
 */
static int
pg_listen_start(struct pat_store *st, const char *channel)
{
    struct conn *c = conn_of(st);
    char *id = PQescapeIdentifier(c->pg, channel, strlen(channel));
    int n, rc;

    if (id == NULL)
        return map_err(st, NULL);
    n = snprintf(c->listen_sql, sizeof(c->listen_sql), "LISTEN %s", id);
    PQfreemem(id);
    if (n < 0 || (size_t)n >= sizeof(c->listen_sql))
        return pat__fail(st, PAT_EINVAL, "channel name too long");
    rc = simple(st, "SET application_name = 'patd-listener'", false, NULL);
    if (rc == PAT_OK)
        rc = simple(st, c->listen_sql, false, NULL);
    c->hb_sent = 0;
    c->hb_back = mono_ms();
    return rc;
}

/* Hands out one notification that libpq has read already, if any. */
static int
take_notify(struct conn *c, char *payload, size_t cap)
{
    PGnotify *n = PQnotifies(c->pg);
    size_t len;

    if (n == NULL)
        return PAT_ENOTFOUND;
    len = strlen(n->extra);
    if (len >= cap)
        len = cap - 1;
    memcpy(payload, n->extra, len);
    payload[len] = '\0';
    PQfreemem(n);
    return PAT_OK;
}

/* Reads the heartbeat's answer if it is complete; false on an error. */
static bool
heartbeat_read(struct conn *c)
{
    while (c->hb_sent != 0 && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        bool ok;

        if (r == NULL) {
            c->hb_sent = 0;
            c->hb_back = mono_ms();
            break;
        }
        ok = result_ok(r);
        PQclear(r);
        if (!ok)
            return false;
    }
    return true;
}

static int
listener_lost(struct pat_store *st, const char *why)
{
    return pat__fail(st, PAT_EUNAVAIL, "postgres: listener: %s", why);
}

static int
pg_listen_wait(struct pat_store *st, int timeout_ms, char *payload, size_t cap)
{
    struct conn *c = conn_of(st);
    struct pollfd pfd;
    int64_t now = mono_ms();
    int n;

    if (take_notify(c, payload, cap) == PAT_OK)
        return PAT_OK;
    if (lost(c))
        return listener_lost(st, "connection lost");
    if (c->hb_sent == 0 && now - c->hb_back >= HEARTBEAT_MS) {
        if (!PQsendQuery(c->pg, c->listen_sql))
            return listener_lost(st, "cannot send the heartbeat");
        c->hb_sent = now;
    } else if (c->hb_sent != 0 && now - c->hb_sent >= HEARTBEAT_MS) {
        return listener_lost(st, "no answer to the heartbeat");
    }
    pfd.fd = PQsocket(c->pg);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd < 0)
        return listener_lost(st, "no socket");
    n = poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno != EINTR)
        return listener_lost(st, "poll failed");
    if (n > 0) {
        if (!PQconsumeInput(c->pg) || lost(c))
            return listener_lost(st, "connection lost");
        if (!heartbeat_read(c))
            return listener_lost(st, "the heartbeat failed");
    }
    return take_notify(c, payload, cap);
}
const struct pat_driver pat__postgres_driver = {
    .name = "postgres",
    .dialect = PAT_DIALECT_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_null = pg_col_null,
    .changes = pg_changes,
    .done = pg_done,
    .notify = pg_notify,
    .listen_start = pg_listen_start,
    .listen_wait = pg_listen_wait,
};
