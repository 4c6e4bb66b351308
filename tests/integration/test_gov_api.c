/* SPDX-License-Identifier: MIT */
/*
 * Integration test of governance (DESIGN.md section 13) on the real
 * patd, on SQLite and (integration_pg_test_gov_api) PostgreSQL:
 *
 *   service accounts  created by admins with "kind":"service", never with
 *                     a password, never signing in; the inventory filters
 *                     by kind; their tokens are issued by admins and carry
 *                     the kind in /v1/auth (X-Pat-User-Kind) and
 *                     introspection (user_kind).
 *   approvals         a token asking for a scope of the policy's
 *                     approval_required_scopes is created pending and is
 *                     inactive at /v1/auth and introspection; the queue,
 *                     approve (active at once), deny with a reason
 *                     (revoked; the owner reads the reason), every
 *                     refusal with its status and code, the feed rows.
 *   use limits        max_uses 3: three 200s, then 401; the token shows
 *                     uses_left 0 and status exhausted.
 *   rate limits       limit 3 per 2 s: 200s with X-RateLimit-*, then 429
 *                     with Retry-After, then 200 again once the window
 *                     has ended; bad limits refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_verify.h"

static const char *const env[] = {"PATD_AUTH_MAX_FAILURES_PER_IP=100000", NULL};

/* The value of header name of r ("" when absent). */
static const char *
header(struct h *h, const struct resp *r, const char *name)
{
    char v[256];

    if (resp_header(r, name, v, sizeof(v)) < 1)
        return "";
    return hstrdup(h, v);
}

static long
count_users(struct h *h)
{
    return h_count(h, "/v1/users", h->admin_token);
}

static void
test_service_accounts(struct h *h)
{
    const char *svc, *tok, *tok_id, *gw;
    struct resp *r;
    long users;

    h_section("service accounts");
    users = count_users(h);
    r = http(h, "POST", "/v1/users", h->admin_token,
             "{\"username\":\"ci-bot\",\"kind\":\"service\","
             "\"password\":\"a long password\"}",
             NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "POST", "/v1/users", h->admin_token,
             "{\"username\":\"ci-bot\",\"kind\":\"robot\"}", NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    r = http(h, "POST", "/v1/users", h->admin_token,
             "{\"username\":\"ci-bot\",\"kind\":\"service\",\"role\":"
             "\"admin\"}",
             NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    CHECK(count_users(h) == users, "refusals created no user");
    r = http(h, "POST", "/v1/users", h->admin_token,
             "{\"username\":\"ci-bot\",\"kind\":\"service\",\"scopes\":"
             "[\"patd:self\",\"repo:read\"]}",
             NULL);
    if (!EXPECT_STATUS(r, 201))
        return;
    svc = hstrdup(h, jstr(r->json, "id"));
    CHECK(jstr(r->json, "kind") &&
              strcmp(jstr(r->json, "kind"), "service") == 0,
          "kind service");
    r = http(h, "GET", "/v1/users?kind=service", h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && items_have_id(r, svc), "one service account");
    r = http(h, "GET", "/v1/users?kind=person", h->admin_token, NULL, NULL);
    CHECK(r->status == 200 && !items_have_id(r, svc), "people only");
    r = http(h, "GET", "/v1/users?kind=robot", h->admin_token, NULL, NULL);
    EXPECT_ERROR(r, 400, "invalid_request");
    /* No password, no sign-in. */
    r = httpf(h, "PATCH", hfmt(h, "/v1/users/%s", svc), h->admin_token,
              "{\"password\":\"a long password\"}");
    EXPECT_ERROR(r, 403, "forbidden");
    r = httpf(h, "POST", "/v1/session", NULL,
              "{\"username\":\"ci-bot\",\"password\":\"a long password\"}");
    EXPECT_ERROR(r, 401, "invalid_token");
    /* Tokens: by admins; the kind travels with them. */
    tok = h_token(h, svc, "deploy", "[\"patd:self\",\"repo:read\"]", &tok_id);
    if (tok == NULL)
        return;
    r = v_auth(h, "GET", "", tok, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(strcmp(header(h, r, "X-Pat-User-Kind"), "service") == 0,
          "X-Pat-User-Kind: service, got '%s'",
          header(h, r, "X-Pat-User-Kind"));
    r = v_auth(h, "GET", "", h->admin_token, NULL);
    CHECK(strcmp(header(h, r, "X-Pat-User-Kind"), "person") == 0,
          "X-Pat-User-Kind: person");
    r = httpf(h, "POST", "/v1/me/tokens", tok,
              "{\"name\":\"own\",\"scopes\":[\"repo:read\"]}");
    EXPECT_ERROR(r, 403, "forbidden");
    gw = h_token(h, h->admin_id, "gw", "[\"patd:introspect\"]", NULL);
    r = v_form(h, "/oauth2/introspect", gw, hfmt(h, "token=%s", tok), NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jbool(r->json, "active") && jstr(r->json, "user_kind") &&
              strcmp(jstr(r->json, "user_kind"), "service") == 0,
          "introspection: user_kind service");
}

/* Whether the last feed rows hold type for token id. */
static bool
feed_has(struct h *h, const char *type, const char *id)
{
    struct resp *r =
        http(h, "GET", "/v1/events?limit=200", h->admin_token, NULL, NULL);
    json_t *items = r->json ? json_object_get(r->json, "items") : NULL, *it;
    size_t i;

    json_array_foreach(items, i, it)
    {
        if (jstr(it, "type") && strcmp(jstr(it, "type"), type) == 0 &&
            jstr(it, "token_id") && strcmp(jstr(it, "token_id"), id) == 0)
            return true;
    }
    return false;
}

static void
test_approvals(struct h *h)
{
    const char *alice_id, *alice, *gw, *sec, *id, *sec2, *id2;
    const json_t *ap;
    struct resp *r;
    long long audit;

    h_section("approvals");
    r = httpf(h, "PUT", "/v1/policy", h->admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":false,"
              "\"approval_required_scopes\":[\"repo:write\"]}");
    EXPECT_STATUS(r, 200);
    CHECK(r->json &&
              jarray_has(json_object_get(r->json, "approval_required_scopes"),
                         "repo:write"),
          "policy names repo:write");
    alice_id = h_user(h, "alice",
                      "[\"patd:self\",\"repo:read\",\"repo:write\"]", NULL);
    /* Issued by an admin: no approval needed. */
    alice = h_token(h, alice_id, "master",
                    "[\"patd:self\",\"repo:read\",\"repo:write\"]", NULL);
    gw = h_token(h, h->admin_id, "gw2", "[\"patd:introspect\"]", NULL);
    if (alice == NULL || gw == NULL)
        return;
    r = httpf(h, "POST", "/v1/me/tokens", alice,
              "{\"name\":\"push\",\"scopes\":[\"repo:write\"]}");
    if (!EXPECT_STATUS(r, 201))
        return;
    sec = jstr(r->json, "token");
    id = hstrdup(h, jstr(r->json, "id"));
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "pending") == 0,
          "created pending");
    r = httpf(h, "POST", "/v1/me/tokens", alice,
              "{\"name\":\"read\",\"scopes\":[\"repo:read\"]}");
    CHECK(r->status == 201 && strcmp(jstr(r->json, "status"), "active") == 0 &&
              jnull(r->json, "approval"),
          "a token without a sensitive scope is active");
    /* Pending: inactive everywhere. */
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = v_form(h, "/oauth2/introspect", gw, hfmt(h, "token=%s", sec), NULL);
    CHECK(r->status == 200 && r->json && !jbool(r->json, "active"),
          "introspection: pending is inactive");
    /* The queue. */
    r = http(h, "GET", "/v1/approvals", h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == 1 && items_have_id(r, id), "the queue holds it");
    r = http(h, "GET", "/v1/approvals", alice, NULL, NULL);
    EXPECT_ERROR(r, 403, "forbidden");
    /* Refusals change nothing. */
    audit = h_last_audit_id(h);
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id), alice,
              "{\"action\":\"approve\"}");
    EXPECT_ERROR(r, 403, "forbidden");
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id), h->admin_token,
              "{\"action\":\"maybe\"}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id), h->admin_token,
              "{\"action\":\"approve\",\"reason\":\"fine\"}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id), h->admin_token,
              "{\"action\":\"approve\",\"extra\":1}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", "/v1/approvals/tok_nothere0000000", h->admin_token,
              "{\"action\":\"approve\"}");
    EXPECT_ERROR(r, 404, "not_found");
    CHECK(h_last_audit_id(h) == audit, "refusals wrote no audit event");
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    /* Approve: active from the next check. */
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id), h->admin_token,
              "{\"action\":\"approve\"}");
    EXPECT_STATUS(r, 200);
    ap = r->json ? json_object_get(r->json, "approval") : NULL;
    CHECK(ap && jstr(ap, "state") &&
              strcmp(jstr(ap, "state"), "approved") == 0 &&
              jstr(ap, "decided_by") &&
              strcmp(jstr(ap, "decided_by"), h->admin_id) == 0,
          "approved by the admin");
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(feed_has(h, "token.approved", id), "feed: token.approved");
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id), h->admin_token,
              "{\"action\":\"deny\"}");
    EXPECT_ERROR(r, 409, "conflict");
    /* Deny with a reason: the owner reads it. */
    r = httpf(h, "POST", "/v1/me/tokens", alice,
              "{\"name\":\"push2\",\"scopes\":[\"repo:write\"]}");
    if (!EXPECT_STATUS(r, 201))
        return;
    sec2 = jstr(r->json, "token");
    id2 = hstrdup(h, jstr(r->json, "id"));
    r = httpf(h, "POST", hfmt(h, "/v1/approvals/%s", id2), h->admin_token,
              "{\"action\":\"deny\",\"reason\":\"use the mirror\"}");
    EXPECT_STATUS(r, 200);
    r = http(h, "GET", hfmt(h, "/v1/me/tokens/%s", id2), alice, NULL, NULL);
    EXPECT_STATUS(r, 200);
    ap = r->json ? json_object_get(r->json, "approval") : NULL;
    CHECK(ap && strcmp(jstr(ap, "state"), "denied") == 0 &&
              jstr(ap, "reason") &&
              strcmp(jstr(ap, "reason"), "use the mirror") == 0 &&
              strcmp(jstr(r->json, "status"), "revoked") == 0 &&
              strcmp(jstr(r->json, "revoked_reason"), "denied") == 0,
          "the owner sees the denial and its reason");
    r = v_auth(h, "GET", "", sec2, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    CHECK(feed_has(h, "token.denied", id2), "feed: token.denied");
    r = http(h, "GET", "/v1/approvals", h->admin_token, NULL, NULL);
    CHECK(r->status == 200 && nitems(r) == 0, "the queue is empty");
    /* The policy back, for what follows. */
    r = httpf(h, "PUT", "/v1/policy", h->admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":false,\"approval_required_scopes\":[]}");
    EXPECT_STATUS(r, 200);
}

static void
test_use_limits(struct h *h)
{
    const char *uid, *sec, *id;
    struct resp *r;
    int i;

    h_section("use limits");
    uid = h_user(h, "limited", "[\"patd:self\",\"repo:read\"]", NULL);
    if (uid == NULL)
        return;
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"zero\",\"scopes\":[\"repo:read\"],\"max_uses\":0}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"three\",\"scopes\":[\"repo:read\"],"
              "\"max_uses\":3}");
    if (!EXPECT_STATUS(r, 201))
        return;
    sec = jstr(r->json, "token");
    id = hstrdup(h, jstr(r->json, "id"));
    CHECK(jint(r->json, "max_uses") == 3 && jint(r->json, "uses_left") == 3,
          "max_uses 3, uses_left 3");
    /* A check that fails spends nothing. */
    r = v_auth(h, "GET", "?scope=patd:admin", sec, NULL);
    EXPECT_ERROR(r, 403, "insufficient_scope");
    for (i = 0; i < 3; i++) {
        r = v_auth(h, "GET", "", sec, NULL);
        EXPECT_STATUS(r, 200);
    }
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_ERROR(r, 401, "invalid_token");
    r = http(h, "GET", hfmt(h, "/v1/tokens/%s", id), h->admin_token, NULL,
             NULL);
    CHECK(r->status == 200 && jint(r->json, "uses_left") == 0 &&
              strcmp(jstr(r->json, "status"), "exhausted") == 0,
          "uses_left 0, status exhausted");
}

static void
test_rate_limits(struct h *h)
{
    const char *uid, *sec;
    char v[64];
    struct resp *r;
    long long t0;
    int i;

    h_section("rate limits");
    uid = h_user(h, "rated", "[\"patd:self\",\"repo:read\"]", NULL);
    if (uid == NULL)
        return;
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"bad\",\"scopes\":[\"repo:read\"],"
              "\"rate_limit\":{\"limit\":3}}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"bad\",\"scopes\":[\"repo:read\"],"
              "\"rate_limit\":{\"limit\":0,\"window_seconds\":2}}");
    EXPECT_ERROR(r, 400, "invalid_request");
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"bad\",\"scopes\":[\"repo:read\"],"
              "\"rate_limit\":{\"limit\":3,\"window_seconds\":2,\"x\":1}}");
    EXPECT_ERROR(r, 400, "invalid_request");
    /*
     * Windows are aligned to multiples of their length: start right
     * after a boundary so that the four requests fall in one window.
     */
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"rated\",\"scopes\":[\"repo:read\"],"
              "\"rate_limit\":{\"limit\":3,\"window_seconds\":4}}");
    if (!EXPECT_STATUS(r, 201))
        return;
    sec = jstr(r->json, "token");
    r = v_auth(h, "GET", "", sec, NULL); /* fills the cache; counts one */
    while (strcmp(header(h, r, "X-RateLimit-Reset"), "4") != 0 &&
           strcmp(header(h, r, "X-RateLimit-Reset"), "") != 0 &&
           r->status != 0) {
        h_poll_pause();
        r = v_auth(h, "GET", "", sec, NULL);
        if (r->status == 429) /* the window ran out: wait for the next */
            continue;
    }
    CHECK(r->status == 200, "first in a window: 200, got %ld", r->status);
    CHECK(strcmp(header(h, r, "X-RateLimit-Limit"), "3") == 0 &&
              strcmp(header(h, r, "X-RateLimit-Remaining"), "2") == 0,
          "X-RateLimit-Limit 3, Remaining 2");
    for (i = 1; i >= 0; i--) {
        r = v_auth(h, "GET", "", sec, NULL);
        EXPECT_STATUS(r, 200);
        CHECK(strtol(header(h, r, "X-RateLimit-Remaining"), NULL, 10) == i,
              "Remaining %d", i);
    }
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_ERROR(r, 429, "rate_limited");
    CHECK(strtol(r->retry_after, NULL, 10) >= 1 &&
              strtol(r->retry_after, NULL, 10) <= 4,
          "Retry-After within the window: '%s'", r->retry_after);
    CHECK(strcmp(header(h, r, "X-RateLimit-Remaining"), "0") == 0,
          "Remaining 0 on the 429");
    resp_header(r, "X-Pat-User-Id", v, sizeof(v));
    CHECK(v[0] == '\0', "a 429 names nobody");
    /* The next window allows again. */
    t0 = h_now_ms();
    while (r->status == 429 && h_now_ms() - t0 < 6000) {
        h_poll_pause();
        r = v_auth(h, "GET", "", sec, NULL);
    }
    EXPECT_STATUS(r, 200);
    CHECK(h_now_ms() - t0 <= 4500, "reset within the window");
}

/*
 * [governance] rate_limit_nodes = 2: this node allows half of a token's
 * limit (docs/governance.md, the node-local share).
 */
static void
test_rate_share(struct h *h)
{
    static const char *const env2[] = {"PATD_AUTH_MAX_FAILURES_PER_IP=100000",
                                       "PATD_GOVERNANCE_RATE_LIMIT_NODES=2",
                                       NULL};
    const char *uid, *sec;
    struct resp *r;
    int i;

    h_section("rate limits: the node-local share");
    h_stop(h);
    if (!h_start(h, env2))
        return;
    uid = h_user(h, "shared", "[\"patd:self\"]", NULL);
    r = httpf(h, "POST", hfmt(h, "/v1/users/%s/tokens", uid), h->admin_token,
              "{\"name\":\"half\",\"scopes\":[\"patd:self\"],"
              "\"rate_limit\":{\"limit\":4,\"window_seconds\":3600}}");
    if (!EXPECT_STATUS(r, 201))
        return;
    sec = jstr(r->json, "token");
    for (i = 0; i < 2; i++) {
        r = v_auth(h, "GET", "", sec, NULL);
        EXPECT_STATUS(r, 200);
        CHECK(strcmp(header(h, r, "X-RateLimit-Limit"), "2") == 0,
              "this node's share: 2 of 4");
    }
    r = v_auth(h, "GET", "", sec, NULL);
    EXPECT_ERROR(r, 429, "rate_limited");
}

int
main(int argc, char **argv)
{
    struct h h;
    struct resp *r;

    h_init(&h, argc, argv);
    if (!h_start(&h, env))
        return h_finish(&h);
    r = http(&h, "PUT", "/v1/scopes", h.admin_token,
             "{\"items\":[{\"name\":\"repo:read\",\"description\":\"Read\"},"
             "{\"name\":\"repo:write\",\"description\":\"Write\"}]}",
             NULL);
    EXPECT_STATUS(r, 200);
    test_service_accounts(&h);
    test_approvals(&h);
    test_use_limits(&h);
    test_rate_limits(&h);
    h_section("metrics");
    r = v_metrics(&h);
    CHECK(v_sample(r, "patd_token_uses_spent_total") == 3,
          "3 uses spent, got %g", v_sample(r, "patd_token_uses_spent_total"));
    CHECK(v_sample(r, "patd_token_rate_limited_total") >= 1,
          "a rate-limit refusal counted");
    CHECK(v_sample(r, "patd_verifications_total{result=\"EPENDING\"}") >= 2,
          "pending verifications counted");
    CHECK(v_sample(r, "patd_verifications_total{result=\"EEXHAUSTED\"}") >= 2,
          "exhausted verifications counted");
    CHECK(v_sample(
              r, "patd_governance_swept_total{action=\"unused_revoked\"}") == 0,
          "the sweep's counters are there");
    test_rate_share(&h);
    EXPECT_HEALTHY(&h);
    return h_finish(&h);
}
