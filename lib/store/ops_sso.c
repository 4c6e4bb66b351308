/* SPDX-License-Identifier: MIT */
/*
 * Store operations for single sign-on and SCIM (lib/sso.c): user
 * attributes, one-time grants, and users counted and paged by offset.
 */
#include <string.h>

#include "store/ops.h"

int
pat__db_attr_put(struct pat_store *st, const char *user_id, const char *name,
                 const char *value)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_ATTR_PUT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_text(st, s, 2, name);
    b_text(st, s, 3, value);
    return pat__q_run(st, s, NULL);
}

/* The first text column of q's one row with two text parameters. */
static int
text2_get(struct pat_store *st, enum pat_q q, const char *a, const char *b,
          char *out, size_t cap)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, q, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, a);
    b_text(st, s, 2, b);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        c_text(st, s, 0, out, cap);
    q_done(st, s);
    return rc;
}

int
pat__db_attr_get(struct pat_store *st, const char *user_id, const char *name,
                 char *out, size_t cap)
{
    return text2_get(st, Q_ATTR_GET, user_id, name, out, cap);
}

int
pat__db_attr_find(struct pat_store *st, const char *name, const char *value,
                  char *user_id, size_t cap)
{
    return text2_get(st, Q_ATTR_FIND, name, value, user_id, cap);
}

int
pat__db_grant_put(struct pat_store *st, const char *key, const char *kind,
                  const char *data, int64_t expires_at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_GRANT_PUT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, key);
    b_text(st, s, 2, kind);
    b_text(st, s, 3, data);
    b_int(st, s, 4, expires_at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_grant_take(struct pat_store *st, const char *key, const char *kind,
                   char *data, size_t cap, int64_t *expires_at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_GRANT_TAKE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, key);
    b_text(st, s, 2, kind);
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        c_text(st, s, 0, data, cap);
        *expires_at = c_int(st, s, 1);
    }
    q_done(st, s);
    return rc;
}

int
pat__db_grant_prune(struct pat_store *st, int64_t now)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_GRANT_PRUNE, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, now);
    return pat__q_run(st, s, NULL);
}

int
pat__db_user_count(struct pat_store *st, int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_COUNT, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    return pat__q_number(st, s, n);
}

int
pat__db_user_page(struct pat_store *st, int64_t offset, struct pat_user *out,
                  size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_USER_PAGE, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, (int64_t)cap);
    b_int(st, s, 2, offset);
    return pat__q_rows(st, s, pat__row_user, out, sizeof(*out), cap, n);
}

int
pat__db_grant_count(struct pat_store *st, const char *kind, int64_t now,
                    int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_GRANT_COUNT, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, kind);
    b_int(st, s, 2, now);
    return pat__q_number(st, s, n);
}

int
pat__db_attr_list(struct pat_store *st, const char *user_id,
                  int (*fn)(void *arg, const char *name, const char *value),
                  void *arg)
{
    char name[PAT_ATTR_NAME_MAX + 1], value[PAT_ATTR_MAX + 1];
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_ATTR_LIST, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    while ((rc = q_step(st, s)) == PAT_OK) {
        c_text(st, s, 0, name, sizeof(name));
        c_text(st, s, 1, value, sizeof(value));
        rc = fn(arg, name, value);
        if (rc != PAT_OK)
            break;
    }
    q_done(st, s);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}
