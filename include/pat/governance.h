/* SPDX-License-Identifier: MIT */
/*
 * Governance (DESIGN.md section 13): the approval queue of tokens that
 * ask for sensitive scopes, and the periodic sweep that expires pending
 * requests past the policy's age and revokes tokens left unused (with a
 * notice first). Service accounts and per-token limits are set where
 * users and tokens are created (user.h, token.h); use limits are spent
 * and rate limits counted by the verifier (verify.h).
 */
#ifndef PAT_GOVERNANCE_H
#define PAT_GOVERNANCE_H

#include "store.h"
#include "token.h"
#include "user.h"

/*
 * pat_user_create for a kind of user (enum pat_user_kind). A service
 * account is never an admin, has no password and never signs in.
 */
int pat_user_create_kind(struct pat_store *st, const struct pat_actor *who,
                         const struct pat_user_spec *spec, int kind,
                         struct pat_user *out);

/* The limits of a new token (DESIGN.md section 13); 0: none. */
struct pat_token_limits {
    int64_t max_uses; /* 1..PAT_MAX_USES_MAX successful verifications */
    int rate_limit;   /* 1..PAT_RATE_LIMIT_MAX per rate_window seconds */
    int rate_window;  /* 1..PAT_RATE_WINDOW_MAX, with rate_limit */
};

/*
 * pat_token_create with limits (NULL: none); the same refusals, and
 * PAT_EINVAL for a limit out of its bounds.
 */
int pat_token_create_limited(struct pat_store *st, const struct pat_actor *who,
                             const struct pat_token_spec *spec,
                             const struct pat_token_limits *limits,
                             struct pat_token *out, char *secret,
                             size_t secret_len);

/* "person" or "service" for enum pat_user_kind; NULL otherwise. */
const char *pat_user_kind_name(int kind);

/* Parses a kind name; PAT_EINVAL for anything else. */
int pat_user_kind_parse(const char *s, int *kind);

/* "", "pending", "approved", "denied" or "expired" (enum pat_approval). */
const char *pat_approval_name(int approval);

/*
 * Up to cap pending requests (not revoked) after seq `after`, oldest
 * first; *n receives the count.
 */
int pat_token_pending_list(struct pat_store *st, int64_t after,
                           struct pat_token *out, size_t cap, size_t *n);

/*
 * Approves (approve true) or denies a pending request, with an audit
 * event and a feed row (token.approved / token.denied) that names the
 * token, so every verifier reads it again. A denial revokes the token
 * (reason "denied") and keeps reason (NULL: none; at most
 * PAT_APPROVAL_REASON_MAX bytes of text) for its owner to read.
 * Refusals: PAT_ENOTFOUND, PAT_ECONFLICT (not pending, or past the
 * policy's pending_max_age_seconds), PAT_EFORBIDDEN (an administrator
 * deciding their own request; local commands, who == NULL, may),
 * PAT_EINVAL (reason). *out (may be NULL) receives the token after.
 */
int pat_token_decide(struct pat_store *st, const struct pat_actor *who,
                     const char *id, bool approve, const char *reason,
                     struct pat_token *out);

struct pat_sweep_report {
    int64_t pending_expired; /* requests past pending_max_age_seconds */
    int64_t unused_noticed;  /* notices (token.expiring, reason unused) */
    int64_t unused_revoked;  /* revoked with reason "unused" */
};

/*
 * One pass of governance housekeeping at the store's clock: pending
 * requests older than the policy's pending_max_age_seconds are revoked
 * (reason "approval_expired", feed row token.expired); with
 * revoke_unused_after_days = N > 0, a live token idle (last used, or
 * created if never used) for N days minus the notice lead (7 days, or
 * half of N when N < 14) gets a notice (feed row token.expiring with
 * reason "unused"), and one idle for N days whose notice is at least the
 * lead old and newer than its last use is revoked (reason "unused").
 * Each token is its own transaction. Returns the first store error; the
 * report counts what was done before it.
 */
int pat_governance_sweep(struct pat_store *st, struct pat_sweep_report *out);

#endif
