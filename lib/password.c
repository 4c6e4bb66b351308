/* SPDX-License-Identifier: MIT */
/*
 * Passwords for the web page: argon2id strings from libsodium, checked in
 * time that does not depend on whether the user exists.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "store/store_int.h"

static int
sodium_ready(struct pat_store *st)
{
    if (sodium_init() < 0)
        return pat__fail(st, PAT_ECRYPTO, "libsodium failed to initialise");
    return PAT_OK;
}

int
pat_user_set_password(struct pat_store *st, const struct pat_actor *who,
                      const char *key, const char *password)
{
    char hash[crypto_pwhash_STRBYTES];
    struct pat_user u;
    size_t len = password ? strnlen(password, PAT_PASSWORD_MAX + 1) : 0;
    int rc = sodium_ready(st);

    if (rc != PAT_OK)
        return rc;
    if (password != NULL && (len < PAT_PASSWORD_MIN || len > PAT_PASSWORD_MAX))
        return pat__fail(st, PAT_EINVAL, "a password must have %d to %d bytes",
                         PAT_PASSWORD_MIN, PAT_PASSWORD_MAX);
    /* Hash before the transaction: it takes tens of milliseconds. */
    if (password != NULL &&
        crypto_pwhash_str(hash, password, len,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return pat__fail(st, PAT_ENOMEM, "cannot hash the password");
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__user_find(st, key, &u);
    /* A service account never signs in (DESIGN.md section 13). */
    if (rc == PAT_OK && password != NULL && u.kind == PAT_KIND_SERVICE)
        rc = pat__fail(st, PAT_EFORBIDDEN,
                       "service account '%s' cannot have a password",
                       u.username);
    if (rc == PAT_OK)
        rc = pat__db_user_password_set(st, u.id, password ? hash : NULL);
    if (rc == PAT_OK)
        rc = pat__db_session_delete_user(st, u.id);
    if (rc == PAT_OK)
        rc = pat__feed(st, who, "user.updated", u.id, NULL,
                       password ? "{\"password\":\"set\"}"
                                : "{\"password\":\"removed\"}");
    if (rc == PAT_OK)
        rc = pat__audit(
            st, who, password ? "user.password_set" : "user.password_removed",
            u.id, NULL, NULL);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
out:
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

/* Verified when the user has no hash, so that timing tells nothing. */
static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
dummy_init(void)
{
    if (crypto_pwhash_str(dummy, "not a password", 14,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy[0] = '\0';
}

int
pat_user_check_password(struct pat_store *st, const char *username,
                        const char *password, struct pat_user *out)
{
    char hash[crypto_pwhash_STRBYTES];
    size_t len = password ? strnlen(password, PAT_PASSWORD_MAX + 1) : 0;
    bool found = false;
    int rc = sodium_ready(st);

    if (rc != PAT_OK)
        return rc;
    /*
     * Never truncate: a password longer than any that can be set is
     * refused, so that "the first 256 bytes plus anything" cannot pass.
     */
    if (len > PAT_PASSWORD_MAX)
        return pat__fail(st, PAT_EINVAL, "a password has at most %d bytes",
                         PAT_PASSWORD_MAX);
    if (pthread_once(&dummy_once, dummy_init) != 0 || dummy[0] == '\0')
        return pat__fail(st, PAT_ENOMEM, "cannot prepare password checks");
    if (username != NULL && username[0] != '\0' &&
        strncmp(username, "usr_", 4) != 0) {
        rc = pat__user_find(st, username, out);
        if (rc == PAT_OK)
            rc = pat__db_user_password_get(st, out->id, hash, sizeof(hash));
        if (rc != PAT_OK && rc != PAT_ENOTFOUND)
            return rc;
        found = rc == PAT_OK;
    }
    if (!found)
        memcpy(hash, dummy, sizeof(hash));
    rc = crypto_pwhash_str_verify(hash, password ? password : "", len);
    /* A service account never signs in, whatever its row holds. */
    if (rc != 0 || !found || out->disabled || out->kind == PAT_KIND_SERVICE)
        return pat__fail(st, PAT_EFORBIDDEN, "wrong username or password");
    return PAT_OK;
}
