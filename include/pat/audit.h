/* SPDX-License-Identifier: MIT */
/* Reading the audit trail. Events are written by the lifecycle calls. */
#ifndef PAT_AUDIT_H
#define PAT_AUDIT_H

#include "store.h"

struct pat_audit_filter {
    const char *user_id; /* events whose actor or target is this user */
    const char *actor;   /* NULL or the acting user's id */
    const char *action;  /* NULL or an exact action */
    const char *target;  /* NULL or a token or user id */
    int64_t since;       /* 0: no bound */
    int64_t after;       /* cursor: seq of the last event seen */
};

/* Up to cap events matching f, oldest first; *n receives the count. */
int pat_audit_list(struct pat_store *st, const struct pat_audit_filter *f,
                   struct pat_audit *out, size_t cap, size_t *n);

#endif
