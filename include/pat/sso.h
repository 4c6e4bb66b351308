/* SPDX-License-Identifier: MIT */
/*
 * What single sign-on and SCIM provisioning keep beside a user
 * (DESIGN.md section 11): named attributes that bind the user to an
 * identity provider (the OpenID issuer and subject, the SCIM externalId
 * and userName), and one-time grants: short-lived rows that a browser
 * round trip leaves behind (a sign-in's nonce and PKCE verifier,
 * patctl's approved code), found by the SHA-256 of a random handle that
 * only the browser or patctl holds, and taken exactly once.
 */
#ifndef PAT_SSO_H
#define PAT_SSO_H

#include "store.h"

#define PAT_ATTR_MAX      512  /* bytes of an attribute value */
#define PAT_ATTR_NAME_MAX 64   /* bytes of an attribute name */
#define PAT_GRANT_MAX     2048 /* bytes of a grant's data */
#define PAT_HANDLE_LEN    43   /* base64url of 32 random bytes */

/* Attribute names in use. */
#define PAT_ATTR_OIDC_SUBJECT  "oidc_subject" /* issuer + " " + sub */
#define PAT_ATTR_SCIM_EXTERNAL "scim_external_id"
#define PAT_ATTR_SCIM_USERNAME "scim_user_name"
#define PAT_ATTR_SCIM_GIVEN    "scim_given_name"
#define PAT_ATTR_SCIM_FAMILY   "scim_family_name"

/* Sets (replaces) attribute name of user_id; an empty value is stored. */
int pat_user_attr_set(struct pat_store *st, const char *user_id,
                      const char *name, const char *value);

/* The value of name for user_id into out[cap]; PAT_ENOTFOUND without. */
int pat_user_attr_get(struct pat_store *st, const char *user_id,
                      const char *name, char *out, size_t cap);

/*
 * The live (not deleted) user whose attribute name equals value, the
 * oldest if several: its id into user_id[PAT_ID_LEN + 1]. PAT_ENOTFOUND
 * without one.
 */
int pat_user_attr_find(struct pat_store *st, const char *name,
                       const char *value, char *user_id);

/*
 * Derives a patd username from an identity provider's name (an email
 * address, "Jane.Doe", ...): ASCII letters lowered, every character
 * outside [a-z0-9._-] becomes '-', and a first character that may not
 * start a username is preceded by 'u'. PAT_EINVAL when empty or longer
 * than PAT_USERNAME_MAX after that. out has PAT_USERNAME_MAX + 1 bytes.
 */
int pat_username_derive(const char *name, char *out);

/*
 * Writes a grant of kind ("sso", "cli") holding data (at most
 * PAT_GRANT_MAX bytes, never a secret that opens anything by itself)
 * for ttl seconds, and returns its new random handle in
 * handle[PAT_HANDLE_LEN + 1]. Only the handle's SHA-256 is stored.
 * Expired grants of every kind are deleted in passing.
 */
int pat_grant_put(struct pat_store *st, const char *kind, const char *data,
                  int64_t ttl, char *handle);

/*
 * pat_grant_put, bounded: PAT_ELIMIT (nothing written) when max_live
 * unexpired grants of kind are already outstanding (max_live <= 0: no
 * bound). The count and the insert run in one transaction.
 */
int pat_grant_put_max(struct pat_store *st, const char *kind, const char *data,
                      int64_t ttl, int64_t max_live, char *handle);

/*
 * Takes the grant of kind whose handle is handle (len bytes): deletes it
 * and copies its data into out[cap]. PAT_ENOTFOUND when there is none,
 * it was taken before, or it has expired (then it is deleted too).
 */
int pat_grant_take(struct pat_store *st, const char *kind, const char *handle,
                   size_t len, char *out, size_t cap);

/*
 * Records an audit event of its own (action such as "sso.failed"),
 * target_user may be NULL, detail a JSON object text or NULL.
 */
int pat_audit_record(struct pat_store *st, const struct pat_actor *who,
                     const char *action, const char *target_user,
                     const char *detail);

/* One attribute for pat_user_provision. */
struct pat_user_attr {
    const char *name;
    const char *value;
    bool unique; /* a non-empty value no other live user may hold */
};

/*
 * Creates a user as pat_user_create does, with its attributes (n of
 * attrs) and, when disabled, disabled from the start, in ONE
 * transaction: the user row, the attributes, the audit events
 * (user.created, and user.disabled) and the feed rows. Any failure
 * (PAT_ECONFLICT for a taken username or a unique attribute another
 * live user holds, PAT_EINVAL for a value too long, a store error)
 * leaves nothing behind. out may be NULL.
 */
int pat_user_provision(struct pat_store *st, const struct pat_actor *who,
                       const struct pat_user_spec *spec,
                       const struct pat_user_attr *attrs, size_t n,
                       bool disabled, struct pat_user *out);

/* Live users (not deleted), and a page of them by offset in seq order. */
int pat_user_count(struct pat_store *st, int64_t *n);
int pat_user_page(struct pat_store *st, int64_t offset, struct pat_user *out,
                  size_t cap, size_t *n);

#endif
