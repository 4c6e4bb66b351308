/* SPDX-License-Identifier: MIT */
/* Users: creation, lookup, and the changes that affect their tokens. */
#include <string.h>

#include "internal.h"
#include "store/store_int.h"

static int
username_check(struct pat_store *st, const char *s)
{
    size_t len, i;

    if (s == NULL || s[0] == '\0')
        return pat__fail(st, PAT_EINVAL, "username must not be empty");
    len = strnlen(s, PAT_USERNAME_MAX + 1);
    if (len > PAT_USERNAME_MAX)
        return pat__fail(st, PAT_EINVAL, "username is longer than %d bytes",
                         PAT_USERNAME_MAX);
    for (i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return pat__fail(st, PAT_EINVAL,
                             "invalid username '%.64s': "
                             "[a-z0-9][a-z0-9._-]{0,63}",
                             s);
    }
    if (strncmp(s, "usr_", 4) == 0)
        return pat__fail(st, PAT_EINVAL, "username must not start with 'usr_'");
    return PAT_OK;
}

static int
email_check(struct pat_store *st, const char *s)
{
    size_t len;
    const char *at;

    if (s == NULL || s[0] == '\0')
        return PAT_OK;
    len = strnlen(s, PAT_EMAIL_MAX + 1);
    at = memchr(s, '@', len);
    if (len > PAT_EMAIL_MAX || at == NULL || at == s || at[1] == '\0' ||
        pat_utf8_check(s, len, NULL) != PAT_OK || memchr(s, ' ', len))
        return pat__fail(st, PAT_EINVAL, "invalid email address");
    return PAT_OK;
}

int
pat__user_find(struct pat_store *st, const char *key, struct pat_user *out)
{
    int rc;

    if (key == NULL || key[0] == '\0' ||
        strnlen(key, PAT_USERNAME_MAX + 1) > PAT_USERNAME_MAX)
        return pat__fail(st, PAT_ENOTFOUND, "no such user");
    rc = pat__db_user_get(st, key, out);
    if (rc == PAT_OK && out->deleted_at != 0)
        rc = PAT_ENOTFOUND;
    if (rc == PAT_ENOTFOUND)
        return pat__fail(st, rc, "no user '%s'", key);
    return rc;
}

/* What an administrator may grant when no scopes are given. */
static const char admin_scopes[] = "patd:admin patd:introspect patd:self";

int
pat__user_create_tx(struct pat_store *st, const struct pat_actor *who,
                    const struct pat_user_spec *spec, struct pat_user *out)
{
    return pat__user_create_kind_tx(st, who, spec, PAT_KIND_PERSON, out);
}

int
pat__user_create_kind_tx(struct pat_store *st, const struct pat_actor *who,
                         const struct pat_user_spec *spec, int kind,
                         struct pat_user *out)
{
    struct pat_user u;
    char detail[PAT_DETAIL_MAX + 1];
    int rc;

    memset(&u, 0, sizeof(u));
    rc = username_check(st, spec->username);
    if (rc == PAT_OK)
        rc = pat__text_check(st, "display_name", spec->display_name,
                             PAT_DISPLAY_MAX, PAT_DISPLAY_MAX, false);
    if (rc == PAT_OK)
        rc = email_check(st, spec->email);
    if (rc == PAT_OK && spec->role != PAT_ROLE_USER &&
        spec->role != PAT_ROLE_ADMIN)
        rc = pat__fail(st, PAT_EINVAL, "role must be 'admin' or 'user'");
    if (rc == PAT_OK && kind != PAT_KIND_PERSON && kind != PAT_KIND_SERVICE)
        rc = pat__fail(st, PAT_EINVAL, "kind must be 'person' or 'service'");
    /* A service account is managed by administrators, never one itself. */
    if (rc == PAT_OK && kind == PAT_KIND_SERVICE &&
        spec->role == PAT_ROLE_ADMIN)
        rc = pat__fail(st, PAT_EINVAL, "a service account cannot be an admin");
    if (rc == PAT_OK)
        rc = pat__scopes_parse(st,
                               spec->scopes                   ? spec->scopes
                               : spec->role == PAT_ROLE_ADMIN ? admin_scopes
                                                              : "patd:self",
                               false, u.scopes, sizeof(u.scopes));
    if (rc == PAT_OK)
        rc = pat__scopes_exist(st, u.scopes);
    if (rc == PAT_OK)
        rc = pat__random_id("usr", u.id, sizeof(u.id));
    if (rc != PAT_OK)
        return rc;
    pat__copy(u.username, sizeof(u.username), spec->username);
    pat__copy(u.display_name, sizeof(u.display_name), spec->display_name);
    pat__copy(u.email, sizeof(u.email), spec->email);
    u.role = spec->role;
    u.kind = kind;
    u.created_at = u.updated_at = pat_store_now(st);
    rc = pat__db_user_insert(st, &u);
    if (rc == PAT_ECONFLICT)
        return pat__fail(st, rc, "username '%s' is taken", u.username);
    if (rc == PAT_OK && u.kind == PAT_KIND_SERVICE)
        rc = pat__db_user_kind_set(st, u.id, "service");
    if (rc != PAT_OK)
        return rc;
    pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s, s:s}", "username",
                u.username, "role", u.role == PAT_ROLE_ADMIN ? "admin" : "user",
                "scopes", u.scopes, "kind", pat_user_kind_name(u.kind));
    rc = pat__feed(st, who, "user.created", u.id, NULL, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "user.created", u.id, NULL, detail);
    if (rc == PAT_OK && out != NULL)
        *out = u;
    return rc;
}

int
pat_user_create(struct pat_store *st, const struct pat_actor *who,
                const struct pat_user_spec *spec, struct pat_user *out)
{
    return pat_user_create_kind(st, who, spec, PAT_KIND_PERSON, out);
}

int
pat_user_create_kind(struct pat_store *st, const struct pat_actor *who,
                     const struct pat_user_spec *spec, int kind,
                     struct pat_user *out)
{
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__user_create_kind_tx(st, who, spec, kind, out);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_user_get(struct pat_store *st, const char *key, struct pat_user *out)
{
    return pat__user_find(st, key, out);
}

int
pat_user_list(struct pat_store *st, int64_t after, const char *q,
              struct pat_user *out, size_t cap, size_t *n)
{
    *n = 0;
    if (q != NULL && (q[0] == '\0' || strnlen(q, 201) > 200))
        q = q[0] ? "\x01" : NULL; /* an over-long query matches nothing */
    return pat__db_user_list(st, after, q, NULL, out, cap, n);
}

int
pat_user_list_kind(struct pat_store *st, int64_t after, const char *q,
                   const char *kind, struct pat_user *out, size_t cap,
                   size_t *n)
{
    *n = 0;
    if (q != NULL && (q[0] == '\0' || strnlen(q, 201) > 200))
        q = q[0] ? "\x01" : NULL; /* an over-long query matches nothing */
    return pat__db_user_list(st, after, q, kind, out, cap, n);
}

/*
 * Reads the user, applies change, writes it back with an audit event
 * (action) and a feed row (type; "user.disabled" when the change
 * disabled an enabled user).
 */
static int
user_change(struct pat_store *st, const struct pat_actor *who, const char *key,
            const char *action, const char *type, const char *detail,
            int (*change)(struct pat_store *, struct pat_user *, const void *),
            const void *arg)
{
    struct pat_user u;
    bool was_disabled = false;
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__user_find(st, key, &u);
    if (rc == PAT_OK) {
        was_disabled = u.disabled;
        rc = change(st, &u, arg);
    }
    if (rc == PAT_OK) {
        u.updated_at = pat_store_now(st);
        rc = pat__db_user_update(st, &u);
    }
    /*
     * Disabling, deleting and taking scopes away make the user's tokens
     * less valid; enabling and granting make cached refusals stale. Every
     * user change goes to the feed, naming the user.
     */
    if (rc == PAT_OK && u.disabled && !was_disabled &&
        strcmp(type, "user.updated") == 0)
        type = "user.disabled";
    if (rc == PAT_OK)
        rc = pat__feed(st, who, type, u.id, NULL, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, action, u.id, NULL, detail);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

static int
set_disabled(struct pat_store *st, struct pat_user *u, const void *arg)
{
    (void)st;
    u->disabled = *(const bool *)arg;
    return PAT_OK;
}

int
pat_user_set_disabled(struct pat_store *st, const struct pat_actor *who,
                      const char *key, bool disabled)
{
    return user_change(st, who, key,
                       disabled ? "user.disabled" : "user.enabled",
                       disabled ? "user.disabled" : "user.updated", NULL,
                       set_disabled, &disabled);
}

static int
set_scopes(struct pat_store *st, struct pat_user *u, const void *arg)
{
    char scopes[PAT_SCOPESTR_MAX + 1];
    int rc = pat__scopes_parse(st, arg, false, scopes, sizeof(scopes));

    if (rc == PAT_OK)
        rc = pat__scopes_exist(st, scopes);
    if (rc == PAT_OK)
        memcpy(u->scopes, scopes, sizeof(scopes));
    return rc;
}

int
pat_user_set_scopes(struct pat_store *st, const struct pat_actor *who,
                    const char *key, const char *scopes)
{
    char detail[PAT_DETAIL_MAX + 1];

    pat__detail(detail, sizeof(detail), "{s:s}", "scopes",
                scopes ? scopes : "");
    return user_change(st, who, key, "user.scopes_changed", "user.updated",
                       detail, set_scopes, scopes ? scopes : "");
}

static int
apply_patch(struct pat_store *st, struct pat_user *u, const void *arg)
{
    const struct pat_user_patch *p = arg;
    int rc = PAT_OK;

    if (p->display_name != NULL) {
        rc = pat__text_check(st, "display_name", p->display_name,
                             PAT_DISPLAY_MAX, PAT_DISPLAY_MAX, false);
        if (rc == PAT_OK)
            pat__copy(u->display_name, sizeof(u->display_name),
                      p->display_name);
    }
    if (rc == PAT_OK && p->email != NULL) {
        rc = email_check(st, p->email);
        if (rc == PAT_OK)
            pat__copy(u->email, sizeof(u->email), p->email);
    }
    if (rc == PAT_OK && p->role >= 0) {
        if (p->role != PAT_ROLE_USER && p->role != PAT_ROLE_ADMIN)
            rc = pat__fail(st, PAT_EINVAL, "role must be 'admin' or 'user'");
        else
            u->role = p->role;
    }
    if (rc == PAT_OK && p->scopes != NULL)
        rc = set_scopes(st, u, p->scopes);
    if (rc == PAT_OK && p->disabled >= 0)
        u->disabled = p->disabled != 0;
    /* A disabled user's web sessions end with the change. */
    if (rc == PAT_OK && u->disabled)
        rc = pat__db_session_delete_user(st, u->id);
    return rc;
}

int
pat_user_update(struct pat_store *st, const struct pat_actor *who,
                const char *key, const struct pat_user_patch *p,
                struct pat_user *out)
{
    char detail[PAT_DETAIL_MAX + 1];
    int rc;

    pat__detail(detail, sizeof(detail), "{s:s?, s:s?, s:s?, s:s?, s:i}",
                "display_name", p->display_name, "email", p->email, "role",
                p->role < 0 ? NULL
                : p->role   ? "admin"
                            : "user",
                "scopes", p->scopes, "disabled", p->disabled);
    rc = user_change(st, who, key, "user.updated", "user.updated", detail,
                     apply_patch, p);
    if (rc == PAT_OK && out != NULL)
        rc = pat__user_find(st, key, out);
    return rc;
}

/* arg: the acting user; every token is revoked, each with a feed row. */
static int
mark_deleted(struct pat_store *st, struct pat_user *u, const void *arg)
{
    struct pat_change ch;
    char detail[PAT_DETAIL_MAX + 1];
    int64_t n = 0;
    int rc;

    pat__detail(detail, sizeof(detail), "{s:s}", "reason", "user_deleted");
    rc = pat__feed_fill(st, arg, "token.revoked", u->id, NULL, detail, &ch);
    if (rc == PAT_OK)
        rc = pat__db_token_revoke_user(st, u->id, pat_store_now(st),
                                       "user_deleted", &ch, &n);
    if (rc == PAT_OK)
        rc = pat__db_session_delete_user(st, u->id);
    /* The row stays for the audit trail; the name becomes free again. */
    u->deleted_at = pat_store_now(st);
    u->disabled = true;
    return rc;
}

int
pat_user_delete(struct pat_store *st, const struct pat_actor *who,
                const char *key)
{
    return user_change(st, who, key, "user.deleted", "user.deleted", NULL,
                       mark_deleted, who);
}
