/* SPDX-License-Identifier: MIT */
/*
 * Verification of a presented token against the store: the reference
 * path, and what a cache in front of it must agree with. It reads the
 * store once and writes nothing, except when a retired secret comes back
 * (a reuse): that is recorded, and may revoke the token by policy.
 */
#include <string.h>

#include "internal.h"
#include "store/store_int.h"

static void
fill(struct pat_verdict *out, const struct pat_token *t,
     const struct pat_user *u)
{
    pat__copy(out->token_id, sizeof(out->token_id), t->id);
    pat__copy(out->user_id, sizeof(out->user_id), u->id);
    pat__copy(out->username, sizeof(out->username), u->username);
    pat__copy(out->audiences, sizeof(out->audiences), t->audiences);
    pat__copy(out->allowed_cidrs, sizeof(out->allowed_cidrs), t->allowed_cidrs);
    out->created_at = t->created_at;
    out->expires_at = t->expires_at;
}

/* Records a reuse and, under revoke_on_reuse, revokes the token. */
static void
report_reuse(struct pat_store *st, const struct pat_token *t)
{
    struct pat_policy pol;
    int rc;

    if (pat__tx_begin(st) != PAT_OK)
        return;
    rc = pat__audit(st, NULL, "token.reuse_detected", t->user_id, t->id, "{}");
    if (rc == PAT_OK)
        rc = pat__feed(st, NULL, "token.reuse_detected", t->user_id, t->id,
                       NULL);
    if (rc == PAT_OK)
        rc = pat__db_policy_get(st, &pol);
    if (rc == PAT_OK && pol.revoke_on_reuse)
        rc = pat__token_revoke_id(st, NULL, t->id, "reuse");
    if (rc == PAT_OK)
        (void)pat__tx_commit(st);
    else
        pat__tx_rollback(st);
}

int
pat_verify(struct pat_store *st, const char *token, size_t len,
           struct pat_verdict *out)
{
    struct pat_token t;
    struct pat_user u;
    uint8_t hash[PAT_HASH_LEN];
    int64_t retire_at = 0, now;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = pat__need_init(st);
    if (rc != PAT_OK)
        return rc;
    if (token == NULL || pat_token_check(st->prefix, token, len) != PAT_OK)
        return PAT_EMALFORMED;
    rc = pat_token_hash(token, len, hash);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_verify_lookup(st, hash, &t, &retire_at, &u);
    if (rc == PAT_ENOTFOUND)
        return PAT_EUNKNOWN;
    if (rc != PAT_OK)
        return rc;
    fill(out, &t, &u);
    now = pat_store_now(st);
    if (t.revoked_at != 0)
        return PAT_EREVOKED;
    if (retire_at != 0 && retire_at <= now) {
        report_reuse(st, &t);
        return PAT_EREUSED;
    }
    if (t.expires_at != 0 && t.expires_at <= now)
        return PAT_EEXPIRED;
    if (u.disabled || u.deleted_at != 0)
        return PAT_EDISABLED;
    out->grace_until = retire_at;
    rc = pat__list_intersect(t.scopes, u.scopes, out->scopes,
                             sizeof(out->scopes));
    return rc == PAT_OK ? PAT_OK : PAT_ESTORE;
}

bool
pat_verdict_allows_ip(const struct pat_verdict *v, const char *ip)
{
    if (v->allowed_cidrs[0] == '\0')
        return true;
    return ip != NULL && pat__cidr_match(v->allowed_cidrs, ip);
}

bool
pat_verdict_has_scope(const struct pat_verdict *v, const char *scope)
{
    return scope != NULL && pat__list_has(v->scopes, scope, strlen(scope));
}
