/* SPDX-License-Identifier: MIT */
/*
 * Token exchange on the real patd (DESIGN.md section 10): POST
 * /oauth2/token and its RFC 6749 error matrix, scope and audience
 * narrowing, the JWT's header and claims, JWTs at /v1/auth and
 * introspection, a tampered JWT, revocation and regeneration of the PAT
 * killing its JWT on two nodes of one store within 1 s, the status list
 * marking it, key rotation on a live server (both nodes sign with the
 * same current key; old JWTs verify through the overlap), retirement,
 * the failure limit, /v1/me/exchanges, metrics and audit, and refusing
 * to start without the key-encryption key. Runs on SQLite and, under
 * with_pg.sh, on PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "harness.h"
#include "harness_verify.h"

#define GRANT "urn:ietf:params:oauth:grant-type:token-exchange"
#define TT    "urn:ietf:params:oauth:token-type:access_token"
#define ISS   "https://patd.test"
#define KEK   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct h A, B;
static const char *const env[] = {
    "PATD_JWT_ISSUER=" ISS,
    "PATD_JWT_PREPUBLISH=1",
    "PATD_JWT_MAX_LIFETIME=8",
    "PATD_JWT_LIFETIME=8",
    "PATD_AUTH_MAX_FAILURES_PER_IP=100",
    "PATD_JWT_KEK=" KEK,
    NULL,
};

static struct resp *
exchange(struct h *h, const char *pat, const char *extra)
{
    return v_form(h, "/oauth2/token", NULL,
                  hfmt(h,
                       "grant_type=" GRANT "&subject_token=%s"
                       "&subject_token_type=" TT "%s",
                       pat, extra ? extra : ""),
                  NULL);
}

/* Decodes base64url part `which` (0 header, 1 payload) of a JWT. */
static json_t *
jwt_part(struct h *h, const char *jwt, int which)
{
    const char *p = jwt, *e;
    unsigned char buf[4096];
    size_t n = 0;
    json_t *j;

    if (which == 1)
        p = strchr(jwt, '.') + 1;
    e = strchr(p, '.');
    if (e == NULL ||
        sodium_base642bin(buf, sizeof(buf) - 1, p, (size_t)(e - p), NULL, &n,
                          NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return NULL;
    j = json_loadb((const char *)buf, n, 0, NULL);
    h_own(h, j, (void (*)(void *))json_decref);
    return j;
}

static const char *
issue(struct h *h, const char *pat, const char *extra)
{
    struct resp *r = exchange(h, pat, extra);

    if (!EXPECT_STATUS(r, 200))
        return NULL;
    h_secret(h, jstr(r->json, "access_token"));
    return jstr(r->json, "access_token");
}

/*
 * A request with the JWT as its bearer credential (the harness's token
 * argument is sized for PATs), and up to three more headers.
 */
static struct resp *
with_jwt(struct h *h, const char *method, const char *path, const char *jwt,
         const char *const *headers)
{
    const char *all[5];
    size_t n = 0;

    all[n++] = hfmt(h, "Authorization: Bearer %s", jwt);
    while (headers != NULL && *headers != NULL && n < 4)
        all[n++] = *headers++;
    all[n] = NULL;
    return http(h, method, path, NULL, NULL, all);
}

static long
auth(struct h *h, const char *jwt, const char *const *headers)
{
    return with_jwt(h, "GET", "/v1/auth", jwt, headers)->status;
}

/* Polls /v1/auth until it answers want; the milliseconds it took or -1. */
static long
poll_auth(struct h *h, const char *jwt, long want, long limit_ms)
{
    long long t0 = h_now_ms();

    for (;;) {
        if (auth(h, jwt, NULL) == want)
            return (long)(h_now_ms() - t0);
        if (h_now_ms() - t0 > limit_ms)
            return -1;
        h_poll_pause();
    }
}

/* Status-list bit idx of list uri's path, decoded from the signed list. */
static int
status_bit(struct h *h, const char *path, long long idx)
{
    struct resp *r = http(h, "GET", path, NULL, NULL, NULL);
    json_t *c, *sl;
    unsigned char z[8192], bits[65536];
    size_t zn = 0;
    uLongf bn = sizeof(bits);
    const char *lst;

    if (!EXPECT_STATUS(r, 200))
        return -1;
    CHECK(strcmp(r->content_type, "application/statuslist+jwt") == 0,
          "status list content type '%s'", r->content_type);
    c = jwt_part(h, r->body, 1);
    sl = json_object_get(c, "status_list");
    lst = jstr(sl, "lst");
    CHECK(jint(sl, "bits") == 1 && jint(c, "ttl") > 0,
          "status list has bits 1 and a ttl");
    CHECK(strcmp(jstr(jwt_part(h, r->body, 0), "typ"), "statuslist+jwt") == 0,
          "status list typ");
    if (lst == NULL ||
        sodium_base642bin(z, sizeof(z), lst, strlen(lst), NULL, &zn, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        uncompress(bits, &bn, z, zn) != Z_OK || (size_t)(idx / 8) >= bn)
        return -1;
    return (bits[idx / 8] >> (idx % 8)) & 1;
}

static const char *uid, *pat, *pat_id, *aud_pat;

static void
setup(void)
{
    static const char *const add1[] = {"scope", "add", "read:repo", NULL};
    static const char *const add2[] = {"scope", "add", "write:repo", NULL};
    char out[256];

    h_section("setup");
    CHECK(h_run(&A, add1, out, sizeof(out)) == 0, "scope add read:repo");
    CHECK(h_run(&A, add2, out, sizeof(out)) == 0, "scope add write:repo");
    CHECK(h_start(&A, env), "node A starts");
    h_init_peer(&B, &A, "b");
    CHECK(h_start(&B, env), "node B starts");
    uid = h_user(&A, "alice", "[\"read:repo\",\"write:repo\",\"patd:self\"]",
                 NULL);
    pat = h_token(&A, uid, "ci", "[\"read:repo\",\"write:repo\"]", &pat_id);
    aud_pat = h_token(&A, uid, "aud",
                      "[\"read:repo\"],\"audiences\":[\"api.example\","
                      "\"https://api.example/v1\"]",
                      NULL);
}

static void
test_errors(void)
{
    static const struct {
        const char *label, *form;
        long status;
        const char *code;
    } cases[] = {
        {"no grant_type", "subject_token=x&subject_token_type=" TT, 400,
         "invalid_request"},
        {"another grant", "grant_type=password&username=a&password=b", 400,
         "unsupported_grant_type"},
        {"client_credentials", "grant_type=client_credentials", 400,
         "unsupported_grant_type"},
        {"no subject_token", "grant_type=" GRANT "&subject_token_type=" TT, 400,
         "invalid_request"},
        {"no subject_token_type", "grant_type=" GRANT "&subject_token=x", 400,
         "invalid_request"},
        {"a jwt subject type",
         "grant_type=" GRANT
         "&subject_token=x&subject_token_type=urn:ietf:params:oauth:"
         "token-type:jwt",
         400, "invalid_request"},
        {"grant_type twice",
         "grant_type=" GRANT "&grant_type=" GRANT
         "&subject_token=x&subject_token_type=" TT,
         400, "invalid_request"},
        {"an empty grant_type, then another",
         "grant_type=&grant_type=" GRANT
         "&subject_token=x&subject_token_type=" TT,
         400, "invalid_request"},
        {"an unknown PAT",
         "grant_type=" GRANT
         "&subject_token=pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&subject_"
         "token_type=" TT,
         400, "invalid_grant"},
        {"garbage subject",
         "grant_type=" GRANT "&subject_token=%22%3C&subject_"
         "token_type=" TT,
         400, "invalid_grant"},
    };
    struct resp *r;
    size_t i;
    long before =
        h_count(&A, "/v1/audit?action=token.exchanged", A.admin_token);

    h_section("POST /oauth2/token: the error matrix");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = v_form(&A, "/oauth2/token", NULL, cases[i].form, NULL);
        CHECK(r->status == cases[i].status &&
                  strcmp(jstr(r->json, "error") ? jstr(r->json, "error") : "",
                         cases[i].code) == 0,
              "%s: %ld %s (want %ld %s)", cases[i].label, r->status,
              jstr(r->json, "error"), cases[i].status, cases[i].code);
        CHECK(strcmp(r->cache_control, "no-store") == 0,
              "%s: Cache-Control '%s'", cases[i].label, r->cache_control);
    }
    EXPECT_ERROR(exchange(&A, pat, "&actor_token=x&actor_token_type=" TT), 400,
                 "invalid_request");
    EXPECT_ERROR(exchange(&A, pat, "&actor_token_type=" TT), 400,
                 "invalid_request");
    EXPECT_ERROR(exchange(&A, pat, "&requested_token_type=urn:x"), 400,
                 "invalid_request");
    EXPECT_ERROR(exchange(&A, pat, "&scope=read:repo&scope=write:repo"), 400,
                 "invalid_request");
    EXPECT_ERROR(exchange(&A, pat, "&scope=patd:admin"), 400, "invalid_scope");
    EXPECT_ERROR(exchange(&A, pat, "&scope=read:repo%20nope:x"), 400,
                 "invalid_scope");
    EXPECT_ERROR(exchange(&A, pat, "&scope=%22bad%22"), 400, "invalid_scope");
    EXPECT_ERROR(exchange(&A, pat, "&resource=not-a-uri"), 400,
                 "invalid_target");
    EXPECT_ERROR(exchange(&A, pat, "&resource=https://a.example/%23frag"), 400,
                 "invalid_target");
    EXPECT_ERROR(exchange(&A, aud_pat, "&audience=other.example"), 400,
                 "invalid_target");
    EXPECT_ERROR(exchange(&A, aud_pat, "&resource=https://other.example/"), 400,
                 "invalid_target");
    EXPECT_ERROR(exchange(&A, aud_pat, "&scope=write:repo"), 400,
                 "invalid_scope");
    r = http(&A, "GET", "/oauth2/token", NULL, NULL, NULL);
    CHECK(r->status == 405, "GET /oauth2/token: %ld", r->status);
    CHECK(h_count(&A, "/v1/audit?action=token.exchanged", A.admin_token) ==
              before,
          "no refused exchange was recorded");
    EXPECT_HEALTHY(&A);
}

/*
 * Governance (DESIGN.md section 13) meets exchange: a pending token is
 * inactive everywhere, exchange included; a token with a use or rate
 * limit is refused (patd must count its every use), without spending a
 * use.
 */
static void
test_governance(void)
{
    const char *self, *pend, *lim, *rated;
    struct resp *r;

    h_section("exchange of pending and limited tokens");
    r = httpf(&A, "PUT", "/v1/policy", A.admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":false,"
              "\"approval_required_scopes\":[\"write:repo\"]}");
    if (!EXPECT_STATUS(r, 200))
        return;
    self = h_token(&A, uid, "gov-self", "[\"patd:self\",\"write:repo\"]", NULL);
    if (self == NULL)
        return;
    r = httpf(&A, "POST", "/v1/me/tokens", self,
              "{\"name\":\"pend\",\"scopes\":[\"write:repo\"]}");
    if (!EXPECT_STATUS(r, 201))
        return;
    CHECK(jstr(r->json, "status") &&
              strcmp(jstr(r->json, "status"), "pending") == 0,
          "a write:repo token is created pending");
    pend = hstrdup(&A, jstr(r->json, "token"));
    h_secret(&A, pend);
    EXPECT_ERROR(exchange(&A, pend, NULL), 400, "invalid_grant");

    lim = h_token(&A, uid, "lim", "[\"read:repo\"],\"max_uses\":2", NULL);
    rated = h_token(&A, uid, "rated",
                    "[\"read:repo\"],\"rate_limit\":{\"limit\":100,"
                    "\"window_seconds\":60}",
                    NULL);
    if (lim == NULL || rated == NULL)
        return;
    EXPECT_ERROR(exchange(&A, lim, NULL), 400, "invalid_grant");
    EXPECT_ERROR(exchange(&A, rated, NULL), 400, "invalid_grant");
    /* The refused exchange spent nothing: both uses remain. */
    CHECK(v_auth(&A, "GET", "", lim, NULL)->status == 200 &&
              v_auth(&A, "GET", "", lim, NULL)->status == 200 &&
              v_auth(&A, "GET", "", lim, NULL)->status == 401,
          "the use-limited token still has its 2 uses after the refusal");
    r = httpf(&A, "PUT", "/v1/policy", A.admin_token,
              "{\"max_lifetime_days\":366,\"allow_no_expiry\":false,"
              "\"default_lifetime_days\":30,\"max_tokens_per_user\":1000,"
              "\"revoke_on_reuse\":false,\"approval_required_scopes\":[]}");
    EXPECT_STATUS(r, 200);
    EXPECT_HEALTHY(&A);
}

static const char *jwt;

static void
test_issue(void)
{
    struct resp *r;
    json_t *hd, *c, *st;
    const char *j2;
    char *claims_text;
    const char *const aud_hdr[] = {"X-Pat-Audience: api.example", NULL};
    const char *const aud_bad[] = {"X-Pat-Audience: other.example", NULL};
    const char *const need_w[] = {"X-Pat-Required-Scopes: write:repo", NULL};

    h_section("POST /oauth2/token: a JWT per RFC 9068");
    r = exchange(&A, pat,
                 "&requested_token_type=urn:ietf:params:oauth:token-"
                 "type:jwt");
    EXPECT_STATUS(r, 200);
    CHECK(strcmp(r->cache_control, "no-store") == 0, "Cache-Control '%s'",
          r->cache_control);
    jwt = jstr(r->json, "access_token");
    h_secret(&A, jwt);
    CHECK(strcmp(jstr(r->json, "issued_token_type"),
                 "urn:ietf:params:oauth:token-type:jwt") == 0 &&
              strcmp(jstr(r->json, "token_type"), "Bearer") == 0 &&
              jint(r->json, "expires_in") == 8 &&
              strcmp(jstr(r->json, "scope"), "read:repo write:repo") == 0,
          "answer fields: %s", r->body);
    hd = jwt_part(&A, jwt, 0);
    c = jwt_part(&A, jwt, 1);
    CHECK(hd && strcmp(jstr(hd, "typ"), "at+jwt") == 0 &&
              strcmp(jstr(hd, "alg"), "RS256") == 0 && jstr(hd, "kid"),
          "header typ at+jwt, RS256, kid");
    claims_text = c ? json_dumps(c, JSON_COMPACT) : NULL;
    if (claims_text != NULL)
        h_own(&A, claims_text, free);
    CHECK(c && strcmp(jstr(c, "iss"), ISS) == 0 &&
              strcmp(jstr(c, "sub"), uid) == 0 &&
              strcmp(jstr(c, "client_id"), pat_id) == 0 &&
              strcmp(jstr(c, "username"), "alice") == 0 &&
              strcmp(jstr(c, "aud"), ISS) == 0 && jstr(c, "jti") &&
              jint(c, "exp") - jint(c, "iat") == 8,
          "claims: %s", claims_text);
    st = json_object_get(json_object_get(c, "status"), "status_list");
    CHECK(jstr(st, "uri") && strstr(jstr(st, "uri"), "/v1/status-lists/"),
          "status claim");

    h_section("/v1/auth and introspection accept the JWT");
    CHECK(auth(&A, jwt, NULL) == 200, "node A: /v1/auth 200");
    CHECK(auth(&B, jwt, NULL) == 200, "node B: /v1/auth 200");
    r = with_jwt(&A, "GET", "/v1/auth", jwt, NULL);
    CHECK(strstr(r->headers, "X-Pat-Token-Id: ") &&
              strstr(r->headers, pat_id) && strstr(r->headers, uid),
          "identity headers name the PAT and the user");
    CHECK(auth(&A, jwt, need_w) == 200, "a scope the JWT holds");
    r = exchange(&A, pat, "&scope=read:repo");
    j2 = jstr(r->json, "access_token");
    CHECK(r->status == 200 && strcmp(jstr(r->json, "scope"), "read:repo") == 0,
          "narrowed scope");
    CHECK(j2 && auth(&A, j2, need_w) == 403, "narrowed JWT lacks write:repo");

    h_section("audience narrowing");
    r = exchange(&A, aud_pat, "&audience=api.example");
    j2 = jstr(r->json, "access_token");
    CHECK(r->status == 200 &&
              strcmp(jstr(jwt_part(&A, j2, 1), "aud"), "api.example") == 0,
          "aud is the requested audience");
    CHECK(auth(&A, j2, aud_hdr) == 200, "its audience passes");
    CHECK(auth(&A, j2, aud_bad) == 401, "another audience is refused");
    CHECK(auth(&A, j2, NULL) == 401, "no audience named is refused");
    r = exchange(&A, aud_pat, "&resource=https://api.example/v1");
    CHECK(r->status == 200, "an allowed resource: %ld", r->status);

    h_section("introspection of a JWT");
    {
        const char *gw_id = h_user(&A, "gw", "[\"patd:introspect\"]", NULL);
        const char *gw =
            h_token(&A, gw_id, "gw", "[\"patd:introspect\"]", NULL);

        r = v_form(&A, "/oauth2/introspect", gw, hfmt(&A, "token=%s", jwt),
                   NULL);
        CHECK(r->status == 200 && jbool(r->json, "active") &&
                  strcmp(jstr(r->json, "client_id"), pat_id) == 0,
              "introspection: active, client_id the PAT: %s", r->body);
        /* A tampered JWT: one payload character changed. */
        {
            char *t = strdup(jwt);
            char *p = strchr(t, '.') + 5;

            *p = *p == 'A' ? 'B' : 'A';
            h_own(&A, t, free);
            CHECK(auth(&A, t, NULL) == 401, "a tampered JWT: 401");
            r = v_form(&A, "/oauth2/introspect", gw, hfmt(&A, "token=%s", t),
                       NULL);
            CHECK(r->status == 200 && !jbool(r->json, "active"),
                  "introspection of a tampered JWT: inactive");
        }
        /* alg none with the same claims. */
        {
            const char *dot = strchr(jwt, '.');
            const char *sig = strrchr(jwt, '.');
            const char *none =
                hfmt(&A, "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0%.*s.",
                     (int)(sig - dot), dot);
            CHECK(auth(&A, none, NULL) == 401, "alg none: 401");
        }
    }
    EXPECT_HEALTHY(&A);
}

static void
test_revocation(void)
{
    const char *p2, *p2_id, *j, *j_other, *uri;
    json_t *c;
    long ms;

    h_section("revoking the PAT kills its JWT on both nodes within 1 s");
    p2 = h_token(&A, uid, "rev", "[\"read:repo\"]", &p2_id);
    j = issue(&A, p2, NULL);
    j_other = issue(&B, pat, NULL);
    CHECK(j && auth(&A, j, NULL) == 200 && auth(&B, j, NULL) == 200,
          "cached on both nodes");
    c = jwt_part(&A, j, 1);
    uri = jstr(json_object_get(json_object_get(c, "status"), "status_list"),
               "uri");
    uri = strstr(uri, "/v1/");
    CHECK(status_bit(
              &A, uri,
              jint(json_object_get(json_object_get(c, "status"), "status_list"),
                   "idx")) == 0,
          "status bit 0 while alive");
    EXPECT_STATUS(http(&A, "DELETE", hfmt(&A, "/v1/tokens/%s", p2_id),
                       A.admin_token, NULL, NULL),
                  204);
    ms = poll_auth(&A, j, 401, 1000);
    CHECK(ms >= 0, "node A refuses the JWT within 1 s (%ld ms)", ms);
    ms = poll_auth(&B, j, 401, 1000);
    CHECK(ms >= 0, "node B refuses the JWT within 1 s (%ld ms)", ms);
    CHECK(auth(&A, j_other, NULL) == 200, "another PAT's JWT still passes");
    {
        const char *gw_id = h_user(&A, "gw2", "[\"patd:introspect\"]", NULL);
        const char *gw =
            h_token(&A, gw_id, "gw2", "[\"patd:introspect\"]", NULL);
        struct resp *ra =
            v_form(&A, "/oauth2/introspect", gw, hfmt(&A, "token=%s", j), NULL);
        struct resp *rb =
            v_form(&B, "/oauth2/introspect", gw, hfmt(&A, "token=%s", j), NULL);

        CHECK(ra->status == 200 && !jbool(ra->json, "active") &&
                  rb->status == 200 && !jbool(rb->json, "active"),
              "introspection on both nodes: inactive");
    }
    {
        long long deadline = h_now_ms() + 3000;
        int bit;

        do {
            bit = status_bit(&B, uri,
                             jint(json_object_get(json_object_get(c, "status"),
                                                  "status_list"),
                                  "idx"));
            if (bit == 1)
                break;
            h_poll_pause();
        } while (h_now_ms() < deadline);
        CHECK(bit == 1, "the status list marks the JWT");
    }
    EXPECT_ERROR(exchange(&A, p2, NULL), 400, "invalid_grant");

    h_section("regenerating the PAT kills its JWT");
    p2 = h_token(&A, uid, "regen", "[\"read:repo\"]", &p2_id);
    j = issue(&A, p2, NULL);
    CHECK(j && auth(&B, j, NULL) == 200, "alive before");
    {
        const char *self =
            h_token(&A, uid, "self",
                    "[\"patd:self\",\"read:repo\",\"write:repo\"]", NULL);
        struct resp *r =
            httpf(&A, "POST", hfmt(&A, "/v1/me/tokens/%s/regenerate", p2_id),
                  self, "{}");
        EXPECT_STATUS(r, 200);
        if (jstr(r->json, "token"))
            h_secret(&A, jstr(r->json, "token"));
        ms = poll_auth(&B, j, 401, 1000);
        CHECK(ms >= 0, "node B refuses the old JWT within 1 s (%ld ms)", ms);
        if (jstr(r->json, "token"))
            CHECK(issue(&A, jstr(r->json, "token"), NULL) != NULL,
                  "the new secret exchanges");
        EXPECT_ERROR(exchange(&A, p2, NULL), 400, "invalid_grant");
        /* An old secret inside its grace still verifies, but is retired. */
        if (jstr(r->json, "token")) {
            const char *cur = jstr(r->json, "token");
            struct resp *g = httpf(
                &A, "POST", hfmt(&A, "/v1/me/tokens/%s/regenerate", p2_id),
                self, "{\"grace_seconds\":600}");

            EXPECT_STATUS(g, 200);
            if (jstr(g->json, "token"))
                h_secret(&A, jstr(g->json, "token"));
            CHECK(http(&A, "GET", "/v1/auth", cur, NULL, NULL)->status == 200,
                  "the old secret passes /v1/auth in its grace");
            EXPECT_ERROR(exchange(&A, cur, NULL), 400, "invalid_grant");
        }

        h_section("disabling the user kills the JWT");
        j = issue(&A, pat, NULL);
        CHECK(auth(&B, j, NULL) == 200, "alive before");
        EXPECT_STATUS(httpf(&A, "PATCH", hfmt(&A, "/v1/users/%s", uid),
                            A.admin_token, "{\"disabled\":true}"),
                      200);
        ms = poll_auth(&B, j, 401, 1000);
        CHECK(ms >= 0, "node B refuses it within 1 s (%ld ms)", ms);
        EXPECT_ERROR(exchange(&A, pat, NULL), 400, "invalid_grant");
        EXPECT_STATUS(httpf(&A, "PATCH", hfmt(&A, "/v1/users/%s", uid),
                            A.admin_token, "{\"disabled\":false}"),
                      200);
        ms = poll_auth(&B, j, 200, 2000);
        CHECK(ms >= 0, "enabled again, the JWT passes again");
        (void)self;
    }
    EXPECT_HEALTHY(&A);
    EXPECT_HEALTHY(&B);
}

static const char *
kid_of(struct h *h, const char *j)
{
    return jstr(jwt_part(h, j, 0), "kid");
}

static void
test_rotation(void)
{
    struct resp *r;
    const char *before, *old_kid, *new_kid, *ja, *jb;
    long long deadline;

    h_section("key rotation on live servers");
    before = issue(&A, pat, NULL);
    old_kid = kid_of(&A, before);
    r = http(&A, "POST", "/v1/keys/rotate", A.admin_token, NULL, NULL);
    EXPECT_STATUS(r, 201);
    new_kid = jstr(r->json, "kid");
    CHECK(new_kid && strcmp(jstr(r->json, "state"), "next") == 0,
          "the new key is next: %s", r->body);
    /* Published before it signs: in both JWKS within the reload period. */
    deadline = h_now_ms() + 5000;
    do {
        r = http(&B, "GET", "/.well-known/jwks.json", NULL, NULL, NULL);
        if (strstr(r->body, new_kid) != NULL)
            break;
        h_poll_pause();
    } while (h_now_ms() < deadline);
    CHECK(strstr(r->body, new_kid) && strstr(r->body, old_kid),
          "node B publishes both keys");
    CHECK(strstr(r->cache_control, "max-age=") != NULL,
          "JWKS is cacheable: '%s'", r->cache_control);
    /* Both nodes move to the new key. */
    deadline = h_now_ms() + 6000;
    do {
        ja = issue(&A, pat, NULL);
        jb = issue(&B, pat, NULL);
        if (ja && jb && strcmp(kid_of(&A, ja), new_kid) == 0 &&
            strcmp(kid_of(&B, jb), new_kid) == 0)
            break;
        usleep(200000);
    } while (h_now_ms() < deadline);
    CHECK(ja && jb && strcmp(kid_of(&A, ja), new_kid) == 0 &&
              strcmp(kid_of(&B, jb), new_kid) == 0,
          "both nodes sign with the same current key");
    CHECK(auth(&A, before, NULL) == 200 && auth(&B, before, NULL) == 200,
          "a JWT of the old key verifies through the overlap");
    CHECK(auth(&B, ja, NULL) == 200, "A's new JWT verifies on B");

    h_section("retiring a key");
    r = http(&A, "POST", hfmt(&A, "/v1/keys/%s/retire", "nokey"), A.admin_token,
             NULL, NULL);
    EXPECT_ERROR(r, 404, "not_found");
    r = http(&A, "POST", hfmt(&A, "/v1/keys/%s/retire", old_kid), A.admin_token,
             NULL, NULL);
    EXPECT_STATUS(r, 204);
    r = http(&A, "POST", hfmt(&A, "/v1/keys/%s/retire", new_kid), A.admin_token,
             NULL, NULL);
    EXPECT_ERROR(r, 409, "conflict");
    r = http(&A, "GET", "/v1/keys", A.admin_token, NULL, NULL);
    CHECK(r->status == 200 && nitems(r) == 2, "two keys listed");
    r = http(&A, "GET", "/v1/keys", NULL, NULL, NULL);
    CHECK(r->status == 401, "keys need an admin: %ld", r->status);
    /* max_lifetime is 8 s here: the retired key leaves the JWKS after. */
    deadline = h_now_ms() + 14000;
    do {
        r = http(&A, "GET", "/.well-known/jwks.json", NULL, NULL, NULL);
        if (strstr(r->body, old_kid) == NULL)
            break;
        usleep(250000);
    } while (h_now_ms() < deadline);
    CHECK(strstr(r->body, old_kid) == NULL && strstr(r->body, new_kid),
          "the retired key is unpublished after its window");
    EXPECT_HEALTHY(&A);
}

static void
test_misc(void)
{
    struct resp *r;
    const char *self;

    h_section("metadata, page data, metrics, audit");
    r = http(&A, "GET", "/.well-known/oauth-authorization-server", NULL, NULL,
             NULL);
    CHECK(r->status == 200 && strcmp(jstr(r->json, "issuer"), ISS) == 0 &&
              strcmp(jstr(r->json, "token_endpoint"), ISS "/oauth2/token") ==
                  0 &&
              strcmp(jstr(r->json, "jwks_uri"), ISS "/.well-known/jwks.json") ==
                  0 &&
              jarray_has(json_object_get(r->json, "grant_types_supported"),
                         GRANT),
          "RFC 8414 metadata: %s", r->body);
    self = h_token(&A, uid, "page", "[\"patd:self\"]", NULL);
    r = http(&A, "GET", "/v1/me/exchanges", self, NULL, NULL);
    CHECK(r->status == 200 && nitems(r) >= 1 && strstr(r->body, pat_id) &&
              strstr(r->body, "eyJ") == NULL,
          "/v1/me/exchanges names the exchanged token, never a JWT: %s",
          r->body);
    r = http(&A, "GET", "/metrics", NULL, NULL, NULL);
    CHECK(strstr(r->body, "patd_token_exchanges_total{result=\"issued\"}") &&
              strstr(r->body,
                     "patd_jwt_verifications_total{result=\"revoked\"}") &&
              strstr(r->body, "patd_status_list_entries"),
          "metrics");
    r = http(&A, "GET", "/v1/audit?action=token.exchanged", A.admin_token, NULL,
             NULL);
    CHECK(r->status == 200 && nitems(r) > 0 && strstr(r->body, "eyJ") == NULL,
          "exchanges are audited, without the JWT");
    r = http(&A, "GET", "/v1/status-lists/999", NULL, NULL, NULL);
    EXPECT_ERROR(r, 404, "not_found");
    r = http(&A, "GET", "/v1/status-lists/x1", NULL, NULL, NULL);
    EXPECT_ERROR(r, 404, "not_found");
}

static void
test_limit(void)
{
    int i;
    struct resp *r = NULL;

    h_section("failure limit per address");
    for (i = 0; i < 150; i++) {
        r = exchange(&B, "pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL);
        if (r->status == 429)
            break;
    }
    CHECK(r && r->status == 429, "bad exchanges end in 429 (after %d)", i);
    EXPECT_HEALTHY(&B);
}

static void
test_start_refusals(void)
{
    char cmd[2048];
    int st;

    h_section("refusing to start without the key-encryption key");
    h_stop(&B);
    snprintf(cmd, sizeof(cmd),
             "env -u PATD_JWT_KEK timeout 10 '%s' serve --db '%s' --listen "
             "127.0.0.1:0 >'%s/nokek.log' 2>&1",
             A.patd, A.db, A.dir);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "no KEK: exit 1 (status 0x%x)",
          st);
    snprintf(cmd, sizeof(cmd), "grep -q 'no key-encryption key' '%s/nokek.log'",
             A.dir);
    CHECK(system(cmd) == 0, "no KEK: says why");
    snprintf(cmd, sizeof(cmd),
             "PATD_JWT_KEK=%064d timeout 10 '%s' serve --db '%s' --listen "
             "127.0.0.1:0 >'%s/badkek.log' 2>&1",
             7, A.patd, A.db, A.dir);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1,
          "a wrong KEK: exit 1 (status 0x%x)", st);
    snprintf(cmd, sizeof(cmd), "grep -q 'does not open' '%s/badkek.log'",
             A.dir);
    CHECK(system(cmd) == 0, "a wrong KEK: says why");
}

int
main(int argc, char **argv)
{
    setenv("PATD_JWT_KEK", KEK, 1);
    h_init(&A, argc, argv);
    setup();
    test_errors();
    test_issue();
    test_revocation();
    test_rotation();
    test_misc();
    test_governance();
    test_limit();
    test_start_refusals();
    h_finish_peer(&B);
    return h_finish(&A);
}
