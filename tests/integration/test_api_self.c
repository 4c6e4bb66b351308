/* SPDX-License-Identifier: MIT */
/*
 * Integration test of the self-service API as an ordinary user: GET
 * /v1/me, the whole life of the user's own tokens under /v1/me/tokens
 * (create, read, edit, list with pagination and status filters,
 * regenerate with a grace period, revoke), /v1/me/audit, and GET and
 * DELETE /v1/token; and that each token works, or stops working, exactly
 * when the API says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct ctx {
    struct h h;
    const char *alice_id;
    const char *alice; /* alice's PAT (patd:self) */
    const char *alice_tok_id;
};

/* Checks that o looks like a token object of the contract. */
static void
check_token_shape(const json_t *o, const char *what)
{
    static const char *const keys[] = {
        "id",           "name",       "description",    "user_id",
        "scopes",       "audiences",  "allowed_cidrs",  "hint",
        "status",       "created_at", "expires_at",     "last_used_at",
        "last_used_ip", "revoked_at", "revoked_reason", NULL};
    const char *const *k;
    const char *id = jstr(o, "id");

    for (k = keys; *k != NULL; k++)
        CHECK(json_object_get(o, *k) != NULL, "%s: token lacks '%s'", what, *k);
    CHECK(id != NULL && strncmp(id, "tok_", 4) == 0 && strlen(id) == 20,
          "%s: bad token id '%s'", what, id ? id : "(null)");
    CHECK(json_is_array(json_object_get(o, "scopes")),
          "%s: scopes is not an array", what);
}

static void
test_operations(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;

    h_section("GET /healthz and /readyz");
    r = http(h, "GET", "/healthz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "status") && strcmp(jstr(r->json, "status"), "ok") == 0,
          "/healthz: %s", r->body);
    r = http(h, "GET", "/readyz", NULL, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "ready") == 0,
          "/readyz: %s", r->body);
}

static void
test_me(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;

    h_section("GET /v1/me");
    r = http(h, "GET", "/v1/me", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(strncmp(r->content_type, "application/json", 16) == 0,
          "GET /v1/me: Content-Type '%s'", r->content_type);
    CHECK(jstr(r->json, "id") && strcmp(jstr(r->json, "id"), c->alice_id) == 0,
          "GET /v1/me: wrong id: %s", r->body);
    CHECK(jstr(r->json, "username") &&
              strcmp(jstr(r->json, "username"), "alice") == 0,
          "GET /v1/me: wrong username: %s", r->body);
    CHECK(jstr(r->json, "role") && strcmp(jstr(r->json, "role"), "user") == 0,
          "GET /v1/me: wrong role: %s", r->body);
    CHECK(jarray_has(json_object_get(r->json, "scopes"), "patd:self"),
          "GET /v1/me: scopes lack patd:self: %s", r->body);
    CHECK(json_is_false(json_object_get(r->json, "disabled")),
          "GET /v1/me: disabled is not false: %s", r->body);
    CHECK(jstr(r->json, "created_at") && jstr(r->json, "updated_at"),
          "GET /v1/me: timestamps missing: %s", r->body);
    CHECK(json_object_get(r->json, "password") == NULL &&
              json_object_get(r->json, "password_hash") == NULL,
          "GET /v1/me: exposes a password field: %s", r->body);
}

/* Creates a token for alice through the API; returns the answer. */
static struct resp *
create(struct ctx *c, const char *name)
{
    return httpf(&c->h, "POST", "/v1/me/tokens", c->alice,
                 "{\"name\":\"%s\",\"scopes\":[\"patd:self\"]}", name);
}

static void
test_create_get_patch(struct ctx *c, const char **out_id, const char **secret)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *id, *tok, *hint;

    h_section("POST, GET, PATCH /v1/me/tokens");
    r = httpf(h, "POST", "/v1/me/tokens", c->alice,
              "{\"name\":\"laptop\",\"scopes\":[\"patd:self\"],"
              "\"description\":\"my laptop\",\"expires_in_days\":7}");
    EXPECT_STATUS(r, 201);
    check_token_shape(r->json, r->what);
    CHECK(strstr(r->cache_control, "no-store") != NULL,
          "an answer with a plaintext token without Cache-Control: no-store "
          "('%s')",
          r->cache_control);
    id = jstr(r->json, "id");
    tok = jstr(r->json, "token");
    hint = jstr(r->json, "hint");
    *out_id = id;
    *secret = tok;
    CHECK(tok != NULL && strlen(tok) > 20, "no plaintext token: %s", r->body);
    CHECK(tok && hint && strlen(hint) == 4 &&
              strcmp(tok + strlen(tok) - 4, hint) == 0,
          "hint is not the token's last 4 characters: %s", r->body);
    CHECK(jstr(r->json, "user_id") &&
              strcmp(jstr(r->json, "user_id"), c->alice_id) == 0,
          "user_id is not alice's: %s", r->body);
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "active") == 0,
          "new token not active: %s", r->body);
    CHECK(jstr(r->json, "name") && strcmp(jstr(r->json, "name"), "laptop") == 0,
          "name: %s", r->body);
    CHECK(jstr(r->json, "description") &&
              strcmp(jstr(r->json, "description"), "my laptop") == 0,
          "description: %s", r->body);
    CHECK(jstr(r->json, "expires_at") != NULL, "no expires_at: %s", r->body);
    CHECK(jnull(r->json, "revoked_at"), "revoked_at not null: %s", r->body);
    if (id == NULL || tok == NULL)
        return;

    /* The new token works, and is the one the server describes. */
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "id") && strcmp(jstr(r->json, "id"), id) == 0,
          "GET /v1/token with the new token: %s", r->body);
    CHECK(json_object_get(r->json, "token") == NULL,
          "GET /v1/token shows a plaintext: %s", r->body);
    r = http(h, "GET", "/v1/me", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "id") && strcmp(jstr(r->json, "id"), c->alice_id) == 0,
          "GET /v1/me with the new token is not alice: %s", r->body);

    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    check_token_shape(r->json, r->what);
    CHECK(json_object_get(r->json, "token") == NULL,
          "GET /v1/me/tokens/{id} shows a plaintext: %s", r->body);
    CHECK(jstr(r->json, "hint") && hint &&
              strcmp(jstr(r->json, "hint"), hint) == 0,
          "GET: hint differs: %s", r->body);

    r = httpf(h, "PATCH", hfmt(h, "/v1/me/tokens/%s", id), c->alice,
              "{\"name\":\"laptop-2\",\"description\":\"renamed\"}");
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "name") &&
              strcmp(jstr(r->json, "name"), "laptop-2") == 0,
          "PATCH answer name: %s", r->body);
    CHECK(json_object_get(r->json, "token") == NULL,
          "PATCH shows a plaintext: %s", r->body);
    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL, NULL);
    CHECK(jstr(r->json, "name") &&
              strcmp(jstr(r->json, "name"), "laptop-2") == 0 &&
              jstr(r->json, "description") &&
              strcmp(jstr(r->json, "description"), "renamed") == 0,
          "PATCH did not stick: %s", r->body);
    /* Only the description: the name stays. */
    r = httpf(h, "PATCH", hfmt(h, "/v1/me/tokens/%s", id), c->alice,
              "{\"description\":\"only this\"}");
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "name") &&
              strcmp(jstr(r->json, "name"), "laptop-2") == 0 &&
              jstr(r->json, "description") &&
              strcmp(jstr(r->json, "description"), "only this") == 0,
          "partial PATCH: %s", r->body);
    /* The token still works after the edit. */
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

static void
test_pagination(struct ctx *c)
{
    struct h *h = &c->h;
    const char *ids[5];
    json_t *seen = json_array();
    const char *cursor = NULL;
    long total;
    int i, pages = 0;
    bool dup = false;

    h_section("GET /v1/me/tokens pagination");
    for (i = 0; i < 5; i++) {
        struct resp *r = create(c, hfmt(h, "page-%d", i));
        EXPECT_STATUS(r, 201);
        ids[i] = jstr(r->json, "id");
    }
    total = h_count(h, "/v1/me/tokens", c->alice);
    for (;;) {
        struct resp *r =
            http(h, "GET",
                 cursor ? hfmt(h, "/v1/me/tokens?limit=2&cursor=%s", cursor)
                        : "/v1/me/tokens?limit=2",
                 c->alice, NULL, NULL);
        json_t *it, *next;
        size_t k;

        if (!EXPECT_STATUS(r, 200))
            break;
        pages++;
        CHECK(nitems(r) <= 2, "page %d has %zu items", pages, nitems(r));
        json_array_foreach(jitems(r), k, it)
        {
            if (jarray_has(seen, jstr(it, "id")))
                dup = true;
            json_array_append_new(seen, json_string(jstr(it, "id")));
        }
        next = json_object_get(r->json, "next_cursor");
        CHECK(json_object_get(r->json, "next_cursor") != NULL,
              "no next_cursor key: %s", r->body);
        if (!json_is_string(next))
            break;
        CHECK(nitems(r) == 2, "a page before the last has %zu items",
              nitems(r));
        cursor = hstrdup(h, json_string_value(next));
        if (!CHECK(pages < 50, "pagination does not end"))
            break;
    }
    CHECK(!dup, "an item came twice across pages");
    for (i = 0; i < 5; i++)
        CHECK(ids[i] && jarray_has(seen, ids[i]),
              "token page-%d missing from the pages", i);
    CHECK((long)json_array_size(seen) == total,
          "pages hold %zu items, the full list %ld", json_array_size(seen),
          total);
    CHECK(pages == (int)((total + 1) / 2), "%d pages for %ld items", pages,
          total);
    json_decref(seen);
}

/* Whether a list answer holds id, with status st when st is not NULL. */
static bool
listed(const struct resp *r, const char *id, const char *st)
{
    size_t i;
    json_t *v;

    json_array_foreach(jitems(r), i, v)
    {
        if (jstr(v, "id") && id && strcmp(jstr(v, "id"), id) == 0)
            return st == NULL ||
                   (jstr(v, "status") && strcmp(jstr(v, "status"), st) == 0);
    }
    return false;
}

static void
test_revoke(struct ctx *c, const char *id, const char *tok)
{
    struct h *h = &c->h;
    struct resp *r;

    h_section("DELETE /v1/me/tokens/{id}");
    r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL,
             NULL);
    EXPECT_STATUS(r, 204);
    CHECK(r->len == 0, "204 with a body: %s", r->body);
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/me", tok, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    /* Idempotent. */
    r = http(h, "DELETE", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL,
             NULL);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "revoked") == 0 &&
              jstr(r->json, "revoked_at") != NULL &&
              jstr(r->json, "revoked_reason") != NULL,
          "revoked token: %s", r->body);

    h_section("GET /v1/me/tokens?status=");
    r = http(h, "GET", "/v1/me/tokens", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(!listed(r, id, NULL), "default list (active) shows a revoked token");
    CHECK(listed(r, c->alice_tok_id, "active"),
          "default list lacks the active token");
    r = http(h, "GET", "/v1/me/tokens?status=active", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(!listed(r, id, NULL) && listed(r, c->alice_tok_id, "active"),
          "status=active: %s", r->body);
    r = http(h, "GET", "/v1/me/tokens?status=revoked", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(listed(r, id, "revoked") && !listed(r, c->alice_tok_id, NULL),
          "status=revoked: %s", r->body);
    r = http(h, "GET", "/v1/me/tokens?status=all&limit=200", c->alice, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(listed(r, id, "revoked") && listed(r, c->alice_tok_id, "active"),
          "status=all: %s", r->body);
}

static void
test_regenerate_and_expiry(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *id, *old, *fresh, *short_id, *short_tok;
    long long t0, waited;
    bool refused;

    h_section("POST /v1/me/tokens/{id}/regenerate with grace_seconds");
    /* A token that expires in 2 s, to see status=expired afterwards. */
    r = httpf(h, "POST", "/v1/me/tokens", c->alice,
              "{\"name\":\"short\",\"scopes\":[\"patd:self\"],"
              "\"expires_at\":\"%s\"}",
              h_time_in(h, 2));
    EXPECT_STATUS(r, 201);
    short_id = jstr(r->json, "id");
    short_tok = jstr(r->json, "token");

    r = create(c, "rotating");
    EXPECT_STATUS(r, 201);
    id = jstr(r->json, "id");
    old = jstr(r->json, "token");
    if (id == NULL || old == NULL)
        return;
    /*
     * The server counts whole seconds: the old secret retires at the
     * second of the request plus 2, at least 1 s after t0.
     */
    t0 = h_now_ms();
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", id), c->alice,
              "{\"grace_seconds\":2}");
    EXPECT_STATUS(r, 200);
    check_token_shape(r->json, r->what);
    fresh = jstr(r->json, "token");
    CHECK(jstr(r->json, "id") && strcmp(jstr(r->json, "id"), id) == 0,
          "regenerate changed the id: %s", r->body);
    CHECK(fresh != NULL && strcmp(fresh, old) != 0,
          "regenerate gave no new plaintext: %s", r->body);
    CHECK(fresh && jstr(r->json, "hint") &&
              strcmp(fresh + strlen(fresh) - 4, jstr(r->json, "hint")) == 0,
          "regenerate: hint is not the new token's: %s", r->body);
    if (fresh == NULL)
        return;
    r = http(h, "GET", "/v1/token", old, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/token", fresh, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jstr(r->json, "id") && strcmp(jstr(r->json, "id"), id) == 0,
          "the new secret names another token: %s", r->body);

    refused = h_poll_status(h, "/v1/token", old, 401, 10000);
    waited = h_now_ms() - t0;
    CHECK(refused, "the old secret still works 10 s after a 2 s grace");
    CHECK(!refused || waited >= 950,
          "the old secret was refused after %lld ms, inside the 2 s grace",
          waited);
    r = http(h, "GET", "/v1/token", old, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/token", fresh, NULL, NULL);
    EXPECT_STATUS(r, 200);

    /* Regenerating without grace retires the old secret at once. */
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", id), c->alice,
              "{}");
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/token", fresh, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", "/v1/token", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);

    h_section("expired token and status=expired");
    CHECK(short_tok != NULL && short_id != NULL, "no short-lived token");
    if (short_tok == NULL || short_id == NULL)
        return;
    CHECK(h_poll_status(h, "/v1/token", short_tok, 401, 10000),
          "a token past its expires_at still works");
    r = http(h, "GET", "/v1/me/tokens?status=expired", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(listed(r, short_id, "expired") && !listed(r, c->alice_tok_id, NULL),
          "status=expired: %s", r->body);
    r = http(h, "GET", "/v1/me/tokens", c->alice, NULL, NULL);
    CHECK(!listed(r, short_id, NULL), "active list shows an expired token");
}

static void test_me_audit_admin(struct ctx *c);

static void
test_me_audit(struct ctx *c, const char *patched_id)
{
    struct h *h = &c->h;
    struct resp *r;
    json_t *it;
    size_t i;
    bool created = false, updated = false, revoked = false, regen = false,
         foreign = false;

    h_section("GET /v1/me/audit");
    r = http(h, "GET", "/v1/me/audit?limit=200", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(json_object_get(r->json, "next_cursor") != NULL, "no next_cursor: %s",
          r->body);
    json_array_foreach(jitems(r), i, it)
    {
        const char *a = jstr(it, "action");
        const char *actor = jstr(it, "actor_user_id");
        const char *target = jstr(it, "target_user_id");

        if (!((actor && strcmp(actor, c->alice_id) == 0) ||
              (target && strcmp(target, c->alice_id) == 0)))
            foreign = true;
        if (a == NULL)
            continue;
        created |= strcmp(a, "token.created") == 0;
        updated |= strcmp(a, "token.updated") == 0 &&
                   jstr(it, "target_token_id") && patched_id &&
                   strcmp(jstr(it, "target_token_id"), patched_id) == 0;
        revoked |= strcmp(a, "token.revoked") == 0;
        regen |= strcmp(a, "token.regenerated") == 0;
        CHECK(jint(it, "id") > 0 && jstr(it, "at") != NULL &&
                  json_is_object(json_object_get(it, "detail")),
              "audit event %zu lacks id, at or detail", i);
    }
    CHECK(!foreign, "/v1/me/audit shows an event neither by nor about alice");
    CHECK(created && updated && revoked && regen,
          "/v1/me/audit lacks an action (created %d updated %d revoked %d "
          "regenerated %d)",
          created, updated, revoked, regen);
    test_me_audit_admin(c);
    /* The admin's own events are not alice's. */
    r = http(h, "GET", "/v1/me/audit?limit=1", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 &&
              json_is_string(json_object_get(r->json, "next_cursor")),
          "limit=1 on /v1/me/audit: %s", r->body);
    if (json_is_string(json_object_get(r->json, "next_cursor"))) {
        long long first = jint(json_array_get(jitems(r), 0), "id");
        r = http(h, "GET",
                 hfmt(h, "/v1/me/audit?limit=1&cursor=%s",
                      jstr(r->json, "next_cursor")),
                 c->alice, NULL, NULL);
        EXPECT_STATUS(r, 200);
        CHECK(nitems(r) == 1 &&
                  jint(json_array_get(jitems(r), 0), "id") > first,
              "second page of /v1/me/audit: %s", r->body);
    }
}

/*
 * An admin's change to alice's account shows in her audit as the admin's
 * act, without the admin's address, user agent or token (issue #11).
 */
static void
test_me_audit_admin(struct ctx *c)
{
    static const char *const ua[] = {"User-Agent: admin-console/7.7", NULL};
    struct h *h = &c->h;
    struct resp *r;
    const char *admin_tok_id;
    json_t *it;
    size_t i;
    int seen = 0;

    h_section("/v1/me/audit hides where an admin acted from");
    r = http(h, "GET", "/v1/token", h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
    admin_tok_id = hstrdup(h, jstr(r->json, "id") ? jstr(r->json, "id") : "");
    r = http(h, "PATCH", hfmt(h, "/v1/users/%s", c->alice_id), h->admin_token,
             "{\"display_name\":\"Alice by admin\"}", ua);
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/me/audit?limit=200", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(
        strstr(r->body, "admin-console") == NULL &&
            (admin_tok_id[0] == '\0' || strstr(r->body, admin_tok_id) == NULL),
        "/v1/me/audit shows the admin's user agent or token: %s", r->body);
    json_array_foreach(jitems(r), i, it)
    {
        const char *actor = jstr(it, "actor_user_id");

        if (actor == NULL || strcmp(actor, h->admin_id) != 0)
            continue;
        seen++;
        CHECK(jnull(it, "ip") && jnull(it, "user_agent") &&
                  jnull(it, "actor_token_id"),
              "an admin's event shows where it came from: %s",
              jstr(it, "action"));
        CHECK(jstr(it, "actor") && strcmp(jstr(it, "actor"), "admin") == 0,
              "an admin's event has actor '%s'",
              jstr(it, "actor") ? jstr(it, "actor") : "(none)");
    }
    CHECK(seen > 0, "/v1/me/audit shows no event by the admin: %s", r->body);
    /* The admin's own view keeps everything. */
    r = http(h, "GET", hfmt(h, "/v1/audit?target=%s&limit=200", c->alice_id),
             h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(strstr(r->body, "admin-console/7.7") != NULL,
          "/v1/audit lost the admin's user agent: %s", r->body);
}

static void
test_token_self(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;
    const char *id, *tok;

    h_section("GET and DELETE /v1/token");
    r = http(h, "GET", "/v1/token", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    check_token_shape(r->json, r->what);
    CHECK(jstr(r->json, "id") &&
              strcmp(jstr(r->json, "id"), c->alice_tok_id) == 0,
          "GET /v1/token names another token: %s", r->body);

    r = create(c, "throwaway");
    EXPECT_STATUS(r, 201);
    id = jstr(r->json, "id");
    tok = jstr(r->json, "token");
    if (tok == NULL || id == NULL)
        return;
    r = http(h, "DELETE", "/v1/token", tok, NULL, NULL);
    EXPECT_STATUS(r, 204);
    r = http(h, "GET", "/v1/token", tok, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    CHECK(strstr(r->www_auth, "Bearer realm=\"patd\"") != NULL &&
              strstr(r->www_auth, "error=\"invalid_token\"") != NULL,
          "WWW-Authenticate for a revoked token: '%s'", r->www_auth);
    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL, NULL);
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "revoked") == 0,
          "DELETE /v1/token did not revoke: %s", r->body);
    /* The caller's other token is untouched. */
    r = http(h, "GET", "/v1/token", c->alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
}

/*
 * A retired secret presented again is a reuse: 401, an audit event, and
 * under the policy's revoke_on_reuse the whole token is revoked.
 */
static void
test_reuse(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r, *pol;
    const char *id, *old, *fresh;

    h_section("reuse of a retired secret under revoke_on_reuse");
    pol = http(h, "GET", "/v1/policy", h->admin_token, NULL, NULL);
    r = httpf(h, "PUT", "/v1/policy", h->admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":true}");
    EXPECT_STATUS(r, 200);
    r = create(c, "reused");
    EXPECT_STATUS(r, 201);
    id = jstr(r->json, "id");
    old = jstr(r->json, "token");
    if (id == NULL || old == NULL)
        return;
    r = httpf(h, "POST", hfmt(h, "/v1/me/tokens/%s/regenerate", id), c->alice,
              "{}");
    EXPECT_STATUS(r, 200);
    fresh = jstr(r->json, "token");
    r = http(h, "GET", "/v1/token", fresh, NULL, NULL);
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", "/v1/token", old, NULL, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    /*
     * The reuse revokes the token in a transaction on the verifier's own
     * store handle, behind no route: its commit must reach the cache,
     * which still holds the current secret's positive answer. (Found as
     * a bug once: the revoked token kept working for cache.ttl.)
     */
    r = http(h, "GET", "/v1/token", fresh, NULL, NULL);
    CHECK(r->status == 401 && jstr(r->json, "error") &&
              strcmp(jstr(r->json, "error"), "invalid_token") == 0,
          "SERVER BUG: the current secret of a token revoked for reuse "
          "still works: %ld %.300s",
          r->status, r->body);
    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id), c->alice, NULL, NULL);
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "revoked") == 0,
          "a reused token is not revoked: %s", r->body);
    CHECK(h_count(
              h, hfmt(h, "/v1/audit?action=token.reuse_detected&target=%s", id),
              h->admin_token) >= 1,
          "no token.reuse_detected audit event for %s", id);
    r = http(h, "PUT", "/v1/policy", h->admin_token, pol->body, NULL);
    EXPECT_STATUS(r, 200);
}

/* A token pasted into a URL reaches no log. */
static void
test_token_in_url(struct ctx *c)
{
    struct h *h = &c->h;
    struct resp *r;

    h_section("a token in the URL is not logged");
    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", c->alice), c->alice, NULL,
             NULL);
    EXPECT_ERROR(r, 404, "not_found");
    r = http(h, "GET", hfmt(h, "/%s", c->alice), NULL, NULL, NULL);
    EXPECT_ERROR(r, 404, "not_found");
    r = http(h, "GET", hfmt(h, "/v1/me?access_token=%s", c->alice), NULL, NULL,
             NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    /* h_finish() greps the log for every token seen, alice's included. */
}

int
main(int argc, char **argv)
{
    struct ctx c;
    struct h *h = &c.h;
    const char *patched = NULL, *secret = NULL;

    memset(&c, 0, sizeof(c));
    h_init(h, argc, argv);
    if (h_start(h, NULL)) {
        c.alice_id = h_user(h, "alice", NULL, NULL);
        if (c.alice_id)
            c.alice = h_token(h, c.alice_id, "alice-main", "[\"patd:self\"]",
                              &c.alice_tok_id);
        if (c.alice != NULL) {
            test_operations(&c);
            test_me(&c);
            test_create_get_patch(&c, &patched, &secret);
            test_pagination(&c);
            if (patched && secret)
                test_revoke(&c, patched, secret);
            test_regenerate_and_expiry(&c);
            test_me_audit(&c, patched);
            test_token_self(&c);
            test_reuse(&c);
            test_token_in_url(&c);
        }
        EXPECT_HEALTHY(h);
    }
    return h_finish(h);
}
