/* SPDX-License-Identifier: MIT */
/*
 * Integration test of authorization: a matrix of callers (the admin's
 * PAT, two users' PATs, PATs lacking patd:self or patd:admin, no
 * credentials, revoked, expired and disabled users' tokens, a malformed
 * Authorization header) against a representative set of self-service,
 * token and admin endpoints, with the exact status, error code and
 * WWW-Authenticate header of each refusal, and no change to the store
 * from any of them. Then isolation between users (another user's token
 * is a 404 exactly like a missing one) and the rule that a PAT cannot
 * mint a token beyond its own scopes or expiry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum ep_kind { SELF, TOKEN, ADMIN };

struct endpoint {
    const char *method;
    const char *path;
    enum ep_kind kind;
    int ok; /* status of a success */
};

/* Bodies are made per call so that successes never collide. */
static const struct endpoint endpoints[] = {
    {"GET", "/v1/me", SELF, 200},
    {"GET", "/v1/me/tokens", SELF, 200},
    {"POST", "/v1/me/tokens", SELF, 201},
    {"GET", "/v1/me/audit", SELF, 200},
    {"GET", "/v1/token", TOKEN, 200},
    {"GET", "/v1/users", ADMIN, 200},
    {"POST", "/v1/users", ADMIN, 201},
    {"GET", "/v1/tokens", ADMIN, 200},
    {"GET", "/v1/scopes", SELF, 200},
    {"GET", "/v1/policy", SELF, 200},
    {"PUT", "/v1/policy", ADMIN, 200},
    {"GET", "/v1/audit", ADMIN, 200},
    {"POST", "/v1/tokens/revoke", ADMIN, 200},
};
#define NENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

/* How a caller is expected to fare on each kind of endpoint. */
struct expect {
    long status;
    const char *code; /* NULL: success */
};

struct caller {
    const char *name;
    const char *token;  /* NULL: no credentials */
    const char *header; /* a raw Authorization header instead, or NULL */
    struct expect self, token_ep, admin;
    const char *www; /* substring WWW-Authenticate must hold, or NULL */
};

struct ctx {
    struct h h;
    const char *a_id, *a, *a_tok_id; /* user A: patd:self custom:x */
    const char *b_id, *b, *b_tok_id; /* user B */
    int serial;
};

static const char *
body_for(struct ctx *c, const struct endpoint *e)
{
    struct h *h = &c->h;
    int n = ++c->serial;

    if (strcmp(e->path, "/v1/me/tokens") == 0)
        return hfmt(h, "{\"name\":\"matrix-%d\",\"scopes\":[\"patd:self\"]}",
                    n);
    if (strcmp(e->path, "/v1/users") == 0)
        return hfmt(h, "{\"username\":\"matrix-%d\"}", n);
    if (strcmp(e->path, "/v1/policy") == 0)
        return "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
               "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
               "\"revoke_on_reuse\":false}";
    if (strcmp(e->path, "/v1/tokens/revoke") == 0)
        return "{\"scope\":\"no:such\",\"dry_run\":true}";
    return NULL;
}

/* One cell of the matrix. */
static void
cell(struct ctx *c, const struct caller *who, const struct endpoint *e)
{
    struct h *h = &c->h;
    const struct expect *x = e->kind == SELF    ? &who->self
                             : e->kind == TOKEN ? &who->token_ep
                                                : &who->admin;
    const char *hdrs[2] = {who->header, NULL};
    struct resp *r = http(h, e->method, e->path, who->token, body_for(c, e),
                          who->header ? hdrs : NULL);
    long want = x->code ? x->status : e->ok;

    if (x->code == NULL) {
        CHECK(r->status == want, "%s: %s: expected %ld, got %ld: %.300s",
              who->name, r->what, want, r->status, r->body);
        return;
    }
    CHECK(r->status == want && jstr(r->json, "error") &&
              strcmp(jstr(r->json, "error"), x->code) == 0,
          "%s: %s: expected %ld %s, got %ld: %.300s", who->name, r->what, want,
          x->code, r->status, r->body);
    if (want == 401)
        CHECK(strstr(r->www_auth, "Bearer realm=\"patd\"") != NULL,
              "%s: %s: 401 with WWW-Authenticate '%s'", who->name, r->what,
              r->www_auth);
    if (who->www != NULL &&
        (want == 401 || strcmp(x->code, "insufficient_scope") == 0))
        CHECK(strstr(r->www_auth, who->www) != NULL,
              "%s: %s: WWW-Authenticate '%s' lacks %s", who->name, r->what,
              r->www_auth, who->www);
    if (want == 403 && strcmp(x->code, "insufficient_scope") == 0)
        CHECK(strstr(r->www_auth, "error=\"insufficient_scope\"") != NULL,
              "%s: %s: 403 insufficient_scope with WWW-Authenticate '%s'",
              who->name, r->what, r->www_auth);
}

static void
run_row(struct ctx *c, const struct caller *who, bool successes)
{
    size_t i;

    for (i = 0; i < NENDPOINTS; i++) {
        const struct endpoint *e = &endpoints[i];
        const struct expect *x = e->kind == SELF    ? &who->self
                                 : e->kind == TOKEN ? &who->token_ep
                                                    : &who->admin;
        if ((x->code == NULL) == successes)
            cell(c, who, e);
    }
}

#define OK                                                                     \
    {                                                                          \
        0, NULL                                                                \
    }
#define E401                                                                   \
    {                                                                          \
        401, "invalid_token"                                                   \
    }
#define E400                                                                   \
    {                                                                          \
        400, "invalid_request"                                                 \
    }
#define SCOPE                                                                  \
    {                                                                          \
        403, "insufficient_scope"                                              \
    }
#define FORBID                                                                 \
    {                                                                          \
        403, "forbidden"                                                       \
    }

/*
 * Every dead token gets the same 401 description on every path that
 * authenticates one (API auth, forward auth, the introspection caller):
 * the answer must not tell whoever holds it that it was revoked, has
 * expired or belongs to a disabled user (issue #11).
 */
static void
test_dead_descriptions(struct ctx *c, const char *const *dead, size_t n)
{
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    static const char *const states[] = {"revoked", "expired",   "disabled",
                                         "unknown", "malformed", "user"};
    static const char *const paths[] = {"GET /v1/me", "GET /v1/auth",
                                        "POST /oauth2/introspect"};
    struct h *h = &c->h;
    struct resp *r;
    const char *desc;
    size_t i, p, k;

    h_section("401 descriptions say nothing of the token's state");
    for (i = 0; i < n; i++) {
        for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
            if (p == 0)
                r = http(h, "GET", "/v1/me", dead[i], NULL, NULL);
            else if (p == 1)
                r = http(h, "GET", "/v1/auth", dead[i], NULL, NULL);
            else
                r = http(h, "POST", "/oauth2/introspect", dead[i], "token=x",
                         form);
            EXPECT_ERROR(r, 401, "invalid_token");
            desc = jstr(r->json, "error_description");
            CHECK(desc != NULL && strcmp(desc, "the token is not valid") == 0,
                  "dead token %zu, %s: description '%s'", i, paths[p],
                  desc ? desc : "(none)");
            for (k = 0; k < sizeof(states) / sizeof(states[0]); k++)
                CHECK(strstr(r->www_auth, states[k]) == NULL,
                      "dead token %zu, %s: WWW-Authenticate '%s' names '%s'", i,
                      paths[p], r->www_auth, states[k]);
        }
    }
    EXPECT_HEALTHY(h);
}

static void
test_matrix(struct ctx *c)
{
    struct h *h = &c->h;
    const char *custom, *self_only_admin, *admin_only, *revoked, *expired,
        *disabled, *disabled_uid, *rev_id;
    static const char *const custom_args[] = {"--scope", "custom:x", NULL};
    static const char *const admin_only_args[] = {"--scope", "patd:admin",
                                                  NULL};
    const char *exp_args[] = {"--scope", "patd:self", "--expires-at",
                              h_time_in(h, 2), NULL};
    long long audit, tokens, users;
    struct resp *r;
    size_t i;

    h_section("setting up the callers");
    custom = h_cli_token(h, "usera", "custom-only", custom_args, NULL);
    admin_only = h_cli_token(h, "admin", "admin-only", admin_only_args, NULL);
    self_only_admin =
        h_token(h, h->admin_id, "admin-self-only", "[\"patd:self\"]", NULL);
    revoked = h_token(h, c->a_id, "to-revoke", "[\"patd:self\"]", &rev_id);
    r = http(h, "DELETE", hfmt(h, "/v1/tokens/%s", rev_id), h->admin_token,
             NULL, NULL);
    EXPECT_STATUS(r, 204);
    expired = h_cli_token(h, "usera", "expiring", exp_args, NULL);
    disabled_uid = h_user(h, "dora", NULL, NULL);
    disabled = h_token(h, disabled_uid, "dora-main", "[\"patd:self\"]", NULL);
    r = http(h, "GET", "/v1/me", disabled, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", disabled_uid), h->admin_token,
              "{\"disabled\":true}");
    EXPECT_STATUS(r, 200);
    CHECK(expired != NULL && h_poll_status(h, "/v1/token", expired, 401, 10000),
          "the token past its --expires-at still works");
    if (!custom || !admin_only || !self_only_admin || !revoked || !expired ||
        !disabled)
        return;
    {
        const char *dead[] = {revoked, expired, disabled, "pat_notAToken",
                              "pat_0000000000000000000000000000000000000"};
        test_dead_descriptions(c, dead, sizeof(dead) / sizeof(dead[0]));
    }

    {
        const struct caller rows[] = {
            {"admin PAT", h->admin_token, NULL, OK, OK, OK, NULL},
            {"user A PAT", c->a, NULL, OK, OK, FORBID, NULL},
            {"user B PAT", c->b, NULL, OK, OK, FORBID, NULL},
            {"PAT with only custom:x", custom, NULL, SCOPE, OK, FORBID,
             "scope=\"patd:self\""},
            {"admin PAT with only patd:self", self_only_admin, NULL, OK, OK,
             SCOPE, "scope=\"patd:admin\""},
            {"admin PAT with only patd:admin", admin_only, NULL, SCOPE, OK, OK,
             "scope=\"patd:self\""},
            {"no credentials", NULL, NULL, E401, E401, E401, NULL},
            {"revoked PAT", revoked, NULL, E401, E401, E401,
             "error=\"invalid_token\""},
            {"expired PAT", expired, NULL, E401, E401, E401,
             "error=\"invalid_token\""},
            {"disabled user's PAT", disabled, NULL, E401, E401, E401,
             "error=\"invalid_token\""},
            {"malformed PAT", "pat_notAToken", NULL, E401, E401, E401,
             "error=\"invalid_token\""},
            {"Basic authorization", NULL, "Authorization: Basic eDp5", E400,
             E400, E400, NULL},
            {"empty Bearer", NULL, "Authorization: Bearer", E400, E400, E400,
             NULL},
        };
        size_t n = sizeof(rows) / sizeof(rows[0]);

        h_section("refusals: exact status and code, nothing changes");
        audit = h_last_audit_id(h);
        tokens = h_count(h, "/v1/tokens?status=all", h->admin_token);
        users = h_count(h, "/v1/users", h->admin_token);
        for (i = 0; i < n; i++)
            run_row(c, &rows[i], false);
        CHECK(h_last_audit_id(h) == audit,
              "the refused requests wrote audit events");
        CHECK(h_count(h, "/v1/tokens?status=all", h->admin_token) == tokens,
              "the refused requests changed the tokens");
        CHECK(h_count(h, "/v1/users", h->admin_token) == users,
              "the refused requests changed the users");
        EXPECT_HEALTHY(h);

        h_section("successes");
        for (i = 0; i < n; i++)
            run_row(c, &rows[i], true);
    }

    h_section("401 details");
    r = http(h, "GET", "/v1/me", NULL, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    CHECK(strcmp(r->www_auth, "Bearer realm=\"patd\"") == 0,
          "no credentials: WWW-Authenticate '%s'", r->www_auth);
    CHECK(jstr(r->json, "error_description") &&
              strcmp(jstr(r->json, "error_description"),
                     "authentication required") == 0,
          "no credentials: %s", r->body);
    r = http(h, "GET", "/healthz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

/* desc with every occurrence of id replaced by "ID", in the arena. */
static const char *
masked(struct h *h, const char *desc, const char *id)
{
    char buf[1024];
    size_t w = 0, il = strlen(id);
    const char *p = desc ? desc : "";

    while (*p != '\0' && w + 3 < sizeof(buf)) {
        if (il > 0 && strncmp(p, id, il) == 0) {
            memcpy(buf + w, "ID", 2);
            w += 2;
            p += il;
        } else {
            buf[w++] = *p++;
        }
    }
    buf[w] = '\0';
    return hstrdup(h, buf);
}

/* Another user's token answers like a missing one, and stays unchanged. */
static void
test_isolation(struct ctx *c)
{
    struct h *h = &c->h;
    static const char missing[] = "tok_AAAAAAAAAAAAAAAA";
    static const struct {
        const char *method, *suffix, *body;
    } ops[] = {
        {"GET", "", NULL},
        {"PATCH", "", "{\"name\":\"stolen\"}"},
        {"POST", "/regenerate", "{}"},
        {"DELETE", "", NULL},
    };
    long long audit = h_last_audit_id(h);
    struct resp *r, *m;
    size_t i;

    h_section("user A cannot reach user B's token");
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        r = http(h, ops[i].method,
                 hfmt(h, "/v1/me/tokens/%s%s", c->b_tok_id, ops[i].suffix),
                 c->a, ops[i].body, NULL);
        m = http(h, ops[i].method,
                 hfmt(h, "/v1/me/tokens/%s%s", missing, ops[i].suffix), c->a,
                 ops[i].body, NULL);
        EXPECT_ERROR(r, 404, "not_found");
        EXPECT_ERROR(m, 404, "not_found");
        CHECK(strcmp(masked(h, jstr(r->json, "error_description"), c->b_tok_id),
                     masked(h, jstr(m->json, "error_description"), missing)) ==
                  0,
              "%s: another's token answers unlike a missing one: '%s' vs "
              "'%s'",
              r->what, r->body, m->body);
    }
    CHECK(h_last_audit_id(h) == audit, "the refused requests wrote audit");
    r = http(h, "GET", "/v1/token", c->b, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "name") && strcmp(jstr(r->json, "name"), "b-main") == 0,
          "B's token was changed: %s", r->body);
    r = http(h, "GET", "/v1/me/tokens?status=all&limit=200", c->a, NULL, NULL);
    CHECK(!items_have_id(r, c->b_tok_id), "A's list shows B's token");
    r = http(h, "GET", hfmt(h, "/v1/users/%s", c->b_id), c->a, NULL, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = http(h, "DELETE", hfmt(h, "/v1/tokens/%s", c->b_tok_id), c->a, NULL,
             NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = http(h, "GET", "/v1/token", c->b, NULL, NULL);
    EXPECT_STATUS(r, 200);
    EXPECT_HEALTHY(h);
}

/* A PAT mints only within its own scopes and expiry. */
static void
test_mint_bounds(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r, *own;
    long long audit = h_last_audit_id(h);
    long before = h_count(h, "/v1/me/tokens?status=all", c->a);

    h_section("a PAT cannot mint beyond its scopes or expiry");
    /* custom:x is A's to grant, but A's PAT holds only patd:self. */
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"wider\",\"scopes\":[\"patd:self\",\"custom:x\"]}");
    EXPECT_ERROR(r, 400, "invalid_request");
    /* patd:admin is not A's at all. */
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"admin\",\"scopes\":[\"patd:admin\"]}");
    EXPECT_ERROR(r, 400, "invalid_request");
    /* A's PAT expires in 30 days (the default). */
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"longer\",\"scopes\":[\"patd:self\"],"
              "\"expires_in_days\":60}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"longer-at\",\"scopes\":[\"patd:self\"],"
              "\"expires_at\":\"%s\"}",
              h_time_in(h, 31 * 86400));
    EXPECT_ERROR(r, 400, "invalid_request");
    /* Regenerating cannot lengthen it either. */
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", c->a_tok_id),
              c->a, "{\"expires_in_days\":60}");
    EXPECT_ERROR(r, 400, "invalid_request");
    CHECK(h_count(h, "/v1/me/tokens?status=all", c->a) == before,
          "a refused mint created a token");
    CHECK(h_last_audit_id(h) == audit, "a refused mint wrote audit");
    r = http(h, "GET", "/v1/token", c->a, NULL, NULL);
    EXPECT_STATUS(r, 200);
    own = r;

    /* Within both: fine, and never later than the minting token. */
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"narrower\",\"scopes\":[\"patd:self\"],"
              "\"expires_in_days\":10}");
    EXPECT_STATUS(r, 201);
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"default\",\"scopes\":[\"patd:self\"]}");
    EXPECT_STATUS(r, 201);
    CHECK(jstr(r->json, "expires_at") && jstr(own->json, "expires_at") &&
              strcmp(jstr(r->json, "expires_at"),
                     jstr(own->json, "expires_at")) <= 0,
          "a default expiry later than the minting token's: %s vs %s",
          jstr(r->json, "expires_at"), jstr(own->json, "expires_at"));
    EXPECT_HEALTHY(h);
}

/*
 * Admin on-behalf issue is bounded by the target user's scopes and the
 * policy, not by the admin token's own scopes and expiry (DESIGN.md
 * section 3); the admin's self-service minting stays bounded.
 */
static void
test_on_behalf(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *narrow, *narrow_exp, *path;

    h_section("an admin PAT issues a user's token within the user's bounds");
    r = httpf(h, "POST", "/v1/me/tokens", h->admin_token,
              "{\"name\":\"admin-narrow\",\"scopes\":[\"patd:admin\"],"
              "\"expires_in_days\":1}");
    if (!EXPECT_STATUS(r, 201))
        return;
    narrow = jstr(r->json, "token");
    narrow_exp = jstr(r->json, "expires_at");
    path = hfmt(h, "/v1/users/%s/tokens", c->a_id);
    /* custom:x is A's, not the calling token's; 30 days is past its 1. */
    r = httpf(h, "POST", path, narrow,
              "{\"name\":\"on-behalf\",\"scopes\":[\"custom:x\"],"
              "\"expires_in_days\":30}");
    EXPECT_STATUS(r, 201);
    CHECK(jstr(r->json, "expires_at") && narrow_exp &&
              strcmp(jstr(r->json, "expires_at"), narrow_exp) > 0,
          "on-behalf expiry %s cut to the admin token's %s",
          jstr(r->json, "expires_at"), narrow_exp);
    r = httpf(h, "POST", path, narrow,
              "{\"name\":\"on-behalf-at\",\"scopes\":[\"custom:x\"],"
              "\"expires_at\":\"%s\"}",
              h_time_in(h, 10 * 86400));
    EXPECT_STATUS(r, 201);
    /* An omitted expiry is the policy's default, not the caller's. */
    r = httpf(h, "POST", path, narrow,
              "{\"name\":\"on-behalf-default\",\"scopes\":[\"custom:x\"]}");
    EXPECT_STATUS(r, 201);
    CHECK(jstr(r->json, "expires_at") && narrow_exp &&
              strcmp(jstr(r->json, "expires_at"), narrow_exp) > 0,
          "on-behalf default expiry %s cut to the admin token's %s",
          jstr(r->json, "expires_at"), narrow_exp);
    /* Still bounded by the user's scopes and the policy. */
    r = httpf(h, "POST", path, narrow,
              "{\"name\":\"on-behalf-admin\",\"scopes\":[\"patd:admin\"]}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", path, narrow,
              "{\"name\":\"on-behalf-long\",\"scopes\":[\"custom:x\"],"
              "\"expires_in_days\":400}");
    EXPECT_ERROR(r, 400, "invalid_request");

    h_section("the admin's own minting stays bounded by its token");
    r = httpf(h, "POST", "/v1/me/tokens", narrow,
              "{\"name\":\"self-narrow\",\"scopes\":[\"patd:admin\"]}");
    EXPECT_ERROR(r, 403, "insufficient_scope");
    r = httpf(h, "POST", "/v1/me/tokens", h->admin_token,
              "{\"name\":\"admin-short\",\"scopes\":[\"patd:admin\","
              "\"patd:self\"],\"expires_in_days\":1}");
    if (EXPECT_STATUS(r, 201)) {
        const char *shrt = jstr(r->json, "token");
        r = httpf(h, "POST", "/v1/me/tokens", shrt,
                  "{\"name\":\"self-long\",\"scopes\":[\"patd:self\"],"
                  "\"expires_in_days\":30}");
        EXPECT_ERROR(r, 400, "invalid_request");
        CHECK(strstr(r->body, "calling token") != NULL,
              "self-service refused for another reason: %.200s", r->body);
        r = httpf(h, "POST", "/v1/me/tokens", shrt,
                  "{\"name\":\"self-wide\",\"scopes\":[\"patd:self\","
                  "\"patd:introspect\"],\"expires_in_days\":1}");
        EXPECT_ERROR(r, 400, "invalid_request");
    }
    EXPECT_HEALTHY(h);
}

/* A user's scopes bound their tokens' at once, both ways. */
static void
test_user_scopes_bound(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *user = hfmt(h, "/v1/users/%s", c->b_id);

    h_section("taking patd:self from a user disables it on their PATs");
    r = httpf(h, "PATCH", user, h->admin_token, "{\"scopes\":[]}");
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/me", c->b, NULL, NULL);
    EXPECT_ERROR(r, 403, "insufficient_scope");
    r = http(h, "GET", "/v1/token", c->b, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = httpf(h, "PATCH", user, h->admin_token, "{\"scopes\":[\"patd:self\"]}");
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/me", c->b, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

/* allowed_cidrs binds a token to addresses; the tests call from 127.0.0.1. */
static void
test_cidrs(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *inside, *outside;

    h_section("allowed_cidrs");
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"loopback-only\",\"scopes\":[\"patd:self\"],"
              "\"allowed_cidrs\":[\"127.0.0.0/8\"]}");
    EXPECT_STATUS(r, 201);
    inside = jstr(r->json, "token");
    CHECK(jarray_has(json_object_get(r->json, "allowed_cidrs"), "127.0.0.0/8"),
          "allowed_cidrs in the answer: %s", r->body);
    r = httpf(h, "POST", "/v1/me/tokens", c->a,
              "{\"name\":\"elsewhere-only\",\"scopes\":[\"patd:self\"],"
              "\"allowed_cidrs\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}");
    EXPECT_STATUS(r, 201);
    outside = jstr(r->json, "token");
    r = http(h, "GET", "/v1/me", inside, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/me", outside, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    CHECK(strstr(r->www_auth, "error=\"invalid_token\"") != NULL,
          "WWW-Authenticate: '%s'", r->www_auth);
    r = http(h, "GET", "/v1/token", outside, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
}

/*
 * A change made by the local command (another process) reaches the
 * server's cache within cache.ttl (2 s here).
 */
static void
test_local_revoke(struct ctx *c)
{
    struct h *h = &c->h;
    const char *id, *tok;
    const char *args[] = {"token", "revoke", NULL, NULL};
    long long t0;
    struct resp *r;
    int rc;

    h_section("a token revoked by the local command stops within cache.ttl");
    tok = h_token(h, c->a_id, "local-revoke", "[\"patd:self\"]", &id);
    if (tok == NULL || id == NULL)
        return;
    r = http(h, "GET", "/v1/me", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    args[2] = id;
    rc = h_run(h, args, NULL, 0);
    t0 = h_now_ms();
    CHECK(rc == 0, "patd token revoke %s: exit %d", id, rc);
    CHECK(h_poll_status(h, "/v1/me", tok, 401, 8000),
          "a token revoked by the local command still works 8 s later "
          "(cache.ttl is 2 s)");
    printf("# note: the local revoke took effect after %lld ms\n",
           h_now_ms() - t0);
}

int
main(int argc, char **argv)
{
    static const char *const env[] = {"PATD_CACHE_TTL=2", NULL};
    struct ctx c;
    struct h *h = &c.h;
    struct resp *r;

    memset(&c, 0, sizeof(c));
    h_init(h, argc, argv);
    if (h_start(h, env)) {
        r = httpf(h, "PUT", "/v1/scopes", h->admin_token,
                  "{\"items\":[{\"name\":\"custom:x\",\"description\":"
                  "\"A scope for tests\"}]}");
        EXPECT_STATUS(r, 200);
        c.a_id = h_user(h, "usera", "[\"patd:self\",\"custom:x\"]", NULL);
        c.b_id = h_user(h, "userb", NULL, NULL);
        if (c.a_id && c.b_id) {
            c.a = h_token(h, c.a_id, "a-main", "[\"patd:self\"]", &c.a_tok_id);
            c.b = h_token(h, c.b_id, "b-main", "[\"patd:self\"]", &c.b_tok_id);
        }
        if (c.a && c.b) {
            test_matrix(&c);
            test_isolation(&c);
            test_mint_bounds(&c);
            test_on_behalf(&c);
            test_user_scopes_bound(&c);
            test_cidrs(&c);
            test_local_revoke(&c);
        }
        EXPECT_HEALTHY(h);
    }
    return h_finish(h);
}
