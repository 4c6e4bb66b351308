/* SPDX-License-Identifier: MIT */
/*
 * JSON renderings of the model (DESIGN.md section 4 "Objects"), shared by
 * the HTTP handlers and the local commands' --json output.
 */
#include <string.h>

#include "model_json.h"
#include "banned.h"

/* A JSON string for time t, or null for 0. */
static json_t *
json_time(int64_t t)
{
    char buf[PAT_TIME_LEN + 1];

    if (t == 0 || pat_time_format(t, buf, sizeof(buf)) != PAT_OK)
        return json_null();
    return json_string(buf);
}

/* A JSON array of the items of a space-separated list. */
static json_t *
json_list(const char *list)
{
    json_t *a = json_array();
    const char *p = list;

    while (a != NULL && *p != '\0') {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len > 0)
            json_array_append_new(a, json_stringn(p, len));
        p += len;
        while (*p == ' ')
            p++;
    }
    return a;
}

static json_t *
json_opt(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *
render_user(const struct pat_user *u)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o}", "id", u->id,
        "username", u->username, "display_name", u->display_name, "email",
        u->email, "role", u->role == PAT_ROLE_ADMIN ? "admin" : "user",
        "scopes", json_list(u->scopes), "disabled", u->disabled, "created_at",
        json_time(u->created_at), "updated_at", json_time(u->updated_at));

    if (o != NULL)
        json_object_set_new(o, "kind",
                            json_string(pat_user_kind_name(u->kind)));
    return o;
}

/*
 * The governance members of a token (DESIGN.md section 13): its approval
 * (null when none was needed), its use limit and its rate limit.
 */
static void
token_governance(json_t *o, const struct pat_token *t)
{
    json_t *approval = json_null(), *rate = json_null();

    if (t->approval != PAT_APPROVAL_NONE)
        approval = json_pack(
            "{s:s, s:o, s:o, s:o}", "state", pat_approval_name(t->approval),
            "reason", json_opt(t->approval_reason), "decided_by",
            json_opt(t->decided_by), "decided_at", json_time(t->decided_at));
    if (t->rate_limit > 0)
        rate = json_pack("{s:i, s:i}", "limit", t->rate_limit, "window_seconds",
                         t->rate_window);
    json_object_set_new(o, "approval", approval);
    json_object_set_new(o, "max_uses",
                        t->max_uses > 0 ? json_integer(t->max_uses)
                                        : json_null());
    json_object_set_new(o, "uses_left",
                        t->max_uses > 0 ? json_integer(t->uses_left)
                                        : json_null());
    json_object_set_new(o, "rate_limit", rate);
}

/* The status the owner sees: a live token awaiting approval is pending. */
static const char *
token_status(const struct pat_token *t, int64_t now)
{
    int st = pat_token_status(t, now);

    if (st == PAT_STATUS_ACTIVE && t->approval == PAT_APPROVAL_PENDING)
        return "pending";
    if (st == PAT_STATUS_ACTIVE && t->max_uses > 0 && t->uses_left <= 0)
        return "exhausted";
    return pat_status_name(st);
}

json_t *
render_token(const struct pat_token *t, int64_t now)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:o, "
        "s:o, s:o, s:o, s:o, s:o, s:o}",
        "id", t->id, "name", t->name, "description", t->description, "user_id",
        t->user_id, "scopes", json_list(t->scopes), "audiences",
        json_list(t->audiences), "allowed_cidrs", json_list(t->allowed_cidrs),
        "hint", t->hint, "status", token_status(t, now), "created_at",
        json_time(t->created_at), "expires_at", json_time(t->expires_at),
        "last_used_at", json_time(t->last_used_at), "last_used_ip",
        json_opt(t->last_used_ip), "recent_ips", json_list(t->recent_ips),
        "revoked_at", json_time(t->revoked_at), "revoked_reason",
        json_opt(t->revoked_reason));

    if (o != NULL)
        token_governance(o, t);
    return o;
}

json_t *
render_audit(const struct pat_audit *ev)
{
    json_t *detail = json_loads(ev->detail, 0, NULL);

    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o}", "id",
                     (json_int_t)ev->seq, "at", json_time(ev->at),
                     "actor_user_id", json_opt(ev->actor_user_id),
                     "actor_token_id", json_opt(ev->actor_token_id), "ip",
                     json_opt(ev->ip), "user_agent", json_opt(ev->user_agent),
                     "action", ev->action, "target_user_id",
                     json_opt(ev->target_user_id), "target_token_id",
                     json_opt(ev->target_token_id), "detail",
                     detail ? detail : json_object());
}

/* A feed row; data is stored as JSON text and goes out as an object. */
json_t *
render_change(const struct pat_change *c)
{
    json_t *data = json_loads(c->data, 0, NULL);

    return json_pack("{s:I, s:o, s:s, s:s, s:o, s:o, s:o}", "seq",
                     (json_int_t)c->seq, "at", json_time(c->at), "type",
                     c->type, "actor", c->actor, "user_id",
                     json_opt(c->user_id), "token_id", json_opt(c->token_id),
                     "data", data ? data : json_object());
}

json_t *
render_policy(const struct pat_policy *p)
{
    return json_pack(
        "{s:i, s:b, s:i, s:i, s:b, s:o, s:I, s:i, s:b}", "max_lifetime_days",
        p->max_lifetime_days, "allow_no_expiry", p->allow_no_expiry,
        "default_lifetime_days", p->default_lifetime_days,
        "max_tokens_per_user", p->max_tokens_per_user, "revoke_on_reuse",
        p->revoke_on_reuse, "approval_required_scopes",
        json_list(p->approval_required_scopes), "pending_max_age_seconds",
        (json_int_t)p->pending_max_age_seconds, "revoke_unused_after_days",
        p->revoke_unused_after_days, "service_allow_no_expiry",
        p->service_allow_no_expiry);
}

json_t *
render_session(const struct pat_session *s)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:b}", "id", s->id,
                     "created_at", json_time(s->created_at), "expires_at",
                     json_time(s->expires_at), "ip", json_opt(s->ip),
                     "user_agent", json_opt(s->user_agent), "current",
                     s->current);
}
