/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/sso/start needs no credentials and writes a sign-in grant, so
 * it is bounded twice: per client address per [auth] window ([sso]
 * max_starts_per_ip) and in total ([sso] max_pending unexpired grants).
 * Beyond either bound the answer is 429 rate_limited with Retry-After and
 * nothing is written: the grants table is counted in the store itself
 * (sqlite3 or psql). After the window the same address starts again.
 * The provider here answers nobody (a start that passes the bounds ends
 * 502 provider_unreachable after writing its grant); tests/sso runs the
 * full sign-in against a real provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct h H;

/* Rows in the grants table, read with the database's own client. */
static long
grants(void)
{
    char cmd[1400], line[64] = "";
    long n = -1;
    FILE *p;

    if (strncmp(H.db, "postgres", 8) == 0)
        snprintf(cmd, sizeof(cmd),
                 "psql '%s' -Atc 'SELECT count(*) FROM grants' 2>/dev/null",
                 H.db);
    else
        snprintf(cmd, sizeof(cmd),
                 "sqlite3 '%s' 'SELECT count(*) FROM grants' 2>/dev/null",
                 H.db);
    p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    if (fgets(line, sizeof(line), p) != NULL)
        n = strtol(line, NULL, 10);
    pclose(p);
    return n;
}

/* Waits until a new window of secs seconds has just begun. */
static void
window_start(long secs)
{
    time_t t = time(NULL);

    while (time(NULL) == t || time(NULL) % secs != 0)
        usleep(20000);
}

static bool
limited(struct resp *r)
{
    return EXPECT_ERROR(r, 429, "rate_limited") &&
           CHECK(strtol(r->retry_after, NULL, 10) >= 1, "Retry-After '%s'",
                 r->retry_after);
}

int
main(int argc, char **argv)
{
    const char *per_ip[] = {"PATD_SERVER_PUBLIC_URL=http://127.0.0.1:9",
                            "PATD_SSO_ISSUER=http://127.0.0.1:1/realms/none",
                            "PATD_SSO_CLIENT_ID=patd",
                            "PATD_AUTH_WINDOW=4",
                            "PATD_SSO_MAX_STARTS_PER_IP=3",
                            NULL};
    const char *pending[] = {"PATD_SERVER_PUBLIC_URL=http://127.0.0.1:9",
                             "PATD_SSO_ISSUER=http://127.0.0.1:1/realms/none",
                             "PATD_SSO_CLIENT_ID=patd",
                             "PATD_SSO_MAX_PENDING=5", NULL};
    struct resp *r;
    long before, wait;
    int i;

    h_init(&H, argc, argv);
    h_section("starts per client address");
    if (!h_start(&H, per_ip))
        return h_finish(&H);
    before = grants();
    CHECK(before >= 0, "the grants table can be counted");
    window_start(4);
    for (i = 0; i < 3; i++) {
        r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
        EXPECT_STATUS(r, 502); /* passed the bound; the provider is down */
    }
    CHECK(grants() == before + 3, "three grants written (%ld)", grants());
    for (i = 0; i < 5; i++) {
        r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
        limited(r);
        CHECK(strstr(r->set_cookie, "patd_sso=") == NULL, "no state cookie");
    }
    CHECK(grants() == before + 3, "a refused start writes no grant (%ld)",
          grants());
    r = http(&H, "GET", "/metrics", H.admin_token, NULL, NULL);
    CHECK(strstr(r->body, "patd_rate_limited_total{limit=\"sso_start\"} 5") !=
              NULL,
          "counted in the metrics");
    /* Other routes are not held back by it. */
    r = http(&H, "GET", "/v1/sso", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
    wait = strtol(r->retry_after, NULL, 10);
    CHECK(wait >= 1 && wait <= 4, "Retry-After within the window (%ld)", wait);
    sleep((unsigned)wait + 1);
    r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
    EXPECT_STATUS(r, 502);
    CHECK(grants() == before + 4, "after the window a start goes on (%ld)",
          grants());
    EXPECT_HEALTHY(&H);
    h_stop(&H);

    h_section("outstanding sign-in grants, all clients");
    if (!h_start(&H, pending))
        return h_finish(&H);
    before = grants();
    for (i = 0; i < 12; i++) {
        r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
        if (before + i < 5)
            EXPECT_STATUS(r, 502);
        else
            limited(r);
    }
    CHECK(grants() == 5, "the table stops at max_pending (%ld)", grants());
    /* A callback still takes a grant (here: none of this browser's). */
    r = http(&H, "GET", "/v1/sso/callback?state=abc&code=def", NULL, NULL,
             NULL);
    EXPECT_STATUS(r, 400);
    EXPECT_HEALTHY(&H);
    return h_finish(&H);
}
