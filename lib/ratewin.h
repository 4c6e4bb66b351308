/* SPDX-License-Identifier: MIT */
/*
 * Per-token rate limits as one node counts them (DESIGN.md section 13,
 * docs/governance.md): a fixed window per token, aligned to multiples of
 * its length since the epoch so that every node's windows start and end
 * together. A bounded table, sharded under mutexes; not installed.
 */
#ifndef PAT_RATEWIN_H
#define PAT_RATEWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pat_ratewin;

/* A table of about `slots` tokens (rounded); NULL without memory. */
struct pat_ratewin *pat__ratewin_new(size_t slots);
void pat__ratewin_free(struct pat_ratewin *w);

/*
 * Counts one request of token id against limit per window seconds at
 * now. true: allowed. *remaining receives what is left in the window
 * after it (0 when refused) and *reset the seconds until the window
 * ends. A token that finds no room (every slot of its probe run in use
 * by a window still running) takes the slot of the oldest window, whose
 * count restarts: the table's bound, documented in docs/governance.md.
 */
bool pat__ratewin_take(struct pat_ratewin *w, const char *id, int limit,
                       int window, int64_t now, int *remaining, int *reset);

#endif
