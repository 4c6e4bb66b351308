/* SPDX-License-Identifier: MIT */
/*
 * Health endpoints for load balancers and orchestrators: /healthz, 200
 * while the process serves, never touches the store (a liveness probe
 * must not restart a node because its database is slow); /readyz is 200
 * only when the store answers a read and could commit a write (a write
 * transaction that is rolled back): a node whose writes fail is not
 * ready, even though it still reads.
 */
#include "routes.h"
#include "banned.h"

int
h_healthz(struct req *r)
{
    return reply(r, 200, json_pack("{s:s}", "status", "ok"));
}

int
h_readyz(struct req *r)
{
    struct pat_policy p;
    int rc = pat_policy_get(r->st, &p);

    if (rc == PAT_OK)
        rc = pat_store_check_write(r->st);
    if (rc != PAT_OK)
        return reply_error(r, 503, "unavailable", "the store is unavailable");
    return reply(r, 200, json_pack("{s:s}", "status", "ready"));
}
