/* SPDX-License-Identifier: MIT */
/*
 * Integration test of web sessions: sign-in (cookie attributes, CSRF
 * token), the cookie as a credential for reads, the X-CSRF-Token rule on
 * every state change made with the cookie (missing or wrong: 403 and
 * nothing done), sign-out, wrong credentials answered alike for unknown
 * users, and the sign-in rate limits per user and per address (server
 * started with 3 failures per user and 10 per address).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PER_USER   3
#define PER_IP     10
#define PAT_PW_MAX 256 /* PAT_PASSWORD_MAX */

struct session {
    const char *cookie_hdr; /* "Cookie: patd_session=..." */
    const char *csrf_hdr;   /* "X-CSRF-Token: ..." */
    const char *user_id;
};

struct ctx {
    struct h h;
    const char *sam_id;
    long ip_failures; /* failed sign-ins from this address so far */
};

static bool
str_is(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Signs in; on 200 fills s from the cookie and the body. */
static struct resp *
sign_in(struct ctx *c, const char *user, const char *password,
        struct session *s)
{
    struct h *h = &c->h;
    struct resp *r =
        httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    const char *v = strstr(r->set_cookie, "patd_session=");

    if (r->status == 401)
        c->ip_failures++;
    if (s != NULL && r->status == 200 && v != NULL) {
        size_t n = strcspn(v, ";");
        s->cookie_hdr = hfmt(h, "Cookie: %.*s", (int)n, v);
        s->csrf_hdr = hfmt(
            h, "X-CSRF-Token: %s",
            jstr(r->json, "csrf_token") ? jstr(r->json, "csrf_token") : "");
        s->user_id = jstr(json_object_get(r->json, "user"), "id");
    }
    return r;
}

/* A request with the session cookie and, when csrf is set, a CSRF header. */
static struct resp *
with_cookie(struct ctx *c, const struct session *s, const char *method,
            const char *path, const char *body, const char *csrf)
{
    const char *hdrs[3] = {s->cookie_hdr, csrf, NULL};

    return http(&c->h, method, path, NULL, body, hdrs);
}

static void
test_sign_in(struct ctx *c, struct session *s)
{
    struct resp *r;

    h_section("POST /v1/session");
    r = sign_in(c, "sam", "sam's password", s);
    EXPECT_STATUS(r, 200);
    CHECK(strstr(r->set_cookie, "patd_session=") == r->set_cookie,
          "Set-Cookie: '%s'", r->set_cookie);
    CHECK(strstr(r->set_cookie, "HttpOnly") != NULL,
          "Set-Cookie without HttpOnly: '%s'", r->set_cookie);
    CHECK(strstr(r->set_cookie, "SameSite=Strict") != NULL,
          "Set-Cookie without SameSite=Strict: '%s'", r->set_cookie);
    CHECK(strstr(r->set_cookie, "Path=/") != NULL,
          "Set-Cookie without Path=/: '%s'", r->set_cookie);
    CHECK(jstr(r->json, "csrf_token") != NULL &&
              strlen(jstr(r->json, "csrf_token")) >= 16,
          "no csrf_token: %s", r->body);
    CHECK(str_is(s->user_id, c->sam_id) &&
              str_is(jstr(json_object_get(r->json, "user"), "username"), "sam"),
          "the answer's user: %s", r->body);
    CHECK(strstr(r->body, "patd_session") == NULL,
          "the body repeats the cookie: %s", r->body);

    r = with_cookie(c, s, "GET", "/v1/me", NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(r->json, "id"), c->sam_id), "GET /v1/me by cookie: %s",
          r->body);
    r = with_cookie(c, s, "GET", "/v1/me/tokens", NULL, NULL);
    EXPECT_STATUS(r, 200);
    /* A safe method needs no CSRF header, and ignores a wrong one. */
    r = with_cookie(c, s, "GET", "/v1/me", NULL, "X-CSRF-Token: wrong");
    EXPECT_STATUS(r, 200);
    /* /v1/token describes a PAT: a session has none. */
    r = with_cookie(c, s, "GET", "/v1/token", NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
}

static void
test_csrf(struct ctx *c, const struct session *s)
{
    struct h *h = &c->h;
    struct resp *r;
    static const char body[] = "{\"name\":\"web\",\"scopes\":[\"patd:self\"]}";
    const char *wrong = "X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *id, *tok;
    long before =
        h_count(h, hfmt(h, "/v1/tokens?status=all&user_id=%s", c->sam_id),
                h->admin_token);
    long long audit = h_last_audit_id(h);

    h_section("X-CSRF-Token on state changes made with the cookie");
    r = with_cookie(c, s, "POST", "/v1/me/tokens", body, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "POST", "/v1/me/tokens", body, wrong);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "POST", "/v1/me/tokens", body, "X-CSRF-Token: x");
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "POST", "/v1/me/tokens", body,
                    hfmt(h, "%sx", s->csrf_hdr));
    EXPECT_ERROR(r, 403, "forbidden");
    CHECK(h_count(h, hfmt(h, "/v1/tokens?status=all&user_id=%s", c->sam_id),
                  h->admin_token) == before,
          "a POST without the right CSRF token created a token");
    CHECK(h_last_audit_id(h) == audit, "a refused POST wrote audit");
    EXPECT_HEALTHY(h);

    r = with_cookie(c, s, "POST", "/v1/me/tokens", body, s->csrf_hdr);
    EXPECT_STATUS(r, 201);
    id = jstr(r->json, "id");
    tok = jstr(r->json, "token");
    CHECK(str_is(jstr(r->json, "user_id"), c->sam_id),
          "a token made by cookie belongs to sam: %s", r->body);
    r = http(h, "GET", "/v1/me", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    if (id == NULL)
        return;

    /* PATCH and DELETE need it too. */
    r = with_cookie(c, s, "PATCH", hfmt(h, "/v1/me/tokens/%s", id),
                    "{\"name\":\"hijacked\"}", NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "DELETE", hfmt(h, "/v1/me/tokens/%s", id), NULL,
                    wrong);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", id),
                    "{}", NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(r->json, "name"), "web"),
          "a refused PATCH renamed the token: %s", r->body);
    r = with_cookie(c, s, "PATCH", hfmt(h, "/v1/me/tokens/%s", id),
                    "{\"name\":\"web-2\"}", s->csrf_hdr);
    EXPECT_STATUS(r, 200);
    r = with_cookie(c, s, "DELETE", hfmt(h, "/v1/me/tokens/%s", id), NULL,
                    s->csrf_hdr);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");

    /* A user's session on admin endpoints. */
    r = with_cookie(c, s, "GET", "/v1/users", NULL, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "POST", "/v1/users", "{\"username\":\"mallory\"}",
                    s->csrf_hdr);
    EXPECT_ERROR(r, 403, "forbidden");
}

static void
test_admin_session(struct ctx *c)
{
    struct h *h = &c->h;
    struct session a;
    struct resp *r;

    h_section("an admin's session");
    memset(&a, 0, sizeof(a));
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", h->admin_id), h->admin_token,
              "{\"password\":\"admin password\"}");
    EXPECT_STATUS(r, 200);
    r = sign_in(c, "admin", "admin password", &a);
    if (!EXPECT_STATUS(r, 200))
        return;
    r = with_cookie(c, &a, "GET", "/v1/users", NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = with_cookie(c, &a, "POST", "/v1/users", "{\"username\":\"viacookie\"}",
                    NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, &a, "POST", "/v1/users", "{\"username\":\"viacookie\"}",
                    a.csrf_hdr);
    EXPECT_STATUS(r, 201);
}

static void
test_sign_out(struct ctx *c, const struct session *s)
{
    struct h *h = &c->h;
    struct resp *r;
    struct session other;

    h_section("DELETE /v1/session");
    memset(&other, 0, sizeof(other));
    r = sign_in(c, "sam", "sam's password", &other);
    EXPECT_STATUS(r, 200);
    CHECK(other.cookie_hdr && s->cookie_hdr &&
              strcmp(other.cookie_hdr, s->cookie_hdr) != 0,
          "two sign-ins gave the same cookie");
    r = with_cookie(c, s, "DELETE", "/v1/session", NULL, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = with_cookie(c, s, "GET", "/v1/me", NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = with_cookie(c, s, "DELETE", "/v1/session", NULL, s->csrf_hdr);
    EXPECT_STATUS(r, 204);
    CHECK(strstr(r->set_cookie, "patd_session=;") != NULL &&
              strstr(r->set_cookie, "Max-Age=0") != NULL,
          "sign-out does not clear the cookie: '%s'", r->set_cookie);
    r = with_cookie(c, s, "GET", "/v1/me", NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    CHECK(strstr(r->www_auth, "Bearer realm=\"patd\"") != NULL,
          "401 WWW-Authenticate: '%s'", r->www_auth);
    r = with_cookie(c, s, "POST", "/v1/me/tokens",
                    "{\"name\":\"late\",\"scopes\":[\"patd:self\"]}",
                    s->csrf_hdr);
    EXPECT_ERROR(r, 401, "invalid_token");
    /* The other session lives on. */
    r = with_cookie(c, &other, "GET", "/v1/me", NULL, NULL);
    EXPECT_STATUS(r, 200);
    /* A made-up cookie. */
    {
        const char *hdrs[] = {
            "Cookie: patd_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            NULL};
        r = http(h, "GET", "/v1/me", NULL, NULL, hdrs);
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    /* Disabling the user ends the session. */
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->sam_id), h->admin_token,
              "{\"disabled\":true}");
    EXPECT_STATUS(r, 200);
    r = with_cookie(c, &other, "GET", "/v1/me", NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->sam_id), h->admin_token,
              "{\"disabled\":false}");
    EXPECT_STATUS(r, 200);
}

static void
test_wrong_credentials(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r, *u, *n;
    long long audit = h_last_audit_id(h);

    h_section("wrong credentials");
    r = sign_in(c, "tess", "not her password", NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    CHECK(str_is(jstr(r->json, "error_description"),
                 "wrong username or password"),
          "wrong password: %s", r->body);
    CHECK(r->set_cookie[0] == '\0', "a failed sign-in sets a cookie: '%s'",
          r->set_cookie);
    u = sign_in(c, "nobody", "whatever password", NULL);
    EXPECT_ERROR(u, 401, "invalid_token");
    CHECK(strcmp(u->body, r->body) == 0,
          "an unknown user is answered unlike a wrong password: %s vs %s",
          u->body, r->body);
    n = sign_in(c, "nopw", "whatever password", NULL);
    EXPECT_ERROR(n, 401, "invalid_token");
    CHECK(strcmp(n->body, r->body) == 0,
          "a user without a password is answered unlike a wrong password: "
          "%s",
          n->body);
    /* Bad bodies are 400s, and no failure. */
    r = httpf(h, "POST", "/v1/session", NULL, "{\"username\":\"tess\"}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":\"tess\",\"password\":\"x\",\"remember\":true}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":1,\"password\":2}");
    EXPECT_ERROR(r, 400, "invalid_request");
    CHECK(h_last_audit_id(h) == audit, "failed sign-ins wrote audit (%lld)",
          h_last_audit_id(h));
    EXPECT_HEALTHY(h);
}

/*
 * Over-long passwords are refused, never truncated: a 256-byte password
 * plus "JUNK" must not sign in (issue #11.7).
 */
static void
test_long_password(struct ctx *c)
{
    struct h *h = &c->h;
    char pw[PAT_PW_MAX + 1], longer[PAT_PW_MAX + 8];
    const char *id;
    struct resp *r;
    long before = c->ip_failures;

    h_section("passwords longer than 256 bytes");
    memset(pw, 'p', PAT_PW_MAX);
    pw[PAT_PW_MAX] = '\0';
    snprintf(longer, sizeof(longer), "%sJUNK", pw);
    id = h_user(h, "longpw", NULL, pw);
    if (id == NULL)
        return;
    r = sign_in(c, "longpw", longer, NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    CHECK(strstr(r->body, "at most 256 bytes") != NULL,
          "the refusal does not say why: %s", r->body);
    CHECK(r->set_cookie[0] == '\0', "an over-long password set a cookie");
    r = sign_in(c, "longpw", pw, NULL);
    EXPECT_STATUS(r, 200);
    /* Setting one is refused too, through create and update. */
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", id), h->admin_token,
              "{\"password\":\"%s\"}", longer);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", "/v1/users", h->admin_token,
              "{\"username\":\"longpw2\",\"password\":\"%s\"}", longer);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = sign_in(c, "longpw", pw, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(c->ip_failures == before, "an over-long password counted as a "
                                    "failed sign-in");
    EXPECT_HEALTHY(h);
}

/* A sign-in with extra request headers (NULL-terminated). */
static struct resp *
sign_in_with(struct ctx *c, const char *const *hdrs)
{
    return http(&c->h, "POST", "/v1/session", NULL,
                "{\"username\":\"sam\",\"password\":\"sam's password\"}", hdrs);
}

/*
 * Login CSRF and cross-site state changes (issue #11.5): sign-in needs
 * a JSON Content-Type and, like sign-out and every state change made
 * with the cookie, is refused when Origin is another site's or
 * Sec-Fetch-Site says cross-site. No Origin (curl, scripts): allowed.
 */
static void
test_cross_site(struct ctx *c)
{
    struct h *h = &c->h;
    struct session s;
    struct resp *r;
    const char *own = hfmt(h, "Origin: %s", h->base);
    const char *evil = "Origin: https://evil.example";
    const char *body = "{\"name\":\"xsite\",\"scopes\":[\"patd:self\"]}";
    long before;

    h_section("sign-in: Content-Type must be application/json");
    {
        const char *plain[] = {"Content-Type: text/plain", NULL};
        const char *form[] = {"Content-Type: application/x-www-form-urlencoded",
                              NULL};
        const char *charset[] = {"Content-Type: application/json; "
                                 "charset=utf-8",
                                 NULL};
        r = sign_in_with(c, plain);
        EXPECT_ERROR(r, 400, "invalid_request");
        CHECK(strstr(r->body, "Content-Type must be application/json") != NULL,
              "unclear refusal: %s", r->body);
        CHECK(r->set_cookie[0] == '\0', "a text/plain sign-in set a cookie");
        r = sign_in_with(c, form);
        EXPECT_ERROR(r, 400, "invalid_request");
        CHECK(r->set_cookie[0] == '\0', "a form sign-in set a cookie");
        r = sign_in_with(c, charset);
        EXPECT_STATUS(r, 200);
    }

    h_section("sign-in: another site's Origin or Sec-Fetch-Site is refused");
    {
        const char *e[] = {evil, NULL};
        const char *null_origin[] = {"Origin: null", NULL};
        const char *fetch_site[] = {"Sec-Fetch-Site: cross-site", NULL};
        const char *o[] = {own, "Sec-Fetch-Site: same-origin", NULL};
        const char *port[] = {"Origin: http://127.0.0.1:1", NULL};
        r = sign_in_with(c, e);
        EXPECT_ERROR(r, 403, "forbidden");
        CHECK(r->set_cookie[0] == '\0', "a cross-site sign-in set a cookie");
        r = sign_in_with(c, null_origin);
        EXPECT_ERROR(r, 403, "forbidden");
        r = sign_in_with(c, fetch_site);
        EXPECT_ERROR(r, 403, "forbidden");
        r = sign_in_with(c, port);
        EXPECT_ERROR(r, 403, "forbidden");
        r = sign_in_with(c, o);
        EXPECT_STATUS(r, 200);
    }

    h_section("cookie state changes from another site are refused");
    memset(&s, 0, sizeof(s));
    r = sign_in(c, "sam", "sam's password", &s);
    if (!EXPECT_STATUS(r, 200))
        return;
    before = h_count(h, hfmt(h, "/v1/tokens?status=all&user_id=%s", c->sam_id),
                     h->admin_token);
    {
        const char *e[] = {s.cookie_hdr, s.csrf_hdr, evil, NULL};
        const char *fs[] = {s.cookie_hdr, s.csrf_hdr,
                            "Sec-Fetch-Site: cross-site", NULL};
        const char *o[] = {s.cookie_hdr, s.csrf_hdr, own, NULL};
        r = http(h, "POST", "/v1/me/tokens", NULL, body, e);
        EXPECT_ERROR(r, 403, "forbidden");
        r = http(h, "POST", "/v1/me/tokens", NULL, body, fs);
        EXPECT_ERROR(r, 403, "forbidden");
        CHECK(h_count(h, hfmt(h, "/v1/tokens?status=all&user_id=%s", c->sam_id),
                      h->admin_token) == before,
              "a cross-site request made a token");
        r = http(h, "DELETE", "/v1/session", NULL, NULL, e);
        EXPECT_ERROR(r, 403, "forbidden");
        CHECK(r->set_cookie[0] == '\0', "a cross-site sign-out set a cookie");
        /* Reads stay allowed: they change nothing. */
        r = http(h, "GET", "/v1/me", NULL, NULL, e);
        EXPECT_STATUS(r, 200);
        /* The page's own origin works. */
        r = http(h, "POST", "/v1/me/tokens", NULL, body, o);
        EXPECT_STATUS(r, 201);
        r = http(h, "DELETE", "/v1/session", NULL, NULL, o);
        EXPECT_STATUS(r, 204);
    }
    /* A PAT is no ambient credential: Origin does not matter to it. */
    {
        const char *e[] = {evil, NULL};
        r = http(h, "GET", "/v1/me", h->admin_token, NULL, e);
        EXPECT_STATUS(r, 200);
    }
    EXPECT_HEALTHY(h);
}

/* With [server] public_url, only its origin is the server's own. */
static void
test_public_url(struct ctx *c)
{
    static const char *const env[] = {
        "PATD_LOGIN_MAX_FAILURES_PER_USER=3",
        "PATD_LOGIN_MAX_FAILURES_PER_IP=10",
        "PATD_SERVER_PUBLIC_URL=https://patd.example.com/base/",
        NULL,
    };
    struct h *h = &c->h;
    struct resp *r;

    h_section("[server] public_url decides the own origin");
    h_stop(h);
    if (!h_start(h, env))
        return;
    {
        const char *host[] = {hfmt(h, "Origin: %s", h->base), NULL};
        const char *pub[] = {"Origin: https://patd.example.com", NULL};
        const char *http_pub[] = {"Origin: http://patd.example.com", NULL};
        r = sign_in_with(c, host);
        EXPECT_ERROR(r, 403, "forbidden");
        r = sign_in_with(c, http_pub);
        EXPECT_ERROR(r, 403, "forbidden");
        r = sign_in_with(c, pub);
        EXPECT_STATUS(r, 200);
    }
    EXPECT_HEALTHY(h);
}

static void
test_rate_limit(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    long ra;
    int i;

    h_section("sign-in rate limit per user");
    for (i = 0; i < PER_USER; i++) {
        r = sign_in(c, "rita", "wrong password", NULL);
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    r = sign_in(c, "rita", "rita's password", NULL);
    EXPECT_ERROR(r, 429, "rate_limited");
    ra = strtol(r->retry_after, NULL, 10);
    CHECK(r->retry_after[0] != '\0' && ra >= 1 && ra <= 300,
          "429 with Retry-After '%s'", r->retry_after);
    CHECK(r->set_cookie[0] == '\0', "a refused sign-in sets a cookie");
    r = sign_in(c, "rita", "wrong password", NULL);
    EXPECT_ERROR(r, 429, "rate_limited");
    EXPECT_HEALTHY(h);

    h_section("another user from the same address, until its limit");
    CHECK(c->ip_failures < PER_IP, "test bug: %ld failures already",
          c->ip_failures);
    r = sign_in(c, "tess", "tess's password", NULL);
    EXPECT_STATUS(r, 200);
    for (i = 0; c->ip_failures < PER_IP && i < PER_IP; i++) {
        r = sign_in(c, hfmt(h, "ghost%d", i), "wrong password", NULL);
        EXPECT_ERROR(r, 401, "invalid_token");
    }
    r = sign_in(c, "tess", "tess's password", NULL);
    EXPECT_ERROR(r, 429, "rate_limited");
    ra = strtol(r->retry_after, NULL, 10);
    CHECK(ra >= 1 && ra <= 300, "per-address 429 with Retry-After '%s'",
          r->retry_after);
    /* Tokens are not affected by the sign-in limits. */
    r = http(h, "GET", "/v1/me", h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

int
main(int argc, char **argv)
{
    static const char *const env[] = {
        "PATD_LOGIN_MAX_FAILURES_PER_USER=3",
        "PATD_LOGIN_MAX_FAILURES_PER_IP=10",
        NULL,
    };
    struct ctx c;
    struct h *h = &c.h;
    struct session s;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    h_init(h, argc, argv);
    if (h_start(h, env)) {
        c.sam_id = h_user(h, "sam", NULL, "sam's password");
        h_user(h, "tess", NULL, "tess's password");
        h_user(h, "rita", NULL, "rita's password");
        h_user(h, "nopw", NULL, NULL);
        if (c.sam_id != NULL) {
            test_sign_in(&c, &s);
            if (s.cookie_hdr != NULL) {
                test_csrf(&c, &s);
                test_admin_session(&c);
                test_sign_out(&c, &s);
            }
            test_wrong_credentials(&c);
            test_long_password(&c);
            test_cross_site(&c);
            test_rate_limit(&c);
            test_public_url(&c);
        }
        EXPECT_HEALTHY(h);
    }
    return h_finish(h);
}
