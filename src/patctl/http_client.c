/* SPDX-License-Identifier: MIT */
/*
 * The libcurl wrapper of http_client.h. Each request resets the easy handle
 * (which keeps its connection cache, so the pages of a list reuse one
 * connection) and sets every option again, so no option of one request
 * can leak into the next. The Authorization header is built here and
 * wiped from memory as soon as the request is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "banned.h"

#ifndef PATD_VERSION
#define PATD_VERSION "0"
#endif

#define USER_AGENT      "patctl/" PATD_VERSION
#define CONNECT_SECS    5L
#define TOTAL_SECS      30L
#define AUTH_HEADER_MAX 512

/* State of one transfer, seen by the write callback. */
struct sink {
    struct buf body;
    bool too_large;
};

static size_t
on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sink *s = userp;
    size_t len = size * nmemb;

    /* Returning less than len makes libcurl stop with a write error. */
    if (!buf_append(&s->body, data, len)) {
        s->too_large = true;
        return 0;
    }
    return len;
}

bool
http_init(struct http *h, const char *base, const char *token, char *err,
          size_t errcap)
{
    h->base = base;
    h->token = token;
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        snprintf(err, errcap, "cannot start libcurl");
        return false;
    }
    return true;
}

void
http_release(struct http *h)
{
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

void
http_res_release(struct http_res *res)
{
    json_decref(res->body);
    res->body = NULL;
}

/* Frees a header list after wiping its strings: one holds the token. */
static void
free_headers(struct curl_slist *list)
{
    struct curl_slist *l;

    for (l = list; l != NULL; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

/* Builds the request headers; NULL when out of memory. */
static struct curl_slist *
make_headers(const struct http *h, const char *content_type)
{
    struct curl_slist *list = NULL, *next;
    char auth[AUTH_HEADER_MAX];
    int n;

    next = curl_slist_append(list, "Accept: application/json");
    if (next == NULL)
        goto fail;
    list = next;
    /* curl would otherwise wait for "100 Continue" before a large body. */
    next = curl_slist_append(list, "Expect:");
    if (next == NULL)
        goto fail;
    list = next;
    if (content_type != NULL) {
        next = curl_slist_append(list, content_type);
        if (next == NULL)
            goto fail;
        list = next;
    }
    if (h->token != NULL) {
        n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", h->token);
        next = n > 0 && (size_t)n < sizeof(auth) ? curl_slist_append(list, auth)
                                                 : NULL;
        explicit_bzero(auth, sizeof(auth));
        if (next == NULL)
            goto fail;
        list = next;
    }
    return list;
fail:
    free_headers(list);
    return NULL;
}

/* Sets the options every request shares. */
static CURLcode
set_common(CURL *c, const char *url, struct sink *s, char *cerr)
{
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(c, opt, val);                                \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_USERAGENT, USER_AGENT);
    SET(CURLOPT_ERRORBUFFER, cerr);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT, CONNECT_SECS);
    SET(CURLOPT_TIMEOUT, TOTAL_SECS);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_BODY_MAX);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, s);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
    return rc;
}

/* Sets the method and the body. */
static CURLcode
set_method(CURL *c, const char *method, const char *body, size_t len)
{
    CURLcode rc;

    if (strcmp(method, "GET") == 0)
        return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (body != NULL) {
        rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (rc != CURLE_OK || strcmp(method, "POST") == 0)
            return rc;
    }
    return curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

/* Seconds of the Retry-After header of the last answer, or -1. */
static long
retry_after(CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075300
    struct curl_header *hd = NULL;
    const char *p;
    long v = 0;

    if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &hd) !=
            CURLHE_OK ||
        hd == NULL)
        return -1;
    /* An HTTP date instead of seconds is rare enough to ignore. */
    for (p = hd->value; *p >= '0' && *p <= '9' && v < 1000000; p++)
        v = v * 10 + (*p - '0');
    return p == hd->value || *p != '\0' ? -1 : v;
#else
    (void)c;
    return -1;
#endif
}

bool
http_header(struct http *h, const char *name, char *out, size_t outcap)
{
#if LIBCURL_VERSION_NUM >= 0x075300
    struct curl_header *hd = NULL;
    const char *v;
    size_t len;

    out[0] = '\0';
    if (h->curl == NULL ||
        curl_easy_header(h->curl, name, 0, CURLH_HEADER, -1, &hd) !=
            CURLHE_OK ||
        hd == NULL)
        return false;
    /* libcurl trims the value already; patd's empty headers are " ". */
    for (v = hd->value; *v == ' ' || *v == '\t'; v++)
        ;
    len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len >= outcap)
        len = outcap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
#else
    (void)h;
    (void)name;
    out[0] = '\0';
    return false;
#endif
}

/* Explains a failed transfer in err. */
static void
explain(const struct http *h, CURLcode rc, const struct sink *s,
        const char *cerr, char *err, size_t errcap)
{
    if (s->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(err, errcap,
                 "the answer of '%s' is larger than %zu MiB; "
                 "refused",
                 h->base, HTTP_BODY_MAX >> 20);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(err, errcap, "no answer from '%s' in time: %s", h->base,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
    else
        snprintf(err, errcap, "cannot reach '%s': %s", h->base,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
}

/* Parses the answer body into res; false for a success that is not JSON. */
static bool
parse_body(const struct sink *s, struct http_res *res, char *err, size_t errcap)
{
    json_error_t jerr;

    if (s->body.len == 0)
        return true;
    res->body = json_loadb(buf_str(&s->body), s->body.len,
                           JSON_REJECT_DUPLICATES, &jerr);
    /*
     * An error status without JSON (a proxy's HTML page, say) is still an
     * answer; the caller reports the status. A success must be JSON.
     */
    if (res->body == NULL && res->status >= 200 && res->status < 300) {
        snprintf(err, errcap, "the server's answer is not JSON (HTTP %ld): %s",
                 res->status, jerr.text);
        return false;
    }
    return true;
}

bool
http_request(struct http *h, const char *method, const char *path,
             const json_t *body, struct http_res *res, char *err, size_t errcap)
{
    struct sink s;
    struct buf url;
    struct curl_slist *headers = NULL;
    char cerr[CURL_ERROR_SIZE];
    char *text = NULL;
    size_t text_len = 0;
    CURLcode rc;
    bool ok = false;

    res->status = 0;
    res->body = NULL;
    res->retry_after = -1;
    cerr[0] = '\0';
    buf_init(&s.body, HTTP_BODY_MAX);
    s.too_large = false;
    buf_init(&url, HTTP_PATH_MAX + strlen(h->base));
    if (!buf_puts(&url, h->base) || !buf_puts(&url, path)) {
        snprintf(err, errcap, "request path too long");
        goto out;
    }
    if (json_is_string(body)) {
        /* A string is a form, sent as it is (see http.h). */
        text = strdup(json_string_value(body));
        if (text == NULL) {
            snprintf(err, errcap, "out of memory");
            goto out;
        }
        text_len = strlen(text);
    } else if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL) {
            snprintf(err, errcap, "out of memory");
            goto out;
        }
        text_len = strlen(text);
    }
    headers =
        make_headers(h, json_is_string(body)
                            ? "Content-Type: application/x-www-form-urlencoded"
                        : body != NULL ? "Content-Type: application/json"
                                       : NULL);
    if (headers == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    curl_easy_reset(h->curl);
    rc = set_common(h->curl, buf_str(&url), &s, cerr);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
    if (rc == CURLE_OK)
        rc = set_method(h->curl, method, text, text_len);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h->curl);
    if (rc != CURLE_OK) {
        explain(h, rc, &s, cerr, err, errcap);
        goto out;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &res->status);
    res->retry_after = retry_after(h->curl);
    ok = parse_body(&s, res, err, errcap);
out:
    /* The header list and the body may hold the token or a password. */
    if (h->curl != NULL)
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    free_headers(headers);
    if (text != NULL) {
        explicit_bzero(text, text_len);
        free(text);
    }
    buf_release(&url);
    buf_release(&s.body);
    if (!ok)
        http_res_release(res);
    return ok;
}

/* Appends s percent-encoded. */
static bool
append_escaped(struct http *h, struct buf *path, const char *s)
{
    size_t len = strnlen(s, HTTP_PATH_MAX);
    char *e;
    bool ok;

    if (len >= HTTP_PATH_MAX)
        return false;
    e = curl_easy_escape(h->curl, s, (int)len);
    if (e == NULL)
        return false;
    ok = buf_puts(path, e);
    curl_free(e);
    return ok;
}

bool
http_path_segment(struct http *h, struct buf *path, const char *segment)
{
    return buf_puts(path, "/") && append_escaped(h, path, segment);
}

bool
http_path_query(struct http *h, struct buf *path, const char *key,
                const char *value)
{
    if (value == NULL)
        return true;
    return buf_puts(path, strchr(buf_str(path), '?') ? "&" : "?") &&
           buf_puts(path, key) && buf_puts(path, "=") &&
           append_escaped(h, path, value);
}
