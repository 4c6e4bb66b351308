/* SPDX-License-Identifier: MIT */
/*
 * Bootstrapping a new store (pat_store_init): the token prefix, the
 * built-in scopes, the default policy, the first admin and their first
 * token, in one transaction. This is the domain's knowledge, so it lives
 * above the store, which only opens, migrates and runs operations.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "store/store_int.h"

static const struct pat_scope builtin_scopes[] = {
    {"patd:admin", "Administer users, tokens, scopes and policy", true},
    {"patd:introspect", "Call the token introspection endpoint", true},
    {"patd:self", "Manage one's own tokens through the API", true},
    {"patd:scim", "Provision users through SCIM 2.0", true},
};

/* Everything pat_store_init writes, inside its one transaction. */
static int
init_rows(struct pat_store *st, const char *prefix, const char *admin_name,
          struct pat_user *admin, struct pat_token *token, char *secret,
          size_t secret_len)
{
    struct pat_user_spec us = {admin_name, "Administrator", NULL,
                               PAT_ROLE_ADMIN,
                               "patd:admin patd:introspect patd:self"};
    struct pat_token_spec ts = {
        NULL, "bootstrap", "created by patd init", "patd:admin patd:self", NULL,
        NULL, {0}};
    struct pat_policy pol;
    char probe[PAT_PREFIX_MAX + 1];
    size_t i;
    int rc;

    rc = pat__db_setting_get(st, "token_prefix", probe, sizeof(probe));
    if (rc == PAT_OK)
        return pat__fail(st, PAT_EINITED, "store is already initialised");
    if (rc != PAT_ENOTFOUND)
        return rc;
    rc = pat__db_setting_put(st, "token_prefix", prefix);
    for (i = 0;
         rc == PAT_OK && i < sizeof(builtin_scopes) / sizeof(builtin_scopes[0]);
         i++)
        rc = pat__db_scope_put(st, &builtin_scopes[i]);
    if (rc != PAT_OK)
        return rc;
    pat_policy_defaults(&pol);
    rc = pat__db_policy_put(st, &pol);
    if (rc != PAT_OK)
        return rc;
    memcpy(st->prefix, prefix, strlen(prefix) + 1);
    rc = pat__audit(st, NULL, "store.initialised", NULL, NULL, NULL);
    if (rc != PAT_OK)
        return rc;
    rc = pat__user_create_tx(st, NULL, &us, admin);
    if (rc != PAT_OK)
        return rc;
    ts.user_id = admin->id;
    return pat__token_create_tx(st, NULL, &ts, token, secret, secret_len);
}

int
pat_store_init(struct pat_store *st, const struct pat_init_spec *spec,
               struct pat_user *admin, struct pat_token *token, char *secret,
               size_t secret_len)
{
    const char *prefix = spec && spec->prefix ? spec->prefix : "pat";
    const char *name =
        spec && spec->admin_username ? spec->admin_username : "admin";
    int rc;

    if (pat_prefix_check(prefix) != PAT_OK) {
        rc = pat__fail(st, PAT_EINVAL,
                       "invalid token prefix '%s': 2-16 of [a-z0-9], "
                       "starting with a letter",
                       prefix);
        goto out;
    }
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = init_rows(st, prefix, name, admin, token, secret, secret_len);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
out:
    if (rc != PAT_OK) {
        if (rc != PAT_EINITED)
            st->prefix[0] = '\0';
        if (secret != NULL)
            OPENSSL_cleanse(secret, secret_len);
    }
    return rc;
}
