/* SPDX-License-Identifier: MIT */
/*
 * Store operations on the two records of what happened: the audit trail
 * (for people) and the change feed (for machines; DESIGN.md section 12).
 * Appending a feed row that makes something less valid also notes it for
 * the commit signal and announces it to the other nodes.
 */
#include <stdio.h>
#include <string.h>

#include "store/ops.h"

int
pat__db_audit_insert(struct pat_store *st, const struct pat_audit *ev)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_AUDIT_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, ev->at);
    b_opt(st, s, 2, ev->actor_user_id);
    b_opt(st, s, 3, ev->actor_token_id);
    b_opt(st, s, 4, ev->ip);
    b_opt(st, s, 5, ev->user_agent);
    b_text(st, s, 6, ev->action);
    b_opt(st, s, 7, ev->target_user_id);
    b_opt(st, s, 8, ev->target_token_id);
    b_text(st, s, 9, ev->detail[0] ? ev->detail : "{}");
    return pat__q_run(st, s, NULL);
}

static void
read_audit(struct pat_store *st, struct pat_stmt *s, int i, void *event)
{
    struct pat_audit *ev = event;

    memset(ev, 0, sizeof(*ev));
    ev->seq = c_int(st, s, i);
    ev->at = c_int(st, s, i + 1);
    c_text(st, s, i + 2, ev->actor_user_id, sizeof(ev->actor_user_id));
    c_text(st, s, i + 3, ev->actor_token_id, sizeof(ev->actor_token_id));
    c_text(st, s, i + 4, ev->ip, sizeof(ev->ip));
    c_text(st, s, i + 5, ev->user_agent, sizeof(ev->user_agent));
    c_text(st, s, i + 6, ev->action, sizeof(ev->action));
    c_text(st, s, i + 7, ev->target_user_id, sizeof(ev->target_user_id));
    c_text(st, s, i + 8, ev->target_token_id, sizeof(ev->target_token_id));
    c_text(st, s, i + 9, ev->detail, sizeof(ev->detail));
}

int
pat__db_audit_list(struct pat_store *st, const struct pat_audit_filter *f,
                   struct pat_audit *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_AUDIT_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_opt(st, s, 1, f->user_id);
    b_opt(st, s, 2, f->action);
    b_opt(st, s, 3, f->target);
    b_int(st, s, 4, f->since);
    b_int(st, s, 5, f->after);
    b_int(st, s, 6, (int64_t)cap);
    b_opt(st, s, 7, f->actor);
    return pat__q_rows(st, s, read_audit, out, sizeof(*out), cap, n);
}

int
pat__db_change_append(struct pat_store *st, struct pat_change *ch)
{
    struct pat_stmt *s;
    char seq[24];
    int rc;

    if (!st->in_tx)
        return pat__fail(st, PAT_ESTORE, "a change outside a transaction");
    rc = q_prepare(st, Q_CHANGE_INSERT, &s);
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, ch->at);
    b_text(st, s, 2, ch->type);
    b_text(st, s, 3, ch->actor);
    b_opt(st, s, 4, ch->user_id);
    b_opt(st, s, 5, ch->token_id);
    b_int(st, s, 6, ch->evict);
    b_text(st, s, 7, ch->data[0] ? ch->data : "{}");
    rc = q_step(st, s);
    if (rc == PAT_OK)
        ch->seq = c_int(st, s, 0);
    else if (rc == PAT_ENOTFOUND)
        rc = pat__fail(st, PAT_ESTORE, "the feed returned no sequence number");
    q_done(st, s);
    if (rc != PAT_OK || ch->evict == PAT_EVICT_NONE)
        return rc;
    pat__note_change(st, ch->seq, ch->evict, ch->user_id, ch->token_id);
    if (st->drv->notify == NULL)
        return PAT_OK;
    snprintf(seq, sizeof(seq), "%lld", (long long)ch->seq);
    return st->drv->notify(st, seq);
}

static void
read_change(struct pat_store *st, struct pat_stmt *s, int i, void *change)
{
    struct pat_change *ch = change;

    memset(ch, 0, sizeof(*ch));
    ch->seq = c_int(st, s, i);
    ch->at = c_int(st, s, i + 1);
    c_text(st, s, i + 2, ch->type, sizeof(ch->type));
    c_text(st, s, i + 3, ch->actor, sizeof(ch->actor));
    c_text(st, s, i + 4, ch->user_id, sizeof(ch->user_id));
    c_text(st, s, i + 5, ch->token_id, sizeof(ch->token_id));
    ch->evict = (int)c_int(st, s, i + 6);
    c_text(st, s, i + 7, ch->data, sizeof(ch->data));
}

int
pat__db_change_list(struct pat_store *st, int64_t after, struct pat_change *out,
                    size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_CHANGE_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, after);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, read_change, out, sizeof(*out), cap, n);
}

int
pat__db_change_last(struct pat_store *st, int64_t *seq)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_CHANGE_LAST, &s);

    if (rc != PAT_OK)
        return rc;
    return pat__q_number(st, s, seq);
}

int
pat__db_change_last_of(struct pat_store *st, const char *token_id,
                       const char *type, int64_t *at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_CHANGE_LAST_OF, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, token_id);
    b_text(st, s, 2, type);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        *at = c_int(st, s, 0);
    q_done(st, s);
    return rc;
}

int
pat__db_change_prune(struct pat_store *st, int64_t before, int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_CHANGE_PRUNE, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, before);
    return pat__q_run(st, s, n);
}
