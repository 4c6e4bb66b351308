/* SPDX-License-Identifier: MIT */
/*
 * Store operations of governance (DESIGN.md section 13, migration 8):
 * the kind of a user, the governance columns of a token, the atomic
 * spending of one use, and the lists that the approval queue and the
 * periodic sweep (pending requests that are too old, unused tokens) read.
 */
#include <string.h>

#include "store/ops.h"

int
pat__db_user_kind_set(struct pat_store *st, const char *id, const char *kind)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_KIND_SET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    b_text(st, s, 2, kind);
    return pat__q_run(st, s, NULL);
}

int
pat__db_token_gov_set(struct pat_store *st, const struct pat_token *t)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_GOV_SET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, t->id);
    b_text(st, s, 2, pat__approval_name(t->approval));
    b_text(st, s, 3, t->approval_reason);
    b_opt(st, s, 4, t->decided_by);
    b_time(st, s, 5, t->decided_at);
    b_int(st, s, 6, t->max_uses);
    b_int(st, s, 7, t->uses_left);
    b_int(st, s, 8, t->rate_limit);
    b_int(st, s, 9, t->rate_window);
    b_time(st, s, 10, t->unused_notice_at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_token_use(struct pat_store *st, const char *id, int64_t *left)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_USE, &s);

    *left = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        *left = c_int(st, s, 0);
    q_done(st, s);
    return rc;
}

int
pat__db_token_pending(struct pat_store *st, int64_t after,
                      struct pat_token *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_PENDING, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, after);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, pat__row_token, out, sizeof(*out), cap, n);
}

int
pat__db_token_pending_old(struct pat_store *st, int64_t before,
                          struct pat_token *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_PENDING_OLD, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, before);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, pat__row_token, out, sizeof(*out), cap, n);
}

int
pat__db_token_idle(struct pat_store *st, int64_t now, int64_t idle_before,
                   int64_t after, struct pat_token *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_TOKEN_IDLE, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, now);
    b_int(st, s, 2, idle_before);
    b_int(st, s, 3, (int64_t)cap);
    b_int(st, s, 4, after);
    return pat__q_rows(st, s, pat__row_token, out, sizeof(*out), cap, n);
}
