/* SPDX-License-Identifier: MIT */
/*
 * The driver interface: the primitives a storage backend implements, and
 * nothing more. A driver opens a connection, runs transactions, and
 * prepares, binds, steps and reads the statements of one table
 * (lib/store/stmts.c) written once in a neutral SQL dialect. Every store
 * operation is written once above it (lib/store/ops_*.c); a driver knows
 * no table, no column and no rule.
 *
 * Like SQLite's VFS or curl's TLS backends: sqlite.c and postgres.c each
 * fill one struct pat_driver. What is theirs alone stays inside them:
 * SQLite's opening, WAL, pragmas and statement cache; PostgreSQL's
 * connection handling, read retries, UTF-8 guard and LISTEN.
 *
 * Errors: a driver maps its engine's errors to pat_err at this boundary.
 * A unique-key violation is PAT_ECONFLICT, a connection that cannot be
 * reached or a lock that cannot be had PAT_EUNAVAIL, anything else
 * PAT_ESTORE (with detail through pat__seterr).
 */
#ifndef PAT_STORE_DRIVER_H
#define PAT_STORE_DRIVER_H

#include "internal.h"

enum pat_dialect { PAT_DIALECT_SQLITE, PAT_DIALECT_POSTGRES };

/*
 * A prepared statement of the table, owned by its connection. Opaque:
 * each driver defines its own and casts. Valid from prepare until done,
 * on the thread that owns the store handle.
 */
struct pat_stmt;

/* The statements of lib/store/stmts.c, one name each. */
enum pat_q {
    Q_SCHEMA_VERSION,
    Q_SCHEMA_RECORD,
    Q_SETTING_GET,
    Q_SETTING_PUT,
    Q_USER_INSERT,
    Q_USER_UPDATE,
    Q_USER_BY_ID,
    Q_USER_BY_NAME,
    Q_USER_LIST,
    Q_USER_PW_GET,
    Q_USER_PW_SET,
    Q_SCOPE_PUT,
    Q_SCOPE_GET,
    Q_SCOPE_LIST,
    Q_SCOPE_DELETE,
    Q_SCOPE_IN_USE,
    Q_SCOPE_STRIP,
    Q_POLICY_GET,
    Q_POLICY_PUT,
    Q_TOKEN_INSERT,
    Q_TOKEN_UPDATE,
    Q_TOKEN_GET,
    Q_TOKEN_LIST_ALL,
    Q_TOKEN_LIST_USER,
    Q_TOKEN_COUNT_LIVE,
    Q_TOKEN_FEED_USER,
    Q_TOKEN_REVOKE_USER,
    Q_TOKEN_FEED_WHERE,
    Q_TOKEN_REVOKE_WHERE,
    Q_TOKEN_COUNT_WHERE,
    Q_TOKEN_USAGE,
    Q_SECRET_INSERT,
    Q_SECRET_RETIRE,
    Q_VERIFY,
    Q_SESSION_INSERT,
    Q_SESSION_GET,
    Q_SESSION_DELETE,
    Q_SESSION_DELETE_USER,
    Q_SESSION_PRUNE,
    Q_SESSION_TRIM,
    Q_SESSION_LIST,
    Q_SESSION_END,
    Q_AUDIT_INSERT,
    Q_AUDIT_LIST,
    Q_CHANGE_INSERT,
    Q_CHANGE_LIST,
    Q_CHANGE_PRUNE,
    Q_CHANGE_LAST,
    Q_CHANGE_LAST_OF,
    Q_USER_DUMP,
    Q_USER_RESTORE,
    Q_TOKEN_RESTORE,
    Q_SECRET_DUMP,
    Q_SECRET_RESTORE,
    Q_ATTR_PUT,
    Q_ATTR_GET,
    Q_ATTR_FIND,
    Q_GRANT_PUT,
    Q_GRANT_TAKE,
    Q_GRANT_PRUNE,
    Q_USER_COUNT,
    Q_USER_PAGE,
    Q_KEY_INSERT,
    Q_KEY_LIST,
    Q_KEY_RETIRE,
    Q_EXCHANGE_INSERT,
    Q_EXCHANGE_STATUS,
    Q_EXCHANGE_LIVE_RANGE,
    Q_EXCHANGE_MAX_IDX,
    Q_EXCHANGE_BY_USER,
    Q_EXCHANGE_PRUNE,
    Q_USER_KIND_SET,
    Q_TOKEN_GOV_SET,
    Q_TOKEN_USE,
    Q_TOKEN_PENDING,
    Q_TOKEN_PENDING_OLD,
    Q_TOKEN_IDLE,
    Q_WEBHOOK_INSERT,
    Q_WEBHOOK_GET,
    Q_WEBHOOK_LIST,
    Q_WEBHOOK_UPDATE,
    Q_WEBHOOK_SECRET_SET,
    Q_WEBHOOK_SECRET_GET,
    Q_WEBHOOK_DELETE,
    Q_WEBHOOK_DUE,
    Q_WEBHOOK_LEASE,
    Q_WEBHOOK_RELEASE,
    Q_WEBHOOK_ADVANCE,
    Q_WEBHOOK_NEXT_EVENT,
    Q_WEBHOOK_STATS,
    Q_CHANGE_GET,
    Q_OUTBOX_INSERT,
    Q_OUTBOX_NEXT,
    Q_OUTBOX_DELETE,
    Q_OUTBOX_CLEAR,
    Q_ATTEMPT_INSERT,
    Q_ATTEMPT_LIST,
    Q_ATTEMPT_GET,
    Q_ATTEMPT_PRUNE,
    Q_ATTEMPT_CLEAR,
    Q_NOTICE_INSERT,
    Q_NOTICE_CANDIDATES,
    Q_MAIL_LOG_INSERT,
    Q_NOTICE_MAIL_USERS,
    Q_NOTICE_MAIL_LIST,
    Q_NOTICE_MAIL_MARK,
    Q_GRANT_COUNT,
    Q_ATTR_LIST,
    Q_COUNT
};

/*
 * One statement in the neutral dialect: "?N" placeholders (SQLite's own
 * form; PostgreSQL gets "$N::type", because it cannot infer the type of
 * "$1 IS NULL"), and @words@ for the few spellings that differ (see
 * pat__sql_expand). types[N - 1] is the type of ?N: 't' text, 'i'
 * 64-bit integer, 'b' bytes. read: the statement only reads, so it may
 * be sent again after a lost connection (a write that got no answer may
 * or may not have happened).
 */
struct pat_stmt_def {
    const char *sql;
    const char *types;
    bool read;
};

extern const struct pat_stmt_def pat__stmts[Q_COUNT];

/*
 * Expands sql for dialect d: @words@ always, ?N placeholders to
 * "$N::type" for PostgreSQL (types as in struct pat_stmt_def; NULL for
 * scripts without parameters). Returns a new string the caller frees,
 * or NULL (out of memory, an unknown @word@, a placeholder without a
 * type).
 */
char *pat__sql_expand(enum pat_dialect d, const char *sql, const char *types);

struct pat_driver {
    const char *name;
    enum pat_dialect dialect;

    /* Sets st->conn. target is what follows the URL scheme. */
    int (*open)(struct pat_store *st, const char *target, int flags);
    void (*close)(struct pat_store *st);
    /* A script of statements without parameters (migrations only). */
    int (*exec)(struct pat_store *st, const char *sql);
    /* begin takes the store-wide write lock at once. */
    int (*begin)(struct pat_store *st);
    int (*commit)(struct pat_store *st);
    void (*rollback)(struct pat_store *st);

    /*
     * Statement q, prepared on first use on this connection, with no
     * bindings and no result. *out is NULL unless PAT_OK.
     */
    int (*prepare)(struct pat_store *st, enum pat_q q, struct pat_stmt **out);
    /* Bindings by position (1-based); text NULL binds SQL NULL. */
    void (*bind_text)(struct pat_stmt *s, int i, const char *v);
    void (*bind_int)(struct pat_stmt *s, int i, int64_t v);
    void (*bind_blob)(struct pat_stmt *s, int i, const void *p, size_t n);
    void (*bind_null)(struct pat_stmt *s, int i);
    /*
     * Runs the statement on the first call, then moves to the next row:
     * PAT_OK with a row to read, PAT_ENOTFOUND when there are no more
     * rows (a statement that returns none reports this at once), or an
     * error.
     */
    int (*step)(struct pat_store *st, struct pat_stmt *s);
    /* Columns of the current row (0-based); NULL reads as 0 or "". */
    int64_t (*col_int)(struct pat_stmt *s, int i);
    void (*col_text)(struct pat_stmt *s, int i, char *dst, size_t cap);
    /* Copies exactly n bytes; false when the value is not n bytes. */
    bool (*col_blob)(struct pat_stmt *s, int i, uint8_t *dst, size_t n);
    bool (*col_null)(struct pat_stmt *s, int i);
    /* Rows the last run wrote. */
    int64_t (*changes)(struct pat_store *st, struct pat_stmt *s);
    /* Ends the run: frees the result, keeps the prepared statement. */
    void (*done)(struct pat_stmt *s);

    /*
     * Scale-out (NULL where the backend serves one node only, as SQLite).
     * notify queues payload on PAT_CHANGES_CHANNEL inside the open
     * transaction: delivered to every listener when, and only if, the
     * transaction commits. listen_start makes this handle a listener on
     * channel (the handle is then used for nothing else). listen_wait
     * waits up to timeout_ms for one notification: PAT_OK with its
     * payload (truncated to cap - 1), PAT_ENOTFOUND when none came,
     * PAT_EUNAVAIL when the connection is lost or stopped answering.
     */
    int (*notify)(struct pat_store *st, const char *payload);
    int (*listen_start)(struct pat_store *st, const char *channel);
    int (*listen_wait)(struct pat_store *st, int timeout_ms, char *payload,
                       size_t cap);
};

extern const struct pat_driver pat__sqlite_driver;
extern const struct pat_driver pat__postgres_driver;

#endif
