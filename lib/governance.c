/* SPDX-License-Identifier: MIT */
/*
 * Governance (DESIGN.md section 13): the rules a new token meets beyond
 * the basics (service accounts, limits, approval of sensitive scopes),
 * the approval decisions, and the periodic sweep (pending requests past
 * their age, unused tokens). Each decision and each swept token is one
 * transaction with its audit event and its feed row, like every other
 * lifecycle call; the feed row is what reaches the verifiers (a decision
 * names the token) and what notifies the owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "store/store_int.h"

#define SWEEP_PAGE        200
#define NOTICE_LEAD_MAX_S (7 * 86400LL)

const char *
pat_user_kind_name(int kind)
{
    switch (kind) {
    case PAT_KIND_PERSON:
        return "person";
    case PAT_KIND_SERVICE:
        return "service";
    default:
        return NULL;
    }
}

int
pat_user_kind_parse(const char *s, int *kind)
{
    if (s != NULL && strcmp(s, "person") == 0)
        *kind = PAT_KIND_PERSON;
    else if (s != NULL && strcmp(s, "service") == 0)
        *kind = PAT_KIND_SERVICE;
    else
        return PAT_EINVAL;
    return PAT_OK;
}

const char *
pat_approval_name(int approval)
{
    return pat__approval_name(approval);
}

/* The limits of spec into t, each within its bounds. */
static int
limits_check(struct pat_store *st, const struct pat_token_limits *spec,
             struct pat_token *t)
{
    static const struct pat_token_limits none = {0, 0, 0};

    if (spec == NULL)
        spec = &none;
    if (spec->max_uses < 0 || spec->max_uses > PAT_MAX_USES_MAX)
        return pat__fail(st, PAT_EINVAL, "max_uses must be 1 to %lld",
                         (long long)PAT_MAX_USES_MAX);
    if (spec->rate_limit < 0 || spec->rate_limit > PAT_RATE_LIMIT_MAX ||
        spec->rate_window < 0 || spec->rate_window > PAT_RATE_WINDOW_MAX ||
        (spec->rate_limit == 0) != (spec->rate_window == 0))
        return pat__fail(st, PAT_EINVAL,
                         "rate_limit needs limit 1 to %d and window_seconds "
                         "1 to %d",
                         PAT_RATE_LIMIT_MAX, PAT_RATE_WINDOW_MAX);
    t->max_uses = t->uses_left = spec->max_uses;
    t->rate_limit = spec->rate_limit;
    t->rate_window = spec->rate_window;
    return PAT_OK;
}

int
pat__token_governance(struct pat_store *st, const struct pat_actor *who,
                      const struct pat_token_limits *limits,
                      const struct pat_user *owner, struct pat_policy *pol,
                      struct pat_token *t)
{
    char asked[PAT_SCOPESTR_MAX + 1];
    /* An administrator issuing a token, or a local command, decides. */
    bool issuer = who == NULL || who->on_behalf;
    int rc;

    if (owner->kind == PAT_KIND_SERVICE && !issuer)
        return pat__fail(st, PAT_EFORBIDDEN,
                         "tokens of service account '%s' are issued by "
                         "administrators",
                         owner->username);
    rc = limits_check(st, limits, t);
    if (rc != PAT_OK)
        return rc;
    /* Service accounts have their own no-expiry allowance. */
    if (owner->kind == PAT_KIND_SERVICE)
        pol->allow_no_expiry = pol->service_allow_no_expiry;
    rc = pat__list_intersect(t->scopes, pol->approval_required_scopes, asked,
                             sizeof(asked));
    if (rc != PAT_OK)
        return rc;
    if (asked[0] != '\0' && !issuer)
        t->approval = PAT_APPROVAL_PENDING;
    return PAT_OK;
}

int
pat_token_pending_list(struct pat_store *st, int64_t after,
                       struct pat_token *out, size_t cap, size_t *n)
{
    int rc = pat__need_init(st);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    return pat__db_token_pending(st, after, out, cap, n);
}

/* The checks of a decision on t, inside its transaction. */
static int
decidable(struct pat_store *st, const struct pat_actor *who,
          const struct pat_token *t)
{
    struct pat_policy pol;
    int rc;

    if (t->approval != PAT_APPROVAL_PENDING || t->revoked_at != 0)
        return pat__fail(st, PAT_ECONFLICT, "token '%s' is not pending", t->id);
    rc = pat__db_policy_get(st, &pol);
    if (rc != PAT_OK)
        return rc;
    if (pat_store_now(st) - t->created_at >= pol.pending_max_age_seconds)
        return pat__fail(st, PAT_ECONFLICT,
                         "the request for token '%s' has expired", t->id);
    if (who != NULL && who->user_id != NULL &&
        strcmp(who->user_id, t->user_id) == 0)
        return pat__fail(st, PAT_EFORBIDDEN,
                         "a request is decided by another administrator");
    return PAT_OK;
}

static int
decide_tx(struct pat_store *st, const struct pat_actor *who, const char *id,
          bool approve, const char *reason, struct pat_token *t)
{
    char detail[PAT_DETAIL_MAX + 1];
    const char *type = approve ? "token.approved" : "token.denied";
    int rc = pat__db_token_get(st, id, t);

    if (rc == PAT_ENOTFOUND)
        return pat__fail(st, rc, "no token '%s'", id);
    if (rc == PAT_OK)
        rc = decidable(st, who, t);
    if (rc != PAT_OK)
        return rc;
    t->approval = approve ? PAT_APPROVAL_APPROVED : PAT_APPROVAL_DENIED;
    pat__copy(t->approval_reason, sizeof(t->approval_reason),
              approve || reason == NULL ? "" : reason);
    pat__copy(t->decided_by, sizeof(t->decided_by),
              who && who->user_id ? who->user_id : "");
    t->decided_at = pat_store_now(st);
    rc = pat__db_token_gov_set(st, t);
    if (rc == PAT_OK && !approve) {
        t->revoked_at = t->decided_at;
        pat__copy(t->revoked_reason, sizeof(t->revoked_reason), "denied");
        rc = pat__db_token_update(st, t);
    }
    if (rc != PAT_OK)
        return rc;
    pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "name", t->name,
                "scopes", t->scopes, "reason", t->approval_reason);
    rc = pat__feed(st, who, type, t->user_id, t->id, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, type, t->user_id, t->id, detail);
    return rc;
}

int
pat_token_decide(struct pat_store *st, const struct pat_actor *who,
                 const char *id, bool approve, const char *reason,
                 struct pat_token *out)
{
    struct pat_token t;
    int rc = pat__need_init(st);

    if (rc == PAT_OK && reason != NULL)
        rc = pat__text_check(st, "reason", reason, PAT_APPROVAL_REASON_MAX,
                             PAT_APPROVAL_REASON_MAX, false);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = decide_tx(st, who, id, approve, reason, &t);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && out != NULL)
        *out = t;
    return rc;
}

/* Expires one pending request, in its own transaction. */
static int
expire_request(struct pat_store *st, const char *id, bool *done)
{
    struct pat_token t;
    char detail[PAT_DETAIL_MAX + 1];
    int rc = pat__tx_begin(st);

    *done = false;
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_token_get(st, id, &t);
    if (rc != PAT_OK || t.approval != PAT_APPROVAL_PENDING ||
        t.revoked_at != 0) {
        pat__tx_rollback(st);
        return rc == PAT_ENOTFOUND ? PAT_OK : rc;
    }
    t.approval = PAT_APPROVAL_EXPIRED;
    t.decided_at = t.revoked_at = pat_store_now(st);
    pat__copy(t.revoked_reason, sizeof(t.revoked_reason), "approval_expired");
    rc = pat__db_token_gov_set(st, &t);
    if (rc == PAT_OK)
        rc = pat__db_token_update(st, &t);
    pat__detail(detail, sizeof(detail), "{s:s, s:s}", "name", t.name, "reason",
                "approval_expired");
    if (rc == PAT_OK)
        rc = pat__feed(st, NULL, "token.expired", t.user_id, t.id, detail);
    if (rc == PAT_OK)
        rc = pat__audit(st, NULL, "token.approval_expired", t.user_id, t.id,
                        detail);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    *done = rc == PAT_OK;
    return rc;
}

static int
sweep_pending(struct pat_store *st, const struct pat_policy *pol,
              struct pat_sweep_report *out)
{
    struct pat_token *page = malloc(SWEEP_PAGE * sizeof(*page));
    int64_t before = pat_store_now(st) - pol->pending_max_age_seconds;
    size_t n = 0, i;
    bool done;
    int rc;

    if (page == NULL)
        return PAT_ENOMEM;
    /* One page a pass: what is left waits for the next one. */
    rc = pat__db_token_pending_old(st, before, page, SWEEP_PAGE, &n);
    for (i = 0; rc == PAT_OK && i < n; i++) {
        rc = expire_request(st, page[i].id, &done);
        out->pending_expired += done;
    }
    free(page);
    return rc;
}

/*
 * What the sweep does with one idle token, in its own transaction:
 * revoke it (a notice at least lead old, and newer than its last use,
 * and idle for the whole period), send the notice (none since its last
 * use), or nothing.
 */
static int
sweep_idle_one(struct pat_store *st, const char *id, int64_t period,
               int64_t lead, struct pat_sweep_report *out)
{
    struct pat_token t;
    char detail[PAT_DETAIL_MAX + 1], at[PAT_TIME_LEN + 1];
    int64_t now = pat_store_now(st), idle_since;
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__db_token_get(st, id, &t);
    if (rc != PAT_OK || t.revoked_at != 0)
        goto skip;
    idle_since = t.last_used_at != 0 ? t.last_used_at : t.created_at;
    if (t.unused_notice_at != 0 && t.unused_notice_at >= idle_since &&
        idle_since <= now - period && t.unused_notice_at <= now - lead) {
        rc = pat__token_revoke_id(st, NULL, t.id, "unused");
        if (rc == PAT_OK)
            out->unused_revoked++;
    } else if (t.unused_notice_at == 0 || t.unused_notice_at < idle_since) {
        int64_t revoke_at = idle_since + period;
        if (revoke_at < now + lead)
            revoke_at = now + lead;
        t.unused_notice_at = now;
        rc = pat__db_token_gov_set(st, &t);
        if (pat_time_format(revoke_at, at, sizeof(at)) != PAT_OK)
            at[0] = '\0';
        pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "name", t.name,
                    "reason", "unused", "revoke_at", at);
        if (rc == PAT_OK)
            rc = pat__feed(st, NULL, "token.expiring", t.user_id, t.id, detail);
        if (rc == PAT_OK)
            rc = pat__audit(st, NULL, "token.unused_notice", t.user_id, t.id,
                            detail);
        if (rc == PAT_OK)
            out->unused_noticed++;
    } else {
        goto skip;
    }
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
skip:
    pat__tx_rollback(st);
    return rc == PAT_ENOTFOUND ? PAT_OK : rc;
}

static int
sweep_idle(struct pat_store *st, const struct pat_policy *pol,
           struct pat_sweep_report *out)
{
    struct pat_token *page = malloc(SWEEP_PAGE * sizeof(*page));
    int64_t period = (int64_t)pol->revoke_unused_after_days * 86400;
    int64_t lead =
        period / 2 < NOTICE_LEAD_MAX_S ? period / 2 : NOTICE_LEAD_MAX_S;
    int64_t after = 0, now = pat_store_now(st);
    size_t n = 0, i;
    int rc;

    if (page == NULL)
        return PAT_ENOMEM;
    do {
        rc = pat__db_token_idle(st, now, now - (period - lead), after, page,
                                SWEEP_PAGE, &n);
        for (i = 0; rc == PAT_OK && i < n; i++)
            rc = sweep_idle_one(st, page[i].id, period, lead, out);
        if (n > 0)
            after = page[n - 1].seq;
    } while (rc == PAT_OK && n == SWEEP_PAGE);
    free(page);
    return rc;
}

int
pat_governance_sweep(struct pat_store *st, struct pat_sweep_report *out)
{
    struct pat_policy pol;
    int rc = pat__need_init(st);

    memset(out, 0, sizeof(*out));
    if (rc == PAT_OK)
        rc = pat__db_policy_get(st, &pol);
    if (rc == PAT_OK)
        rc = sweep_pending(st, &pol, out);
    if (rc == PAT_OK && pol.revoke_unused_after_days > 0)
        rc = sweep_idle(st, &pol, out);
    return rc;
}
