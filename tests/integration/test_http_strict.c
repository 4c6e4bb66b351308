/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the framing patd refuses (docs/internals/server.md):
 * requests that a proxy in front and patd could read differently, sent
 * on raw sockets because libcurl will not send them. Each must be
 * answered 400 invalid_request with Connection: close, and the
 * connection must then be closed by the server; the server stays
 * healthy and a well-formed request on a new connection is served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct bad {
    const char *what;
    const char *request;
    size_t len; /* NULs inside count */
};

/* A case from a string literal, whatever bytes it holds. */
#define CASE(what, request)                                                    \
    {                                                                          \
        what, request, sizeof(request) - 1                                     \
    }

static const struct bad cases[] = {
    CASE(
        "two Content-Length headers",
        "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        "\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\n{}   "),
    CASE(
        "Content-Length with Transfer-Encoding",
        "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        "\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\n{}\r\n0\r\n\r\n"),
    CASE(
        "Transfer-Encoding other than chunked",
        "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        "\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
    CASE("white space before the colon",
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pat-Audience : a\r\n\r\n"),
    CASE("HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\n\r\n"),
    CASE("an encoded slash in the path",
         "GET /v1/me%2ftokens HTTP/1.1\r\nHost: x\r\n\r\n"),
    CASE("an encoded slash, upper case",
         "GET /v1/me%2Ftokens HTTP/1.1\r\nHost: x\r\n\r\n"),
    CASE("an encoded NUL in the path",
         "GET /healthz%00 HTTP/1.1\r\nHost: x\r\n\r\n"),
    CASE("a bare LF after the request line",
         "GET /healthz HTTP/1.1\nHost: x\r\n\r\n"),
    CASE("a bare LF after a header",
         "GET /healthz HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"),
    CASE("a bare LF after the last header",
         "GET /healthz HTTP/1.1\r\nHost: x\n\r\n"),
    CASE("a bare LF as the empty line",
         "GET /healthz HTTP/1.1\r\nHost: x\r\n\n"),
    CASE("bare LF everywhere", "GET /healthz HTTP/1.1\nHost: x\n\n"),
    CASE("a bare LF after an empty value",
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A:\nX-B: c\r\n\r\n"),
    CASE("obs-fold with a space",
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n"),
    CASE("obs-fold with a tab",
         "GET /healthz HTTP/1.1\r\nX-A: one\r\n\ttwo\r\nHost: x\r\n\r\n"),
    CASE("obs-fold of the last header",
         "GET /healthz HTTP/1.1\r\nHost: x\r\n y\r\n\r\n"),
    CASE("a bare CR inside a value",
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"),
    CASE("a NUL inside a value",
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"),
};

/* Whether the server closed fd: a read returns 0 within timeout_ms. */
static bool
closed_by_server(int fd)
{
    char b[256];
    long long deadline = h_now_ms() + 5000;

    while (h_now_ms() < deadline) {
        ssize_t n = read(fd, b, sizeof(b));
        if (n == 0)
            return true;
        if (n < 0)
            return true; /* reset: closed as well */
    }
    return false;
}

/*
 * Sends a GET /healthz whose head (request line to empty line) is size
 * bytes, padded by one header, or by headers of line bytes each when
 * line is not 0; returns the status and leaves the answer in buf.
 */
static long
sized_head(struct h *h, size_t size, size_t line, char *buf, size_t cap)
{
    static const char start[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                "Connection: close\r\n";
    char *req = malloc(size + 512);
    size_t w = sizeof(start) - 1, k = 0;
    long st = -1;
    int fd;

    if (req == NULL || size < w + 16)
        return free(req), -1;
    memcpy(req, start, w);
    while (line >= 16 && line <= 400 && size - w >= line + 48 + 2)
        w += (size_t)snprintf(req + w, 512, "X-H%04zu: %0*d\r\n", k++,
                              (int)line - 10, 0);
    /* One last header takes up the rest: "X-Pad: " ... CR LF CR LF. */
    memcpy(req + w, "X-Pad: ", 7);
    memset(req + w + 7, 'p', size - w - 7 - 4);
    memcpy(req + size - 4, "\r\n\r\n", 4);
    fd = h_connect(h);
    if (fd >= 0) {
        h_send_all(fd, req, size);
        st = h_read_answer(fd, 5000, buf, cap);
        close(fd);
    }
    free(req);
    return st;
}

int
main(int argc, char **argv)
{
    struct h h;
    char buf[8192];
    size_t i;

    h_init(&h, argc, argv);
    if (h_start(&h, NULL)) {
        h_section("framing a proxy could read differently: 400 and close");
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            int fd = h_connect(&h);
            long st;

            if (!CHECK(fd >= 0, "connect for %s", cases[i].what))
                continue;
            h_send_all(fd, cases[i].request, cases[i].len);
            st = h_read_answer(fd, 5000, buf, sizeof(buf));
            CHECK(st == 400 && strstr(buf, "\"invalid_request\"") != NULL,
                  "%s: expected 400 invalid_request, got %ld: %.300s",
                  cases[i].what, st, buf);
            CHECK(strstr(buf, "Connection: close") != NULL ||
                      strstr(buf, "connection: close") != NULL,
                  "%s: no Connection: close in %.300s", cases[i].what, buf);
            CHECK(closed_by_server(fd), "%s: the connection stayed open",
                  cases[i].what);
            close(fd);
        }
        h_section("well-formed requests are still served");
        {
            int fd = h_connect(&h);
            static const char ok[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                     "Connection: close\r\n\r\n";
            long st = -1;
            if (fd >= 0) {
                h_send_all(fd, ok, strlen(ok));
                st = h_read_answer(fd, 5000, buf, sizeof(buf));
                close(fd);
            }
            CHECK(st == 200, "GET /healthz after them: %ld", st);
        }
        h_section("the head limit: answered up to it, JSON 431 past it");
        {
            /* max_header_bytes is 16384 by default, the pool 24576. */
            long st = sized_head(&h, 16384, 0, buf, sizeof(buf));
            CHECK(st == 200, "a head of exactly 16384 bytes: %ld", st);
            st = sized_head(&h, 16384, 256, buf, sizeof(buf));
            CHECK(st == 200, "lines of 256 bytes in 16384: %ld %.200s", st,
                  buf);
            st = sized_head(&h, 16383, 200, buf, sizeof(buf));
            CHECK(st == 200, "lines of 200 bytes in 16383: %ld %.200s", st,
                  buf);
            st = sized_head(&h, 16385, 0, buf, sizeof(buf));
            CHECK(st == 431 && strstr(buf, "\"invalid_request\"") != NULL &&
                      strstr(buf, "application/json") != NULL,
                  "a head of 16385 bytes: %ld %.300s", st, buf);
            CHECK(strstr(buf, "Connection: close") != NULL,
                  "431 without Connection: close: %.300s", buf);
            st = sized_head(&h, 17000, 256, buf, sizeof(buf));
            CHECK(st == 431 && strstr(buf, "\"invalid_request\"") != NULL,
                  "lines of 256 bytes in 17000: %ld %.300s", st, buf);
            st = sized_head(&h, 20000, 0, buf, sizeof(buf));
            CHECK(st == 431 && strstr(buf, "\"invalid_request\"") != NULL,
                  "a head of 20000 bytes: %ld %.300s", st, buf);
            /* Within the limit, but too many lines for the pool: 431. */
            st = sized_head(&h, 12000, 64, buf, sizeof(buf));
            CHECK(st == 431, "lines of 64 bytes in 12000: %ld", st);
            /*
             * Past libmicrohttpd's pool it answers itself, with its own
             * HTML (docs/internals/server.md).
             */
            st = sized_head(&h, 200000, 0, buf, sizeof(buf));
            CHECK(st == 431, "a head of 200000 bytes: %ld", st);
            EXPECT_HEALTHY(&h);
        }
        h_section("a request that never reached the handler is logged");
        {
            static const char part[] = "GET /left-half-way HTTP/1.1\r\n"
                                       "Host: x\r\nX-Half: ";
            int fd = h_connect(&h);
            if (fd >= 0) {
                h_send_all(fd, part, strlen(part));
                h_poll_pause();
                close(fd);
            }
        }
        h_section("the access log is buffered, and written within a second");
        {
            long long deadline = h_now_ms() + 5000;
            bool seen = false, half = false;
            char line[512];
            FILE *f;

            while (!(seen && half) && h_now_ms() < deadline) {
                f = fopen(h.log, "r");
                while (f != NULL && fgets(line, sizeof(line), f)) {
                    seen |= strstr(line, "\"path\":\"/healthz\"") != NULL &&
                            strstr(line, "\"status\":200") != NULL;
                    half |= strstr(line, "/left-half-way") != NULL &&
                            strstr(line, "\"unanswered\":") != NULL;
                }
                if (f != NULL)
                    fclose(f);
                if (!(seen && half))
                    h_poll_pause();
            }
            CHECK(seen, "no access log line for GET /healthz in %s", h.log);
            CHECK(half, "no 'unanswered' line for a request left half-way");
        }
        EXPECT_HEALTHY(&h);
    }
    return h_finish(&h);
}
