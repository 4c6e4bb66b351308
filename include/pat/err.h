/* SPDX-License-Identifier: MIT */
/*
 * Error codes of libpat. Every fallible function returns PAT_OK (0) or one
 * of these negative codes; detail text, when a caller wants it, goes into
 * the error buffer registered on the store (pat_store_set_errbuf). The
 * table below is the only place a code is defined.
 */
#ifndef PAT_ERR_H
#define PAT_ERR_H

/* X(name, value, message): messages are lower case, no full stop. */
#define PAT_ERR_MAP(X)                                                         \
    X(ENOMEM, -1, "out of memory")                                             \
    X(EINVAL, -2, "invalid argument")                                          \
    X(ENOTFOUND, -3, "not found")                                              \
    X(ECONFLICT, -4, "conflicts with an existing object")                      \
    X(ELIMIT, -5, "limit reached")                                             \
    X(EPOLICY, -6, "refused by policy")                                        \
    X(ESCOPE, -7, "scope not allowed")                                         \
    X(EFORBIDDEN, -8, "forbidden")                                             \
    X(EMALFORMED, -9, "malformed token")                                       \
    X(EUNKNOWN, -10, "unknown token")                                          \
    X(EEXPIRED, -11, "token expired")                                          \
    X(EREVOKED, -12, "token revoked")                                          \
    X(EREUSED, -13, "retired token secret presented again")                    \
    X(EDISABLED, -14, "user disabled")                                         \
    X(ESTORE, -15, "store error")                                              \
    X(EUNAVAIL, -16, "store unavailable")                                      \
    X(EINITED, -17, "store already initialised")                               \
    X(ENOTINIT, -18, "store not initialised")                                  \
    X(ESCHEMA, -19, "store schema is newer than this program")                 \
    X(ERANDOM, -20, "random source failed")                                    \
    X(ECRYPTO, -21, "cryptographic library failed")                            \
    X(ERANGE, -22, "value out of range")                                       \
    X(EADDRESS, -23, "token not allowed from this address")                    \
    X(EAUDIENCE, -24, "token not valid for this audience")                     \
    X(EINSUFFICIENT, -25, "token lacks a required scope")

enum pat_err {
    PAT_OK = 0,
#define PAT_ERR_ENUM(name, value, msg) PAT_##name = (value),
    PAT_ERR_MAP(PAT_ERR_ENUM)
#undef PAT_ERR_ENUM
};

/* A static string describing err; never NULL, even for unknown codes. */
const char *pat_strerror(int err);

/* The symbolic name of err without the PAT_ prefix ("EINVAL"); never NULL. */
const char *pat_errname(int err);

#endif
