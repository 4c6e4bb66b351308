/* SPDX-License-Identifier: MIT */
/*
 * Token handlers shared by the self-service routes (owner = the caller)
 * and the admin routes (owner = a named user, or NULL for any): listing
 * with filters and pagination, creation, reading and revocation.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "routes.h"
#include "banned.h"

/* Reads an optional RFC 3339 query argument; 0 or the status answered. */
static int
query_time(struct req *r, const char *key, int64_t *out)
{
    const char *v = req_query(r, key);

    *out = 0;
    if (v == NULL)
        return 0;
    if (pat_time_parse(v, strlen(v), out) != PAT_OK)
        return reply_error(r, 400, "invalid_request",
                           "%s must be an RFC 3339 time", key);
    return 0;
}

static int
query_status(struct req *r, int *mask)
{
    const char *v = req_query(r, "status");

    *mask = PAT_STATUS_ACTIVE;
    if (v != NULL && pat_status_parse(v, mask) != PAT_OK)
        return reply_error(r, 400, "invalid_request",
                           "status must be active, expired, revoked or all");
    return 0;
}

int
tokens_list(struct req *r, const char *owner)
{
    struct pat_token_filter f;
    struct pat_token *page = NULL;
    size_t limit, n = 0;
    int rc;

    memset(&f, 0, sizeof(f));
    f.user_id = owner;
    if (req_page(r, &limit, &f.after) || query_status(r, &f.status) ||
        query_time(r, "expires_before", &f.expires_before) ||
        query_time(r, "last_used_before", &f.last_used_before) ||
        query_time(r, "created_before", &f.created_before))
        return r->status;
    if (owner == NULL) {
        f.user_id = req_query(r, "user_id");
        f.scope = req_query(r, "scope");
    }
    page = calloc(limit + 1, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_token_list(r->st, &f, page, limit + 1, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    return reply_token_page(r, page, n, limit);
}

int
reply_token_page(struct req *r, struct pat_token *page, size_t n, size_t limit)
{
    json_t *items = json_array();
    size_t i;

    for (i = 0; i < n && i < limit; i++)
        json_array_append_new(items,
                              render_token(&page[i], pat_store_now(r->st)));
    reply(r, 200, page_json(items, n > limit, n ? page[i - 1].seq : 0));
    free(page);
    return r->status;
}

/* expires_at (a time, or null for never) or expires_in_days. */
static int
body_expiry(struct req *r, struct pat_expiry *e)
{
    bool at_given, never, days_given;
    long long days = 0;

    memset(e, 0, sizeof(*e));
    if (body_time(r, "expires_at", &e->at, &at_given, &never) ||
        body_int(r, "expires_in_days", 1, PAT_LIFETIME_CAP, &days, &days_given))
        return r->status;
    if (at_given && days_given)
        return reply_error(r, 400, "invalid_request",
                           "give expires_at or expires_in_days, not both");
    e->never = never;
    e->days = (int)days;
    return 0;
}

/* Answers 200/201 with the token and its new plaintext, then wipes it. */
static int
reply_secret(struct req *r, int status, const struct pat_token *t, char *secret,
             size_t len)
{
    json_t *o = render_token(t, pat_store_now(r->st));

    if (o != NULL)
        json_object_set_new(o, "token", json_string(secret));
    OPENSSL_cleanse(secret, len);
    return reply(r, status, o);
}

int
tokens_create(struct req *r, const char *owner)
{
    static const char *const fields[] = {"name",
                                         "scopes",
                                         "description",
                                         "expires_at",
                                         "expires_in_days",
                                         "audiences",
                                         "allowed_cidrs",
                                         "max_uses",
                                         "rate_limit",
                                         NULL};
    char scopes[PAT_SCOPESTR_MAX + 1], aud[PAT_AUDSTR_MAX + 1],
        cidrs[PAT_CIDRSTR_MAX + 1], secret[PAT_TOKEN_MAX + 1];
    struct pat_token_limits limits;
    struct pat_token_spec spec;
    struct pat_token t;
    bool present;
    int rc;

    memset(&spec, 0, sizeof(spec));
    spec.user_id = owner;
    if (body_fields(r, fields) || body_string(r, "name", true, &spec.name) ||
        body_string(r, "description", false, &spec.description) ||
        body_list(r, "scopes", PAT_SCOPES_MAX, scopes, sizeof(scopes),
                  &present) ||
        body_list(r, "audiences", PAT_AUDIENCES_MAX, aud, sizeof(aud),
                  &present) ||
        body_list(r, "allowed_cidrs", PAT_CIDRS_MAX, cidrs, sizeof(cidrs),
                  &present) ||
        body_expiry(r, &spec.expiry) || body_limits(r, &limits))
        return r->status;
    if (r->body == NULL || json_object_get(r->body, "scopes") == NULL)
        return reply_error(r, 400, "invalid_request",
                           "field 'scopes' is required");
    spec.scopes = scopes;
    spec.audiences = aud;
    spec.allowed_cidrs = cidrs;
    rc = pat_token_create_limited(r->st, &r->actor, &spec, &limits, &t, secret,
                                  sizeof(secret));
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply_secret(r, 201, &t, secret, sizeof(secret));
}

int
token_get(struct req *r, const char *owner, const char *id)
{
    struct pat_token t;
    int rc = pat_token_get(r->st, owner, id, &t);

    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 200, render_token(&t, pat_store_now(r->st)));
}

int
token_revoke(struct req *r, const char *owner, const char *id,
             const char *reason)
{
    int rc = pat_token_revoke(r->st, &r->actor, owner, id, reason);

    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 204, NULL);
}

/*
 * An event as its user sees it in /v1/me/audit. When someone else acted
 * on the account (an administrator: nobody else can), the user learns
 * that and who, not the address, user agent or token it was done from:
 * "actor" is "self", "admin" or "system" (a local command).
 */
static json_t *
own_event(struct pat_audit *ev, const char *viewer)
{
    const char *actor = "self";
    json_t *o;

    if (ev->actor_user_id[0] == '\0')
        actor = "system";
    else if (strcmp(ev->actor_user_id, viewer) != 0)
        actor = "admin";
    if (strcmp(actor, "self") != 0) {
        ev->actor_token_id[0] = '\0';
        ev->ip[0] = '\0';
        ev->user_agent[0] = '\0';
    }
    o = render_audit(ev);
    if (o != NULL)
        json_object_set_new(o, "actor", json_string(actor));
    return o;
}

int
audit_list(struct req *r, const struct pat_audit_filter *base)
{
    struct pat_audit_filter f = *base;
    struct pat_audit *page;
    json_t *items;
    size_t limit, n = 0, i;
    int rc;

    if (req_page(r, &limit, &f.after) || query_time(r, "since", &f.since))
        return r->status;
    if (base->user_id == NULL) {
        f.actor = req_query(r, "actor");
        f.target = req_query(r, "target");
    }
    f.action = req_query(r, "action");
    page = calloc(limit + 1, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_audit_list(r->st, &f, page, limit + 1, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    items = json_array();
    for (i = 0; i < n && i < limit; i++) {
        if (base->user_id != NULL)
            json_array_append_new(items, own_event(&page[i], base->user_id));
        else
            json_array_append_new(items, render_audit(&page[i]));
    }
    reply(r, 200, page_json(items, n > limit, n ? page[i - 1].seq : 0));
    free(page);
    return r->status;
}

/* Self-service: the caller's own tokens. */

int
h_me_get(struct req *r)
{
    return reply(r, 200, render_user(&r->user));
}

int
h_me_tokens_list(struct req *r)
{
    return tokens_list(r, r->user.id);
}

int
h_me_tokens_create(struct req *r)
{
    return tokens_create(r, r->user.id);
}

int
h_me_token_get(struct req *r)
{
    return token_get(r, r->user.id, r->params[0]);
}

int
h_me_token_patch(struct req *r)
{
    static const char *const fields[] = {"name", "description", NULL};
    const char *name, *desc;
    struct pat_token t;
    int rc;

    if (body_fields(r, fields) || body_string(r, "name", false, &name) ||
        body_string(r, "description", false, &desc))
        return r->status;
    rc = pat_token_update(r->st, &r->actor, r->user.id, r->params[0], name,
                          desc, &t);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 200, render_token(&t, pat_store_now(r->st)));
}

int
h_me_token_regenerate(struct req *r)
{
    static const char *const fields[] = {"expires_at", "expires_in_days",
                                         "grace_seconds", NULL};
    struct pat_expiry e;
    struct pat_token t;
    char secret[PAT_TOKEN_MAX + 1];
    long long grace = 0;
    bool present;
    int rc;

    if (body_fields(r, fields) || body_expiry(r, &e) ||
        body_int(r, "grace_seconds", 0, PAT_GRACE_MAX, &grace, &present))
        return r->status;
    rc = pat_token_regenerate(r->st, &r->actor, r->user.id, r->params[0], &e,
                              (int)grace, &t, secret, sizeof(secret));
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply_secret(r, 200, &t, secret, sizeof(secret));
}

int
h_me_token_delete(struct req *r)
{
    return token_revoke(r, r->user.id, r->params[0], "user");
}

int
h_me_audit(struct req *r)
{
    struct pat_audit_filter f = {0};

    f.user_id = r->user.id;
    return audit_list(r, &f);
}

int
h_token_self_get(struct req *r)
{
    return token_get(r, NULL, r->token.token_id);
}

int
h_token_self_delete(struct req *r)
{
    return token_revoke(r, NULL, r->token.token_id, "self");
}
