/* SPDX-License-Identifier: MIT */
/*
 * Store operations on the store's own records: the migration record,
 * settings, the scope catalog and the policy row.
 */
#include <string.h>

#include "store/ops.h"

int
pat__db_schema_version(struct pat_store *st, int *version)
{
    struct pat_stmt *s;
    int64_t v = 0;
    int rc = st->drv->exec(st, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                               " version INTEGER PRIMARY KEY,"
                               " name TEXT NOT NULL,"
                               " applied_at BIGINT NOT NULL)");

    if (rc == PAT_OK)
        rc = q_prepare(st, Q_SCHEMA_VERSION, &s);
    if (rc == PAT_OK)
        rc = pat__q_number(st, s, &v);
    if (rc == PAT_OK)
        *version = (int)v;
    return rc;
}

int
pat__db_schema_record(struct pat_store *st, int version, const char *name,
                      int64_t at)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SCHEMA_RECORD, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, version);
    b_text(st, s, 2, name);
    b_int(st, s, 3, at);
    return pat__q_run(st, s, NULL);
}

int
pat__db_setting_get(struct pat_store *st, const char *key, char *buf,
                    size_t cap)
{
    return pat__q_text_get(st, Q_SETTING_GET, key, buf, cap);
}

int
pat__db_setting_put(struct pat_store *st, const char *key, const char *value)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SETTING_PUT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, key);
    b_text(st, s, 2, value);
    return pat__q_run(st, s, NULL);
}

int
pat__db_scope_put(struct pat_store *st, const struct pat_scope *sc)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SCOPE_PUT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, sc->name);
    b_text(st, s, 2, sc->description);
    b_int(st, s, 3, sc->builtin);
    return pat__q_run(st, s, NULL);
}

static void
read_scope(struct pat_store *st, struct pat_stmt *s, int i, void *scope)
{
    struct pat_scope *out = scope;

    c_text(st, s, i, out->name, sizeof(out->name));
    c_text(st, s, i + 1, out->description, sizeof(out->description));
    out->builtin = c_int(st, s, i + 2) != 0;
}

int
pat__db_scope_get(struct pat_store *st, const char *name, struct pat_scope *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SCOPE_GET, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, name);
    rc = q_step(st, s);
    if (rc == PAT_OK)
        read_scope(st, s, 0, out);
    q_done(st, s);
    return rc;
}

int
pat__db_scope_list(struct pat_store *st, struct pat_scope *out, size_t cap,
                   size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SCOPE_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, (int64_t)cap);
    return pat__q_rows(st, s, read_scope, out, sizeof(*out), cap, n);
}

int
pat__db_scope_delete(struct pat_store *st, const char *name)
{
    return pat__q_run_text(st, Q_SCOPE_DELETE, name);
}

int
pat__db_scope_strip_users(struct pat_store *st, const char *name)
{
    return pat__q_run_text(st, Q_SCOPE_STRIP, name);
}

int
pat__db_scope_in_use(struct pat_store *st, const char *name, int64_t now,
                     int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_SCOPE_IN_USE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, name);
    b_int(st, s, 2, now);
    return pat__q_number(st, s, n);
}

int
pat__db_policy_get(struct pat_store *st, struct pat_policy *p)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_POLICY_GET, &s);

    if (rc != PAT_OK)
        return rc;
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        p->max_lifetime_days = (int)c_int(st, s, 0);
        p->allow_no_expiry = c_int(st, s, 1) != 0;
        p->default_lifetime_days = (int)c_int(st, s, 2);
        p->max_tokens_per_user = (int)c_int(st, s, 3);
        p->revoke_on_reuse = c_int(st, s, 4) != 0;
        c_text(st, s, 5, p->approval_required_scopes,
               sizeof(p->approval_required_scopes));
        p->pending_max_age_seconds = c_int(st, s, 6);
        p->revoke_unused_after_days = (int)c_int(st, s, 7);
        p->service_allow_no_expiry = c_int(st, s, 8) != 0;
    }
    q_done(st, s);
    return rc;
}

int
pat__db_policy_put(struct pat_store *st, const struct pat_policy *p)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_POLICY_PUT, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, p->max_lifetime_days);
    b_int(st, s, 2, p->allow_no_expiry);
    b_int(st, s, 3, p->default_lifetime_days);
    b_int(st, s, 4, p->max_tokens_per_user);
    b_int(st, s, 5, p->revoke_on_reuse);
    b_text(st, s, 6, p->approval_required_scopes);
    b_int(st, s, 7, p->pending_max_age_seconds);
    b_int(st, s, 8, p->revoke_unused_after_days);
    b_int(st, s, 9, p->service_allow_no_expiry);
    return pat__q_run(st, s, NULL);
}
