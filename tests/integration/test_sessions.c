/* SPDX-License-Identifier: MIT */
/*
 * Integration test of a user's web sessions (issue #11.6): at most
 * [session] max_per_user live at once (3 here; the oldest goes), the
 * list at GET /v1/me/sessions (public ids, never the cookie; the
 * caller's marked current) and DELETE /v1/me/sessions/{id} (204; another
 * user's is 404; CSRF and cross-site rules as for any cookie change).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define MAX_PER_USER 3

struct session {
    const char *cookie; /* "patd_session=..." */
    const char *cookie_hdr;
    const char *csrf_hdr;
};

static bool
sign_in(struct h *h, const char *user, const char *password, struct session *s)
{
    const char *hdrs[] = {"User-Agent: itest/1.0", NULL};
    struct resp *r = http(
        h, "POST", "/v1/session", NULL,
        hfmt(h, "{\"username\":\"%s\",\"password\":\"%s\"}", user, password),
        hdrs);
    const char *v = strstr(r->set_cookie, "patd_session=");

    if (!EXPECT_STATUS(r, 200) || v == NULL)
        return false;
    s->cookie = hfmt(h, "%.*s", (int)strcspn(v, ";"), v);
    s->cookie_hdr = hfmt(h, "Cookie: %s", s->cookie);
    s->csrf_hdr = hfmt(h, "X-CSRF-Token: %s", jstr(r->json, "csrf_token"));
    h_secret(h, s->cookie + strlen("patd_session="));
    return true;
}

static struct resp *
as(struct h *h, const struct session *s, const char *method, const char *path,
   bool csrf)
{
    const char *hdrs[] = {s->cookie_hdr, csrf ? s->csrf_hdr : NULL, NULL};

    return http(h, method, path, NULL, NULL, hdrs);
}

/* The id of the list item that is (current) or is not the caller's. */
static const char *
item_id(const struct resp *r, bool current)
{
    json_t *items = jitems(r), *it;
    size_t i;

    json_array_foreach(items, i, it)
    {
        if (jbool(it, "current") == current)
            return jstr(it, "id");
    }
    return NULL;
}

static void
test_cap_and_list(struct h *h, struct session *sam, struct session *tess)
{
    struct resp *r;
    json_t *it;
    size_t i;
    int cur = 0;

    h_section("at most max_per_user sessions; the oldest goes");
    for (i = 0; i < MAX_PER_USER + 2; i++) {
        if (!sign_in(h, "sam", "sam's password", &sam[i]))
            return;
    }
    for (i = 0; i < MAX_PER_USER + 2; i++) {
        r = as(h, &sam[i], "GET", "/v1/me", false);
        if (i < 2)
            EXPECT_ERROR(r, 401, "invalid_token");
        else
            EXPECT_STATUS(r, 200);
    }
    if (!sign_in(h, "tess", "tess's password", tess))
        return;

    h_section("GET /v1/me/sessions");
    r = as(h, &sam[MAX_PER_USER + 1], "GET", "/v1/me/sessions", false);
    EXPECT_STATUS(r, 200);
    CHECK(nitems(r) == MAX_PER_USER, "%zu sessions listed, want %d: %s",
          nitems(r), MAX_PER_USER, r->body);
    CHECK(jnull(r->json, "next_cursor"), "next_cursor: %s", r->body);
    json_array_foreach(jitems(r), i, it)
    {
        const char *id = jstr(it, "id");
        cur += jbool(it, "current");
        CHECK(id && strncmp(id, "ses_", 4) == 0 && strlen(id) == 20,
              "session id '%s'", id ? id : "(none)");
        CHECK(jstr(it, "created_at") && jstr(it, "expires_at"),
              "session times: %s", r->body);
        CHECK(jstr(it, "ip") && strcmp(jstr(it, "ip"), "127.0.0.1") == 0,
              "session ip: %s", r->body);
        CHECK(jstr(it, "user_agent") &&
                  strcmp(jstr(it, "user_agent"), "itest/1.0") == 0,
              "session user agent: %s", r->body);
    }
    CHECK(cur == 1, "%d sessions marked current", cur);
    for (i = 0; i < MAX_PER_USER + 2; i++)
        CHECK(strstr(r->body, sam[i].cookie + strlen("patd_session=")) == NULL,
              "the list shows a cookie");
    CHECK(strstr(r->body, "hash") == NULL, "the list shows a hash");
    /* Through a PAT: nothing is current. */
    r = http(h, "GET", "/v1/me/sessions", h->admin_token, NULL, NULL);
    EXPECT_STATUS(r, 200);
    CHECK(item_id(r, true) == NULL, "a PAT's list has a current session");
}

static void
test_end(struct h *h, struct session *sam, struct session *tess)
{
    struct session *me = &sam[MAX_PER_USER + 1];
    struct resp *r, *tl;
    const char *other_id = NULL, *tess_id, *my_id;
    json_t *it;
    size_t i;

    h_section("DELETE /v1/me/sessions/{id}");
    r = as(h, me, "GET", "/v1/me/sessions", false);
    my_id = item_id(r, true);
    json_array_foreach(jitems(r), i, it)
    {
        if (!jbool(it, "current") && other_id == NULL)
            other_id = jstr(it, "id");
    }
    tl = as(h, tess, "GET", "/v1/me/sessions", false);
    tess_id = item_id(tl, true);
    if (!CHECK(my_id && other_id && tess_id, "ids: %s / %s", r->body, tl->body))
        return;
    /* Which of sam's is other_id is not known; end it, then see. */
    r = as(h, me, "DELETE", hfmt(h, "/v1/me/sessions/%s", other_id), false);
    EXPECT_ERROR(r, 403, "forbidden");
    r = as(h, me, "DELETE", hfmt(h, "/v1/me/sessions/%s", tess_id), true);
    EXPECT_ERROR(r, 404, "not_found");
    r = as(h, tess, "GET", "/v1/me", false);
    EXPECT_STATUS(r, 200);
    r = as(h, me, "DELETE", "/v1/me/sessions/ses_nope", true);
    EXPECT_ERROR(r, 404, "not_found");
    r = as(h, me, "DELETE", hfmt(h, "/v1/me/sessions/%s", other_id), true);
    EXPECT_STATUS(r, 204);
    CHECK(r->set_cookie[0] == '\0', "ending another session cleared mine");
    r = as(h, me, "DELETE", hfmt(h, "/v1/me/sessions/%s", other_id), true);
    EXPECT_ERROR(r, 404, "not_found");
    r = as(h, me, "GET", "/v1/me/sessions", false);
    CHECK(nitems(r) == MAX_PER_USER - 1 && !items_have_id(r, other_id),
          "after ending one: %s", r->body);
    /* The ended one's cookie no longer works (it was sam[2] or sam[3]). */
    {
        int live = 0;
        for (i = 2; i <= MAX_PER_USER; i++)
            live += as(h, &sam[i], "GET", "/v1/me", false)->status == 200;
        CHECK(live == MAX_PER_USER - 2, "%d of sam's other sessions live",
              live);
    }
    /* Ending one's own current session clears the cookie too. */
    r = as(h, me, "DELETE", hfmt(h, "/v1/me/sessions/%s", my_id), true);
    EXPECT_STATUS(r, 204);
    CHECK(strstr(r->set_cookie, "Max-Age=0") != NULL,
          "ending the current session kept the cookie: '%s'", r->set_cookie);
    r = as(h, me, "GET", "/v1/me", false);
    EXPECT_ERROR(r, 401, "invalid_token");
    /* Another user's, by PAT too: 404. */
    r = http(h, "DELETE", hfmt(h, "/v1/me/sessions/%s", tess_id),
             h->admin_token, NULL, NULL);
    EXPECT_ERROR(r, 404, "not_found");
    EXPECT_HEALTHY(h);
}

int
main(int argc, char **argv)
{
    static const char *const env[] = {"PATD_SESSION_MAX_PER_USER=3", NULL};
    struct session sam[MAX_PER_USER + 2], tess;
    struct h h;

    memset(&h, 0, sizeof(h));
    memset(sam, 0, sizeof(sam));
    memset(&tess, 0, sizeof(tess));
    h_init(&h, argc, argv);
    if (h_start(&h, env)) {
        if (h_user(&h, "sam", NULL, "sam's password") &&
            h_user(&h, "tess", NULL, "tess's password")) {
            test_cap_and_list(&h, sam, &tess);
            if (tess.cookie != NULL)
                test_end(&h, sam, &tess);
        }
        EXPECT_HEALTHY(&h);
    }
    return h_finish(&h);
}
