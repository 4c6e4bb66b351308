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
    const char *scopes;       /* NULL: "patd:self" (admins: all built-ins) */
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
 * the count. q (may be NULL) keeps users whose username, display name or
 * email contains it.
 */
int pat_user_list(struct pat_store *st, int64_t after, const char *q,
                  struct pat_user *out, size_t cap, size_t *n);

/* pat_user_list of one kind ("person" or "service"; NULL: both). */
int pat_user_list_kind(struct pat_store *st, int64_t after, const char *q,
                       const char *kind, struct pat_user *out, size_t cap,
                       size_t *n);

/* A partial update: NULL strings and negative ints leave a field as is. */
struct pat_user_patch {
    const char *display_name;
    const char *email;
    int role; /* -1: keep */
    const char *scopes;
    int disabled; /* -1: keep */
};

/* Applies p in one transaction with one audit event; *out (may be NULL). */
int pat_user_update(struct pat_store *st, const struct pat_actor *who,
                    const char *key, const struct pat_user_patch *p,
                    struct pat_user *out);

/*
 * Deletes a user: their tokens are revoked and their sessions ended in the
 * same transaction; the row is kept for the audit trail, and the username
 * becomes free again.
 */
int pat_user_delete(struct pat_store *st, const struct pat_actor *who,
                    const char *key);

#define PAT_PASSWORD_MIN 8
#define PAT_PASSWORD_MAX 256

/*
 * Sets (or with NULL removes) the password of a user, stored as an
 * argon2id string; ends the user's sessions. PAT_EINVAL for a password
 * shorter than PAT_PASSWORD_MIN or longer than PAT_PASSWORD_MAX bytes.
 */
int pat_user_set_password(struct pat_store *st, const struct pat_actor *who,
                          const char *key, const char *password);

/*
 * Checks a username and password. PAT_OK with *out filled, or
 * PAT_EFORBIDDEN for any mismatch (unknown user, no password, wrong
 * password, disabled user): the caller cannot tell which, and the time
 * taken does not depend on it. A password longer than PAT_PASSWORD_MAX
 * bytes is PAT_EINVAL, never checked on a truncated copy.
 */
int pat_user_check_password(struct pat_store *st, const char *username,
                            const char *password, struct pat_user *out);

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
