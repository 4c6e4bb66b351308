/* SPDX-License-Identifier: MIT */
/*
 * Scheduled notices (DESIGN.md section 12): token.expiring 60, 30 and 7
 * days before a token expires and on the day, and token.expired. Like
 * GitLab's intervals, a token gets the notice of the window it is in
 * when the scan sees it (a token made to live 5 days gets the 7-day one,
 * never the 60-day one). Each notice is once per token and kind: the
 * notices table's key makes a second insert a no-op, and the feed row is
 * only written by the transaction whose insert was new, so two nodes
 * scanning at once write it once.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pat/webhook.h"
#include "store/ops_webhook.h"

#define SCAN_BATCH 200

/* The window a token is in, or NULL when none yet; *days for the data. */
static const char *
window(int64_t left, int64_t day, int *days)
{
    static const struct {
        int days;
        const char *kind;
    } w[] = {{0, "0"}, {7, "7"}, {30, "30"}, {60, "60"}};
    size_t i;

    if (left <= 0) {
        *days = 0;
        return "expired";
    }
    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        if (left <= (int64_t)(w[i].days ? w[i].days : 1) * day) {
            *days = w[i].days;
            return w[i].kind;
        }
    }
    return NULL;
}

/* The notice for t, in one transaction; *wrote: it was new. */
static int
notice_one(struct pat_store *st, const struct pat_token *t, const char *kind,
           int days, int64_t now, bool *wrote)
{
    char detail[PAT_DETAIL_MAX + 1], at[PAT_TIME_LEN + 1];
    bool expired = strcmp(kind, "expired") == 0;
    int rc = pat__tx_begin(st);

    *wrote = false;
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_notice_insert(st, t->id, kind, now, wrote);
    if (rc == PAT_OK && *wrote) {
        pat_time_format(t->expires_at, at, sizeof(at));
        if (expired)
            pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "name",
                        t->name, "hint", t->hint, "expires_at", at);
        else
            pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s, s:i}", "name",
                        t->name, "hint", t->hint, "expires_at", at, "days",
                        days);
        rc = pat__feed(st, NULL, expired ? "token.expired" : "token.expiring",
                       t->user_id, t->id, detail);
    }
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    *wrote = false;
    return rc;
}

int
pat_notices_scan(struct pat_store *st, int64_t day, int64_t *n)
{
    struct pat_token batch[16];
    int64_t now = pat_store_now(st), after = 0;
    size_t got = 0, i;
    const char *kind;
    bool wrote;
    int days, rc;

    *n = 0;
    if (day < 1)
        day = 86400;
    do {
        rc = pat__db_notice_candidates(st, now + 60 * day, now - 2 * day, after,
                                       batch, 16, &got);
        for (i = 0; rc == PAT_OK && i < got; i++) {
            after = batch[i].seq;
            kind = window(batch[i].expires_at - now, day, &days);
            if (kind == NULL)
                continue;
            rc = notice_one(st, &batch[i], kind, days, now, &wrote);
            if (rc == PAT_OK && wrote)
                (*n)++;
        }
    } while (rc == PAT_OK && got == 16 && *n < SCAN_BATCH * 50);
    return rc;
}

int
pat_mail_once(struct pat_store *st, const char *user_id, const char *kind,
              int64_t day)
{
    bool fresh = false;
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__db_mail_log_insert(st, user_id, kind, day, pat_store_now(st),
                                 &fresh);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && !fresh)
        return PAT_ECONFLICT;
    return rc;
}

int
pat_notices_mail_users(struct pat_store *st, char (*out)[PAT_ID_LEN + 1],
                       size_t cap, size_t *n)
{
    return pat__db_notice_mail_users(st, out, cap, n);
}

int
pat_notices_digest(struct pat_store *st, const char *user_id, int64_t day,
                   struct pat_notice_line *out, size_t cap, size_t *n)
{
    bool fresh = false;
    int64_t now = pat_store_now(st);
    int rc = pat__tx_begin(st);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_mail_log_insert(st, user_id, "expiring", day, now, &fresh);
    if (rc == PAT_OK && !fresh)
        rc = PAT_ECONFLICT;
    if (rc == PAT_OK)
        rc = pat__db_notice_mail_list(st, user_id, out, cap, n);
    if (rc == PAT_OK)
        rc = pat__db_notice_mail_mark(st, user_id, now);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    *n = 0;
    return rc;
}
