/* SPDX-License-Identifier: MIT */
/*
 * Authentication of API requests: a Bearer PAT checked through the shared
 * verifier, or the web session cookie with its CSRF token on requests
 * that change state; then the role and the scope the route needs. A
 * refusal is answered here, with the WWW-Authenticate challenge of RFC
 * 6750.
 */
#ifndef PATD_AUTH_H
#define PATD_AUTH_H

#include "request.h"

/*
 * Authenticates r as need demands (AUTH_NONE: nothing to do). Needs
 * r->verifier and r->st. On success fills r->authed, r->user, r->actor
 * (and r->token or r->csrf) and returns 0; otherwise answers r and
 * returns the status answered (401 and 403 mostly, 503 when the store
 * cannot answer). r->user is set whenever r->authed is, even when a role
 * or scope check then refuses.
 */
int auth_request(struct req *r, enum auth_need need);

/*
 * The description of every 401 for a token that was presented: the same
 * whether it is malformed, unknown, expired, revoked or its user is
 * disabled, so that whoever holds a dead token learns nothing of its
 * state. The reason is in the audit trail and the metrics, not here.
 */
#define AUTH_INVALID_TOKEN "the token is not valid"

#endif
