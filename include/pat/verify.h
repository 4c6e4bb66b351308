/* SPDX-License-Identifier: MIT */
/*
 * Verifying a presented token string: is it valid, whose is it, and what
 * may it do. The order is fixed: format and checksum (no lookup for a
 * malformed string), SHA-256, one store read, then the checks.
 */
#ifndef PAT_VERIFY_H
#define PAT_VERIFY_H

#include "store.h"

struct pat_verdict {
    char token_id[PAT_ID_LEN + 1];
    char user_id[PAT_ID_LEN + 1];
    char username[PAT_USERNAME_MAX + 1];
    char scopes[PAT_SCOPESTR_MAX + 1]; /* token's ∩ the owner's current */
    char audiences[PAT_AUDSTR_MAX + 1];
    char allowed_cidrs[PAT_CIDRSTR_MAX + 1];
    int64_t created_at;
    int64_t expires_at;  /* 0: never */
    int64_t grace_until; /* nonzero: an old secret inside its grace */
};

/*
 * Verifies token (len bytes). Returns PAT_OK with *out filled, or the
 * reason it is not valid: PAT_EMALFORMED, PAT_EUNKNOWN, PAT_EREVOKED,
 * PAT_EREUSED, PAT_EEXPIRED, PAT_EDISABLED; or PAT_EUNAVAIL / PAT_ESTORE
 * when the store cannot answer (callers must fail closed). For
 * PAT_EREVOKED, PAT_EREUSED and PAT_EEXPIRED, out->token_id and
 * out->user_id name the token. A reuse is written to the audit trail and,
 * under the revoke_on_reuse policy, revokes the token: the only writes
 * this call makes.
 */
int pat_verify(struct pat_store *st, const char *token, size_t len,
               struct pat_verdict *out);

/*
 * Whether a verified token may be used from ip (text form, IPv4 or IPv6):
 * true when the token has no allowed_cidrs or ip lies in one of them.
 */
bool pat_verdict_allows_ip(const struct pat_verdict *v, const char *ip);

/* Whether a verified token holds scope (an item of v->scopes). */
bool pat_verdict_has_scope(const struct pat_verdict *v, const char *scope);

#endif
