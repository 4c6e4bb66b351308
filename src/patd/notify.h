/* SPDX-License-Identifier: MIT */
/*
 * Expiry notices and mail to token owners (notify.c, docs/webhooks.md):
 * a thread of patd serve with its own store handle.
 */
#ifndef PATD_NOTIFY_H
#define PATD_NOTIFY_H

#include <stddef.h>

#include "pat/pat.h"
#include "serve_config.h"

/*
 * Starts the thread ([notify], [smtp]); cfg is borrowed until
 * notify_stop. Returns 0, or -1 (said on stderr) when smtp settings are
 * incomplete or the thread cannot start.
 */
int notify_start(const struct patd_config *cfg);

/* Stops the thread and waits for it; a no-op when it is not running. */
void notify_stop(void);

/* Its lines of GET /metrics (mails sent and failed), into out[cap]. */
void notify_metrics(char *out, size_t cap);

#endif
