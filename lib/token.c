/* SPDX-License-Identifier: MIT */
/*
 * The token lifecycle (DESIGN.md section 3): create, read, edit,
 * regenerate, revoke. Each public call is one transaction that applies
 * every rule before it writes, and writes its audit event with the change.
 * Only SHA-256 of a token and its last four characters are stored.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "internal.h"
#include "store/store_int.h"

enum pat_status
pat_token_status(const struct pat_token *t, int64_t now)
{
    if (t->revoked_at != 0)
        return PAT_STATUS_REVOKED;
    if (t->expires_at != 0 && t->expires_at <= now)
        return PAT_STATUS_EXPIRED;
    return PAT_STATUS_ACTIVE;
}

static const struct {
    const char *name;
    int mask;
} statuses[] = {
    {"active", PAT_STATUS_ACTIVE},
    {"expired", PAT_STATUS_EXPIRED},
    {"revoked", PAT_STATUS_REVOKED},
    {"all", PAT_STATUS_ALL},
};

const char *
pat_status_name(int status)
{
    size_t i;

    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (statuses[i].mask == status)
            return statuses[i].name;
    }
    return NULL;
}

int
pat_status_parse(const char *s, int *mask)
{
    size_t i;

    for (i = 0; s != NULL && i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(statuses[i].name, s) == 0) {
            *mask = statuses[i].mask;
            return PAT_OK;
        }
    }
    return PAT_EINVAL;
}

static int
list_field(struct pat_store *st, const char *field, const char *in,
           pat__canon_cb canon, size_t max, size_t item_max, char *out,
           size_t cap)
{
    char bad[PAT_AUDIENCE_MAX + 1];
    int rc = pat__list_normalize(in, canon, max, item_max, out, cap, bad,
                                 sizeof(bad), NULL);

    if (rc == PAT_EINVAL)
        return pat__fail(st, rc, "invalid entry '%s' in %s", bad, field);
    if (rc == PAT_ELIMIT)
        return pat__fail(st, PAT_EINVAL, "more than %zu entries in %s", max,
                         field);
    return rc;
}

/*
 * Every scope of t is in the catalog and the owner's; when a token mints
 * for its own user, also the token's.
 */
static int
scopes_allowed(struct pat_store *st, const struct pat_actor *who,
               const struct pat_user *owner, const char *scopes)
{
    char missing[PAT_SCOPE_MAX + 1];
    int rc = pat__scopes_exist(st, scopes);

    if (rc != PAT_OK)
        return rc;
    if (pat__list_missing(scopes, owner->scopes, missing, sizeof(missing)))
        return pat__fail(st, PAT_ESCOPE,
                         "scope '%s' is not allowed for user '%s'", missing,
                         owner->username);
    if (who != NULL && who->token_id != NULL && !who->on_behalf &&
        pat__list_missing(scopes, who->token_scopes ? who->token_scopes : "",
                          missing, sizeof(missing)))
        return pat__fail(st, PAT_ESCOPE,
                         "scope '%s' is beyond the calling token's scopes",
                         missing);
    return PAT_OK;
}

/* Validates spec into t (everything but ids, times and the secret). */
static int
token_fields(struct pat_store *st, const struct pat_actor *who,
             const struct pat_token_spec *spec, const struct pat_user *owner,
             struct pat_token *t)
{
    int rc;

    rc = pat__text_check(st, "name", spec->name, PAT_NAME_MAX_CHARS,
                         PAT_NAME_MAX, true);
    if (rc == PAT_OK)
        rc = pat__text_check(st, "description", spec->description, PAT_DESC_MAX,
                             PAT_DESC_MAX, false);
    if (rc == PAT_OK)
        rc = pat__scopes_parse(st, spec->scopes, true, t->scopes,
                               sizeof(t->scopes));
    if (rc == PAT_OK)
        rc = list_field(st, "audiences", spec->audiences, pat__audience_canon,
                        PAT_AUDIENCES_MAX, PAT_AUDIENCE_MAX, t->audiences,
                        sizeof(t->audiences));
    if (rc == PAT_OK)
        rc = list_field(st, "allowed_cidrs", spec->allowed_cidrs,
                        pat__cidr_canon, PAT_CIDRS_MAX, PAT_CIDR_MAX,
                        t->allowed_cidrs, sizeof(t->allowed_cidrs));
    if (rc == PAT_OK)
        rc = scopes_allowed(st, who, owner, t->scopes);
    if (rc != PAT_OK)
        return rc;
    pat__copy(t->name, sizeof(t->name), spec->name);
    pat__copy(t->description, sizeof(t->description), spec->description);
    pat__copy(t->user_id, sizeof(t->user_id), owner->id);
    return PAT_OK;
}

/*
 * Makes a new plaintext in secret, its hash in hash and its hint in
 * t->hint. Nothing is stored yet: the secret row references the token
 * row, so the caller writes the token first.
 */
static int
new_secret(struct pat_store *st, struct pat_token *t, char *secret,
           size_t secret_len, uint8_t hash[PAT_HASH_LEN])
{
    size_t len;
    int rc;

    rc = pat_token_generate(st->prefix, secret, secret_len);
    if (rc != PAT_OK)
        return pat__fail(st, rc, "cannot generate a token: %s",
                         pat_strerror(rc));
    len = strlen(secret);
    rc = pat_token_hash(secret, len, hash);
    if (rc != PAT_OK)
        return rc;
    memcpy(t->hint, secret + len - PAT_HINT_LEN, PAT_HINT_LEN);
    t->hint[PAT_HINT_LEN] = '\0';
    return PAT_OK;
}

static void
expiry_detail(char *out, size_t cap, int64_t at)
{
    if (at == 0 || pat_time_format(at, out, cap) != PAT_OK)
        pat__copy(out, cap, "never");
}

int
pat__token_create_tx(struct pat_store *st, const struct pat_actor *who,
                     const struct pat_token_spec *spec, struct pat_token *out,
                     char *secret, size_t secret_len)
{
    return pat__token_create_limited_tx(st, who, spec, NULL, out, secret,
                                        secret_len);
}

int
pat__token_create_limited_tx(struct pat_store *st, const struct pat_actor *who,
                             const struct pat_token_spec *spec,
                             const struct pat_token_limits *limits,
                             struct pat_token *out, char *secret,
                             size_t secret_len)
{
    struct pat_user owner;
    struct pat_policy pol;
    struct pat_token *t = out;
    char detail[PAT_DETAIL_MAX + 1], exp[PAT_TIME_LEN + 8];
    uint8_t hash[PAT_HASH_LEN];
    int64_t live = 0;
    int rc;

    if (secret == NULL || secret_len < PAT_TOKEN_MAX + 1)
        return pat__fail(st, PAT_EINVAL, "secret buffer too small");
    memset(t, 0, sizeof(*t));
    rc = pat__user_find(st, spec->user_id, &owner);
    if (rc != PAT_OK)
        return rc;
    if (owner.disabled)
        return pat__fail(st, PAT_EDISABLED, "user '%s' is disabled",
                         owner.username);
    rc = token_fields(st, who, spec, &owner, t);
    if (rc == PAT_OK)
        rc = pat__db_policy_get(st, &pol);
    if (rc == PAT_OK)
        rc = pat__token_governance(st, who, limits, &owner, &pol, t);
    if (rc == PAT_OK)
        rc = pat__expiry_resolve(st, who, &pol, &spec->expiry, &t->expires_at);
    if (rc == PAT_OK)
        rc = pat__db_token_count_live(st, owner.id, pat_store_now(st), &live);
    if (rc != PAT_OK)
        return rc;
    if (live >= pol.max_tokens_per_user)
        return pat__fail(st, PAT_ELIMIT,
                         "user '%s' already has %lld active tokens, the "
                         "policy's maximum",
                         owner.username, (long long)live);
    rc = pat__random_id("tok", t->id, sizeof(t->id));
    if (rc == PAT_OK)
        rc = new_secret(st, t, secret, secret_len, hash);
    if (rc != PAT_OK)
        return rc;
    t->created_at = pat_store_now(st);
    rc = pat__db_token_insert(st, t);
    if (rc == PAT_ECONFLICT)
        return pat__fail(st, rc,
                         "a token named '%s' already exists for user '%s'",
                         t->name, owner.username);
    if (rc == PAT_OK)
        rc = pat__db_secret_insert(st, hash, t->id, t->created_at);
    if (rc == PAT_OK &&
        (t->approval != PAT_APPROVAL_NONE || t->max_uses || t->rate_limit))
        rc = pat__db_token_gov_set(st, t);
    if (rc != PAT_OK)
        return rc;
    expiry_detail(exp, sizeof(exp), t->expires_at);
    if (t->approval == PAT_APPROVAL_PENDING)
        pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s, s:s}", "name",
                    t->name, "scopes", t->scopes, "expires_at", exp, "approval",
                    "pending");
    else
        pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "name", t->name,
                    "scopes", t->scopes, "expires_at", exp);
    rc = pat__feed(st, who, "token.created", owner.id, t->id, detail);
    if (rc != PAT_OK)
        return rc;
    return pat__audit(st, who, "token.created", owner.id, t->id, detail);
}

int
pat_token_create(struct pat_store *st, const struct pat_actor *who,
                 const struct pat_token_spec *spec, struct pat_token *out,
                 char *secret, size_t secret_len)
{
    return pat_token_create_limited(st, who, spec, NULL, out, secret,
                                    secret_len);
}

int
pat_token_create_limited(struct pat_store *st, const struct pat_actor *who,
                         const struct pat_token_spec *spec,
                         const struct pat_token_limits *limits,
                         struct pat_token *out, char *secret, size_t secret_len)
{
    int rc = pat__need_init(st);

    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__token_create_limited_tx(st, who, spec, limits, out, secret,
                                      secret_len);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
out:
    if (rc != PAT_OK && secret != NULL)
        OPENSSL_cleanse(secret, secret_len);
    return rc;
}

/* Reads token id, as seen by owner (NULL: any); another's is missing. */
static int
token_find(struct pat_store *st, const char *owner, const char *id,
           struct pat_token *out)
{
    struct pat_user u;
    int rc;

    if (id == NULL || strnlen(id, PAT_ID_LEN + 1) != PAT_ID_LEN ||
        strncmp(id, "tok_", 4) != 0)
        return pat__fail(st, PAT_ENOTFOUND, "no token '%.32s'", id ? id : "");
    rc = pat__db_token_get(st, id, out);
    if (rc == PAT_OK && owner != NULL) {
        /* owner may be a username; compare ids. */
        if (strncmp(owner, "usr_", 4) == 0)
            rc = strcmp(owner, out->user_id) == 0 ? PAT_OK : PAT_ENOTFOUND;
        else if ((rc = pat__user_find(st, owner, &u)) == PAT_OK)
            rc = strcmp(u.id, out->user_id) == 0 ? PAT_OK : PAT_ENOTFOUND;
    }
    if (rc == PAT_ENOTFOUND)
        return pat__fail(st, rc, "no token '%s'", id);
    return rc;
}

int
pat_token_get(struct pat_store *st, const char *owner, const char *id,
              struct pat_token *out)
{
    return token_find(st, owner, id, out);
}

int
pat_token_list(struct pat_store *st, const struct pat_token_filter *f,
               struct pat_token *out, size_t cap, size_t *n)
{
    struct pat_token_filter all;

    *n = 0;
    if (f == NULL) {
        memset(&all, 0, sizeof(all));
        f = &all;
    }
    if (f->status < 0 || f->status > PAT_STATUS_ALL)
        return pat__fail(st, PAT_EINVAL, "invalid status filter");
    return pat__db_token_list(st, f, pat_store_now(st), out, cap, n);
}

int
pat_token_update(struct pat_store *st, const struct pat_actor *who,
                 const char *owner, const char *id, const char *name,
                 const char *description, struct pat_token *out)
{
    struct pat_token t;
    char detail[PAT_DETAIL_MAX + 1];
    int rc = PAT_OK;

    if (name != NULL)
        rc = pat__text_check(st, "name", name, PAT_NAME_MAX_CHARS, PAT_NAME_MAX,
                             true);
    if (rc == PAT_OK)
        rc = pat__text_check(st, "description", description, PAT_DESC_MAX,
                             PAT_DESC_MAX, false);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = token_find(st, owner, id, &t);
    if (rc == PAT_OK && t.revoked_at != 0)
        rc = pat__fail(st, PAT_EREVOKED, "token '%s' is revoked", id);
    if (rc != PAT_OK)
        goto fail;
    pat__detail(detail, sizeof(detail), "{s:s, s:s?, s:b}", "old_name", t.name,
                "name", name, "description_changed", description != NULL);
    if (name != NULL)
        pat__copy(t.name, sizeof(t.name), name);
    if (description != NULL)
        pat__copy(t.description, sizeof(t.description), description);
    rc = pat__db_token_update(st, &t);
    if (rc == PAT_ECONFLICT)
        rc = pat__fail(st, rc, "a token named '%s' already exists", t.name);
    if (rc == PAT_OK)
        rc = pat__feed(st, who, "token.renamed", t.user_id, t.id, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "token.updated", t.user_id, t.id, detail);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    if (rc == PAT_OK && out != NULL)
        *out = t;
    if (rc == PAT_OK)
        return rc;
fail:
    pat__tx_rollback(st);
    return rc;
}

int
pat_token_regenerate(struct pat_store *st, const struct pat_actor *who,
                     const char *owner, const char *id,
                     const struct pat_expiry *expiry, int grace_seconds,
                     struct pat_token *out, char *secret, size_t secret_len)
{
    struct pat_expiry none = {0, 0, false};
    struct pat_policy pol;
    struct pat_token t;
    struct pat_user u;
    char detail[PAT_DETAIL_MAX + 1], exp[PAT_TIME_LEN + 8];
    uint8_t hash[PAT_HASH_LEN];
    int64_t now = pat_store_now(st), retire_at = 0;
    int rc = pat__need_init(st);

    if (rc == PAT_OK && (grace_seconds < 0 || grace_seconds > PAT_GRACE_MAX))
        rc = pat__fail(st, PAT_EINVAL, "grace_seconds must be from 0 to %d",
                       PAT_GRACE_MAX);
    if (rc == PAT_OK && (secret == NULL || secret_len < PAT_TOKEN_MAX + 1))
        rc = pat__fail(st, PAT_EINVAL, "secret buffer too small");
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = token_find(st, owner, id, &t);
    if (rc == PAT_OK && t.revoked_at != 0)
        rc = pat__fail(st, PAT_EREVOKED, "token '%s' is revoked", id);
    if (rc == PAT_OK)
        rc = pat__user_find(st, t.user_id, &u);
    if (rc == PAT_OK && u.disabled)
        rc = pat__fail(st, PAT_EDISABLED, "user '%s' is disabled", u.username);
    /* The owner may have lost a scope since: regenerating keeps none. */
    if (rc == PAT_OK)
        rc = scopes_allowed(st, who, &u, t.scopes);
    /*
     * The old secret never outlives its own expiry: a grace period eases
     * a rotation, it must not revive an expired secret or stretch one
     * past the expiry it was issued with (read before t.expires_at takes
     * the new expiry).
     */
    if (rc == PAT_OK) {
        retire_at = now + grace_seconds;
        if (t.expires_at != 0 && t.expires_at < retire_at)
            retire_at = t.expires_at;
        rc = pat__db_policy_get(st, &pol);
    }
    if (rc == PAT_OK)
        rc = pat__expiry_resolve(st, who, &pol, expiry ? expiry : &none,
                                 &t.expires_at);
    if (rc == PAT_OK)
        rc = pat__db_secret_retire(st, t.id, retire_at);
    if (rc == PAT_OK)
        rc = new_secret(st, &t, secret, secret_len, hash);
    if (rc == PAT_OK)
        rc = pat__db_secret_insert(st, hash, t.id, now);
    if (rc == PAT_OK)
        rc = pat__db_token_update(st, &t);
    /* The old secret now retires: nodes must not keep serving it. */
    if (rc == PAT_OK) {
        expiry_detail(exp, sizeof(exp), t.expires_at);
        pat__detail(detail, sizeof(detail), "{s:i, s:s}", "grace_seconds",
                    grace_seconds, "expires_at", exp);
        rc = pat__feed(st, who, "token.regenerated", t.user_id, t.id, detail);
    }
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "token.regenerated", t.user_id, t.id, detail);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && out != NULL)
        *out = t;
out:
    if (rc != PAT_OK && secret != NULL)
        OPENSSL_cleanse(secret, secret_len);
    return rc;
}

static int
reason_check(struct pat_store *st, const char *reason)
{
    size_t i, len = strnlen(reason, PAT_REASON_MAX + 1);

    if (len == 0 || len > PAT_REASON_MAX)
        return pat__fail(st, PAT_EINVAL, "reason must be 1 to %d of [a-z_]",
                         PAT_REASON_MAX);
    for (i = 0; i < len; i++) {
        if ((reason[i] < 'a' || reason[i] > 'z') && reason[i] != '_')
            return pat__fail(st, PAT_EINVAL, "reason must be 1 to %d of [a-z_]",
                             PAT_REASON_MAX);
    }
    return PAT_OK;
}

/* Revokes t inside an open transaction. */
static int
revoke_tx(struct pat_store *st, const struct pat_actor *who,
          struct pat_token *t, const char *reason)
{
    char detail[PAT_DETAIL_MAX + 1];
    int rc;

    t->revoked_at = pat_store_now(st);
    pat__copy(t->revoked_reason, sizeof(t->revoked_reason), reason);
    pat__detail(detail, sizeof(detail), "{s:s, s:s}", "name", t->name, "reason",
                reason);
    rc = pat__db_token_update(st, t);
    /* A leak report's revocation is its own event type for subscribers. */
    if (rc == PAT_OK)
        rc = pat__feed(st, who,
                       strcmp(reason, "leaked") == 0 ? "token.leaked"
                                                     : "token.revoked",
                       t->user_id, t->id, detail);
    if (rc != PAT_OK)
        return rc;
    return pat__audit(st, who, "token.revoked", t->user_id, t->id, detail);
}

int
pat_token_revoke(struct pat_store *st, const struct pat_actor *who,
                 const char *owner, const char *id, const char *reason)
{
    struct pat_token t;
    int rc;

    if (reason == NULL)
        reason = "revoked";
    rc = reason_check(st, reason);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = token_find(st, owner, id, &t);
    if (rc == PAT_OK && t.revoked_at == 0)
        rc = revoke_tx(st, who, &t, reason);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat__token_revoke_id(struct pat_store *st, const struct pat_actor *who,
                     const char *id, const char *reason)
{
    struct pat_token t;
    int rc = pat__db_token_get(st, id, &t);

    if (rc == PAT_OK && t.revoked_at == 0)
        rc = revoke_tx(st, who, &t, reason);
    return rc;
}

int
pat_token_revoke_user(struct pat_store *st, const struct pat_actor *who,
                      const char *user, const char *reason, int64_t *count)
{
    struct pat_user u;
    struct pat_change ch;
    char detail[PAT_DETAIL_MAX + 1];
    int64_t n = 0;
    int rc;

    if (reason == NULL)
        reason = "revoked";
    rc = reason_check(st, reason);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__user_find(st, user, &u);
    if (rc == PAT_OK) {
        pat__detail(detail, sizeof(detail), "{s:s}", "reason", reason);
        rc = pat__feed_fill(st, who, "token.revoked", u.id, NULL, detail, &ch);
    }
    if (rc == PAT_OK)
        rc = pat__db_token_revoke_user(st, u.id, pat_store_now(st), reason, &ch,
                                       &n);
    if (rc == PAT_OK) {
        pat__detail(detail, sizeof(detail), "{s:I, s:s}", "count",
                    (json_int_t)n, "reason", reason);
        rc = pat__audit(st, who, "token.revoked_all", u.id, NULL, detail);
    }
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && count != NULL)
        *count = n;
    return rc;
}

int
pat_token_revoke_bulk(struct pat_store *st, const struct pat_actor *who,
                      const struct pat_bulk_filter *f, const char *reason,
                      bool dry_run, int64_t *count)
{
    char detail[PAT_DETAIL_MAX + 1], before[PAT_TIME_LEN + 1] = "";
    struct pat_change ch;
    int64_t n = 0;
    int rc;

    if (reason == NULL)
        reason = "bulk";
    rc = reason_check(st, reason);
    if (rc == PAT_OK && f->user_id == NULL && f->scope == NULL &&
        f->created_before == 0)
        rc = pat__fail(st, PAT_EINVAL,
                       "give at least one of user_id, scope and "
                       "created_before");
    if (rc == PAT_OK) {
        pat__detail(detail, sizeof(detail), "{s:s}", "reason", reason);
        rc = pat__feed_fill(st, who, "token.revoked", NULL, NULL, detail, &ch);
    }
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_token_revoke_where(st, f, pat_store_now(st), reason, dry_run,
                                    &ch, &n);
    if (rc == PAT_OK && !dry_run) {
        if (f->created_before != 0)
            pat_time_format(f->created_before, before, sizeof(before));
        pat__detail(detail, sizeof(detail), "{s:I, s:s?, s:s?, s:s?}", "count",
                    (json_int_t)n, "user_id", f->user_id, "scope", f->scope,
                    "created_before", before[0] ? before : NULL);
        rc =
            pat__audit(st, who, "token.revoked_bulk", f->user_id, NULL, detail);
    }
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && count != NULL)
        *count = n;
    return rc;
}

int
pat_token_revoke_secret(struct pat_store *st, const struct pat_actor *who,
                        const char *token, size_t len, const char *reason,
                        bool *revoked)
{
    struct pat_token t;
    struct pat_user u;
    uint8_t hash[PAT_HASH_LEN];
    int64_t retire_at = 0;
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    if (token == NULL || pat_token_check(st->prefix, token, len) != PAT_OK)
        return PAT_EMALFORMED;
    rc = reason_check(st, reason);
    if (rc == PAT_OK)
        rc = pat_token_hash(token, len, hash);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    *revoked = false;
    rc = pat__db_verify_lookup(st, hash, &t, &retire_at, &u);
    if (rc == PAT_ENOTFOUND ||
        (rc == PAT_OK && retire_at != 0 && retire_at <= pat_store_now(st)))
        rc = PAT_EUNKNOWN;
    if (rc == PAT_OK && t.revoked_at == 0) {
        rc = revoke_tx(st, who, &t, reason);
        *revoked = rc == PAT_OK;
    }
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc != PAT_OK)
        *revoked = false;
    return rc;
}
