/* SPDX-License-Identifier: MIT */
/*
 * Token exchange state of patd serve: see jwt.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <zlib.h>

#include "jwt.h"
#include "stopper.h"
#include "serve_config.h"
#include "banned.h"

#define RELOAD_S   2
#define PRUNE_S    3600
#define SL_SLOTS   8
#define SL_REBUILD 1 /* seconds a built status list is served as is */

static const char *const x_names[JWT_X_COUNT] = {
    "issued",        "invalid_request", "invalid_grant",
    "invalid_scope", "invalid_target",  "unsupported_grant_type",
    "unavailable",   "rate_limited",
};

/*
 * Everything below is set by jwt_start before the server answers and
 * constant afterwards, except what the locks and atomics guard: the
 * keyring (its own lock), the status-list slots (sl_lock), the counters.
 */
static struct {
    const struct patd_config *cfg;
    struct pat_keyring *kr;
    struct pat_jwt_rules rules;
    bool on;
    bool have_kek;
    uint8_t kek[PAT_KEK_LEN];
    char issuer[512];
    pthread_t thread;
    bool thread_on;
    struct stopper stop;
    pthread_mutex_t sl_lock;
    struct {
        int64_t k;
        int64_t built;
        char *jwt;
    } sl[SL_SLOTS];
    atomic_uint_fast64_t x[JWT_X_COUNT];
    atomic_uint_fast64_t sl_size; /* entries of the lists served */
} j = {
    .stop = STOPPER_INIT,
    .sl_lock = PTHREAD_MUTEX_INITIALIZER,
};

const struct pat_jwt_rules *
jwt_rules(void)
{
    return j.on ? &j.rules : NULL;
}

struct pat_keyring *
jwt_keyring(void)
{
    return j.on ? j.kr : NULL;
}

const char *
jwt_issuer(void)
{
    return j.issuer;
}

const uint8_t *
jwt_kek(void)
{
    return j.have_kek ? j.kek : NULL;
}

void
jwt_count_exchange(enum jwt_exchange_result r)
{
    if (r < JWT_X_COUNT)
        atomic_fetch_add(&j.x[r], 1);
}

void
jwt_metrics(char *buf, size_t cap, size_t *w)
{
    struct pat_jwt_stats s;
    int i, n;

#define PUT(...)                                                               \
    do {                                                                       \
        n = snprintf(buf + *w, cap - *w, __VA_ARGS__);                         \
        if (n > 0 && (size_t)n < cap - *w)                                     \
            *w += (size_t)n;                                                   \
    } while (0)
    PUT("# HELP patd_token_exchanges_total Token exchanges by result.\n"
        "# TYPE patd_token_exchanges_total counter\n");
    for (i = 0; i < JWT_X_COUNT; i++)
        PUT("patd_token_exchanges_total{result=\"%s\"} %llu\n", x_names[i],
            (unsigned long long)atomic_load(&j.x[i]));
    pat_jwt_stats(&s);
    PUT("# HELP patd_jwt_verifications_total JWT verifications by result.\n"
        "# TYPE patd_jwt_verifications_total counter\n"
        "patd_jwt_verifications_total{result=\"ok\"} %llu\n"
        "patd_jwt_verifications_total{result=\"bad_signature\"} %llu\n"
        "patd_jwt_verifications_total{result=\"bad_claims\"} %llu\n"
        "patd_jwt_verifications_total{result=\"revoked\"} %llu\n"
        "patd_jwt_verifications_total{result=\"expired\"} %llu\n",
        (unsigned long long)s.ok, (unsigned long long)s.bad_signature,
        (unsigned long long)s.bad_claims, (unsigned long long)s.killed,
        (unsigned long long)s.expired);
    PUT("# HELP patd_jwt_cache_total JWT answers from the cache and the "
        "store.\n"
        "# TYPE patd_jwt_cache_total counter\n"
        "patd_jwt_cache_total{source=\"cache\"} %llu\n"
        "patd_jwt_cache_total{source=\"store\"} %llu\n",
        (unsigned long long)s.hits, (unsigned long long)s.misses);
    PUT("# HELP patd_status_list_entries Entries of the status lists "
        "served.\n"
        "# TYPE patd_status_list_entries gauge\n"
        "patd_status_list_entries %llu\n",
        (unsigned long long)atomic_load(&j.sl_size));
#undef PUT
}

int
jwt_bootstrap(struct pat_store *st, const char *kek_file, const char *alg,
              bool *created, char *err, size_t errlen)
{
    struct pat_actor system = {0};
    uint8_t kek[PAT_KEK_LEN];
    size_t n = 0;
    int rc;

    *created = false;
    rc = pat_kek_load(kek_file, kek, err, errlen);
    if (rc != PAT_OK)
        return rc;
    rc = pat_keys_count(st, &n);
    if (rc == PAT_OK && n == 0) {
        rc = pat_key_create(st, &system, kek,
                            alg != NULL && alg[0] ? alg : "RS256",
                            pat_store_now(st), NULL);
        *created = rc == PAT_OK;
    }
    OPENSSL_cleanse(kek, sizeof(kek));
    if (rc != PAT_OK && err != NULL && err[0] == '\0')
        snprintf(err, errlen, "%s", pat_strerror(rc));
    return rc;
}

static void
prune(struct pat_store *st)
{
    int64_t n = 0;

    /* A day after the last of them expired, records go. */
    (void)pat_exchanges_prune(st, pat_store_now(st) - 86400, &n);
}

static void *
reload_main(void *arg)
{
    struct pat_store *st = NULL;
    int64_t last_prune = 0;
    char err[256] = "";
    bool stop = false;

    (void)arg;
    while (!stop) {
        if (st == NULL &&
            pat_store_open(j.cfg->store, 0, &st, err, sizeof(err)) != PAT_OK)
            st = NULL;
        if (st != NULL) {
            int64_t now = pat_store_now(st);

            if (pat_keyring_load(j.kr, st, j.kek, now) != PAT_OK) {
                pat_store_close(st);
                st = NULL;
            } else if (now - last_prune >= PRUNE_S) {
                prune(st);
                last_prune = now;
            }
        }
        stop = stopper_wait(&j.stop, RELOAD_S * 1000L);
    }
    pat_store_close(st);
    return NULL;
}

static void
set_issuer(const struct patd_config *cfg)
{
    const char *base = cfg->jwt_issuer[0]   ? cfg->jwt_issuer
                       : cfg->public_url[0] ? cfg->public_url
                                            : NULL;
    size_t n;

    if (base != NULL)
        snprintf(j.issuer, sizeof(j.issuer), "%s", base);
    else
        snprintf(j.issuer, sizeof(j.issuer), "http://%s", cfg->listen);
    n = strlen(j.issuer);
    while (n > 0 && j.issuer[n - 1] == '/')
        j.issuer[--n] = '\0';
}

int
jwt_start(const struct patd_config *cfg)
{
    struct pat_store *st = NULL;
    char err[512] = "";
    size_t n = 0;
    bool created = false;
    int rc;

    j.cfg = cfg;
    set_issuer(cfg);
    if (pat_store_open(cfg->store, 0, &st, err, sizeof(err)) != PAT_OK) {
        fprintf(stderr, "patd: cannot open the store: %s\n", err);
        return -1;
    }
    rc = pat_kek_load(cfg->jwt_kek_file, j.kek, err, sizeof(err));
    j.have_kek = rc == PAT_OK;
    if (rc != PAT_OK && rc != PAT_ENOTFOUND) {
        fprintf(stderr, "patd: %s\n", err);
        goto fail;
    }
    rc = pat_keys_count(st, &n);
    if (rc != PAT_OK) {
        fprintf(stderr, "patd: cannot read the signing keys: %s\n",
                pat_strerror(rc));
        goto fail;
    }
    if (n > 0 && !j.have_kek) {
        fprintf(stderr, "patd: the store holds JWT signing keys and no "
                        "key-encryption key is set: set [jwt] kek_file, "
                        "PATD_JWT_KEK_FILE or PATD_JWT_KEK\n");
        goto fail;
    }
    if (!j.have_kek) {
        pat_store_close(st);
        return 0; /* PATs only */
    }
    if (n == 0) {
        rc = jwt_bootstrap(st, cfg->jwt_kek_file, cfg->jwt_alg, &created, err,
                           sizeof(err));
        if (rc != PAT_OK) {
            fprintf(stderr, "patd: cannot create a signing key: %s\n", err);
            goto fail;
        }
        fprintf(stderr, "patd: created the first JWT signing key\n");
    }
    if (pat_keyring_new(cfg->jwt_max_lifetime, &j.kr) != PAT_OK)
        goto fail;
    rc = pat_keyring_load(j.kr, st, j.kek, pat_store_now(st));
    if (rc != PAT_OK) {
        fprintf(stderr, "patd: cannot load the JWT signing keys: %s\n",
                rc == PAT_EFORBIDDEN ? "the key-encryption key does not "
                                       "open them"
                                     : pat_strerror(rc));
        goto fail;
    }
    pat_store_close(st);
    st = NULL;
    j.rules.keys = j.kr;
    j.rules.issuer = j.issuer;
    j.rules.allowed_algs = 0;
    stopper_reset(&j.stop);
    if (pthread_create(&j.thread, NULL, reload_main, NULL) != 0)
        goto fail;
    j.thread_on = true;
    j.on = true;
    return 0;
fail:
    pat_store_close(st);
    pat_keyring_free(j.kr);
    j.kr = NULL;
    OPENSSL_cleanse(j.kek, sizeof(j.kek));
    return -1;
}

void
jwt_stop(void)
{
    size_t i;

    if (j.thread_on) {
        stopper_stop(&j.stop);
        pthread_join(j.thread, NULL);
        j.thread_on = false;
    }
    j.on = false;
    for (i = 0; i < SL_SLOTS; i++) {
        free(j.sl[i].jwt);
        j.sl[i].jwt = NULL;
    }
    pat_keyring_free(j.kr);
    j.kr = NULL;
    OPENSSL_cleanse(j.kek, sizeof(j.kek));
}

/* Builds and signs status list k. */
static int
build_status_list(struct pat_store *st, int64_t k, int64_t now, char **out)
{
    uint8_t *bits = NULL, *z = NULL;
    uLongf zlen = compressBound(PAT_STATUS_LIST_N / 8);
    char *lst = NULL, *claims_text = NULL, uri[600];
    json_t *claims = NULL;
    int rc;

    *out = NULL;
    bits = malloc(PAT_STATUS_LIST_N / 8);
    z = malloc(zlen);
    rc = PAT_ENOMEM;
    if (bits == NULL || z == NULL)
        goto out;
    rc = pat_status_list_bits(st, k, now, bits);
    if (rc != PAT_OK)
        goto out;
    /* zlib (RFC 1950) at the highest level, as the draft recommends. */
    rc = PAT_ENOMEM;
    if (compress2(z, &zlen, bits, PAT_STATUS_LIST_N / 8, Z_BEST_COMPRESSION) !=
        Z_OK)
        goto out;
    lst = malloc(sodium_base64_encoded_len(
        zlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
    if (lst == NULL)
        goto out;
    sodium_bin2base64(lst,
                      sodium_base64_encoded_len(
                          zlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      z, zlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(uri, sizeof(uri), "%s/v1/status-lists/%lld", j.issuer,
             (long long)k);
    claims = json_pack("{ss ss sI sI sI s{si ss}}", "iss", j.issuer, "sub", uri,
                       "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + j.cfg->jwt_status_ttl * 2), "ttl",
                       (json_int_t)j.cfg->jwt_status_ttl, "status_list", "bits",
                       1, "lst", lst);
    claims_text = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
    if (claims_text == NULL)
        goto out;
    rc = pat_keyring_sign(j.kr, now, "statuslist+jwt", claims_text, out);
out:
    free(bits);
    free(z);
    free(lst);
    free(claims_text);
    json_decref(claims);
    return rc;
}

int
jwt_status_list(struct pat_store *st, int64_t k, char **out)
{
    int64_t now = pat_store_now(st);
    size_t slot = (size_t)(k % SL_SLOTS);
    char *jwt = NULL;
    int rc;

    *out = NULL;
    if (!j.on)
        return PAT_ENOTFOUND;
    pthread_mutex_lock(&j.sl_lock);
    if (j.sl[slot].jwt != NULL && j.sl[slot].k == k &&
        now - j.sl[slot].built < SL_REBUILD)
        *out = strdup(j.sl[slot].jwt);
    pthread_mutex_unlock(&j.sl_lock);
    if (*out != NULL)
        return PAT_OK;
    rc = build_status_list(st, k, now, &jwt);
    if (rc != PAT_OK)
        return rc;
    *out = strdup(jwt);
    pthread_mutex_lock(&j.sl_lock);
    free(j.sl[slot].jwt);
    j.sl[slot].jwt = jwt;
    j.sl[slot].k = k;
    j.sl[slot].built = now;
    pthread_mutex_unlock(&j.sl_lock);
    atomic_store(&j.sl_size, (uint64_t)(k + 1) * PAT_STATUS_LIST_N);
    return *out != NULL ? PAT_OK : PAT_ENOMEM;
}
