/* SPDX-License-Identifier: MIT */
/* JSON renderings of users, tokens, audit events, feed rows, the policy. */
#ifndef PATD_MODEL_JSON_H
#define PATD_MODEL_JSON_H

#include <jansson.h>

#include "pat/pat.h"

/* Each returns a new reference, or NULL when out of memory. */
json_t *render_user(const struct pat_user *u);
json_t *render_token(const struct pat_token *t, int64_t now);
json_t *render_audit(const struct pat_audit *ev);
/* A session as its user sees it: {id, created_at, expires_at, ip,
 * user_agent, current}. */
json_t *render_session(const struct pat_session *s);
json_t *render_change(const struct pat_change *c);
json_t *render_policy(const struct pat_policy *p);

#endif
