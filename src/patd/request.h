/* SPDX-License-Identifier: MIT */
/*
 * The request as handlers see it, and the helpers they answer with. The
 * server (server.c) bounds and parses the request before a handler runs:
 * the body is at most max_body_bytes, JSON at most max_json_depth deep
 * and valid UTF-8, and the caller is authenticated as the route demands.
 * Handlers never build SQL and never see a secret they did not create.
 */
#ifndef PATD_REQUEST_H
#define PATD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "pat/pat.h"
#include "model_json.h"

struct MHD_Connection;
struct patd_config;
struct ratelimit;
struct pat_verifier;

enum auth_need {
    AUTH_NONE,  /* anyone */
    AUTH_TOKEN, /* any valid PAT (its own metadata) */
    AUTH_SELF,  /* a PAT with patd:self, or a session */
    AUTH_ADMIN, /* role admin, and a PAT with patd:admin or a session */
};

enum auth_kind { AUTHED_NONE, AUTHED_TOKEN, AUTHED_SESSION };

#define ROUTE_MAX_PARAMS 2

struct req {
    struct MHD_Connection *conn;
    const struct patd_config *cfg;
    struct loginlimit *logins; /* failed sign-ins, per user and address */
    struct ratelimit *fails;   /* failed verifications, per address */
    struct pat_verifier *verifier;
    struct pat_store *st; /* this thread's store connection */
    const char *method;
    const char *path;
    const char *params[ROUTE_MAX_PARAMS]; /* {id} segments, in order */
    char param_buf[2][PAT_ID_LEN + 8];
    json_t *body; /* parsed JSON object, or NULL */
    char ip[PAT_IP_MAX + 1];
    const char *user_agent;

    /* Who is calling (set by the server before the handler runs). */
    enum auth_kind authed;
    char csrf[PAT_CSRF_LEN + 1];     /* when authed == AUTHED_SESSION */
    char session_id[PAT_ID_LEN + 1]; /* its public id, likewise */
    struct pat_actor actor;

    /*
     * can_defer: the handler may set defer instead of answering, and it
     * runs again on a worker thread (server.c), where can_defer is false:
     * forward auth does so for a cache miss on a store across a network.
     */
    bool can_defer;
    bool defer;
    /*
     * defer_misses: forward auth defers its cache misses too (a store
     * across a network); without it only use-limited tokens go to the
     * workers (a store write, DESIGN.md section 13).
     */
    bool defer_misses;
    /* X-RateLimit-* values of forward auth (h_verify.c). */
    char rate_buf[3][24];

    /* The answer. */
    int status;
    json_t *resp;         /* owned; NULL for an empty body */
    char *raw;            /* owned; a non-JSON body (metrics) */
    const char *raw_type; /* its Content-Type */
    const char *form;     /* the raw body of a form POST */
    size_t form_len;
    char set_cookie[256];
    char retry_after[24];
    /* Extra headers; values point into this struct (e.g. token). */
    struct {
        const char *name;
        const char *value;
    } hdrs[12];
    int nhdrs;
    char expires_buf[PAT_TIME_LEN + 1];

    /*
     * Large members, last: the server zeroes everything above and only
     * the first byte of the strings below for each request (a request
     * is about 14 KiB, and zeroing it all was a measurable part of the
     * forward-auth path). user and token are filled before they are
     * read: user when authed != AUTHED_NONE, token by the verifier.
     */
    char www_auth[PAT_SCOPESTR_MAX + 96];
    char errdetail[512]; /* the store's error buffer */
    struct pat_user user;
    struct pat_verdict token; /* when authed == AUTHED_TOKEN, or checked */
};

/* Bytes of struct req that are zeroed for each request. */
#define REQ_ZEROED offsetof(struct req, www_auth)

typedef int (*handler_fn)(struct req *r);

/* Answers status with JSON body (stolen; NULL: no body). Returns status. */
int reply(struct req *r, int status, json_t *body);

/*
 * Answers an error: {"error": code, "error_description": text}. Returns
 * status.
 */
int reply_error(struct req *r, int status, const char *code, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/*
 * Answers the error a libpat call returned: status and code from the
 * table in request.c, the store's detail as the description.
 */
int reply_pat(struct req *r, int rc);

/* Adds a response header; name and value must outlive the request. */
void reply_header(struct req *r, const char *name, const char *value);

/*
 * The value of key in an application/x-www-form-urlencoded body, decoded
 * into out[cap]. false when absent, repeated or too long.
 */
bool req_form(struct req *r, const char *key, char *out, size_t cap);

/* Whether the form body has key at all, whatever its value. */
bool req_form_has(struct req *r, const char *key);

/* A query argument, a request header or a cookie; NULL when absent. */
const char *req_query(struct req *r, const char *key);
const char *req_header(struct req *r, const char *name);
const char *req_cookie(struct req *r, const char *name);

/*
 * Body checks. body_fields refuses (400, naming the field) any key that
 * is not in allowed (NULL-terminated) and any read-only key; it returns 0
 * or the status it answered with. A body that is absent counts as {}.
 */
int body_fields(struct req *r, const char *const *allowed);

/*
 * Typed getters: each returns 0 (value present and valid, or absent and
 * optional: *present tells which) or the 400 status it answered with.
 */
int body_string(struct req *r, const char *key, bool required,
                const char **out);
int body_bool(struct req *r, const char *key, int *out); /* -1: absent */
int body_int(struct req *r, const char *key, long long min, long long max,
             long long *out, bool *present);
/* An array of strings joined by spaces into out[cap]; NULL out when absent. */
int body_list(struct req *r, const char *key, size_t max_items, char *out,
              size_t cap, bool *present);
/* RFC 3339 string; *null_given set when the JSON value is null. */
int body_time(struct req *r, const char *key, int64_t *out, bool *present,
              bool *null_given);

/* Pagination: limit (1..200, default 50) and cursor; 0 or status. */
int req_page(struct req *r, size_t *limit, int64_t *after);

/* Wraps items into {"items": [...], "next_cursor": ...}; steals items. */
json_t *page_json(json_t *items, bool more, int64_t last);

#endif
