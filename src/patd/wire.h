/* SPDX-License-Identifier: MIT */
/*
 * Parsers of request bytes that need no connection and no struct req:
 * the JSON body (nesting bounded before jansson sees it), form bodies
 * (RFC 7662/7009), X-Forwarded-For and If-None-Match. intake.c,
 * request.c and h_web.c call them with what libmicrohttpd gave; the fuzz
 * targets (tests/fuzz/) call them with anything.
 */
#ifndef PATD_WIRE_H
#define PATD_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum wire_json {
    WIRE_JSON_OK = 0,
    WIRE_JSON_DEEP,      /* nested deeper than the bound */
    WIRE_JSON_MALFORMED, /* not JSON: err holds jansson's reason */
    WIRE_JSON_NOT_OBJECT,
};

/*
 * Parses len bytes of body as a JSON object, refusing duplicate keys and
 * nesting deeper than max_depth. On WIRE_JSON_OK and WIRE_JSON_NOT_OBJECT
 * *out is the new value (the caller's, json_decref); otherwise NULL.
 */
enum wire_json wire_json_body(const char *body, size_t len, long max_depth,
                              json_t **out, json_error_t *err);

/*
 * The value of key in a urlencoded form of len bytes, decoded ('+' and
 * %XX) into out[cap]. False when key is absent or repeated, or when its
 * value does not fit.
 */
bool wire_form_value(const char *form, size_t len, const char *key, char *out,
                     size_t cap);

/* Whether key appears in the form with a value ("key=..."). */
bool wire_form_has(const char *form, size_t len, const char *key);

/*
 * The client address behind trusted proxies: out holds the peer's
 * address on entry; when xff is not NULL, out becomes the right-most
 * X-Forwarded-For address that is not in trusted (space-separated
 * ranges). Garbage in xff stops the walk at the last good address.
 * Returns 0 when an address not in trusted was found, 1 when every
 * address of xff (or none) was trusted, so that the caller goes on with
 * the line before, or -1 on garbage.
 */
int wire_xff_client(const char *xff, const char *trusted, char *out,
                    size_t cap);

/*
 * Whether an If-None-Match value names etag. It is "*" or a list of
 * entity tags; the comparison is the weak one (RFC 9110, 13.1.2).
 */
bool wire_etag_matches(const char *header, const char *etag);

#endif
