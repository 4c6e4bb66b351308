/* SPDX-License-Identifier: MIT */
/*
 * Parsers of untrusted request bytes (see wire.h). Every one is bounded
 * by the length it is given or by its output buffer, keeps no state and
 * allocates nothing but the JSON value it returns, so that fuzzing them
 * alone is fuzzing what the server runs.
 */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "pat/pat.h"
#include "wire.h"
#include "banned.h"

/* Deepest nesting of arrays and objects in a JSON text (strings skipped). */
static long
json_depth(const char *s, size_t len)
{
    long depth = 0, max = 0;
    bool in_str = false;
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                max = depth;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return max;
}

enum wire_json
wire_json_body(const char *body, size_t len, long max_depth, json_t **out,
               json_error_t *err)
{
    *out = NULL;
    if (json_depth(body, len) > max_depth)
        return WIRE_JSON_DEEP;
    *out = json_loadb(body, len, JSON_REJECT_DUPLICATES, err);
    if (*out == NULL)
        return WIRE_JSON_MALFORMED;
    return json_is_object(*out) ? WIRE_JSON_OK : WIRE_JSON_NOT_OBJECT;
}

bool
wire_form_value(const char *form, size_t len, const char *key, char *out,
                size_t cap)
{
    const char *p = form, *end = form + len;
    size_t klen = strlen(key);
    bool found = false;

    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));

        if (eq != NULL && (size_t)(eq - p) == klen &&
            memcmp(p, key, klen) == 0) {
            size_t vlen = (size_t)(stop - eq - 1), i;
            if (found || vlen >= cap)
                return false; /* repeated, or longer than any value */
            memcpy(out, eq + 1, vlen);
            out[vlen] = '\0';
            for (i = 0; i < vlen; i++) {
                if (out[i] == '+')
                    out[i] = ' ';
            }
            MHD_http_unescape(out);
            found = true;
        }
        p = amp ? amp + 1 : end;
    }
    return found;
}

bool
wire_form_has(const char *form, size_t len, const char *key)
{
    const char *p = form, *end = form + len;
    size_t klen = strlen(key);

    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;

        if ((size_t)(stop - p) > klen && p[klen] == '=' &&
            memcmp(p, key, klen) == 0)
            return true;
        p = amp ? amp + 1 : end;
    }
    return false;
}

int
wire_xff_client(const char *xff, const char *trusted, char *out, size_t cap)
{
    const char *end;

    if (xff == NULL)
        return 1;
    end = xff + strlen(xff);
    while (end > xff && (end[-1] == ',' || end[-1] == ' '))
        end--;
    while (end > xff) {
        const char *start = end;
        char ip[PAT_IP_MAX + 1];
        size_t len;

        while (start > xff && start[-1] != ',')
            start--;
        while (start < end && *start == ' ')
            start++;
        len = (size_t)(end - start);
        while (len > 0 && start[len - 1] == ' ')
            len--;
        if (len == 0 || len > PAT_IP_MAX)
            return -1; /* garbage: keep the last good address */
        memcpy(ip, start, len);
        ip[len] = '\0';
        if (pat_cidr_list_check(ip) != PAT_OK)
            return -1;
        snprintf(out, cap, "%s", ip);
        if (!pat_cidr_list_match(trusted, ip))
            return 0;
        end = start;
        while (end > xff && (end[-1] == ',' || end[-1] == ' '))
            end--;
    }
    return 1;
}

bool
wire_etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;

    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, elen) == 0 &&
            strchr(", \t", p[elen]) != NULL) /* also matches the NUL */
            return true;
        p += strcspn(p, ",");
    }
    return false;
}
