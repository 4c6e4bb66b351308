/* SPDX-License-Identifier: MIT */
/*
 * Store operations on tokens and the secrets that open them, including
 * the one read of the verification path (pat__db_verify_lookup) and the
 * bulk revocations, which write one feed row per token they revoke.
 */
#include <stdio.h>
#include <string.h>

#include "store/ops.h"

/* The columns of Q_TOKEN_INSERT and Q_TOKEN_RESTORE, ?1 to ?10. */
static void
bind_token(struct pat_store *st, struct pat_stmt *s, const struct pat_token *t)
{
    b_text(st, s, 1, t->id);
    b_text(st, s, 2, t->user_id);
    b_text(st, s, 3, t->name);
    b_text(st, s, 4, t->description);
    b_text(st, s, 5, t->scopes);
    b_text(st, s, 6, t->audiences);
    b_text(st, s, 7, t->allowed_cidrs);
    b_text(st, s, 8, t->hint);
    b_int(st, s, 9, t->created_at);
    b_time(st, s, 10, t->expires_at);
}

int
pat__db_token_insert(struct pat_store *st, const struct pat_token *t)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    bind_token(st, s, t);
    return pat__q_run(st, s, NULL);
}

int
pat__db_token_restore(struct pat_store *st, const struct pat_token *t)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_RESTORE, &s);

    if (rc != PAT_OK)
        return rc;
    bind_token(st, s, t);
    b_time(st, s, 11, t->revoked_at);
    b_opt(st, s, 12, t->revoked_reason);
    b_time(st, s, 13, t->last_used_at);
    b_opt(st, s, 14, t->last_used_ip);
    b_text(st, s, 15, t->recent_ips);
    return pat__q_run(st, s, NULL);
}

int
pat__db_token_update(struct pat_store *st, const struct pat_token *t)
{
    struct pat_stmt *s;
    int64_t changed = 0;
    int rc = q_prepare(st, Q_TOKEN_UPDATE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, t->id);
    b_text(st, s, 2, t->name);
    b_text(st, s, 3, t->description);
    b_text(st, s, 4, t->hint);
    b_time(st, s, 5, t->expires_at);
    b_time(st, s, 6, t->revoked_at);
    b_opt(st, s, 7, t->revoked_reason);
    rc = pat__q_run(st, s, &changed);
    if (rc == PAT_OK && changed == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

int
pat__db_token_get(struct pat_store *st, const char *id, struct pat_token *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_GET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        pat__row_token(st, s, 0, out);
    q_done(st, s);
    return rc;
}

int
pat__db_token_list(struct pat_store *st, const struct pat_token_filter *f,
                   int64_t now, struct pat_token *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc =
        q_prepare(st, f->user_id ? Q_TOKEN_LIST_USER : Q_TOKEN_LIST_ALL, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, f->user_id);
    b_int(st, s, 2, f->status ? f->status : PAT_STATUS_ALL);
    b_int(st, s, 3, now);
    b_opt(st, s, 4, f->scope);
    b_int(st, s, 5, f->expires_before);
    b_int(st, s, 6, f->last_used_before);
    b_int(st, s, 7, f->created_before);
    b_int(st, s, 8, f->after);
    b_int(st, s, 9, (int64_t)cap);
    return pat__q_rows(st, s, pat__row_token, out, sizeof(*out), cap, n);
}

int
pat__db_token_count_live(struct pat_store *st, const char *user_id, int64_t now,
                         int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_COUNT_LIVE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, now);
    return pat__q_number(st, s, n);
}

/*
 * Runs a prepared Q_TOKEN_FEED_* statement whose feed columns start at
 * ?first, noting every row it returns (seq, user_id, token_id) for the
 * commit signal, and one announcement to the other nodes.
 */
static int
feed_bulk(struct pat_store *st, struct pat_stmt *s, int first,
          const struct pat_change *ch)
{
    char user_id[PAT_ID_LEN + 1], token_id[PAT_ID_LEN + 1], seq[24];
    int64_t last = 0;
    int rc;

    b_int(st, s, first, ch->at);
    b_text(st, s, first + 1, ch->type);
    b_text(st, s, first + 2, ch->actor);
    b_int(st, s, first + 3, ch->evict);
    b_text(st, s, first + 4, ch->data[0] ? ch->data : "{}");
    while ((rc = q_step(st, s)) == PAT_OK) {
        last = c_int(st, s, 0);
        c_text(st, s, 1, user_id, sizeof(user_id));
        c_text(st, s, 2, token_id, sizeof(token_id));
        pat__note_change(st, last, ch->evict, user_id, token_id);
    }
    q_done(st, s);
    if (rc != PAT_ENOTFOUND)
        return rc;
    if (last == 0 || ch->evict == PAT_EVICT_NONE || st->drv->notify == NULL)
        return PAT_OK;
    snprintf(seq, sizeof(seq), "%lld", (long long)last);
    return st->drv->notify(st, seq);
}

int
pat__db_token_revoke_user(struct pat_store *st, const char *user_id, int64_t at,
                          const char *reason, const struct pat_change *ch,
                          int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_FEED_USER, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    rc = feed_bulk(st, s, 2, ch);
    if (rc == PAT_OK)
        rc = q_prepare(st, Q_TOKEN_REVOKE_USER, &s);
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, at);
    b_text(st, s, 3, reason);
    return pat__q_run(st, s, n);
}

static void
bind_bulk(struct pat_store *st, struct pat_stmt *s,
          const struct pat_bulk_filter *f)
{
    b_opt(st, s, 1, f->user_id);
    b_opt(st, s, 2, f->scope);
    b_int(st, s, 3, f->created_before);
}

int
pat__db_token_revoke_where(struct pat_store *st,
                           const struct pat_bulk_filter *f, int64_t at,
                           const char *reason, bool dry_run,
                           const struct pat_change *ch, int64_t *n)
{
    struct pat_stmt *s;
    int rc =
        q_prepare(st, dry_run ? Q_TOKEN_COUNT_WHERE : Q_TOKEN_FEED_WHERE, &s);

    if (rc != PAT_OK)
        return rc;
    bind_bulk(st, s, f);
    if (dry_run)
        return pat__q_number(st, s, n);
    rc = feed_bulk(st, s, 4, ch);
    if (rc == PAT_OK)
        rc = q_prepare(st, Q_TOKEN_REVOKE_WHERE, &s);
    if (rc != PAT_OK)
        return rc;
    bind_bulk(st, s, f);
    b_int(st, s, 4, at);
    b_text(st, s, 5, reason);
    return pat__q_run(st, s, n);
}

int
pat__db_token_usage_put(struct pat_store *st, const char *id,
                        int64_t last_used_at, const char *last_used_ip,
                        const char *recent_ips)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_USAGE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    b_time(st, s, 2, last_used_at);
    b_opt(st, s, 3, last_used_ip);
    b_text(st, s, 4, recent_ips);
    return pat__q_run(st, s, NULL);
}

int
pat__db_secret_insert(struct pat_store *st, const uint8_t *hash,
                      const char *token_id, int64_t at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SECRET_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_hash(st, s, 1, hash);
    b_text(st, s, 2, token_id);
    b_int(st, s, 3, at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_secret_retire(struct pat_store *st, const char *token_id,
                      int64_t retire_at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SECRET_RETIRE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, token_id);
    b_int(st, s, 2, retire_at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_verify_lookup(struct pat_store *st, const uint8_t *hash,
                      struct pat_token *t, int64_t *retire_at,
                      struct pat_user *u)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_VERIFY, &s);

    if (rc != PAT_OK)
        return rc;
    b_hash(st, s, 1, hash);
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        pat__row_token(st, s, 0, t);
        *retire_at = c_int(st, s, PAT_TOKEN_NCOLS);
        pat__row_user(st, s, PAT_TOKEN_NCOLS + 1, u);
    }
    q_done(st, s);
    return rc;
}

int
pat__db_secret_dump(struct pat_store *st, const uint8_t *after,
                    struct pat_secret *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SECRET_DUMP, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    if (after != NULL)
        b_hash(st, s, 1, after);
    else
        st->drv->bind_null(s, 1);
    b_int(st, s, 2, (int64_t)cap);
    while (*n < cap && (rc = q_step(st, s)) == PAT_OK) {
        struct pat_secret *sec = &out[(*n)++];

        if (!st->drv->col_blob(s, 0, sec->hash, PAT_HASH_LEN)) {
            rc =
                pat__fail(st, PAT_ESTORE, "%s: a secret's hash is not 32 bytes",
                          st->drv->name);
            break;
        }
        c_text(st, s, 1, sec->token_id, sizeof(sec->token_id));
        sec->created_at = c_int(st, s, 2);
        sec->retire_at = c_int(st, s, 3);
    }
    q_done(st, s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

int
pat__db_secret_restore(struct pat_store *st, const struct pat_secret *sec)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SECRET_RESTORE, &s);

    if (rc != PAT_OK)
        return rc;
    b_hash(st, s, 1, sec->hash);
    b_text(st, s, 2, sec->token_id);
    b_int(st, s, 3, sec->created_at);
    b_time(st, s, 4, sec->retire_at);
    return pat__q_run(st, s, NULL);
}
