/* SPDX-License-Identifier: MIT */
/*
 * Use limits across nodes (DESIGN.md section 13): two patd nodes on one
 * PostgreSQL database (tests/unit/with_pg.sh), a token with max_uses N,
 * and eight clients (four a node, each its own kept-alive connection)
 * verifying it at /v1/auth as fast as they can until it is refused. The
 * 200s of both nodes together must be exactly N: never more (an
 * overspend), never fewer (a use lost). Every answer after is 401, none
 * is 5xx, and the token shows uses_left 0. A token without a limit,
 * checked on both nodes meanwhile, keeps answering 200 from the cache.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "harness.h"

#define USES      300
#define PER_NODE  4
#define AFTER_401 5 /* refusals a client sees before it stops */

static const char *const env[] = {"PATD_AUTH_MAX_FAILURES_PER_IP=1000000",
                                  NULL};

struct client {
    pthread_t t;
    const char *base;
    const char *token;
    long ok, refused, other;
};

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void *
client_main(void *arg)
{
    struct client *c = arg;
    char url[128], hdr[H_TOKEN_CAP + 32];
    struct curl_slist *hl;
    CURL *e = curl_easy_init();
    long status, i;

    if (e == NULL)
        return NULL;
    snprintf(url, sizeof(url), "%s/v1/auth", c->base);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", c->token);
    hl = curl_slist_append(NULL, hdr);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    /* Bounded: far more requests than uses, whatever happens. */
    for (i = 0; i < 10 * USES && c->refused < AFTER_401; i++) {
        status = 0;
        if (curl_easy_perform(e) == CURLE_OK)
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200)
            c->ok++;
        else if (status == 401)
            c->refused++;
        else
            c->other++;
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(e);
    return NULL;
}

int
main(int argc, char **argv)
{
    struct client cl[2 * PER_NODE];
    struct h a, b;
    struct resp *r;
    const char *uid, *tok, *id, *plain;
    long ok = 0, other = 0, per_node[2] = {0, 0};
    int i;

    if (getenv("PATD_TEST_STORE") == NULL ||
        strncmp(getenv("PATD_TEST_STORE"), "postgres", 8) != 0) {
        fprintf(stderr, "%s: run by tests/unit/with_pg.sh\n", argv[0]);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h_init(&a, argc, argv);
    if (!h_start(&a, env))
        return h_finish(&a);
    h_init_peer(&b, &a, "b");
    if (!h_start(&b, env)) {
        h_finish_peer(&b);
        return h_finish(&a);
    }
    h_section("a use-limited token on two nodes under concurrent load");
    uid = h_user(&a, "svc", NULL, NULL);
    r = httpf(&a, "POST", hfmt(&a, "/v1/users/%s/tokens", uid), a.admin_token,
              "{\"name\":\"limited\",\"scopes\":[\"patd:self\"],"
              "\"max_uses\":%d}",
              USES);
    plain = h_token(&a, uid, "plain", "[\"patd:self\"]", NULL);
    if (EXPECT_STATUS(r, 201) && plain != NULL) {
        tok = jstr(r->json, "token");
        id = hstrdup(&a, jstr(r->json, "id"));
        memset(cl, 0, sizeof(cl));
        for (i = 0; i < 2 * PER_NODE; i++) {
            cl[i].base = i < PER_NODE ? a.base : b.base;
            cl[i].token = tok;
            pthread_create(&cl[i].t, NULL, client_main, &cl[i]);
        }
        for (i = 0; i < 2 * PER_NODE; i++) {
            pthread_join(cl[i].t, NULL);
            ok += cl[i].ok;
            other += cl[i].other;
            per_node[i >= PER_NODE] += cl[i].ok;
        }
        printf("# 200s: %ld (node a %ld, node b %ld), other answers %ld\n", ok,
               per_node[0], per_node[1], other);
        CHECK(ok == USES, "exactly %d uses served, got %ld", USES, ok);
        CHECK(per_node[0] > 0 && per_node[1] > 0, "both nodes served uses");
        CHECK(other == 0, "no answer but 200 and 401 (%ld)", other);
        r = http(&a, "GET", hfmt(&a, "/v1/tokens/%s", id), a.admin_token, NULL,
                 NULL);
        CHECK(r->status == 200 && jint(r->json, "uses_left") == 0,
              "uses_left 0");
        r = http(&b, "GET", "/v1/auth", tok, NULL, NULL);
        EXPECT_ERROR(r, 401, "invalid_token");
        r = http(&b, "GET", "/v1/auth", plain, NULL, NULL);
        EXPECT_STATUS(r, 200);
        r = http(&a, "GET", "/v1/auth", plain, NULL, NULL);
        EXPECT_STATUS(r, 200);
    }
    EXPECT_HEALTHY(&a);
    EXPECT_HEALTHY(&b);
    h_finish_peer(&b);
    i = h_finish(&a);
    curl_global_cleanup();
    return i;
}
