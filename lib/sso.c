/* SPDX-License-Identifier: MIT */
/*
 * User attributes and one-time grants for single sign-on and SCIM (see
 * include/pat/sso.h). A grant's handle is 32 random bytes in base64url;
 * the store keeps only its SHA-256 in hex, so that reading the store
 * does not let anyone finish someone else's sign-in.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "internal.h"
#include "store/store_int.h"

int
pat_user_attr_set(struct pat_store *st, const char *user_id, const char *name,
                  const char *value)
{
    if (strlen(value) > PAT_ATTR_MAX)
        return pat__fail(st, PAT_EINVAL, "'%s' is longer than %d bytes", name,
                         PAT_ATTR_MAX);
    return pat__db_attr_put(st, user_id, name, value);
}

int
pat_user_attr_get(struct pat_store *st, const char *user_id, const char *name,
                  char *out, size_t cap)
{
    return pat__db_attr_get(st, user_id, name, out, cap);
}

int
pat_user_attr_find(struct pat_store *st, const char *name, const char *value,
                   char *user_id)
{
    if (strlen(value) > PAT_ATTR_MAX)
        return PAT_ENOTFOUND;
    return pat__db_attr_find(st, name, value, user_id, PAT_ID_LEN + 1);
}

static bool
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int
pat_username_derive(const char *name, char *out)
{
    size_t i, w = 0;

    if (name == NULL || name[0] == '\0')
        return PAT_EINVAL;
    if (!((name[0] >= 'a' && name[0] <= 'z') ||
          (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= '0' && name[0] <= '9')))
        out[w++] = 'u';
    for (i = 0; name[i] != '\0'; i++) {
        char c = name[i];

        if (w >= PAT_USERNAME_MAX)
            return PAT_EINVAL;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[w++] = name_char(c) ? c : '-';
    }
    out[w] = '\0';
    return PAT_OK;
}

/* The hex SHA-256 of handle[len] into key[65]. */
static int
handle_key(const char *handle, size_t len, char *key)
{
    uint8_t md[PAT_HASH_LEN];
    unsigned n = 0;

    if (EVP_Digest(handle, len, md, &n, EVP_sha256(), NULL) != 1 ||
        n != PAT_HASH_LEN)
        return PAT_ECRYPTO;
    sodium_bin2hex(key, 2 * PAT_HASH_LEN + 1, md, PAT_HASH_LEN);
    return PAT_OK;
}

int
pat_grant_put(struct pat_store *st, const char *kind, const char *data,
              int64_t ttl, char *handle)
{
    return pat_grant_put_max(st, kind, data, ttl, 0, handle);
}

int
pat_grant_put_max(struct pat_store *st, const char *kind, const char *data,
                  int64_t ttl, int64_t max_live, char *handle)
{
    int64_t live = 0;
    uint8_t raw[32];
    char key[2 * PAT_HASH_LEN + 1];
    int64_t now = pat_store_now(st);
    int rc;

    if (strlen(data) > PAT_GRANT_MAX)
        return pat__fail(st, PAT_EINVAL, "grant data is too long");
    if (sodium_init() < 0)
        return PAT_ECRYPTO;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(handle, PAT_HANDLE_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    OPENSSL_cleanse(raw, sizeof(raw));
    rc = handle_key(handle, strlen(handle), key);
    if (rc != PAT_OK)
        goto out;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__db_grant_prune(st, now);
    if (rc == PAT_OK && max_live > 0) {
        rc = pat__db_grant_count(st, kind, now, &live);
        if (rc == PAT_OK && live >= max_live)
            rc = pat__fail(st, PAT_ELIMIT, "%lld %s grants are outstanding",
                           (long long)live, kind);
    }
    if (rc == PAT_OK)
        rc = pat__db_grant_put(st, key, kind, data, now + ttl);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
out:
    if (rc != PAT_OK)
        OPENSSL_cleanse(handle, PAT_HANDLE_LEN + 1);
    return rc;
}

int
pat_grant_take(struct pat_store *st, const char *kind, const char *handle,
               size_t len, char *out, size_t cap)
{
    char key[2 * PAT_HASH_LEN + 1];
    int64_t expires_at = 0;
    int rc;

    if (len == 0 || len > PAT_HANDLE_LEN)
        return pat__fail(st, PAT_ENOTFOUND, "no such grant");
    rc = handle_key(handle, len, key);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_grant_take(st, key, kind, out, cap, &expires_at);
    if (rc == PAT_OK && expires_at <= pat_store_now(st))
        rc = PAT_ENOTFOUND;
    if (rc == PAT_ENOTFOUND) {
        if (cap > 0)
            out[0] = '\0';
        return pat__fail(st, rc, "no such grant, or it has expired");
    }
    return rc;
}

int
pat_audit_record(struct pat_store *st, const struct pat_actor *who,
                 const char *action, const char *target_user,
                 const char *detail)
{
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__audit(st, who, action, target_user, NULL, detail);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

/* Writes the attributes of the user being created (inside its transaction). */
static int
provision_attrs(struct pat_store *st, const char *user_id,
                const struct pat_user_attr *attrs, size_t n)
{
    char other[PAT_ID_LEN + 1];
    size_t i;
    int rc = PAT_OK;

    for (i = 0; i < n && rc == PAT_OK; i++) {
        const char *v = attrs[i].value ? attrs[i].value : "";

        if (strlen(v) > PAT_ATTR_MAX)
            return pat__fail(st, PAT_EINVAL, "'%s' is longer than %d bytes",
                             attrs[i].name, PAT_ATTR_MAX);
        if (attrs[i].unique && v[0] != '\0') {
            rc = pat__db_attr_find(st, attrs[i].name, v, other, sizeof(other));
            if (rc == PAT_OK && strcmp(other, user_id) != 0)
                return pat__fail(st, PAT_ECONFLICT,
                                 "'%s' '%s' belongs to another user",
                                 attrs[i].name, v);
            if (rc != PAT_OK && rc != PAT_ENOTFOUND)
                return rc;
        }
        rc = pat__db_attr_put(st, user_id, attrs[i].name, v);
    }
    return rc;
}

int
pat_user_provision(struct pat_store *st, const struct pat_actor *who,
                   const struct pat_user_spec *spec,
                   const struct pat_user_attr *attrs, size_t n, bool disabled,
                   struct pat_user *out)
{
    struct pat_user u;
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__user_create_tx(st, who, spec, &u);
    if (rc == PAT_OK)
        rc = provision_attrs(st, u.id, attrs, n);
    if (rc == PAT_OK && disabled) {
        u.disabled = true;
        u.updated_at = pat_store_now(st);
        rc = pat__db_user_update(st, &u);
        if (rc == PAT_OK)
            rc = pat__feed(st, who, "user.disabled", u.id, NULL, NULL);
        if (rc == PAT_OK)
            rc = pat__audit(st, who, "user.disabled", u.id, NULL, NULL);
    }
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && out != NULL)
        *out = u;
    return rc;
}

int
pat_user_count(struct pat_store *st, int64_t *n)
{
    return pat__db_user_count(st, n);
}

int
pat_user_page(struct pat_store *st, int64_t offset, struct pat_user *out,
              size_t cap, size_t *n)
{
    return pat__db_user_page(st, offset, out, cap, n);
}
