/* SPDX-License-Identifier: MIT */
/*
 * SCIM 2.0 Users (RFC 7643, RFC 7644) under /scim/v2/Users, as Okta and
 * Microsoft Entra ID send it (DESIGN.md section 11): create, get, list
 * with filter=userName eq "..." (or externalId) and startIndex/count
 * paging, PUT replace, PATCH (active, name, emails, in both vendors'
 * shapes) and DELETE. The caller is a PAT holding patd:scim. Answers
 * are application/scim+json; errors carry the SCIM Error schema with
 * the status as a string.
 *
 * Deprovisioning (active false, or DELETE) goes through the normal user
 * lifecycle calls, whose feed rows make every node drop the user's
 * tokens within a second. A SCIM userName such as an email address is
 * mapped to a patd username by pat_username_derive; the userName as
 * sent is kept as an attribute and answered back.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "routes.h"
#include "serve_config.h"
#include "banned.h"

#define SCIM_USER    "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_LIST    "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_ERROR   "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_PATCH   "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_TYPE    "application/scim+json"
#define SCIM_MAXPAGE 200

/* A user as SCIM sees it, read from the store and changed by a request. */
struct scim_user {
    char user_name[PAT_ATTR_MAX + 1];
    char external_id[PAT_ATTR_MAX + 1];
    char given[PAT_DISPLAY_MAX / 2]; /* both fit a display name */
    char family[PAT_DISPLAY_MAX / 2];
    char display[PAT_DISPLAY_MAX + 1];
    char email[PAT_EMAIL_MAX + 1];
    bool active;
    bool display_set; /* displayName given; else built from name */
};

static int scim_error(struct req *r, int status, const char *scim_type,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
scim_error(struct req *r, int status, const char *scim_type, const char *fmt,
           ...)
{
    char text[512], st[8];
    va_list ap;
    json_t *e;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(st, sizeof(st), "%d", status);
    e = json_pack("{s:[s], s:s, s:s}", "schemas", SCIM_ERROR, "status", st,
                  "detail", text);
    if (scim_type != NULL)
        json_object_set_new(e, "scimType", json_string(scim_type));
    r->raw_type = SCIM_TYPE;
    return reply(r, status, e);
}

/* A libpat failure as a SCIM error. */
static int
scim_pat(struct req *r, int rc)
{
    const char *why = r->errdetail[0] ? r->errdetail : pat_strerror(rc);

    switch (rc) {
    case PAT_ENOTFOUND:
        return scim_error(r, 404, NULL, "no such user");
    case PAT_ECONFLICT:
        return scim_error(r, 409, "uniqueness", "%s", why);
    case PAT_EINVAL:
    case PAT_ESCOPE:
    case PAT_ERANGE:
        return scim_error(r, 400, "invalidValue", "%s", why);
    default:
        if (pat_err_class(rc) == PAT_CLASS_TRANSIENT)
            return scim_error(r, 503, NULL, "the store is unavailable");
        return scim_error(r, 500, NULL, "%s", why);
    }
}

/*
 * The caller: a PAT with patd:scim. Failures answered by the common
 * authentication are rewritten into the SCIM error shape (the
 * WWW-Authenticate header stays).
 */
static int
scim_auth(struct req *r)
{
    if (auth_request(r, AUTH_TOKEN) != 0) {
        json_t *d = json_object_get(r->resp, "error_description");
        char text[256];

        snprintf(text, sizeof(text), "%s",
                 json_is_string(d) ? json_string_value(d) : "unauthorized");
        return scim_error(r, r->status, NULL, "%s", text);
    }
    if (!pat_verdict_has_scope(&r->token, "patd:scim")) {
        snprintf(r->www_auth, sizeof(r->www_auth),
                 "Bearer realm=\"patd\", error=\"insufficient_scope\", "
                 "scope=\"patd:scim\"");
        return scim_error(r, 403, NULL,
                          "this endpoint needs a token with scope "
                          "'patd:scim'");
    }
    return 0;
}

static void
copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Reads u's SCIM view: the stored attributes, else what patd has. */
static int
scim_load(struct req *r, const struct pat_user *u, struct scim_user *s)
{
    int rc;

    memset(s, 0, sizeof(*s));
    rc = pat_user_attr_get(r->st, u->id, PAT_ATTR_SCIM_USERNAME, s->user_name,
                           sizeof(s->user_name));
    if (rc == PAT_ENOTFOUND)
        copy(s->user_name, sizeof(s->user_name), u->username);
    if (rc == PAT_OK || rc == PAT_ENOTFOUND)
        rc = pat_user_attr_get(r->st, u->id, PAT_ATTR_SCIM_EXTERNAL,
                               s->external_id, sizeof(s->external_id));
    if (rc == PAT_OK || rc == PAT_ENOTFOUND)
        rc = pat_user_attr_get(r->st, u->id, PAT_ATTR_SCIM_GIVEN, s->given,
                               sizeof(s->given));
    if (rc == PAT_OK || rc == PAT_ENOTFOUND)
        rc = pat_user_attr_get(r->st, u->id, PAT_ATTR_SCIM_FAMILY, s->family,
                               sizeof(s->family));
    if (rc != PAT_OK && rc != PAT_ENOTFOUND)
        return rc;
    copy(s->display, sizeof(s->display), u->display_name);
    copy(s->email, sizeof(s->email), u->email);
    s->active = !u->disabled;
    s->display_set = true;
    return PAT_OK;
}

static json_t *
scim_render(struct req *r, const struct pat_user *u, const struct scim_user *s)
{
    char created[PAT_TIME_LEN + 1], modified[PAT_TIME_LEN + 1];
    char loc[700], version[40], formatted[2 * PAT_ATTR_MAX + 2];
    json_t *o, *name;

    pat_time_format(u->created_at, created, sizeof(created));
    pat_time_format(u->updated_at, modified, sizeof(modified));
    snprintf(loc, sizeof(loc), "%s/scim/v2/Users/%s", r->cfg->public_url,
             u->id);
    snprintf(version, sizeof(version), "W/\"%lld\"", (long long)u->updated_at);
    snprintf(formatted, sizeof(formatted), "%s%s%s", s->given,
             s->given[0] && s->family[0] ? " " : "", s->family);
    name = json_object();
    if (s->given[0])
        json_object_set_new(name, "givenName", json_string(s->given));
    if (s->family[0])
        json_object_set_new(name, "familyName", json_string(s->family));
    json_object_set_new(name, "formatted",
                        json_string(formatted[0] ? formatted : s->display));
    o = json_pack("{s:[s], s:s, s:s, s:o, s:s, s:b, s:{s:s, s:s, s:s, s:s, "
                  "s:s}}",
                  "schemas", SCIM_USER, "id", u->id, "userName", s->user_name,
                  "name", name, "displayName", s->display, "active", s->active,
                  "meta", "resourceType", "User", "created", created,
                  "lastModified", modified, "location", loc, "version",
                  version);
    if (s->external_id[0])
        json_object_set_new(o, "externalId", json_string(s->external_id));
    if (s->email[0])
        json_object_set_new(o, "emails",
                            json_pack("[{s:s, s:s, s:b}]", "value", s->email,
                                      "type", "work", "primary", 1));
    else
        json_object_set_new(o, "emails", json_array());
    return o;
}

static int
scim_reply_user(struct req *r, int status, const struct pat_user *u)
{
    struct scim_user s;
    int rc = scim_load(r, u, &s);

    if (rc != PAT_OK)
        return scim_pat(r, rc);
    r->raw_type = SCIM_TYPE;
    return reply(r, status, scim_render(r, u, &s));
}

/* "True"/"False" in any case (Entra) or a JSON boolean; -1 otherwise. */
static int
scim_bool(const json_t *v)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
        return 1;
    if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
        return 0;
    return -1;
}

/* Takes the email of an emails array: the primary one, else the first. */
static int
scim_emails(struct req *r, struct scim_user *s, const json_t *v)
{
    const json_t *e, *pick = NULL;
    size_t i;

    if (json_is_null(v)) {
        s->email[0] = '\0';
        return 0;
    }
    if (!json_is_array(v))
        return scim_error(r, 400, "invalidValue", "'emails' must be an array");
    json_array_foreach(v, i, e)
    {
        if (!json_is_object(e) || !json_is_string(json_object_get(e, "value")))
            return scim_error(r, 400, "invalidValue",
                              "each of 'emails' needs a string 'value'");
        if (pick == NULL || json_is_true(json_object_get(e, "primary")))
            pick = e;
    }
    copy(s->email, sizeof(s->email),
         pick ? json_string_value(json_object_get(pick, "value")) : "");
    return 0;
}

static int
want_string(struct req *r, const char *attr, const json_t *v, char *dst,
            size_t cap)
{
    if (json_is_null(v)) {
        dst[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return scim_error(r, 400, "invalidValue", "'%s' must be a string",
                          attr);
    if (strlen(json_string_value(v)) >= cap)
        return scim_error(r, 400, "invalidValue", "'%s' is too long", attr);
    copy(dst, cap, json_string_value(v));
    return 0;
}

/* The attribute name without the core schema's URN prefix. */
static const char *
scim_attr_name(const char *path)
{
    size_t n = strlen(SCIM_USER ":");

    if (strncasecmp(path, SCIM_USER ":", n) == 0)
        return path + n;
    return path;
}

static int scim_set(struct req *r, struct scim_user *s, const char *path,
                    const json_t *v);

static int
scim_name(struct req *r, struct scim_user *s, const json_t *v)
{
    const char *k;
    json_t *x;
    char path[64];

    if (json_is_null(v)) {
        s->given[0] = s->family[0] = '\0';
        return 0;
    }
    if (!json_is_object(v))
        return scim_error(r, 400, "invalidValue", "'name' must be an object");
    json_object_foreach((json_t *)(uintptr_t)v, k, x)
    {
        snprintf(path, sizeof(path), "name.%s", k);
        if (scim_set(r, s, path, x))
            return r->status;
    }
    return 0;
}

/*
 * Sets one attribute from a path (case-insensitive, as RFC 7644 says).
 * Attributes patd does not keep are ignored, as both vendors expect of a
 * service that supports a subset.
 */
static int
scim_set(struct req *r, struct scim_user *s, const char *path, const json_t *v)
{
    int b;

    path = scim_attr_name(path);
    if (strcasecmp(path, "active") == 0) {
        b = scim_bool(v);
        if (b < 0)
            return scim_error(r, 400, "invalidValue",
                              "'active' must be true or false");
        s->active = b == 1;
        return 0;
    }
    if (strcasecmp(path, "userName") == 0)
        return want_string(r, "userName", v, s->user_name,
                           sizeof(s->user_name));
    if (strcasecmp(path, "externalId") == 0)
        return want_string(r, "externalId", v, s->external_id,
                           sizeof(s->external_id));
    if (strcasecmp(path, "displayName") == 0) {
        s->display_set = !json_is_null(v);
        return want_string(r, "displayName", v, s->display, sizeof(s->display));
    }
    if (strcasecmp(path, "name") == 0)
        return scim_name(r, s, v);
    if (strcasecmp(path, "name.givenName") == 0)
        return want_string(r, "name.givenName", v, s->given, sizeof(s->given));
    if (strcasecmp(path, "name.familyName") == 0)
        return want_string(r, "name.familyName", v, s->family,
                           sizeof(s->family));
    if (strcasecmp(path, "emails") == 0)
        return scim_emails(r, s, v);
    /* Entra: emails[type eq "work"].value */
    if (strncasecmp(path, "emails[", 7) == 0 && strlen(path) > 7 &&
        strcasecmp(path + strlen(path) - 7, "].value") == 0)
        return want_string(r, "emails", v, s->email, sizeof(s->email));
    return 0;
}

/* Fills s from a full resource (POST and PUT); 0 or the status answered. */
static int
scim_from_resource(struct req *r, struct scim_user *s)
{
    const char *k;
    json_t *v;

    if (r->body == NULL)
        return scim_error(r, 400, "invalidSyntax", "a JSON body is required");
    if (!json_is_string(json_object_get(r->body, "userName")) ||
        json_string_length(json_object_get(r->body, "userName")) == 0)
        return scim_error(r, 400, "invalidValue", "'userName' is required");
    s->display_set = false;
    json_object_foreach(r->body, k, v)
    {
        if (strcmp(k, "schemas") == 0 || strcmp(k, "id") == 0 ||
            strcmp(k, "meta") == 0 || strcasecmp(k, "password") == 0)
            continue;
        if (scim_set(r, s, k, v))
            return r->status;
    }
    return 0;
}

/* The display name: displayName, else the name's parts. */
static void
scim_display(struct scim_user *s)
{
    if (s->display_set && s->display[0])
        return;
    snprintf(s->display, sizeof(s->display), "%s%s%s", s->given,
             s->given[0] && s->family[0] ? " " : "", s->family);
}

/* Writes s's attributes for user_id; PAT_OK or the failure. */
static int
scim_store_attrs(struct req *r, const char *user_id, const struct scim_user *s)
{
    int rc =
        pat_user_attr_set(r->st, user_id, PAT_ATTR_SCIM_USERNAME, s->user_name);

    if (rc == PAT_OK)
        rc = pat_user_attr_set(r->st, user_id, PAT_ATTR_SCIM_EXTERNAL,
                               s->external_id);
    if (rc == PAT_OK)
        rc = pat_user_attr_set(r->st, user_id, PAT_ATTR_SCIM_GIVEN, s->given);
    if (rc == PAT_OK)
        rc = pat_user_attr_set(r->st, user_id, PAT_ATTR_SCIM_FAMILY, s->family);
    return rc;
}

/*
 * Writes s over user u: display name, email and active through the
 * lifecycle call (one transaction, audit event and feed row), then the
 * SCIM attributes. A userName that maps to another patd username is
 * refused: patd usernames do not change.
 */
static int
scim_write(struct req *r, struct pat_user *u, struct scim_user *s)
{
    struct pat_user_patch p = {NULL, NULL, -1, NULL, -1};
    char uname[PAT_USERNAME_MAX + 1];
    int rc;

    if (pat_username_derive(s->user_name, uname) != PAT_OK)
        return scim_error(r, 400, "invalidValue",
                          "'userName' cannot be a patd username");
    if (strcmp(uname, u->username) != 0)
        return scim_error(r, 400, "mutability",
                          "'userName' cannot change from '%s'", u->username);
    scim_display(s);
    if (strcmp(s->display, u->display_name) != 0)
        p.display_name = s->display;
    if (strcmp(s->email, u->email) != 0)
        p.email = s->email;
    if (s->active == u->disabled)
        p.disabled = s->active ? 0 : 1;
    if (p.display_name != NULL || p.email != NULL || p.disabled >= 0) {
        rc = pat_user_update(r->st, &r->actor, u->id, &p, u);
        if (rc != PAT_OK)
            return scim_pat(r, rc);
    }
    rc = scim_store_attrs(r, u->id, s);
    if (rc == PAT_OK)
        rc = pat_user_get(r->st, u->id, u);
    return rc == PAT_OK ? 0 : scim_pat(r, rc);
}

int
h_scim_users_create(struct req *r)
{
    struct pat_user_spec spec = {NULL, NULL, NULL, PAT_ROLE_USER, NULL};
    char uname[PAT_USERNAME_MAX + 1], other[PAT_ID_LEN + 1];
    struct scim_user s;
    struct pat_user u;
    int rc;

    if (scim_auth(r))
        return r->status;
    memset(&s, 0, sizeof(s));
    s.active = true;
    if (scim_from_resource(r, &s))
        return r->status;
    if (pat_username_derive(s.user_name, uname) != PAT_OK)
        return scim_error(r, 400, "invalidValue",
                          "'userName' cannot be a patd username");
    if (pat_user_get(r->st, uname, &u) == PAT_OK ||
        pat_user_attr_find(r->st, PAT_ATTR_SCIM_USERNAME, s.user_name, other) ==
            PAT_OK)
        return scim_error(r, 409, "uniqueness", "userName '%s' is taken",
                          s.user_name);
    scim_display(&s);
    spec.username = uname;
    spec.display_name = s.display;
    spec.email = s.email;
    {
        /* One transaction: a failure anywhere leaves no partial user. */
        const struct pat_user_attr attrs[] = {
            {PAT_ATTR_SCIM_USERNAME, s.user_name, true},
            {PAT_ATTR_SCIM_EXTERNAL, s.external_id, true},
            {PAT_ATTR_SCIM_GIVEN, s.given, false},
            {PAT_ATTR_SCIM_FAMILY, s.family, false},
        };

        rc =
            pat_user_provision(r->st, &r->actor, &spec, attrs,
                               sizeof(attrs) / sizeof(attrs[0]), !s.active, &u);
    }
    if (rc != PAT_OK)
        return scim_pat(r, rc);
    return scim_reply_user(r, 201, &u);
}

/* The user of the path; 0 or the status answered (404). */
static int
scim_path_user(struct req *r, struct pat_user *u)
{
    if (strncmp(r->params[0], "usr_", 4) != 0 ||
        pat_user_get(r->st, r->params[0], u) != PAT_OK)
        return scim_error(r, 404, NULL, "no such user");
    return 0;
}

int
h_scim_user_get(struct req *r)
{
    struct pat_user u;

    if (scim_auth(r) || scim_path_user(r, &u))
        return r->status;
    return scim_reply_user(r, 200, &u);
}

int
h_scim_user_put(struct req *r)
{
    struct scim_user s;
    struct pat_user u;

    if (scim_auth(r) || scim_path_user(r, &u))
        return r->status;
    /* A replace: what the resource leaves out is cleared. */
    memset(&s, 0, sizeof(s));
    s.active = true;
    if (scim_from_resource(r, &s) || scim_write(r, &u, &s))
        return r->status;
    return scim_reply_user(r, 200, &u);
}

/* One PatchOp operation applied to s; 0 or the status answered. */
static int
scim_patch_op(struct req *r, struct scim_user *s, const json_t *op)
{
    const json_t *o = json_object_get(op, "op"),
                 *p = json_object_get(op, "path");
    const json_t *v = json_object_get(op, "value");
    const char *name = json_is_string(o) ? json_string_value(o) : "";
    const char *k;
    json_t *x;

    if (!json_is_object(op))
        return scim_error(r, 400, "invalidSyntax",
                          "each operation must be an object");
    if (strcasecmp(name, "remove") == 0) {
        if (!json_is_string(p))
            return scim_error(r, 400, "noTarget", "'remove' needs a 'path'");
        if (strcasecmp(scim_attr_name(json_string_value(p)), "active") == 0)
            return scim_error(r, 400, "mutability",
                              "'active' cannot be removed");
        return scim_set(r, s, json_string_value(p), json_null());
    }
    if (strcasecmp(name, "add") != 0 && strcasecmp(name, "replace") != 0)
        return scim_error(r, 400, "invalidSyntax",
                          "'op' must be add, replace or remove");
    if (v == NULL)
        return scim_error(r, 400, "invalidValue",
                          "the operation needs a "
                          "'value'");
    if (json_is_string(p))
        return scim_set(r, s, json_string_value(p), v);
    if (p != NULL)
        return scim_error(r, 400, "invalidPath", "'path' must be a string");
    /* No path: an object of attributes (Okta; Entra's flagged shape). */
    if (!json_is_object(v))
        return scim_error(r, 400, "invalidValue",
                          "without a 'path', 'value' must be an object");
    json_object_foreach((json_t *)(uintptr_t)v, k, x)
    {
        if (scim_set(r, s, k, x))
            return r->status;
    }
    return 0;
}

int
h_scim_user_patch(struct req *r)
{
    const json_t *ops, *op;
    struct scim_user s;
    struct pat_user u;
    size_t i;
    int rc;

    if (scim_auth(r) || scim_path_user(r, &u))
        return r->status;
    ops = r->body ? json_object_get(r->body, "Operations") : NULL;
    if (!json_is_array(ops))
        return scim_error(r, 400, "invalidSyntax",
                          "a PatchOp body with an 'Operations' array is "
                          "required");
    rc = scim_load(r, &u, &s);
    if (rc != PAT_OK)
        return scim_pat(r, rc);
    json_array_foreach(ops, i, op)
    {
        if (scim_patch_op(r, &s, op))
            return r->status;
    }
    if (scim_write(r, &u, &s))
        return r->status;
    return scim_reply_user(r, 200, &u);
}

int
h_scim_user_delete(struct req *r)
{
    struct pat_user u;
    int rc;

    if (scim_auth(r) || scim_path_user(r, &u))
        return r->status;
    if (strcmp(u.id, r->user.id) == 0)
        return scim_error(r, 403, NULL, "the caller cannot delete itself");
    rc = pat_user_delete(r->st, &r->actor, u.id);
    if (rc != PAT_OK)
        return scim_pat(r, rc);
    return reply(r, 204, NULL);
}

/*
 * Parses `ATTR eq "VALUE"` (attribute and operator in any case) into
 * attr[cap] and value[vcap]; false for anything else.
 */
static bool
parse_filter(const char *f, char *attr, size_t cap, char *value, size_t vcap)
{
    size_t n = 0, w = 0;

    while (*f == ' ')
        f++;
    while (f[n] != '\0' && f[n] != ' ')
        n++;
    if (n == 0 || n >= cap)
        return false;
    memcpy(attr, f, n);
    attr[n] = '\0';
    f += n;
    while (*f == ' ')
        f++;
    if (strncasecmp(f, "eq ", 3) != 0)
        return false;
    f += 3;
    while (*f == ' ')
        f++;
    if (*f++ != '"')
        return false;
    while (*f != '\0' && *f != '"') {
        if (*f == '\\' && f[1] != '\0')
            f++;
        if (w + 1 >= vcap)
            return false;
        value[w++] = *f++;
    }
    if (*f++ != '"')
        return false;
    value[w] = '\0';
    while (*f == ' ')
        f++;
    return *f == '\0';
}

static int
list_reply(struct req *r, json_t *items, int64_t total, long start)
{
    json_t *o =
        json_pack("{s:[s], s:I, s:i, s:I}", "schemas", SCIM_LIST,
                  "totalResults", (json_int_t)total, "startIndex", (int)start,
                  "itemsPerPage", (json_int_t)json_array_size(items));

    json_object_set_new(o, "Resources", items);
    r->raw_type = SCIM_TYPE;
    return reply(r, 200, o);
}

/* A filtered list: at most one user matches userName or externalId. */
static int
list_filtered(struct req *r, const char *filter, long start)
{
    char attr[32], value[PAT_ATTR_MAX + 1], uname[PAT_USERNAME_MAX + 1];
    char id[PAT_ID_LEN + 1];
    struct scim_user s;
    struct pat_user u;
    json_t *items = json_array();
    bool found = false;
    int rc;

    if (!parse_filter(filter, attr, sizeof(attr), value, sizeof(value))) {
        json_decref(items);
        return scim_error(r, 400, "invalidFilter",
                          "only 'userName eq \"...\"' and 'externalId eq "
                          "\"...\"' filters are supported");
    }
    if (strcasecmp(scim_attr_name(attr), "userName") == 0) {
        rc = pat_user_attr_find(r->st, PAT_ATTR_SCIM_USERNAME, value, id);
        if (rc == PAT_ENOTFOUND && pat_username_derive(value, uname) == PAT_OK)
            rc = pat_user_get(r->st, uname, &u);
        else if (rc == PAT_OK)
            rc = pat_user_get(r->st, id, &u);
        /* userName is caseExact false: compare what SCIM knows as it. */
        if (rc == PAT_OK)
            rc = scim_load(r, &u, &s);
        found = rc == PAT_OK && strcasecmp(s.user_name, value) == 0;
    } else if (strcasecmp(scim_attr_name(attr), "externalId") == 0) {
        rc = pat_user_attr_find(r->st, PAT_ATTR_SCIM_EXTERNAL, value, id);
        if (rc == PAT_OK)
            rc = pat_user_get(r->st, id, &u);
        found = rc == PAT_OK && value[0] != '\0';
    } else {
        json_decref(items);
        return scim_error(r, 400, "invalidFilter",
                          "filtering on '%s' is not supported", attr);
    }
    if (rc != PAT_OK && rc != PAT_ENOTFOUND) {
        json_decref(items);
        return scim_pat(r, rc);
    }
    if (found && start == 1 && scim_load(r, &u, &s) == PAT_OK)
        json_array_append_new(items, scim_render(r, &u, &s));
    return list_reply(r, items, found ? 1 : 0, start);
}

/* A query number in [min, max], or def when absent; -1 when malformed. */
static long
query_long(struct req *r, const char *key, long def, long min, long max)
{
    const char *v = req_query(r, key);
    long long n;

    if (v == NULL)
        return def;
    if (!pat_parse_number(v, LLONG_MIN / 2, LLONG_MAX / 2, &n))
        return -1;
    return n < min ? min : n > max ? max : (long)n;
}

int
h_scim_users_list(struct req *r)
{
    const char *filter = req_query(r, "filter");
    long start = query_long(r, "startIndex", 1, 1, 1L << 40);
    long count = query_long(r, "count", 100, 0, SCIM_MAXPAGE);
    struct pat_user *page;
    struct scim_user s;
    json_t *items;
    int64_t total = 0;
    size_t n = 0, i;
    int rc;

    if (scim_auth(r))
        return r->status;
    /* RFC 7644 3.4.2.4: values below 1 are read as 1 and 0. */
    if (start < 0 || count < 0)
        return scim_error(r, 400, "invalidValue",
                          "startIndex and count must be integers");
    if (filter != NULL)
        return list_filtered(r, filter, start);
    page = calloc((size_t)count + 1, sizeof(*page));
    if (page == NULL)
        return scim_pat(r, PAT_ENOMEM);
    rc = pat_user_count(r->st, &total);
    if (rc == PAT_OK && count > 0)
        rc = pat_user_page(r->st, start - 1, page, (size_t)count, &n);
    items = json_array();
    for (i = 0; rc == PAT_OK && i < n; i++) {
        rc = scim_load(r, &page[i], &s);
        if (rc == PAT_OK)
            json_array_append_new(items, scim_render(r, &page[i], &s));
    }
    free(page);
    if (rc != PAT_OK) {
        json_decref(items);
        return scim_pat(r, rc);
    }
    return list_reply(r, items, total, start);
}
