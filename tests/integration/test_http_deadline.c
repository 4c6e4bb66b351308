/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the whole-request deadline (slowloris; see
 * src/patd/deadline.h), with [server] request_deadline = 2 s and the
 * default idle timeout of 30 s, so that only the deadline can cut: real
 * slow clients on raw sockets trickle a request a byte every 400 ms.
 * A trickled request is cut at the deadline with no answer and logged
 * "unanswered":"deadline"; a slow request that makes it in time, and a
 * kept connection idle for longer than the deadline, are served.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define DEADLINE_MS 2000
#define STEP_MS     400

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Whether the server has ended fd: a read returns 0 or an error now. */
static bool
ended(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b[512];
    ssize_t n;

    if (poll(&p, 1, 0) <= 0)
        return false;
    n = read(fd, b, sizeof(b));
    return n <= 0;
}

/*
 * Sends prefix at once, then one byte of trickle every STEP_MS (cycling
 * through it) until the server ends the connection or limit_ms passes.
 * Returns the milliseconds from connect to the end, or -1 when it stayed
 * open.
 */
static long long
trickle(struct h *h, const char *prefix, const char *slow, long limit_ms)
{
    long long t0 = h_now_ms(), t;
    size_t i = 0, n = strlen(slow);
    int fd = h_connect(h);

    if (fd < 0)
        return -2;
    if (*prefix)
        h_send_all(fd, prefix, strlen(prefix));
    while ((t = h_now_ms() - t0) < limit_ms) {
        if (ended(fd)) {
            close(fd);
            return t;
        }
        /* A write into a closed connection fails: that is an end too. */
        if (send(fd, &slow[i++ % n], 1, MSG_NOSIGNAL) != 1) {
            close(fd);
            return h_now_ms() - t0;
        }
        sleep_ms(STEP_MS);
    }
    close(fd);
    return -1;
}

/* How many lines of the server's log hold both needles. */
static int
log_lines(struct h *h, const char *a, const char *b)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(h->log, "r");

    while (f != NULL && fgets(line, sizeof(line), f))
        n += strstr(line, a) != NULL && strstr(line, b) != NULL;
    if (f != NULL)
        fclose(f);
    return n;
}

/* Polls the log (buffered, written within a second) for a line. */
static bool
logged(struct h *h, const char *a, const char *b)
{
    long long deadline = h_now_ms() + 5000;

    while (h_now_ms() < deadline) {
        if (log_lines(h, a, b) > 0)
            return true;
        h_poll_pause();
    }
    return false;
}

int
main(int argc, char **argv)
{
    static const char *const env[] = {"PATD_SERVER_REQUEST_DEADLINE=2", NULL};
    struct h h;
    char buf[8192];

    h_init(&h, argc, argv);
    if (h_start(&h, env)) {
        long long t;

        h_section("headers trickled a byte at a time: cut at the deadline");
        t = trickle(&h, "GET /healthz?slow-headers HTTP/1.1\r\nHost: x\r\n",
                    "X-Slow: abcdefghijklmnopqrstuvwxyz\r\n", 8000);
        CHECK(t >= DEADLINE_MS - 100 && t <= DEADLINE_MS + 1500,
              "a trickled head ended after %lld ms (deadline %d ms; -1: "
              "never)",
              t, DEADLINE_MS);
        CHECK(logged(&h, "slow-headers", "\"unanswered\":\"deadline\""),
              "no \"unanswered\":\"deadline\" line for the trickled head");

        h_section("a trickled request line: cut at the deadline too");
        t = trickle(&h, "", "GET /healthz?slow-line-that-goes-on-and-on", 8000);
        CHECK(t >= DEADLINE_MS - 100 && t <= DEADLINE_MS + 1500,
              "a trickled request line ended after %lld ms", t);
        CHECK(logged(&h, "\"path\":\"\"", "\"unanswered\":\"deadline\""),
              "no line for a connection cut before its request line");

        h_section("a trickled body: cut at the deadline");
        t = trickle(&h,
                    "POST /v1/session HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: 200\r\n\r\n",
                    "{\"username\":\"x\"", 8000);
        CHECK(t >= DEADLINE_MS - 100 && t <= DEADLINE_MS + 1500,
              "a trickled body ended after %lld ms", t);

        h_section("slow but in time: answered");
        {
            static const char part1[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
            static const char part2[] = "X-A: b\r\nConnection: close\r\n\r\n";
            int fd = h_connect(&h);
            long st = -1;

            if (fd >= 0) {
                h_send_all(fd, part1, strlen(part1));
                sleep_ms(1200);
                h_send_all(fd, part2, strlen(part2));
                st = h_read_answer(fd, 5000, buf, sizeof(buf));
                close(fd);
            }
            CHECK(st == 200, "a head sent over 1.2 s: %ld", st);
        }

        h_section("a kept connection idle past the deadline is still served");
        {
            static const char req[] =
                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
            int fd = h_connect(&h);
            long st1 = -1, st2 = -1;

            if (fd >= 0) {
                h_send_all(fd, req, strlen(req));
                st1 = h_read_answer(fd, 5000, buf, sizeof(buf));
                sleep_ms(DEADLINE_MS + 1000);
                h_send_all(fd, req, strlen(req));
                st2 = h_read_answer(fd, 5000, buf, sizeof(buf));
            }
            CHECK(st1 == 200 && st2 == 200,
                  "two requests %d ms apart on one connection: %ld then %ld",
                  DEADLINE_MS + 1000, st1, st2);
            /* Its next request trickled: cut, counted from its line. */
            if (fd >= 0) {
                long long t0 = h_now_ms();
                static const char line[] = "GET /healthz?kept HTTP/1.1\r\n";
                static const char slow[] = "X-Slow: abcdefghijklmnop\r\n";
                size_t i = 0;

                h_send_all(fd, line, strlen(line));
                t = -1;
                while (h_now_ms() - t0 < 8000) {
                    if (ended(fd) || send(fd, &slow[i++ % (sizeof(slow) - 1)],
                                          1, MSG_NOSIGNAL) != 1) {
                        t = h_now_ms() - t0;
                        break;
                    }
                    sleep_ms(STEP_MS);
                }
                close(fd);
                CHECK(t >= DEADLINE_MS - 100 && t <= DEADLINE_MS + 1500,
                      "a trickled second request ended after %lld ms", t);
            }
        }
        EXPECT_HEALTHY(&h);
    }
    return h_finish(&h);
}
