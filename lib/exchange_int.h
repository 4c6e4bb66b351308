/* SPDX-License-Identifier: MIT */
/*
 * What the token-exchange files of libpat share (lib/keys.c,
 * lib/exchange.c, lib/jwtcheck.c). Not installed.
 */
#ifndef PAT_EXCHANGE_INT_H
#define PAT_EXCHANGE_INT_H

#include <openssl/evp.h>

#include "pat/exchange.h"

/*
 * The public key published under kid at now, as a new reference the
 * caller frees, with its alg in *alg; NULL when none (unknown kid, or a
 * retired key whose window has passed).
 */
EVP_PKEY *pat__keyring_find(struct pat_keyring *kr, const char *kid,
                            int64_t now, int *alg);

/* The algorithms the keyring's keys sign with (a mask of jose.h). */
int pat__keyring_algs(struct pat_keyring *kr);

#endif
