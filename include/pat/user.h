/* SPDX-License-Identifier: MIT */
/*
 * Users: who owns tokens and which scopes they may grant. Every change
 * writes its audit event in the same transaction.
 */
#ifndef PAT_USER_H
#define PAT_USER_H

#include "store.h"

struct pat_user_spec {
    const char *username;     /* [a-z0-9][a-z0-9._-]{0,63} */
    const char *display_name; /* NULL: "" */
    const char *email;        /* NULL: "" */
    int role;                 /* enum pat_role */
    const char *scopes;       /* NULL: "patd:self"; all must exist */
};

/*
 * Creates a user. On success *out (may be NULL) holds the new user.
 * PAT_EINVAL for a malformed field, PAT_ESCOPE for an unknown scope,
 * PAT_ECONFLICT when the username is taken.
 */
int pat_user_create(struct pat_store *st, const struct pat_actor *who,
                    const struct pat_user_spec *spec, struct pat_user *out);

/*
 * Finds a user by id ("usr_...") or username. Deleted users are
 * PAT_ENOTFOUND. out is unspecified on failure.
 */
int pat_user_get(struct pat_store *st, const char *key, struct pat_user *out);

/*
 * Up to cap users with seq > after, in seq order, into out; *n receives
 * the count.
 */
int pat_user_list(struct pat_store *st, int64_t after, struct pat_user *out,
                  size_t cap, size_t *n);

/* Disables or enables a user; their tokens stop or resume verifying. */
int pat_user_set_disabled(struct pat_store *st, const struct pat_actor *who,
                          const char *key, bool disabled);

/*
 * Replaces the scopes a user may grant. Existing tokens keep their scopes,
 * but verification intersects them with these.
 */
int pat_user_set_scopes(struct pat_store *st, const struct pat_actor *who,
                        const char *key, const char *scopes);

#endif
