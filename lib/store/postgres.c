/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL backend (scale-out: many patd nodes share one database).
 * Same schema, same migrations and the same semantics as sqlite.c, op by
 * op. One libpq connection per handle; statements are prepared once per
 * connection, on first use, and every value is a bound parameter (hashes
 * travel as binary BYTEA, everything else as text).
 *
 * Transactions: the SQLite backend gets a database-wide write lock from
 * BEGIN IMMEDIATE, and the library's read-check-write sequences (the
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
 * Scale-out: a change that can make a token less valid calls notify
 * inside its transaction (pg_notify on PAT_CHANGES_CHANNEL, delivered at
 * commit and only then). A listener handle (listen_start, listen_wait)
 * is one connection that does nothing but LISTEN, named patd-listener in
 * pg_stat_activity; it sends its LISTEN again as a heartbeat when it has
 * been quiet, so that a connection that died without a word is noticed.
 */
#include <errno.h>
#include <poll.h>
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

#define USER_COLS                                                              \
    "seq, id, username, display_name, email, role, scopes, disabled, "         \
    "(password_hash IS NOT NULL)::int, created_at, updated_at, deleted_at"
#define TOKEN_COLS                                                             \
    "t.seq, t.id, t.user_id, t.name, t.description, t.scopes, t.audiences, "   \
    "t.allowed_cidrs, t.hint, t.created_at, t.expires_at, t.revoked_at, "      \
    "t.revoked_reason, t.last_used_at, t.last_used_ip, t.recent_ips"
#define AUDIT_COLS                                                             \
    "seq, at, actor_user_id, actor_token_id, ip, user_agent, action, "         \
    "target_user_id, target_token_id, detail"

/*
 * Parameters are cast where they are used: PostgreSQL infers a
 * parameter's type from its context, and "$2 & 1" or "$1 IS NULL" give it
 * none. A scope matches a whole item of the space-separated list.
 */
/* $2 status mask, $3 now, $4 scope, $5..$7 bounds, $8 cursor, $9 limit. */
#define TOKEN_FILTER                                                           \
    " AND ((($2::int & 1) <> 0 AND t.revoked_at IS NULL AND"                   \
    "       (t.expires_at IS NULL OR t.expires_at > $3::bigint))"              \
    "   OR (($2::int & 2) <> 0 AND t.revoked_at IS NULL"                       \
    "       AND t.expires_at <= $3::bigint)"                                   \
    "   OR (($2::int & 4) <> 0 AND t.revoked_at IS NOT NULL))"                 \
    " AND ($4::text IS NULL"                                                   \
    "  OR position(' ' || $4::text || ' ' in ' ' || t.scopes || ' ') > 0)"     \
    " AND ($5::bigint = 0 OR t.expires_at < $5::bigint)"                       \
    " AND ($6::bigint = 0 OR t.last_used_at IS NULL"                           \
    "  OR t.last_used_at < $6::bigint)"                                        \
    " AND ($7::bigint = 0 OR t.created_at < $7::bigint)"                       \
    " AND t.seq > $8::bigint ORDER BY t.seq LIMIT $9::bigint"

/* $1 user, $2 scope, $3 created before; live tokens only. */
#define BULK_FILTER                                                            \
    " AND ($1::text IS NULL OR user_id = $1::text)"                            \
    " AND ($2::text IS NULL"                                                   \
    "  OR position(' ' || $2::text || ' ' in ' ' || scopes || ' ') > 0)"       \
    " AND ($3::bigint = 0 OR created_at < $3::bigint)"

/* " s " occurs in " a s b " exactly when s is an item of "a s b". */
#define HAS_SCOPE_1                                                            \
    "position(' ' || $1::text || ' ' in ' ' || scopes || ' ') > 0"

enum stmt {
    S_SCHEMA_VERSION,
    S_SCHEMA_RECORD,
    S_SETTING_GET,
    S_SETTING_PUT,
    S_USER_INSERT,
    S_USER_UPDATE,
    S_USER_BY_ID,
    S_USER_BY_NAME,
    S_USER_LIST,
    S_SCOPE_PUT,
    S_SCOPE_GET,
    S_SCOPE_LIST,
    S_POLICY_GET,
    S_POLICY_PUT,
    S_TOKEN_INSERT,
    S_TOKEN_UPDATE,
    S_TOKEN_GET,
    S_TOKEN_LIST_ALL,
    S_TOKEN_LIST_USER,
    S_TOKEN_COUNT_LIVE,
    S_TOKEN_REVOKE_USER,
    S_SECRET_INSERT,
    S_SECRET_RETIRE,
    S_VERIFY,
    S_AUDIT_INSERT,
    S_AUDIT_LIST,
    S_USER_PW_GET,
    S_USER_PW_SET,
    S_SCOPE_DELETE,
    S_SCOPE_IN_USE,
    S_SCOPE_STRIP,
    S_TOKEN_REVOKE_WHERE,
    S_TOKEN_COUNT_WHERE,
    S_SESSION_INSERT,
    S_SESSION_GET,
    S_SESSION_DELETE,
    S_SESSION_DELETE_USER,
    S_TOKEN_USAGE,
    S_USER_DUMP,
    S_USER_RESTORE,
    S_TOKEN_RESTORE,
    S_SECRET_DUMP,
    S_SECRET_RESTORE,
    S_NOTIFY,
    S_COUNT
};

/*
 * A statement and whether it only reads: only those may be sent again
 * after the connection was lost, because a write that got no answer may
 * or may not have happened.
 */
struct stmt_def {
    const char *sql;
    bool read;
};

static const struct stmt_def defs[S_COUNT] = {
    [S_SCHEMA_VERSION] = {"SELECT coalesce(max(version), 0)"
                          " FROM schema_migrations",
                          true},
    [S_SCHEMA_RECORD] = {"INSERT INTO schema_migrations"
                         " VALUES ($1::int, $2::text, $3::bigint)",
                         false},
    [S_SETTING_GET] = {"SELECT value FROM settings WHERE key = $1::text", true},
    [S_SETTING_PUT] = {"INSERT INTO settings VALUES ($1::text, $2::text)"
                       " ON CONFLICT (key) DO UPDATE"
                       " SET value = excluded.value",
                       false},
    [S_USER_INSERT] = {"INSERT INTO users (id, username, display_name,"
                       " email, role, scopes, disabled, created_at,"
                       " updated_at) VALUES ($1::text, $2::text, $3::text,"
                       " $4::text, $5::text, $6::text, $7::int, $8::bigint,"
                       " $9::bigint)",
                       false},
    [S_USER_UPDATE] = {"UPDATE users SET display_name = $2::text,"
                       " email = $3::text, role = $4::text,"
                       " scopes = $5::text, disabled = $6::int,"
                       " updated_at = $7::bigint, deleted_at = $8::bigint,"
                       " username = CASE WHEN $8::bigint IS NULL"
                       " THEN username ELSE id END WHERE id = $1::text",
                       false},
    [S_USER_BY_ID] = {"SELECT " USER_COLS " FROM users WHERE id = $1::text",
                      true},
    [S_USER_BY_NAME] = {"SELECT " USER_COLS
                        " FROM users WHERE username = $1::text",
                        true},
    [S_USER_LIST] = {"SELECT " USER_COLS " FROM users WHERE seq > $1::bigint"
                     " AND deleted_at IS NULL AND ($3::text IS NULL"
                     "  OR position(lower($3::text) in username) > 0"
                     "  OR position(lower($3::text) in lower(display_name))"
                     "   > 0"
                     "  OR position(lower($3::text) in lower(email)) > 0)"
                     " ORDER BY seq LIMIT $2::bigint",
                     true},
    [S_SCOPE_PUT] = {"INSERT INTO scopes VALUES ($1::text, $2::text, $3::int)"
                     " ON CONFLICT (name) DO UPDATE"
                     " SET description = excluded.description",
                     false},
    [S_SCOPE_GET] = {"SELECT name, description, builtin FROM scopes"
                     " WHERE name = $1::text",
                     true},
    /* Byte order, as SQLite sorts, whatever the database's collation. */
    [S_SCOPE_LIST] = {"SELECT name, description, builtin FROM scopes"
                      " ORDER BY name COLLATE \"C\" LIMIT $1::bigint",
                      true},
    [S_POLICY_GET] = {"SELECT max_lifetime_days, allow_no_expiry,"
                      " default_lifetime_days, max_tokens_per_user,"
                      " revoke_on_reuse FROM policy WHERE id = 1",
                      true},
    [S_POLICY_PUT] = {"INSERT INTO policy VALUES (1, $1::int, $2::int,"
                      " $3::int, $4::int, $5::int)"
                      " ON CONFLICT (id) DO UPDATE SET"
                      " max_lifetime_days = excluded.max_lifetime_days,"
                      " allow_no_expiry = excluded.allow_no_expiry,"
                      " default_lifetime_days ="
                      " excluded.default_lifetime_days,"
                      " max_tokens_per_user = excluded.max_tokens_per_user,"
                      " revoke_on_reuse = excluded.revoke_on_reuse",
                      false},
    [S_TOKEN_INSERT] = {"INSERT INTO tokens (id, user_id, name, description,"
                        " scopes, audiences, allowed_cidrs, hint, created_at,"
                        " expires_at) VALUES ($1::text, $2::text, $3::text,"
                        " $4::text, $5::text, $6::text, $7::text, $8::text,"
                        " $9::bigint, $10::bigint)",
                        false},
    [S_TOKEN_UPDATE] = {"UPDATE tokens SET name = $2::text,"
                        " description = $3::text, hint = $4::text,"
                        " expires_at = $5::bigint, revoked_at = $6::bigint,"
                        " revoked_reason = $7::text WHERE id = $1::text",
                        false},
    [S_TOKEN_GET] = {"SELECT " TOKEN_COLS " FROM tokens t"
                     " WHERE t.id = $1::text",
                     true},
    [S_TOKEN_LIST_ALL] = {"SELECT " TOKEN_COLS " FROM tokens t"
                          " WHERE $1::text IS NULL" TOKEN_FILTER,
                          true},
    [S_TOKEN_LIST_USER] = {"SELECT " TOKEN_COLS " FROM tokens t"
                           " WHERE t.user_id = $1::text" TOKEN_FILTER,
                           true},
    [S_TOKEN_COUNT_LIVE] = {"SELECT count(*) FROM tokens"
                            " WHERE user_id = $1::text"
                            " AND revoked_at IS NULL AND (expires_at IS NULL"
                            "  OR expires_at > $2::bigint)",
                            true},
    [S_TOKEN_REVOKE_USER] = {"UPDATE tokens SET revoked_at = $2::bigint,"
                             " revoked_reason = $3::text"
                             " WHERE user_id = $1::text"
                             " AND revoked_at IS NULL",
                             false},
    [S_SECRET_INSERT] = {"INSERT INTO secrets"
                         " VALUES ($1::bytea, $2::text, $3::bigint, NULL)",
                         false},
    [S_SECRET_RETIRE] = {"UPDATE secrets SET retire_at = $2::bigint"
                         " WHERE token_id = $1::text"
                         " AND (retire_at IS NULL OR retire_at > $2::bigint)",
                         false},
    [S_VERIFY] = {"SELECT " TOKEN_COLS ", s.retire_at,"
                  " u.seq, u.id, u.username, u.display_name, u.email,"
                  " u.role, u.scopes, u.disabled,"
                  " (u.password_hash IS NOT NULL)::int,"
                  " u.created_at, u.updated_at, u.deleted_at"
                  " FROM secrets s JOIN tokens t ON t.id = s.token_id"
                  " JOIN users u ON u.id = t.user_id"
                  " WHERE s.hash = $1::bytea",
                  true},
    [S_AUDIT_INSERT] = {"INSERT INTO audit (at, actor_user_id,"
                        " actor_token_id, ip, user_agent, action,"
                        " target_user_id, target_token_id, detail)"
                        " VALUES ($1::bigint, $2::text, $3::text, $4::text,"
                        " $5::text, $6::text, $7::text, $8::text, $9::text)",
                        false},
    [S_AUDIT_LIST] = {"SELECT " AUDIT_COLS " FROM audit WHERE"
                      " ($1::text IS NULL OR actor_user_id = $1::text"
                      "  OR target_user_id = $1::text)"
                      " AND ($2::text IS NULL OR action = $2::text)"
                      " AND ($3::text IS NULL OR target_token_id = $3::text"
                      "  OR target_user_id = $3::text)"
                      " AND at >= $4::bigint AND seq > $5::bigint"
                      " AND ($7::text IS NULL OR actor_user_id = $7::text)"
                      " ORDER BY seq LIMIT $6::bigint",
                      true},
    [S_USER_PW_GET] = {"SELECT password_hash FROM users WHERE id = $1::text"
                       " AND password_hash IS NOT NULL",
                       true},
    [S_USER_PW_SET] = {"UPDATE users SET password_hash = $2::text,"
                       " updated_at = $3::bigint WHERE id = $1::text",
                       false},
    [S_SCOPE_DELETE] = {"DELETE FROM scopes WHERE name = $1::text"
                        " AND builtin = 0",
                        false},
    [S_SCOPE_IN_USE] = {"SELECT count(*) FROM tokens WHERE revoked_at IS NULL"
                        " AND (expires_at IS NULL OR expires_at > $2::bigint)"
                        " AND " HAS_SCOPE_1,
                        true},
    [S_SCOPE_STRIP] = {"UPDATE users SET scopes = btrim(replace(' ' || scopes"
                       " || ' ', ' ' || $1::text || ' ', ' '))"
                       " WHERE " HAS_SCOPE_1,
                       false},
    [S_TOKEN_REVOKE_WHERE] = {"UPDATE tokens SET revoked_at = $4::bigint,"
                              " revoked_reason = $5::text"
                              " WHERE revoked_at IS NULL" BULK_FILTER,
                              false},
    [S_TOKEN_COUNT_WHERE] = {"SELECT count(*) FROM tokens"
                             " WHERE revoked_at IS NULL" BULK_FILTER,
                             true},
    [S_SESSION_INSERT] = {"INSERT INTO sessions VALUES ($1::bytea, $2::text,"
                          " $3::text, $4::bigint, $5::bigint)",
                          false},
    [S_SESSION_GET] = {"SELECT user_id, csrf FROM sessions"
                       " WHERE hash = $1::bytea AND expires_at > $2::bigint",
                       true},
    [S_SESSION_DELETE] = {"DELETE FROM sessions WHERE hash = $1::bytea", false},
    [S_SESSION_DELETE_USER] = {"DELETE FROM sessions"
                               " WHERE user_id = $1::text",
                               false},
    [S_TOKEN_USAGE] = {"UPDATE tokens SET last_used_at = $2::bigint,"
                       " last_used_ip = $3::text, recent_ips = $4::text"
                       " WHERE id = $1::text",
                       false},
    [S_USER_DUMP] = {"SELECT " USER_COLS " FROM users WHERE seq > $1::bigint"
                     " ORDER BY seq LIMIT $2::bigint",
                     true},
    [S_USER_RESTORE] = {"INSERT INTO users (id, username, display_name,"
                        " email, role, scopes, disabled, password_hash,"
                        " created_at, updated_at, deleted_at)"
                        " VALUES ($1::text, $2::text, $3::text, $4::text,"
                        " $5::text, $6::text, $7::int, $8::text, $9::bigint,"
                        " $10::bigint, $11::bigint)",
                        false},
    [S_TOKEN_RESTORE] = {"INSERT INTO tokens (id, user_id, name, description,"
                         " scopes, audiences, allowed_cidrs, hint, created_at,"
                         " expires_at, revoked_at, revoked_reason,"
                         " last_used_at, last_used_ip, recent_ips)"
                         " VALUES ($1::text, $2::text, $3::text, $4::text,"
                         " $5::text, $6::text, $7::text, $8::text,"
                         " $9::bigint, $10::bigint, $11::bigint, $12::text,"
                         " $13::bigint, $14::text, $15::text)",
                         false},
    /* Hex through encode(): the same text whatever bytea_output says. */
    [S_SECRET_DUMP] = {"SELECT encode(hash, 'hex'), token_id, created_at,"
                       " retire_at FROM secrets"
                       " WHERE $1::bytea IS NULL OR hash > $1::bytea"
                       " ORDER BY hash LIMIT $2::bigint",
                       true},
    [S_SECRET_RESTORE] = {"INSERT INTO secrets VALUES ($1::bytea, $2::text,"
                          " $3::bigint, $4::bigint)",
                          false},
    [S_NOTIFY] = {"SELECT pg_notify('" PAT_CHANGES_CHANNEL "', $1::text)",
                  false},
};

/*
 * The connection. prepared[s] is true once statement s is prepared on
 * the current session; a reset starts a new session and clears them all.
 * in_tx is true from a successful begin until commit or rollback.
 */
struct conn {
    PGconn *pg;
    bool in_tx;
    bool prepared[S_COUNT];
    /*
     * A listener only (listen_start): its LISTEN command, when the last
     * heartbeat was sent (0: none in flight) and when one last came back,
     * in monotonic milliseconds.
     */
    char listen_sql[96];
    int64_t hb_sent;
    int64_t hb_back;
};

/* The most parameters any statement takes (token_restore: 15). */
#define MAX_PARAMS 16

/*
 * A listener that has heard nothing for this long sends a heartbeat, and
 * gives the connection up when the answer takes as long again.
 */
#define HEARTBEAT_MS 5000

/*
 * The parameters of one statement. Numbers are written into num, so the
 * struct must stay where it is until the statement has run.
 */
struct params {
    int n;
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    char num[MAX_PARAMS][24];
};

static struct conn *
conn_of(struct pat_store *st)
{
    return st->conn;
}

static void
p_raw(struct params *p, const char *v, int len, int format)
{
    /* The statements above are fixed; only a coding error gets here. */
    if (p->n >= MAX_PARAMS)
        return;
    p->values[p->n] = v;
    p->lengths[p->n] = len;
    p->formats[p->n] = format;
    p->n++;
}

static void
p_text(struct params *p, const char *v)
{
    p_raw(p, v, 0, 0);
}

/* Text, NULL for an empty string (optional columns). */
static void
p_opt(struct params *p, const char *v)
{
    p_text(p, v && v[0] ? v : NULL);
}

static void
p_int(struct params *p, int64_t v)
{
    if (p->n >= MAX_PARAMS)
        return;
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
    p_text(p, p->num[p->n]);
}

/* A time, NULL for 0 ("none"). */
static void
p_time(struct params *p, int64_t v)
{
    if (v == 0)
        p_text(p, NULL);
    else
        p_int(p, v);
}

/* A hash as a binary BYTEA parameter. */
static void
p_hash(struct params *p, const uint8_t *hash)
{
    p_raw(p, (const char *)hash, PAT_HASH_LEN, 1);
}

static void
col_text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    const char *v = PQgetvalue(r, row, col);
    size_t n = (size_t)PQgetlength(r, row, col);

    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

/* An integer column; NULL (no time) reads as 0. */
static int64_t
col_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
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

/* Prepares s on first use, then runs it. Returns libpq's result. */
static PGresult *
send_stmt(struct conn *c, enum stmt s, const struct params *p)
{
    char name[16];

    snprintf(name, sizeof(name), "patd_%d", (int)s);
    if (!c->prepared[s]) {
        PGresult *r = PQprepare(c->pg, name, defs[s].sql, 0, NULL);

        if (!result_ok(r))
            return r;
        PQclear(r);
        c->prepared[s] = true;
    }
    return PQexecPrepared(c->pg, name, p->n, p->values, p->lengths, p->formats,
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
texts_valid(const struct params *p)
{
    int i;

    for (i = 0; i < p->n; i++) {
        if (p->formats[i] == 0 && p->values[i] != NULL &&
            !utf8_valid(p->values[i]))
            return false;
    }
    return true;
}

/*
 * Runs statement s with p. On success returns the result (the caller
 * clears it) and sets *rc to PAT_OK; on failure returns NULL with *rc
 * mapped. A read outside a transaction that lost its connection is sent
 * once more on a fresh one.
 *
 * Text that is not UTF-8 (a search string or an id from a request)
 * cannot equal or occur in any stored text, so a read with it finds
 * nothing, as on SQLite, instead of failing on the server and aborting
 * the transaction around it. Writing such text is refused.
 */
static PGresult *
query(struct pat_store *st, enum stmt s, const struct params *p, int *rc)
{
    struct conn *c = conn_of(st);
    PGresult *r;

    if (!texts_valid(p)) {
        if (!defs[s].read) {
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
    r = send_stmt(c, s, p);
    if (!result_ok(r) && lost(c) && defs[s].read && !c->in_tx) {
        PQclear(r);
        r = NULL;
        *rc = reconnect(st);
        if (*rc != PAT_OK)
            return NULL;
        r = send_stmt(c, s, p);
    }
    if (result_ok(r))
        return r;
    *rc = map_err(st, r);
    PQclear(r);
    return NULL;
}

/* Runs s; *changed (if not NULL) receives the number of rows it wrote. */
static int
run(struct pat_store *st, enum stmt s, const struct params *p, int64_t *changed)
{
    int rc;
    PGresult *r = query(st, s, p, &rc);

    if (r == NULL)
        return rc;
    if (changed != NULL)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return PAT_OK;
}

/*
 * Runs s for one row: PAT_OK with *out (the caller clears it),
 * PAT_ENOTFOUND without a row, or an error; *out is NULL unless PAT_OK.
 */
static int
one_row(struct pat_store *st, enum stmt s, const struct params *p,
        PGresult **out)
{
    int rc;
    PGresult *r = query(st, s, p, &rc);

    *out = NULL;
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return PAT_ENOTFOUND;
    }
    *out = r;
    return PAT_OK;
}

/*
 * Runs a statement whose one row holds a count in its first column (no
 * row at all: nothing can match, see query).
 */
static int
count(struct pat_store *st, enum stmt s, const struct params *p, int64_t *n)
{
    PGresult *r;
    int rc = one_row(st, s, p, &r);

    *n = 0;
    if (rc == PAT_OK)
        *n = col_int(r, 0, 0);
    PQclear(r);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

/* Runs a statement with one text parameter and no result rows. */
static int
run_text(struct pat_store *st, enum stmt s, const char *v)
{
    struct params p = {0};

    p_text(&p, v);
    return run(st, s, &p, NULL);
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

    if (c == NULL)
        return;
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
pg_schema_version(struct pat_store *st, int *version)
{
    struct params p = {0};
    PGresult *r;
    int rc = simple(st,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at BIGINT NOT NULL)",
                    false, NULL);

    if (rc != PAT_OK)
        return rc;
    rc = one_row(st, S_SCHEMA_VERSION, &p, &r);
    if (rc == PAT_OK)
        *version = (int)col_int(r, 0, 0);
    PQclear(r);
    return rc;
}

static int
pg_schema_record(struct pat_store *st, int version, const char *name,
                 int64_t at)
{
    struct params p = {0};

    p_int(&p, version);
    p_text(&p, name);
    p_int(&p, at);
    return run(st, S_SCHEMA_RECORD, &p, NULL);
}

static int
pg_setting_get(struct pat_store *st, const char *key, char *buf, size_t cap)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_text(&p, key);
    rc = one_row(st, S_SETTING_GET, &p, &r);
    if (rc == PAT_OK)
        col_text(r, 0, 0, buf, cap);
    PQclear(r);
    return rc;
}

static int
pg_setting_put(struct pat_store *st, const char *key, const char *value)
{
    struct params p = {0};

    p_text(&p, key);
    p_text(&p, value);
    return run(st, S_SETTING_PUT, &p, NULL);
}

static const char *
role_name(int role)
{
    return role == PAT_ROLE_ADMIN ? "admin" : "user";
}

/* Reads USER_COLS of row starting at column i. */
static void
read_user(const PGresult *r, int row, int i, struct pat_user *u)
{
    char role[8];

    memset(u, 0, sizeof(*u));
    u->seq = col_int(r, row, i);
    col_text(r, row, i + 1, u->id, sizeof(u->id));
    col_text(r, row, i + 2, u->username, sizeof(u->username));
    col_text(r, row, i + 3, u->display_name, sizeof(u->display_name));
    col_text(r, row, i + 4, u->email, sizeof(u->email));
    col_text(r, row, i + 5, role, sizeof(role));
    u->role = strcmp(role, "admin") == 0 ? PAT_ROLE_ADMIN : PAT_ROLE_USER;
    col_text(r, row, i + 6, u->scopes, sizeof(u->scopes));
    u->disabled = col_int(r, row, i + 7) != 0;
    u->has_password = col_int(r, row, i + 8) != 0;
    u->created_at = col_int(r, row, i + 9);
    u->updated_at = col_int(r, row, i + 10);
    u->deleted_at = col_int(r, row, i + 11);
}

static int
pg_user_insert(struct pat_store *st, const struct pat_user *u)
{
    struct params p = {0};

    p_text(&p, u->id);
    p_text(&p, u->username);
    p_text(&p, u->display_name);
    p_text(&p, u->email);
    p_text(&p, role_name(u->role));
    p_text(&p, u->scopes);
    p_int(&p, u->disabled);
    p_int(&p, u->created_at);
    p_int(&p, u->updated_at);
    return run(st, S_USER_INSERT, &p, NULL);
}

static int
pg_user_update(struct pat_store *st, const struct pat_user *u)
{
    struct params p = {0};
    int64_t changed = 0;
    int rc;

    p_text(&p, u->id);
    p_text(&p, u->display_name);
    p_text(&p, u->email);
    p_text(&p, role_name(u->role));
    p_text(&p, u->scopes);
    p_int(&p, u->disabled);
    p_int(&p, u->updated_at);
    p_time(&p, u->deleted_at);
    rc = run(st, S_USER_UPDATE, &p, &changed);
    if (rc == PAT_OK && changed == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

static int
pg_user_get(struct pat_store *st, const char *key, struct pat_user *out)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_text(&p, key);
    rc = one_row(st,
                 strncmp(key, "usr_", 4) == 0 ? S_USER_BY_ID : S_USER_BY_NAME,
                 &p, &r);
    if (rc == PAT_OK)
        read_user(r, 0, 0, out);
    PQclear(r);
    return rc;
}

static int
pg_user_list(struct pat_store *st, int64_t after, const char *q,
             struct pat_user *out, size_t cap, size_t *n)
{
    struct params p = {0};
    PGresult *r;
    int rc, i;

    *n = 0;
    p_int(&p, after);
    p_int(&p, (int64_t)cap);
    p_opt(&p, q);
    r = query(st, S_USER_LIST, &p, &rc);
    if (r == NULL)
        return rc;
    for (i = 0; i < PQntuples(r) && *n < cap; i++)
        read_user(r, i, 0, &out[(*n)++]);
    PQclear(r);
    return PAT_OK;
}

static int
pg_scope_put(struct pat_store *st, const struct pat_scope *sc)
{
    struct params p = {0};

    p_text(&p, sc->name);
    p_text(&p, sc->description);
    p_int(&p, sc->builtin);
    return run(st, S_SCOPE_PUT, &p, NULL);
}

static void
read_scope(const PGresult *r, int row, struct pat_scope *out)
{
    col_text(r, row, 0, out->name, sizeof(out->name));
    col_text(r, row, 1, out->description, sizeof(out->description));
    out->builtin = col_int(r, row, 2) != 0;
}

static int
pg_scope_get(struct pat_store *st, const char *name, struct pat_scope *out)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_text(&p, name);
    rc = one_row(st, S_SCOPE_GET, &p, &r);
    if (rc == PAT_OK)
        read_scope(r, 0, out);
    PQclear(r);
    return rc;
}

static int
pg_scope_list(struct pat_store *st, struct pat_scope *out, size_t cap,
              size_t *n)
{
    struct params p = {0};
    PGresult *r;
    int rc, i;

    *n = 0;
    p_int(&p, (int64_t)cap);
    r = query(st, S_SCOPE_LIST, &p, &rc);
    if (r == NULL)
        return rc;
    for (i = 0; i < PQntuples(r) && *n < cap; i++)
        read_scope(r, i, &out[(*n)++]);
    PQclear(r);
    return PAT_OK;
}

static int
pg_policy_get(struct pat_store *st, struct pat_policy *pol)
{
    struct params p = {0};
    PGresult *r;
    int rc = one_row(st, S_POLICY_GET, &p, &r);

    if (rc == PAT_OK) {
        pol->max_lifetime_days = (int)col_int(r, 0, 0);
        pol->allow_no_expiry = col_int(r, 0, 1) != 0;
        pol->default_lifetime_days = (int)col_int(r, 0, 2);
        pol->max_tokens_per_user = (int)col_int(r, 0, 3);
        pol->revoke_on_reuse = col_int(r, 0, 4) != 0;
    }
    PQclear(r);
    return rc;
}

static int
pg_policy_put(struct pat_store *st, const struct pat_policy *pol)
{
    struct params p = {0};

    p_int(&p, pol->max_lifetime_days);
    p_int(&p, pol->allow_no_expiry);
    p_int(&p, pol->default_lifetime_days);
    p_int(&p, pol->max_tokens_per_user);
    p_int(&p, pol->revoke_on_reuse);
    return run(st, S_POLICY_PUT, &p, NULL);
}

/* Reads TOKEN_COLS of row starting at column 0. */
static void
read_token(const PGresult *r, int row, struct pat_token *t)
{
    memset(t, 0, sizeof(*t));
    t->seq = col_int(r, row, 0);
    col_text(r, row, 1, t->id, sizeof(t->id));
    col_text(r, row, 2, t->user_id, sizeof(t->user_id));
    col_text(r, row, 3, t->name, sizeof(t->name));
    col_text(r, row, 4, t->description, sizeof(t->description));
    col_text(r, row, 5, t->scopes, sizeof(t->scopes));
    col_text(r, row, 6, t->audiences, sizeof(t->audiences));
    col_text(r, row, 7, t->allowed_cidrs, sizeof(t->allowed_cidrs));
    col_text(r, row, 8, t->hint, sizeof(t->hint));
    t->created_at = col_int(r, row, 9);
    t->expires_at = col_int(r, row, 10);
    t->revoked_at = col_int(r, row, 11);
    col_text(r, row, 12, t->revoked_reason, sizeof(t->revoked_reason));
    t->last_used_at = col_int(r, row, 13);
    col_text(r, row, 14, t->last_used_ip, sizeof(t->last_used_ip));
    col_text(r, row, 15, t->recent_ips, sizeof(t->recent_ips));
}

#define TOKEN_NCOLS 16

static int
pg_token_insert(struct pat_store *st, const struct pat_token *t)
{
    struct params p = {0};

    p_text(&p, t->id);
    p_text(&p, t->user_id);
    p_text(&p, t->name);
    p_text(&p, t->description);
    p_text(&p, t->scopes);
    p_text(&p, t->audiences);
    p_text(&p, t->allowed_cidrs);
    p_text(&p, t->hint);
    p_int(&p, t->created_at);
    p_time(&p, t->expires_at);
    return run(st, S_TOKEN_INSERT, &p, NULL);
}

static int
pg_token_update(struct pat_store *st, const struct pat_token *t)
{
    struct params p = {0};
    int64_t changed = 0;
    int rc;

    p_text(&p, t->id);
    p_text(&p, t->name);
    p_text(&p, t->description);
    p_text(&p, t->hint);
    p_time(&p, t->expires_at);
    p_time(&p, t->revoked_at);
    p_opt(&p, t->revoked_reason);
    rc = run(st, S_TOKEN_UPDATE, &p, &changed);
    if (rc == PAT_OK && changed == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

static int
pg_token_get(struct pat_store *st, const char *id, struct pat_token *out)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_text(&p, id);
    rc = one_row(st, S_TOKEN_GET, &p, &r);
    if (rc == PAT_OK)
        read_token(r, 0, out);
    PQclear(r);
    return rc;
}

static int
pg_token_list(struct pat_store *st, const struct pat_token_filter *f,
              int64_t now, struct pat_token *out, size_t cap, size_t *n)
{
    struct params p = {0};
    PGresult *r;
    int rc, i;

    *n = 0;
    p_text(&p, f->user_id);
    p_int(&p, f->status ? f->status : PAT_STATUS_ALL);
    p_int(&p, now);
    p_opt(&p, f->scope);
    p_int(&p, f->expires_before);
    p_int(&p, f->last_used_before);
    p_int(&p, f->created_before);
    p_int(&p, f->after);
    p_int(&p, (int64_t)cap);
    r = query(st, f->user_id ? S_TOKEN_LIST_USER : S_TOKEN_LIST_ALL, &p, &rc);
    if (r == NULL)
        return rc;
    for (i = 0; i < PQntuples(r) && *n < cap; i++)
        read_token(r, i, &out[(*n)++]);
    PQclear(r);
    return PAT_OK;
}

static int
pg_token_count_live(struct pat_store *st, const char *user_id, int64_t now,
                    int64_t *n)
{
    struct params p = {0};

    p_text(&p, user_id);
    p_int(&p, now);
    return count(st, S_TOKEN_COUNT_LIVE, &p, n);
}

static int
pg_token_revoke_user(struct pat_store *st, const char *user_id, int64_t at,
                     const char *reason, int64_t *n)
{
    struct params p = {0};

    p_text(&p, user_id);
    p_int(&p, at);
    p_text(&p, reason);
    return run(st, S_TOKEN_REVOKE_USER, &p, n);
}

static int
pg_token_revoke_where(struct pat_store *st, const struct pat_bulk_filter *f,
                      int64_t at, const char *reason, bool dry_run, int64_t *n)
{
    struct params p = {0};

    p_opt(&p, f->user_id);
    p_opt(&p, f->scope);
    p_int(&p, f->created_before);
    if (dry_run)
        return count(st, S_TOKEN_COUNT_WHERE, &p, n);
    p_int(&p, at);
    p_text(&p, reason);
    return run(st, S_TOKEN_REVOKE_WHERE, &p, n);
}

static int
pg_token_usage_put(struct pat_store *st, const char *id, int64_t last_used_at,
                   const char *last_used_ip, const char *recent_ips)
{
    struct params p = {0};

    p_text(&p, id);
    p_time(&p, last_used_at);
    p_opt(&p, last_used_ip);
    p_text(&p, recent_ips);
    return run(st, S_TOKEN_USAGE, &p, NULL);
}

static int
pg_secret_insert(struct pat_store *st, const uint8_t *hash,
                 const char *token_id, int64_t at)
{
    struct params p = {0};

    p_hash(&p, hash);
    p_text(&p, token_id);
    p_int(&p, at);
    return run(st, S_SECRET_INSERT, &p, NULL);
}

static int
pg_secret_retire(struct pat_store *st, const char *token_id, int64_t retire_at)
{
    struct params p = {0};

    p_text(&p, token_id);
    p_int(&p, retire_at);
    return run(st, S_SECRET_RETIRE, &p, NULL);
}

static int
pg_verify_lookup(struct pat_store *st, const uint8_t *hash, struct pat_token *t,
                 int64_t *retire_at, struct pat_user *u)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_hash(&p, hash);
    rc = one_row(st, S_VERIFY, &p, &r);
    if (rc == PAT_OK) {
        read_token(r, 0, t);
        *retire_at = col_int(r, 0, TOKEN_NCOLS);
        read_user(r, 0, TOKEN_NCOLS + 1, u);
    }
    PQclear(r);
    return rc;
}

static int
pg_audit_insert(struct pat_store *st, const struct pat_audit *ev)
{
    struct params p = {0};

    p_int(&p, ev->at);
    p_opt(&p, ev->actor_user_id);
    p_opt(&p, ev->actor_token_id);
    p_opt(&p, ev->ip);
    p_opt(&p, ev->user_agent);
    p_text(&p, ev->action);
    p_opt(&p, ev->target_user_id);
    p_opt(&p, ev->target_token_id);
    p_text(&p, ev->detail[0] ? ev->detail : "{}");
    return run(st, S_AUDIT_INSERT, &p, NULL);
}

static void
read_audit(const PGresult *r, int row, struct pat_audit *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->seq = col_int(r, row, 0);
    ev->at = col_int(r, row, 1);
    col_text(r, row, 2, ev->actor_user_id, sizeof(ev->actor_user_id));
    col_text(r, row, 3, ev->actor_token_id, sizeof(ev->actor_token_id));
    col_text(r, row, 4, ev->ip, sizeof(ev->ip));
    col_text(r, row, 5, ev->user_agent, sizeof(ev->user_agent));
    col_text(r, row, 6, ev->action, sizeof(ev->action));
    col_text(r, row, 7, ev->target_user_id, sizeof(ev->target_user_id));
    col_text(r, row, 8, ev->target_token_id, sizeof(ev->target_token_id));
    col_text(r, row, 9, ev->detail, sizeof(ev->detail));
}

static int
pg_audit_list(struct pat_store *st, const struct pat_audit_filter *f,
              struct pat_audit *out, size_t cap, size_t *n)
{
    struct params p = {0};
    PGresult *r;
    int rc, i;

    *n = 0;
    p_opt(&p, f->user_id);
    p_opt(&p, f->action);
    p_opt(&p, f->target);
    p_int(&p, f->since);
    p_int(&p, f->after);
    p_int(&p, (int64_t)cap);
    p_opt(&p, f->actor);
    r = query(st, S_AUDIT_LIST, &p, &rc);
    if (r == NULL)
        return rc;
    for (i = 0; i < PQntuples(r) && *n < cap; i++)
        read_audit(r, i, &out[(*n)++]);
    PQclear(r);
    return PAT_OK;
}

static int
pg_user_password_get(struct pat_store *st, const char *user_id, char *buf,
                     size_t cap)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_text(&p, user_id);
    rc = one_row(st, S_USER_PW_GET, &p, &r);
    if (rc == PAT_OK)
        col_text(r, 0, 0, buf, cap);
    PQclear(r);
    return rc;
}

static int
pg_user_password_set(struct pat_store *st, const char *user_id,
                     const char *hash)
{
    struct params p = {0};

    p_text(&p, user_id);
    p_text(&p, hash);
    p_int(&p, pat_store_now(st));
    return run(st, S_USER_PW_SET, &p, NULL);
}

static int
pg_scope_delete(struct pat_store *st, const char *name)
{
    return run_text(st, S_SCOPE_DELETE, name);
}

static int
pg_scope_strip_users(struct pat_store *st, const char *name)
{
    return run_text(st, S_SCOPE_STRIP, name);
}

static int
pg_scope_in_use(struct pat_store *st, const char *name, int64_t now, int64_t *n)
{
    struct params p = {0};

    p_text(&p, name);
    p_int(&p, now);
    return count(st, S_SCOPE_IN_USE, &p, n);
}

static int
pg_session_insert(struct pat_store *st, const uint8_t *hash,
                  const char *user_id, const char *csrf, int64_t created_at,
                  int64_t expires_at)
{
    struct params p = {0};

    p_hash(&p, hash);
    p_text(&p, user_id);
    p_text(&p, csrf);
    p_int(&p, created_at);
    p_int(&p, expires_at);
    return run(st, S_SESSION_INSERT, &p, NULL);
}

static int
pg_session_get(struct pat_store *st, const uint8_t *hash, int64_t now,
               char *user_id, size_t user_cap, char *csrf, size_t csrf_cap)
{
    struct params p = {0};
    PGresult *r;
    int rc;

    p_hash(&p, hash);
    p_int(&p, now);
    rc = one_row(st, S_SESSION_GET, &p, &r);
    if (rc == PAT_OK) {
        col_text(r, 0, 0, user_id, user_cap);
        col_text(r, 0, 1, csrf, csrf_cap);
    }
    PQclear(r);
    return rc;
}

static int
pg_session_delete(struct pat_store *st, const uint8_t *hash)
{
    struct params p = {0};

    p_hash(&p, hash);
    return run(st, S_SESSION_DELETE, &p, NULL);
}

static int
pg_session_delete_user(struct pat_store *st, const char *user_id)
{
    return run_text(st, S_SESSION_DELETE_USER, user_id);
}

static int
pg_user_dump(struct pat_store *st, int64_t after, struct pat_user *out,
             size_t cap, size_t *n)
{
    struct params p = {0};
    PGresult *r;
    int rc, i;

    *n = 0;
    p_int(&p, after);
    p_int(&p, (int64_t)cap);
    r = query(st, S_USER_DUMP, &p, &rc);
    if (r == NULL)
        return rc;
    for (i = 0; i < PQntuples(r) && *n < cap; i++)
        read_user(r, i, 0, &out[(*n)++]);
    PQclear(r);
    return PAT_OK;
}

static int
pg_user_restore(struct pat_store *st, const struct pat_user *u,
                const char *password_hash)
{
    struct params p = {0};

    p_text(&p, u->id);
    p_text(&p, u->username);
    p_text(&p, u->display_name);
    p_text(&p, u->email);
    p_text(&p, role_name(u->role));
    p_text(&p, u->scopes);
    p_int(&p, u->disabled);
    p_opt(&p, password_hash);
    p_int(&p, u->created_at);
    p_int(&p, u->updated_at);
    p_time(&p, u->deleted_at);
    return run(st, S_USER_RESTORE, &p, NULL);
}

static int
pg_token_restore(struct pat_store *st, const struct pat_token *t)
{
    struct params p = {0};

    p_text(&p, t->id);
    p_text(&p, t->user_id);
    p_text(&p, t->name);
    p_text(&p, t->description);
    p_text(&p, t->scopes);
    p_text(&p, t->audiences);
    p_text(&p, t->allowed_cidrs);
    p_text(&p, t->hint);
    p_int(&p, t->created_at);
    p_time(&p, t->expires_at);
    p_time(&p, t->revoked_at);
    p_opt(&p, t->revoked_reason);
    p_time(&p, t->last_used_at);
    p_opt(&p, t->last_used_ip);
    p_text(&p, t->recent_ips);
    return run(st, S_TOKEN_RESTORE, &p, NULL);
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

/* Reads a hash written by encode(hash, 'hex'); false if it is not one. */
static bool
col_hash(const PGresult *r, int row, int col, uint8_t out[PAT_HASH_LEN])
{
    const char *v = PQgetvalue(r, row, col);
    int i;

    if (PQgetlength(r, row, col) != 2 * PAT_HASH_LEN)
        return false;
    for (i = 0; i < PAT_HASH_LEN; i++) {
        int hi = hex_nibble(v[2 * i]), lo = hex_nibble(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static int
pg_secret_dump(struct pat_store *st, const uint8_t *after,
               struct pat_secret *out, size_t cap, size_t *n)
{
    struct params p = {0};
    PGresult *r;
    int rc = PAT_OK, i;

    *n = 0;
    if (after != NULL)
        p_hash(&p, after);
    else
        p_text(&p, NULL);
    p_int(&p, (int64_t)cap);
    r = query(st, S_SECRET_DUMP, &p, &rc);
    if (r == NULL)
        return rc;
    for (i = 0; i < PQntuples(r) && *n < cap; i++) {
        struct pat_secret *s = &out[(*n)++];

        if (!col_hash(r, i, 0, s->hash)) {
            rc = pat__fail(st, PAT_ESTORE,
                           "postgres: a secret's hash is not "
                           "32 bytes");
            break;
        }
        col_text(r, i, 1, s->token_id, sizeof(s->token_id));
        s->created_at = col_int(r, i, 2);
        s->retire_at = col_int(r, i, 3);
    }
    PQclear(r);
    return rc;
}

static int
pg_secret_restore(struct pat_store *st, const struct pat_secret *s)
{
    struct params p = {0};

    p_hash(&p, s->hash);
    p_text(&p, s->token_id);
    p_int(&p, s->created_at);
    p_time(&p, s->retire_at);
    return run(st, S_SECRET_RESTORE, &p, NULL);
}

static int
pg_notify(struct pat_store *st, const char *payload)
{
    return run_text(st, S_NOTIFY, payload);
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

const struct pat_store_ops pat__postgres_ops = {
    .name = "postgres",
    .dialect = PAT_DIALECT_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .schema_version = pg_schema_version,
    .schema_record = pg_schema_record,
    .setting_get = pg_setting_get,
    .setting_put = pg_setting_put,
    .user_insert = pg_user_insert,
    .user_update = pg_user_update,
    .user_get = pg_user_get,
    .user_list = pg_user_list,
    .scope_put = pg_scope_put,
    .scope_get = pg_scope_get,
    .scope_list = pg_scope_list,
    .policy_get = pg_policy_get,
    .policy_put = pg_policy_put,
    .token_insert = pg_token_insert,
    .token_update = pg_token_update,
    .token_get = pg_token_get,
    .token_list = pg_token_list,
    .token_count_live = pg_token_count_live,
    .token_revoke_user = pg_token_revoke_user,
    .secret_insert = pg_secret_insert,
    .secret_retire = pg_secret_retire,
    .verify_lookup = pg_verify_lookup,
    .audit_insert = pg_audit_insert,
    .audit_list = pg_audit_list,
    .user_password_get = pg_user_password_get,
    .user_password_set = pg_user_password_set,
    .scope_delete = pg_scope_delete,
    .scope_in_use = pg_scope_in_use,
    .scope_strip_users = pg_scope_strip_users,
    .token_revoke_where = pg_token_revoke_where,
    .session_insert = pg_session_insert,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .session_delete_user = pg_session_delete_user,
    .token_usage_put = pg_token_usage_put,
    .user_dump = pg_user_dump,
    .user_restore = pg_user_restore,
    .token_restore = pg_token_restore,
    .secret_dump = pg_secret_dump,
    .secret_restore = pg_secret_restore,
    .notify = pg_notify,
    .listen_start = pg_listen_start,
    .listen_wait = pg_listen_wait,
};
