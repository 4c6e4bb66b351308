/* SPDX-License-Identifier: MIT */
/*
 * Native TLS (see tls.h). Each load of the certificate and key is one
 * generation: the GnuTLS certificate list and private key. The current
 * one is an atomic pointer that the certificate callback reads at each
 * handshake. A replaced generation is kept until tls_stop, because
 * GnuTLS holds on to what the callback returned for the whole session
 * (it never copies it), and sessions opened before a reload may live
 * on; a generation is a few kilobytes and one is added per SIGHUP.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "tls.h"
#include "banned.h"

#define CHAIN_MAX 8 /* certificates in the chain */

/*
 * TLS 1.2 and 1.3 only; AEAD ciphers (AES-GCM, ChaCha20-Poly1305) with
 * ECDHE key exchange; the server's order of preference.
 */
static const char priorities[] =
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"
    "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"
    "-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

struct gen {
    gnutls_pcert_st chain[CHAIN_MAX];
    unsigned nchain;
    gnutls_privkey_t key;
    struct gen *older; /* the generations it replaced, kept to tls_stop */
};

/* cert and key borrowed from the configuration; cur set by the loader. */
static struct {
    const char *cert, *key;
    _Atomic(struct gen *) cur;
    struct MHD_OptionItem opts[3];
} tls;

static void
gen_free(struct gen *g)
{
    unsigned i;

    if (g == NULL)
        return;
    for (i = 0; i < g->nchain; i++)
        gnutls_pcert_deinit(&g->chain[i]);
    if (g->key != NULL)
        gnutls_privkey_deinit(g->key);
    free(g);
}

/* Reads the whole file at path (at most 1 MiB) into d. */
static int
read_file(const char *path, gnutls_datum_t *d, char *err, size_t errlen)
{
    int rc = gnutls_load_file(path, d);

    if (rc < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path,
                 gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

/* Loads a generation from the files, or NULL with err. */
static struct gen *
gen_load(char *err, size_t errlen)
{
    gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
    struct gen *g = calloc(1, sizeof(*g));
    int rc;

    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (read_file(tls.cert, &cert, err, errlen) != 0 ||
        read_file(tls.key, &key, err, errlen) != 0)
        goto fail;
    g->nchain = CHAIN_MAX;
    rc = gnutls_pcert_list_import_x509_raw(g->chain, &g->nchain, &cert,
                                           GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || g->nchain == 0) {
        g->nchain = 0;
        snprintf(err, errlen, "'%s': not a PEM certificate chain: %s", tls.cert,
                 rc < 0 ? gnutls_strerror(rc) : "empty");
        goto fail;
    }
    rc = gnutls_privkey_init(&g->key);
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(g->key, &key, GNUTLS_X509_FMT_PEM,
                                            NULL, 0);
    if (rc < 0) {
        snprintf(err, errlen, "'%s': not a PEM private key: %s", tls.key,
                 gnutls_strerror(rc));
        goto fail;
    }
    /* The key must be the one of the first certificate. */
    {
        gnutls_pubkey_t a = g->chain[0].pubkey;
        gnutls_datum_t da = {NULL, 0}, db = {NULL, 0};
        gnutls_pubkey_t b = NULL;
        bool same = false;

        if (gnutls_pubkey_init(&b) >= 0 &&
            gnutls_pubkey_import_privkey(b, g->key, 0, 0) >= 0 &&
            gnutls_pubkey_export2(a, GNUTLS_X509_FMT_DER, &da) >= 0 &&
            gnutls_pubkey_export2(b, GNUTLS_X509_FMT_DER, &db) >= 0)
            same = da.size == db.size && memcmp(da.data, db.data, da.size) == 0;
        gnutls_free(da.data);
        gnutls_free(db.data);
        gnutls_pubkey_deinit(b);
        if (!same) {
            snprintf(err, errlen, "'%s' is not the key of '%s'", tls.key,
                     tls.cert);
            goto fail;
        }
    }
    gnutls_memset(key.data, 0, key.size);
    gnutls_free(key.data);
    gnutls_free(cert.data);
    return g;
fail:
    if (key.data != NULL)
        gnutls_memset(key.data, 0, key.size);
    gnutls_free(key.data);
    gnutls_free(cert.data);
    gen_free(g);
    return NULL;
}

/* gnutls_certificate_retrieve_function2: the current generation. */
static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
         gnutls_pcert_st **pcert, unsigned int *pcert_length,
         gnutls_privkey_t *privkey)
{
    struct gen *g = atomic_load(&tls.cur);

    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (g == NULL)
        return -1;
    *pcert = g->chain;
    *pcert_length = g->nchain;
    *privkey = g->key;
    return 0;
}

int
tls_start(const char *cert, const char *key, char *err, size_t errlen)
{
    struct gen *g;

    if (cert == NULL || cert[0] == '\0')
        return 0;
    if (key == NULL || key[0] == '\0') {
        snprintf(err, errlen, "tls.cert is set but tls.key is not");
        return -1;
    }
    tls.cert = cert;
    tls.key = key;
    g = gen_load(err, errlen);
    if (g == NULL)
        return -1;
    atomic_store(&tls.cur, g);
    tls.opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
                                          (void *)retrieve};
    tls.opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                          (void *)(uintptr_t)priorities};
    tls.opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return 0;
}

bool
tls_on(void)
{
    return atomic_load(&tls.cur) != NULL;
}

unsigned
tls_mhd_flags(void)
{
    return tls_on() ? MHD_USE_TLS : 0;
}

struct MHD_OptionItem *
tls_mhd_options(void)
{
    if (!tls_on())
        tls.opts[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return tls.opts;
}

int
tls_reload(char *err, size_t errlen)
{
    struct gen *g;

    if (!tls_on())
        return 0;
    g = gen_load(err, errlen);
    if (g == NULL)
        return -1;
    /* Only the main thread reloads: cur changes hands here alone. */
    g->older = atomic_load(&tls.cur);
    atomic_store(&tls.cur, g);
    return 0;
}

void
tls_stop(void)
{
    struct gen *g = atomic_exchange(&tls.cur, NULL), *next;

    for (; g != NULL; g = next) {
        next = g->older;
        gen_free(g);
    }
}
