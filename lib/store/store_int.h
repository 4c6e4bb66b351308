/* SPDX-License-Identifier: MIT */
/*
 * The store operations: what the rest of libpat calls to read and write
 * rows. Each is written once (lib/store/ops_*.c) on the driver
 * primitives of driver.h, for every backend. The library applies every
 * rule; an operation only reads and writes rows, with bound parameters.
 * Errors: a unique-key violation is PAT_ECONFLICT, a missing row
 * PAT_ENOTFOUND, a store that cannot be reached PAT_EUNAVAIL, anything
 * else PAT_ESTORE (with detail through pat__seterr). Output structs are
 * complete on PAT_OK and unspecified otherwise.
 */
#ifndef PAT_STORE_INT_H
#define PAT_STORE_INT_H

#include "store/driver.h"
#include "pat/exchange.h"

/*
 * The channel on which a backend that can notify (PostgreSQL) announces
 * committed feed rows that can make a token less valid; every node's
 * verifier listens on it (DESIGN.md section 5). The payload is the
 * row's seq.
 */
#define PAT_CHANGES_CHANNEL "patd_changes"
#define PAT_PAYLOAD_MAX     63

/* One row of the secrets table, for export and import. */
struct pat_secret {
    uint8_t hash[PAT_HASH_LEN];
    char token_id[PAT_ID_LEN + 1];
    int64_t created_at;
    int64_t retire_at; /* 0: the current secret */
};

/* Applies pending migrations; sets st->schema_version and _applied. */
int pat__migrate(struct pat_store *st);

/* Highest recorded migration (0: none); creates the record table. */
int pat__db_schema_version(struct pat_store *st, int *version);
int pat__db_schema_record(struct pat_store *st, int version, const char *name,
                          int64_t at);

int pat__db_setting_get(struct pat_store *st, const char *key, char *buf,
                        size_t cap);
int pat__db_setting_put(struct pat_store *st, const char *key,
                        const char *value);

int pat__db_user_insert(struct pat_store *st, const struct pat_user *u);
/* Writes every mutable field of u, found by u->id. */
int pat__db_user_update(struct pat_store *st, const struct pat_user *u);
/* By id when key starts with "usr_", else by username. */
int pat__db_user_get(struct pat_store *st, const char *key,
                     struct pat_user *out);
/* q: NULL, or a substring of username, display name or email. */
int pat__db_user_list(struct pat_store *st, int64_t after, const char *q,
                      const char *kind, struct pat_user *out, size_t cap,
                      size_t *n);
/* The argon2id string of a user; PAT_ENOTFOUND when there is none. */
int pat__db_user_password_get(struct pat_store *st, const char *user_id,
                              char *buf, size_t cap);
int pat__db_user_password_set(struct pat_store *st, const char *user_id,
                              const char *hash);

int pat__db_scope_put(struct pat_store *st, const struct pat_scope *s);
int pat__db_scope_get(struct pat_store *st, const char *name,
                      struct pat_scope *out);
int pat__db_scope_list(struct pat_store *st, struct pat_scope *out, size_t cap,
                       size_t *n);
int pat__db_scope_delete(struct pat_store *st, const char *name);
/* Live tokens (at now) that hold the scope. */
int pat__db_scope_in_use(struct pat_store *st, const char *name, int64_t now,
                         int64_t *n);
/* Removes the scope from every user's allowed list. */
int pat__db_scope_strip_users(struct pat_store *st, const char *name);

int pat__db_policy_get(struct pat_store *st, struct pat_policy *out);
int pat__db_policy_put(struct pat_store *st, const struct pat_policy *p);

int pat__db_token_insert(struct pat_store *st, const struct pat_token *t);
/* Writes name, description, hint, expires_at, revoked_at, reason. */
int pat__db_token_update(struct pat_store *st, const struct pat_token *t);
int pat__db_token_get(struct pat_store *st, const char *id,
                      struct pat_token *out);
int pat__db_token_list(struct pat_store *st, const struct pat_token_filter *f,
                       int64_t now, struct pat_token *out, size_t cap,
                       size_t *n);
/* Tokens of user that are neither revoked nor expired at now. */
int pat__db_token_count_live(struct pat_store *st, const char *user_id,
                             int64_t now, int64_t *n);
/*
 * Revokes every token of user_id not yet revoked, appending for each one
 * feed row made from ch (its user_id and token_id filled in per token).
 */
int pat__db_token_revoke_user(struct pat_store *st, const char *user_id,
                              int64_t at, const char *reason,
                              const struct pat_change *ch, int64_t *n);
/*
 * Revokes (or with dry_run only counts) the tokens not yet revoked that
 * match f (user_id, scope, created_before; at least one set), appending
 * for each one a feed row made from ch, as above.
 */
int pat__db_token_revoke_where(struct pat_store *st,
                               const struct pat_bulk_filter *f, int64_t at,
                               const char *reason, bool dry_run,
                               const struct pat_change *ch, int64_t *n);
/* Writes last_used_at, last_used_ip and recent_ips of token id. */
int pat__db_token_usage_put(struct pat_store *st, const char *id,
                            int64_t last_used_at, const char *last_used_ip,
                            const char *recent_ips);

int pat__db_secret_insert(struct pat_store *st, const uint8_t *hash,
                          const char *token_id, int64_t at);
/* Sets retire_at on the token's secrets that retire later or never. */
int pat__db_secret_retire(struct pat_store *st, const char *token_id,
                          int64_t retire_at);
/*
 * One read: the secret with this hash, its token and the token's owner.
 * *retire_at is 0 for the current secret.
 */
int pat__db_verify_lookup(struct pat_store *st, const uint8_t *hash,
                          struct pat_token *t, int64_t *retire_at,
                          struct pat_user *u);

/* Writes a session: ses holds its id, times, ip and user agent. */
int pat__db_session_insert(struct pat_store *st, const uint8_t *hash,
                           const char *user_id, const char *csrf,
                           const struct pat_session *ses);
/*
 * The unexpired session with this hash (at now): its user, CSRF token
 * and public id (id may be NULL). PAT_ENOTFOUND without one.
 */
int pat__db_session_get(struct pat_store *st, const uint8_t *hash, int64_t now,
                        char *user_id, size_t user_cap, char *csrf,
                        size_t csrf_cap, char *id, size_t id_cap);
/* Deletes every session expired at now; *n (may be NULL) counts them. */
int pat__db_session_prune(struct pat_store *st, int64_t now, int64_t *n);
/*
 * Deletes user_id's sessions but the one with hash keep and the keep_others
 * newest others.
 */
int pat__db_session_trim(struct pat_store *st, const char *user_id,
                         const uint8_t *keep, int64_t keep_others);
/* Up to cap of user_id's live sessions at now, newest first. */
int pat__db_session_list(struct pat_store *st, const char *user_id, int64_t now,
                         struct pat_session *out, size_t cap, size_t *n);
/* Deletes user_id's session id; PAT_ENOTFOUND when there is none. */
int pat__db_session_end(struct pat_store *st, const char *user_id,
                        const char *id);
int pat__db_session_delete(struct pat_store *st, const uint8_t *hash);
int pat__db_session_delete_user(struct pat_store *st, const char *user_id);

int pat__db_audit_insert(struct pat_store *st, const struct pat_audit *ev);
int pat__db_audit_list(struct pat_store *st, const struct pat_audit_filter *f,
                       struct pat_audit *out, size_t cap, size_t *n);

/*
 * Appends ch to the feed inside the open transaction and sets ch->seq.
 * A row whose evict is not PAT_EVICT_NONE is also noted for the commit
 * signal and announced to the other nodes (delivered at commit).
 */
int pat__db_change_append(struct pat_store *st, struct pat_change *ch);
int pat__db_change_list(struct pat_store *st, int64_t after,
                        struct pat_change *out, size_t cap, size_t *n);
int pat__db_change_last(struct pat_store *st, int64_t *seq);
/* When the newest row of type naming token_id was written; ENOTFOUND. */
int pat__db_change_last_of(struct pat_store *st, const char *token_id,
                           const char *type, int64_t *at);
int pat__db_change_prune(struct pat_store *st, int64_t before, int64_t *n);

/*
 * Export and import (lib/transfer.c) read and write whole rows, with
 * nothing recomputed: every user (deleted ones too) by seq after
 * `after`; a user with its argon2id string (NULL: no password); a token
 * with its revocation and usage; the secrets by hash after `after`
 * (NULL: from the first), and one secret as it was.
 */
int pat__db_user_dump(struct pat_store *st, int64_t after, struct pat_user *out,
                      size_t cap, size_t *n);
int pat__db_user_restore(struct pat_store *st, const struct pat_user *u,
                         const char *password_hash);
int pat__db_token_restore(struct pat_store *st, const struct pat_token *t);
int pat__db_secret_dump(struct pat_store *st, const uint8_t *after,
                        struct pat_secret *out, size_t cap, size_t *n);
int pat__db_secret_restore(struct pat_store *st, const struct pat_secret *s);

/*
 * Single sign-on and SCIM (lib/store/ops_sso.c): attributes of users,
 * one-time grants by the hex SHA-256 of their handle (take deletes and
 * returns the row), and live users counted and paged by offset.
 */
int pat__db_attr_put(struct pat_store *st, const char *user_id,
                     const char *name, const char *value);
int pat__db_attr_get(struct pat_store *st, const char *user_id,
                     const char *name, char *out, size_t cap);
int pat__db_attr_find(struct pat_store *st, const char *name, const char *value,
                      char *user_id, size_t cap);
int pat__db_grant_put(struct pat_store *st, const char *key, const char *kind,
                      const char *data, int64_t expires_at);
int pat__db_grant_take(struct pat_store *st, const char *key, const char *kind,
                       char *data, size_t cap, int64_t *expires_at);
int pat__db_grant_prune(struct pat_store *st, int64_t now);
/* Calls fn for each attribute of user_id, by name; stops at its error. */
int pat__db_attr_list(struct pat_store *st, const char *user_id,
                      int (*fn)(void *arg, const char *name, const char *value),
                      void *arg);
int pat__db_grant_count(struct pat_store *st, const char *kind, int64_t now,
                        int64_t *n);
int pat__db_user_count(struct pat_store *st, int64_t *n);
int pat__db_user_page(struct pat_store *st, int64_t offset,
                      struct pat_user *out, size_t cap, size_t *n);

/*
 * Token exchange (ops_exchange.c). Signing keys: insert one, list all
 * (oldest activation first), retire one (PAT_ENOTFOUND when no live key
 * has that kid). Exchanges: insert one (*idx: its status index, 1-based
 * as stored), the status of one by jti (PAT_ENOTFOUND without a row),
 * the live indexes of [lo, hi) at now, the highest index (0: none),
 * a user's exchanged tokens, and pruning.
 */
int pat__db_key_insert(struct pat_store *st, const struct pat_signing_key *k);
int pat__db_key_list(struct pat_store *st, struct pat_signing_key *out,
                     size_t cap, size_t *n);
int pat__db_key_retire(struct pat_store *st, const char *kid, int64_t at);
int pat__db_exchange_insert(struct pat_store *st, const char *jti,
                            const char *token_id, const char *user_id,
                            const uint8_t *hash, const char *kid, int64_t iat,
                            int64_t exp, int64_t *idx);
struct pat__exchange_status {
    int64_t idx;
    char token_id[PAT_ID_LEN + 1];
    char user_id[PAT_ID_LEN + 1];
    char username[PAT_USERNAME_MAX + 1];
    char allowed_cidrs[PAT_CIDRSTR_MAX + 1];
    bool alive;
};
int pat__db_exchange_status(struct pat_store *st, const char *jti, int64_t now,
                            struct pat__exchange_status *out);
int pat__db_exchange_live_range(struct pat_store *st, int64_t lo, int64_t hi,
                                int64_t now, int64_t *out, size_t cap,
                                size_t *n);
int pat__db_exchange_max_idx(struct pat_store *st, int64_t *idx);
int pat__db_exchange_by_user(struct pat_store *st, const char *user_id,
                             struct pat_exchange_summary *out, size_t cap,
                             size_t *n);
int pat__db_exchange_prune(struct pat_store *st, int64_t before, int64_t *n);

/*
 * Notes a committed-to-be feed row for the commit signal (store.c).
 * Called by pat__db_change_append and the bulk revocations.
 */
void pat__note_change(struct pat_store *st, int64_t seq, int evict,
                      const char *user_id, const char *token_id);

/*
 * Governance (ops_gov.c, migration 8). The kind of user id ("person" or
 * "service"). The governance columns of token t (approval, decision,
 * limits, notice), written as they are in t.
 */
int pat__db_user_kind_set(struct pat_store *st, const char *id,
                          const char *kind);
int pat__db_token_gov_set(struct pat_store *st, const struct pat_token *t);
/*
 * Spends one use of token id: PAT_OK with *left the uses that remain, or
 * PAT_ENOTFOUND when it has none left (or no limit, or is revoked).
 * Runs alone, outside any transaction: one atomic statement.
 */
int pat__db_token_use(struct pat_store *st, const char *id, int64_t *left);
/* Pending requests after seq, oldest first. */
int pat__db_token_pending(struct pat_store *st, int64_t after,
                          struct pat_token *out, size_t cap, size_t *n);
/* Pending requests created at or before `before`. */
int pat__db_token_pending_old(struct pat_store *st, int64_t before,
                              struct pat_token *out, size_t cap, size_t *n);
/*
 * Live tokens after seq `after` not used (or created, if never used)
 * since idle_before, in seq order.
 */
int pat__db_token_idle(struct pat_store *st, int64_t now, int64_t idle_before,
                       int64_t after, struct pat_token *out, size_t cap,
                       size_t *n);
/* The stored name of an approval state, and back (unknown: NONE). */
const char *pat__approval_name(int approval);
int pat__approval_parse(const char *s);

#endif
