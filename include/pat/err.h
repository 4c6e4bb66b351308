/* SPDX-License-Identifier: MIT */
/*
 * Error codes of libpat. Every fallible function returns PAT_OK (0) or one
 * of these negative codes; detail text, when a caller wants it, goes into
 * the error buffer registered on the store (pat_store_set_errbuf). The
 * table below is the only place a code is defined.
 */
#ifndef PAT_ERR_H
#define PAT_ERR_H

/*
 * X(name, value, class, message). The class is one of enum pat_err_class
 * without its PAT_CLASS_ prefix; messages are lower case, no full stop.
 */
#define PAT_ERR_MAP(X)                                                         \
    X(ENOMEM, -1, TRANSIENT, "out of memory")                                  \
    X(EINVAL, -2, REFUSAL, "invalid argument")                                 \
    X(ENOTFOUND, -3, REFUSAL, "not found")                                     \
    X(ECONFLICT, -4, REFUSAL, "conflicts with an existing object")             \
    X(ELIMIT, -5, REFUSAL, "limit reached")                                    \
    X(EPOLICY, -6, REFUSAL, "refused by policy")                               \
    X(ESCOPE, -7, REFUSAL, "scope not allowed")                                \
    X(EFORBIDDEN, -8, REFUSAL, "forbidden")                                    \
    X(EMALFORMED, -9, VERDICT, "malformed token")                              \
    X(EUNKNOWN, -10, VERDICT, "unknown token")                                 \
    X(EEXPIRED, -11, VERDICT, "token expired")                                 \
    X(EREVOKED, -12, VERDICT, "token revoked")                                 \
    X(EREUSED, -13, VERDICT, "retired token secret presented again")           \
    X(EDISABLED, -14, VERDICT, "user disabled")                                \
    X(ESTORE, -15, TRANSIENT, "store error")                                   \
    X(EUNAVAIL, -16, TRANSIENT, "store unavailable")                           \
    X(EINITED, -17, REFUSAL, "store already initialised")                      \
    X(ENOTINIT, -18, REFUSAL, "store not initialised")                         \
    X(ESCHEMA, -19, REFUSAL, "store schema is newer than this program")        \
    X(ERANDOM, -20, TRANSIENT, "random source failed")                         \
    X(ECRYPTO, -21, TRANSIENT, "cryptographic library failed")                 \
    X(ERANGE, -22, REFUSAL, "value out of range")                              \
    X(EADDRESS, -23, VERDICT, "token not allowed from this address")           \
    X(EAUDIENCE, -24, VERDICT, "token not valid for this audience")            \
    X(EINSUFFICIENT, -25, VERDICT, "token lacks a required scope")             \
    X(EPENDING, -26, VERDICT, "token awaits approval")                         \
    X(EEXHAUSTED, -27, VERDICT, "token has no uses left")                      \
    X(ERATE, -28, REFUSAL, "token over its rate limit")

enum pat_err {
    PAT_OK = 0,
#define PAT_ERR_ENUM(name, value, cls, msg) PAT_##name = (value),
    PAT_ERR_MAP(PAT_ERR_ENUM)
#undef PAT_ERR_ENUM
};

/*
 * What kind of failure a code is, so that a caller decides by kind and
 * not by a list of codes of its own (which drifts when a code is added).
 *
 * PAT_CLASS_VERDICT: the answer about a presented token. The token is
 * malformed, unknown, expired, revoked, reused, its owner disabled, or
 * it may not be used from this address, for this audience or without a
 * scope it lacks (EMALFORMED EUNKNOWN EEXPIRED EREVOKED EREUSED
 * EDISABLED EADDRESS EAUDIENCE EINSUFFICIENT), it awaits approval
 * (EPENDING) or its uses are spent (EEXHAUSTED). A verifier may cache it.
 *
 * PAT_CLASS_REFUSAL: the caller's request was refused by a rule; sent
 * again unchanged, it is refused again as long as the facts stay the
 * same (EINVAL ENOTFOUND ECONFLICT ELIMIT EPOLICY ESCOPE EFORBIDDEN
 * EINITED ENOTINIT ESCHEMA ERANGE; ERATE: a token over its rate limit,
 * refused until its window ends, never cached).
 *
 * PAT_CLASS_TRANSIENT: neither the token nor the request is at fault:
 * the store or a resource of this process failed, and the same request
 * may succeed later (EUNAVAIL ESTORE ENOMEM ERANDOM ECRYPTO). Such a
 * failure must never be taken for a verdict: a verifier fails closed and
 * caches nothing, a server answers 503. ESTORE is here although the
 * store drivers keep EUNAVAIL for what a retry is likely to cure (a lost
 * connection, a lock): the rest (an engine error, a corrupt row) is the
 * store failing too, says nothing about the request, and is cured by an
 * operator, not by changing the request. ERANDOM and ECRYPTO are the
 * CSPRNG and OpenSSL or libsodium failing on inputs that are always
 * valid (a digest of bytes, a fresh secret): an exhausted or broken
 * system resource, like ENOMEM.
 *
 * PAT_CLASS_BUG: a code that is not in the table; a caller that gets
 * one has a bug (or mixes up error spaces). PAT_CLASS_OK is PAT_OK.
 */
enum pat_err_class {
    PAT_CLASS_OK,
    PAT_CLASS_VERDICT,
    PAT_CLASS_REFUSAL,
    PAT_CLASS_TRANSIENT,
    PAT_CLASS_BUG,
};

/* The class of err (enum pat_err_class); PAT_CLASS_BUG for unknown codes. */
int pat_err_class(int err);

/* A static string describing err; never NULL, even for unknown codes. */
const char *pat_strerror(int err);

/* The symbolic name of err without the PAT_ prefix ("EINVAL"); never NULL. */
const char *pat_errname(int err);

#endif
