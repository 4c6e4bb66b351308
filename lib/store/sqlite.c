/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend (the embedded default). One connection per handle,
 * in WAL mode with synchronous=FULL so that an acknowledged commit
 * survives a crash or power loss. Statements are prepared once per
 * connection and reused; every value is a bound parameter.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define USER_COLS                                                              \
    "seq, id, username, display_name, email, role, scopes, disabled, "         \
    "password_hash IS NOT NULL, created_at, updated_at, deleted_at"
#define TOKEN_COLS                                                             \
    "t.seq, t.id, t.user_id, t.name, t.description, t.scopes, t.audiences, "   \
    "t.allowed_cidrs, t.hint, t.created_at, t.expires_at, t.revoked_at, "      \
    "t.revoked_reason, t.last_used_at, t.last_used_ip, t.recent_ips"
#define AUDIT_COLS                                                             \
    "seq, at, actor_user_id, actor_token_id, ip, user_agent, action, "         \
    "target_user_id, target_token_id, detail"
/* ?2 status mask, ?3 now, ?4 scope, ?5..?7 bounds, ?8 cursor, ?9 limit. */
#define TOKEN_FILTER                                                           \
    " AND ((?2 & 1 AND t.revoked_at IS NULL AND"                               \
    "       (t.expires_at IS NULL OR t.expires_at > ?3))"                      \
    "   OR (?2 & 2 AND t.revoked_at IS NULL AND t.expires_at <= ?3)"           \
    "   OR (?2 & 4 AND t.revoked_at IS NOT NULL))"                             \
    " AND (?4 IS NULL OR instr(' ' || t.scopes || ' ', ' ' || ?4 || ' ') > 0)" \
    " AND (?5 = 0 OR t.expires_at < ?5)"                                       \
    " AND (?6 = 0 OR t.last_used_at IS NULL OR t.last_used_at < ?6)"           \
    " AND (?7 = 0 OR t.created_at < ?7)"                                       \
    " AND t.seq > ?8 ORDER BY t.seq LIMIT ?9"

/* ?1 user, ?2 scope, ?3 created before; live tokens only. */
#define BULK_FILTER                                                            \
    " AND (?1 IS NULL OR user_id = ?1)"                                        \
    " AND (?2 IS NULL OR instr(' ' || scopes || ' ', ' ' || ?2 || ' ') > 0)"   \
    " AND (?3 = 0 OR created_at < ?3)"

enum stmt {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SCHEMA_TABLE,
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
    S_COUNT
};

static const char *const sql_text[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SCHEMA_TABLE] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                       " applied_at BIGINT NOT NULL)",
    [S_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) "
                         "FROM schema_migrations",
    [S_SCHEMA_RECORD] = "INSERT INTO schema_migrations VALUES (?1, ?2, ?3)",
    [S_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [S_SETTING_PUT] = "INSERT INTO settings VALUES (?1, ?2) ON CONFLICT (key)"
                      " DO UPDATE SET value = excluded.value",
    [S_USER_INSERT] = "INSERT INTO users (id, username, display_name, email,"
                      " role, scopes, disabled, created_at, updated_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_USER_UPDATE] = "UPDATE users SET display_name = ?2, email = ?3,"
                      " role = ?4, scopes = ?5, disabled = ?6,"
                      " updated_at = ?7, deleted_at = ?8,"
                      " username = CASE WHEN ?8 IS NULL THEN username"
                      " ELSE id END WHERE id = ?1",
    [S_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [S_USER_BY_NAME] = "SELECT " USER_COLS " FROM users WHERE username = ?1",
    [S_USER_LIST] = "SELECT " USER_COLS " FROM users WHERE seq > ?1"
                    " AND deleted_at IS NULL AND (?3 IS NULL"
                    "  OR instr(username, lower(?3)) > 0"
                    "  OR instr(lower(display_name), lower(?3)) > 0"
                    "  OR instr(lower(email), lower(?3)) > 0)"
                    " ORDER BY seq LIMIT ?2",
    [S_SCOPE_PUT] = "INSERT INTO scopes VALUES (?1, ?2, ?3) ON CONFLICT (name)"
                    " DO UPDATE SET description = excluded.description",
    [S_SCOPE_GET] = "SELECT name, description, builtin FROM scopes"
                    " WHERE name = ?1",
    [S_SCOPE_LIST] = "SELECT name, description, builtin FROM scopes"
                     " ORDER BY name LIMIT ?1",
    [S_POLICY_GET] = "SELECT max_lifetime_days, allow_no_expiry,"
                     " default_lifetime_days, max_tokens_per_user,"
                     " revoke_on_reuse FROM policy WHERE id = 1",
    [S_POLICY_PUT] = "INSERT INTO policy VALUES (1, ?1, ?2, ?3, ?4, ?5)"
                     " ON CONFLICT (id) DO UPDATE SET"
                     " max_lifetime_days = excluded.max_lifetime_days,"
                     " allow_no_expiry = excluded.allow_no_expiry,"
                     " default_lifetime_days = excluded.default_lifetime_days,"
                     " max_tokens_per_user = excluded.max_tokens_per_user,"
                     " revoke_on_reuse = excluded.revoke_on_reuse",
    [S_TOKEN_INSERT] = "INSERT INTO tokens (id, user_id, name, description,"
                       " scopes, audiences, allowed_cidrs, hint, created_at,"
                       " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                       " ?9, ?10)",
    [S_TOKEN_UPDATE] = "UPDATE tokens SET name = ?2, description = ?3,"
                       " hint = ?4, expires_at = ?5, revoked_at = ?6,"
                       " revoked_reason = ?7 WHERE id = ?1",
    [S_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens t WHERE t.id = ?1",
    [S_TOKEN_LIST_ALL] = "SELECT " TOKEN_COLS " FROM tokens t"
                         " WHERE ?1 IS NULL" TOKEN_FILTER,
    [S_TOKEN_LIST_USER] = "SELECT " TOKEN_COLS " FROM tokens t"
                          " WHERE t.user_id = ?1" TOKEN_FILTER,
    [S_TOKEN_COUNT_LIVE] = "SELECT count(*) FROM tokens WHERE user_id = ?1"
                           " AND revoked_at IS NULL"
                           " AND (expires_at IS NULL OR expires_at > ?2)",
    [S_TOKEN_REVOKE_USER] = "UPDATE tokens SET revoked_at = ?2,"
                            " revoked_reason = ?3"
                            " WHERE user_id = ?1 AND revoked_at IS NULL",
    [S_SECRET_INSERT] = "INSERT INTO secrets VALUES (?1, ?2, ?3, NULL)",
    [S_SECRET_RETIRE] = "UPDATE secrets SET retire_at = ?2 WHERE token_id = ?1"
                        " AND (retire_at IS NULL OR retire_at > ?2)",
    [S_VERIFY] = "SELECT " TOKEN_COLS ", s.retire_at,"
                 " u.seq, u.id, u.username, u.display_name, u.email, u.role,"
                 " u.scopes, u.disabled, u.password_hash IS NOT NULL,"
                 " u.created_at, u.updated_at, u.deleted_at"
                 " FROM secrets s JOIN tokens t ON t.id = s.token_id"
                 " JOIN users u ON u.id = t.user_id WHERE s.hash = ?1",
    [S_AUDIT_INSERT] = "INSERT INTO audit (at, actor_user_id, actor_token_id,"
                       " ip, user_agent, action, target_user_id,"
                       " target_token_id, detail)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit WHERE"
                     " (?1 IS NULL OR actor_user_id = ?1"
                     "  OR target_user_id = ?1)"
                     " AND (?2 IS NULL OR action = ?2)"
                     " AND (?3 IS NULL OR target_token_id = ?3"
                     "  OR target_user_id = ?3)"
                     " AND at >= ?4 AND seq > ?5"
                     " AND (?7 IS NULL OR actor_user_id = ?7)"
                     " ORDER BY seq LIMIT ?6",
    [S_USER_PW_GET] = "SELECT password_hash FROM users WHERE id = ?1"
                      " AND password_hash IS NOT NULL",
    [S_USER_PW_SET] = "UPDATE users SET password_hash = ?2, updated_at = ?3"
                      " WHERE id = ?1",
    [S_SCOPE_DELETE] = "DELETE FROM scopes WHERE name = ?1 AND builtin = 0",
    [S_SCOPE_IN_USE] = "SELECT count(*) FROM tokens WHERE revoked_at IS NULL"
                       " AND (expires_at IS NULL OR expires_at > ?2)"
                       " AND instr(' ' || scopes || ' ', ' ' || ?1 || ' ') > 0",
    [S_SCOPE_STRIP] =
        "UPDATE users SET scopes = trim(replace(' ' || scopes"
        " || ' ', ' ' || ?1 || ' ', ' '))"
        " WHERE instr(' ' || scopes || ' ', ' ' || ?1 || ' ') > 0",
    [S_TOKEN_REVOKE_WHERE] =
        "UPDATE tokens SET revoked_at = ?4,"
        " revoked_reason = ?5 WHERE revoked_at IS NULL" BULK_FILTER,
    [S_TOKEN_COUNT_WHERE] =
        "SELECT count(*) FROM tokens WHERE"
        " revoked_at IS NULL AND ?4 = ?4 AND ?5 = ?5" BULK_FILTER,
    [S_SESSION_INSERT] = "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_SESSION_GET] = "SELECT user_id, csrf FROM sessions WHERE hash = ?1"
                      " AND expires_at > ?2",
    [S_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
    [S_SESSION_DELETE_USER] = "DELETE FROM sessions WHERE user_id = ?1",
    [S_TOKEN_USAGE] = "UPDATE tokens SET last_used_at = ?2,"
                      " last_used_ip = ?3, recent_ips = ?4 WHERE id = ?1",
    [S_USER_DUMP] = "SELECT " USER_COLS " FROM users WHERE seq > ?1"
                    " ORDER BY seq LIMIT ?2",
    [S_USER_RESTORE] = "INSERT INTO users (id, username, display_name, email,"
                       " role, scopes, disabled, password_hash, created_at,"
                       " updated_at, deleted_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_TOKEN_RESTORE] = "INSERT INTO tokens (id, user_id, name, description,"
                        " scopes, audiences, allowed_cidrs, hint, created_at,"
                        " expires_at, revoked_at, revoked_reason,"
                        " last_used_at, last_used_ip, recent_ips)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                        " ?11, ?12, ?13, ?14, ?15)",
    [S_SECRET_DUMP] = "SELECT hash, token_id, created_at, retire_at"
                      " FROM secrets WHERE ?1 IS NULL OR hash > ?1"
                      " ORDER BY hash LIMIT ?2",
    [S_SECRET_RESTORE] = "INSERT INTO secrets VALUES (?1, ?2, ?3, ?4)",
};

/* The connection and its prepared statements (NULL until first use). */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT];
};

static struct conn *
conn_of(struct pat_store *st)
{
    return st->conn;
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

/* The prepared statement s, reset and with its bindings cleared. */
static sqlite3_stmt *
prep(struct pat_store *st, enum stmt s, int *rc)
{
    struct conn *c = conn_of(st);
    sqlite3_stmt *stmt = c->stmts[s];

    if (stmt == NULL) {
        int r = sqlite3_prepare_v3(c->db, sql_text[s], -1,
                                   SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
        if (r != SQLITE_OK) {
            *rc = map_err(st, r);
            return NULL;
        }
        c->stmts[s] = stmt;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    *rc = PAT_OK;
    return stmt;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Binds text, NULL for an empty string (optional columns). */
static void
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    bind_text(s, i, v && v[0] ? v : NULL);
}

/* Binds a time, NULL for 0 ("none"). */
static void
bind_time(sqlite3_stmt *s, int i, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, v);
}

static void
col_text(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    size_t n = v ? (size_t)sqlite3_column_bytes(s, i) : 0;

    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

/* Steps a statement that returns no rows. */
static int
run(struct pat_store *st, sqlite3_stmt *s)
{
    int r = sqlite3_step(s);
    int rc = r == SQLITE_DONE ? PAT_OK : map_err(st, r);

    sqlite3_reset(s);
    return rc;
}

/* Steps once: PAT_OK with a row, PAT_ENOTFOUND without, or an error. */
static int
step_row(struct pat_store *st, sqlite3_stmt *s)
{
    int r = sqlite3_step(s);

    if (r == SQLITE_ROW)
        return PAT_OK;
    if (r == SQLITE_DONE)
        return PAT_ENOTFOUND;
    return map_err(st, r);
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

static void sq_close(struct pat_store *st);

static int
sq_open(struct pat_store *st, const char *path, int flags)
{
    struct conn *c;
    int r, fd, rc;

    if (path[0] == '\0')
        return pat__fail(st, PAT_EINVAL, "empty database path");
    if (access(path, F_OK) != 0) {
        if (!(flags & PAT_OPEN_CREATE))
            return pat__fail(st, PAT_ENOTFOUND,
                             "no database at '%s'; run 'patd init' first",
                             path);
        /* Hashes are not secrets, but nobody else needs to read them. */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return pat__fail(st, PAT_EUNAVAIL, "cannot create '%s'", path);
        close(fd);
    }
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
        sqlite3_close(c->db);
        free(c);
        st->conn = NULL;
        return rc;
    }
    sqlite3_busy_timeout(c->db, 5000);
    rc = sq_exec(st, "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA mmap_size = 268435456;");
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
    for (i = 0; i < S_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    free(c);
    st->conn = NULL;
}

static int
simple(struct pat_store *st, enum stmt s)
{
    int rc;
    sqlite3_stmt *stmt = prep(st, s, &rc);

    return stmt ? run(st, stmt) : rc;
}

static int
sq_begin(struct pat_store *st)
{
    return simple(st, S_BEGIN);
}

static int
sq_commit(struct pat_store *st)
{
    return simple(st, S_COMMIT);
}

static void
sq_rollback(struct pat_store *st)
{
    if (!sqlite3_get_autocommit(conn_of(st)->db))
        (void)simple(st, S_ROLLBACK);
}

static int
sq_schema_version(struct pat_store *st, int *version)
{
    sqlite3_stmt *s;
    int rc = sq_exec(st, sql_text[S_SCHEMA_TABLE]);

    if (rc != PAT_OK)
        return rc;
    s = prep(st, S_SCHEMA_VERSION, &rc);
    if (s == NULL)
        return rc;
    rc = step_row(st, s);
    if (rc == PAT_OK)
        *version = sqlite3_column_int(s, 0);
    sqlite3_reset(s);
    return rc;
}

static int
sq_schema_record(struct pat_store *st, int version, const char *name,
                 int64_t at)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SCHEMA_RECORD, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_int(s, 1, version);
    bind_text(s, 2, name);
    sqlite3_bind_int64(s, 3, at);
    return run(st, s);
}

static int
sq_setting_get(struct pat_store *st, const char *key, char *buf, size_t cap)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SETTING_GET, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, key);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        col_text(s, 0, buf, cap);
    sqlite3_reset(s);
    return rc;
}

static int
sq_setting_put(struct pat_store *st, const char *key, const char *value)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SETTING_PUT, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, key);
    bind_text(s, 2, value);
    return run(st, s);
}

static const char *
role_name(int role)
{
    return role == PAT_ROLE_ADMIN ? "admin" : "user";
}

/* Reads USER_COLS starting at column i. */
static void
read_user(sqlite3_stmt *s, int i, struct pat_user *u)
{
    char role[8];

    memset(u, 0, sizeof(*u));
    u->seq = sqlite3_column_int64(s, i);
    col_text(s, i + 1, u->id, sizeof(u->id));
    col_text(s, i + 2, u->username, sizeof(u->username));
    col_text(s, i + 3, u->display_name, sizeof(u->display_name));
    col_text(s, i + 4, u->email, sizeof(u->email));
    col_text(s, i + 5, role, sizeof(role));
    u->role = strcmp(role, "admin") == 0 ? PAT_ROLE_ADMIN : PAT_ROLE_USER;
    col_text(s, i + 6, u->scopes, sizeof(u->scopes));
    u->disabled = sqlite3_column_int(s, i + 7) != 0;
    u->has_password = sqlite3_column_int(s, i + 8) != 0;
    u->created_at = sqlite3_column_int64(s, i + 9);
    u->updated_at = sqlite3_column_int64(s, i + 10);
    u->deleted_at = sqlite3_column_int64(s, i + 11);
}

static int
sq_user_insert(struct pat_store *st, const struct pat_user *u)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_INSERT, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, u->id);
    bind_text(s, 2, u->username);
    bind_text(s, 3, u->display_name);
    bind_text(s, 4, u->email);
    bind_text(s, 5, role_name(u->role));
    bind_text(s, 6, u->scopes);
    sqlite3_bind_int(s, 7, u->disabled);
    sqlite3_bind_int64(s, 8, u->created_at);
    sqlite3_bind_int64(s, 9, u->updated_at);
    return run(st, s);
}

static int
sq_user_update(struct pat_store *st, const struct pat_user *u)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_UPDATE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, u->id);
    bind_text(s, 2, u->display_name);
    bind_text(s, 3, u->email);
    bind_text(s, 4, role_name(u->role));
    bind_text(s, 5, u->scopes);
    sqlite3_bind_int(s, 6, u->disabled);
    sqlite3_bind_int64(s, 7, u->updated_at);
    bind_time(s, 8, u->deleted_at);
    rc = run(st, s);
    if (rc == PAT_OK && sqlite3_changes(conn_of(st)->db) == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

static int
sq_user_get(struct pat_store *st, const char *key, struct pat_user *out)
{
    int rc;
    enum stmt which =
        strncmp(key, "usr_", 4) == 0 ? S_USER_BY_ID : S_USER_BY_NAME;
    sqlite3_stmt *s = prep(st, which, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, key);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        read_user(s, 0, out);
    sqlite3_reset(s);
    return rc;
}

static int
sq_user_list(struct pat_store *st, int64_t after, const char *q,
             struct pat_user *out, size_t cap, size_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_LIST, &rc);

    *n = 0;
    if (s == NULL)
        return rc;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, (int64_t)cap);
    bind_opt(s, 3, q);
    while (*n < cap && (rc = step_row(st, s)) == PAT_OK)
        read_user(s, 0, &out[(*n)++]);
    sqlite3_reset(s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sq_scope_put(struct pat_store *st, const struct pat_scope *sc)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SCOPE_PUT, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, sc->name);
    bind_text(s, 2, sc->description);
    sqlite3_bind_int(s, 3, sc->builtin);
    return run(st, s);
}

static void
read_scope(sqlite3_stmt *s, struct pat_scope *out)
{
    col_text(s, 0, out->name, sizeof(out->name));
    col_text(s, 1, out->description, sizeof(out->description));
    out->builtin = sqlite3_column_int(s, 2) != 0;
}

static int
sq_scope_get(struct pat_store *st, const char *name, struct pat_scope *out)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SCOPE_GET, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, name);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        read_scope(s, out);
    sqlite3_reset(s);
    return rc;
}

static int
sq_scope_list(struct pat_store *st, struct pat_scope *out, size_t cap,
              size_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SCOPE_LIST, &rc);

    *n = 0;
    if (s == NULL)
        return rc;
    sqlite3_bind_int64(s, 1, (int64_t)cap);
    while (*n < cap && (rc = step_row(st, s)) == PAT_OK)
        read_scope(s, &out[(*n)++]);
    sqlite3_reset(s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sq_policy_get(struct pat_store *st, struct pat_policy *p)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_POLICY_GET, &rc);

    if (s == NULL)
        return rc;
    rc = step_row(st, s);
    if (rc == PAT_OK) {
        p->max_lifetime_days = sqlite3_column_int(s, 0);
        p->allow_no_expiry = sqlite3_column_int(s, 1) != 0;
        p->default_lifetime_days = sqlite3_column_int(s, 2);
        p->max_tokens_per_user = sqlite3_column_int(s, 3);
        p->revoke_on_reuse = sqlite3_column_int(s, 4) != 0;
    }
    sqlite3_reset(s);
    return rc;
}

static int
sq_policy_put(struct pat_store *st, const struct pat_policy *p)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_POLICY_PUT, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_int(s, 1, p->max_lifetime_days);
    sqlite3_bind_int(s, 2, p->allow_no_expiry);
    sqlite3_bind_int(s, 3, p->default_lifetime_days);
    sqlite3_bind_int(s, 4, p->max_tokens_per_user);
    sqlite3_bind_int(s, 5, p->revoke_on_reuse);
    return run(st, s);
}

/* Reads TOKEN_COLS starting at column 0. */
static void
read_token(sqlite3_stmt *s, struct pat_token *t)
{
    memset(t, 0, sizeof(*t));
    t->seq = sqlite3_column_int64(s, 0);
    col_text(s, 1, t->id, sizeof(t->id));
    col_text(s, 2, t->user_id, sizeof(t->user_id));
    col_text(s, 3, t->name, sizeof(t->name));
    col_text(s, 4, t->description, sizeof(t->description));
    col_text(s, 5, t->scopes, sizeof(t->scopes));
    col_text(s, 6, t->audiences, sizeof(t->audiences));
    col_text(s, 7, t->allowed_cidrs, sizeof(t->allowed_cidrs));
    col_text(s, 8, t->hint, sizeof(t->hint));
    t->created_at = sqlite3_column_int64(s, 9);
    t->expires_at = sqlite3_column_int64(s, 10);
    t->revoked_at = sqlite3_column_int64(s, 11);
    col_text(s, 12, t->revoked_reason, sizeof(t->revoked_reason));
    t->last_used_at = sqlite3_column_int64(s, 13);
    col_text(s, 14, t->last_used_ip, sizeof(t->last_used_ip));
    col_text(s, 15, t->recent_ips, sizeof(t->recent_ips));
}

#define TOKEN_NCOLS 16

static int
sq_token_insert(struct pat_store *st, const struct pat_token *t)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_INSERT, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, t->id);
    bind_text(s, 2, t->user_id);
    bind_text(s, 3, t->name);
    bind_text(s, 4, t->description);
    bind_text(s, 5, t->scopes);
    bind_text(s, 6, t->audiences);
    bind_text(s, 7, t->allowed_cidrs);
    bind_text(s, 8, t->hint);
    sqlite3_bind_int64(s, 9, t->created_at);
    bind_time(s, 10, t->expires_at);
    return run(st, s);
}

static int
sq_token_update(struct pat_store *st, const struct pat_token *t)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_UPDATE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, t->id);
    bind_text(s, 2, t->name);
    bind_text(s, 3, t->description);
    bind_text(s, 4, t->hint);
    bind_time(s, 5, t->expires_at);
    bind_time(s, 6, t->revoked_at);
    bind_opt(s, 7, t->revoked_reason);
    rc = run(st, s);
    if (rc == PAT_OK && sqlite3_changes(conn_of(st)->db) == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

static int
sq_token_get(struct pat_store *st, const char *id, struct pat_token *out)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_GET, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, id);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        read_token(s, out);
    sqlite3_reset(s);
    return rc;
}

static int
sq_token_list(struct pat_store *st, const struct pat_token_filter *f,
              int64_t now, struct pat_token *out, size_t cap, size_t *n)
{
    int rc;
    sqlite3_stmt *s =
        prep(st, f->user_id ? S_TOKEN_LIST_USER : S_TOKEN_LIST_ALL, &rc);

    *n = 0;
    if (s == NULL)
        return rc;
    bind_text(s, 1, f->user_id);
    sqlite3_bind_int(s, 2, f->status ? f->status : PAT_STATUS_ALL);
    sqlite3_bind_int64(s, 3, now);
    bind_opt(s, 4, f->scope);
    sqlite3_bind_int64(s, 5, f->expires_before);
    sqlite3_bind_int64(s, 6, f->last_used_before);
    sqlite3_bind_int64(s, 7, f->created_before);
    sqlite3_bind_int64(s, 8, f->after);
    sqlite3_bind_int64(s, 9, (int64_t)cap);
    while (*n < cap && (rc = step_row(st, s)) == PAT_OK)
        read_token(s, &out[(*n)++]);
    sqlite3_reset(s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sq_token_count_live(struct pat_store *st, const char *user_id, int64_t now,
                    int64_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_COUNT_LIVE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, user_id);
    sqlite3_bind_int64(s, 2, now);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        *n = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

static int
sq_token_revoke_user(struct pat_store *st, const char *user_id, int64_t at,
                     const char *reason, int64_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_REVOKE_USER, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, user_id);
    sqlite3_bind_int64(s, 2, at);
    bind_text(s, 3, reason);
    rc = run(st, s);
    if (rc == PAT_OK)
        *n = sqlite3_changes64(conn_of(st)->db);
    return rc;
}

static int
sq_secret_insert(struct pat_store *st, const uint8_t *hash,
                 const char *token_id, int64_t at)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SECRET_INSERT, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_blob(s, 1, hash, PAT_HASH_LEN, SQLITE_STATIC);
    bind_text(s, 2, token_id);
    sqlite3_bind_int64(s, 3, at);
    return run(st, s);
}

static int
sq_secret_retire(struct pat_store *st, const char *token_id, int64_t retire_at)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SECRET_RETIRE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, token_id);
    sqlite3_bind_int64(s, 2, retire_at);
    return run(st, s);
}

static int
sq_verify_lookup(struct pat_store *st, const uint8_t *hash, struct pat_token *t,
                 int64_t *retire_at, struct pat_user *u)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_VERIFY, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_blob(s, 1, hash, PAT_HASH_LEN, SQLITE_STATIC);
    rc = step_row(st, s);
    if (rc == PAT_OK) {
        read_token(s, t);
        *retire_at = sqlite3_column_int64(s, TOKEN_NCOLS);
        read_user(s, TOKEN_NCOLS + 1, u);
    }
    sqlite3_reset(s);
    return rc;
}

static int
sq_audit_insert(struct pat_store *st, const struct pat_audit *ev)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_AUDIT_INSERT, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_int64(s, 1, ev->at);
    bind_opt(s, 2, ev->actor_user_id);
    bind_opt(s, 3, ev->actor_token_id);
    bind_opt(s, 4, ev->ip);
    bind_opt(s, 5, ev->user_agent);
    bind_text(s, 6, ev->action);
    bind_opt(s, 7, ev->target_user_id);
    bind_opt(s, 8, ev->target_token_id);
    bind_text(s, 9, ev->detail[0] ? ev->detail : "{}");
    return run(st, s);
}

static int
sq_audit_list(struct pat_store *st, const struct pat_audit_filter *f,
              struct pat_audit *out, size_t cap, size_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_AUDIT_LIST, &rc);

    *n = 0;
    if (s == NULL)
        return rc;
    bind_opt(s, 1, f->user_id);
    bind_opt(s, 2, f->action);
    bind_opt(s, 3, f->target);
    sqlite3_bind_int64(s, 4, f->since);
    sqlite3_bind_int64(s, 5, f->after);
    sqlite3_bind_int64(s, 6, (int64_t)cap);
    bind_opt(s, 7, f->actor);
    while (*n < cap && (rc = step_row(st, s)) == PAT_OK) {
        struct pat_audit *ev = &out[(*n)++];

        memset(ev, 0, sizeof(*ev));
        ev->seq = sqlite3_column_int64(s, 0);
        ev->at = sqlite3_column_int64(s, 1);
        col_text(s, 2, ev->actor_user_id, sizeof(ev->actor_user_id));
        col_text(s, 3, ev->actor_token_id, sizeof(ev->actor_token_id));
        col_text(s, 4, ev->ip, sizeof(ev->ip));
        col_text(s, 5, ev->user_agent, sizeof(ev->user_agent));
        col_text(s, 6, ev->action, sizeof(ev->action));
        col_text(s, 7, ev->target_user_id, sizeof(ev->target_user_id));
        col_text(s, 8, ev->target_token_id, sizeof(ev->target_token_id));
        col_text(s, 9, ev->detail, sizeof(ev->detail));
    }
    sqlite3_reset(s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sq_user_password_get(struct pat_store *st, const char *user_id, char *buf,
                     size_t cap)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_PW_GET, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, user_id);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        col_text(s, 0, buf, cap);
    sqlite3_reset(s);
    return rc;
}

static int
sq_user_password_set(struct pat_store *st, const char *user_id,
                     const char *hash)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_PW_SET, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, user_id);
    bind_text(s, 2, hash);
    sqlite3_bind_int64(s, 3, pat_store_now(st));
    return run(st, s);
}

/* Runs a statement with one text parameter and no result rows. */
static int
run_text(struct pat_store *st, enum stmt which, const char *v)
{
    int rc;
    sqlite3_stmt *s = prep(st, which, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, v);
    return run(st, s);
}

static int
sq_scope_delete(struct pat_store *st, const char *name)
{
    return run_text(st, S_SCOPE_DELETE, name);
}

static int
sq_scope_strip_users(struct pat_store *st, const char *name)
{
    return run_text(st, S_SCOPE_STRIP, name);
}

static int
sq_scope_in_use(struct pat_store *st, const char *name, int64_t now, int64_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SCOPE_IN_USE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, name);
    sqlite3_bind_int64(s, 2, now);
    rc = step_row(st, s);
    if (rc == PAT_OK)
        *n = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

static int
sq_token_revoke_where(struct pat_store *st, const struct pat_bulk_filter *f,
                      int64_t at, const char *reason, bool dry_run, int64_t *n)
{
    int rc;
    sqlite3_stmt *s =
        prep(st, dry_run ? S_TOKEN_COUNT_WHERE : S_TOKEN_REVOKE_WHERE, &rc);

    if (s == NULL)
        return rc;
    bind_opt(s, 1, f->user_id);
    bind_opt(s, 2, f->scope);
    sqlite3_bind_int64(s, 3, f->created_before);
    sqlite3_bind_int64(s, 4, at);
    bind_text(s, 5, reason);
    if (dry_run) {
        rc = step_row(st, s);
        if (rc == PAT_OK)
            *n = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return rc;
    }
    rc = run(st, s);
    if (rc == PAT_OK)
        *n = sqlite3_changes64(conn_of(st)->db);
    return rc;
}

static int
sq_session_insert(struct pat_store *st, const uint8_t *hash,
                  const char *user_id, const char *csrf, int64_t created_at,
                  int64_t expires_at)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SESSION_INSERT, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_blob(s, 1, hash, PAT_HASH_LEN, SQLITE_STATIC);
    bind_text(s, 2, user_id);
    bind_text(s, 3, csrf);
    sqlite3_bind_int64(s, 4, created_at);
    sqlite3_bind_int64(s, 5, expires_at);
    return run(st, s);
}

static int
sq_session_get(struct pat_store *st, const uint8_t *hash, int64_t now,
               char *user_id, size_t user_cap, char *csrf, size_t csrf_cap)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SESSION_GET, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_blob(s, 1, hash, PAT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    rc = step_row(st, s);
    if (rc == PAT_OK) {
        col_text(s, 0, user_id, user_cap);
        col_text(s, 1, csrf, csrf_cap);
    }
    sqlite3_reset(s);
    return rc;
}

static int
sq_session_delete(struct pat_store *st, const uint8_t *hash)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SESSION_DELETE, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_blob(s, 1, hash, PAT_HASH_LEN, SQLITE_STATIC);
    return run(st, s);
}

static int
sq_session_delete_user(struct pat_store *st, const char *user_id)
{
    return run_text(st, S_SESSION_DELETE_USER, user_id);
}

static int
sq_token_usage_put(struct pat_store *st, const char *id, int64_t last_used_at,
                   const char *last_used_ip, const char *recent_ips)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_USAGE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, id);
    bind_time(s, 2, last_used_at);
    bind_opt(s, 3, last_used_ip);
    bind_text(s, 4, recent_ips);
    return run(st, s);
}

static int
sq_user_dump(struct pat_store *st, int64_t after, struct pat_user *out,
             size_t cap, size_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_DUMP, &rc);

    *n = 0;
    if (s == NULL)
        return rc;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, (int64_t)cap);
    while (*n < cap && (rc = step_row(st, s)) == PAT_OK)
        read_user(s, 0, &out[(*n)++]);
    sqlite3_reset(s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sq_user_restore(struct pat_store *st, const struct pat_user *u,
                const char *password_hash)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_USER_RESTORE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, u->id);
    bind_text(s, 2, u->username);
    bind_text(s, 3, u->display_name);
    bind_text(s, 4, u->email);
    bind_text(s, 5, role_name(u->role));
    bind_text(s, 6, u->scopes);
    sqlite3_bind_int(s, 7, u->disabled);
    bind_opt(s, 8, password_hash);
    sqlite3_bind_int64(s, 9, u->created_at);
    sqlite3_bind_int64(s, 10, u->updated_at);
    bind_time(s, 11, u->deleted_at);
    return run(st, s);
}

static int
sq_token_restore(struct pat_store *st, const struct pat_token *t)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_TOKEN_RESTORE, &rc);

    if (s == NULL)
        return rc;
    bind_text(s, 1, t->id);
    bind_text(s, 2, t->user_id);
    bind_text(s, 3, t->name);
    bind_text(s, 4, t->description);
    bind_text(s, 5, t->scopes);
    bind_text(s, 6, t->audiences);
    bind_text(s, 7, t->allowed_cidrs);
    bind_text(s, 8, t->hint);
    sqlite3_bind_int64(s, 9, t->created_at);
    bind_time(s, 10, t->expires_at);
    bind_time(s, 11, t->revoked_at);
    bind_opt(s, 12, t->revoked_reason);
    bind_time(s, 13, t->last_used_at);
    bind_opt(s, 14, t->last_used_ip);
    bind_text(s, 15, t->recent_ips);
    return run(st, s);
}

static int
sq_secret_dump(struct pat_store *st, const uint8_t *after,
               struct pat_secret *out, size_t cap, size_t *n)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SECRET_DUMP, &rc);

    *n = 0;
    if (s == NULL)
        return rc;
    if (after != NULL)
        sqlite3_bind_blob(s, 1, after, PAT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)cap);
    while (*n < cap && (rc = step_row(st, s)) == PAT_OK) {
        struct pat_secret *sec = &out[(*n)++];

        if (sqlite3_column_bytes(s, 0) != PAT_HASH_LEN) {
            rc = pat__fail(st, PAT_ESTORE,
                           "sqlite: a secret's hash is not "
                           "32 bytes");
            break;
        }
        memcpy(sec->hash, sqlite3_column_blob(s, 0), PAT_HASH_LEN);
        col_text(s, 1, sec->token_id, sizeof(sec->token_id));
        sec->created_at = sqlite3_column_int64(s, 2);
        sec->retire_at = sqlite3_column_int64(s, 3);
    }
    sqlite3_reset(s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sq_secret_restore(struct pat_store *st, const struct pat_secret *sec)
{
    int rc;
    sqlite3_stmt *s = prep(st, S_SECRET_RESTORE, &rc);

    if (s == NULL)
        return rc;
    sqlite3_bind_blob(s, 1, sec->hash, PAT_HASH_LEN, SQLITE_STATIC);
    bind_text(s, 2, sec->token_id);
    sqlite3_bind_int64(s, 3, sec->created_at);
    bind_time(s, 4, sec->retire_at);
    return run(st, s);
}

/*
 * notify, listen_start and listen_wait stay NULL: an SQLite file serves
 * one node, whose verifier sees its own changes at once. (Processes that
 * share a file see each other's changes within the cache TTL only.)
 */
const struct pat_store_ops pat__sqlite_ops = {
    .name = "sqlite",
    .dialect = PAT_DIALECT_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .schema_version = sq_schema_version,
    .schema_record = sq_schema_record,
    .setting_get = sq_setting_get,
    .setting_put = sq_setting_put,
    .user_insert = sq_user_insert,
    .user_update = sq_user_update,
    .user_get = sq_user_get,
    .user_list = sq_user_list,
    .scope_put = sq_scope_put,
    .scope_get = sq_scope_get,
    .scope_list = sq_scope_list,
    .policy_get = sq_policy_get,
    .policy_put = sq_policy_put,
    .token_insert = sq_token_insert,
    .token_update = sq_token_update,
    .token_get = sq_token_get,
    .token_list = sq_token_list,
    .token_count_live = sq_token_count_live,
    .token_revoke_user = sq_token_revoke_user,
    .secret_insert = sq_secret_insert,
    .secret_retire = sq_secret_retire,
    .verify_lookup = sq_verify_lookup,
    .audit_insert = sq_audit_insert,
    .audit_list = sq_audit_list,
    .user_password_get = sq_user_password_get,
    .user_password_set = sq_user_password_set,
    .scope_delete = sq_scope_delete,
    .scope_in_use = sq_scope_in_use,
    .scope_strip_users = sq_scope_strip_users,
    .token_revoke_where = sq_token_revoke_where,
    .session_insert = sq_session_insert,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
    .session_delete_user = sq_session_delete_user,
    .token_usage_put = sq_token_usage_put,
    .user_dump = sq_user_dump,
    .user_restore = sq_user_restore,
    .token_restore = sq_token_restore,
    .secret_dump = sq_secret_dump,
    .secret_restore = sq_secret_restore,
};
