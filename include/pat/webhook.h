/* SPDX-License-Identifier: MIT */
/*
 * Webhook endpoints and their deliveries (DESIGN.md section 12,
 * docs/webhooks.md). An endpoint receives the feed rows of the types it
 * names, in feed order, signed per Standard Webhooks with its secret.
 * The delivery state lives with the endpoint (a feed cursor, the retry
 * of the row after it, and a lease naming the node that delivers to it),
 * so that on many nodes each endpoint, and so each delivery, is worked
 * by one node at a time, and a killed node's lease runs out and another
 * node retakes it.
 *
 * Expiry notices (token.expiring, token.expired) are written here too:
 * pat_notices_scan appends each once per token and kind.
 */
#ifndef PAT_WEBHOOK_H
#define PAT_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"
#include "feed.h"

struct pat_store;

#define PAT_WEBHOOK_URL_MAX   2048
#define PAT_WEBHOOK_TYPES_MAX 32
#define PAT_WEBHOOK_EVENTS_MAX                                                 \
    (PAT_WEBHOOK_TYPES_MAX * (PAT_CHANGE_TYPE_MAX + 1))
#define PAT_WEBHOOK_SECRET_RAW 32 /* random bytes of a secret */
/* "whsec_" + base64 of 32 bytes (50), with room */
#define PAT_WEBHOOK_SECRET_MAX   64
#define PAT_WEBHOOK_NODE_MAX     63
#define PAT_WEBHOOK_MSGID_MAX    40
#define PAT_WEBHOOK_RESPONSE_MAX 1024 /* bytes of a response body kept */
#define PAT_WEBHOOK_ERROR_MAX    255
#define PAT_WEBHOOK_BODY_MAX     (PAT_CHANGE_DATA_MAX + 1024)
#define PAT_WEBHOOK_RETRIES      7 /* length of the backoff schedule */
#define PAT_WEBHOOK_DISABLE_S    (5 * 86400) /* failing this long: disabled */

/* An endpoint, without its secret. */
struct pat_webhook {
    int64_t seq;
    char id[PAT_ID_LEN + 1]; /* "whk_" + 16 */
    char url[PAT_WEBHOOK_URL_MAX + 1];
    char events[PAT_WEBHOOK_EVENTS_MAX + 1]; /* sorted, space-separated */
    char description[PAT_DESC_MAX + 1];
    bool enabled;
    int64_t created_at, updated_at;
    /* Delivery state (the lease holder writes it). */
    int64_t cursor;        /* feed seq given or skipped */
    int attempt;           /* failed attempts at the row after cursor */
    int64_t next_at_ms;    /* no attempt before (Unix ms) */
    int64_t failing_since; /* Unix seconds; 0: not failing */
    char disabled_reason[64];
    char lease_node[PAT_WEBHOOK_NODE_MAX + 1];
    int64_t lease_until_ms;
};

/* A change to an endpoint: NULL or -1 leaves a field as it is. */
struct pat_webhook_patch {
    const char *url;
    const char *events; /* space-separated types */
    const char *description;
    int enabled; /* -1, 0 or 1; enabling clears the failure state */
};

/* One delivery attempt, as recorded. */
struct pat_webhook_attempt {
    int64_t seq;
    char id[PAT_ID_LEN + 1]; /* "whd_" + 16 */
    char endpoint_id[PAT_ID_LEN + 1];
    char msg_id[PAT_WEBHOOK_MSGID_MAX + 1];
    int64_t event_seq; /* 0: a test message */
    char type[PAT_CHANGE_TYPE_MAX + 1];
    int64_t at_ms;
    char node[PAT_WEBHOOK_NODE_MAX + 1];
    char result[16]; /* "ok", "http_error", "timeout", "error" */
    int status;      /* HTTP status, 0 when there was none */
    int64_t latency_ms;
    char response[PAT_WEBHOOK_RESPONSE_MAX + 1]; /* printable excerpt */
    char error[PAT_WEBHOOK_ERROR_MAX + 1];
    bool manual; /* a test or a redelivery */
    /* Not stored: the receiver's Retry-After (429, 503), in ms; 0 none. */
    int64_t retry_after_ms;
};

/* A message to send to an endpoint. */
struct pat_webhook_msg {
    int64_t outbox_seq; /* > 0: a one-off (test, redelivery) */
    int64_t event_seq;  /* the feed row; 0 for a test */
    int64_t skip_to;    /* when there is no message: cursor may move here */
    char msg_id[PAT_WEBHOOK_MSGID_MAX + 1];
    char type[PAT_CHANGE_TYPE_MAX + 1];
    struct pat_change change;            /* when event_seq > 0 */
    char body[PAT_WEBHOOK_BODY_MAX + 1]; /* one-offs: the exact body */
};

/*
 * Checks and normalises a URL for an endpoint: http or https, a host, no
 * user or password, no fragment, printable ASCII, at most
 * PAT_WEBHOOK_URL_MAX bytes. PAT_EINVAL with a reason in why[cap].
 */
int pat_webhook_url_check(const char *url, char *why, size_t cap);

/*
 * Normalises a space-separated list of feed types into out[cap] (sorted,
 * no repeats). PAT_EINVAL naming the first unknown type in why, or when
 * the list is empty or too long.
 */
int pat_webhook_events_check(const char *events, char *out, size_t cap,
                             char *why, size_t whycap);

/*
 * Creates an endpoint that receives the feed rows written from now on.
 * secret[cap] receives "whsec_" + base64 (shown once; the caller wipes
 * it). out is filled on PAT_OK. Audited.
 */
int pat_webhook_create(struct pat_store *st, const struct pat_actor *who,
                       const char *url, const char *events,
                       const char *description, struct pat_webhook *out,
                       char *secret, size_t cap);
int pat_webhook_get(struct pat_store *st, const char *id,
                    struct pat_webhook *out);
/* Up to cap endpoints with seq > after, in creation order. */
int pat_webhook_list(struct pat_store *st, int64_t after,
                     struct pat_webhook *out, size_t cap, size_t *n);
int pat_webhook_update(struct pat_store *st, const struct pat_actor *who,
                       const char *id, const struct pat_webhook_patch *p,
                       struct pat_webhook *out);
/* A new secret into secret[cap], as pat_webhook_create. */
int pat_webhook_regenerate(struct pat_store *st, const struct pat_actor *who,
                           const char *id, char *secret, size_t cap);
/* Deletes the endpoint, its one-offs and its attempts. */
int pat_webhook_delete(struct pat_store *st, const struct pat_actor *who,
                       const char *id);
/* The secret of endpoint id, to sign with (the caller wipes it). */
int pat_webhook_secret(struct pat_store *st, const char *id, char *secret,
                       size_t cap);

/*
 * Queues a one-off message for endpoint id: a test (event_seq 0, type
 * "webhook.test", body as given) or the redelivery of attempt
 * attempt_id (its feed row is rendered again by the sender; body NULL).
 */
int pat_webhook_enqueue(struct pat_store *st, const struct pat_actor *who,
                        const char *id, const char *msg_id, int64_t event_seq,
                        const char *type, const char *body);

/* Attempts of endpoint id, newest first, with seq < before (0: all). */
int pat_webhook_attempts(struct pat_store *st, const char *id, int64_t before,
                         struct pat_webhook_attempt *out, size_t cap,
                         size_t *n);
int pat_webhook_attempt_get(struct pat_store *st, const char *id,
                            const char *attempt_id,
                            struct pat_webhook_attempt *out);
/* Deletes attempts recorded before before_ms. */
int pat_webhook_attempts_prune(struct pat_store *st, int64_t before_ms,
                               int64_t *n);

/*
 * The sender's side. claim: up to cap enabled endpoints due at now_ms
 * that node now holds until now_ms + lease_ms (a lease already held is
 * renewed). next: the message to send next to w (PAT_ENOTFOUND when
 * none; msg->skip_to then says how far the cursor may move). done: records
 * attempt a and moves the endpoint on (ok: the next message; otherwise
 * the retry at retry_at_ms, or disabled after PAT_WEBHOOK_DISABLE_S /
 * scale seconds of failure, with a webhook.disabled feed row). Both
 * answer PAT_ECONFLICT when node no longer holds the lease.
 */
int pat_webhook_claim(struct pat_store *st, const char *node, int64_t now_ms,
                      int64_t lease_ms, struct pat_webhook *out, size_t cap,
                      size_t *n);
int pat_webhook_next(struct pat_store *st, const struct pat_webhook *w,
                     struct pat_webhook_msg *msg);
int pat_webhook_skip(struct pat_store *st, const char *node,
                     const struct pat_webhook *w, int64_t to);
int pat_webhook_done(struct pat_store *st, const char *node,
                     const struct pat_webhook *w,
                     const struct pat_webhook_msg *msg,
                     struct pat_webhook_attempt *a, long scale);
int pat_webhook_release(struct pat_store *st, const char *node, const char *id);

/*
 * Several outcomes in one transaction (one commit for a round of
 * sends): o[i].rc is each one's result (PAT_ECONFLICT: the lease was
 * lost and nothing of it was written); the return is the transaction's.
 */
struct pat_webhook_outcome {
    const struct pat_webhook *w;
    const struct pat_webhook_msg *msg;
    struct pat_webhook_attempt *a;
    int rc;
};
int pat_webhook_done_many(struct pat_store *st, const char *node,
                          struct pat_webhook_outcome *o, size_t n, long scale);

/*
 * The wait before retry number attempt (1-based) of the schedule of
 * DESIGN.md section 12, in ms, divided by scale (1: real time).
 */
int64_t pat_webhook_backoff_ms(int attempt, long scale);

/* Feed rows waiting for enabled endpoints, and the oldest one's time. */
int pat_webhook_stats(struct pat_store *st, int64_t *waiting,
                      int64_t *oldest_at);

/*
 * Appends the token.expiring notices (60, 30 and 7 days before and on
 * the day) and token.expired due at the store's now, each once per
 * token (a unique key in the store makes it once across nodes). day is
 * the length of a day in seconds (86400; shorter in tests). *n counts
 * the rows appended. The owners to tell by email are the user_id of the
 * rows (pat_changes_list).
 */
int pat_notices_scan(struct pat_store *st, int64_t day, int64_t *n);

/*
 * Records that user_id was mailed about kind on day (a day number, or a
 * feed seq for a mail about one event); PAT_ECONFLICT when that was done
 * already (by this node or another).
 */
int pat_mail_once(struct pat_store *st, const char *user_id, const char *kind,
                  int64_t day);

/* A line of an owner's daily digest of expiry notices. */
struct pat_notice_line {
    char name[PAT_NAME_MAX + 1];
    char hint[5];
    int64_t expires_at;
    char kind[8]; /* "60", "30", "7", "0" or "expired" */
};

/* Up to cap owners with an email address and notices not yet mailed. */
int pat_notices_mail_users(struct pat_store *st, char (*out)[PAT_ID_LEN + 1],
                           size_t cap, size_t *n);

/*
 * The digest of user_id for day: in one transaction, claims the day's
 * mail (PAT_ECONFLICT when it was sent today, by any node), takes up to
 * cap of the user's notices not yet mailed into out, and marks them all
 * mailed. Each notice is in one digest; one digest a day at most.
 */
int pat_notices_digest(struct pat_store *st, const char *user_id, int64_t day,
                       struct pat_notice_line *out, size_t cap, size_t *n);

/* True when type is a type of the change feed. */
bool pat_change_type_known(const char *type);

#endif
