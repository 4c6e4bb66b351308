/* SPDX-License-Identifier: MIT */
/*
 * Integration test of bad input: every malformed, mistyped, out-of-range
 * or forbidden request body, query and path gets its exact status and
 * error code (and, where the contract says so, a description naming the
 * field), changes nothing in the store (tokens and audit trail compared
 * before and after), and leaves the server healthy. Then the limits: a
 * body over max_body_bytes (4096 here) with and without Content-Length,
 * JSON nested too deep, an oversized header and an over-long URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct ctx {
    struct h h;
    const char *u;      /* a user's PAT */
    const char *u_id;   /* the user */
    const char *tok_id; /* one of the user's tokens */
};

struct snapshot {
    long tokens;     /* the user's tokens, any status */
    long all_tokens; /* every token */
    long users;
    long long audit; /* last audit event id */
    char *one;       /* the JSON of c->tok_id */
    char *policy;
    char *scopes;
};

static char *
body_of(struct h *h, const char *path)
{
    struct resp *r = http(h, "GET", path, h->admin_token, NULL, NULL);

    return r->status == 200 ? r->body : NULL;
}

static void
snap(struct ctx *c, struct snapshot *s)
{
    struct h *h = &c->h;

    s->tokens = h_count(h, "/v1/me/tokens?status=all", c->u);
    s->all_tokens = h_count(h, "/v1/tokens?status=all", h->admin_token);
    s->users = h_count(h, "/v1/users", h->admin_token);
    s->audit = h_last_audit_id(h);
    s->one = body_of(h, hfmt(h, "/v1/tokens/%s", c->tok_id));
    s->policy = body_of(h, "/v1/policy");
    s->scopes = body_of(h, "/v1/scopes");
}

static bool
same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Checks that nothing changed since before, and that /healthz answers. */
static void
unchanged(struct ctx *c, const struct snapshot *before, const char *what)
{
    struct snapshot after;

    snap(c, &after);
    CHECK(after.tokens == before->tokens &&
              after.all_tokens == before->all_tokens,
          "%s: tokens changed (%ld/%ld -> %ld/%ld)", what, before->tokens,
          before->all_tokens, after.tokens, after.all_tokens);
    CHECK(after.users == before->users, "%s: users changed", what);
    CHECK(after.audit == before->audit,
          "%s: wrote an audit event (last id %lld -> %lld)", what,
          before->audit, after.audit);
    CHECK(same(after.one, before->one), "%s: the token changed: %s -> %s", what,
          before->one, after.one);
    CHECK(same(after.policy, before->policy), "%s: the policy changed", what);
    CHECK(same(after.scopes, before->scopes), "%s: the scopes changed", what);
    EXPECT_HEALTHY(&c->h);
}

struct bad {
    const char *method;
    const char *path; /* "%T" stands for the token id, "%U" the user id */
    const char *body;
    int who; /* 0: the user, 1: the admin */
    long status;
    const char *code;
    const char *mention; /* the description must hold this, or NULL */
};

#define POST_ME "/v1/me/tokens"
#define TOK     "/v1/me/tokens/%T"
#define REGEN   "/v1/me/tokens/%T/regenerate"
#define SCP     "\"scopes\":[\"patd:self\"]"

static const struct bad cases[] = {
    /* Fields the endpoint does not take. */
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"colour\":\"red\"}", 0, 400,
     "invalid_request", "colour"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"id\":\"tok_x\"}", 0, 400,
     "invalid_request", "id"},
    {"POST", POST_ME,
     "{\"name\":\"a\"," SCP ",\"created_at\":\"2026-01-01T00:00:00Z\"}", 0, 400,
     "invalid_request", "created_at"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"token\":\"pat_x\"}", 0, 400,
     "invalid_request", "token"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"user_id\":\"usr_x\"}", 0, 400,
     "invalid_request", "user_id"},
    {"PATCH", TOK, "{\"status\":\"active\"}", 0, 400, "invalid_request",
     "status"},
    {"PATCH", TOK, "{\"scopes\":[\"patd:self\"]}", 0, 400, "invalid_request",
     "scopes"},
    {"PATCH", TOK, "{\"name\":\"x\",\"hint\":\"abcd\"}", 0, 400,
     "invalid_request", "hint"},
    {"POST", REGEN, "{\"name\":\"x\"}", 0, 400, "invalid_request", "name"},
    /* Not JSON, or not an object. */
    {"POST", POST_ME, "{\"name\":", 0, 400, "invalid_request", NULL},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP "} trailing", 0, 400,
     "invalid_request", NULL},
    {"POST", POST_ME, "[\"name\",\"a\"]", 0, 400, "invalid_request", NULL},
    {"POST", POST_ME, "\"a string\"", 0, 400, "invalid_request", NULL},
    {"POST", POST_ME, "42", 0, 400, "invalid_request", NULL},
    {"POST", POST_ME, "null", 0, 400, "invalid_request", NULL},
    {"PATCH", TOK, "[]", 0, 400, "invalid_request", NULL},
    {"POST", POST_ME, "{\"name\":\"a\",\"name\":\"b\"," SCP "}", 0, 400,
     "invalid_request", NULL},
    /* Wrong types. */
    {"POST", POST_ME, "{\"name\":7," SCP "}", 0, 400, "invalid_request",
     "name"},
    {"POST", POST_ME, "{\"name\":null," SCP "}", 0, 400, "invalid_request",
     "name"},
    {"POST", POST_ME, "{\"name\":\"a\",\"scopes\":\"patd:self\"}", 0, 400,
     "invalid_request", "scopes"},
    {"POST", POST_ME, "{\"name\":\"a\",\"scopes\":[7]}", 0, 400,
     "invalid_request", "scopes"},
    {"POST", POST_ME, "{\"name\":\"a\",\"scopes\":[\"\"]}", 0, 400,
     "invalid_request", "scopes"},
    {"POST", POST_ME, "{\"name\":\"a\",\"scopes\":[\"patd:self x\"]}", 0, 400,
     "invalid_request", "scopes"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"description\":5}", 0, 400,
     "invalid_request", "description"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_in_days\":\"7\"}", 0,
     400, "invalid_request", "expires_in_days"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_in_days\":1.5}", 0,
     400, "invalid_request", "expires_in_days"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_at\":1893456000}", 0,
     400, "invalid_request", "expires_at"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_at\":\"tomorrow\"}", 0,
     400, "invalid_request", "expires_at"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"audiences\":\"x\"}", 0, 400,
     "invalid_request", "audiences"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"allowed_cidrs\":[\"nope\"]}",
     0, 400, "invalid_request", "allowed_cidrs"},
    {"PATCH", TOK, "{\"name\":false}", 0, 400, "invalid_request", "name"},
    /* Missing or bad values. */
    {"POST", POST_ME, "{" SCP "}", 0, 400, "invalid_request", "name"},
    {"POST", POST_ME, "{\"name\":\"a\"}", 0, 400, "invalid_request", "scopes"},
    {"POST", POST_ME, "", 0, 400, "invalid_request", NULL},
    {"POST", POST_ME, "{\"name\":\"\"," SCP "}", 0, 400, "invalid_request",
     "name"},
    {"POST", POST_ME, "{\"name\":\" padded\"," SCP "}", 0, 400,
     "invalid_request", "name"},
    {"POST", POST_ME, "{\"name\":\"bell\\u0007\"," SCP "}", 0, 400,
     "invalid_request", "name"},
    {"POST", POST_ME, "{\"name\":\"nul\\u0000x\"," SCP "}", 0, 400,
     "invalid_request", NULL},
    {"POST", POST_ME, "{\"name\":\"bad \xff\xfe utf8\"," SCP "}", 0, 400,
     "invalid_request", NULL},
    {"POST", POST_ME, "{\"name\":\"bad \xc3\x28 utf8\"," SCP "}", 0, 400,
     "invalid_request", NULL},
    {"POST", POST_ME, "{\"name\":\"a\",\"scopes\":[\"no:such\"]}", 0, 400,
     "invalid_request", "no:such"},
    {"POST", POST_ME,
     "{\"name\":\"a\"," SCP ",\"expires_at\":\"2020-01-01T00:00:00Z\"}", 0, 400,
     "invalid_request", "expires_at"},
    {"POST", POST_ME,
     "{\"name\":\"a\"," SCP ",\"expires_at\":\"1970-01-01T00:00:00Z\"}", 0, 400,
     "invalid_request", "expires_at"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_in_days\":0}", 0, 400,
     "invalid_request", "expires_in_days"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_in_days\":367}", 0,
     400, "invalid_request", "expires_in_days"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_in_days\":99999}", 0,
     400, "invalid_request", "expires_in_days"},
    {"POST", POST_ME,
     "{\"name\":\"a\"," SCP ",\"expires_in_days\":3,"
     "\"expires_at\":\"2099-01-01T00:00:00Z\"}",
     0, 400, "invalid_request", "expires_"},
    {"POST", POST_ME, "{\"name\":\"a\"," SCP ",\"expires_at\":null}", 0, 400,
     "invalid_request", NULL},
    {"PATCH", TOK, "{\"name\":\"\"}", 0, 400, "invalid_request", "name"},
    {"POST", REGEN, "{\"grace_seconds\":-1}", 0, 400, "invalid_request",
     "grace_seconds"},
    {"POST", REGEN, "{\"grace_seconds\":604801}", 0, 400, "invalid_request",
     "grace_seconds"},
    {"POST", REGEN, "{\"grace_seconds\":\"60\"}", 0, 400, "invalid_request",
     "grace_seconds"},
    {"POST", REGEN, "{\"expires_in_days\":400}", 0, 400, "invalid_request",
     "expires_in_days"},
    /* Queries. */
    {"GET", "/v1/me/tokens?limit=0", NULL, 0, 400, "invalid_request", "limit"},
    {"GET", "/v1/me/tokens?limit=201", NULL, 0, 400, "invalid_request",
     "limit"},
    {"GET", "/v1/me/tokens?limit=x", NULL, 0, 400, "invalid_request", "limit"},
    {"GET", "/v1/me/tokens?limit=", NULL, 0, 400, "invalid_request", "limit"},
    {"GET", "/v1/me/tokens?limit=5x", NULL, 0, 400, "invalid_request", "limit"},
    {"GET", "/v1/me/tokens?cursor=abc", NULL, 0, 400, "invalid_request",
     "cursor"},
    {"GET", "/v1/me/tokens?cursor=-1", NULL, 0, 400, "invalid_request",
     "cursor"},
    {"GET", "/v1/me/tokens?cursor=99999999999999999999999", NULL, 0, 400,
     "invalid_request", "cursor"},
    {"GET", "/v1/me/tokens?status=bogus", NULL, 0, 400, "invalid_request",
     "status"},
    {"GET", "/v1/me/tokens?status=ACTIVE", NULL, 0, 400, "invalid_request",
     "status"},
    {"GET", "/v1/me/audit?limit=1000", NULL, 0, 400, "invalid_request",
     "limit"},
    {"GET", "/v1/users?limit=0", NULL, 1, 400, "invalid_request", "limit"},
    {"GET", "/v1/tokens?expires_before=soon", NULL, 1, 400, "invalid_request",
     "expires_before"},
    {"GET", "/v1/tokens?created_before=2026-13-01T00:00:00Z", NULL, 1, 400,
     "invalid_request", "created_before"},
    {"GET", "/v1/tokens?last_used_before=x", NULL, 1, 400, "invalid_request",
     "last_used_before"},
    {"GET", "/v1/audit?since=yesterday", NULL, 1, 400, "invalid_request",
     "since"},
    /* Paths. */
    {"GET", "/v1/me/tokens/not-a-token-id", NULL, 0, 404, "not_found", NULL},
    {"PATCH", "/v1/me/tokens/tok_AAAAAAAAAAAAAAAA", "{\"name\":\"x\"}", 0, 404,
     "not_found", NULL},
    {"GET", "/v1/users/nobody", NULL, 1, 404, "not_found", NULL},
    {"GET", "/v1/no/such/endpoint", NULL, 0, 404, "not_found", NULL},
    {"PUT", "/v1/me", "{}", 0, 405, "invalid_request", NULL},
    /* Admin bodies. */
    {"POST", "/v1/users", "{\"username\":\"Bad Name\"}", 1, 400,
     "invalid_request", "username"},
    {"POST", "/v1/users", "{\"username\":\"victim\"}", 1, 409, "conflict",
     NULL},
    {"POST", "/v1/users", "{\"username\":\"newbie\",\"role\":\"root\"}", 1, 400,
     "invalid_request", "role"},
    {"POST", "/v1/users", "{\"username\":\"newbie\",\"password\":\"short\"}", 1,
     400, "invalid_request", "password"},
    {"POST", "/v1/users", "{\"username\":\"newbie\",\"scopes\":[\"no:such\"]}",
     1, 400, "invalid_request", "no:such"},
    {"POST", "/v1/users", "{\"username\":\"newbie\",\"email\":\"nope\"}", 1,
     400, "invalid_request", "email"},
    {"POST", "/v1/users", "{\"username\":\"newbie\",\"id\":\"usr_x\"}", 1, 400,
     "invalid_request", "id"},
    {"PATCH", "/v1/users/%U", "{\"disabled\":\"yes\"}", 1, 400,
     "invalid_request", "disabled"},
    {"PATCH", "/v1/users/%U", "{\"username\":\"renamed\"}", 1, 400,
     "invalid_request", "username"},
    {"PUT", "/v1/policy", "{\"max_lifetime_days\":30}", 1, 400,
     "invalid_request", NULL},
    {"PUT", "/v1/policy",
     "{\"max_lifetime_days\":30,\"allow_no_expiry\":false,"
     "\"default_lifetime_days\":31,\"max_tokens_per_user\":10,"
     "\"revoke_on_reuse\":false}",
     1, 400, "invalid_request", NULL},
    {"PUT", "/v1/policy",
     "{\"max_lifetime_days\":30,\"allow_no_expiry\":false,"
     "\"default_lifetime_days\":3,\"max_tokens_per_user\":10,"
     "\"revoke_on_reuse\":false,\"extra\":1}",
     1, 400, "invalid_request", "extra"},
    {"PUT", "/v1/scopes", "{\"items\":\"repo:read\"}", 1, 400,
     "invalid_request", "items"},
    {"PUT", "/v1/scopes", "{\"items\":[{\"name\":\"Bad Scope\"}]}", 1, 400,
     "invalid_request", NULL},
    {"PUT", "/v1/scopes", "{\"items\":[{\"name\":\"a:b\"},{\"name\":\"a:b\"}]}",
     1, 400, "invalid_request", NULL},
    {"POST", "/v1/tokens/revoke", "{}", 1, 400, "invalid_request", NULL},
    {"POST", "/v1/tokens/revoke", "{\"created_before\":null}", 1, 400,
     "invalid_request", "created_before"},
    {"POST", "/v1/tokens/revoke", "{\"scope\":\"x\",\"dry_run\":\"yes\"}", 1,
     400, "invalid_request", "dry_run"},
};

/* path with %T and %U replaced. */
static const char *
expand(struct ctx *c, const char *path)
{
    char buf[512];
    size_t w = 0;
    const char *p;

    for (p = path; *p != '\0' && w + 32 < sizeof(buf); p++) {
        if (p[0] == '%' && (p[1] == 'T' || p[1] == 'U')) {
            const char *v = p[1] == 'T' ? c->tok_id : c->u_id;
            memcpy(buf + w, v, strlen(v));
            w += strlen(v);
            p++;
        } else {
            buf[w++] = *p;
        }
    }
    buf[w] = '\0';
    return hstrdup(&c->h, buf);
}

static void
test_cases(struct ctx *c)
{
    struct h *h = &c->h;
    size_t i;

    h_section("bad input: exact status and code, nothing changes");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad *b = &cases[i];
        struct snapshot before;
        struct resp *r;
        const char *desc;

        snap(c, &before);
        r = http(h, b->method, expand(c, b->path),
                 b->who ? h->admin_token : c->u, b->body, NULL);
        EXPECT_ERROR(r, b->status, b->code);
        desc = jstr(r->json, "error_description");
        if (b->mention != NULL)
            CHECK(desc != NULL && strstr(desc, b->mention) != NULL,
                  "%s %.60s: the description does not name '%s': %s", r->what,
                  b->body ? b->body : "", b->mention, r->body);
        CHECK(strncmp(r->content_type, "application/json", 16) == 0,
              "%s: Content-Type '%s'", r->what, r->content_type);
        unchanged(
            c, &before,
            hfmt(h, "case %zu (%s %.60s)", i, r->what, b->body ? b->body : ""));
    }
}

/* A name of n copies of unit, and a body creating a token with it. */
static const char *
name_body(struct h *h, const char *unit, int n)
{
    size_t ul = strlen(unit), i;
    char *name = calloc((size_t)n * ul + 1, 1);
    const char *body;

    if (name == NULL)
        return NULL;
    for (i = 0; i < (size_t)n; i++)
        memcpy(name + i * ul, unit, ul);
    body = hfmt(h, "{\"name\":\"%s\"," SCP "}", name);
    free(name);
    return body;
}

/* A body with scopes s1..sn. */
static const char *
scopes_body(struct h *h, int n)
{
    char buf[2048];
    size_t w = 0;
    int i;

    w += (size_t)snprintf(buf, sizeof(buf), "{\"name\":\"many\",\"scopes\":[");
    for (i = 0; i < n && w + 16 < sizeof(buf); i++)
        w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s\"patd:self\"",
                              i ? "," : "");
    snprintf(buf + w, sizeof(buf) - w, "]}");
    return hstrdup(h, buf);
}

static void
test_lengths(struct ctx *c)
{
    struct h *h = &c->h;
    struct snapshot before;
    struct resp *r;

    h_section("lengths: name of 101 characters, 51 scopes");
    snap(c, &before);
    r = http(h, "POST", POST_ME, c->u, name_body(h, "a", 101), NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    CHECK(jstr(r->json, "error_description") &&
              strstr(jstr(r->json, "error_description"), "name"),
          "101 characters: %s", r->body);
    /* 101 two-byte characters: counted as characters, not bytes. */
    r = http(h, "POST", POST_ME, c->u, name_body(h, "\xc3\xa9", 101), NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "POST", POST_ME, c->u, scopes_body(h, 51), NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    CHECK(jstr(r->json, "error_description") &&
              strstr(jstr(r->json, "error_description"), "scopes"),
          "51 scopes: %s", r->body);
    r = httpf(h, "PATCH", hfmt(h, "/v1/me/tokens/%s", c->tok_id), c->u, "%s",
              name_body(h, "b", 101));
    EXPECT_ERROR(r, 400, "invalid_request");
    unchanged(c, &before, "length limits");

    /* At the limits: accepted. */
    r = http(h, "POST", POST_ME, c->u, name_body(h, "\xc3\xa9", 100), NULL);
    EXPECT_STATUS(r, 201);
    r = http(h, "POST", POST_ME, c->u, name_body(h, "z", 100), NULL);
    EXPECT_STATUS(r, 201);
}

static void
test_regenerate_refusal_keeps_secret(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *id, *tok;

    h_section("a refused regenerate keeps the old secret");
    r = httpf(h, "POST", POST_ME, c->u, "{\"name\":\"keep\"," SCP "}");
    EXPECT_STATUS(r, 201);
    id = jstr(r->json, "id");
    tok = jstr(r->json, "token");
    if (id == NULL || tok == NULL)
        return;
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", id), c->u,
              "{\"grace_seconds\":999999999}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

/*
 * A JSON body labelled as a form (curl -d does that) must be read as JSON
 * or refused; never ignored as if it were empty.
 */
static void
test_form_content_type(struct ctx *c)
{
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    struct h *h = &c->h;
    struct resp *r, *made;
    const char *id, *tok, *name;
    bool applied, refused;

    h_section("a JSON body sent as a form is read or refused, not ignored");
    made = httpf(h, "POST", POST_ME, c->u, "{\"name\":\"formed\"," SCP "}");
    EXPECT_STATUS(made, 201);
    id = jstr(made->json, "id");
    tok = jstr(made->json, "token");
    if (id == NULL || tok == NULL)
        return;
    /*
     * SERVER BUG (found here): parse_body() hands any body labelled
     * application/x-www-form-urlencoded to r->form (for the form-based
     * OAuth endpoints) and leaves r->body NULL, which the JSON handlers
     * read as an empty object: PATCH answers 200 and changes nothing,
     * and regenerate answers 200 with grace_seconds 0, killing the old
     * secret at once although the client asked for 600 s.
     */
    r = http(h, "PATCH", hfmt(h, "/v1/me/tokens/%s", id), c->u,
             "{\"name\":\"renamed-by-form\"}", form);
    name = jstr(
        http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id), c->u, NULL, NULL)->json,
        "name");
    applied = r->status == 200 && name && strcmp(name, "renamed-by-form") == 0;
    refused = (r->status == 400 || r->status == 415) &&
              jstr(r->json, "error") != NULL && name &&
              strcmp(name, "formed") == 0;
    CHECK(applied || refused,
          "SERVER BUG: PATCH with a JSON body labelled as a form: %ld %.200s; "
          "the name is now '%s'",
          r->status, r->body, name ? name : "(none)");

    r = http(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", id), c->u,
             "{\"grace_seconds\":600}", form);
    if (r->status == 200) {
        struct resp *old = http(h, "GET", "/v1/token", tok, NULL, NULL);
        CHECK(old->status == 200,
              "SERVER BUG: regenerate with {\"grace_seconds\":600} labelled "
              "as a form ignored the body: the old secret is refused at once "
              "(%ld %.200s)",
              old->status, old->body);
    } else {
        CHECK((r->status == 400 || r->status == 415) &&
                  jstr(r->json, "error") != NULL,
              "regenerate with a JSON body labelled as a form: %ld %.200s",
              r->status, r->body);
        r = http(h, "GET", "/v1/token", tok, NULL, NULL);
        EXPECT_STATUS(r, 200);
    }
    EXPECT_HEALTHY(h);
}

/* A raw request; returns the status of the answer (0: none). */
static long
raw(struct h *h, const char *req, size_t len, const char *what)
{
    char buf[8192];
    long st = 0;
    int fd = h_connect(h);

    if (!CHECK(fd >= 0, "%s: cannot connect", what))
        return 0;
    if (h_send_all(fd, req, len))
        st = h_read_answer(fd, 10000, buf, sizeof(buf));
    close(fd);
    return st;
}

static void
test_limits(struct ctx *c)
{
    struct h *h = &c->h;
    struct snapshot before;
    struct resp *r;
    char *big;
    size_t n;
    long st;
    int i;

    h_section("limits: body over max_body_bytes (4096)");
    snap(c, &before);
    n = 5000;
    big = malloc(n + 64);
    if (big == NULL)
        return;
    snprintf(big, n + 64, "{\"name\":\"big\"," SCP ",\"description\":\"");
    for (i = (int)strlen(big); i < (int)n; i++)
        big[i] = 'd';
    snprintf(big + n, 64, "\"}");
    r = http(h, "POST", POST_ME, c->u, big, NULL);
    EXPECT_ERROR(r, 413, "payload_too_large");
    /* Without Content-Length: chunked, the bound holds while reading. */
    {
        const char *head = hfmt(
            h,
            "POST /v1/me/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            "%zx\r\n%s\r\n0\r\n\r\n",
            c->u, strlen(big), big);
        st = raw(h, head, strlen(head), "chunked body");
        CHECK(st == 413,
              "a chunked body of %zu bytes: status %ld, 413 "
              "expected",
              strlen(big), st);
    }
    /* A body under the limit with the same fields works. */
    big[1000] = '\0';
    snprintf(big + 1000, 64, "\"}");
    r = http(h, "POST", POST_ME, c->u, big, NULL);
    EXPECT_STATUS(r, 201);
    free(big);
    snap(c, &before);

    h_section("limits: JSON nested too deep");
    {
        char deep[512];
        size_t w = 0;

        for (i = 0; i < 100; i++)
            deep[w++] = '[';
        for (i = 0; i < 100; i++)
            deep[w++] = ']';
        deep[w] = '\0';
        r = http(h, "POST", POST_ME, c->u, deep, NULL);
        EXPECT_ERROR(r, 400, "invalid_request");
        /* An object whose field is nested 17 deep (the limit is 16). */
        w = (size_t)snprintf(deep, sizeof(deep), "{\"name\":\"d\",\"x\":");
        for (i = 0; i < 16; i++)
            deep[w++] = '[';
        for (i = 0; i < 16; i++)
            deep[w++] = ']';
        deep[w++] = '}';
        deep[w] = '\0';
        r = http(h, "POST", POST_ME, c->u, deep, NULL);
        EXPECT_ERROR(r, 400, "invalid_request");
        CHECK(jstr(r->json, "error_description") &&
                  strstr(jstr(r->json, "error_description"), "deeper"),
              "depth 17: %s", r->body);
    }
    unchanged(c, &before, "depth");

    h_section("limits: oversized header, over-long URL");
    {
        size_t hl = 64 * 1024;
        char *hdr = malloc(hl + 16);
        const char *hdrs[2] = {hdr, NULL};
        char *path = malloc(20000 + 32);

        if (hdr == NULL || path == NULL) {
            free(hdr);
            free(path);
            return;
        }
        memcpy(hdr, "X-Big: ", 7);
        memset(hdr + 7, 'h', hl);
        hdr[7 + hl] = '\0';
        r = http(h, "GET", "/v1/me", c->u, NULL, hdrs);
        printf("# note: a 64 KiB header is answered %ld (%s)\n", r->status,
               r->content_type);
        CHECK(r->status >= 400 && r->status < 500,
              "a 64 KiB header: status %ld, a 4xx expected", r->status);
        CHECK(r->status == 431, "a 64 KiB header: status %ld, 431 expected",
              r->status);
        EXPECT_HEALTHY(h);

        memcpy(path, "/v1/me/tokens?x=", 16);
        memset(path + 16, 'u', 20000);
        path[16 + 20000] = '\0';
        r = http(h, "GET", path, c->u, NULL, NULL);
        printf("# note: a 20 KB URL is answered %ld (%s)\n", r->status,
               r->content_type);
        CHECK(r->status == 414, "a 20 KB URL: status %ld, 414 expected",
              r->status);
        CHECK(r->json != NULL &&
                  json_object_get(r->json, "error_description") != NULL,
              "a 20 KB URL: not the JSON error object: %.200s", r->body);
        EXPECT_HEALTHY(h);

        /* Many small headers add up the same way (400 * 48 > 16 KiB). */
        {
            size_t k, w = 0, cap = 400 * 64 + 512;
            char *req = malloc(cap);

            if (req != NULL) {
                w += (size_t)snprintf(req, cap,
                                      "GET /healthz HTTP/1.1\r\n"
                                      "Host: 127.0.0.1\r\n");
                for (k = 0; k < 400; k++)
                    w += (size_t)snprintf(req + w, cap - w,
                                          "X-H%03zu: %040d\r\n", k, 0);
                w += (size_t)snprintf(req + w, cap - w,
                                      "Connection: close\r\n\r\n");
                st = raw(h, req, w, "many headers");
                CHECK(st == 431,
                      "400 headers of 48 bytes: status %ld, 431 expected", st);
                free(req);
            }
        }
        free(hdr);
        free(path);
    }
    unchanged(c, &before, "header limits");

    h_section("garbage on the wire");
    {
        static const char junk[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
                                   "\r\n\r\n";
        static const char noversion[] = "GET /healthz\r\n\r\n";
        static const char badmethod[] =
            "FROB /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        st = raw(h, junk, sizeof(junk) - 1, "TLS hello");
        CHECK(st == 0 || (st >= 400 && st < 500), "a TLS hello: status %ld",
              st);
        st = raw(h, noversion, sizeof(noversion) - 1, "HTTP/0.9");
        CHECK(st == 0 || (st >= 400 && st < 600), "HTTP/0.9: status %ld", st);
        st = raw(h, badmethod, sizeof(badmethod) - 1, "unknown method");
        CHECK(st >= 400 && st < 500, "unknown method: status %ld", st);
    }
    unchanged(c, &before, "garbage");
}

/* The server's log so far, in the arena ("" when unreadable). */
static const char *
server_log(struct h *h)
{
    FILE *f = fopen(h->log, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        return "";
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *p = realloc(buf, cap = cap * 2 + 8192);
            if (p == NULL)
                break;
            buf = p;
        }
        n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    if (buf == NULL)
        return "";
    buf[len] = '\0';
    h_own(h, buf, free);
    return buf;
}

static size_t
count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

/*
 * A token sent in a URL by mistake, in any of the shapes it takes there,
 * reaches the access log only as [token] (issue #11): inside a segment,
 * after a "token=", and percent-encoded once, twice or entirely.
 */
static void
test_token_in_path(struct ctx *c)
{
    struct h *h = &c->h;
    const char *tok = c->u, *full, *forms[7], *log;
    char enc[3 * H_TOKEN_CAP + 1];
    size_t i, nforms = 0, before, after = 0;
    long long deadline;

    h_section("tokens in paths are not logged");
    for (i = 0; tok[i] != '\0' && i < H_TOKEN_CAP; i++)
        snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)tok[i]);
    full = hstrdup(h, enc);
    forms[nforms++] = hfmt(h, "/%s.json", tok);
    forms[nforms++] = hfmt(h, "/x/token=%s", tok);
    forms[nforms++] = hfmt(h, "/v1/a%sb/c", tok);
    forms[nforms++] = hfmt(h, "/%%70%s", tok + 1);
    forms[nforms++] = hfmt(h, "/x/%%2570%s", tok + 1);
    forms[nforms++] = hfmt(h, "/x/%s", full);
    forms[nforms++] = hfmt(h, "/x/%%255F%s", tok + 4); /* "_" twice encoded */
    before = count_of(server_log(h), "[token]");
    for (i = 0; i < nforms; i++) {
        struct resp *r = http(h, "GET", forms[i], NULL, NULL, NULL);
        CHECK(r->status == 404 || r->status == 401 || r->status == 400,
              "%s: status %ld", forms[i], r->status);
    }
    /* A query string is not logged at all. */
    {
        struct resp *r =
            http(h, "GET", hfmt(h, "/v1/nowhere?access_token=%s", tok), NULL,
                 NULL, NULL);
        CHECK(r->status == 404 || r->status == 400,
              "a token in a query: status %ld", r->status);
    }
    /* The lines are written as each request completes: poll for them. */
    deadline = h_now_ms() + 5000;
    do {
        log = server_log(h);
        after = count_of(log, "[token]");
        if (after >= before + nforms)
            break;
        h_poll_pause();
    } while (h_now_ms() < deadline);
    CHECK(after == before + nforms, "%zu of %zu token paths logged as [token]",
          after - before, nforms);
    CHECK(strstr(log, tok + 4) == NULL, "the token's secret part is logged");
    CHECK(strstr(log, full + 12) == NULL,
          "the percent-encoded token is logged");
    EXPECT_HEALTHY(h);
}

int
main(int argc, char **argv)
{
    static const char *const env[] = {"PATD_SERVER_MAX_BODY_BYTES=4096", NULL};
    struct ctx c;
    struct h *h = &c.h;
    struct resp *r;

    memset(&c, 0, sizeof(c));
    h_init(h, argc, argv);
    if (h_start(h, env)) {
        c.u_id = h_user(h, "victim", NULL, NULL);
        if (c.u_id)
            c.u = h_token(h, c.u_id, "main", "[\"patd:self\"]", &c.tok_id);
        r = http(h, "GET", "/v1/me", c.u, NULL, NULL);
        if (EXPECT_STATUS(r, 200)) {
            test_cases(&c);
            test_lengths(&c);
            test_regenerate_refusal_keeps_secret(&c);
            test_form_content_type(&c);
            test_limits(&c);
            test_token_in_path(&c);
        }
        EXPECT_HEALTHY(h);
    }
    return h_finish(h);
}
