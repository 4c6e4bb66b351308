/* SPDX-License-Identifier: MIT */
/*
 * Helpers handlers answer with (see request.h): errors in the shape of
 * DESIGN.md section 4, libpat codes mapped to HTTP, and typed, bounded
 * readers of JSON bodies that refuse unknown and read-only fields.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "request.h"
#include "wire.h"
#include "banned.h"

int
reply(struct req *r, int status, json_t *body)
{
    json_decref(r->resp);
    r->resp = body;
    r->status = status;
    return status;
}

int
reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (status == MHD_HTTP_UNAUTHORIZED && r->www_auth[0] == '\0')
        snprintf(r->www_auth, sizeof(r->www_auth), "Bearer realm=\"patd\"");
    return reply(
        r, status,
        json_pack("{s:s, s:s}", "error", code, "error_description", text));
}

int
reply_pat(struct req *r, int rc)
{
    static const struct {
        int rc;
        int status;
        const char *code;
    } map[] = {
        {PAT_EINVAL, 400, "invalid_request"},
        {PAT_EPOLICY, 400, "invalid_request"},
        {PAT_ESCOPE, 400, "invalid_request"},
        {PAT_ERANGE, 400, "invalid_request"},
        {PAT_ENOTFOUND, 404, "not_found"},
        {PAT_ECONFLICT, 409, "conflict"},
        {PAT_ELIMIT, 409, "conflict"},
        {PAT_EREVOKED, 409, "conflict"},
        {PAT_EFORBIDDEN, 403, "forbidden"},
        {PAT_EDISABLED, 403, "forbidden"},
        {PAT_EUNAVAIL, 503, "unavailable"},
    };
    const char *detail = r->errdetail[0] ? r->errdetail : pat_strerror(rc);
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].rc == rc) {
            if (map[i].status == 503)
                snprintf(r->retry_after, sizeof(r->retry_after), "5");
            /* Store internals are not for clients; the log has them. */
            return reply_error(r, map[i].status, map[i].code, "%s",
                               map[i].status == 503 ? "the store is "
                                                      "unavailable"
                                                    : detail);
        }
    }
    fprintf(stderr, "patd: internal error: %s: %s\n", pat_errname(rc), detail);
    return reply_error(r, 500, "internal_error", "internal error");
}

void
reply_header(struct req *r, const char *name, const char *value)
{
    if (r->nhdrs < (int)(sizeof(r->hdrs) / sizeof(r->hdrs[0]))) {
        r->hdrs[r->nhdrs].name = name;
        r->hdrs[r->nhdrs].value = value;
        r->nhdrs++;
    }
}

bool
req_form(struct req *r, const char *key, char *out, size_t cap)
{
    return wire_form_value(r->form, r->form_len, key, out, cap);
}

bool
req_form_has(struct req *r, const char *key)
{
    return wire_form_has(r->form, r->form_len, key);
}

const char *
req_query(struct req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
req_cookie(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* Fields the server sets, which a client may read but never write. */
static const char *const read_only[] = {
    "id",         "user_id",        "hint",         "status",
    "created_at", "updated_at",     "last_used_at", "last_used_ip",
    "revoked_at", "revoked_reason", "token",        NULL,
};

static bool
in_list(const char *const *list, const char *key)
{
    for (; *list != NULL; list++) {
        if (strcmp(*list, key) == 0)
            return true;
    }
    return false;
}

int
body_fields(struct req *r, const char *const *allowed)
{
    const char *key;
    json_t *v;

    if (r->body == NULL)
        return 0;
    json_object_foreach(r->body, key, v)
    {
        (void)v;
        if (in_list(allowed, key))
            continue;
        if (in_list(read_only, key))
            return reply_error(r, 400, "invalid_request",
                               "field '%.64s' is read-only", key);
        return reply_error(r, 400, "invalid_request", "unknown field '%.64s'",
                           key);
    }
    return 0;
}

static json_t *
field(struct req *r, const char *key)
{
    return r->body ? json_object_get(r->body, key) : NULL;
}

int
body_string(struct req *r, const char *key, bool required, const char **out)
{
    json_t *v = field(r, key);

    *out = NULL;
    if (v == NULL) {
        if (required)
            return reply_error(r, 400, "invalid_request",
                               "field '%s' is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must be a string", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must not contain NUL", key);
    *out = json_string_value(v);
    return 0;
}

int
body_bool(struct req *r, const char *key, int *out)
{
    json_t *v = field(r, key);

    *out = -1;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

int
body_int(struct req *r, const char *key, long long min, long long max,
         long long *out, bool *present)
{
    json_t *v = field(r, key);

    *present = v != NULL;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must be an integer", key);
    *out = json_integer_value(v);
    if (*out < min || *out > max)
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must be from %lld to %lld", key, min,
                           max);
    return 0;
}

int
body_list(struct req *r, const char *key, size_t max_items, char *out,
          size_t cap, bool *present)
{
    json_t *v = field(r, key), *item;
    size_t i, w = 0;

    *present = v != NULL;
    out[0] = '\0';
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must be an array of strings", key);
    if (json_array_size(v) > max_items)
        return reply_error(r, 400, "invalid_request",
                           "field '%s' has more than %zu items", key,
                           max_items);
    json_array_foreach(v, i, item)
    {
        const char *s = json_string_value(item);
        size_t len = s ? strlen(s) : 0;

        if (s == NULL || len == 0 || strchr(s, ' ') != NULL ||
            len != json_string_length(item))
            return reply_error(r, 400, "invalid_request",
                               "field '%s' must hold non-empty strings "
                               "without spaces",
                               key);
        if (w + (w > 0) + len + 1 > cap)
            return reply_error(r, 400, "invalid_request",
                               "field '%s' is too long", key);
        if (w > 0)
            out[w++] = ' ';
        memcpy(out + w, s, len + 1);
        w += len;
    }
    return 0;
}

int
body_time(struct req *r, const char *key, int64_t *out, bool *present,
          bool *null_given)
{
    json_t *v = field(r, key);

    *present = v != NULL;
    *null_given = v != NULL && json_is_null(v);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) ||
        pat_time_parse(json_string_value(v), json_string_length(v), out) !=
            PAT_OK)
        return reply_error(r, 400, "invalid_request",
                           "field '%s' must be an RFC 3339 time such as "
                           "2026-11-27T10:00:00Z",
                           key);
    if (*out == 0)
        *out = -1; /* the epoch: given, and in the past */
    return 0;
}

int
req_page(struct req *r, size_t *limit, int64_t *after)
{
    const char *l = req_query(r, "limit"), *c = req_query(r, "cursor");
    char *end = NULL;
    long long v;

    *limit = 50;
    *after = 0;
    if (l != NULL) {
        v = strtoll(l, &end, 10);
        if (l[0] == '\0' || *end != '\0' || v < 1 || v > 200)
            return reply_error(r, 400, "invalid_request",
                               "limit must be from 1 to 200");
        *limit = (size_t)v;
    }
    if (c != NULL) {
        end = NULL;
        v = strtoll(c, &end, 10);
        if (c[0] == '\0' || *end != '\0' || v < 0 || strlen(c) > 19)
            return reply_error(r, 400, "invalid_request", "invalid cursor");
        *after = v;
    }
    return 0;
}

json_t *
page_json(json_t *items, bool more, int64_t last)
{
    char cur[24];

    snprintf(cur, sizeof(cur), "%lld", (long long)last);
    return json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     more ? json_string(cur) : json_null());
}
