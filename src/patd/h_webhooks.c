/* SPDX-License-Identifier: MIT */
/*
 * /v1/webhooks: webhook endpoints for admins (DESIGN.md section 12,
 * docs/webhooks.md). The secret is in an answer twice only: when the
 * endpoint is created and when it is regenerated. Tests and redeliveries
 * are queued here and sent by the sender thread (deliver.c), never on
 * an HTTP thread: they answer 202.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "request.h"
#include "routes.h"
#include "banned.h"

static json_t *
time_or_null(int64_t t)
{
    char buf[PAT_TIME_LEN + 1];

    if (t == 0)
        return json_null();
    pat_time_format(t, buf, sizeof(buf));
    return json_string(buf);
}

/* The list "a b c" as a JSON array. */
static json_t *
list_json(const char *list)
{
    json_t *a = json_array();
    const char *p = list;

    while (a != NULL && *p) {
        size_t n = strcspn(p, " ");
        if (n > 0)
            json_array_append_new(a, json_stringn(p, n));
        p += n;
        while (*p == ' ')
            p++;
    }
    return a;
}

static json_t *
render_webhook(const struct pat_webhook *w)
{
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:s, s:{s:I, s:i, s:o}}",
        "id", w->id, "url", w->url, "events", list_json(w->events),
        "description", w->description, "enabled", w->enabled, "created_at",
        time_or_null(w->created_at), "updated_at", time_or_null(w->updated_at),
        "failing_since", time_or_null(w->failing_since), "disabled_reason",
        w->disabled_reason, "delivery", "after_seq", (json_int_t)w->cursor,
        "failed_attempts", w->attempt, "next_attempt_at",
        time_or_null(w->next_at_ms > 0 ? w->next_at_ms / 1000 : 0));
}

static json_t *
render_attempt(const struct pat_webhook_attempt *a)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:o, s:s, s:s, s:o, s:I, s:s, "
                     "s:s, s:b}",
                     "id", a->id, "msg_id", a->msg_id, "event_seq",
                     (json_int_t)a->event_seq, "type", a->type, "at",
                     time_or_null(a->at_ms / 1000), "node", a->node, "result",
                     a->result, "status",
                     a->status ? json_integer(a->status) : json_null(),
                     "latency_ms", (json_int_t)a->latency_ms, "response",
                     a->response, "error", a->error, "manual", a->manual);
}

/* url and events checked with their own error codes (docs/webhooks.md). */
static int
check_url_events(struct req *r, const char *url, const char *events, char *norm,
                 size_t cap)
{
    char why[160];

    if (url != NULL && pat_webhook_url_check(url, why, sizeof(why)) != PAT_OK)
        return reply_error(r, 400, "invalid_url", "%s", why);
    if (events != NULL &&
        pat_webhook_events_check(events, norm, cap, why, sizeof(why)) != PAT_OK)
        return reply_error(r, 400, "invalid_events", "%s", why);
    return 0;
}

static int
path_webhook(struct req *r, struct pat_webhook *w)
{
    int rc = pat_webhook_get(r->st, r->params[0], w);

    if (rc == PAT_ENOTFOUND)
        return reply_error(r, 404, "not_found", "no webhook '%s'",
                           r->params[0]);
    return rc == PAT_OK ? 0 : reply_pat(r, rc);
}

int
h_webhooks_list(struct req *r)
{
    struct pat_webhook *page = NULL;
    size_t limit, n = 0, i;
    int64_t after;
    json_t *items;
    int rc;

    if (req_page(r, &limit, &after))
        return r->status;
    page = calloc(limit, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_webhook_list(r->st, after, page, limit, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items, render_webhook(&page[i]));
    reply(r, 200, page_json(items, n == limit, n ? page[n - 1].seq : 0));
    free(page);
    return r->status;
}

int
h_webhooks_create(struct req *r)
{
    static const char *const fields[] = {"url", "events", "description", NULL};
    char events[PAT_WEBHOOK_EVENTS_MAX + 1], norm[PAT_WEBHOOK_EVENTS_MAX + 1];
    char secret[PAT_WEBHOOK_SECRET_MAX + 1];
    const char *url = NULL, *desc = NULL;
    struct pat_webhook w;
    bool has_events;
    json_t *o;
    int rc;

    if (body_fields(r, fields) || body_string(r, "url", true, &url) ||
        body_string(r, "description", false, &desc) ||
        body_list(r, "events", PAT_WEBHOOK_TYPES_MAX, events, sizeof(events),
                  &has_events))
        return r->status;
    if (!has_events)
        return reply_error(r, 400, "invalid_events",
                           "field 'events' is required");
    if (check_url_events(r, url, events, norm, sizeof(norm)))
        return r->status;
    rc = pat_webhook_create(r->st, &r->actor, url, norm, desc, &w, secret,
                            sizeof(secret));
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    o = render_webhook(&w);
    json_object_set_new(o, "secret", json_string(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    reply(r, 201, o);
    return r->status;
}

int
h_webhook_get(struct req *r)
{
    struct pat_webhook w;

    if (path_webhook(r, &w))
        return r->status;
    return reply(r, 200, render_webhook(&w));
}

int
h_webhook_patch(struct req *r)
{
    static const char *const fields[] = {"url", "events", "description",
                                         "enabled", NULL};
    char events[PAT_WEBHOOK_EVENTS_MAX + 1], norm[PAT_WEBHOOK_EVENTS_MAX + 1];
    struct pat_webhook_patch p = {NULL, NULL, NULL, -1};
    struct pat_webhook w;
    bool has_events;
    int rc;

    if (body_fields(r, fields) || body_string(r, "url", false, &p.url) ||
        body_string(r, "description", false, &p.description) ||
        body_bool(r, "enabled", &p.enabled) ||
        body_list(r, "events", PAT_WEBHOOK_TYPES_MAX, events, sizeof(events),
                  &has_events))
        return r->status;
    if (check_url_events(r, p.url, has_events ? events : NULL, norm,
                         sizeof(norm)))
        return r->status;
    p.events = has_events ? norm : NULL;
    if (path_webhook(r, &w))
        return r->status;
    rc = pat_webhook_update(r->st, &r->actor, w.id, &p, &w);
    return rc == PAT_OK ? reply(r, 200, render_webhook(&w)) : reply_pat(r, rc);
}

int
h_webhook_delete(struct req *r)
{
    struct pat_webhook w;
    int rc;

    if (path_webhook(r, &w))
        return r->status;
    rc = pat_webhook_delete(r->st, &r->actor, w.id);
    return rc == PAT_OK ? reply(r, 204, NULL) : reply_pat(r, rc);
}

int
h_webhook_secret(struct req *r)
{
    char secret[PAT_WEBHOOK_SECRET_MAX + 1];
    struct pat_webhook w;
    int rc;

    if (path_webhook(r, &w))
        return r->status;
    rc = pat_webhook_regenerate(r->st, &r->actor, w.id, secret, sizeof(secret));
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    reply(r, 200, json_pack("{s:s, s:s}", "id", w.id, "secret", secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    return r->status;
}

/* A test message for w with msg_id, queued. */
static int
queue_test(struct req *r, const struct pat_webhook *w, const char *msg_id)
{
    char at[PAT_TIME_LEN + 1];
    json_t *o;
    char *body;
    int rc;

    pat_time_format(pat_store_now(r->st), at, sizeof(at));
    o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "type", "webhook.test",
                  "timestamp", at, "data", "webhook_id", w->id, "message",
                  "a test event from patd");
    body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_webhook_enqueue(r->st, &r->actor, w->id, msg_id, 0, "webhook.test",
                             body);
    free(body);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(r, 202,
                 json_pack("{s:s, s:s}", "msg_id", msg_id, "status", "queued"));
}

int
h_webhook_test(struct req *r)
{
    char msg_id[PAT_WEBHOOK_MSGID_MAX + 1] = "msg_test_";
    struct pat_webhook w;

    if (path_webhook(r, &w))
        return r->status;
    if (pat_random_base62(msg_id + 9, 16) != PAT_OK)
        return reply_pat(r, PAT_ERANDOM);
    msg_id[9 + 16] = '\0';
    return queue_test(r, &w, msg_id);
}

int
h_webhook_deliveries(struct req *r)
{
    const char *b = req_query(r, "before"), *l = req_query(r, "limit");
    struct pat_webhook_attempt *page = NULL;
    long long before = 0, limit = 50;
    struct pat_webhook w;
    size_t n = 0, i;
    json_t *items;
    int rc;

    if (b != NULL && !pat_parse_number(b, 1, INT64_MAX, &before))
        return reply_error(r, 400, "invalid_request",
                           "before must be a positive number");
    if (l != NULL && !pat_parse_number(l, 1, 200, &limit))
        return reply_error(r, 400, "invalid_request",
                           "limit must be from 1 to 200");
    if (path_webhook(r, &w))
        return r->status;
    page = calloc((size_t)limit, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_webhook_attempts(r->st, w.id, before, page, (size_t)limit, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items, render_attempt(&page[i]));
    reply(r, 200,
          json_pack("{s:o, s:o}", "items", items, "next_before",
                    n == (size_t)limit ? json_integer(page[n - 1].seq)
                                       : json_null()));
    free(page);
    return r->status;
}

int
h_webhook_redeliver(struct req *r)
{
    struct pat_webhook_attempt a;
    struct pat_webhook w;
    int rc;

    if (path_webhook(r, &w))
        return r->status;
    rc = pat_webhook_attempt_get(r->st, w.id, r->params[1], &a);
    if (rc == PAT_ENOTFOUND)
        return reply_error(r, 404, "not_found", "no delivery '%s'",
                           r->params[1]);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    if (a.event_seq == 0)
        return queue_test(r, &w, a.msg_id);
    rc = pat_webhook_enqueue(r->st, &r->actor, w.id, a.msg_id, a.event_seq,
                             a.type, NULL);
    if (rc != PAT_OK)
        return reply_pat(r, rc);
    return reply(
        r, 202,
        json_pack("{s:s, s:s}", "msg_id", a.msg_id, "status", "queued"));
}
