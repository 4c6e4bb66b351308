/* SPDX-License-Identifier: MIT */
/*
 * The record of token exchanges (DESIGN.md section 10): each issued JWT
 * is one row naming its PAT, the PAT secret it was exchanged for and its
 * status-list index. Whether a JWT is alive is never stored: it is read
 * from its PAT, its secret and its owner (Q_EXCHANGE_STATUS), so that
 * revoking, regenerating or expiring the PAT, or disabling the user,
 * kills every JWT derived from it with no write of its own, and the
 * status lists (built here) say the same as /v1/auth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange_int.h"
#include "internal.h"
#include "store/store_int.h"

int
pat_exchange_record(struct pat_store *st, const struct pat_actor *who,
                    const struct pat_verdict *v,
                    const uint8_t hash[PAT_HASH_LEN], const char *jti,
                    const char *kid, int64_t iat, int64_t exp,
                    const char *detail, int64_t *idx)
{
    int rc;

    *idx = -1;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_exchange_insert(st, jti, v->token_id, v->user_id, hash, kid,
                                 iat, exp, idx);
    if (rc == PAT_OK)
        rc = pat__audit(st, who, "token.exchanged", v->user_id, v->token_id,
                        detail);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc != PAT_OK)
        *idx = -1;
    else
        *idx -= 1; /* stored from 1 (an identity); lists count from 0 */
    return rc;
}

int
pat_exchanges_of_user(struct pat_store *st, const char *user_id,
                      struct pat_exchange_summary *out, size_t cap, size_t *n)
{
    return pat__db_exchange_by_user(st, user_id, out, cap, n);
}

int
pat_exchanges_prune(struct pat_store *st, int64_t before, int64_t *n)
{
    return pat__db_exchange_prune(st, before, n);
}

int
pat_status_list_bits(struct pat_store *st, int64_t k, int64_t now,
                     uint8_t *bits)
{
    int64_t lo = k * PAT_STATUS_LIST_N, max = 0, *live = NULL, i, top;
    size_t n = 0, j;
    int rc;

    if (k < 0 || k > INT64_MAX / PAT_STATUS_LIST_N - 1)
        return PAT_ENOTFOUND;
    rc = pat__db_exchange_max_idx(st, &max);
    if (rc != PAT_OK)
        return rc;
    /* Stored indexes count from 1; max - 1 is the last one issued. */
    if (max == 0 || max - 1 < lo)
        return PAT_ENOTFOUND;
    live = calloc(PAT_STATUS_LIST_N, sizeof(*live));
    if (live == NULL)
        return PAT_ENOMEM;
    rc = pat__db_exchange_live_range(st, lo + 1, lo + PAT_STATUS_LIST_N + 1,
                                     now, live, PAT_STATUS_LIST_N, &n);
    if (rc != PAT_OK)
        goto out;
    /* Issued and not alive: 1. Not issued yet: 0 (VALID until used). */
    memset(bits, 0, PAT_STATUS_LIST_N / 8);
    top = max - 1 - lo;
    if (top >= PAT_STATUS_LIST_N)
        top = PAT_STATUS_LIST_N - 1;
    for (i = 0; i <= top; i++)
        bits[i / 8] |= (uint8_t)(1u << (i % 8));
    for (j = 0; j < n; j++) {
        i = live[j] - 1 - lo;
        if (i >= 0 && i < PAT_STATUS_LIST_N)
            bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
    }
out:
    free(live);
    return rc;
}
