/* SPDX-License-Identifier: MIT */
/*
 * Integration test of SCIM 2.0 Users (issue 14, DESIGN.md section 11)
 * against the real patd over HTTP: the caller's scope, create in Okta's
 * shape, the uniqueness error, a create refused part way (or racing)
 * leaving nothing behind (one transaction), filter=userName eq (any case) and
 * externalId, startIndex/count paging, get, PUT replace, PATCH in
 * Okta's and Entra ID's shapes (path-less value objects, capitalised
 * ops, the string "False"), every rejection with the SCIM error schema
 * and nothing changed, and deprovisioning (active false, DELETE) that
 * stops the user's live token. On PostgreSQL (PATD_TEST_STORE set) a
 * second node on the same store must refuse the token within 1 s of
 * the deactivation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SCIM_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define LIMIT_MS   1000

static struct h H;
static const char *scim; /* a token with patd:scim */

static const char *const json_hdrs[] = {"Content-Type: application/scim+json",
                                        NULL};

static struct resp *
call(const char *method, const char *path, const char *body)
{
    return http(&H, method, path, scim, body, body ? json_hdrs : NULL);
}

/* A SCIM error answer: status, the Error schema, status as a string. */
static bool
expect_scim_error(const struct resp *r, long status, const char *scim_type,
                  const char *file, int line)
{
    char st[8];
    json_t *schemas = r->json ? json_object_get(r->json, "schemas") : NULL;
    bool ok = h_expect_status(r, status, file, line);

    snprintf(st, sizeof(st), "%ld", status);
    ok &= h_check(
        jarray_has(schemas, "urn:ietf:params:scim:api:messages:2.0:Error"),
        file, line, "%s: Error schema", r->what);
    ok &= h_check(r->json && jstr(r->json, "status") &&
                      strcmp(jstr(r->json, "status"), st) == 0,
                  file, line, "%s: status is the string \"%s\"", r->what, st);
    if (scim_type != NULL)
        ok &= h_check(jstr(r->json, "scimType") &&
                          strcmp(jstr(r->json, "scimType"), scim_type) == 0,
                      file, line, "%s: scimType %s, got %s", r->what, scim_type,
                      jstr(r->json, "scimType"));
    return ok;
}
#define EXPECT_SCIM_ERROR(r, st, t)                                            \
    expect_scim_error((r), (st), (t), __FILE__, __LINE__)

static long
auth_status(struct h *h, const char *tok)
{
    return http(h, "GET", "/v1/auth", tok, NULL, NULL)->status;
}

static const char *
create(const char *user_name, const char *external_id)
{
    struct resp *r = call(
        "POST", "/scim/v2/Users",
        hfmt(&H,
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
             "\"userName\":\"%s\",\"externalId\":\"%s\","
             "\"name\":{\"givenName\":\"G\",\"familyName\":\"F\"},"
             "\"emails\":[{\"value\":\"%s\",\"type\":\"work\","
             "\"primary\":true}],\"active\":true}",
             user_name, external_id, user_name));

    if (!EXPECT_STATUS(r, 201))
        return NULL;
    return hstrdup(&H, jstr(r->json, "id"));
}

static void
test_caller(void)
{
    const char *uid, *tok;
    struct resp *r;

    h_section("caller needs a PAT with patd:scim");
    r = http(&H, "GET", "/scim/v2/Users", NULL, NULL, NULL);
    EXPECT_SCIM_ERROR(r, 401, NULL);
    uid = h_user(&H, "plain", NULL, NULL);
    tok = uid ? h_token(&H, uid, "t", "[\"patd:self\"]", NULL) : NULL;
    r = http(&H, "GET", "/scim/v2/Users", tok, NULL, NULL);
    EXPECT_SCIM_ERROR(r, 403, NULL);
    CHECK(strstr(r->www_auth, "patd:scim") != NULL, "403 names the scope");
    r = http(&H, "GET", "/scim/v2/Users", "pat_nonsense", NULL, NULL);
    EXPECT_SCIM_ERROR(r, 401, NULL);
}

/* Okta's create, then a second create of the same userName. */
/*
 * Racing creates of one userName: sent on raw connections before any
 * answer is read. Returns how many got 201.
 */
static int
create_race(const char *user_name, int n)
{
    char req[1024], body[256], buf[4096];
    int fds[8], i, created = 0;

    for (i = 0; i < n; i++) {
        snprintf(body, sizeof(body),
                 "{\"userName\":\"%s\",\"externalId\":\"race-%d\"}", user_name,
                 i);
        snprintf(req, sizeof(req),
                 "POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer %s\r\n"
                 "Content-Type: application/scim+json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 scim, strlen(body), body);
        fds[i] = h_connect(&H);
        if (fds[i] >= 0 && !h_send_all(fds[i], req, strlen(req))) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    for (i = 0; i < n; i++) {
        long st =
            fds[i] >= 0 ? h_read_answer(fds[i], 5000, buf, sizeof(buf)) : 0;

        CHECK(st == 201 || st == 409, "racing create %d: %ld", i, st);
        created += st == 201;
        if (fds[i] >= 0)
            close(fds[i]);
    }
    return created;
}

/*
 * A create is one transaction: the user, its SCIM attributes, active
 * false, the audit events and feed rows. A create refused part way (an
 * externalId another user holds is found after the user row is written)
 * leaves no user, no attribute and no audit event behind.
 */
static void
test_create_atomic(void)
{
    long users = h_count(&H, "/v1/users", H.admin_token);
    long long before = h_last_audit_id(&H);
    struct resp *r;
    int won;

    h_section("create is one transaction");
    r = call("POST", "/scim/v2/Users",
             "{\"userName\":\"Other.Person@example.com\","
             "\"name\":{\"givenName\":\"Other\"},"
             "\"externalId\":\"00u1abcd\",\"active\":false}");
    EXPECT_SCIM_ERROR(r, 409, "uniqueness");
    CHECK(h_count(&H, "/v1/users", H.admin_token) == users, "no user left");
    r = http(&H, "GET", "/v1/users?q=other.person", H.admin_token, NULL, NULL);
    CHECK(r->json && nitems(r) == 0, "no user other.person: %s", r->body);
    r = call("GET",
             "/scim/v2/Users?filter=userName%20eq%20%22Other.Person"
             "%40example.com%22",
             NULL);
    CHECK(r->json && jint(r->json, "totalResults") == 0,
          "no SCIM userName left behind");
    r = call("GET", "/scim/v2/Users?filter=externalId%20eq%20%2200u1abcd%22",
             NULL);
    CHECK(r->json && jint(r->json, "totalResults") == 1,
          "externalId still names only its first user");
    CHECK(h_last_audit_id(&H) == before, "no audit event left behind");

    /* Created inactive: one answer, disabled from its first moment. */
    r = call("POST", "/scim/v2/Users",
             "{\"userName\":\"inactive@example.com\",\"active\":false,"
             "\"externalId\":\"00u-inactive\"}");
    if (EXPECT_STATUS(r, 201)) {
        const char *id = hstrdup(&H, jstr(r->json, "id"));

        CHECK(!jbool(r->json, "active"), "active false");
        r = http(&H, "GET", hfmt(&H, "/v1/users/%s", id), H.admin_token, NULL,
                 NULL);
        CHECK(r->json && jbool(r->json, "disabled"),
              "the patd user disabled: %s", r->body);
        r = http(&H, "GET", "/v1/audit?action=user.created&limit=200",
                 H.admin_token, NULL, NULL);
        CHECK(strstr(r->body, id) != NULL, "user.created audited");
        r = http(&H, "GET", "/v1/audit?action=user.disabled&limit=200",
                 H.admin_token, NULL, NULL);
        CHECK(strstr(r->body, id) != NULL, "user.disabled audited");
        users++;
    }

    /* Creates of one userName racing: one user, its attributes only. */
    won = create_race("Racer@example.com", 4);
    CHECK(won == 1, "exactly one racing create won (%d)", won);
    CHECK(h_count(&H, "/v1/users", H.admin_token) == users + 1,
          "one user from the race");
    r = call("GET",
             "/scim/v2/Users?filter=userName%20eq%20%22racer%40"
             "example.com%22",
             NULL);
    CHECK(r->json && jint(r->json, "totalResults") == 1, "one SCIM user");
    CHECK(r->json && jint(r->json, "totalResults") == 1 &&
              strstr(r->body, "race-") != NULL,
          "with the winner's externalId");
}

static const char *
test_create(void)
{
    struct resp *r;
    const char *id;
    long long before;

    h_section("create (Okta's body) and uniqueness");
    r = call("POST", "/scim/v2/Users",
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
             "\"userName\":\"Jane.Doe@example.com\","
             "\"name\":{\"givenName\":\"Jane\",\"familyName\":\"Doe\"},"
             "\"emails\":[{\"primary\":true,\"value\":\"jane@example.com\","
             "\"type\":\"work\"}],\"displayName\":\"Jane Doe\","
             "\"locale\":\"en-US\",\"externalId\":\"00u1abcd\","
             "\"groups\":[],\"password\":{\"value\":\"secret123\"},"
             "\"active\":true}");
    if (!EXPECT_STATUS(r, 201))
        return NULL;
    CHECK(strstr(r->content_type, "application/scim+json") != NULL,
          "content type %s", r->content_type);
    id = hstrdup(&H, jstr(r->json, "id"));
    CHECK(strcmp(jstr(r->json, "userName"), "Jane.Doe@example.com") == 0,
          "userName as sent");
    CHECK(jbool(r->json, "active"), "active");
    CHECK(strcmp(jstr(r->json, "displayName"), "Jane Doe") == 0, "displayName");
    CHECK(strcmp(jstr(r->json, "externalId"), "00u1abcd") == 0, "externalId");
    CHECK(strstr(r->body, "\"givenName\":\"Jane\"") != NULL, "givenName");
    CHECK(strstr(r->body, "jane@example.com") != NULL, "email");
    CHECK(strstr(r->body, hfmt(&H, "/scim/v2/Users/%s", id)) != NULL,
          "meta.location");
    CHECK(strstr(r->body, "secret123") == NULL, "no password echoed");
    /* The patd user behind it. */
    r = http(&H, "GET", hfmt(&H, "/v1/users/%s", id), H.admin_token, NULL,
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(strcmp(jstr(r->json, "username"), "jane.doe-example.com") == 0,
          "patd username derived: %s", jstr(r->json, "username"));

    before = h_last_audit_id(&H);
    r = call("POST", "/scim/v2/Users",
             "{\"userName\":\"JANE.DOE@example.com\",\"active\":true}");
    EXPECT_SCIM_ERROR(r, 409, "uniqueness");
    r = call("POST", "/scim/v2/Users", "{\"displayName\":\"no name\"}");
    EXPECT_SCIM_ERROR(r, 400, "invalidValue");
    r = call("POST", "/scim/v2/Users",
             "{\"userName\":\"x@y\",\"active\":\"maybe\"}");
    EXPECT_SCIM_ERROR(r, 400, "invalidValue");
    CHECK(h_last_audit_id(&H) == before, "refused creates wrote nothing");
    test_create_atomic();
    return id;
}

static void
test_filter(const char *id)
{
    struct resp *r;

    h_section("filter userName eq (Okta's query), externalId, errors");
    r = call("GET",
             "/scim/v2/Users?filter=userName%20eq%20%22jane.doe%40example.com"
             "%22&startIndex=1&count=100",
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "totalResults") == 1, "one match (any case)");
    CHECK(strstr(r->body, id) != NULL, "the right one");
    CHECK(strstr(r->body, "ListResponse") != NULL, "ListResponse schema");
    r = call("GET",
             "/scim/v2/Users?filter=UserName%20EQ%20%22nobody%40example.com%22",
             NULL);
    EXPECT_STATUS(r, 200);
    CHECK(jint(r->json, "totalResults") == 0, "zero matches is 200, 0");
    r = call("GET", "/scim/v2/Users?filter=externalId%20eq%20%2200u1abcd%22",
             NULL);
    CHECK(jint(r->json, "totalResults") == 1, "externalId filter");
    /* The derived patd name is not the SCIM userName. */
    r = call("GET",
             "/scim/v2/Users?filter=userName%20eq%20%22jane.doe-example.com"
             "%22",
             NULL);
    CHECK(jint(r->json, "totalResults") == 0, "derived name is no match");
    r = call("GET", "/scim/v2/Users?filter=userName%20sw%20%22j%22", NULL);
    EXPECT_SCIM_ERROR(r, 400, "invalidFilter");
    r = call("GET", "/scim/v2/Users?filter=title%20eq%20%22x%22", NULL);
    EXPECT_SCIM_ERROR(r, 400, "invalidFilter");
    r = call("GET", "/scim/v2/Users?filter=userName%20eq%20%22unterminated",
             NULL);
    EXPECT_SCIM_ERROR(r, 400, "invalidFilter");
    r = call("GET", "/scim/v2/Users?count=abc", NULL);
    EXPECT_SCIM_ERROR(r, 400, "invalidValue");
}

static void
test_paging(void)
{
    struct resp *r;
    long long total;
    char seen[16][32];
    int n = 0, i, j, start;

    h_section("paging with startIndex and count");
    for (i = 0; i < 5; i++)
        create(hfmt(&H, "page%d@example.com", i), hfmt(&H, "ext-p%d", i));
    r = call("GET", "/scim/v2/Users?startIndex=1&count=0", NULL);
    EXPECT_STATUS(r, 200);
    total = jint(r->json, "totalResults");
    CHECK(total >= 7, "total counts every user: %lld", total);
    CHECK(jint(r->json, "itemsPerPage") == 0, "count=0: no resources");
    for (start = 1; start <= total && n < 16; start += 2) {
        json_t *res, *it;
        size_t k;

        r = call("GET", hfmt(&H, "/scim/v2/Users?startIndex=%d&count=2", start),
                 NULL);
        if (!EXPECT_STATUS(r, 200))
            break;
        CHECK(jint(r->json, "startIndex") == start, "startIndex echoed");
        CHECK(jint(r->json, "totalResults") == total, "total stable");
        res = json_object_get(r->json, "Resources");
        CHECK(json_array_size(res) ==
                  (size_t)(total - start + 1 >= 2 ? 2 : total - start + 1),
              "page size at %d", start);
        json_array_foreach(res, k, it)
        {
            if (n < 16)
                snprintf(seen[n++], sizeof(seen[0]), "%s", jstr(it, "id"));
        }
    }
    CHECK(n == total, "pages cover every user once: %d of %lld", n, total);
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            CHECK(strcmp(seen[i], seen[j]) != 0, "no user on two pages");
    r = call("GET",
             hfmt(&H, "/scim/v2/Users?startIndex=%lld&count=10", total + 5),
             NULL);
    CHECK(jint(r->json, "itemsPerPage") == 0, "past the end: empty page");
}

static void
test_get_put(const char *id)
{
    struct resp *r;
    long long before;

    h_section("get and PUT replace");
    r = call("GET", hfmt(&H, "/scim/v2/Users/%s", id), NULL);
    EXPECT_STATUS(r, 200);
    r = call("GET", "/scim/v2/Users/usr_0000000000000000", NULL);
    EXPECT_SCIM_ERROR(r, 404, NULL);
    r = call("GET", "/scim/v2/Users/nonsense", NULL);
    EXPECT_SCIM_ERROR(r, 404, NULL);
    r = call("PUT", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
             "\"id\":\"ignored\",\"userName\":\"jane.doe@example.com\","
             "\"name\":{\"givenName\":\"Janet\",\"familyName\":\"Doe\"},"
             "\"emails\":[{\"value\":\"janet@example.com\",\"primary\":true}],"
             "\"externalId\":\"00u1abcd\",\"active\":true}");
    EXPECT_STATUS(r, 200);
    CHECK(strcmp(jstr(r->json, "displayName"), "Janet Doe") == 0,
          "displayName from the name: %s", jstr(r->json, "displayName"));
    CHECK(strstr(r->body, "janet@example.com") != NULL, "email replaced");
    r = http(&H, "GET", hfmt(&H, "/v1/users/%s", id), H.admin_token, NULL,
             NULL);
    CHECK(strcmp(jstr(r->json, "email"), "janet@example.com") == 0,
          "patd user's email");
    before = h_last_audit_id(&H);
    r = call("PUT", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"userName\":\"someone.else@example.com\"}");
    EXPECT_SCIM_ERROR(r, 400, "mutability");
    r = call("PUT", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"userName\":\"jane.doe@example.com\",\"emails\":\"x\"}");
    EXPECT_SCIM_ERROR(r, 400, "invalidValue");
    CHECK(h_last_audit_id(&H) == before, "refused PUTs wrote nothing");
}

static void
test_patch(const char *id)
{
    const char *tok;
    struct resp *r;
    long long before;

    h_section("PATCH: Okta and Entra shapes, deactivation stops the token");
    tok = h_token(&H, id, "live", "[\"patd:self\"]", NULL);
    CHECK(auth_status(&H, tok) == 200, "token works while active");

    /* Entra, flagged: one value object with dotted keys. */
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"schemas\":[\"" SCIM_PATCH "\"],\"Operations\":[{\"op\":"
             "\"replace\",\"value\":{\"displayName\":\"J. Doe\","
             "\"name.givenName\":\"J.\",\"urn:ietf:params:scim:schemas:"
             "extension:enterprise:2.0:User:employeeNumber\":\"7\"}}]}");
    EXPECT_STATUS(r, 200);
    CHECK(strcmp(jstr(r->json, "displayName"), "J. Doe") == 0,
          "displayName patched");
    CHECK(strstr(r->body, "\"givenName\":\"J.\"") != NULL, "givenName");
    /* Entra, default: capitalised op, a path with a filter. */
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"schemas\":[\"" SCIM_PATCH "\"],\"Operations\":[{\"op\":"
             "\"Add\",\"path\":\"emails[type eq \\\"work\\\"].value\","
             "\"value\":\"jd@example.com\"},{\"op\":\"Replace\",\"path\":"
             "\"name.familyName\",\"value\":\"Dough\"}]}");
    EXPECT_STATUS(r, 200);
    CHECK(strstr(r->body, "jd@example.com") != NULL, "email by filter path");
    CHECK(strstr(r->body, "Dough") != NULL, "familyName");

    before = h_last_audit_id(&H);
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\","
             "\"value\":\"maybe\"}]}");
    EXPECT_SCIM_ERROR(r, 400, "invalidValue");
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"Operations\":[{\"op\":\"move\",\"path\":\"active\"}]}");
    EXPECT_SCIM_ERROR(r, 400, "invalidSyntax");
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id), "{\"op\":\"x\"}");
    EXPECT_SCIM_ERROR(r, 400, "invalidSyntax");
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"Operations\":[{\"op\":\"remove\",\"path\":\"active\"}]}");
    EXPECT_SCIM_ERROR(r, 400, "mutability");
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"Operations\":[{\"op\":\"replace\",\"value\":false}]}");
    EXPECT_SCIM_ERROR(r, 400, "invalidValue");
    CHECK(h_last_audit_id(&H) == before, "refused PATCHes wrote nothing");
    CHECK(auth_status(&H, tok) == 200, "token unaffected by refusals");

    /* Entra's default disable: the string "False". */
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"schemas\":[\"" SCIM_PATCH "\"],\"Operations\":[{\"op\":"
             "\"Replace\",\"path\":\"active\",\"value\":\"False\"}]}");
    EXPECT_STATUS(r, 200);
    CHECK(!jbool(r->json, "active"), "inactive");
    CHECK(auth_status(&H, tok) == 401, "token stops at once");
    r = call("GET", hfmt(&H, "/scim/v2/Users/%s", id), NULL);
    EXPECT_STATUS(r, 200); /* Entra expects the inactive user back */
    CHECK(!jbool(r->json, "active"), "GET shows inactive");
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\","
             "\"value\":\"True\"}]}");
    CHECK(jbool(r->json, "active"), "reactivated (\"True\")");
    CHECK(auth_status(&H, tok) == 200, "token works again");
    /* Okta: no path, {"active": false}. */
    r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
             "{\"schemas\":[\"" SCIM_PATCH "\"],\"Operations\":[{\"op\":"
             "\"replace\",\"value\":{\"active\":false}}]}");
    EXPECT_STATUS(r, 200);
    CHECK(!jbool(r->json, "active"), "Okta deactivation");
    CHECK(auth_status(&H, tok) == 401, "token stops at once (Okta)");
    r = http(&H, "GET", hfmt(&H, "/v1/audit?target=%s&action=user.updated", id),
             H.admin_token, NULL, NULL);
    CHECK(nitems(r) > 0, "deactivation audited");
}

static void
test_delete(void)
{
    const char *id = create("leaver@example.com", "ext-leaver");
    const char *tok = id ? h_token(&H, id, "t", "[\"patd:self\"]", NULL) : NULL;
    struct resp *r;

    h_section("DELETE (Entra's hard delete)");
    if (tok == NULL)
        return;
    CHECK(auth_status(&H, tok) == 200, "token works");
    r = call("DELETE", hfmt(&H, "/scim/v2/Users/%s", id), NULL);
    EXPECT_STATUS(r, 204);
    CHECK(auth_status(&H, tok) == 401, "token stops at once");
    r = call("GET", hfmt(&H, "/scim/v2/Users/%s", id), NULL);
    EXPECT_SCIM_ERROR(r, 404, NULL);
    r = call("DELETE", hfmt(&H, "/scim/v2/Users/%s", id), NULL);
    EXPECT_SCIM_ERROR(r, 404, NULL);
    r = call("GET",
             "/scim/v2/Users?filter=userName%20eq%20%22leaver%40"
             "example.com%22",
             NULL);
    CHECK(jint(r->json, "totalResults") == 0, "deleted user not listed");
    /* The name can be provisioned again. */
    CHECK(create("leaver@example.com", "ext-leaver2") != NULL, "re-create");
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* PostgreSQL only: a second node drops the token within LIMIT_MS. */
static void
test_two_nodes(void)
{
    struct h B;
    const char *id, *tok;
    double t0, t = -1;
    struct resp *r;

    if (getenv("PATD_TEST_STORE") == NULL)
        return;
    h_section("deactivation reaches a second node within 1 s");
    h_init_peer(&B, &H, "b");
    if (!h_start(&B, NULL)) {
        h_finish_peer(&B);
        return;
    }
    id = create("mover@example.com", "ext-mover");
    tok = id ? h_token(&H, id, "t", "[\"patd:self\"]", NULL) : NULL;
    if (tok != NULL) {
        CHECK(auth_status(&B, tok) == 200, "B allows (and caches) the token");
        CHECK(auth_status(&B, tok) == 200, "B allows it from the cache");
        r = call("PATCH", hfmt(&H, "/scim/v2/Users/%s", id),
                 "{\"Operations\":[{\"op\":\"replace\",\"value\":"
                 "{\"active\":false}}]}");
        t0 = now_ms();
        EXPECT_STATUS(r, 200);
        while (now_ms() - t0 < 3000) {
            if (auth_status(&B, tok) == 401) {
                t = now_ms() - t0;
                break;
            }
        }
        printf("# node B refused the token %.1f ms after the answer\n", t);
        CHECK(t >= 0 && t <= LIMIT_MS, "B refuses within %d ms (%.1f)",
              LIMIT_MS, t);
    }
    EXPECT_HEALTHY(&B);
    h_finish_peer(&B);
}

int
main(int argc, char **argv)
{
    const char *bot, *id;

    h_init(&H, argc, argv);
    if (!h_start(&H, NULL))
        return h_finish(&H);
    bot = h_user(&H, "scim-bot", "[\"patd:scim\"]", NULL);
    scim = bot ? h_token(&H, bot, "okta", "[\"patd:scim\"]", NULL) : NULL;
    if (scim != NULL) {
        test_caller();
        id = test_create();
        if (id != NULL) {
            test_filter(id);
            test_paging();
            test_get_put(id);
            test_patch(id);
        }
        test_delete();
        test_two_nodes();
    }
    EXPECT_HEALTHY(&H);
    return h_finish(&H);
}
