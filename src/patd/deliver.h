/* SPDX-License-Identifier: MIT */
/*
 * The webhook sender of patd serve (deliver.c, docs/webhooks.md): a
 * thread of its own that delivers the change feed to the webhook
 * endpoints, claimed through the store so that many nodes share the work.
 */
#ifndef PATD_DELIVER_H
#define PATD_DELIVER_H

#include <stddef.h>

#include "pat/pat.h"
#include "serve_config.h"

/*
 * Starts the sender ([webhooks] enabled); cfg is borrowed until
 * deliver_stop. Returns 0, or -1 when the thread cannot start.
 */
int deliver_start(const struct patd_config *cfg);

/* Stops the sender and waits for it; a no-op when it is not running. */
void deliver_stop(void);

/* The sender's lines of GET /metrics, into out[cap]. */
void deliver_metrics(char *out, size_t cap);

/*
 * The Standard Webhooks signature "v1,<base64>" of body for msg_id and
 * timestamp ts, with secret ("whsec_" + base64) into out[cap]. 0 or -1
 * (a malformed secret, out too small).
 */
int deliver_sign(const char *secret, const char *msg_id, long long ts,
                 const char *body, size_t body_len, char *out, size_t cap);

#endif
