/* SPDX-License-Identifier: MIT */
/* Housekeeping beside the requests: pruning the change feed. */
#ifndef PATD_MAINTENANCE_H
#define PATD_MAINTENANCE_H

#include "serve_config.h"

/*
 * Starts the housekeeping thread; cfg is borrowed until maintenance_stop.
 * Returns 0, or -1 when the thread cannot start.
 */
int maintenance_start(const struct patd_config *cfg);

/* Stops the thread and waits for it; a no-op when it is not running. */
void maintenance_stop(void);

/*
 * Totals of this process's governance sweeps: pending requests expired,
 * unused-token notices, unused tokens revoked.
 */
void maintenance_swept(unsigned long out[3]);

#endif
