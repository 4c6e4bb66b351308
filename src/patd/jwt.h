/* SPDX-License-Identifier: MIT */
/*
 * Token exchange state of patd serve (DESIGN.md section 10): the KEK,
 * the keyring every request signs and verifies with (reloaded from the
 * store every two seconds by a thread of its own, so that a rotation on
 * any node reaches this one well inside the pre-publication period), the
 * issuer, the signed status lists (rebuilt at most once a second), and
 * the counters /metrics shows.
 */
#ifndef PATD_JWT_H
#define PATD_JWT_H

#include <stdbool.h>
#include <stdint.h>

#include "pat/pat.h"
#include "pat/exchange.h"

struct patd_config;

/*
 * Loads the KEK ([jwt] kek_file or the environment), creates the first
 * signing key when there is a KEK and no key, refuses (-1, after saying
 * why on stderr) when keys exist and there is no KEK or it does not open
 * them, and starts the reload thread. 0 on success, with exchange
 * enabled or not (no KEK and no key: PATs only).
 */
int jwt_start(const struct patd_config *cfg);
void jwt_stop(void);

/* The rules to check patd's JWTs with; NULL when exchange is off. */
const struct pat_jwt_rules *jwt_rules(void);
/* The keyring (NULL when exchange is off), the issuer, the KEK. */
struct pat_keyring *jwt_keyring(void);
const char *jwt_issuer(void);
const uint8_t *jwt_kek(void);

/*
 * For the local commands (init, migrate): the KEK from file or the
 * environment, and a first key when the store has none. Returns
 * PAT_ENOTFOUND when there is no KEK (nothing done), PAT_OK (a key was
 * made when *created), or an error with err set.
 */
int jwt_bootstrap(struct pat_store *st, const char *kek_file, const char *alg,
                  bool *created, char *err, size_t errlen);

/*
 * Status list k as a signed statuslist+jwt; *out is a new string the
 * caller frees. PAT_ENOTFOUND for a list never used.
 */
int jwt_status_list(struct pat_store *st, int64_t k, char **out);

/* Counters for /metrics. */
enum jwt_exchange_result {
    JWT_X_ISSUED,
    JWT_X_INVALID_REQUEST,
    JWT_X_INVALID_GRANT,
    JWT_X_INVALID_SCOPE,
    JWT_X_INVALID_TARGET,
    JWT_X_UNSUPPORTED,
    JWT_X_UNAVAILABLE,
    JWT_X_LIMITED,
    JWT_X_COUNT
};
void jwt_count_exchange(enum jwt_exchange_result r);
/* Appends the token-exchange metrics to a Prometheus text buffer. */
void jwt_metrics(char *buf, size_t cap, size_t *w);

#endif
