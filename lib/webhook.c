/* SPDX-License-Identifier: MIT */
/*
 * Webhook endpoints (DESIGN.md section 12, docs/webhooks.md): the checks
 * on what an admin gives (URL, event types), the secret, and the rules of
 * delivery that do not depend on HTTP: which endpoint a node may work on
 * (a lease), which message comes next (one-offs first, then the feed in
 * order), and what an attempt's outcome does (move on, retry later with
 * backoff, or disable after five days of failure). The sender itself is
 * in src/patd/deliver.c.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "internal.h"
#include "pat/webhook.h"
#include "store/ops_webhook.h"

#define SECRET_PREFIX "whsec_"

int
pat_webhook_url_check(const char *url, char *why, size_t cap)
{
    const char *p, *host, *end;
    size_t n = strlen(url);

    if (n == 0 || n > PAT_WEBHOOK_URL_MAX) {
        snprintf(why, cap, "url must be 1 to %d bytes", PAT_WEBHOOK_URL_MAX);
        return PAT_EINVAL;
    }
    for (p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            snprintf(why, cap, "url must be printable ASCII without spaces");
            return PAT_EINVAL;
        }
    }
    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else {
        snprintf(why, cap, "url must start with http:// or https://");
        return PAT_EINVAL;
    }
    end = host + strcspn(host, "/?#");
    if (end == host) {
        snprintf(why, cap, "url must name a host");
        return PAT_EINVAL;
    }
    if (memchr(host, '@', (size_t)(end - host)) != NULL) {
        snprintf(why, cap, "url must not hold a user name or password");
        return PAT_EINVAL;
    }
    if (strchr(url, '#') != NULL) {
        snprintf(why, cap, "url must not have a fragment");
        return PAT_EINVAL;
    }
    return PAT_OK;
}

static int
type_canon(const char *s, size_t len, char *out, size_t cap)
{
    char t[PAT_CHANGE_TYPE_MAX + 1];

    if (len == 0 || len >= sizeof(t) || len >= cap)
        return PAT_EINVAL;
    memcpy(t, s, len);
    t[len] = '\0';
    if (!pat_change_type_known(t))
        return PAT_EINVAL;
    memcpy(out, t, len + 1);
    return PAT_OK;
}

int
pat_webhook_events_check(const char *events, char *out, size_t cap, char *why,
                         size_t whycap)
{
    char bad[PAT_CHANGE_TYPE_MAX + 8] = "";
    size_t count = 0;
    int rc = pat__list_normalize(events, type_canon, PAT_WEBHOOK_TYPES_MAX,
                                 PAT_CHANGE_TYPE_MAX, out, cap, bad,
                                 sizeof(bad), &count);

    if (rc == PAT_OK && count == 0) {
        snprintf(why, whycap, "events must name at least one type");
        return PAT_EINVAL;
    }
    if (rc != PAT_OK) {
        if (bad[0])
            snprintf(why, whycap, "unknown event type '%s'", bad);
        else
            snprintf(why, whycap, "events must be 1 to %d known types",
                     PAT_WEBHOOK_TYPES_MAX);
        return PAT_EINVAL;
    }
    return PAT_OK;
}

/* A new secret: "whsec_" + standard base64 of 32 random bytes. */
static int
new_secret(struct pat_store *st, char *out, size_t cap)
{
    unsigned char raw[PAT_WEBHOOK_SECRET_RAW];
    size_t plen = strlen(SECRET_PREFIX);

    if (sodium_init() < 0)
        return pat__fail(st, PAT_ECRYPTO, "libsodium failed to initialise");
    if (cap < plen + sodium_base64_ENCODED_LEN(sizeof(raw),
                                               sodium_base64_VARIANT_ORIGINAL))
        return pat__fail(st, PAT_ERANGE, "secret buffer too small");
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, SECRET_PREFIX, plen);
    sodium_bin2base64(out + plen, cap - plen, raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(raw, sizeof(raw));
    return PAT_OK;
}

static int
audit_hook(struct pat_store *st, const struct pat_actor *who,
           const char *action, const struct pat_webhook *w)
{
    char detail[PAT_DETAIL_MAX + 1];

    pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "webhook_id", w->id,
                "url", w->url, "events", w->events);
    return pat__audit(st, who, action, NULL, NULL, detail);
}

/* Checks the fields a create or update gives. */
static int
check_fields(struct pat_store *st, const char *url, const char *events,
             const char *description, char *norm, size_t cap)
{
    char why[160];
    int rc;

    if (url != NULL && pat_webhook_url_check(url, why, sizeof(why)) != PAT_OK)
        return pat__fail(st, PAT_EINVAL, "%s", why);
    if (events != NULL &&
        pat_webhook_events_check(events, norm, cap, why, sizeof(why)) != PAT_OK)
        return pat__fail(st, PAT_EINVAL, "%s", why);
    if (description != NULL) {
        rc = pat__text_check(st, "description", description, PAT_DESC_MAX,
                             PAT_DESC_MAX, false);
        if (rc != PAT_OK)
            return rc;
    }
    return PAT_OK;
}

int
pat_webhook_create(struct pat_store *st, const struct pat_actor *who,
                   const char *url, const char *events, const char *description,
                   struct pat_webhook *out, char *secret, size_t cap)
{
    struct pat_webhook w;
    int rc;

    memset(&w, 0, sizeof(w));
    if (url == NULL || events == NULL)
        return pat__fail(st, PAT_EINVAL, "url and events are required");
    rc = check_fields(st, url, events, description, w.events, sizeof(w.events));
    if (rc == PAT_OK)
        rc = pat__random_id("whk", w.id, sizeof(w.id));
    if (rc == PAT_OK)
        rc = new_secret(st, secret, cap);
    if (rc != PAT_OK)
        return rc;
    pat__copy(w.url, sizeof(w.url), url);
    pat__copy(w.description, sizeof(w.description),
              description ? description : "");
    w.enabled = true;
    w.created_at = w.updated_at = pat_store_now(st);
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__db_webhook_insert(st, &w, secret);
    if (rc == PAT_OK)
        rc = audit_hook(st, who, "webhook.created", &w);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK)
        rc = pat__db_webhook_get(st, w.id, out);
out:
    if (rc != PAT_OK)
        OPENSSL_cleanse(secret, cap);
    return rc;
}

int
pat_webhook_get(struct pat_store *st, const char *id, struct pat_webhook *out)
{
    return pat__db_webhook_get(st, id, out);
}

int
pat_webhook_list(struct pat_store *st, int64_t after, struct pat_webhook *out,
                 size_t cap, size_t *n)
{
    return pat__db_webhook_list(st, after, out, cap, n);
}

int
pat_webhook_update(struct pat_store *st, const struct pat_actor *who,
                   const char *id, const struct pat_webhook_patch *p,
                   struct pat_webhook *out)
{
    char events[PAT_WEBHOOK_EVENTS_MAX + 1];
    struct pat_webhook w;
    int rc = check_fields(st, p->url, p->events, p->description, events,
                          sizeof(events));

    if (rc != PAT_OK)
        return rc;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_webhook_get(st, id, &w);
    if (rc != PAT_OK)
        goto fail;
    if (p->url)
        pat__copy(w.url, sizeof(w.url), p->url);
    if (p->events)
        pat__copy(w.events, sizeof(w.events), events);
    if (p->description)
        pat__copy(w.description, sizeof(w.description), p->description);
    /* Enabling starts afresh: the next attempt at once, nothing failing. */
    if (p->enabled == 1 && !w.enabled) {
        w.attempt = 0;
        w.next_at_ms = 0;
        w.failing_since = 0;
        w.disabled_reason[0] = '\0';
    }
    if (p->enabled == 0 && w.enabled)
        pat__copy(w.disabled_reason, sizeof(w.disabled_reason), "by an admin");
    if (p->enabled >= 0)
        w.enabled = p->enabled == 1;
    w.updated_at = pat_store_now(st);
    rc = pat__db_webhook_update(st, &w);
    if (rc == PAT_OK)
        rc = audit_hook(st, who, "webhook.updated", &w);
    /* The answer is the row as this change left it. */
    if (rc == PAT_OK)
        rc = pat__db_webhook_get(st, id, out);
    if (rc != PAT_OK)
        goto fail;
    return pat__tx_commit(st);
fail:
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_regenerate(struct pat_store *st, const struct pat_actor *who,
                       const char *id, char *secret, size_t cap)
{
    struct pat_webhook w;
    int rc = new_secret(st, secret, cap);

    if (rc != PAT_OK)
        return rc;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = pat__db_webhook_get(st, id, &w);
    if (rc == PAT_OK)
        rc = pat__db_webhook_secret_set(st, id, secret, pat_store_now(st));
    if (rc == PAT_OK)
        rc = audit_hook(st, who, "webhook.secret_regenerated", &w);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
out:
    if (rc != PAT_OK)
        OPENSSL_cleanse(secret, cap);
    return rc;
}

int
pat_webhook_delete(struct pat_store *st, const struct pat_actor *who,
                   const char *id)
{
    struct pat_webhook w;
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__db_webhook_get(st, id, &w);
    if (rc == PAT_OK)
        rc = pat__db_webhook_delete(st, id);
    if (rc == PAT_OK)
        rc = audit_hook(st, who, "webhook.deleted", &w);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_secret(struct pat_store *st, const char *id, char *secret,
                   size_t cap)
{
    return pat__db_webhook_secret_get(st, id, secret, cap);
}

int
pat_webhook_enqueue(struct pat_store *st, const struct pat_actor *who,
                    const char *id, const char *msg_id, int64_t event_seq,
                    const char *type, const char *body)
{
    char detail[PAT_DETAIL_MAX + 1];
    struct pat_webhook w;
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__db_webhook_get(st, id, &w);
    if (rc == PAT_OK)
        rc = pat__db_outbox_insert(st, id, msg_id, event_seq, type, body,
                                   pat_store_now(st));
    if (rc == PAT_OK) {
        pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "webhook_id", id,
                    "msg_id", msg_id, "type", type);
        rc = pat__audit(st, who,
                        event_seq ? "webhook.redelivered" : "webhook.tested",
                        NULL, NULL, detail);
    }
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_attempts(struct pat_store *st, const char *id, int64_t before,
                     struct pat_webhook_attempt *out, size_t cap, size_t *n)
{
    return pat__db_attempt_list(st, id, before, out, cap, n);
}

int
pat_webhook_attempt_get(struct pat_store *st, const char *id,
                        const char *attempt_id, struct pat_webhook_attempt *out)
{
    return pat__db_attempt_get(st, id, attempt_id, out);
}

int
pat_webhook_attempts_prune(struct pat_store *st, int64_t before_ms, int64_t *n)
{
    int rc = pat__tx_begin(st);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_attempt_prune(st, before_ms, n);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_claim(struct pat_store *st, const char *node, int64_t now_ms,
                  int64_t lease_ms, struct pat_webhook *out, size_t cap,
                  size_t *n)
{
    size_t i, kept = 0, due = 0;
    bool got;
    int rc;

    *n = 0;
    rc = pat__db_webhook_due(st, node, now_ms, out, cap, &due);
    if (rc != PAT_OK || due == 0)
        return rc;
    /*
     * Endpoints this node holds with more than half the lease left are
     * only read again (nobody else moves them); the others are leased in
     * one write transaction. That keeps a write per message out of the
     * path of a busy endpoint.
     */
    for (i = 0; i < due && rc == PAT_OK; i++) {
        if (strcmp(out[i].lease_node, node) != 0 ||
            out[i].lease_until_ms - now_ms < lease_ms / 2)
            continue;
        rc = pat__db_webhook_get(st, out[i].id, &out[i]);
        if (rc == PAT_OK && out[i].enabled) {
            struct pat_webhook keep = out[kept];
            out[kept] = out[i];
            out[i] = keep;
            kept++;
        }
    }
    if (rc != PAT_OK || kept == due)
        goto done;
    /*
     * The lease is taken in a write transaction: on PostgreSQL every
     * write transaction holds the store's write lock, so of two nodes
     * that saw the same endpoint free, the second finds it taken.
     */
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    for (i = kept; i < due && rc == PAT_OK; i++) {
        if (strcmp(out[i].lease_node, node) == 0 &&
            out[i].lease_until_ms - now_ms >= lease_ms / 2)
            continue;
        rc = pat__db_webhook_lease(st, out[i].id, node, now_ms + lease_ms,
                                   now_ms, &got);
        /*
         * The row is read again under the lease: the one listed may be
         * older than a delivery another node finished since.
         */
        if (rc == PAT_OK && got)
            rc = pat__db_webhook_get(st, out[i].id, &out[kept++]);
    }
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
done:
    if (rc == PAT_OK)
        *n = kept;
    return rc;
}

int
pat_webhook_next(struct pat_store *st, const struct pat_webhook *w,
                 struct pat_webhook_msg *msg)
{
    int64_t last = 0;
    int rc;

    memset(msg, 0, sizeof(*msg));
    rc = pat__db_outbox_next(st, w->id, msg);
    if (rc == PAT_OK) {
        if (msg->event_seq > 0 && msg->body[0] == '\0') {
            rc = pat__db_change_get(st, msg->event_seq, &msg->change);
            /* Pruned since: it is sent as nothing; the attempt says so. */
            if (rc == PAT_ENOTFOUND)
                rc = PAT_OK;
        }
        return rc;
    }
    if (rc != PAT_ENOTFOUND)
        return rc;
    /*
     * The end of the feed is read before the search, so that a row
     * committed between the two reads is after it, and moving the cursor
     * to it skips nothing.
     */
    rc = pat__db_change_last(st, &last);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_webhook_next_event(st, w->cursor, last, w->events,
                                    &msg->change);
    if (rc == PAT_OK) {
        msg->event_seq = msg->change.seq;
        pat__copy(msg->type, sizeof(msg->type), msg->change.type);
        snprintf(msg->msg_id, sizeof(msg->msg_id), "msg_%lld",
                 (long long)msg->change.seq);
    } else if (rc == PAT_ENOTFOUND) {
        msg->skip_to = last;
    }
    return rc;
}

int
pat_webhook_skip(struct pat_store *st, const char *node,
                 const struct pat_webhook *w, int64_t to)
{
    struct pat_webhook c = *w;
    int rc;

    if (to <= w->cursor)
        return PAT_OK;
    c.cursor = to;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_webhook_advance(st, node, &c);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int64_t
pat_webhook_backoff_ms(int attempt, long scale)
{
    static const int64_t s[PAT_WEBHOOK_RETRIES] = {5,     300,   1800, 7200,
                                                   18000, 36000, 36000};
    int i = attempt < 1 ? 0 : attempt - 1;

    if (i >= PAT_WEBHOOK_RETRIES)
        i = PAT_WEBHOOK_RETRIES - 1;
    if (scale < 1)
        scale = 1;
    return s[i] * 1000 / scale;
}

/* The endpoint is disabled: the feed says so, in the same transaction. */
static int
disable(struct pat_store *st, const struct pat_webhook *c, const char *why)
{
    char detail[PAT_DETAIL_MAX + 1];

    pat__detail(detail, sizeof(detail), "{s:s, s:s, s:s}", "webhook_id", c->id,
                "url", c->url, "reason", why);
    return pat__feed(st, NULL, "webhook.disabled", NULL, NULL, detail);
}

/*
 * The writes of one outcome, inside the caller's transaction. The lease
 * check comes first, so that PAT_ECONFLICT leaves nothing written.
 */
static int
done_tx(struct pat_store *st, const char *node, const struct pat_webhook *w,
        const struct pat_webhook_msg *msg, struct pat_webhook_attempt *a,
        long scale)
{
    struct pat_webhook c = *w;
    bool ok = strcmp(a->result, "ok") == 0, off = false;
    const char *why = NULL;
    int64_t now = pat_store_now(st);
    int rc = pat__random_id("whd", a->id, sizeof(a->id));

    if (rc != PAT_OK)
        return rc;
    pat__copy(a->endpoint_id, sizeof(a->endpoint_id), w->id);
    pat__copy(a->msg_id, sizeof(a->msg_id), msg->msg_id);
    pat__copy(a->type, sizeof(a->type), msg->type);
    pat__copy(a->node, sizeof(a->node), node);
    a->event_seq = msg->event_seq;
    a->manual = msg->outbox_seq > 0;
    /* A one-off is tried once; it moves nothing of the feed's order. */
    if (msg->outbox_seq > 0) {
        c.next_at_ms = 0;
    } else if (ok) {
        c.cursor = msg->event_seq;
        c.attempt = 0;
        c.next_at_ms = 0;
        c.failing_since = 0;
    } else if (a->status == 410) {
        why = "the receiver answered 410 Gone";
    } else {
        c.attempt++;
        c.next_at_ms = a->at_ms + pat_webhook_backoff_ms(c.attempt, scale);
        /* A receiver that asks for more time gets it, up to 10 hours. */
        if (a->retry_after_ms > 0 &&
            a->at_ms + a->retry_after_ms > c.next_at_ms)
            c.next_at_ms =
                a->at_ms +
                (a->retry_after_ms < 36000000 ? a->retry_after_ms : 36000000);
        if (c.failing_since == 0)
            c.failing_since = now;
        if ((now - c.failing_since) * scale >= PAT_WEBHOOK_DISABLE_S)
            why = "failing for 5 days";
    }
    if (why != NULL) {
        c.enabled = false;
        pat__copy(c.disabled_reason, sizeof(c.disabled_reason), why);
        off = true;
    }
    rc = pat__db_webhook_advance(st, node, &c);
    if (rc == PAT_OK && off)
        rc = disable(st, &c, why);
    if (rc == PAT_OK && msg->outbox_seq > 0)
        rc = pat__db_outbox_delete(st, msg->outbox_seq);
    if (rc == PAT_OK)
        rc = pat__db_attempt_insert(st, a);
    return rc;
}

int
pat_webhook_done(struct pat_store *st, const char *node,
                 const struct pat_webhook *w, const struct pat_webhook_msg *msg,
                 struct pat_webhook_attempt *a, long scale)
{
    int rc;

    if (scale < 1)
        scale = 1;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = done_tx(st, node, w, msg, a, scale);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_done_many(struct pat_store *st, const char *node,
                      struct pat_webhook_outcome *o, size_t n, long scale)
{
    size_t i;
    int rc;

    if (scale < 1)
        scale = 1;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    for (i = 0; i < n && rc == PAT_OK; i++) {
        o[i].rc = done_tx(st, node, o[i].w, o[i].msg, o[i].a, scale);
        if (o[i].rc == PAT_ECONFLICT)
            continue;
        rc = o[i].rc;
    }
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_release(struct pat_store *st, const char *node, const char *id)
{
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    rc = pat__db_webhook_release(st, id, node);
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_webhook_stats(struct pat_store *st, int64_t *waiting, int64_t *oldest_at)
{
    return pat__db_webhook_stats(st, waiting, oldest_at);
}
