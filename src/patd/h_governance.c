/* SPDX-License-Identifier: MIT */
/*
 * Governance over HTTP (DESIGN.md section 13): the limits of a new
 * token as the request gives them, and the approval queue of
 * administrators (GET /v1/approvals, POST /v1/approvals/{id}). The
 * rules are libpat's (lib/governance.c); this only reads, bounds and
 * answers.
 */
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "banned.h"

int
body_limits(struct req *r, struct pat_token_limits *out)
{
    json_t *rl = r->body ? json_object_get(r->body, "rate_limit") : NULL;
    json_t *limit, *window;
    long long uses = 0;
    bool present;

    memset(out, 0, sizeof(*out));
    if (body_int(r, "max_uses", 1, PAT_MAX_USES_MAX, &uses, &present))
        return r->status;
    out->max_uses = uses;
    if (rl == NULL || json_is_null(rl))
        return 0;
    limit = json_object_get(rl, "limit");
    window = json_object_get(rl, "window_seconds");
    if (!json_is_object(rl) || json_object_size(rl) != 2 ||
        !json_is_integer(limit) || !json_is_integer(window) ||
        json_integer_value(limit) < 1 ||
        json_integer_value(limit) > PAT_RATE_LIMIT_MAX ||
        json_integer_value(window) < 1 ||
        json_integer_value(window) > PAT_RATE_WINDOW_MAX)
        return reply_error(r, 400, "invalid_request",
                           "rate_limit must be {\"limit\": 1..%d, "
                           "\"window_seconds\": 1..%d}",
                           PAT_RATE_LIMIT_MAX, PAT_RATE_WINDOW_MAX);
    out->rate_limit = (int)json_integer_value(limit);
    out->rate_window = (int)json_integer_value(window);
    return 0;
}

int
h_approvals_list(struct req *r)
{
    struct pat_token *page;
    size_t limit, n = 0;
    int64_t after;
    int rc;

    if (req_page(r, &limit, &after))
        return r->status;
    page = calloc(limit + 1, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_token_pending_list(r->st, after, page, limit + 1, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    return reply_token_page(r, page, n, limit);
}

int
h_approval_decide(struct req *r)
{
    static const char *const fields[] = {"action", "reason", NULL};
    const char *action = NULL, *reason = NULL;
    struct pat_token t;
    bool approve;
    int rc;

    if (body_fields(r, fields) || body_string(r, "action", true, &action) ||
        body_string(r, "reason", false, &reason))
        return r->status;
    if (strcmp(action, "approve") != 0 && strcmp(action, "deny") != 0)
        return reply_error(r, 400, "invalid_request",
                           "action must be 'approve' or 'deny'");
    approve = strcmp(action, "approve") == 0;
    if (approve && reason != NULL)
        return reply_error(r, 400, "invalid_request",
                           "a reason is given with a denial only");
    if (strncmp(r->params[0], "tok_", 4) != 0)
        return reply_error(r, 404, "not_found", "no such token");
    rc = pat_token_decide(r->st, &r->actor, r->params[0], approve, reason, &t);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 200, render_token(&t, pat_store_now(r->st)));
}
