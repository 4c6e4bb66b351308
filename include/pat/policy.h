/* SPDX-License-Identifier: MIT */
/* The token policy: lifetimes, limits and the reuse rule. */
#ifndef PAT_POLICY_H
#define PAT_POLICY_H

#include "store.h"

/* The defaults of DESIGN.md section 3. */
void pat_policy_defaults(struct pat_policy *p);

/* PAT_OK when every field is in range, else PAT_EINVAL. */
int pat_policy_check(const struct pat_policy *p);

int pat_policy_get(struct pat_store *st, struct pat_policy *out);

/* Validates and stores p, with an audit event. */
int pat_policy_put(struct pat_store *st, const struct pat_actor *who,
                   const struct pat_policy *p);

#endif
