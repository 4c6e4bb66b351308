/* SPDX-License-Identifier: MIT */
/*
 * Cross-file internals of libpat (pat__ prefix). Not installed. Include it
 * last, after the system headers: it ends with banned.h.
 */
#ifndef PAT_INTERNAL_H
#define PAT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pat/pat.h"

struct pat_driver;

/*
 * A store handle. Owned by one thread at a time. drv and conn are set by
 * open and constant until close; prefix is "" until the store is
 * initialised, then constant. in_tx is true between begin and
 * commit/rollback (transactions do not nest). refs[0..nrefs) are the
 * feed rows of the open transaction that the commit signal reports
 * (refs_over: more than fit); both are cleared by commit and rollback.
 */
struct pat_store {
    const struct pat_driver *drv;
    void *conn;
    char *errbuf;
    size_t errlen;
    int64_t (*now)(void *);
    void *now_arg;
    int schema_version;
    int migrations_applied;
    bool in_tx;
    char prefix[PAT_PREFIX_MAX + 1];
    pat_commit_cb on_commit;
    void *on_commit_arg;
    struct pat_change_ref refs[PAT_COMMIT_REFS_MAX];
    size_t nrefs;
    bool refs_over;
};

#if defined(__GNUC__)
#define PAT__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PAT__PRINTF(f, a)
#endif

/* Writes a detail line into the registered error buffer, if any. */
void pat__seterr(struct pat_store *st, const char *fmt, ...) PAT__PRINTF(2, 3);

/* pat__seterr, then returns err: "return pat__fail(st, PAT_EINVAL, ...)". */
int pat__fail(struct pat_store *st, int err, const char *fmt, ...)
    PAT__PRINTF(3, 4);

/* Transactions: begin takes the write lock at once. */
int pat__tx_begin(struct pat_store *st);
int pat__tx_commit(struct pat_store *st);
void pat__tx_rollback(struct pat_store *st);

/*
 * Appends a row to the change feed inside the open transaction: type
 * (one of DESIGN.md section 12), the acting user (who NULL or without a
 * user: "system"), the user and token it names (NULL: none), data (a JSON
 * object text or NULL). Whether verifiers must forget something follows
 * from the type (lib/feed.c), and reaches every node's cache when, and
 * only if, the transaction commits. An error fails the change.
 */
int pat__feed(struct pat_store *st, const struct pat_actor *who,
              const char *type, const char *user_id, const char *token_id,
              const char *data);

/* Fills ch (not its seq) as pat__feed would append it. */
int pat__feed_fill(struct pat_store *st, const struct pat_actor *who,
                   const char *type, const char *user_id, const char *token_id,
                   const char *data, struct pat_change *ch);

/* "usr_" / "tok_" + 16 base62 from the CSPRNG into out (PAT_ID_LEN + 1). */
int pat__random_id(const char *kind, char *out, size_t outlen);

/* Copies a NUL-terminated src into dst[cap]; PAT_ERANGE if it does not fit. */
int pat__copy(char *dst, size_t cap, const char *src);

/*
 * Copies a client's User-Agent into dst[cap]: a bounded prefix, invalid
 * UTF-8 bytes replaced by '?', never a split character (lib/audit.c).
 */
void pat__ua_copy(char *dst, size_t cap, const char *ua);

/*
 * Lists: a string of items separated by single spaces, sorted, unique.
 * pat__list_normalize splits in on spaces, checks each item with canon
 * (which writes its canonical form into out and returns PAT_OK), sorts,
 * removes duplicates and joins into out[cap]. More than max items is
 * PAT_ELIMIT. On PAT_EINVAL, bad[badlen] receives the offending item.
 */
typedef int (*pat__canon_cb)(const char *item, size_t len, char *out,
                             size_t cap);
int pat__list_normalize(const char *in, pat__canon_cb canon, size_t max,
                        size_t item_max, char *out, size_t cap, char *bad,
                        size_t badlen, size_t *count);
bool pat__list_has(const char *list, const char *item, size_t len);
/* out = items of a that are also in b; out may not alias a or b. */
int pat__list_intersect(const char *a, const char *b, char *out, size_t cap);
/* The first item of a not in b, copied into missing; false if none. */
bool pat__list_missing(const char *a, const char *b, char *missing, size_t len);

/* Canonicalisers for pat__list_normalize. */
int pat__scope_canon(const char *s, size_t len, char *out, size_t cap);
int pat__audience_canon(const char *s, size_t len, char *out, size_t cap);
int pat__cidr_canon(const char *s, size_t len, char *out, size_t cap);

/* True when ip (text) lies in one of the ranges of cidrs (a list). */
bool pat__cidr_match(const char *cidrs, const char *ip);

/* Scope list normalisation with a detail message; at least one if need. */
int pat__scopes_parse(struct pat_store *st, const char *in, bool need_one,
                      char *out, size_t cap);

/* Every scope of list exists in the catalog, else PAT_ESCOPE. */
int pat__scopes_exist(struct pat_store *st, const char *list);

/*
 * Checks a free-text field: valid UTF-8, no control characters, at most
 * max_chars code points and max_bytes bytes, and (if need) not empty and
 * without surrounding white space.
 */
int pat__text_check(struct pat_store *st, const char *field, const char *s,
                    size_t max_chars, size_t max_bytes, bool need);

/* Finds a live (not deleted) user by id or username. */
int pat__user_find(struct pat_store *st, const char *key, struct pat_user *out);

/*
 * Appends an audit event for who. detail is a JSON object text or NULL.
 * Must run inside the change's transaction.
 */
int pat__audit(struct pat_store *st, const struct pat_actor *who,
               const char *action, const char *target_user,
               const char *target_token, const char *detail);

/*
 * Builds an audit detail object with jansson's json_pack format into
 * out[cap]; an object that does not fit becomes {"truncated":true}.
 */
void pat__detail(char *out, size_t cap, const char *fmt, ...);

/* Loads the token prefix from the settings into st->prefix. */
int pat__load_prefix(struct pat_store *st);

/* PAT_ENOTINIT unless the store has been initialised. */
int pat__need_init(struct pat_store *st);

/*
 * Resolves an expiry request against the policy and the acting token into
 * *expires_at (0: never).
 */
int pat__expiry_resolve(struct pat_store *st, const struct pat_actor *who,
                        const struct pat_policy *pol,
                        const struct pat_expiry *e, int64_t *expires_at);

/*
 * The bodies of pat_user_create and pat_token_create, for callers that
 * already hold a transaction (pat_store_init bootstraps in one).
 */
int pat__user_create_tx(struct pat_store *st, const struct pat_actor *who,
                        const struct pat_user_spec *spec, struct pat_user *out);
int pat__token_create_tx(struct pat_store *st, const struct pat_actor *who,
                         const struct pat_token_spec *spec,
                         struct pat_token *out, char *secret,
                         size_t secret_len);

/*
 * Revokes token id (any owner) inside an open transaction; a revoked
 * token is left as it is.
 */
int pat__token_revoke_id(struct pat_store *st, const struct pat_actor *who,
                         const char *id, const char *reason);

/*
 * The governance rules of a new token (lib/governance.c): who may issue
 * a service account's tokens, its limits (spec) into t, whether it is
 * created pending, and the no-expiry allowance of service accounts
 * (which it writes into *pol, the policy the expiry is resolved with).
 */
int pat__token_governance(struct pat_store *st, const struct pat_actor *who,
                          const struct pat_token_limits *limits,
                          const struct pat_user *owner, struct pat_policy *pol,
                          struct pat_token *t);
/* pat__user_create_tx and pat__token_create_tx, with governance. */
int pat__user_create_kind_tx(struct pat_store *st, const struct pat_actor *who,
                             const struct pat_user_spec *spec, int kind,
                             struct pat_user *out);
int pat__token_create_limited_tx(struct pat_store *st,
                                 const struct pat_actor *who,
                                 const struct pat_token_spec *spec,
                                 const struct pat_token_limits *limits,
                                 struct pat_token *out, char *secret,
                                 size_t secret_len);

#include "banned.h"

#endif
