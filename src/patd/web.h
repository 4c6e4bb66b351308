/* SPDX-License-Identifier: MIT */
/*
 * The web pages (web/), embedded into patd at build time by
 * cmake/embed_web.cmake, and the handler that serves them: GET / is
 * web/index.html, GET /assets/{file} is web/assets/{file}.
 */
#ifndef PATD_WEB_H
#define PATD_WEB_H

#include <stddef.h>

struct req;

/*
 * One embedded file. data holds len bytes followed by a NUL that len
 * does not count; etag is a quoted strong validator derived from the
 * SHA-256 of the content. All of it is static and lives forever.
 */
struct web_asset {
    const char *name; /* "index.html", "assets/app.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<32 hex digits>\"" */
};

/* The generated table, ended by a NULL name. */
extern const struct web_asset web_assets[];

/* The asset served at name ("index.html", "assets/x.js"), or NULL. */
const struct web_asset *web_asset_find(const char *name);

/*
 * Serves GET / and GET /assets/{file}: 200 with the file, its type, an
 * ETag and the page's security headers; 304 to a matching If-None-Match;
 * 404 not_found for an unknown file.
 */
int h_web(struct req *r);

#endif
