/* SPDX-License-Identifier: MIT */
/*
 * Native TLS of patd serve ([tls] cert and key): libmicrohttpd's HTTPS
 * (GnuTLS), HTTP/1.1 over TLS 1.2 and 1.3 only with AEAD ciphers and
 * forward secrecy. The certificate is handed to GnuTLS per handshake
 * from a callback, so SIGHUP (tls_reload) rotates it without a restart:
 * connections opened after the reload get the new certificate.
 */
#ifndef PATD_TLS_H
#define PATD_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

/*
 * Reads the PEM certificate chain cert and private key key (both paths
 * are borrowed for the life of the server). Returns 0, or -1 with err
 * saying which file and why. With cert NULL or "" TLS stays off.
 */
int tls_start(const char *cert, const char *key, char *err, size_t errlen);

/* Whether tls_start turned TLS on. */
bool tls_on(void);

/* MHD_USE_TLS when TLS is on, else 0. */
unsigned tls_mhd_flags(void);

/*
 * The options for MHD_OPTION_ARRAY: the certificate callback and the
 * GnuTLS priority string when TLS is on, else nothing. Static storage.
 */
struct MHD_OptionItem *tls_mhd_options(void);

/*
 * Reads the files again; on success new handshakes use them. On failure
 * the certificate in use stays and err says why. 0 or -1; 0 when off.
 */
int tls_reload(char *err, size_t errlen);

/* Frees every certificate loaded; after the daemon has stopped. */
void tls_stop(void);

#endif
