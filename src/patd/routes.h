/* SPDX-License-Identifier: MIT */
/*
 * The route table: every endpoint patd serves, with the authentication it
 * needs. `patd routes` prints it, and the OpenAPI test compares it with
 * docs/openapi.yaml, so the two cannot drift apart.
 */
#ifndef PATD_ROUTES_H
#define PATD_ROUTES_H

#include "request.h"

struct route {
    const char *method;
    const char *pattern; /* "/v1/me/tokens/{id}" */
    enum auth_need auth;
    handler_fn fn;
    unsigned flags; /* ROUTE_* */
};

enum {
    ROUTE_STORELESS = 1, /* needs no store connection of its own */
    ROUTE_NOBODY = 4,    /* a body, if any, is ignored (forward auth) */
    ROUTE_FORM = 8,      /* takes application/x-www-form-urlencoded */
};

/* The methods an ANY route answers (NULL-terminated), and a test. */
extern const char *const route_any_methods[];
bool route_any_method(const char *method);

/* "ANY" in the table matches every method (for forward auth). */
#define ROUTE_ANY "ANY"

/* The table, ended by a NULL method. */
extern const struct route routes[];

/*
 * Finds the route for method and path. Path parameters go to r->params.
 * *path_known is set when some route has this path (for 405).
 */
const struct route *route_match(struct req *r, const char *method,
                                const char *path, bool *path_known);

/* Handlers, by file. */
int h_healthz(struct req *r);
int h_readyz(struct req *r);

int h_session_get(struct req *r);
int h_session_create(struct req *r);
int h_session_delete(struct req *r);

int h_me_get(struct req *r);
int h_me_tokens_list(struct req *r);
int h_me_tokens_create(struct req *r);
int h_me_token_get(struct req *r);
int h_me_token_patch(struct req *r);
int h_me_token_regenerate(struct req *r);
int h_me_token_delete(struct req *r);
int h_me_audit(struct req *r);
int h_me_sessions_list(struct req *r);
int h_me_session_delete(struct req *r);
int h_token_self_get(struct req *r);
int h_token_self_delete(struct req *r);

int h_users_list(struct req *r);
int h_users_create(struct req *r);
int h_user_get(struct req *r);
int h_user_patch(struct req *r);
int h_user_delete(struct req *r);
int h_user_tokens_list(struct req *r);
int h_user_tokens_create(struct req *r);
int h_user_tokens_delete(struct req *r);
int h_tokens_list(struct req *r);
int h_token_get(struct req *r);
int h_token_delete(struct req *r);
int h_tokens_revoke(struct req *r);
int h_scopes_get(struct req *r);
int h_scopes_put(struct req *r);
int h_policy_get(struct req *r);
int h_policy_put(struct req *r);
int h_audit_list(struct req *r);

int h_webhooks_list(struct req *r);
int h_webhooks_create(struct req *r);
int h_webhook_get(struct req *r);
int h_webhook_patch(struct req *r);
int h_webhook_delete(struct req *r);
int h_webhook_secret(struct req *r);
int h_webhook_test(struct req *r);
int h_webhook_deliveries(struct req *r);
int h_webhook_redeliver(struct req *r);
int h_events_list(struct req *r);

int h_auth(struct req *r);
int h_introspect(struct req *r);
int h_oauth_revoke(struct req *r);
int h_credentials_revoke(struct req *r);
int h_metrics(struct req *r);

int h_scim_users_list(struct req *r);
int h_scim_users_create(struct req *r);
int h_scim_user_get(struct req *r);
int h_scim_user_put(struct req *r);
int h_scim_user_patch(struct req *r);
int h_scim_user_delete(struct req *r);

int h_sso_config(struct req *r);
int h_sso_start(struct req *r);
int h_sso_callback(struct req *r);

int h_cli_grant_create(struct req *r);
int h_cli_token(struct req *r);
/* Token exchange (h_exchange.c). */
int h_oauth_token(struct req *r);
int h_jwks(struct req *r);
int h_as_metadata(struct req *r);
int h_status_list(struct req *r);
int h_me_exchanges(struct req *r);
int h_keys_list(struct req *r);
int h_keys_rotate(struct req *r);
int h_key_retire(struct req *r);

/* The index of rt in routes[], for metrics. */
size_t route_index(const struct route *rt);
size_t route_count(void);

/* Shared by the self-service and admin handlers (h_tokens.c). */
int tokens_list(struct req *r, const char *owner);
/*
 * Answers 200 with a page of tokens: the first limit of the n read (one
 * more than limit was asked for, to know whether more follow); frees page.
 */
int reply_token_page(struct req *r, struct pat_token *page, size_t n,
                     size_t limit);
int tokens_create(struct req *r, const char *owner);
int token_get(struct req *r, const char *owner, const char *id);
int token_revoke(struct req *r, const char *owner, const char *id,
                 const char *reason);
int audit_list(struct req *r, const struct pat_audit_filter *base);

/* Governance (h_governance.c). */
int body_limits(struct req *r, struct pat_token_limits *out);
int h_approvals_list(struct req *r);
int h_approval_decide(struct req *r);

#endif
