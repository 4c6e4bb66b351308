/* SPDX-License-Identifier: MIT */
/*
 * Admin handlers: users, every user's tokens, the inventory and bulk
 * revocation, the scope catalog, the policy and the audit trail. The
 * server has already checked the caller's role (and patd:admin for PATs).
 */
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "banned.h"

static int
parse_role(struct req *r, const char *s, int *role)
{
    if (s == NULL)
        return 0;
    if (strcmp(s, "admin") == 0)
        *role = PAT_ROLE_ADMIN;
    else if (strcmp(s, "user") == 0)
        *role = PAT_ROLE_USER;
    else
        return reply_error(r, 400, "invalid_request",
                           "role must be 'admin' or 'user'");
    return 0;
}

/* Checks a password's length before anything is written. */
static int
check_password(struct req *r, const char *pw)
{
    size_t len = pw ? strlen(pw) : 0;

    if (pw != NULL && (len < PAT_PASSWORD_MIN || len > PAT_PASSWORD_MAX))
        return reply_error(r, 400, "invalid_request",
                           "password must have %d to %d bytes",
                           PAT_PASSWORD_MIN, PAT_PASSWORD_MAX);
    return 0;
}

int
h_users_list(struct req *r)
{
    struct pat_user *page;
    json_t *items;
    size_t limit, n = 0, i;
    int64_t after;
    int rc;

    const char *kind = req_query(r, "kind");
    int k;

    if (req_page(r, &limit, &after))
        return r->status;
    if (kind != NULL && pat_user_kind_parse(kind, &k) != PAT_OK)
        return reply_error(r, 400, "invalid_request",
                           "kind must be 'person' or 'service'");
    page = calloc(limit + 1, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_user_list_kind(r->st, after, req_query(r, "q"), kind, page,
                            limit + 1, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    items = json_array();
    for (i = 0; i < n && i < limit; i++)
        json_array_append_new(items, render_user(&page[i]));
    reply(r, 200, page_json(items, n > limit, n ? page[i - 1].seq : 0));
    free(page);
    return r->status;
}

int
h_users_create(struct req *r)
{
    static const char *const fields[] = {
        "username", "display_name", "email", "role",
        "scopes",   "password",     "kind",  NULL};
    struct pat_user_spec spec = {NULL, NULL, NULL, PAT_ROLE_USER, NULL};
    char scopes[PAT_SCOPESTR_MAX + 1];
    const char *role = NULL, *pw = NULL, *kind_name = NULL;
    struct pat_user u;
    bool has_scopes;
    int rc, kind = PAT_KIND_PERSON;

    if (body_fields(r, fields) ||
        body_string(r, "username", true, &spec.username) ||
        body_string(r, "display_name", false, &spec.display_name) ||
        body_string(r, "email", false, &spec.email) ||
        body_string(r, "role", false, &role) ||
        body_string(r, "password", false, &pw) ||
        body_string(r, "kind", false, &kind_name) ||
        body_list(r, "scopes", PAT_SCOPES_MAX, scopes, sizeof(scopes),
                  &has_scopes) ||
        parse_role(r, role, &spec.role) || check_password(r, pw))
        return r->status;
    if (kind_name != NULL && pat_user_kind_parse(kind_name, &kind) != PAT_OK)
        return reply_error(r, 400, "invalid_request",
                           "kind must be 'person' or 'service'");
    /* Refused before anything is written: a service account never signs in. */
    if (kind == PAT_KIND_SERVICE && pw != NULL)
        return reply_error(r, 400, "invalid_request",
                           "a service account has no password");
    spec.scopes = has_scopes ? scopes : NULL;
    rc = pat_user_create_kind(r->st, &r->actor, &spec, kind, &u);
    if (rc == PAT_OK && pw != NULL)
        rc = pat_user_set_password(r->st, &r->actor, u.id, pw);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 201, render_user(&u));
}

/* The user named by the path; 0 or the status answered (404). */
static int
path_user(struct req *r, struct pat_user *u)
{
    int rc;

    if (strncmp(r->params[0], "usr_", 4) != 0)
        return reply_error(r, 404, "not_found", "no such user");
    rc = pat_user_get(r->st, r->params[0], u);
    return rc == PAT_OK ? 0 : reply_pat(r, rc);
}

int
h_user_get(struct req *r)
{
    struct pat_user u;

    if (path_user(r, &u))
        return r->status;
    return reply(r, 200, render_user(&u));
}

int
h_user_patch(struct req *r)
{
    static const char *const fields[] = {
        "display_name", "email",    "role", "scopes",
        "disabled",     "password", NULL};
    struct pat_user_patch p = {NULL, NULL, -1, NULL, -1};
    char scopes[PAT_SCOPESTR_MAX + 1];
    const char *role = NULL, *pw = NULL;
    struct pat_user u;
    bool has_scopes;
    int rc;

    if (body_fields(r, fields) ||
        body_string(r, "display_name", false, &p.display_name) ||
        body_string(r, "email", false, &p.email) ||
        body_string(r, "role", false, &role) ||
        body_string(r, "password", false, &pw) ||
        body_bool(r, "disabled", &p.disabled) ||
        body_list(r, "scopes", PAT_SCOPES_MAX, scopes, sizeof(scopes),
                  &has_scopes) ||
        parse_role(r, role, &p.role) || check_password(r, pw) ||
        path_user(r, &u))
        return r->status;
    p.scopes = has_scopes ? scopes : NULL;
    if (strcmp(u.id, r->user.id) == 0 &&
        (p.disabled == 1 || p.role == PAT_ROLE_USER))
        return reply_error(r, 403, "forbidden",
                           "you cannot disable or demote yourself");
    rc = pat_user_update(r->st, &r->actor, u.id, &p, &u);
    if (rc == PAT_OK && pw != NULL)
        rc = pat_user_set_password(r->st, &r->actor, u.id, pw);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 200, render_user(&u));
}

int
h_user_delete(struct req *r)
{
    struct pat_user u;
    int rc;

    if (path_user(r, &u))
        return r->status;
    if (strcmp(u.id, r->user.id) == 0)
        return reply_error(r, 403, "forbidden", "you cannot delete yourself");
    rc = pat_user_delete(r->st, &r->actor, u.id);
    return rc == PAT_OK ? reply(r, 204, NULL) : reply_pat(r, rc);
}

int
h_user_tokens_list(struct req *r)
{
    struct pat_user u;

    if (path_user(r, &u))
        return r->status;
    return tokens_list(r, u.id);
}

int
h_user_tokens_create(struct req *r)
{
    struct pat_user u;

    if (path_user(r, &u))
        return r->status;
    /* On-behalf issue: the user's scopes and the policy bound it. */
    r->actor.on_behalf = true;
    return tokens_create(r, u.id);
}

int
h_user_tokens_delete(struct req *r)
{
    struct pat_user u;
    int64_t n = 0;
    int rc;

    if (path_user(r, &u))
        return r->status;
    rc = pat_token_revoke_user(r->st, &r->actor, u.id, "admin", &n);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
}

int
h_tokens_list(struct req *r)
{
    return tokens_list(r, NULL);
}

int
h_token_get(struct req *r)
{
    return token_get(r, NULL, r->params[0]);
}

int
h_token_delete(struct req *r)
{
    return token_revoke(r, NULL, r->params[0], "admin");
}

int
h_tokens_revoke(struct req *r)
{
    static const char *const fields[] = {"user_id", "scope", "created_before",
                                         "dry_run", NULL};
    struct pat_bulk_filter f = {NULL, NULL, 0};
    bool present, never;
    int dry = -1;
    int64_t n = 0;
    int rc;

    if (body_fields(r, fields) ||
        body_string(r, "user_id", false, &f.user_id) ||
        body_string(r, "scope", false, &f.scope) ||
        body_time(r, "created_before", &f.created_before, &present, &never) ||
        body_bool(r, "dry_run", &dry))
        return r->status;
    if (never)
        return reply_error(r, 400, "invalid_request",
                           "created_before must be a time");
    rc = pat_token_revoke_bulk(r->st, &r->actor, &f, "admin", dry == 1, &n);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(
        r, 200,
        json_pack("{s:I, s:b}", "revoked", (json_int_t)n, "dry_run", dry == 1));
}

static json_t *
scopes_json(struct req *r)
{
    struct pat_scope list[256];
    size_t n = 0, i;
    json_t *items;

    if (pat_scope_list(r->st, list, 256, &n) != PAT_OK)
        return NULL;
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:b}", "name", list[i].name,
                                        "description", list[i].description,
                                        "builtin", list[i].builtin));
    return json_pack("{s:o}", "items", items);
}

int
h_scopes_get(struct req *r)
{
    json_t *o = scopes_json(r);

    return o ? reply(r, 200, o) : reply_pat(r, PAT_ESTORE);
}

/* Reads {"items": [{name, description}]} into list; 0 or status. */
static int
body_scopes(struct req *r, struct pat_scope *list, size_t cap, size_t *n)
{
    static const char *const fields[] = {"items", NULL};
    json_t *items = r->body ? json_object_get(r->body, "items") : NULL, *it;
    size_t i;

    if (body_fields(r, fields))
        return r->status;
    if (!json_is_array(items) || json_array_size(items) > cap)
        return reply_error(r, 400, "invalid_request",
                           "items must be an array of at most %zu scopes", cap);
    json_array_foreach(items, i, it)
    {
        const char *name = json_string_value(json_object_get(it, "name"));
        json_t *d = json_object_get(it, "description");
        const char *key;
        json_t *v;

        if (!json_is_object(it) || name == NULL ||
            (d != NULL && !json_is_string(d)))
            return reply_error(r, 400, "invalid_request",
                               "each item needs a string name and an "
                               "optional string description");
        json_object_foreach(it, key, v)
        {
            (void)v;
            if (strcmp(key, "name") != 0 && strcmp(key, "description") != 0 &&
                strcmp(key, "builtin") != 0)
                return reply_error(r, 400, "invalid_request",
                                   "unknown field '%.64s' in a scope", key);
        }
        memset(&list[i], 0, sizeof(list[i]));
        if (strlen(name) > PAT_SCOPE_MAX ||
            (d != NULL && json_string_length(d) > PAT_SCOPE_DESC_MAX))
            return reply_error(r, 400, "invalid_request",
                               "scope name or description too long");
        memcpy(list[i].name, name, strlen(name) + 1);
        if (d != NULL)
            memcpy(list[i].description, json_string_value(d),
                   json_string_length(d) + 1);
    }
    *n = json_array_size(items);
    return 0;
}

int
h_scopes_put(struct req *r)
{
    struct pat_scope *list = calloc(200, sizeof(*list));
    size_t n = 0, i, keep = 0;
    int rc;

    if (list == NULL)
        return reply_pat(r, PAT_ENOMEM);
    if (body_scopes(r, list, 200, &n) == 0) {
        struct pat_scope old[256];
        size_t nold = 0, j;

        /* Built-ins may be echoed back from a GET; they are kept anyway. */
        rc = pat_scope_list(r->st, old, 256, &nold);
        for (i = 0; rc == PAT_OK && i < n; i++) {
            bool builtin = false;
            for (j = 0; j < nold; j++)
                builtin |=
                    old[j].builtin && strcmp(old[j].name, list[i].name) == 0;
            if (!builtin)
                list[keep++] = list[i];
        }
        if (rc == PAT_OK)
            rc = pat_scope_replace(r->st, &r->actor, list, keep);
        if (rc != PAT_OK)
            reply_pat(r, rc);
        else
            h_scopes_get(r);
    }
    free(list);
    return r->status;
}

int
h_policy_get(struct req *r)
{
    struct pat_policy p;
    int rc = pat_policy_get(r->st, &p);

    return rc == PAT_OK ? reply(r, 200, render_policy(&p)) : reply_pat(r, rc);
}

/*
 * The governance fields of PUT /v1/policy (DESIGN.md section 13): each
 * optional, kept as stored when absent, so that a client that knows only
 * the basic fields does not turn them off.
 */
static int
policy_governance(struct req *r, struct pat_policy *p)
{
    char scopes[PAT_SCOPESTR_MAX + 1];
    long long age = 0, unused = 0;
    bool has_scopes, g_age, g_unused;
    int sne = -1;

    if (body_list(r, "approval_required_scopes", PAT_SCOPES_MAX, scopes,
                  sizeof(scopes), &has_scopes) ||
        body_int(r, "pending_max_age_seconds", 60, 366 * 86400LL, &age,
                 &g_age) ||
        body_int(r, "revoke_unused_after_days", 0, PAT_LIFETIME_CAP, &unused,
                 &g_unused) ||
        body_bool(r, "service_allow_no_expiry", &sne))
        return r->status;
    if (has_scopes)
        snprintf(p->approval_required_scopes,
                 sizeof(p->approval_required_scopes), "%s", scopes);
    if (g_age)
        p->pending_max_age_seconds = age;
    if (g_unused)
        p->revoke_unused_after_days = (int)unused;
    if (sne >= 0)
        p->service_allow_no_expiry = sne == 1;
    return 0;
}

int
h_policy_put(struct req *r)
{
    static const char *const fields[] = {
        "max_lifetime_days",       "allow_no_expiry",
        "default_lifetime_days",   "max_tokens_per_user",
        "revoke_on_reuse",         "approval_required_scopes",
        "pending_max_age_seconds", "revoke_unused_after_days",
        "service_allow_no_expiry", NULL};
    struct pat_policy p;
    long long maxl = 0, defl = 0, maxt = 0;
    bool g1, g2, g3;
    int ane = -1, ror = -1, rc;

    if (body_fields(r, fields) ||
        body_int(r, "max_lifetime_days", 1, PAT_LIFETIME_CAP, &maxl, &g1) ||
        body_int(r, "default_lifetime_days", 1, PAT_LIFETIME_CAP, &defl, &g2) ||
        body_int(r, "max_tokens_per_user", 1, 1000000, &maxt, &g3) ||
        body_bool(r, "allow_no_expiry", &ane) ||
        body_bool(r, "revoke_on_reuse", &ror))
        return r->status;
    if (!g1 || !g2 || !g3 || ane < 0 || ror < 0)
        return reply_error(r, 400, "invalid_request",
                           "PUT /v1/policy needs every field of the policy");
    rc = pat_policy_get(r->st, &p);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    if (policy_governance(r, &p))
        return r->status;
    p.max_lifetime_days = (int)maxl;
    p.default_lifetime_days = (int)defl;
    p.max_tokens_per_user = (int)maxt;
    p.allow_no_expiry = ane == 1;
    p.revoke_on_reuse = ror == 1;
    rc = pat_policy_put(r->st, &r->actor, &p);
    if (rc == PAT_OK)
        rc = pat_policy_get(r->st, &p);
    return rc == PAT_OK ? reply(r, 200, render_policy(&p)) : reply_pat(r, rc);
}

int
h_audit_list(struct req *r)
{
    struct pat_audit_filter f = {0};

    return audit_list(r, &f);
}
