/* SPDX-License-Identifier: MIT */
/*
 * The SQLite driver (the embedded default): the primitives of driver.h
 * on one connection per handle, in WAL mode with synchronous=FULL so that
 * an acknowledged commit survives a crash or power loss. Each statement
 * of the table is expanded and prepared once per connection, on first
 * use, and reused.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/driver.h"

/* A statement of the table on this connection. */
struct sq_stmt {
    sqlite3_stmt *s;
};

/* The connection and its statements (s NULL until first use). */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    struct sq_stmt stmts[Q_COUNT];
};

static struct conn *
conn_of(struct pat_store *st)
{
    return st->conn;
}

static struct sq_stmt *
sq(struct pat_stmt *s)
{
    return (struct sq_stmt *)(void *)s;
}

/* Maps a SQLite result code to pat_err, with the engine's message. */
static int
map_err(struct pat_store *st, int rc)
{
    struct conn *c = conn_of(st);
    const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);

    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return PAT_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return pat__fail(st, PAT_ECONFLICT, "sqlite: %s", msg);
        return pat__fail(st, PAT_ESTORE, "sqlite: %s", msg);
    case SQLITE_NOMEM:
        return PAT_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return pat__fail(st, PAT_EUNAVAIL, "sqlite: %s", msg);
    default:
        return pat__fail(st, PAT_ESTORE, "sqlite: %s", msg);
    }
}

static int
sq_exec(struct pat_store *st, const char *sql)
{
    char *msg = NULL;
    int r = sqlite3_exec(conn_of(st)->db, sql, NULL, NULL, &msg);
    int rc = PAT_OK;

    if (r != SQLITE_OK) {
        rc = map_err(st, r);
        if (msg != NULL)
            pat__seterr(st, "sqlite: %s", msg);
    }
    sqlite3_free(msg);
    return rc;
}

static int
sq_prepare_sql(struct pat_store *st, const char *sql, sqlite3_stmt **out)
{
    int r = sqlite3_prepare_v3(conn_of(st)->db, sql, -1,
                               SQLITE_PREPARE_PERSISTENT, out, NULL);

    return r == SQLITE_OK ? PAT_OK : map_err(st, r);
}

static void sq_close(struct pat_store *st);

/* Creates the file with mode 0600 when asked to and it is missing. */
static int
create_file(struct pat_store *st, const char *path, int flags)
{
    int fd;

    if (access(path, F_OK) == 0)
        return PAT_OK;
    if (!(flags & PAT_OPEN_CREATE))
        return pat__fail(st, PAT_ENOTFOUND,
                         "no database at '%s'; run 'patd init' first", path);
    /* Hashes are not secrets, but nobody else needs to read them. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return pat__fail(st, PAT_EUNAVAIL, "cannot create '%s'", path);
    close(fd);
    return PAT_OK;
}

static int
sq_open(struct pat_store *st, const char *path, int flags)
{
    struct conn *c;
    int r, rc;

    if (path[0] == '\0')
        return pat__fail(st, PAT_EINVAL, "empty database path");
    rc = create_file(st, path, flags);
    if (rc != PAT_OK)
        return rc;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return PAT_ENOMEM;
    st->conn = c;
    r = sqlite3_open_v2(path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_EXRESCODE,
                        NULL);
    if (r != SQLITE_OK) {
        rc = pat__fail(st, PAT_EUNAVAIL, "cannot open '%s': %s", path,
                       c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
        sq_close(st);
        return rc;
    }
    sqlite3_busy_timeout(c->db, 5000);
    rc = sq_exec(st, "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA mmap_size = 268435456;");
    if (rc == PAT_OK)
        rc = sq_prepare_sql(st, "BEGIN IMMEDIATE", &c->begin);
    if (rc == PAT_OK)
        rc = sq_prepare_sql(st, "COMMIT", &c->commit);
    if (rc == PAT_OK)
        rc = sq_prepare_sql(st, "ROLLBACK", &c->rollback);
    if (rc != PAT_OK)
        sq_close(st); /* the caller frees st, not our connection */
    return rc;
}

static void
sq_close(struct pat_store *st)
{
    struct conn *c = conn_of(st);
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(c->stmts[i].s);
    sqlite3_finalize(c->begin);
    sqlite3_finalize(c->commit);
    sqlite3_finalize(c->rollback);
    sqlite3_close(c->db);
    free(c);
    st->conn = NULL;
}

/* Runs a statement without parameters or rows. */
static int
run_fixed(struct pat_store *st, sqlite3_stmt *s)
{
    int r = sqlite3_step(s);

    sqlite3_reset(s);
    return r == SQLITE_DONE ? PAT_OK : map_err(st, r);
}

static int
sq_begin(struct pat_store *st)
{
    return run_fixed(st, conn_of(st)->begin);
}

static int
sq_commit(struct pat_store *st)
{
    return run_fixed(st, conn_of(st)->commit);
}

static void
sq_rollback(struct pat_store *st)
{
    if (!sqlite3_get_autocommit(conn_of(st)->db))
        (void)run_fixed(st, conn_of(st)->rollback);
}

static int
sq_prepare(struct pat_store *st, enum pat_q q, struct pat_stmt **out)
{
    struct sq_stmt *s = &conn_of(st)->stmts[q];
    char *sql;
    int rc;

    *out = NULL;
    if (s->s == NULL) {
        sql = pat__sql_expand(PAT_DIALECT_SQLITE, pat__stmts[q].sql,
                              pat__stmts[q].types);
        if (sql == NULL)
            return pat__fail(st, PAT_ENOMEM, "cannot expand statement %d",
                             (int)q);
        rc = sq_prepare_sql(st, sql, &s->s);
        free(sql);
        if (rc != PAT_OK)
            return rc;
    }
    *out = (struct pat_stmt *)(void *)s;
    return PAT_OK;
}

/*
 * Text and blobs are bound SQLITE_STATIC: the operations keep their
 * arguments alive until done, which clears the bindings.
 */
static void
sq_bind_text(struct pat_stmt *s, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(sq(s)->s, i);
    else
        sqlite3_bind_text(sq(s)->s, i, v, -1, SQLITE_STATIC);
}

static void
sq_bind_int(struct pat_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(sq(s)->s, i, v);
}

static void
sq_bind_blob(struct pat_stmt *s, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(sq(s)->s, i, p, (int)n, SQLITE_STATIC);
}

static void
sq_bind_null(struct pat_stmt *s, int i)
{
    sqlite3_bind_null(sq(s)->s, i);
}

static int
sq_step(struct pat_store *st, struct pat_stmt *s)
{
    int r = sqlite3_step(sq(s)->s);

    if (r == SQLITE_ROW)
        return PAT_OK;
    if (r == SQLITE_DONE)
        return PAT_ENOTFOUND;
    return map_err(st, r);
}

static int64_t
sq_col_int(struct pat_stmt *s, int i)
{
    return sqlite3_column_int64(sq(s)->s, i);
}

static void
sq_col_text(struct pat_stmt *s, int i, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(sq(s)->s, i);
    size_t n = v ? (size_t)sqlite3_column_bytes(sq(s)->s, i) : 0;

    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

static bool
sq_col_blob(struct pat_stmt *s, int i, uint8_t *dst, size_t n)
{
    const void *v = sqlite3_column_blob(sq(s)->s, i);

    if (v == NULL || (size_t)sqlite3_column_bytes(sq(s)->s, i) != n)
        return false;
    memcpy(dst, v, n);
    return true;
}

static bool
sq_col_null(struct pat_stmt *s, int i)
{
    return sqlite3_column_type(sq(s)->s, i) == SQLITE_NULL;
}

static int64_t
sq_changes(struct pat_store *st, struct pat_stmt *s)
{
    (void)s;
    return sqlite3_changes64(conn_of(st)->db);
}

static void
sq_done(struct pat_stmt *s)
{
    sqlite3_reset(sq(s)->s);
    sqlite3_clear_bindings(sq(s)->s);
}

/*
 * notify, listen_start and listen_wait stay NULL: an SQLite file serves
 * one node, whose verifier hears of its own changes at commit.
 */
const struct pat_driver pat__sqlite_driver = {
    .name = "sqlite",
    .dialect = PAT_DIALECT_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int = sq_bind_int,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_int = sq_col_int,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_null = sq_col_null,
    .changes = sq_changes,
    .done = sq_done,
};
