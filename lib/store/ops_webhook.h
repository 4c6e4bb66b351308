/* SPDX-License-Identifier: MIT */
/*
 * The store operations of lib/store/ops_webhook.c: webhook endpoints,
 * their outbox and attempts, and the once-only notice and mail records.
 * Each runs on the caller's connection, inside its transaction if one is
 * open; PAT_ENOTFOUND means no row.
 */
#ifndef PAT_STORE_OPS_WEBHOOK_H
#define PAT_STORE_OPS_WEBHOOK_H

#include "store/store_int.h"
#include "pat/webhook.h"

int pat__db_webhook_insert(struct pat_store *st, const struct pat_webhook *w,
                           const char *secret);
int pat__db_webhook_get(struct pat_store *st, const char *id,
                        struct pat_webhook *out);
int pat__db_webhook_list(struct pat_store *st, int64_t after,
                         struct pat_webhook *out, size_t cap, size_t *n);
/* Writes url, events, description, enabled, updated_at, failure state. */
int pat__db_webhook_update(struct pat_store *st, const struct pat_webhook *w);
int pat__db_webhook_secret_set(struct pat_store *st, const char *id,
                               const char *secret, int64_t at);
int pat__db_webhook_secret_get(struct pat_store *st, const char *id, char *buf,
                               size_t cap);
/* The endpoint with its outbox and attempts. */
int pat__db_webhook_delete(struct pat_store *st, const char *id);
/* Enabled endpoints due at now_ms whose lease is free or node's. */
int pat__db_webhook_due(struct pat_store *st, const char *node, int64_t now_ms,
                        struct pat_webhook *out, size_t cap, size_t *n);
/* *got: node now holds the lease on id until until_ms. */
int pat__db_webhook_lease(struct pat_store *st, const char *id,
                          const char *node, int64_t until_ms, int64_t now_ms,
                          bool *got);
int pat__db_webhook_release(struct pat_store *st, const char *id,
                            const char *node);
/* Writes w's delivery state if node holds the lease, else PAT_ECONFLICT. */
int pat__db_webhook_advance(struct pat_store *st, const char *node,
                            const struct pat_webhook *w);
/* The first feed row in (after, upto] of a type in events. */
int pat__db_webhook_next_event(struct pat_store *st, int64_t after,
                               int64_t upto, const char *events,
                               struct pat_change *out);
int pat__db_webhook_stats(struct pat_store *st, int64_t *waiting,
                          int64_t *oldest_at);
int pat__db_change_get(struct pat_store *st, int64_t seq,
                       struct pat_change *out);
int pat__db_outbox_insert(struct pat_store *st, const char *endpoint_id,
                          const char *msg_id, int64_t event_seq,
                          const char *type, const char *body, int64_t at);
/* Fills outbox_seq, msg_id, event_seq, type and body of m. */
int pat__db_outbox_next(struct pat_store *st, const char *endpoint_id,
                        struct pat_webhook_msg *m);
int pat__db_outbox_delete(struct pat_store *st, int64_t seq);
int pat__db_attempt_insert(struct pat_store *st,
                           const struct pat_webhook_attempt *a);
int pat__db_attempt_list(struct pat_store *st, const char *endpoint_id,
                         int64_t before, struct pat_webhook_attempt *out,
                         size_t cap, size_t *n);
int pat__db_attempt_get(struct pat_store *st, const char *endpoint_id,
                        const char *id, struct pat_webhook_attempt *out);
int pat__db_attempt_prune(struct pat_store *st, int64_t before_ms, int64_t *n);
/* *fresh: the record is new (false: it existed, nothing written). */
int pat__db_notice_insert(struct pat_store *st, const char *token_id,
                          const char *kind, int64_t at, bool *fresh);
int pat__db_notice_candidates(struct pat_store *st, int64_t until, int64_t from,
                              int64_t after, struct pat_token *out, size_t cap,
                              size_t *n);
/* Up to cap owners (ids) with an address and notices not yet mailed. */
int pat__db_notice_mail_users(struct pat_store *st, char (*out)[PAT_ID_LEN + 1],
                              size_t cap, size_t *n);
/* Up to cap of user_id's notices not yet mailed, soonest first. */
int pat__db_notice_mail_list(struct pat_store *st, const char *user_id,
                             struct pat_notice_line *out, size_t cap,
                             size_t *n);
/* Marks every notice of user_id's tokens not yet mailed as mailed at. */
int pat__db_notice_mail_mark(struct pat_store *st, const char *user_id,
                             int64_t at);
int pat__db_mail_log_insert(struct pat_store *st, const char *user_id,
                            const char *kind, int64_t day, int64_t at,
                            bool *fresh);

#endif
