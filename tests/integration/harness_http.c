/* SPDX-License-Identifier: MIT */
/*
 * The integration-test harness, part two (see harness.h): requests
 * through libcurl (one connection each, no proxy, every answer kept in
 * the arena and its secrets remembered for the log check), reading JSON
 * answers, lists followed through their cursors, the admin helpers that
 * make users and tokens, and raw sockets for what libcurl will not send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"

#define BODY_CAP (8u << 20)

/* JSON access. */

const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

long long
jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

bool
jbool(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

bool
jnull(const json_t *o, const char *key)
{
    return json_is_null(json_object_get(o, key));
}

json_t *
jitems(const struct resp *r)
{
    json_t *a = json_object_get(r->json, "items");

    return json_is_array(a) ? a : NULL;
}

size_t
nitems(const struct resp *r)
{
    return json_array_size(jitems(r));
}

bool
jarray_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

bool
items_have_id(const struct resp *r, const char *id)
{
    size_t i;
    json_t *v;

    json_array_foreach(jitems(r), i, v)
    {
        const char *got = jstr(v, "id");
        if (got != NULL && id != NULL && strcmp(got, id) == 0)
            return true;
    }
    return false;
}

/* HTTP. */

static void
release_resp(void *p)
{
    struct resp *r = p;

    json_decref(r->json);
    free(r->body);
    free(r);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    size_t len = size * n;

    if (r->len + len > BODY_CAP)
        return 0;
    {
        char *nb = realloc(r->body, r->len + len + 1);
        if (nb == NULL)
            return 0;
        r->body = nb;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* Copies the value of header line "Name: value\r\n" if its name is name. */
static void
take_header(const char *line, size_t len, const char *name, char *out,
            size_t cap)
{
    size_t nl = strlen(name), vl;
    const char *v;

    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return;
    v = line + nl + 1;
    vl = len - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    size_t len = size * n, have;

    /* A status line starts an answer: keep the last one's headers only. */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
        r->headers[0] = '\0';
    have = strlen(r->headers);
    if (have + len < sizeof(r->headers)) {
        memcpy(r->headers + have, data, len);
        r->headers[have + len] = '\0';
    }
    take_header(data, len, "WWW-Authenticate", r->www_auth,
                sizeof(r->www_auth));
    take_header(data, len, "Retry-After", r->retry_after,
                sizeof(r->retry_after));
    take_header(data, len, "Set-Cookie", r->set_cookie, sizeof(r->set_cookie));
    take_header(data, len, "Content-Type", r->content_type,
                sizeof(r->content_type));
    take_header(data, len, "Cache-Control", r->cache_control,
                sizeof(r->cache_control));
    return len;
}

int
resp_header(const struct resp *r, const char *name, char *out, size_t cap)
{
    const char *p = r->headers;
    int count = 0;

    if (out != NULL && cap > 0)
        out[0] = '\0';
    while (*p != '\0') {
        size_t len = strcspn(p, "\n");
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (strlen(name) < len && p[strlen(name)] == ':' &&
            strncasecmp(p, name, strlen(name)) == 0) {
            if (count++ == 0 && out != NULL && cap > 0) {
                size_t vl;
                take_header(p, len, name, out, cap);
                vl = strlen(out);
                while (vl > 0 && (out[vl - 1] == ' ' || out[vl - 1] == '\t'))
                    out[--vl] = '\0';
            }
        }
        p += strcspn(p, "\n");
        p += *p == '\n';
    }
    return count;
}

/* Remembers the secrets of an answer: a new token, a session, a CSRF. */
static void
note_secrets(struct h *h, const struct resp *r)
{
    const char *c = strstr(r->set_cookie, "patd_session=");

    h_secret(h, jstr(r->json, "token"));
    h_secret(h, jstr(r->json, "csrf_token"));
    if (c != NULL) {
        char v[256];
        size_t n = strcspn(c + 13, ";");
        if (n > 0 && n < sizeof(v)) {
            memcpy(v, c + 13, n);
            v[n] = '\0';
            h_secret(h, v);
        }
    }
}

/* Whether headers ("Name: value", NULL-terminated) hold name. */
static bool
has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);

    for (; headers != NULL && *headers != NULL; headers++) {
        if (strncasecmp(*headers, name, n) == 0 && (*headers)[n] == ':')
            return true;
    }
    return false;
}

static struct curl_slist *
request_headers(const char *token, const char *body, const char *const *headers)
{
    struct curl_slist *l = NULL;
    char auth[H_TOKEN_CAP + 32];

    /* No "Expect: 100-continue" pause before larger bodies. */
    l = curl_slist_append(l, "Expect:");
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        l = curl_slist_append(l, auth);
    }
    if (body != NULL && !has_header(headers, "Content-Type"))
        l = curl_slist_append(l, "Content-Type: application/json");
    while (headers != NULL && *headers != NULL)
        l = curl_slist_append(l, *headers++);
    return l;
}

struct resp *
http(struct h *h, const char *method, const char *path, const char *token,
     const char *body, const char *const *headers)
{
    struct resp *r = calloc(1, sizeof(*r));
    struct curl_slist *hl = NULL;
    CURL *c = NULL;
    char *url = NULL;
    size_t ul;

    if (r == NULL || (r->body = calloc(1, 1)) == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    h_own(h, r, release_resp);
    snprintf(r->what, sizeof(r->what), "%s %.180s", method, path);
    ul = strlen(h->base) + strlen(path) + 1;
    url = malloc(ul);
    c = curl_easy_init();
    if (url == NULL || c == NULL)
        goto out;
    snprintf(url, ul, "%s%s", h->base, path);
    hl = request_headers(token, body, headers);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(body));
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        r->status = 0;
    r->json = json_loadb(r->body, r->len, 0, NULL);
    note_secrets(h, r);
out:
    curl_slist_free_all(hl);
    if (c != NULL)
        curl_easy_cleanup(c);
    free(url);
    return r;
}

struct resp *
httpf(struct h *h, const char *method, const char *path, const char *token,
      const char *fmt, ...)
{
    va_list ap;
    const char *body;

    va_start(ap, fmt);
    body = hvfmt(h, fmt, ap);
    va_end(ap);
    return http(h, method, path, token, body, NULL);
}

bool
h_expect_healthy(struct h *h, const char *file, int line)
{
    struct resp *r = http(h, "GET", "/healthz", NULL, NULL, NULL);

    return h_check(r->status == 200 && jstr(r->json, "status") != NULL &&
                       strcmp(jstr(r->json, "status"), "ok") == 0,
                   file, line, "the server is not healthy: %ld %.200s",
                   r->status, r->body);
}

static void
release_json(void *p)
{
    json_decref(p);
}

/* Every item of a list endpoint, following next_cursor; NULL on error. */
static json_t *
list_all(struct h *h, const char *path, const char *token)
{
    const char *sep = strchr(path, '?') ? "&" : "?";
    const char *cursor = NULL;
    json_t *all = json_array();
    int pages;

    h_own(h, all, release_json);
    for (pages = 0; pages < 1000; pages++) {
        struct resp *r =
            http(h, "GET",
                 cursor ? hfmt(h, "%s%slimit=200&cursor=%s", path, sep, cursor)
                        : hfmt(h, "%s%slimit=200", path, sep),
                 token, NULL, NULL);
        json_t *next;

        if (!EXPECT_STATUS(r, 200) || jitems(r) == NULL)
            return NULL;
        json_array_extend(all, jitems(r));
        next = json_object_get(r->json, "next_cursor");
        if (json_is_null(next))
            return all;
        if (!CHECK(json_is_string(next), "%s: bad next_cursor", r->what))
            return NULL;
        cursor = hstrdup(h, json_string_value(next));
    }
    CHECK(false, "%s: more than 1000 pages", path);
    return NULL;
}

long
h_count(struct h *h, const char *path, const char *token)
{
    json_t *all = list_all(h, path, token);

    return all ? (long)json_array_size(all) : -1;
}

long long
h_last_audit_id(struct h *h)
{
    json_t *all = list_all(h, "/v1/audit", h->admin_token), *v;
    long long max = 0;
    size_t i;

    if (all == NULL)
        return -1;
    json_array_foreach(all, i, v)
    {
        if (jint(v, "id") > max)
            max = jint(v, "id");
    }
    return max;
}

const char *
h_user(struct h *h, const char *username, const char *scopes_json,
       const char *password)
{
    const char *body =
        hfmt(h, "{\"username\":\"%s\"%s%s%s%s%s}", username,
             scopes_json ? ",\"scopes\":" : "", scopes_json ? scopes_json : "",
             password ? ",\"password\":\"" : "", password ? password : "",
             password ? "\"" : "");
    struct resp *r = http(h, "POST", "/v1/users", h->admin_token, body, NULL);

    h_secret(h, password);
    if (!EXPECT_STATUS(r, 201))
        return NULL;
    return jstr(r->json, "id");
}

const char *
h_token(struct h *h, const char *user_id, const char *name,
        const char *scopes_json, const char **id)
{
    struct resp *r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", user_id),
                           h->admin_token, "{\"name\":\"%s\",\"scopes\":%s}",
                           name, scopes_json);

    if (id != NULL)
        *id = jstr(r->json, "id");
    if (!EXPECT_STATUS(r, 201))
        return NULL;
    return jstr(r->json, "token");
}

bool
h_poll_status(struct h *h, const char *path, const char *token, long status,
              long timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;

    for (;;) {
        struct resp *r = http(h, "GET", path, token, NULL, NULL);
        if (r->status == status)
            return true;
        if (h_now_ms() > deadline)
            return false;
        h_poll_pause();
    }
}

/* Raw sockets. */

int
h_connect(struct h *h)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)h->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool
h_send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

/* Whether buf holds a whole answer: headers and Content-Length bytes. */
static bool
answer_complete(const char *buf, size_t len)
{
    const char *end = strstr(buf, "\r\n\r\n"), *cl;
    long n;

    if (end == NULL)
        return false;
    /* An interim answer ("100 Continue") ends with its headers. */
    if (strncmp(buf, "HTTP/1.", 7) == 0 && len > 12 && buf[9] == '1')
        return true;
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl == NULL || cl > end)
        return false;
    n = strtol(cl + 17, NULL, 10);
    return (size_t)(end + 4 - buf) + (size_t)n <= len;
}

long
h_read_answer(int fd, long timeout_ms, char *buf, size_t cap)
{
    long long deadline = h_now_ms() + timeout_ms;
    size_t len = 0;
    long status = 0;

    buf[0] = '\0';
    while (len + 1 < cap && !answer_complete(buf, len)) {
        struct pollfd p = {fd, POLLIN, 0};
        long long left = deadline - h_now_ms();
        ssize_t r;

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
    }
    if (strncmp(buf, "HTTP/1.", 7) == 0 && len > 12)
        status = strtol(buf + 9, NULL, 10);
    return status;
}
