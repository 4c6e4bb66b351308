/* SPDX-License-Identifier: MIT */
/*
 * How operations run statements and read rows: the run, count and
 * list-reading loops every operation shares, and the one reader of a
 * user row and of a token row. A new column means one bind where the
 * row is written and one line here.
 */
#include <string.h>

#include "store/ops.h"

int
pat__q_run(struct pat_store *st, struct pat_stmt *s, int64_t *changed)
{
    int rc = q_step(st, s);

    if (rc == PAT_ENOTFOUND || rc == PAT_OK)
        rc = PAT_OK;
    if (rc == PAT_OK && changed != NULL)
        *changed = st->drv->changes(st, s);
    q_done(st, s);
    return rc;
}

int
pat__q_run_text(struct pat_store *st, enum pat_q q, const char *v)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, q, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, v);
    return pat__q_run(st, s, NULL);
}

int
pat__q_text_get(struct pat_store *st, enum pat_q q, const char *v, char *buf,
                size_t cap)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, q, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, v);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        c_text(st, s, 0, buf, cap);
    q_done(st, s);
    return rc;
}

int
pat__q_number(struct pat_store *st, struct pat_stmt *s, int64_t *n)
{
    int rc = q_step(st, s);

    *n = 0;
    if (rc == PAT_OK)
        *n = c_int(st, s, 0);
    q_done(st, s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

int
pat__q_rows(struct pat_store *st, struct pat_stmt *s, pat__row_fn read,
            void *out, size_t size, size_t cap, size_t *n)
{
    int rc = PAT_OK;

    *n = 0;
    while (*n < cap && (rc = q_step(st, s)) == PAT_OK) {
        read(st, s, 0, (char *)out + *n * size);
        (*n)++;
    }
    q_done(st, s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

const char *
pat__role_name(int role)
{
    return role == PAT_ROLE_ADMIN ? "admin" : "user";
}

void
pat__row_user(struct pat_store *st, struct pat_stmt *s, int i, void *user)
{
    struct pat_user *u = user;
    char role[8];

    memset(u, 0, sizeof(*u));
    u->seq = c_int(st, s, i);
    c_text(st, s, i + 1, u->id, sizeof(u->id));
    c_text(st, s, i + 2, u->username, sizeof(u->username));
    c_text(st, s, i + 3, u->display_name, sizeof(u->display_name));
    c_text(st, s, i + 4, u->email, sizeof(u->email));
    c_text(st, s, i + 5, role, sizeof(role));
    u->role = strcmp(role, "admin") == 0 ? PAT_ROLE_ADMIN : PAT_ROLE_USER;
    c_text(st, s, i + 6, u->scopes, sizeof(u->scopes));
    u->disabled = c_int(st, s, i + 7) != 0;
    u->has_password = c_int(st, s, i + 8) != 0;
    u->created_at = c_int(st, s, i + 9);
    u->updated_at = c_int(st, s, i + 10);
    u->deleted_at = c_int(st, s, i + 11);
    c_text(st, s, i + 12, role, sizeof(role));
    u->kind = strcmp(role, "service") == 0 ? PAT_KIND_SERVICE : PAT_KIND_PERSON;
}

static const char *const approvals[] = {"", "pending", "approved", "denied",
                                        "expired"};

const char *
pat__approval_name(int approval)
{
    return approval > 0 && approval < 5 ? approvals[approval] : "";
}

int
pat__approval_parse(const char *s)
{
    int i;

    for (i = 1; i < 5; i++) {
        if (strcmp(approvals[i], s) == 0)
            return i;
    }
    return PAT_APPROVAL_NONE;
}

void
pat__row_token(struct pat_store *st, struct pat_stmt *s, int i, void *token)
{
    struct pat_token *t = token;

    memset(t, 0, sizeof(*t));
    t->seq = c_int(st, s, i);
    c_text(st, s, i + 1, t->id, sizeof(t->id));
    c_text(st, s, i + 2, t->user_id, sizeof(t->user_id));
    c_text(st, s, i + 3, t->name, sizeof(t->name));
    c_text(st, s, i + 4, t->description, sizeof(t->description));
    c_text(st, s, i + 5, t->scopes, sizeof(t->scopes));
    c_text(st, s, i + 6, t->audiences, sizeof(t->audiences));
    c_text(st, s, i + 7, t->allowed_cidrs, sizeof(t->allowed_cidrs));
    c_text(st, s, i + 8, t->hint, sizeof(t->hint));
    t->created_at = c_int(st, s, i + 9);
    t->expires_at = c_int(st, s, i + 10);
    t->revoked_at = c_int(st, s, i + 11);
    c_text(st, s, i + 12, t->revoked_reason, sizeof(t->revoked_reason));
    t->last_used_at = c_int(st, s, i + 13);
    c_text(st, s, i + 14, t->last_used_ip, sizeof(t->last_used_ip));
    c_text(st, s, i + 15, t->recent_ips, sizeof(t->recent_ips));
    {
        char approval[16];
        c_text(st, s, i + 16, approval, sizeof(approval));
        t->approval = pat__approval_parse(approval);
    }
    c_text(st, s, i + 17, t->approval_reason, sizeof(t->approval_reason));
    c_text(st, s, i + 18, t->decided_by, sizeof(t->decided_by));
    t->decided_at = c_int(st, s, i + 19);
    t->max_uses = c_int(st, s, i + 20);
    t->uses_left = c_int(st, s, i + 21);
    t->rate_limit = (int)c_int(st, s, i + 22);
    t->rate_window = (int)c_int(st, s, i + 23);
    t->unused_notice_at = c_int(st, s, i + 24);
}
