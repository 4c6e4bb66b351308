/* SPDX-License-Identifier: MIT */
/*
 * Serves the web pages embedded at build time (see web.h). The files are
 * static and small, so every answer copies one into the response. Their
 * names do not change with their content, so browsers must revalidate
 * (Cache-Control: no-cache) and get a bodiless 304 when the ETag still
 * matches. Every answer carries a Content-Security-Policy that allows
 * only this origin's own scripts, styles and requests, and no inline
 * script or style at all.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "web.h"
#include "wire.h"
#include "banned.h"

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";

const struct web_asset *
web_asset_find(const char *name)
{
    const struct web_asset *a;

    for (a = web_assets; a->name != NULL; a++) {
        if (strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

int
h_web(struct req *r)
{
    const struct web_asset *a;
    const char *inm;
    char *copy;

    if (strcmp(r->path, "/") == 0)
        a = web_asset_find("index.html");
    else
        a = web_asset_find(r->path + 1); /* "assets/..." */
    if (a == NULL)
        return reply_error(r, 404, "not_found", "no such file");
    reply_header(r, "Content-Security-Policy", csp);
    reply_header(r, "Cache-Control", "no-cache");
    reply_header(r, "ETag", a->etag);
    inm = req_header(r, "If-None-Match");
    if (inm != NULL && wire_etag_matches(inm, a->etag))
        return reply(r, 304, NULL);
    copy = malloc(a->len + 1);
    if (copy == NULL)
        return reply_error(r, 500, "internal_error", "out of memory");
    memcpy(copy, a->data, a->len + 1);
    r->raw = copy;
    r->raw_type = a->type;
    return reply(r, 200, NULL);
}
