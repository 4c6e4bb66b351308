/* SPDX-License-Identifier: MIT */
/*
 * The OpenID Connect relying party behind web sign-in (DESIGN.md section
 * 11; integrations.md section 4): discovery, the authorization request
 * with PKCE (S256), state and nonce, the code exchange over libcurl, the
 * ID token's checks (signature against the provider's JWKS, refetched on
 * an unknown kid at most once every SSO_JWKS_MIN_REFRESH seconds; iss,
 * aud, azp, exp, iat, nonce), userinfo when configured, and the mapping
 * of the provider's groups to allowed scopes and the admin role.
 *
 * The provider's documents are cached for the process behind one mutex;
 * everything else is per call. Nothing here touches the store: h_sso.c
 * does, once every check has passed.
 */
#ifndef PATD_SSO_H
#define PATD_SSO_H

#include <stdbool.h>
#include <stddef.h>

#include "pat/pat.h"

struct patd_config;

#define SSO_JWKS_MIN_REFRESH 2   /* seconds between two JWKS fetches */
#define SSO_LEEWAY           60  /* clock skew allowed on exp and iat */
#define SSO_IAT_MAX_AGE      600 /* an ID token issued longer ago is old */
#define SSO_VERIFIER_LEN     43  /* PKCE code_verifier, base64url */
#define SSO_NONCE_LEN        43

/* Why a sign-in failed; each has a page text and an audit reason. */
enum sso_fail {
    SSO_OK = 0,
    SSO_NOT_CONFIGURED,
    SSO_PROVIDER_ERROR, /* the provider answered error= */
    SSO_STATE,          /* state missing or not this browser's */
    SSO_UNKNOWN_STATE,  /* no such sign-in, used already or expired */
    SSO_PROVIDER_DOWN,  /* discovery, token, JWKS or userinfo unreachable */
    SSO_TOKEN_ENDPOINT, /* the token endpoint refused the code */
    SSO_BAD_SIGNATURE,  /* malformed ID token, unknown key, bad signature */
    SSO_ISSUER,
    SSO_AUDIENCE,
    SSO_EXPIRED, /* exp passed, or iat too old or in the future */
    SSO_NONCE,
    SSO_CLAIMS, /* sub, or the username claim, missing or unusable */
    SSO_USER_DISABLED,
    SSO_USERNAME_TAKEN, /* a local account holds the username */
    SSO_MAPPING,        /* a mapped scope is not in the catalog */
    SSO_INTERNAL,
};

/* The person the provider vouched for, with the mapping applied. */
struct sso_identity {
    char subject[PAT_ATTR_MAX + 1]; /* issuer + " " + sub */
    char username[PAT_USERNAME_MAX + 1];
    char display_name[PAT_DISPLAY_MAX + 1];
    char email[PAT_EMAIL_MAX + 1];
    char scopes[PAT_SCOPESTR_MAX + 1]; /* patd:self + mapped */
    int role;                          /* enum pat_role */
    char groups[1024];                 /* for the audit detail */
};

/*
 * Reads the client secret ([sso] client_secret_file, else
 * PATD_SSO_CLIENT_SECRET) and checks the [sso] settings. 0, or -1 with
 * err. Without an issuer single sign-on stays off and this succeeds.
 */
int sso_init(const struct patd_config *c, char *err, size_t errlen);

/* Forgets the cached provider documents and wipes the secret. */
void sso_release(void);

bool sso_enabled(void);

/*
 * The authorization URL for state, nonce and the PKCE verifier into
 * out[cap] (discovering the provider on first use).
 */
enum sso_fail sso_authorize_url(const char *state, const char *nonce,
                                const char *verifier, char *out, size_t cap);

/*
 * Exchanges code (with verifier), checks the ID token against nonce,
 * reads userinfo when configured and applies the mapping into *id.
 * detail[cap] says what failed, for the audit trail.
 */
enum sso_fail sso_finish(const char *code, const char *verifier,
                         const char *nonce, struct sso_identity *id,
                         char *detail, size_t cap);

/* A sentence for the error page, and a short reason for the audit. */
const char *sso_fail_text(enum sso_fail f);
const char *sso_fail_reason(enum sso_fail f);

/* Whether failure f is the provider's fault (502) rather than the call's. */
bool sso_fail_upstream(enum sso_fail f);

/* Fills out with random base64url characters (len of them + NUL). */
int sso_random(char *out, size_t len);

#endif
