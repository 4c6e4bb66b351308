/* SPDX-License-Identifier: MIT */
/*
 * Failure limits per client address (failures.h), on the shared table
 * of failed verifications (ratelimit.c). Keys are the kind's letter and
 * the address, so the kinds count apart.
 */
#include <stdio.h>
#include <time.h>

#include "failures.h"
#include "ratelimit.h"
#include "serve_config.h"
#include "banned.h"

static void
key_of(const struct req *r, enum limit_kind kind, char *key, size_t cap)
{
    snprintf(key, cap, "%c:%s",
             kind == LIMIT_AUTH  ? 'a'
             : kind == LIMIT_SSO ? 's'
                                 : 'l',
             r->ip);
}

bool
failures_blocked(struct req *r, long max, enum limit_kind kind)
{
    long wait = 0;
    char key[PAT_IP_MAX + 8];

    key_of(r, kind, key, sizeof(key));
    if (!ratelimit_blocked(r->fails, key, (int64_t)time(NULL),
                           r->cfg->auth_window, max, &wait))
        return false;
    snprintf(r->retry_after, sizeof(r->retry_after), "%ld",
             wait > 0 ? wait : 1);
    return true;
}

int
failures_reply(struct req *r, enum limit_kind kind)
{
    metrics_limited(kind);
    return reply_error(r, 429, "rate_limited",
                       "too many attempts; try again later");
}

bool
failures_limited(struct req *r, long max, enum limit_kind kind)
{
    if (!failures_blocked(r, max, kind))
        return false;
    failures_reply(r, kind);
    return true;
}

void
failures_count(struct req *r, enum limit_kind kind)
{
    char key[PAT_IP_MAX + 8];

    key_of(r, kind, key, sizeof(key));
    ratelimit_fail(r->fails, key, (int64_t)time(NULL), r->cfg->auth_window);
}
