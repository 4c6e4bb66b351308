/* SPDX-License-Identifier: MIT */
/*
 * The token policy (DESIGN.md section 3) and the one place where an
 * expiry request is resolved against it.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "store/store_int.h"

void
pat_policy_defaults(struct pat_policy *p)
{
    p->max_lifetime_days = 366;
    p->allow_no_expiry = false;
    p->default_lifetime_days = 30;
    p->max_tokens_per_user = 1000;
    p->revoke_on_reuse = false;
    p->approval_required_scopes[0] = '\0';
    p->pending_max_age_seconds = 7 * 86400;
    p->revoke_unused_after_days = 0;
    p->service_allow_no_expiry = false;
}

int
pat_policy_check(const struct pat_policy *p)
{
    if (p->max_lifetime_days < 1 || p->max_lifetime_days > PAT_LIFETIME_CAP)
        return PAT_EINVAL;
    if (p->default_lifetime_days < 1 ||
        p->default_lifetime_days > p->max_lifetime_days)
        return PAT_EINVAL;
    if (p->max_tokens_per_user < 1 || p->max_tokens_per_user > 1000000)
        return PAT_EINVAL;
    if (p->pending_max_age_seconds < 60 ||
        p->pending_max_age_seconds > 366 * 86400LL)
        return PAT_EINVAL;
    if (p->revoke_unused_after_days < 0 ||
        p->revoke_unused_after_days > PAT_LIFETIME_CAP)
        return PAT_EINVAL;
    return PAT_OK;
}

int
pat_policy_get(struct pat_store *st, struct pat_policy *out)
{
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__db_policy_get(st, out);
    if (rc == PAT_ENOTFOUND)
        return pat__fail(st, PAT_ENOTINIT, "store has no policy");
    return rc;
}

int
pat_policy_put(struct pat_store *st, const struct pat_actor *who,
               const struct pat_policy *p)
{
    char detail[PAT_DETAIL_MAX + 1];
    struct pat_policy pol = *p;
    int rc = pat__need_init(st);

    if (rc != PAT_OK)
        return rc;
    if (pat_policy_check(p) != PAT_OK)
        return pat__fail(st, PAT_EINVAL,
                         "policy out of range: 1 <= default_lifetime_days <= "
                         "max_lifetime_days <= %d, 1 <= max_tokens_per_user "
                         "<= 1000000, 60 <= pending_max_age_seconds <= "
                         "31622400, 0 <= revoke_unused_after_days <= %d",
                         PAT_LIFETIME_CAP, PAT_LIFETIME_CAP);
    rc = pat__scopes_parse(st, p->approval_required_scopes, false,
                           pol.approval_required_scopes,
                           sizeof(pol.approval_required_scopes));
    if (rc != PAT_OK)
        return rc;
    pat__detail(
        detail, sizeof(detail), "{s:i, s:b, s:i, s:i, s:b, s:s, s:I, s:i, s:b}",
        "max_lifetime_days", p->max_lifetime_days, "allow_no_expiry",
        p->allow_no_expiry, "default_lifetime_days", p->default_lifetime_days,
        "max_tokens_per_user", p->max_tokens_per_user, "revoke_on_reuse",
        p->revoke_on_reuse, "approval_required_scopes",
        pol.approval_required_scopes, "pending_max_age_seconds",
        (json_int_t)p->pending_max_age_seconds, "revoke_unused_after_days",
        p->revoke_unused_after_days, "service_allow_no_expiry",
        p->service_allow_no_expiry);
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__scopes_exist(st, pol.approval_required_scopes);
    if (rc == PAT_OK)
        rc = pat__db_policy_put(st, &pol);
    if (rc == PAT_OK)
        rc = pat__feed(st, who, "policy.changed", NULL, NULL, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "policy.updated", NULL, NULL, detail);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

/* The later of two bounds, where 0 means "none". */
static int64_t
tighter(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

int
pat__expiry_resolve(struct pat_store *st, const struct pat_actor *who,
                    const struct pat_policy *pol, const struct pat_expiry *e,
                    int64_t *expires_at)
{
    int64_t now = pat_store_now(st);
    int64_t max = now + (int64_t)pol->max_lifetime_days * 86400;
    /* Only self-service minting is bounded by the calling token. */
    int64_t bound =
        who && who->token_id && !who->on_behalf ? who->token_expires_at : 0;
    int set = (e->at != 0) + (e->days != 0) + (e->never ? 1 : 0);
    int64_t at;

    if (set > 1)
        return pat__fail(st, PAT_EINVAL,
                         "give at most one of expires_at, expires_in_days "
                         "and no expiry");
    if (e->never) {
        if (!pol->allow_no_expiry)
            return pat__fail(st, PAT_EPOLICY,
                             "the policy does not allow tokens without "
                             "expiry");
        if (bound != 0)
            return pat__fail(st, PAT_EPOLICY,
                             "a token that expires cannot create one that "
                             "does not");
        *expires_at = 0;
        return PAT_OK;
    }
    if (e->days != 0) {
        if (e->days < 1 || e->days > pol->max_lifetime_days)
            return pat__fail(st, PAT_EPOLICY,
                             "expires_in_days must be from 1 to %d",
                             pol->max_lifetime_days);
        at = now + (int64_t)e->days * 86400;
    } else if (e->at != 0) {
        if (e->at <= now)
            return pat__fail(st, PAT_EINVAL, "expires_at is in the past");
        if (e->at > max)
            return pat__fail(st, PAT_EPOLICY,
                             "expires_at is beyond the policy's maximum "
                             "lifetime of %d days",
                             pol->max_lifetime_days);
        at = e->at;
    } else {
        /* The default, shortened to the acting token's own expiry. */
        at = tighter(now + (int64_t)pol->default_lifetime_days * 86400, bound);
        *expires_at = at;
        return PAT_OK;
    }
    if (bound != 0 && at > bound)
        return pat__fail(st, PAT_EPOLICY,
                         "expiry is later than the calling token's own");
    *expires_at = at;
    return PAT_OK;
}
