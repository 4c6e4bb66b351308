/* SPDX-License-Identifier: MIT */
/*
 * The integration-test harness, part three (see harness_verify.h): the
 * helpers of the verification tests. Requests go through http() of
 * harness_http.c, except the keep-alive client, which keeps one libcurl
 * handle for a whole loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness_verify.h"

#define MAX_HEADERS 8

struct resp *
v_auth(struct h *h, const char *method, const char *query, const char *token,
       const char *const *headers)
{
    const char *body =
        strcmp(method, "POST") == 0 ? "{\"ignored\":true}" : NULL;

    return http(h, method, hfmt(h, "/v1/auth%s", query ? query : ""), token,
                body, headers);
}

struct resp *
v_form(struct h *h, const char *path, const char *token, const char *form,
       const char *const *headers)
{
    const char *all[MAX_HEADERS];
    size_t n = 0;

    all[n++] = "Content-Type: application/x-www-form-urlencoded";
    while (headers != NULL && *headers != NULL && n < MAX_HEADERS - 1)
        all[n++] = *headers++;
    all[n] = NULL;
    return http(h, "POST", path, token, form, all);
}

long
v_raw(struct h *h, const char *request, char *buf, size_t cap)
{
    int fd = h_connect(h);
    long status = 0;

    buf[0] = '\0';
    if (fd < 0)
        return 0;
    if (h_send_all(fd, request, strlen(request)))
        status = h_read_answer(fd, 10000, buf, cap);
    close(fd);
    return status;
}

struct resp *
v_metrics(struct h *h)
{
    return http(h, "GET", "/metrics", NULL, NULL, NULL);
}

double
v_sample(const struct resp *m, const char *series)
{
    size_t n = strlen(series);
    const char *p = m->body;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

/* CRC-32 (IEEE 802.3, as zlib's crc32) of s, bit by bit. */
static uint32_t
crc32_of(const char *s, size_t len)
{
    uint32_t c = 0xffffffffu;
    size_t i;
    int k;

    for (i = 0; i < len; i++) {
        c ^= (unsigned char)s[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

const char *
v_forge(struct h *h)
{
    static const char b62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static unsigned long long state;
    char tok[64] = "pat_";
    uint32_t crc;
    const char *out;
    int i;

    if (state == 0)
        state = ((unsigned long long)time(NULL) << 20) ^
                (unsigned long long)getpid() ^ 0x9e3779b97f4a7c15ull;
    for (i = 0; i < 32; i++) {
        /* xorshift64*: random enough to never repeat in a test run. */
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        tok[4 + i] = b62[((state * 2685821657736338717ull) >> 33) % 62];
    }
    crc = crc32_of(tok, 36);
    for (i = 5; i >= 0; i--) {
        tok[36 + i] = b62[crc % 62];
        crc /= 62;
    }
    tok[42] = '\0';
    out = hstrdup(h, tok);
    h_secret(h, out);
    return out;
}

bool
v_is_time(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    size_t i;

    if (s == NULL || strlen(s) != sizeof(shape) - 1)
        return false;
    for (i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

long long
v_epoch(const char *s)
{
    struct tm tm;

    if (!v_is_time(s))
        return -1;
    memset(&tm, 0, sizeof(tm));
    if (strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
        return -1;
    return (long long)timegm(&tm);
}

static const char *const id_headers[] = {"X-Pat-User-Id", "X-Pat-Username",
                                         "X-Pat-Token-Id", "X-Pat-Scopes",
                                         "X-Pat-Expires"};

bool
v_expect_identity(const struct resp *r, const struct v_identity *id,
                  const char *label, const char *file, int line)
{
    const char *want[5] = {NULL};
    bool ok = true;
    size_t i;

    if (id != NULL) {
        want[0] = id->user_id;
        want[1] = id->username;
        want[2] = id->token_id;
        want[3] = id->scopes;
        want[4] = id->expires;
        ok = h_check(r->status == 200, file, line,
                     "%s: %s: an allow must be exactly 200, got %ld: %.300s",
                     label, r->what, r->status, r->body);
    }
    for (i = 0; i < 5; i++) {
        char got[512];
        int n = resp_header(r, id_headers[i], got, sizeof(got));

        if (id != NULL)
            ok &=
                h_check(n == 1 && want[i] != NULL && strcmp(got, want[i]) == 0,
                        file, line,
                        "%s: %s: %s: expected '%s' once, got '%s' %d "
                        "time(s)",
                        label, r->what, id_headers[i],
                        want[i] ? want[i] : "(null)", got, n);
        else
            ok &= h_check(n <= 1 && got[0] == '\0', file, line,
                          "%s: %s: a refusal (%ld) carries %s '%s' %d "
                          "time(s)",
                          label, r->what, r->status, id_headers[i], got, n);
    }
    if (id != NULL && id->expires[0] != '\0')
        ok &= h_check(v_is_time(id->expires), file, line,
                      "%s: X-Pat-Expires '%s' is not RFC 3339", label,
                      id->expires);
    return ok;
}

/* The keep-alive client. */

struct v_conn {
    struct h *h;
    CURL *curl;
    long connects;
};

static void
release_conn(void *p)
{
    struct v_conn *c = p;

    v_conn_close(c);
    free(c);
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

struct v_conn *
v_conn_new(struct h *h)
{
    struct v_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    h_own(h, c, release_conn);
    c->h = h;
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        return c;
    curl_easy_setopt(c->curl, CURLOPT_URL, hfmt(h, "%s/v1/auth", h->base));
    curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, discard);
    return c;
}

long
v_conn_auth(struct v_conn *c, const char *token, const char *const *headers)
{
    struct curl_slist *hl = NULL;
    char auth[H_TOKEN_CAP + 32];
    long status = 0, opened = 0;

    if (c->curl == NULL)
        return 0;
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    while (headers != NULL && *headers != NULL)
        hl = curl_slist_append(hl, *headers++);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
    if (curl_easy_perform(c->curl) == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &opened);
        c->connects += opened;
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    return status;
}

long
v_conn_connects(const struct v_conn *c)
{
    return c->connects;
}

void
v_conn_close(struct v_conn *c)
{
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}
