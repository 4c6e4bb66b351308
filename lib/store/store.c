/* SPDX-License-Identifier: MIT */
/*
 * The store handle: choosing a backend from the URL, opening and
 * migrating, transactions and the announcements of changes made in them,
 * the clock, and the one-transaction bootstrap of a new store
 * (pat_store_init).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "store/store_int.h"

static int64_t
system_now(void *arg)
{
    (void)arg;
    return (int64_t)time(NULL);
}

int
pat_store_open(const char *url, int flags, struct pat_store **out, char *errbuf,
               size_t errlen)
{
    struct pat_store *st = NULL;
    const char *target;
    int rc;

    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return PAT_EINVAL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return PAT_ENOMEM;
    st->errbuf = errbuf;
    st->errlen = errlen;
    st->now = system_now;
    /* libpq takes its URIs whole; PAT_OPEN_CREATE means nothing there. */
    if (strncmp(url, "postgres://", 11) == 0 ||
        strncmp(url, "postgresql://", 13) == 0) {
        target = url;
        st->ops = &pat__postgres_ops;
    } else {
        target = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
        st->ops = &pat__sqlite_ops;
    }
    rc = st->ops->open(st, target, flags);
    if (rc != PAT_OK) {
        st->ops = NULL;
        goto fail;
    }
    rc = pat__migrate(st);
    if (rc != PAT_OK)
        goto fail;
    rc = pat__load_prefix(st);
    if (rc != PAT_OK && rc != PAT_ENOTFOUND)
        goto fail;
    *out = st;
    return PAT_OK;
fail:
    pat_store_close(st);
    return rc;
}

void
pat_store_close(struct pat_store *st)
{
    if (st == NULL)
        return;
    if (st->ops != NULL)
        st->ops->close(st);
    free(st);
}

void
pat_store_set_errbuf(struct pat_store *st, char *buf, size_t len)
{
    st->errbuf = buf;
    st->errlen = buf ? len : 0;
}

void
pat_store_set_clock(struct pat_store *st, int64_t (*now)(void *), void *arg)
{
    st->now = now ? now : system_now;
    st->now_arg = now ? arg : NULL;
}

int64_t
pat_store_now(const struct pat_store *st)
{
    return st->now(st->now_arg);
}

int
pat_store_schema_version(const struct pat_store *st)
{
    return st->schema_version;
}

int
pat_store_migrations_applied(const struct pat_store *st)
{
    return st->migrations_applied;
}

const char *
pat_store_prefix(const struct pat_store *st)
{
    return st->prefix[0] ? st->prefix : NULL;
}

int
pat__tx_begin(struct pat_store *st)
{
    int rc;

    if (st->in_tx)
        return pat__fail(st, PAT_ESTORE, "transaction already open");
    rc = st->ops->begin(st);
    if (rc == PAT_OK)
        st->in_tx = true;
    return rc;
}

int
pat__tx_commit(struct pat_store *st)
{
    int rc = st->ops->commit(st);

    if (rc != PAT_OK)
        st->ops->rollback(st);
    st->in_tx = false;
    return rc;
}

void
pat__tx_rollback(struct pat_store *st)
{
    if (!st->in_tx)
        return;
    st->ops->rollback(st);
    st->in_tx = false;
}

int
pat__changed(struct pat_store *st, const char *token_id)
{
    if (st->ops->notify == NULL)
        return PAT_OK;
    if (!st->in_tx)
        return pat__fail(st, PAT_ESTORE,
                         "a change announced outside a "
                         "transaction");
    return st->ops->notify(st, token_id ? token_id : "*");
}

int
pat__load_prefix(struct pat_store *st)
{
    char buf[PAT_PREFIX_MAX + 1];
    int rc = st->ops->setting_get(st, "token_prefix", buf, sizeof(buf));

    if (rc != PAT_OK)
        return rc;
    if (pat_prefix_check(buf) != PAT_OK)
        return pat__fail(st, PAT_ESTORE, "stored token prefix '%s' is invalid",
                         buf);
    memcpy(st->prefix, buf, sizeof(buf));
    return PAT_OK;
}

int
pat__need_init(struct pat_store *st)
{
    if (st->prefix[0] == '\0')
        return pat__fail(st, PAT_ENOTINIT,
                         "store is not initialised; run 'patd init'");
    return PAT_OK;
}

static const struct pat_scope builtin_scopes[] = {
    {"patd:admin", "Administer users, tokens, scopes and policy", true},
    {"patd:introspect", "Call the token introspection endpoint", true},
    {"patd:self", "Manage one's own tokens through the API", true},
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

    rc = st->ops->setting_get(st, "token_prefix", probe, sizeof(probe));
    if (rc == PAT_OK)
        return pat__fail(st, PAT_EINITED, "store is already initialised");
    if (rc != PAT_ENOTFOUND)
        return rc;
    rc = st->ops->setting_put(st, "token_prefix", prefix);
    for (i = 0;
         rc == PAT_OK && i < sizeof(builtin_scopes) / sizeof(builtin_scopes[0]);
         i++)
        rc = st->ops->scope_put(st, &builtin_scopes[i]);
    if (rc != PAT_OK)
        return rc;
    pat_policy_defaults(&pol);
    rc = st->ops->policy_put(st, &pol);
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
