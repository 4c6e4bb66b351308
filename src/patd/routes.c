/* SPDX-License-Identifier: MIT */
/* The route table and the matcher (see routes.h). */
#include <string.h>

#include "routes.h"
#include "banned.h"

const struct route routes[] = {
    {"GET", "/healthz", AUTH_NONE, h_healthz},
    {"GET", "/readyz", AUTH_NONE, h_readyz},
    {"POST", "/v1/session", AUTH_NONE, h_session_create},
    {"DELETE", "/v1/session", AUTH_SELF, h_session_delete},

    {"GET", "/v1/me", AUTH_SELF, h_me_get},
    {"GET", "/v1/me/tokens", AUTH_SELF, h_me_tokens_list},
    {"POST", "/v1/me/tokens", AUTH_SELF, h_me_tokens_create},
    {"GET", "/v1/me/tokens/{id}", AUTH_SELF, h_me_token_get},
    {"PATCH", "/v1/me/tokens/{id}", AUTH_SELF, h_me_token_patch},
    {"POST", "/v1/me/tokens/{id}/regenerate", AUTH_SELF, h_me_token_regenerate},
    {"DELETE", "/v1/me/tokens/{id}", AUTH_SELF, h_me_token_delete},
    {"GET", "/v1/me/audit", AUTH_SELF, h_me_audit},
    {"GET", "/v1/token", AUTH_TOKEN, h_token_self_get},
    {"DELETE", "/v1/token", AUTH_TOKEN, h_token_self_delete},

    {"GET", "/v1/users", AUTH_ADMIN, h_users_list},
    {"POST", "/v1/users", AUTH_ADMIN, h_users_create},
    {"GET", "/v1/users/{id}", AUTH_ADMIN, h_user_get},
    {"PATCH", "/v1/users/{id}", AUTH_ADMIN, h_user_patch},
    {"DELETE", "/v1/users/{id}", AUTH_ADMIN, h_user_delete},
    {"GET", "/v1/users/{id}/tokens", AUTH_ADMIN, h_user_tokens_list},
    {"POST", "/v1/users/{id}/tokens", AUTH_ADMIN, h_user_tokens_create},
    {"DELETE", "/v1/users/{id}/tokens", AUTH_ADMIN, h_user_tokens_delete},
    {"GET", "/v1/tokens", AUTH_ADMIN, h_tokens_list},
    {"POST", "/v1/tokens/revoke", AUTH_ADMIN, h_tokens_revoke},
    {"GET", "/v1/tokens/{id}", AUTH_ADMIN, h_token_get},
    {"DELETE", "/v1/tokens/{id}", AUTH_ADMIN, h_token_delete},
    {"GET", "/v1/scopes", AUTH_ADMIN, h_scopes_get},
    {"PUT", "/v1/scopes", AUTH_ADMIN, h_scopes_put},
    {"GET", "/v1/policy", AUTH_ADMIN, h_policy_get},
    {"PUT", "/v1/policy", AUTH_ADMIN, h_policy_put},
    {"GET", "/v1/audit", AUTH_ADMIN, h_audit_list},
    {NULL, NULL, AUTH_NONE, NULL},
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

const struct route *
route_match(struct req *r, const char *method, const char *path,
            bool *path_known)
{
    const struct route *rt;

    *path_known = false;
    for (rt = routes; rt->method != NULL; rt++) {
        if (!match(rt->pattern, path, r))
            continue;
        *path_known = true;
        if (strcmp(rt->method, method) == 0)
            return rt;
    }
    return NULL;
}
