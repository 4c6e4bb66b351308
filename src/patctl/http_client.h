/* SPDX-License-Identifier: MIT */
/*
 * The one HTTP client of patctl: a small wrapper over a libcurl easy
 * handle that sends a method, a path and an optional JSON body to the
 * patd server and hands back the status and the parsed JSON answer.
 * Every answer is bounded (HTTP_BODY_MAX) and every request times out
 * (connect 5 s, whole request 30 s). Redirects are never followed, so
 * the bearer token only ever goes to the configured server.
 */
#ifndef PATCTL_HTTP_CLIENT_H
#define PATCTL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"

/* Answers larger than this are refused, before or while they arrive. */
#define HTTP_BODY_MAX ((size_t)8 << 20)
/* The longest request path patctl builds (with its query string). */
#define HTTP_PATH_MAX ((size_t)16 << 10)

/* A connection to one server; reused by every request of a command. */
struct http {
    CURL *curl;
    const char *base;  /* borrowed: "http[s]://host[:port][/prefix]" */
    const char *token; /* borrowed: the bearer token, or NULL */
};

/* What one request brought back. */
struct http_res {
    long status;
    json_t *body;     /* owned: the parsed answer; NULL if none or not JSON */
    long retry_after; /* seconds from a Retry-After header, or -1 */
};

/*
 * Sets h up for the server at base, sending token (both borrowed until
 * http_release; token may be NULL). Returns false with a reason in err
 * when libcurl cannot start.
 */
bool http_init(struct http *h, const char *base, const char *token, char *err,
               size_t errcap);

/* Frees the libcurl handle. Safe on a zeroed or released h. */
void http_release(struct http *h);

/*
 * Sends method (GET, POST, PATCH, PUT, DELETE) to base + path with body
 * (borrowed, may be NULL) as JSON; a body that is a JSON string is sent
 * as it is, as an application/x-www-form-urlencoded form (the caller
 * encodes it). Returns true when an HTTP answer came
 * back, whatever its status; res then owns the parsed body (release it
 * with http_res_release). Returns false with one line in err when the
 * server could not be reached, timed out, sent more than HTTP_BODY_MAX
 * bytes, or sent a success status with a body that is not JSON; res
 * holds nothing then.
 */
bool http_request(struct http *h, const char *method, const char *path,
                  const json_t *body, struct http_res *res, char *err,
                  size_t errcap);

/* Drops the body of res. */
void http_res_release(struct http_res *res);

/*
 * Copies the value of the header name of the last answer h received
 * (without surrounding white space, truncated to outcap - 1 bytes) into
 * out. false, with out "", when the answer had no such header or
 * libcurl is older than 7.83, which cannot tell.
 */
bool http_header(struct http *h, const char *name, char *out, size_t outcap);

/*
 * Appends "/" and segment, percent-encoded, to path (for ids given on
 * the command line). false when out of memory or past the cap.
 */
bool http_path_segment(struct http *h, struct buf *path, const char *segment);

/*
 * Appends "?key=value" or "&key=value" to path, the value percent-encoded.
 * A NULL value appends nothing and succeeds. false when out of memory or
 * past the cap.
 */
bool http_path_query(struct http *h, struct buf *path, const char *key,
                     const char *value);

#endif
