/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the operation files (lib/store/ops_*.c) and only by
 * them: short names for the driver primitives, the conventions for
 * optional values, and the one reader of each kind of row.
 */
#ifndef PAT_STORE_OPS_H
#define PAT_STORE_OPS_H

#include "store/store_int.h"

static inline int
q_prepare(struct pat_store *st, enum pat_q q, struct pat_stmt **s)
{
    return st->drv->prepare(st, q, s);
}

static inline void
b_text(struct pat_store *st, struct pat_stmt *s, int i, const char *v)
{
    st->drv->bind_text(s, i, v);
}

/* Text, NULL for an empty string (optional columns). */
static inline void
b_opt(struct pat_store *st, struct pat_stmt *s, int i, const char *v)
{
    st->drv->bind_text(s, i, v && v[0] ? v : NULL);
}

static inline void
b_int(struct pat_store *st, struct pat_stmt *s, int i, int64_t v)
{
    st->drv->bind_int(s, i, v);
}

/* A time, NULL for 0 ("none"). */
static inline void
b_time(struct pat_store *st, struct pat_stmt *s, int i, int64_t v)
{
    if (v == 0)
        st->drv->bind_null(s, i);
    else
        st->drv->bind_int(s, i, v);
}

static inline void
b_hash(struct pat_store *st, struct pat_stmt *s, int i, const uint8_t *hash)
{
    st->drv->bind_blob(s, i, hash, PAT_HASH_LEN);
}

static inline int64_t
c_int(struct pat_store *st, struct pat_stmt *s, int i)
{
    return st->drv->col_int(s, i);
}

static inline void
c_text(struct pat_store *st, struct pat_stmt *s, int i, char *dst, size_t cap)
{
    st->drv->col_text(s, i, dst, cap);
}

static inline int
q_step(struct pat_store *st, struct pat_stmt *s)
{
    return st->drv->step(st, s);
}

static inline void
q_done(struct pat_store *st, struct pat_stmt *s)
{
    st->drv->done(s);
}

/*
 * Runs a prepared and bound statement that returns no rows, then ends
 * it. *changed (if not NULL) receives the rows it wrote.
 */
int pat__q_run(struct pat_store *st, struct pat_stmt *s, int64_t *changed);

/* Runs statement q with one text parameter and no result rows. */
int pat__q_run_text(struct pat_store *st, enum pat_q q, const char *v);

/*
 * Runs statement q with one text parameter for the first column of its
 * one row, as text into buf[cap]: PAT_ENOTFOUND without a row.
 */
int pat__q_text_get(struct pat_store *st, enum pat_q q, const char *v,
                    char *buf, size_t cap);

/*
 * Runs a statement whose first row holds a number in its first column,
 * then ends it. No row reads as 0.
 */
int pat__q_number(struct pat_store *st, struct pat_stmt *s, int64_t *n);

/*
 * Steps a prepared and bound statement until it has no more rows or out
 * is full, reading each row with read, then ends it. *n counts the rows.
 */
typedef void (*pat__row_fn)(struct pat_store *st, struct pat_stmt *s, int col,
                            void *row);
int pat__q_rows(struct pat_store *st, struct pat_stmt *s, pat__row_fn read,
                void *out, size_t size, size_t cap, size_t *n);

/* Columns of each kind of row, and their one reader (col: first column). */
#define PAT_USER_NCOLS  13
#define PAT_TOKEN_NCOLS 25
void pat__row_user(struct pat_store *st, struct pat_stmt *s, int col,
                   void *user);
void pat__row_token(struct pat_store *st, struct pat_stmt *s, int col,
                    void *token);

/* The role as stored. */
const char *pat__role_name(int role);

#endif
