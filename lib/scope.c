/* SPDX-License-Identifier: MIT */
/* The scope catalog: which scopes exist and what they are for. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "store/store_int.h"

int
pat_scope_put(struct pat_store *st, const struct pat_actor *who,
              const char *name, const char *description)
{
    struct pat_scope sc, old;
    char detail[PAT_SCOPE_MAX + 32];
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    if (pat_scope_name_check(name) != PAT_OK)
        return pat__fail(st, PAT_EINVAL,
                         "invalid scope name '%.64s': [a-z][a-z0-9_:.-]{0,63}",
                         name ? name : "");
    rc = pat__text_check(st, "description", description, PAT_SCOPE_DESC_MAX,
                         PAT_SCOPE_DESC_MAX, false);
    if (rc != PAT_OK)
        return rc;
    memset(&sc, 0, sizeof(sc));
    pat__copy(sc.name, sizeof(sc.name), name);
    pat__copy(sc.description, sizeof(sc.description), description);
    snprintf(detail, sizeof(detail), "{\"scope\":\"%s\"}", sc.name);
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_scope_get(st, name, &old);
    if (rc == PAT_OK && old.builtin)
        rc = pat__fail(st, PAT_EFORBIDDEN, "scope '%s' is built in", name);
    else if (rc == PAT_OK || rc == PAT_ENOTFOUND)
        rc = pat__db_scope_put(st, &sc);
    if (rc == PAT_OK)
        rc = pat__feed(st, who, "scopes.changed", NULL, NULL, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "scope.updated", NULL, NULL, detail);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_scope_list(struct pat_store *st, struct pat_scope *out, size_t cap,
               size_t *n)
{
    *n = 0;
    return pat__db_scope_list(st, out, cap, n);
}

int
pat__scopes_exist(struct pat_store *st, const char *list)
{
    const char *p = list;

    while (*p != '\0') {
        char name[PAT_SCOPE_MAX + 1];
        struct pat_scope sc;
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int rc;

        if (len == 0 || len > PAT_SCOPE_MAX)
            return pat__fail(st, PAT_EINVAL, "malformed scope list");
        memcpy(name, p, len);
        name[len] = '\0';
        rc = pat__db_scope_get(st, name, &sc);
        if (rc == PAT_ENOTFOUND)
            return pat__fail(st, PAT_ESCOPE, "unknown scope '%s'", name);
        if (rc != PAT_OK)
            return rc;
        p += len;
        if (*p == ' ')
            p++;
    }
    return PAT_OK;
}

/* Whether name is among items[n]. */
static bool
listed(const struct pat_scope *items, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(items[i].name, name) == 0)
            return true;
    }
    return false;
}

/* Removes the operator scopes not in items, refusing those in use. */
static int
drop_unlisted(struct pat_store *st, const struct pat_scope *items, size_t n)
{
    struct pat_scope cur[256];
    size_t ncur = 0, i;
    int64_t used = 0;
    int rc = pat__db_scope_list(st, cur, 256, &ncur);

    for (i = 0; rc == PAT_OK && i < ncur; i++) {
        if (cur[i].builtin || listed(items, n, cur[i].name))
            continue;
        rc = pat__db_scope_in_use(st, cur[i].name, pat_store_now(st), &used);
        if (rc == PAT_OK && used > 0)
            rc = pat__fail(st, PAT_ECONFLICT,
                           "scope '%s' is held by %lld active token%s",
                           cur[i].name, (long long)used, used == 1 ? "" : "s");
        if (rc == PAT_OK)
            rc = pat__db_scope_delete(st, cur[i].name);
        if (rc == PAT_OK)
            rc = pat__db_scope_strip_users(st, cur[i].name);
    }
    return rc;
}

int
pat_scope_replace(struct pat_store *st, const struct pat_actor *who,
                  const struct pat_scope *items, size_t n)
{
    struct pat_scope old;
    size_t i;
    int rc = pat__need_init(st);

    if (rc == PAT_OK && n > 200)
        rc = pat__fail(st, PAT_EINVAL, "more than 200 scopes");
    for (i = 0; rc == PAT_OK && i < n; i++) {
        if (pat_scope_name_check(items[i].name) != PAT_OK)
            rc = pat__fail(st, PAT_EINVAL, "invalid scope name '%.64s'",
                           items[i].name);
        else if (listed(items, i, items[i].name))
            rc = pat__fail(st, PAT_EINVAL, "scope '%s' is given twice",
                           items[i].name);
        else
            rc = pat__text_check(st, "description", items[i].description,
                                 PAT_SCOPE_DESC_MAX, PAT_SCOPE_DESC_MAX, false);
    }
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    for (i = 0; rc == PAT_OK && i < n; i++) {
        rc = pat__db_scope_get(st, items[i].name, &old);
        if (rc == PAT_OK && old.builtin)
            rc = pat__fail(st, PAT_EINVAL, "scope '%s' is built in",
                           items[i].name);
        else if (rc == PAT_OK || rc == PAT_ENOTFOUND) {
            struct pat_scope sc = items[i];
            sc.builtin = false;
            rc = pat__db_scope_put(st, &sc);
        }
    }
    if (rc == PAT_OK)
        rc = drop_unlisted(st, items, n);
    /* A dropped scope leaves every user's list, and so their tokens. */
    if (rc == PAT_OK)
        rc = pat__feed(st, who, "scopes.changed", NULL, NULL, NULL);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "scope.replaced", NULL, NULL, NULL);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}
