/* SPDX-License-Identifier: MIT */
/*
 * Store operations on webhook endpoints, their one-off outbox, their
 * delivery attempts, and the once-only records of expiry notices and
 * notification mails. The rules (what is due, the backoff, when an
 * endpoint is disabled) are in lib/webhook.c and lib/notice.c.
 */
#include <string.h>

#include "store/ops.h"
#include "store/ops_webhook.h"

static void
read_webhook(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    struct pat_webhook *w = row;

    memset(w, 0, sizeof(*w));
    w->seq = c_int(st, s, i);
    c_text(st, s, i + 1, w->id, sizeof(w->id));
    c_text(st, s, i + 2, w->url, sizeof(w->url));
    c_text(st, s, i + 3, w->events, sizeof(w->events));
    c_text(st, s, i + 4, w->description, sizeof(w->description));
    w->enabled = c_int(st, s, i + 5) != 0;
    w->created_at = c_int(st, s, i + 6);
    w->updated_at = c_int(st, s, i + 7);
    w->cursor = c_int(st, s, i + 8);
    w->attempt = (int)c_int(st, s, i + 9);
    w->next_at_ms = c_int(st, s, i + 10);
    w->failing_since = c_int(st, s, i + 11);
    c_text(st, s, i + 12, w->disabled_reason, sizeof(w->disabled_reason));
    c_text(st, s, i + 13, w->lease_node, sizeof(w->lease_node));
    w->lease_until_ms = c_int(st, s, i + 14);
}

static void
read_attempt(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    struct pat_webhook_attempt *a = row;

    memset(a, 0, sizeof(*a));
    a->seq = c_int(st, s, i);
    c_text(st, s, i + 1, a->id, sizeof(a->id));
    c_text(st, s, i + 2, a->endpoint_id, sizeof(a->endpoint_id));
    c_text(st, s, i + 3, a->msg_id, sizeof(a->msg_id));
    a->event_seq = c_int(st, s, i + 4);
    c_text(st, s, i + 5, a->type, sizeof(a->type));
    a->at_ms = c_int(st, s, i + 6);
    c_text(st, s, i + 7, a->node, sizeof(a->node));
    c_text(st, s, i + 8, a->result, sizeof(a->result));
    a->status = (int)c_int(st, s, i + 9);
    a->latency_ms = c_int(st, s, i + 10);
    c_text(st, s, i + 11, a->response, sizeof(a->response));
    c_text(st, s, i + 12, a->error, sizeof(a->error));
    a->manual = c_int(st, s, i + 13) != 0;
}

static void
read_change(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    struct pat_change *ch = row;

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

/* One row of q read with read into out; PAT_ENOTFOUND when none. */
static int
one_row(struct pat_store *st, struct pat_stmt *s, pat__row_fn read, void *out)
{
    int rc = q_step(st, s);

    if (rc == PAT_OK)
        read(st, s, 0, out);
    q_done(st, s);
    return rc;
}

int
pat__db_webhook_insert(struct pat_store *st, const struct pat_webhook *w,
                       const char *secret)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, w->id);
    b_text(st, s, 2, w->url);
    b_text(st, s, 3, w->events);
    b_text(st, s, 4, w->description);
    b_text(st, s, 5, secret);
    b_int(st, s, 6, w->enabled ? 1 : 0);
    b_int(st, s, 7, w->created_at);
    b_int(st, s, 8, w->updated_at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_webhook_get(struct pat_store *st, const char *id,
                    struct pat_webhook *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_GET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    return one_row(st, s, read_webhook, out);
}

int
pat__db_webhook_list(struct pat_store *st, int64_t after,
                     struct pat_webhook *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, after);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, read_webhook, out, sizeof(*out), cap, n);
}

int
pat__db_webhook_update(struct pat_store *st, const struct pat_webhook *w)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_UPDATE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, w->id);
    b_text(st, s, 2, w->url);
    b_text(st, s, 3, w->events);
    b_text(st, s, 4, w->description);
    b_int(st, s, 5, w->enabled ? 1 : 0);
    b_int(st, s, 6, w->updated_at);
    b_int(st, s, 7, w->attempt);
    b_int(st, s, 8, w->next_at_ms);
    b_time(st, s, 9, w->failing_since);
    b_text(st, s, 10, w->disabled_reason);
    return pat__q_run(st, s, NULL);
}

int
pat__db_webhook_secret_set(struct pat_store *st, const char *id,
                           const char *secret, int64_t at)
{
    struct pat_stmt *s;
    int64_t n = 0;
    int rc = q_prepare(st, Q_WEBHOOK_SECRET_SET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    b_text(st, s, 2, secret);
    b_int(st, s, 3, at);
    rc = pat__q_run(st, s, &n);
    return rc == PAT_OK && n == 0 ? PAT_ENOTFOUND : rc;
}

int
pat__db_webhook_secret_get(struct pat_store *st, const char *id, char *buf,
                           size_t cap)
{
    return pat__q_text_get(st, Q_WEBHOOK_SECRET_GET, id, buf, cap);
}

int
pat__db_webhook_delete(struct pat_store *st, const char *id)
{
    int rc = pat__q_run_text(st, Q_OUTBOX_CLEAR, id);

    if (rc == PAT_OK)
        rc = pat__q_run_text(st, Q_ATTEMPT_CLEAR, id);
    if (rc == PAT_OK)
        rc = pat__q_run_text(st, Q_WEBHOOK_DELETE, id);
    return rc;
}

int
pat__db_webhook_due(struct pat_store *st, const char *node, int64_t now_ms,
                    struct pat_webhook *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_DUE, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, now_ms);
    b_text(st, s, 2, node);
    b_int(st, s, 3, (int64_t)cap);
    return pat__q_rows(st, s, read_webhook, out, sizeof(*out), cap, n);
}

int
pat__db_webhook_lease(struct pat_store *st, const char *id, const char *node,
                      int64_t until_ms, int64_t now_ms, bool *got)
{
    struct pat_stmt *s;
    int64_t n = 0;
    int rc = q_prepare(st, Q_WEBHOOK_LEASE, &s);

    *got = false;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    b_text(st, s, 2, node);
    b_int(st, s, 3, until_ms);
    b_int(st, s, 4, now_ms);
    rc = pat__q_run(st, s, &n);
    *got = rc == PAT_OK && n == 1;
    return rc;
}

int
pat__db_webhook_release(struct pat_store *st, const char *id, const char *node)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_RELEASE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    b_text(st, s, 2, node);
    return pat__q_run(st, s, NULL);
}

int
pat__db_webhook_advance(struct pat_store *st, const char *node,
                        const struct pat_webhook *w)
{
    struct pat_stmt *s;
    int64_t n = 0;
    int rc = q_prepare(st, Q_WEBHOOK_ADVANCE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, w->id);
    b_text(st, s, 2, node);
    b_int(st, s, 3, w->cursor);
    b_int(st, s, 4, w->attempt);
    b_int(st, s, 5, w->next_at_ms);
    b_time(st, s, 6, w->failing_since);
    b_int(st, s, 7, w->enabled ? 1 : 0);
    b_text(st, s, 8, w->disabled_reason);
    rc = pat__q_run(st, s, &n);
    if (rc == PAT_OK && n == 0)
        return pat__fail(st, PAT_ECONFLICT, "the lease on '%s' was lost",
                         w->id);
    return rc;
}

int
pat__db_webhook_next_event(struct pat_store *st, int64_t after, int64_t upto,
                           const char *events, struct pat_change *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_NEXT_EVENT, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, after);
    b_int(st, s, 2, upto);
    b_text(st, s, 3, events);
    return one_row(st, s, read_change, out);
}

int
pat__db_webhook_stats(struct pat_store *st, int64_t *waiting,
                      int64_t *oldest_at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_WEBHOOK_STATS, &s);

    *waiting = 0;
    *oldest_at = 0;
    if (rc != PAT_OK)
        return rc;
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        *waiting = c_int(st, s, 0);
        *oldest_at = c_int(st, s, 1);
    } else if (rc == PAT_ENOTFOUND) {
        rc = PAT_OK;
    }
    q_done(st, s);
    return rc;
}

int
pat__db_change_get(struct pat_store *st, int64_t seq, struct pat_change *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_CHANGE_GET, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, seq);
    return one_row(st, s, read_change, out);
}

int
pat__db_outbox_insert(struct pat_store *st, const char *endpoint_id,
                      const char *msg_id, int64_t event_seq, const char *type,
                      const char *body, int64_t at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_OUTBOX_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, endpoint_id);
    b_text(st, s, 2, msg_id);
    b_int(st, s, 3, event_seq);
    b_text(st, s, 4, type);
    b_text(st, s, 5, body ? body : "");
    b_int(st, s, 6, at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_outbox_next(struct pat_store *st, const char *endpoint_id,
                    struct pat_webhook_msg *m)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_OUTBOX_NEXT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, endpoint_id);
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        m->outbox_seq = c_int(st, s, 0);
        c_text(st, s, 1, m->msg_id, sizeof(m->msg_id));
        m->event_seq = c_int(st, s, 2);
        c_text(st, s, 3, m->type, sizeof(m->type));
        c_text(st, s, 4, m->body, sizeof(m->body));
    }
    q_done(st, s);
    return rc;
}

int
pat__db_outbox_delete(struct pat_store *st, int64_t seq)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_OUTBOX_DELETE, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, seq);
    return pat__q_run(st, s, NULL);
}

int
pat__db_attempt_insert(struct pat_store *st,
                       const struct pat_webhook_attempt *a)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_ATTEMPT_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, a->id);
    b_text(st, s, 2, a->endpoint_id);
    b_text(st, s, 3, a->msg_id);
    b_int(st, s, 4, a->event_seq);
    b_text(st, s, 5, a->type);
    b_int(st, s, 6, a->at_ms);
    b_text(st, s, 7, a->node);
    b_text(st, s, 8, a->result);
    b_int(st, s, 9, a->status);
    b_int(st, s, 10, a->latency_ms);
    b_text(st, s, 11, a->response);
    b_text(st, s, 12, a->error);
    b_int(st, s, 13, a->manual ? 1 : 0);
    return pat__q_run(st, s, NULL);
}

int
pat__db_attempt_list(struct pat_store *st, const char *endpoint_id,
                     int64_t before, struct pat_webhook_attempt *out,
                     size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_ATTEMPT_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, endpoint_id);
    b_int(st, s, 2, before);
    b_int(st, s, 3, (int64_t)cap);
    return pat__q_rows(st, s, read_attempt, out, sizeof(*out), cap, n);
}

int
pat__db_attempt_get(struct pat_store *st, const char *endpoint_id,
                    const char *id, struct pat_webhook_attempt *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_ATTEMPT_GET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, endpoint_id);
    b_text(st, s, 2, id);
    return one_row(st, s, read_attempt, out);
}

int
pat__db_attempt_prune(struct pat_store *st, int64_t before_ms, int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_ATTEMPT_PRUNE, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, before_ms);
    return pat__q_run(st, s, n);
}

int
pat__db_notice_insert(struct pat_store *st, const char *token_id,
                      const char *kind, int64_t at, bool *fresh)
{
    struct pat_stmt *s;
    int64_t n = 0;
    int rc = q_prepare(st, Q_NOTICE_INSERT, &s);

    *fresh = false;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, token_id);
    b_text(st, s, 2, kind);
    b_int(st, s, 3, at);
    rc = pat__q_run(st, s, &n);
    *fresh = rc == PAT_OK && n == 1;
    return rc;
}

int
pat__db_notice_candidates(struct pat_store *st, int64_t until, int64_t from,
                          int64_t after, struct pat_token *out, size_t cap,
                          size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_NOTICE_CANDIDATES, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, until);
    b_int(st, s, 2, from);
    b_int(st, s, 3, after);
    b_int(st, s, 4, (int64_t)cap);
    return pat__q_rows(st, s, pat__row_token, out, sizeof(*out), cap, n);
}

int
pat__db_mail_log_insert(struct pat_store *st, const char *user_id,
                        const char *kind, int64_t day, int64_t at, bool *fresh)
{
    struct pat_stmt *s;
    int64_t n = 0;
    int rc = q_prepare(st, Q_MAIL_LOG_INSERT, &s);

    *fresh = false;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_text(st, s, 2, kind);
    b_int(st, s, 3, day);
    b_int(st, s, 4, at);
    rc = pat__q_run(st, s, &n);
    *fresh = rc == PAT_OK && n == 1;
    return rc;
}

static void
read_user_id(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    c_text(st, s, i, row, PAT_ID_LEN + 1);
}

int
pat__db_notice_mail_users(struct pat_store *st, char (*out)[PAT_ID_LEN + 1],
                          size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_NOTICE_MAIL_USERS, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, (int64_t)cap);
    return pat__q_rows(st, s, read_user_id, out, sizeof(*out), cap, n);
}

static void
read_line(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    struct pat_notice_line *l = row;

    memset(l, 0, sizeof(*l));
    c_text(st, s, i, l->name, sizeof(l->name));
    c_text(st, s, i + 1, l->hint, sizeof(l->hint));
    l->expires_at = c_int(st, s, i + 2);
    c_text(st, s, i + 3, l->kind, sizeof(l->kind));
}

int
pat__db_notice_mail_list(struct pat_store *st, const char *user_id,
                         struct pat_notice_line *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_NOTICE_MAIL_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, read_line, out, sizeof(*out), cap, n);
}

int
pat__db_notice_mail_mark(struct pat_store *st, const char *user_id, int64_t at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_NOTICE_MAIL_MARK, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, at);
    return pat__q_run(st, s, NULL);
}
