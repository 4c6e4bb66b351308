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
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct bad {
    const char *what;
    const char *request;
};

static const struct bad cases[] = {
    {"two Content-Length headers",
     "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
     "\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\n{}   "},
    {"Content-Length with Transfer-Encoding",
     "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
     "\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
     "2\r\n{}\r\n0\r\n\r\n"},
    {"Transfer-Encoding other than chunked",
     "POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
     "\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
    {"white space before the colon",
     "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pat-Audience : a\r\n\r\n"},
    {"HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\n\r\n"},
    {"an encoded slash in the path",
     "GET /v1/me%2ftokens HTTP/1.1\r\nHost: x\r\n\r\n"},
    {"an encoded slash, upper case",
     "GET /v1/me%2Ftokens HTTP/1.1\r\nHost: x\r\n\r\n"},
    {"an encoded NUL in the path",
     "GET /healthz%00 HTTP/1.1\r\nHost: x\r\n\r\n"},
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
            h_send_all(fd, cases[i].request, strlen(cases[i].request));
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
