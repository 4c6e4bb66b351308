/* SPDX-License-Identifier: MIT */
/*
 * The change feed as the domain writes it (DESIGN.md section 12): which
 * types exist, and what each one makes a verifier forget. Every lifecycle
 * call appends its rows through pat__feed inside its transaction; the
 * store keeps them and signals the commit.
 */
#include <string.h>

#include "internal.h"
#include "store/store_int.h"
#include "pat/webhook.h"

/*
 * What each type makes less valid. A new token or a new name cannot
 * turn a cached "valid" into "invalid", so they evict nothing; a
 * regeneration retires the old secret, so its token goes.
 */
static const struct {
    const char *type;
    int evict;
} types[] = {
    {"token.created", PAT_EVICT_NONE},
    {"token.renamed", PAT_EVICT_NONE},
    {"token.regenerated", PAT_EVICT_TOKEN},
    {"token.revoked", PAT_EVICT_TOKEN},
    {"token.expiring", PAT_EVICT_NONE},
    {"token.expired", PAT_EVICT_TOKEN},
    {"token.leaked", PAT_EVICT_TOKEN},
    {"token.reuse_detected", PAT_EVICT_NONE},
    {"token.approved", PAT_EVICT_TOKEN},
    {"token.denied", PAT_EVICT_TOKEN},
    {"user.created", PAT_EVICT_NONE},
    {"user.updated", PAT_EVICT_USER},
    {"user.disabled", PAT_EVICT_USER},
    {"user.deleted", PAT_EVICT_USER},
    {"scopes.changed", PAT_EVICT_ALL},
    {"policy.changed", PAT_EVICT_ALL},
    {"webhook.disabled", PAT_EVICT_NONE},
};

int
pat__feed_fill(struct pat_store *st, const struct pat_actor *who,
               const char *type, const char *user_id, const char *token_id,
               const char *data, struct pat_change *ch)
{
    size_t i;

    memset(ch, 0, sizeof(*ch));
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i].type, type) == 0)
            break;
    }
    if (i == sizeof(types) / sizeof(types[0]))
        return pat__fail(st, PAT_EINVAL, "unknown change type '%s'", type);
    ch->evict = types[i].evict;
    ch->at = pat_store_now(st);
    pat__copy(ch->type, sizeof(ch->type), type);
    pat__copy(ch->actor, sizeof(ch->actor),
              who && who->user_id ? who->user_id : "system");
    pat__copy(ch->user_id, sizeof(ch->user_id), user_id ? user_id : "");
    pat__copy(ch->token_id, sizeof(ch->token_id), token_id ? token_id : "");
    /* Callers build data with pat__detail, which already bounds it. */
    if (pat__copy(ch->data, sizeof(ch->data), data ? data : "{}") != PAT_OK)
        return pat__fail(st, PAT_ERANGE, "change data too long");
    return PAT_OK;
}

int
pat__feed(struct pat_store *st, const struct pat_actor *who, const char *type,
          const char *user_id, const char *token_id, const char *data)
{
    struct pat_change ch;
    int rc = pat__feed_fill(st, who, type, user_id, token_id, data, &ch);

    if (rc != PAT_OK)
        return rc;
    return pat__db_change_append(st, &ch);
}

int
pat_changes_list(struct pat_store *st, int64_t after, struct pat_change *out,
                 size_t cap, size_t *n)
{
    *n = 0;
    if (after < 0)
        return pat__fail(st, PAT_EINVAL, "after must not be negative");
    return pat__db_change_list(st, after, out, cap, n);
}

int
pat_changes_last(struct pat_store *st, int64_t *seq)
{
    return pat__db_change_last(st, seq);
}

int
pat_changes_prune(struct pat_store *st, int64_t before, int64_t *n)
{
    int rc = pat__tx_begin(st);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_change_prune(st, before, n);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    return rc;
}

bool
pat_change_type_known(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i].type, type) == 0)
            return true;
    }
    return false;
}
