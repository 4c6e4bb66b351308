/* SPDX-License-Identifier: MIT */
/*
 * Web sessions (see include/pat/session.h). The cookie is a bearer
 * secret like a token: only its SHA-256 is stored.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "store/store_int.h"

static int
cookie_hash(const char *cookie, size_t len, uint8_t *hash)
{
    if (cookie == NULL || len != PAT_SESSION_LEN)
        return PAT_ENOTFOUND;
    return pat_token_hash(cookie, len, hash);
}

int
pat_session_create(struct pat_store *st, const struct pat_actor *who,
                   const char *user_id, int64_t ttl, char *cookie,
                   size_t cookie_len, char *csrf, size_t csrf_len)
{
    uint8_t hash[PAT_HASH_LEN];
    int64_t now = pat_store_now(st);
    int rc;

    if (cookie_len < PAT_SESSION_LEN + 1 || csrf_len < PAT_CSRF_LEN + 1 ||
        ttl <= 0)
        return PAT_EINVAL;
    rc = pat_random_base62(cookie, PAT_SESSION_LEN);
    if (rc == PAT_OK)
        rc = pat_random_base62(csrf, PAT_CSRF_LEN);
    if (rc != PAT_OK)
        goto fail;
    cookie[PAT_SESSION_LEN] = '\0';
    csrf[PAT_CSRF_LEN] = '\0';
    rc = cookie_hash(cookie, PAT_SESSION_LEN, hash);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto fail;
    rc = pat__db_session_insert(st, hash, user_id, csrf, now, now + ttl);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "session.created", user_id, NULL, NULL);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK)
        return rc;
fail:
    OPENSSL_cleanse(cookie, cookie_len);
    return rc;
}

int
pat_session_get(struct pat_store *st, const char *cookie, size_t len,
                struct pat_user *u, char *csrf, size_t csrf_len)
{
    uint8_t hash[PAT_HASH_LEN];
    char user_id[PAT_ID_LEN + 1];
    int rc = cookie_hash(cookie, len, hash);

    if (rc == PAT_OK)
        rc = pat__db_session_get(st, hash, pat_store_now(st), user_id,
                                 sizeof(user_id), csrf, csrf_len);
    if (rc == PAT_OK)
        rc = pat__user_find(st, user_id, u);
    if (rc == PAT_OK && u->disabled)
        rc = PAT_ENOTFOUND;
    return rc;
}

int
pat_session_delete(struct pat_store *st, const char *cookie, size_t len)
{
    uint8_t hash[PAT_HASH_LEN];
    int rc = cookie_hash(cookie, len, hash);

    if (rc == PAT_ENOTFOUND)
        return PAT_OK;
    if (rc != PAT_OK)
        return rc;
    return pat__db_session_delete(st, hash);
}
