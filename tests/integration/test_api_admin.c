/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the admin API with the admin's PAT: users (list
 * with q=, create with a password, read, edit, disable, delete), a
 * user's tokens (list, mint, revoke all), the token inventory with each
 * filter, reading and revoking any token, bulk revocation (a dry run
 * first), the scope catalog (including the 409 for a scope in use), the
 * policy, the audit trail with its filters, and the change feed. Each change is
 * checked through its effect on the tokens concerned, not only its answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct ctx {
    struct h h;
    const char *adm;              /* the admin's PAT */
    const char *carol_id, *carol; /* carol and a patd:self PAT of hers */
    const char *carol_tok_id;
    const char *dave_id, *dave;
    const char *dave_tok_id;
};

static bool
str_is(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Whether every item of a list answer has field key equal to want. */
static bool
all_items(const struct resp *r, const char *key, const char *want)
{
    size_t i;
    json_t *v;

    json_array_foreach(jitems(r), i, v)
    {
        if (!str_is(jstr(v, key), want))
            return false;
    }
    return true;
}

static void
test_users(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *erin;

    h_section("users: create, list with q=, get");
    r = httpf(h, "POST", "/v1/users", c->adm,
              "{\"username\":\"carol\",\"display_name\":\"Carol Jones\","
              "\"email\":\"carol@example.org\"}");
    EXPECT_STATUS(r, 201);
    c->carol_id = jstr(r->json, "id");
    CHECK(c->carol_id && strncmp(c->carol_id, "usr_", 4) == 0,
          "new user id: %s", r->body);
    CHECK(str_is(jstr(r->json, "username"), "carol") &&
              str_is(jstr(r->json, "display_name"), "Carol Jones") &&
              str_is(jstr(r->json, "email"), "carol@example.org") &&
              str_is(jstr(r->json, "role"), "user") &&
              jarray_has(json_object_get(r->json, "scopes"), "patd:self") &&
              json_is_false(json_object_get(r->json, "disabled")),
          "new user fields: %s", r->body);
    c->dave_id = h_user(h, "dave", NULL, NULL);

    r = httpf(h, "POST", "/v1/users", c->adm,
              "{\"username\":\"erin\",\"display_name\":\"Erin\","
              "\"email\":\"erin@example.net\",\"role\":\"user\","
              "\"scopes\":[\"patd:self\"],\"password\":\"correct horse\"}");
    EXPECT_STATUS(r, 201);
    erin = jstr(r->json, "id");
    CHECK(json_object_get(r->json, "password") == NULL,
          "the answer shows the password: %s", r->body);
    /* The password took: erin can sign in with it. */
    r = httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":\"erin\",\"password\":\"correct horse\"}");
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(json_object_get(r->json, "user"), "id"), erin),
          "sign-in with the password set at creation: %s", r->body);

    r = http(h, "GET", "/v1/users", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, h->admin_id) && items_have_id(r, c->carol_id) &&
              items_have_id(r, c->dave_id) && items_have_id(r, erin),
          "GET /v1/users lacks a user: %s", r->body);
    r = http(h, "GET", "/v1/users?q=carol", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && items_have_id(r, c->carol_id),
          "q=carol (username): %s", r->body);
    r = http(h, "GET", "/v1/users?q=jones", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && items_have_id(r, c->carol_id),
          "q=jones (display name, any case): %s", r->body);
    r = http(h, "GET", "/v1/users?q=example.net", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && items_have_id(r, erin), "q=example.net (email): %s",
          r->body);
    r = http(h, "GET", "/v1/users?q=nobody-matches-this", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 0 && jnull(r->json, "next_cursor"),
          "q with no match: %s", r->body);
    r = http(h, "GET", "/v1/users?limit=1", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 &&
              json_is_string(json_object_get(r->json, "next_cursor")),
          "users limit=1: %s", r->body);
    CHECK(h_count(h, "/v1/users", c->adm) == 4, "4 users expected");
    /* 4 users by 2: the second page is the last, with next_cursor null. */
    r = http(h, "GET", "/v1/users?limit=2", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 2 && jstr(r->json, "next_cursor") != NULL,
          "users page 1 of 2: %s", r->body);
    if (jstr(r->json, "next_cursor") != NULL) {
        const char *first = jstr(json_array_get(jitems(r), 0), "id");
        r = http(h, "GET",
                 hfmt(h, "/v1/users?limit=2&cursor=%s",
                      jstr(r->json, "next_cursor")),
                 c->adm, NULL, NULL);
        EXPECT_STATUS(r, 200);
        CHECK(nitems(r) == 2 && jnull(r->json, "next_cursor") &&
                  !items_have_id(r, first),
              "users page 2 of 2: %s", r->body);
    }

    r = http(h, "GET", hfmt(h, "/v1/users/%s", c->carol_id), c->adm, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(r->json, "id"), c->carol_id) &&
              str_is(jstr(r->json, "username"), "carol"),
          "GET /v1/users/{id}: %s", r->body);
    c->carol = h_token(h, c->carol_id, "carol-main", "[\"patd:self\"]",
                       &c->carol_tok_id);
    c->dave =
        h_token(h, c->dave_id, "dave-main", "[\"patd:self\"]", &c->dave_tok_id);
}

static void
test_scopes(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    size_t i;
    json_t *v;
    bool builtins = true;

    h_section("GET and PUT /v1/scopes");
    r = http(h, "GET", "/v1/scopes", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    json_array_foreach(jitems(r), i, v)
    {
        builtins &= json_is_true(json_object_get(v, "builtin"));
    }
    CHECK(nitems(r) >= 2 && builtins,
          "a new store has only built-in scopes: %s", r->body);
    r = httpf(h, "PUT", "/v1/scopes", c->adm,
              "{\"items\":[{\"name\":\"repo:read\",\"description\":\"Read "
              "repositories\"},{\"name\":\"repo:write\",\"description\":"
              "\"Write repositories\"}]}");
    EXPECT_STATUS(r, 200);
    json_array_foreach(jitems(r), i, v)
    {
        if (str_is(jstr(v, "name"), "repo:read"))
            CHECK(str_is(jstr(v, "description"), "Read repositories") &&
                      json_is_false(json_object_get(v, "builtin")),
                  "repo:read in the PUT answer: %s", r->body);
    }
    r = http(h, "GET", "/v1/scopes", c->adm, NULL, NULL);
    {
        bool rr = false, rw = false, self = false, admin = false;
        json_array_foreach(jitems(r), i, v)
        {
            rr |= str_is(jstr(v, "name"), "repo:read");
            rw |= str_is(jstr(v, "name"), "repo:write");
            self |= str_is(jstr(v, "name"), "patd:self");
            admin |= str_is(jstr(v, "name"), "patd:admin");
        }
        CHECK(rr && rw && self && admin,
              "GET /v1/scopes after PUT (built-ins stay): %s", r->body);
    }
}

/* Gives carol repo:read and mints her a repo:read token (local command). */
static const char *
repo_token(struct ctx *c, const char *name, const char **id)
{
    static const char *const args[] = {"--scope", "repo:read", NULL};

    return h_cli_token(&c->h, "carol", name, args, id);
}

static void
test_user_patch(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;

    h_section("PATCH /v1/users/{id}");
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->carol_id), c->adm,
              "{\"display_name\":\"Carol J.\"}");
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(r->json, "display_name"), "Carol J.") &&
              str_is(jstr(r->json, "email"), "carol@example.org"),
          "PATCH display_name: %s", r->body);
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->carol_id), c->adm,
              "{\"scopes\":[\"patd:self\",\"repo:read\"]}");
    EXPECT_STATUS(r, 200);
    CHECK(jarray_has(json_object_get(r->json, "scopes"), "repo:read") &&
              jarray_has(json_object_get(r->json, "scopes"), "patd:self"),
          "PATCH scopes: %s", r->body);
    r = http(h, "GET", hfmt(h, "/v1/users/%s", c->carol_id), c->adm, NULL,
             NULL);
    CHECK(str_is(jstr(r->json, "display_name"), "Carol J.") &&
              jarray_has(json_object_get(r->json, "scopes"), "repo:read"),
          "PATCH did not stick: %s", r->body);

    /* Disabling refuses the user's tokens; enabling brings them back. */
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->carol_id), c->adm,
              "{\"disabled\":true}");
    EXPECT_STATUS(r, 200);
    CHECK(json_is_true(json_object_get(r->json, "disabled")),
          "PATCH disabled: %s", r->body);
    r = http(h, "GET", "/v1/me", c->carol, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->carol_id), c->adm,
              "{\"disabled\":false}");
    EXPECT_STATUS(r, 200);
    CHECK(json_is_false(json_object_get(r->json, "disabled")),
          "PATCH enabled: %s", r->body);
    r = http(h, "GET", "/v1/me", c->carol, NULL, NULL);
    EXPECT_STATUS(r, 200);

    /* The password set here works for signing in. */
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", c->dave_id), c->adm,
              "{\"password\":\"dave's secret\"}");
    EXPECT_STATUS(r, 200);
    r = httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":\"dave\",\"password\":\"dave's secret\"}");
    EXPECT_STATUS(r, 200);
}

static void
test_user_tokens(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *t1, *t1_id, *t2, *t2_id;
    long active;

    h_section("GET, POST, DELETE /v1/users/{id}/tokens");
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", c->dave_id), c->adm,
              "{\"name\":\"ci\",\"scopes\":[\"patd:self\"],"
              "\"description\":\"minted by the admin\"}");
    EXPECT_STATUS(r, 201);
    t1 = jstr(r->json, "token");
    t1_id = jstr(r->json, "id");
    CHECK(str_is(jstr(r->json, "user_id"), c->dave_id), "minted for dave: %s",
          r->body);
    r = http(h, "GET", "/v1/me", t1, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(r->json, "id"), c->dave_id),
          "the admin-minted token is dave's: %s", r->body);
    t2 = h_token(h, c->dave_id, "ci-2", "[\"patd:self\"]", &t2_id);

    r = http(h, "GET", hfmt(h, "/v1/users/%s/tokens", c->dave_id), c->adm, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, t1_id) && items_have_id(r, t2_id) &&
              items_have_id(r, c->dave_tok_id) &&
              all_items(r, "user_id", c->dave_id),
          "dave's tokens: %s", r->body);
    active = (long)nitems(r);
    CHECK(active == 3, "dave has %ld active tokens, 3 expected", active);

    r = http(h, "DELETE", hfmt(h, "/v1/users/%s/tokens", c->dave_id), c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "revoked") == active, "revoked %lld of %ld: %s",
          jint(r->json, "revoked"), active, r->body);
    r = http(h, "GET", "/v1/me", t1, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/me", t2, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/me", c->dave, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", hfmt(h, "/v1/users/%s/tokens", c->dave_id), c->adm, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 0, "dave still has active tokens: %s", r->body);
    r = http(h, "GET",
             hfmt(h, "/v1/users/%s/tokens?status=revoked", c->dave_id), c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK((long)nitems(r) == active && all_items(r, "status", "revoked"),
          "dave's revoked tokens: %s", r->body);
    /* Again: nothing left to revoke. */
    r = http(h, "DELETE", hfmt(h, "/v1/users/%s/tokens", c->dave_id), c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "revoked") == 0, "second revoke-all: %s", r->body);
    /* Carol's token is untouched. */
    r = http(h, "GET", "/v1/me", c->carol, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

static void
test_inventory(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *repo_id = NULL, *day_id, *rev_id;
    size_t i;
    json_t *v;
    bool scoped = true;

    h_section("GET /v1/tokens with each filter");
    repo_token(c, "repo-reader", &repo_id);
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", c->carol_id), c->adm,
              "{\"name\":\"one-day\",\"scopes\":[\"patd:self\"],"
              "\"expires_in_days\":1}");
    EXPECT_STATUS(r, 201);
    day_id = jstr(r->json, "id");

    r = http(h, "GET", "/v1/tokens", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, repo_id) && items_have_id(r, day_id) &&
              items_have_id(r, c->carol_tok_id) &&
              all_items(r, "status", "active"),
          "inventory (default: active): %s", r->body);
    CHECK(!items_have_id(r, c->dave_tok_id),
          "inventory shows a revoked token by default");

    r = http(h, "GET", hfmt(h, "/v1/tokens?user_id=%s", c->carol_id), c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 3 && all_items(r, "user_id", c->carol_id),
          "user_id filter: %s", r->body);

    r = http(h, "GET", "/v1/tokens?status=revoked", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, c->dave_tok_id) && all_items(r, "status", "revoked"),
          "status=revoked: %s", r->body);
    r = http(h, "GET", "/v1/tokens?status=all&limit=200", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, c->dave_tok_id) && items_have_id(r, repo_id),
          "status=all: %s", r->body);

    r = http(h, "GET", "/v1/tokens?scope=repo:read", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    json_array_foreach(jitems(r), i, v)
    {
        scoped &= jarray_has(json_object_get(v, "scopes"), "repo:read");
    }
    CHECK(nitems(r) == 1 && items_have_id(r, repo_id) && scoped,
          "scope filter: %s", r->body);

    r = http(h, "GET",
             hfmt(h, "/v1/tokens?expires_before=%s", h_time_in(h, 2 * 86400)),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && items_have_id(r, day_id),
          "expires_before in 2 days: %s", r->body);
    r = http(h, "GET", "/v1/tokens?expires_before=2000-01-01T00:00:00Z", c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 0, "expires_before 2000: %s", r->body);

    r = http(h, "GET", "/v1/tokens?created_before=2000-01-01T00:00:00Z", c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 0, "created_before 2000: %s", r->body);
    r = http(h, "GET",
             hfmt(h, "/v1/tokens?created_before=%s", h_time_in(h, 3600)),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, repo_id) && items_have_id(r, day_id),
          "created_before in an hour: %s", r->body);

    /*
     * last_used_before: tokens not used since then, and never-used ones.
     * Usage is written in batches, so only the far bounds are checked.
     */
    r = http(h, "GET",
             hfmt(h, "/v1/tokens?last_used_before=%s", h_time_in(h, 86400)),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(items_have_id(r, repo_id) && items_have_id(r, day_id),
          "last_used_before tomorrow: %s", r->body);

    /* Filters combine. */
    r = http(h, "GET",
             hfmt(h, "/v1/tokens?user_id=%s&scope=patd:self", c->carol_id),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 2 && items_have_id(r, day_id) &&
              items_have_id(r, c->carol_tok_id),
          "user_id and scope together: %s", r->body);

    h_section("GET and DELETE /v1/tokens/{id}");
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", day_id), c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(str_is(jstr(r->json, "id"), day_id) &&
              str_is(jstr(r->json, "user_id"), c->carol_id) &&
              json_object_get(r->json, "token") == NULL,
          "GET /v1/tokens/{id}: %s", r->body);
    rev_id = day_id;
    r = http(h, "DELETE", hfmt(h, "/v1/tokens/%s", rev_id), c->adm, NULL, NULL);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", rev_id), c->adm, NULL, NULL);
    CHECK(str_is(jstr(r->json, "status"), "revoked") &&
              jstr(r->json, "revoked_at") != NULL,
          "after DELETE /v1/tokens/{id}: %s", r->body);
    r = http(h, "DELETE", hfmt(h, "/v1/tokens/%s", rev_id), c->adm, NULL, NULL);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", "/v1/tokens/tok_AAAAAAAAAAAAAAAA", c->adm, NULL, NULL);
    EXPECT_ERROR(r, 404, "not_found");
}

static void
test_bulk_revoke(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *a, *b, *a_id, *b_id;
    long before, after;
    long long audit;

    h_section("POST /v1/tokens/revoke, dry run then real");
    a = repo_token(c, "bulk-a", &a_id);
    b = repo_token(c, "bulk-b", &b_id);
    before = h_count(h, "/v1/tokens?scope=repo:read", c->adm);
    CHECK(before == 3, "%ld active repo:read tokens, 3 expected", before);
    audit = h_last_audit_id(h);

    r = httpf(h, "POST", "/v1/tokens/revoke", c->adm,
              "{\"scope\":\"repo:read\",\"dry_run\":true}");
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "revoked") == before,
          "dry run counts %lld, %ld active: %s", jint(r->json, "revoked"),
          before, r->body);
    CHECK(h_count(h, "/v1/tokens?scope=repo:read", c->adm) == before,
          "the dry run revoked something");
    CHECK(h_last_audit_id(h) == audit, "the dry run wrote an audit event");
    r = http(h, "GET", "/v1/token", a, NULL, NULL);
    EXPECT_STATUS(r, 200);

    /* Scope removal while tokens hold it: 409, nothing changed. */
    h_section("PUT /v1/scopes removing a scope in use: 409");
    r = httpf(h, "PUT", "/v1/scopes", c->adm,
              "{\"items\":[{\"name\":\"repo:write\",\"description\":"
              "\"Write repositories\"}]}");
    EXPECT_ERROR(r, 409, "conflict");
    r = http(h, "GET", "/v1/scopes", c->adm, NULL, NULL);
    CHECK(strstr(r->body, "\"repo:read\"") != NULL,
          "the refused PUT removed repo:read: %s", r->body);
    CHECK(h_last_audit_id(h) == audit, "the refused PUT wrote an audit event");
    EXPECT_HEALTHY(h);

    r = httpf(h, "POST", "/v1/tokens/revoke", c->adm,
              "{\"scope\":\"repo:read\"}");
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "revoked") == before, "revoked %lld, dry run said %ld",
          jint(r->json, "revoked"), before);
    after = h_count(h, "/v1/tokens?scope=repo:read", c->adm);
    CHECK(after == 0, "%ld repo:read tokens still active", after);
    r = http(h, "GET", "/v1/token", a, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/token", b, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/me", c->carol, NULL, NULL);
    EXPECT_STATUS(r, 200);

    /* A filter by user and by creation time. */
    r = httpf(h, "POST", "/v1/tokens/revoke", c->adm,
              "{\"user_id\":\"%s\",\"created_before\":\"2000-01-01T00:00:00Z\","
              "\"dry_run\":true}",
              c->carol_id);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "revoked") == 0, "created_before 2000: %s", r->body);
    r = httpf(h, "POST", "/v1/tokens/revoke", c->adm,
              "{\"user_id\":\"%s\",\"dry_run\":true}", c->carol_id);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "revoked") ==
              h_count(h, hfmt(h, "/v1/tokens?user_id=%s", c->carol_id), c->adm),
          "user_id dry run: %s", r->body);

    /* Now nothing holds repo:read: the catalog may drop it. */
    r = httpf(h, "PUT", "/v1/scopes", c->adm,
              "{\"items\":[{\"name\":\"repo:write\",\"description\":"
              "\"Write repositories\"}]}");
    EXPECT_STATUS(r, 200);
    CHECK(strstr(r->body, "\"repo:read\"") == NULL &&
              strstr(r->body, "\"repo:write\"") != NULL &&
              strstr(r->body, "\"patd:self\"") != NULL,
          "PUT /v1/scopes without repo:read: %s", r->body);
}

static void
test_policy(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *orig;

    h_section("GET and PUT /v1/policy");
    r = http(h, "GET", "/v1/policy", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "max_lifetime_days") > 0 &&
              jint(r->json, "default_lifetime_days") > 0 &&
              jint(r->json, "max_tokens_per_user") > 0 &&
              json_is_boolean(json_object_get(r->json, "allow_no_expiry")) &&
              json_is_boolean(json_object_get(r->json, "revoke_on_reuse")),
          "policy shape: %s", r->body);
    orig = hstrdup(h, r->body);

    r = httpf(h, "PUT", "/v1/policy", c->adm,
              "{\"max_lifetime_days\":90,\"allow_no_expiry\":true,"
              "\"default_lifetime_days\":10,\"max_tokens_per_user\":50,"
              "\"revoke_on_reuse\":true}");
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "max_lifetime_days") == 90 &&
              jint(r->json, "default_lifetime_days") == 10 &&
              jint(r->json, "max_tokens_per_user") == 50 &&
              jbool(r->json, "allow_no_expiry") &&
              jbool(r->json, "revoke_on_reuse"),
          "PUT /v1/policy answer: %s", r->body);
    r = http(h, "GET", "/v1/policy", c->adm, NULL, NULL);
    CHECK(jint(r->json, "max_lifetime_days") == 90 &&
              jint(r->json, "default_lifetime_days") == 10 &&
              jint(r->json, "max_tokens_per_user") == 50,
          "GET after PUT: %s", r->body);

    /* The policy applies at once. */
    r = httpf(h, "POST", "/v1/me/tokens", c->carol,
              "{\"name\":\"too-long\",\"scopes\":[\"patd:self\"],"
              "\"expires_in_days\":91}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", "/v1/me/tokens", c->carol,
              "{\"name\":\"ninety\",\"scopes\":[\"patd:self\"],"
              "\"expires_in_days\":20}");
    /* Carol's own PAT expires in 30 days: 20 fits both. */
    EXPECT_STATUS(r, 201);

    /* max_tokens_per_user: one more than that is a 409, nothing made. */
    {
        long active = h_count(h, "/v1/me/tokens", c->carol);
        long long audit;

        r = httpf(h, "PUT", "/v1/policy", c->adm,
                  "{\"max_lifetime_days\":90,\"allow_no_expiry\":true,"
                  "\"default_lifetime_days\":10,\"max_tokens_per_user\":%ld,"
                  "\"revoke_on_reuse\":true}",
                  active);
        EXPECT_STATUS(r, 200);
        audit = h_last_audit_id(h);
        r = httpf(h, "POST", "/v1/me/tokens", c->carol,
                  "{\"name\":\"one-too-many\",\"scopes\":[\"patd:self\"]}");
        EXPECT_ERROR(r, 409, "conflict");
        r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", c->carol_id),
                  c->adm,
                  "{\"name\":\"one-too-many\",\"scopes\":[\"patd:self\"]}");
        EXPECT_ERROR(r, 409, "conflict");
        CHECK(h_count(h, "/v1/me/tokens", c->carol) == active,
              "a token was made beyond max_tokens_per_user");
        CHECK(h_last_audit_id(h) == audit, "a refused mint wrote audit");
        EXPECT_HEALTHY(h);
    }

    r = http(h, "PUT", "/v1/policy", c->adm, orig, NULL);
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/policy", c->adm, NULL, NULL);
    CHECK(jint(r->json, "max_lifetime_days") == 366 ||
              strcmp(r->body, orig) == 0,
          "policy not restored: %s (was %s)", r->body, orig);
}

static void
test_audit(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    size_t i;
    json_t *v;
    bool ok;

    h_section("GET /v1/audit with filters");
    r = http(h, "GET", "/v1/audit?limit=200", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) > 10, "too few audit events: %zu", nitems(r));

    r = http(h, "GET", "/v1/audit?action=user.created", c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 4 && all_items(r, "action", "user.created"),
          "action=user.created: %s", r->body);

    r = http(h, "GET", hfmt(h, "/v1/audit?actor=%s&limit=200", h->admin_id),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) > 0 && all_items(r, "actor_user_id", h->admin_id),
          "actor filter: %s", r->body);

    r = http(h, "GET", hfmt(h, "/v1/audit?target=%s", c->dave_tok_id), c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    ok = nitems(r) >= 1;
    json_array_foreach(jitems(r), i, v)
    {
        ok &= str_is(jstr(v, "target_token_id"), c->dave_tok_id) ||
              str_is(jstr(v, "target_user_id"), c->dave_tok_id);
    }
    CHECK(ok, "target=<token id>: %s", r->body);
    r = http(h, "GET", hfmt(h, "/v1/audit?target=%s", c->dave_id), c->adm, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) >= 2 && all_items(r, "target_user_id", c->dave_id),
          "target=<user id>: %s", r->body);

    r = http(h, "GET", hfmt(h, "/v1/audit?since=%s", h_time_in(h, 3600)),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 0, "since in an hour: %s", r->body);
    r = http(h, "GET", "/v1/audit?since=2000-01-01T00:00:00Z&limit=5", c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 5, "since 2000: %s", r->body);
    r = http(h, "GET",
             hfmt(h, "/v1/audit?action=token.created&actor=%s", h->admin_id),
             c->adm, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) > 0 && all_items(r, "action", "token.created") &&
              all_items(r, "actor_user_id", h->admin_id),
          "action and actor together: %s", r->body);
    CHECK(h_count(h, "/v1/audit?action=policy.updated", c->adm) == 3,
          "three policy.updated events expected");
}

/* An admin cannot lock themselves out. */
static void
test_self_protection(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    long long audit = h_last_audit_id(h);
    const char *me = hfmt(h, "/v1/users/%s", h->admin_id);

    h_section("an admin cannot delete, disable or demote themselves");
    r = http(h, "DELETE", me, c->adm, NULL, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = httpf(h, "PATCH", me, c->adm, "{\"disabled\":true}");
    EXPECT_ERROR(r, 403, "forbidden");
    r = httpf(h, "PATCH", me, c->adm, "{\"role\":\"user\"}");
    EXPECT_ERROR(r, 403, "forbidden");
    CHECK(h_last_audit_id(h) == audit, "a refused self-change wrote audit");
    r = http(h, "GET", me, c->adm, NULL, NULL);
    CHECK(r->status == 200 && jstr(r->json, "role") &&
              strcmp(jstr(r->json, "role"), "admin") == 0 &&
              json_is_false(json_object_get(r->json, "disabled")),
          "the admin changed: %s", r->body);
    EXPECT_HEALTHY(h);
}

static void
test_user_delete(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *tok;

    h_section("DELETE /v1/users/{id}");
    tok = h_token(h, c->carol_id, "before-delete", "[\"patd:self\"]", NULL);
    r = http(h, "GET", "/v1/me", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = http(h, "DELETE", hfmt(h, "/v1/users/%s", c->carol_id), c->adm, NULL,
             NULL);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", "/v1/me", tok, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/me", c->carol, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", hfmt(h, "/v1/users/%s", c->carol_id), c->adm, NULL,
             NULL);
    EXPECT_ERROR(r, 404, "not_found");
    r = http(h, "GET", "/v1/users?q=carol", c->adm, NULL, NULL);
    CHECK(nitems(r) == 0, "a deleted user is listed: %s", r->body);
    r = http(h, "GET", hfmt(h, "/v1/tokens?user_id=%s", c->carol_id), c->adm,
             NULL, NULL);
    CHECK(r->status == 200 && nitems(r) == 0,
          "a deleted user still has active tokens: %s", r->body);
    r = http(h, "DELETE", hfmt(h, "/v1/users/%s", c->carol_id), c->adm, NULL,
             NULL);
    EXPECT_ERROR(r, 404, "not_found");
    /* The name is free again, and the new carol inherits nothing. */
    {
        const char *again = h_user(h, "carol", NULL, NULL);

        CHECK(again != NULL && strcmp(again, c->carol_id) != 0,
              "cannot create a user with a deleted user's name");
        if (again != NULL) {
            r = http(h, "GET", hfmt(h, "/v1/users/%s/tokens?status=all", again),
                     c->adm, NULL, NULL);
            EXPECT_STATUS(r, 200);
            CHECK(nitems(r) == 0, "the new carol has the old one's tokens: %s",
                  r->body);
        }
        r = http(h, "GET", "/v1/me", tok, NULL, NULL);
        EXPECT_ERROR(r, 401, "invalid_token");
    }
}

/* The newest feed row's seq, or -1 after recording a failure. */
static long long
feed_last(struct ctx *c)
{
    struct h *h = &c->h;
    long long after = 0;
    struct resp *r;

    for (;;) {
        r = http(h, "GET", hfmt(h, "/v1/events?after=%lld&limit=200", after),
                 c->adm, NULL, NULL);
        if (!EXPECT_STATUS(r, 200))
            return -1;
        if (nitems(r) == 0)
            return jint(r->json, "next_after");
        after = jint(r->json, "next_after");
    }
}

static void
test_events(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *frank, *tok, *tok_id = NULL;
    long long after, seq;
    json_t *v;

    h_section("events: the change feed, in order, for admins only");
    after = feed_last(c);
    CHECK(after > 0, "the feed is empty after all that: %lld", after);
    frank = h_user(h, "frank", NULL, NULL);
    tok = h_token(h, frank, "feed", "[\"patd:self\"]", &tok_id);
    r = http(h, "DELETE", hfmt(h, "/v1/tokens/%s", tok_id), c->adm, NULL, NULL);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", hfmt(h, "/v1/events?after=%lld", after), c->adm, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 3, "three rows after user, token, revoke: %s", r->body);
    if (nitems(r) == 3) {
        v = json_array_get(jitems(r), 0);
        CHECK(str_is(jstr(v, "type"), "user.created") &&
                  str_is(jstr(v, "user_id"), frank) && jnull(v, "token_id") &&
                  str_is(jstr(v, "actor"), h->admin_id),
              "first row: %s", r->body);
        seq = jint(v, "seq");
        CHECK(seq > after, "seq %lld after %lld", seq, after);
        v = json_array_get(jitems(r), 1);
        CHECK(str_is(jstr(v, "type"), "token.created") &&
                  str_is(jstr(v, "token_id"), tok_id) &&
                  str_is(jstr(json_object_get(v, "data"), "name"), "feed") &&
                  jint(v, "seq") > seq,
              "second row: %s", r->body);
        v = json_array_get(jitems(r), 2);
        CHECK(str_is(jstr(v, "type"), "token.revoked") &&
                  str_is(jstr(v, "token_id"), tok_id) &&
                  str_is(jstr(v, "user_id"), frank) &&
                  jint(r->json, "next_after") == jint(v, "seq"),
              "third row and next_after: %s", r->body);
        CHECK(strstr(r->body, tok) == NULL, "the feed shows a secret");
    }
    /* Paging by one; an empty page keeps the place. */
    r = http(h, "GET", hfmt(h, "/v1/events?after=%lld&limit=1", after), c->adm,
             NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && jint(r->json, "next_after") > after, "one row: %s",
          r->body);
    seq = feed_last(c);
    r = http(h, "GET", hfmt(h, "/v1/events?after=%lld", seq), c->adm, NULL,
             NULL);
    CHECK(nitems(r) == 0 && jint(r->json, "next_after") == seq,
          "past the end: %s", r->body);

    r = http(h, "GET", "/v1/events?after=-1", c->adm, NULL, NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "GET", "/v1/events?after=x", c->adm, NULL, NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "GET", "/v1/events?limit=0", c->adm, NULL, NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "GET", "/v1/events?limit=201", c->adm, NULL, NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "GET", "/v1/events", c->carol, NULL, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    r = http(h, "GET", "/v1/events", NULL, NULL, NULL);
    EXPECT_STATUS(r, 401);
}

int
main(int argc, char **argv)
{
    struct ctx c;
    struct h *h = &c.h;

    memset(&c, 0, sizeof(c));
    h_init(h, argc, argv);
    c.adm = h->admin_token;
    if (h_start(h, NULL)) {
        test_users(&c);
        if (c.carol && c.dave) {
            test_scopes(&c);
            test_user_patch(&c);
            test_user_tokens(&c);
            test_inventory(&c);
            test_bulk_revoke(&c);
            test_policy(&c);
            test_audit(&c);
            test_events(&c);
            test_self_protection(&c);
            test_user_delete(&c);
        }
        EXPECT_HEALTHY(h);
    }
    return h_finish(h);
}
