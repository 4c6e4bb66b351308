/* SPDX-License-Identifier: MIT */
/*
 * The token lifecycle: create, read, rename, regenerate, revoke. Every
 * change writes its audit event in the same transaction, and a refused
 * call changes nothing. Calls that return a plaintext write it into a
 * caller buffer of at least PAT_TOKEN_MAX + 1 bytes, which the caller must
 * OPENSSL_cleanse; it is wiped on failure.
 *
 * "owner" arguments scope a lookup to one user: a token of another user
 * is then PAT_ENOTFOUND, exactly like a missing one. NULL means any user
 * (administrators, local commands).
 */
#ifndef PAT_TOKEN_H
#define PAT_TOKEN_H

#include "store.h"

struct pat_token_spec {
    const char *user_id;       /* owner: id or username */
    const char *name;          /* 1..100 characters, unique among live */
    const char *description;   /* NULL: "" */
    const char *scopes;        /* space-separated, at least one */
    const char *audiences;     /* NULL or space-separated */
    const char *allowed_cidrs; /* NULL or space-separated */
    struct pat_expiry expiry;  /* all zero: the policy's default */
};

struct pat_token_filter {
    const char *user_id;      /* NULL: every user */
    int status;               /* mask of enum pat_status; 0: all */
    const char *scope;        /* NULL or one scope the token must hold */
    int64_t expires_before;   /* 0: no bound */
    int64_t last_used_before; /* 0: no bound; never-used tokens match */
    int64_t created_before;   /* 0: no bound */
    int64_t after;            /* cursor: seq of the last item seen */
};

/* What a bulk revocation selects among live tokens (0/NULL: any). */
struct pat_bulk_filter {
    const char *user_id;
    const char *scope;
    int64_t created_before;
};

/* The status of t at time now. */
enum pat_status pat_token_status(const struct pat_token *t, int64_t now);

/* "active", "expired", "revoked" or "all" for a status; NULL otherwise. */
const char *pat_status_name(int status);

/* Parses a status name into a mask; PAT_EINVAL for anything else. */
int pat_status_parse(const char *s, int *mask);

/*
 * Creates a token. On success *out holds its metadata and secret the
 * plaintext. Refusals: PAT_ENOTFOUND (no such user), PAT_EDISABLED,
 * PAT_EINVAL (malformed field), PAT_ESCOPE (scope unknown, not allowed for
 * the user, or beyond the acting token), PAT_EPOLICY (expiry refused),
 * PAT_ELIMIT (too many active tokens), PAT_ECONFLICT (name in use),
 * PAT_EFORBIDDEN (a service account's token not issued by an
 * administrator or a local command). A token asking for a scope of the
 * policy's approval_required_scopes is created pending (out->approval),
 * unless an administrator issues it on behalf (who->on_behalf) or a
 * local command does (who NULL).
 */
int pat_token_create(struct pat_store *st, const struct pat_actor *who,
                     const struct pat_token_spec *spec, struct pat_token *out,
                     char *secret, size_t secret_len);

/* Reads one token by id, optionally only among owner's. */
int pat_token_get(struct pat_store *st, const char *owner, const char *id,
                  struct pat_token *out);

/* Up to cap tokens matching f, in seq order; *n receives the count. */
int pat_token_list(struct pat_store *st, const struct pat_token_filter *f,
                   struct pat_token *out, size_t cap, size_t *n);

/*
 * Changes the name and/or description (NULL leaves a field as it is).
 * A revoked token cannot be edited (PAT_EREVOKED).
 */
int pat_token_update(struct pat_store *st, const struct pat_actor *who,
                     const char *owner, const char *id, const char *name,
                     const char *description, struct pat_token *out);

/*
 * Gives a token a new secret and expiry. The secrets it had stay valid for
 * grace_seconds (0..PAT_GRACE_MAX) and are then retired: presenting one
 * afterwards is a reuse. A revoked token cannot be regenerated.
 */
int pat_token_regenerate(struct pat_store *st, const struct pat_actor *who,
                         const char *owner, const char *id,
                         const struct pat_expiry *expiry, int grace_seconds,
                         struct pat_token *out, char *secret,
                         size_t secret_len);

/*
 * Revokes a token. Idempotent: revoking a revoked token succeeds and
 * changes nothing. reason: [a-z_]{1,32}, NULL for "revoked".
 */
int pat_token_revoke(struct pat_store *st, const struct pat_actor *who,
                     const char *owner, const char *id, const char *reason);

/* Revokes every live token of a user; *count (may be NULL) receives N. */
int pat_token_revoke_user(struct pat_store *st, const struct pat_actor *who,
                          const char *user, const char *reason, int64_t *count);

/*
 * Revokes the token that the secret token (len bytes) opens (RFC 7009,
 * leak reports). Only a secret that still opens the token counts: the
 * current one, or an old one inside its grace period. A retired secret
 * opens nothing, so presenting it cannot revoke the token that replaced
 * it. PAT_OK when the token was revoked now (*revoked true) or before;
 * PAT_EMALFORMED or PAT_EUNKNOWN when it opens nothing.
 */
int pat_token_revoke_secret(struct pat_store *st, const struct pat_actor *who,
                            const char *token, size_t len, const char *reason,
                            bool *revoked);

/*
 * Revokes every live token matching f (at least one field set), or with
 * dry_run only counts them. *count receives N. One audit event.
 */
int pat_token_revoke_bulk(struct pat_store *st, const struct pat_actor *who,
                          const struct pat_bulk_filter *f, const char *reason,
                          bool dry_run, int64_t *count);

#endif
