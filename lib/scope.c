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
    rc = st->ops->scope_get(st, name, &old);
    if (rc == PAT_OK && old.builtin)
        rc = pat__fail(st, PAT_EFORBIDDEN, "scope '%s' is built in", name);
    else if (rc == PAT_OK || rc == PAT_ENOTFOUND)
        rc = st->ops->scope_put(st, &sc);
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
    return st->ops->scope_list(st, out, cap, n);
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
        rc = st->ops->scope_get(st, name, &sc);
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
