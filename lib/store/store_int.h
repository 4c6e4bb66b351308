/* SPDX-License-Identifier: MIT */
/*
 * The storage interface: one ops table per backend. The library applies
 * every rule; a backend only reads and writes rows, with bound parameters,
 * and maps its own errors to pat_err at this boundary: a unique-key
 * violation is PAT_ECONFLICT, a missing row PAT_ENOTFOUND, a connection
 * that cannot be reached PAT_EUNAVAIL, anything else PAT_ESTORE (with
 * detail through pat__seterr). Output structs are complete on PAT_OK and
 * unspecified otherwise.
 */
#ifndef PAT_STORE_INT_H
#define PAT_STORE_INT_H

#include "internal.h"

enum pat_dialect { PAT_DIALECT_SQLITE, PAT_DIALECT_POSTGRES };

/*
 * The channel on which a backend that can notify (PostgreSQL) announces
 * committed changes that can make a token less valid; every node's
 * verifier listens on it (DESIGN.md section 5).
 */
#define PAT_CHANGES_CHANNEL "patd_changes"

/* A notification payload: a token id, or "*" for "anything may have". */
#define PAT_PAYLOAD_MAX 63

/* One row of the secrets table, for export and import. */
struct pat_secret {
    uint8_t hash[PAT_HASH_LEN];
    char token_id[PAT_ID_LEN + 1];
    int64_t created_at;
    int64_t retire_at; /* 0: the current secret */
};

struct pat_store_ops {
    const char *name;
    enum pat_dialect dialect;

    int (*open)(struct pat_store *st, const char *target, int flags);
    void (*close)(struct pat_store *st);
    /* Runs a script of statements without parameters (migrations only). */
    int (*exec)(struct pat_store *st, const char *sql);
    int (*begin)(struct pat_store *st);
    int (*commit)(struct pat_store *st);
    void (*rollback)(struct pat_store *st);

    /* Highest recorded migration (0: none); creates the record table. */
    int (*schema_version)(struct pat_store *st, int *version);
    int (*schema_record)(struct pat_store *st, int version, const char *name,
                         int64_t at);

    int (*setting_get)(struct pat_store *st, const char *key, char *buf,
                       size_t cap);
    int (*setting_put)(struct pat_store *st, const char *key,
                       const char *value);

    int (*user_insert)(struct pat_store *st, const struct pat_user *u);
    /* Writes every mutable field of u, found by u->id. */
    int (*user_update)(struct pat_store *st, const struct pat_user *u);
    /* By id when key starts with "usr_", else by username. */
    int (*user_get)(struct pat_store *st, const char *key,
                    struct pat_user *out);
    /* q: NULL, or a substring of username, display name or email. */
    int (*user_list)(struct pat_store *st, int64_t after, const char *q,
                     struct pat_user *out, size_t cap, size_t *n);
    /* The argon2id string of a user; PAT_ENOTFOUND when there is none. */
    int (*user_password_get)(struct pat_store *st, const char *user_id,
                             char *buf, size_t cap);
    int (*user_password_set)(struct pat_store *st, const char *user_id,
                             const char *hash);

    int (*scope_put)(struct pat_store *st, const struct pat_scope *s);
    int (*scope_get)(struct pat_store *st, const char *name,
                     struct pat_scope *out);
    int (*scope_list)(struct pat_store *st, struct pat_scope *out, size_t cap,
                      size_t *n);

    int (*scope_delete)(struct pat_store *st, const char *name);
    /* Active tokens (at now) that hold the scope. */
    int (*scope_in_use)(struct pat_store *st, const char *name, int64_t now,
                        int64_t *n);
    /* Removes the scope from every user's allowed list. */
    int (*scope_strip_users)(struct pat_store *st, const char *name);

    int (*policy_get)(struct pat_store *st, struct pat_policy *out);
    int (*policy_put)(struct pat_store *st, const struct pat_policy *p);

    int (*token_insert)(struct pat_store *st, const struct pat_token *t);
    /* Writes name, description, hint, expires_at, revoked_at, reason. */
    int (*token_update)(struct pat_store *st, const struct pat_token *t);
    int (*token_get)(struct pat_store *st, const char *id,
                     struct pat_token *out);
    int (*token_list)(struct pat_store *st, const struct pat_token_filter *f,
                      int64_t now, struct pat_token *out, size_t cap,
                      size_t *n);
    /* Tokens of user that are neither revoked nor expired at now. */
    int (*token_count_live)(struct pat_store *st, const char *user_id,
                            int64_t now, int64_t *n);
    int (*token_revoke_user)(struct pat_store *st, const char *user_id,
                             int64_t at, const char *reason, int64_t *n);

    /*
     * Revokes (or with dry_run only counts) the live tokens matching f
     * (user_id, scope, created_before; at least one set).
     */
    int (*token_revoke_where)(struct pat_store *st,
                              const struct pat_bulk_filter *f, int64_t at,
                              const char *reason, bool dry_run, int64_t *n);

    /* Writes last_used_at, last_used_ip and recent_ips of token id. */
    int (*token_usage_put)(struct pat_store *st, const char *id,
                           int64_t last_used_at, const char *last_used_ip,
                           const char *recent_ips);

    int (*secret_insert)(struct pat_store *st, const uint8_t *hash,
                         const char *token_id, int64_t at);
    /* Sets retire_at on the token's secrets that retire later or never. */
    int (*secret_retire)(struct pat_store *st, const char *token_id,
                         int64_t retire_at);
    /*
     * One read: the secret with this hash, its token and the token's
     * owner. *retire_at is 0 for the current secret.
     */
    int (*verify_lookup)(struct pat_store *st, const uint8_t *hash,
                         struct pat_token *t, int64_t *retire_at,
                         struct pat_user *u);

    int (*session_insert)(struct pat_store *st, const uint8_t *hash,
                          const char *user_id, const char *csrf,
                          int64_t created_at, int64_t expires_at);
    /* The unexpired session with this hash (at now). */
    int (*session_get)(struct pat_store *st, const uint8_t *hash, int64_t now,
                       char *user_id, size_t user_cap, char *csrf,
                       size_t csrf_cap);
    int (*session_delete)(struct pat_store *st, const uint8_t *hash);
    int (*session_delete_user)(struct pat_store *st, const char *user_id);

    int (*audit_insert)(struct pat_store *st, const struct pat_audit *ev);
    int (*audit_list)(struct pat_store *st, const struct pat_audit_filter *f,
                      struct pat_audit *out, size_t cap, size_t *n);

    /*
     * Export and import (lib/transfer.c) read and write whole rows, with
     * nothing recomputed: every user (deleted ones too) by seq after
     * `after`; a user with its argon2id string (NULL: no password); a
     * token with its revocation and usage; the secrets by hash after
     * `after` (NULL: from the first), and one secret as it was.
     */
    int (*user_dump)(struct pat_store *st, int64_t after, struct pat_user *out,
                     size_t cap, size_t *n);
    int (*user_restore)(struct pat_store *st, const struct pat_user *u,
                        const char *password_hash);
    int (*token_restore)(struct pat_store *st, const struct pat_token *t);
    int (*secret_dump)(struct pat_store *st, const uint8_t *after,
                       struct pat_secret *out, size_t cap, size_t *n);
    int (*secret_restore)(struct pat_store *st, const struct pat_secret *s);

    /*
     * Scale-out (NULL where the backend has one node only, as SQLite).
     *
     * notify queues payload on PAT_CHANGES_CHANNEL inside the open
     * transaction: it is delivered to every listener when, and only if,
     * the transaction commits.
     *
     * listen_start makes this handle a listener on channel (the handle is
     * then used for nothing else). listen_wait waits up to timeout_ms for
     * one notification: PAT_OK with its payload (truncated to cap - 1),
     * PAT_ENOTFOUND when none came, PAT_EUNAVAIL when the connection is
     * lost or stopped answering (notifications may have been missed: the
     * caller opens a new handle and treats everything as changed).
     */
    int (*notify)(struct pat_store *st, const char *payload);
    int (*listen_start)(struct pat_store *st, const char *channel);
    int (*listen_wait)(struct pat_store *st, int timeout_ms, char *payload,
                       size_t cap);
};

extern const struct pat_store_ops pat__sqlite_ops;
extern const struct pat_store_ops pat__postgres_ops;

/* Applies pending migrations; sets st->schema_version and _applied. */
int pat__migrate(struct pat_store *st);

#endif
