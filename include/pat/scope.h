/* SPDX-License-Identifier: MIT */
/*
 * The scope catalog: the operator's scopes plus the built-ins patd:self,
 * patd:admin and patd:introspect.
 */
#ifndef PAT_SCOPE_H
#define PAT_SCOPE_H

#include "store.h"

struct pat_scope {
    char name[PAT_SCOPE_MAX + 1];
    char description[PAT_SCOPE_DESC_MAX + 1];
    bool builtin;
};

/* PAT_OK when name matches [a-z][a-z0-9_:.-]{0,63}, else PAT_EINVAL. */
int pat_scope_name_check(const char *name);

/*
 * Normalises a space-separated list of scope names into out[cap] (sorted,
 * without duplicates). PAT_EINVAL for a malformed name or more than
 * PAT_SCOPES_MAX scopes.
 */
int pat_scope_list_parse(const char *in, char *out, size_t cap);

/*
 * Adds a scope to the catalog, or updates the description of an existing
 * operator scope. Built-ins cannot be changed (PAT_EFORBIDDEN).
 */
int pat_scope_put(struct pat_store *st, const struct pat_actor *who,
                  const char *name, const char *description);

/* Up to cap scopes in name order; *n receives the count. */
int pat_scope_list(struct pat_store *st, struct pat_scope *out, size_t cap,
                   size_t *n);

/*
 * Replaces the operator's scopes with items[n] (built-ins stay and cannot
 * be given). Removing a scope that active tokens hold is PAT_ECONFLICT;
 * a removed scope is also taken from every user's allowed scopes.
 */
int pat_scope_replace(struct pat_store *st, const struct pat_actor *who,
                      const struct pat_scope *items, size_t n);

#endif
