/* SPDX-License-Identifier: MIT */
/*
 * Cross-site request refusal (see csrf.h): the request's Origin and
 * Sec-Fetch-Site against patd's own origin, and the JSON Content-Type
 * that a plain HTML form cannot send.
 */
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "serve_config.h"
#include "csrf.h"
#include "banned.h"

/* Whether origin (a header value) is scheme + "://" + authority[len]. */
static bool
origin_is(const char *origin, const char *scheme, const char *authority,
          size_t len)
{
    size_t sl = strlen(scheme);

    return strncasecmp(origin, scheme, sl) == 0 &&
           strncmp(origin + sl, "://", 3) == 0 &&
           strlen(origin + sl + 3) == len &&
           strncasecmp(origin + sl + 3, authority, len) == 0;
}

/* Whether origin is public_url's scheme://authority (its path dropped). */
static bool
origin_is_public(const char *origin, const char *url)
{
    const char *sep = strstr(url, "://");
    const char *auth;
    char scheme[8];
    size_t sl, al;

    if (sep == NULL || (size_t)(sep - url) >= sizeof(scheme))
        return false;
    sl = (size_t)(sep - url);
    memcpy(scheme, url, sl);
    scheme[sl] = '\0';
    auth = sep + 3;
    al = strcspn(auth, "/?#");
    return al > 0 && origin_is(origin, scheme, auth, al);
}

bool
csrf_cross_site(const struct req *r)
{
    const char *site =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    const char *origin =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    const char *host;

    if (site != NULL && strcasecmp(site, "cross-site") == 0)
        return true;
    if (origin == NULL)
        return false;
    if (r->cfg->public_url[0] != '\0')
        return !origin_is_public(origin, r->cfg->public_url);
    /*
     * Without a configured URL the Host header names us. Either scheme
     * is ours: a gateway may terminate TLS and pass Host on unchanged.
     */
    host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
    if (host == NULL || host[0] == '\0')
        return true;
    return !origin_is(origin, "http", host, strlen(host)) &&
           !origin_is(origin, "https", host, strlen(host));
}

int
csrf_refuse_cross_site(struct req *r)
{
    if (csrf_cross_site(r))
        return reply_error(r, 403, "forbidden",
                           "cross-site request refused: the Origin is not "
                           "this server's");
    return 0;
}

int
csrf_require_json(struct req *r)
{
    const char *type =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    size_t len;

    if (type != NULL) {
        len = strcspn(type, "; \t");
        if (len == 16 && strncasecmp(type, "application/json", 16) == 0)
            return 0;
    }
    return reply_error(r, 400, "invalid_request",
                       "Content-Type must be application/json");
}
