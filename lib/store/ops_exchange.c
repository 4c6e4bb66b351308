/* SPDX-License-Identifier: MIT */
/*
 * Store operations of token exchange (DESIGN.md section 10): the signing
 * keys and the record of each issued JWT, whose liveness is read here in
 * one join (Q_EXCHANGE_STATUS) for /v1/auth and for the status lists.
 */
#include <string.h>

#include "store/ops.h"

int
pat__db_key_insert(struct pat_store *st, const struct pat_signing_key *k)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_KEY_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, k->kid);
    b_text(st, s, 2, k->alg);
    b_text(st, s, 3, k->public_jwk);
    b_text(st, s, 4, k->sealed);
    b_int(st, s, 5, k->created_at);
    b_int(st, s, 6, k->active_at);
    return pat__q_run(st, s, NULL);
}

static void
read_key(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    struct pat_signing_key *k = row;

    memset(k, 0, sizeof(*k));
    c_text(st, s, i, k->kid, sizeof(k->kid));
    c_text(st, s, i + 1, k->alg, sizeof(k->alg));
    c_text(st, s, i + 2, k->public_jwk, sizeof(k->public_jwk));
    c_text(st, s, i + 3, k->sealed, sizeof(k->sealed));
    k->created_at = c_int(st, s, i + 4);
    k->active_at = c_int(st, s, i + 5);
    k->retired_at = c_int(st, s, i + 6);
}

int
pat__db_key_list(struct pat_store *st, struct pat_signing_key *out, size_t cap,
                 size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_KEY_LIST, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    return pat__q_rows(st, s, read_key, out, sizeof(*out), cap, n);
}

int
pat__db_key_retire(struct pat_store *st, const char *kid, int64_t at)
{
    struct pat_stmt *s;
    int64_t changed = 0;
    int rc = q_prepare(st, Q_KEY_RETIRE, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, kid);
    b_int(st, s, 2, at);
    rc = pat__q_run(st, s, &changed);
    if (rc == PAT_OK && changed == 0)
        rc = PAT_ENOTFOUND;
    return rc;
}

int
pat__db_exchange_insert(struct pat_store *st, const char *jti,
                        const char *token_id, const char *user_id,
                        const uint8_t *hash, const char *kid, int64_t iat,
                        int64_t exp, int64_t *idx)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_EXCHANGE_INSERT, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, jti);
    b_text(st, s, 2, token_id);
    b_text(st, s, 3, user_id);
    b_hash(st, s, 4, hash);
    b_text(st, s, 5, kid);
    b_int(st, s, 6, iat);
    b_int(st, s, 7, exp);
    return pat__q_number(st, s, idx);
}

int
pat__db_exchange_status(struct pat_store *st, const char *jti, int64_t now,
                        struct pat__exchange_status *out)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_EXCHANGE_STATUS, &s);

    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, jti);
    b_int(st, s, 2, now);
    rc = q_step(st, s);
    if (rc == PAT_OK) {
        memset(out, 0, sizeof(*out));
        out->idx = c_int(st, s, 0);
        c_text(st, s, 1, out->token_id, sizeof(out->token_id));
        c_text(st, s, 2, out->user_id, sizeof(out->user_id));
        c_text(st, s, 3, out->username, sizeof(out->username));
        c_text(st, s, 4, out->allowed_cidrs, sizeof(out->allowed_cidrs));
        out->alive = c_int(st, s, 5) != 0;
    }
    q_done(st, s);
    return rc;
}

static void
read_idx(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    *(int64_t *)row = c_int(st, s, i);
}

int
pat__db_exchange_live_range(struct pat_store *st, int64_t lo, int64_t hi,
                            int64_t now, int64_t *out, size_t cap, size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_EXCHANGE_LIVE_RANGE, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, lo);
    b_int(st, s, 2, hi);
    b_int(st, s, 3, now);
    return pat__q_rows(st, s, read_idx, out, sizeof(*out), cap, n);
}

int
pat__db_exchange_max_idx(struct pat_store *st, int64_t *idx)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_EXCHANGE_MAX_IDX, &s);

    if (rc != PAT_OK)
        return rc;
    return pat__q_number(st, s, idx);
}

static void
read_summary(struct pat_store *st, struct pat_stmt *s, int i, void *row)
{
    struct pat_exchange_summary *e = row;

    memset(e, 0, sizeof(*e));
    c_text(st, s, i, e->token_id, sizeof(e->token_id));
    c_text(st, s, i + 1, e->token_name, sizeof(e->token_name));
    e->count = c_int(st, s, i + 2);
    e->last_at = c_int(st, s, i + 3);
}

int
pat__db_exchange_by_user(struct pat_store *st, const char *user_id,
                         struct pat_exchange_summary *out, size_t cap,
                         size_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_EXCHANGE_BY_USER, &s);

    *n = 0;
    if (rc != PAT_OK)
        return rc;
    b_text(st, s, 1, user_id);
    b_int(st, s, 2, (int64_t)cap);
    return pat__q_rows(st, s, read_summary, out, sizeof(*out), cap, n);
}

int
pat__db_exchange_prune(struct pat_store *st, int64_t before, int64_t *n)
{
    struct pat_stmt *s;
    int rc = q_prepare(st, Q_EXCHANGE_PRUNE, &s);

    if (rc != PAT_OK)
        return rc;
    b_int(st, s, 1, before);
    return pat__q_run(st, s, n);
}
