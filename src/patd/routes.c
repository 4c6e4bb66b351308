/* SPDX-License-Identifier: MIT */
/* The route table and the matcher (see routes.h). */
#include <string.h>

#include "routes.h"
#include "web.h"
#include "banned.h"

const struct route routes[] = {
    /* First: forward auth is most requests, and the table is searched
     * in order. */
    {ROUTE_ANY, "/v1/auth", AUTH_NONE, h_auth, ROUTE_STORELESS | ROUTE_NOBODY},
    {"GET", "/healthz", AUTH_NONE, h_healthz, ROUTE_STORELESS},
    {"GET", "/readyz", AUTH_NONE, h_readyz, 0},
    {"GET", "/v1/session", AUTH_SELF, h_session_get, 0},
    {"POST", "/v1/session", AUTH_NONE, h_session_create, 0},
    {"DELETE", "/v1/session", AUTH_SELF, h_session_delete, 0},

    {"GET", "/v1/me", AUTH_SELF, h_me_get, 0},
    {"GET", "/v1/me/tokens", AUTH_SELF, h_me_tokens_list, 0},
    {"POST", "/v1/me/tokens", AUTH_SELF, h_me_tokens_create, 0},
    {"GET", "/v1/me/tokens/{id}", AUTH_SELF, h_me_token_get, 0},
    {"PATCH", "/v1/me/tokens/{id}", AUTH_SELF, h_me_token_patch, 0},
    {"POST", "/v1/me/tokens/{id}/regenerate", AUTH_SELF, h_me_token_regenerate,
     false},
    {"DELETE", "/v1/me/tokens/{id}", AUTH_SELF, h_me_token_delete, 0},
    {"GET", "/v1/me/audit", AUTH_SELF, h_me_audit, 0},
    {"GET", "/v1/me/sessions", AUTH_SELF, h_me_sessions_list, 0},
    {"DELETE", "/v1/me/sessions/{id}", AUTH_SELF, h_me_session_delete, 0},
    {"GET", "/v1/token", AUTH_TOKEN, h_token_self_get, 0},
    {"DELETE", "/v1/token", AUTH_TOKEN, h_token_self_delete, 0},

    {"GET", "/v1/users", AUTH_ADMIN, h_users_list, 0},
    {"POST", "/v1/users", AUTH_ADMIN, h_users_create, 0},
    {"GET", "/v1/users/{id}", AUTH_ADMIN, h_user_get, 0},
    {"PATCH", "/v1/users/{id}", AUTH_ADMIN, h_user_patch, 0},
    {"DELETE", "/v1/users/{id}", AUTH_ADMIN, h_user_delete, 0},
    {"GET", "/v1/users/{id}/tokens", AUTH_ADMIN, h_user_tokens_list, 0},
    {"POST", "/v1/users/{id}/tokens", AUTH_ADMIN, h_user_tokens_create, 0},
    {"DELETE", "/v1/users/{id}/tokens", AUTH_ADMIN, h_user_tokens_delete,
     false},
    {"GET", "/v1/tokens", AUTH_ADMIN, h_tokens_list, 0},
    {"POST", "/v1/tokens/revoke", AUTH_ADMIN, h_tokens_revoke, 0},
    {"GET", "/v1/tokens/{id}", AUTH_ADMIN, h_token_get, 0},
    {"DELETE", "/v1/tokens/{id}", AUTH_ADMIN, h_token_delete, 0},
    {"GET", "/v1/scopes", AUTH_SELF, h_scopes_get, 0},
    {"PUT", "/v1/scopes", AUTH_ADMIN, h_scopes_put, 0},
    {"GET", "/v1/policy", AUTH_SELF, h_policy_get, 0},
    {"PUT", "/v1/policy", AUTH_ADMIN, h_policy_put, 0},
    {"GET", "/v1/audit", AUTH_ADMIN, h_audit_list, 0},
    {"GET", "/v1/events", AUTH_ADMIN, h_events_list, 0},

    {"POST", "/oauth2/introspect", AUTH_NONE, h_introspect,
     ROUTE_STORELESS | ROUTE_FORM},
    {"POST", "/oauth2/revoke", AUTH_NONE, h_oauth_revoke, ROUTE_FORM},
    {"POST", "/v1/credentials/revoke", AUTH_NONE, h_credentials_revoke, 0},
    {"GET", "/metrics", AUTH_NONE, h_metrics, ROUTE_STORELESS},
    {"GET", "/", AUTH_NONE, h_web, ROUTE_STORELESS},
    {"GET", "/assets/{file}", AUTH_NONE, h_web, ROUTE_STORELESS},
    /* SCIM 2.0: the handlers authenticate (patd:scim) to answer SCIM errors. */
    {"GET", "/scim/v2/Users", AUTH_NONE, h_scim_users_list, 0},
    {"POST", "/scim/v2/Users", AUTH_NONE, h_scim_users_create, 0},
    {"GET", "/scim/v2/Users/{id}", AUTH_NONE, h_scim_user_get, 0},
    {"PUT", "/scim/v2/Users/{id}", AUTH_NONE, h_scim_user_put, 0},
    {"PATCH", "/scim/v2/Users/{id}", AUTH_NONE, h_scim_user_patch, 0},
    {"DELETE", "/scim/v2/Users/{id}", AUTH_NONE, h_scim_user_delete, 0},
    {"GET", "/v1/sso", AUTH_NONE, h_sso_config, ROUTE_STORELESS},
    {"GET", "/v1/sso/start", AUTH_NONE, h_sso_start, 0},
    {"GET", "/v1/sso/callback", AUTH_NONE, h_sso_callback, 0},
    {"POST", "/v1/me/cli-grants", AUTH_SELF, h_cli_grant_create, 0},
    {"POST", "/v1/cli/token", AUTH_NONE, h_cli_token, 0},
    {"POST", "/oauth2/token", AUTH_NONE, h_oauth_token, ROUTE_FORM},
    {"GET", "/.well-known/jwks.json", AUTH_NONE, h_jwks, ROUTE_STORELESS},
    {"GET", "/.well-known/oauth-authorization-server", AUTH_NONE, h_as_metadata,
     ROUTE_STORELESS},
    {"GET", "/v1/status-lists/{n}", AUTH_NONE, h_status_list, 0},
    {"GET", "/v1/me/exchanges", AUTH_SELF, h_me_exchanges, 0},
    {"GET", "/v1/keys", AUTH_ADMIN, h_keys_list, 0},
    {"POST", "/v1/keys/rotate", AUTH_ADMIN, h_keys_rotate, 0},
    {"POST", "/v1/keys/{kid}/retire", AUTH_ADMIN, h_key_retire, 0},
    {"GET", "/v1/approvals", AUTH_ADMIN, h_approvals_list, 0},
    {"POST", "/v1/approvals/{id}", AUTH_ADMIN, h_approval_decide, 0},
    {"GET", "/v1/webhooks", AUTH_ADMIN, h_webhooks_list, 0},
    {"POST", "/v1/webhooks", AUTH_ADMIN, h_webhooks_create, 0},
    {"GET", "/v1/webhooks/{id}", AUTH_ADMIN, h_webhook_get, 0},
    {"PATCH", "/v1/webhooks/{id}", AUTH_ADMIN, h_webhook_patch, 0},
    {"DELETE", "/v1/webhooks/{id}", AUTH_ADMIN, h_webhook_delete, 0},
    {"POST", "/v1/webhooks/{id}/secret", AUTH_ADMIN, h_webhook_secret, 0},
    {"POST", "/v1/webhooks/{id}/test", AUTH_ADMIN, h_webhook_test, 0},
    {"GET", "/v1/webhooks/{id}/deliveries", AUTH_ADMIN, h_webhook_deliveries,
     0},
    {"POST", "/v1/webhooks/{id}/deliveries/{delivery}/redeliver", AUTH_ADMIN,
     h_webhook_redeliver, 0},
    {NULL, NULL, AUTH_NONE, NULL, 0},
};

/*
 * Matches path against pattern segment by segment; a "{id}" segment takes
 * any one segment of 1..PAT_ID_LEN + 4 characters (the handler checks
 * the id itself, so that a bad one is a plain 404).
 */
static bool
match(const char *pattern, const char *path, struct req *r)
{
    const char *p = pattern, *q = path;
    int np = 0;

    while (*p != '\0' && *q != '\0') {
        size_t pl = strcspn(p + 1, "/") + 1, ql = strcspn(q + 1, "/") + 1;

        if (strncmp(p, "/{", 2) == 0) {
            if (ql < 2 || ql - 1 >= sizeof(r->param_buf[0]) ||
                np >= ROUTE_MAX_PARAMS)
                return false;
            memcpy(r->param_buf[np], q + 1, ql - 1);
            r->param_buf[np][ql - 1] = '\0';
            r->params[np] = r->param_buf[np];
            np++;
        } else if (pl != ql || strncmp(p, q, pl) != 0) {
            return false;
        }
        p += pl;
        q += ql;
    }
    return *p == '\0' && *q == '\0';
}

const char *const route_any_methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                         "PATCH", "DELETE", "OPTIONS", NULL};

bool
route_any_method(const char *method)
{
    const char *const *m;

    for (m = route_any_methods; *m != NULL; m++) {
        if (strcmp(*m, method) == 0)
            return true;
    }
    return false;
}

/* A GET route for a HEAD request (ANY routes answer HEAD themselves). */
static bool
route_match_head(struct req *r, const char *path, const struct route **out)
{
    const struct route *rt;

    for (rt = routes; rt->method != NULL; rt++) {
        if (strcmp(rt->method, "GET") == 0 && match(rt->pattern, path, r)) {
            *out = rt;
            return true;
        }
    }
    return false;
}

const struct route *
route_match(struct req *r, const char *method, const char *path,
            bool *path_known)
{
    const struct route *rt;

    *path_known = false;
    /* HEAD is GET without the body (libmicrohttpd drops the body). */
    if (strcmp(method, "HEAD") == 0 && route_match_head(r, path, &rt))
        return rt;
    for (rt = routes; rt->method != NULL; rt++) {
        if (!match(rt->pattern, path, r))
            continue;
        *path_known = true;
        if (strcmp(rt->method, method) == 0 ||
            (strcmp(rt->method, ROUTE_ANY) == 0 && route_any_method(method)))
            return rt;
    }
    return NULL;
}

size_t
route_index(const struct route *rt)
{
    return (size_t)(rt - routes);
}

size_t
route_count(void)
{
    size_t n = 0;

    while (routes[n].method != NULL)
        n++;
    return n;
}
