/* SPDX-License-Identifier: MIT */
/*
 * Store operations on users, their passwords and their web sessions.
 */
#include <string.h>

#include "store/ops.h"

/* The columns of Q_USER_INSERT and Q_USER_RESTORE, ?1 to ?7. */
static void
bind_user(struct pat_store *st, struct pat_stmt *s, const struct pat_user *u)
{
    b_text(st, s, 1, u->id);
    b_text(st, s, 2, u->username);
    b_text(st, s, 3, u->display_name);
    b_text(st, s, 4, u->email);
    b_text(st, s, 5, pat__role_name(u->role));
    b_text(st, s, 6, u->scopes);
    b_int(st, s, 7, u->disabled);
}

int
pat__db_user_insert(struct pat_store *st, const struct pat_user *u)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    bind_user(st, s, u);
    b_int(st, s, 8, u->created_at);
    b_int(st, s, 9, u->updated_at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_user_restore(struct pat_store *st, const struct pat_user *u,
                     const char *password_hash)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_RESTORE, &s);

    if (rc != PAT_OK)
        return rc;
    bind_user(st, s, u);
    b_opt(st, s, 8, password_hash);
    b_int(st, s, 9, u->created_at);
    b_int(st, s, 10, u->updated_at);
    b_time(st, s, 11, u->deleted_at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_user_update(struct pat_store *st, const struct pat_user *u)
{
    struct pat_stmt *s;
    int64_t changed = 0;
    int rc = q_prepare(st, Q_USER_UPDATE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, u->id);
    b_text(st, s, 2, u->display_name);
    b_text(st, s, 3, u->email);
    b_text(st, s, 4, pat__role_name(u->role));
    b_text(st, s, 5, u->scopes);
    b_int(st, s, 6, u->disabled);
    b_int(st, s, 7, u->updated_at);
    b_time(st, s, 8, u->deleted_at);
    rc = pat__q_run(st, s, &changed);
    if (rc == PAT_OK && changed == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

int
pat__db_user_get(struct pat_store *st, const char *key, struct pat_user *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(
        st, strncmp(key, "usr_", 4) == 0 ? Q_USER_BY_ID : Q_USER_BY_NAME, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, key);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        pat__row_user(st, s, 0, out);
    q_done(st, s);
    return rc;
}

int
pat__db_user_list(struct pat_store *st, int64_t after, const char *q,
                  const char *kind, struct pat_user *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, after);
    b_int(st, s, 2, (int64_t)cap);
    b_opt(st, s, 3, q);
    b_opt(st, s, 4, kind);
    return pat__q_rows(st, s, pat__row_user, out, sizeof(*out), cap, n);
}

int
pat__db_user_dump(struct pat_store *st, int64_t after, struct pat_user *out,
                  size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_DUMP, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, after);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, pat__row_user, out, sizeof(*out), cap, n);
}

int
pat__db_user_password_get(struct pat_store *st, const char *user_id, char *buf,
                          size_t cap)
{
    return pat__q_text_get(st, Q_USER_PW_GET, user_id, buf, cap);
}

int
pat__db_user_password_set(struct pat_store *st, const char *user_id,
                          const char *hash)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_PW_SET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_text(st, s, 2, hash);
    b_int(st, s, 3, pat_store_now(st));
    return pat__q_run(st, s, NULL);
}

int
pat__db_session_insert(struct pat_store *st, const uint8_t *hash,
                       const char *user_id, const char *csrf,
                       const struct pat_session *ses)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SESSION_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_hash(st, s, 1, hash);
    b_text(st, s, 2, user_id);
    b_text(st, s, 3, csrf);
    b_int(st, s, 4, ses->created_at);
    b_int(st, s, 5, ses->expires_at);
    b_text(st, s, 6, ses->id);
    b_text(st, s, 7, ses->ip);
    b_text(st, s, 8, ses->user_agent);
    return pat__q_run(st, s, NULL);
}

int
pat__db_session_get(struct pat_store *st, const uint8_t *hash, int64_t now,
                    char *user_id, size_t user_cap, char *csrf, size_t csrf_cap,
                    char *id, size_t id_cap)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SESSION_GET, &s);

    if (rc != PAT_OK)
        return rc;
    b_hash(st, s, 1, hash);
    b_int(st, s, 2, now);
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        c_text(st, s, 0, user_id, user_cap);
        c_text(st, s, 1, csrf, csrf_cap);
        if (id != NULL)
            c_text(st, s, 2, id, id_cap);
    }
    q_done(st, s);
    return rc;
}

int
pat__db_session_prune(struct pat_store *st, int64_t now, int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SESSION_PRUNE, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, now);
    return pat__q_run(st, s, n);
}

int
pat__db_session_trim(struct pat_store *st, const char *user_id,
                     const uint8_t *keep, int64_t keep_others)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SESSION_TRIM, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, keep_others);
    b_hash(st, s, 3, keep);
    return pat__q_run(st, s, NULL);
}

static void
row_session(struct pat_store *st, struct pat_stmt *s, int col, void *row)
{
    struct pat_session *ses = row;

    memset(ses, 0, sizeof(*ses));
    c_text(st, s, col, ses->id, sizeof(ses->id));
    ses->created_at = c_int(st, s, col + 1);
    ses->expires_at = c_int(st, s, col + 2);
    c_text(st, s, col + 3, ses->ip, sizeof(ses->ip));
    c_text(st, s, col + 4, ses->user_agent, sizeof(ses->user_agent));
}

int
pat__db_session_list(struct pat_store *st, const char *user_id, int64_t now,
                     struct pat_session *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SESSION_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, now);
    b_int(st, s, 3, (int64_t)cap);
    return pat__q_rows(st, s, row_session, out, sizeof(*out), cap, n);
}

int
pat__db_session_end(struct pat_store *st, const char *user_id, const char *id)
{
    struct pat_stmt *s;
    int64_t changed = 0;
    int rc = q_prepare(st, Q_SESSION_END, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, id);
    b_text(st, s, 2, user_id);
    rc = pat__q_run(st, s, &changed);
    if (rc == PAT_OK && changed == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

int
pat__db_session_delete(struct pat_store *st, const uint8_t *hash)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SESSION_DELETE, &s);

    if (rc != PAT_OK)
        return rc;
    b_hash(st, s, 1, hash);
    return pat__q_run(st, s, NULL);
}

int
pat__db_session_delete_user(struct pat_store *st, const char *user_id)
{
    return pat__q_run_text(st, Q_SESSION_DELETE_USER, user_id);
}
