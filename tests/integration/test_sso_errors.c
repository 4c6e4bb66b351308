/* SPDX-License-Identifier: MIT */
/*
 * Single sign-on against a provider that is not there, and turned off
 * (issue 14): GET /v1/sso says what the sign-in page needs; with no
 * issuer, /v1/sso/start and /v1/sso/callback are 404 pages; with an
 * issuer nobody answers at, start is a 502 page and an sso.failed audit
 * event (provider_unreachable), and a callback without this browser's
 * state is a 400 page (state_mismatch) that creates nothing. The flows
 * with a real provider are in tests/sso (oidc-provider and Chromium).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct h H;

static const char *
last_sso_reason(void)
{
    struct resp *r = http(&H, "GET", "/v1/audit?action=sso.failed&limit=200",
                          H.admin_token, NULL, NULL);
    json_t *items = jitems(r), *ev, *d;

    if (items == NULL || json_array_size(items) == 0)
        return NULL;
    ev = json_array_get(items, json_array_size(items) - 1);
    d = json_object_get(ev, "detail");
    return jstr(d, "reason");
}

int
main(int argc, char **argv)
{
    static const char *const off[] = {NULL};
    const char *env[] = {"PATD_SERVER_PUBLIC_URL=http://127.0.0.1:9",
                         "PATD_SSO_ISSUER=http://127.0.0.1:1/realms/none",
                         "PATD_SSO_CLIENT_ID=patd", NULL};
    struct resp *r;
    long users;

    h_init(&H, argc, argv);
    h_section("single sign-on off");
    if (h_start(&H, off)) {
        r = http(&H, "GET", "/v1/sso", NULL, NULL, NULL);
        EXPECT_STATUS(r, 200);
        CHECK(r->json && !jbool(r->json, "enabled"), "enabled false");
        CHECK(jbool(r->json, "local_passwords"), "local passwords on");
        r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
        EXPECT_STATUS(r, 404);
        CHECK(strstr(r->content_type, "text/html") != NULL, "an HTML page");
        r = http(&H, "GET", "/v1/sso/callback?state=a&code=b", NULL, NULL,
                 NULL);
        EXPECT_STATUS(r, 404);
        h_stop(&H);
    }

    h_section("a provider that does not answer");
    if (!h_start(&H, env))
        return h_finish(&H);
    users = h_count(&H, "/v1/users", H.admin_token);
    r = http(&H, "GET", "/v1/sso", NULL, NULL, NULL);
    CHECK(r->json && jbool(r->json, "enabled"), "enabled true");
    r = http(&H, "GET", "/v1/sso/start", NULL, NULL, NULL);
    EXPECT_STATUS(r, 502);
    CHECK(strstr(r->body, "cannot be reached") != NULL, "says why: %s",
          r->body);
    CHECK(r->set_cookie[0] == '\0' ||
              strstr(r->set_cookie, "patd_sso=") == NULL,
          "no state cookie for a sign-in that never started");
    CHECK(last_sso_reason() &&
              strcmp(last_sso_reason(), "provider_unreachable") == 0,
          "audited as provider_unreachable");
    r = http(&H, "GET", "/v1/sso/callback?state=abc&code=def", NULL, NULL,
             NULL);
    EXPECT_STATUS(r, 400);
    CHECK(strstr(r->body, "not started in this browser") != NULL, "says why");
    CHECK(last_sso_reason() && strcmp(last_sso_reason(), "state_mismatch") == 0,
          "audited as state_mismatch");
    {
        const char *hdrs[] = {"Cookie: patd_sso=abc", NULL};
        r = http(&H, "GET", "/v1/sso/callback?state=abc&code=def", NULL, NULL,
                 hdrs);
        EXPECT_STATUS(r, 400);
        CHECK(last_sso_reason() &&
                  strcmp(last_sso_reason(), "unknown_state") == 0,
              "a state this server never gave: unknown_state");
    }
    CHECK(h_count(&H, "/v1/users", H.admin_token) == users, "no user created");
    /* Passwords still work while local_passwords is true. */
    r = http(&H, "POST", "/v1/session", NULL,
             "{\"username\":\"admin\",\"password\":\"wrong-password-1\"}",
             NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    EXPECT_HEALTHY(&H);
    return h_finish(&H);
}
