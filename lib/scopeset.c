/* SPDX-License-Identifier: MIT */
/*
 * Lists of scopes, audiences and address ranges. A list is one string of
 * items separated by single spaces, sorted and without duplicates: the
 * same form in requests (OAuth's "scope" parameter), in the store and in
 * answers, so that set operations are merges of two sorted strings.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct item {
    const char *p;
    size_t len;
};

#define LIST_ITEMS_MAX PAT_SCOPES_MAX
#define LIST_CANON_MAX 4096

static int
item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);

    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Next item of list at *p (skipping spaces); false at the end. */
static bool
next_item(const char **p, struct item *it)
{
    const char *s = *p;

    while (*s == ' ')
        s++;
    if (*s == '\0')
        return false;
    it->p = s;
    while (*s != '\0' && *s != ' ')
        s++;
    it->len = (size_t)(s - it->p);
    *p = s;
    return true;
}

int
pat__list_normalize(const char *in, pat__canon_cb canon, size_t max,
                    size_t item_max, char *out, size_t cap, char *bad,
                    size_t badlen, size_t *count)
{
    /*
     * On the stack: forward auth normalises the required scopes of every
     * request, and two heap allocations per request were its only ones.
     * Every list of the model fits (50 scopes of 64, 10 audiences of 128,
     * 16 ranges of 43 characters).
     */
    struct item items[LIST_ITEMS_MAX];
    char canonbuf[LIST_CANON_MAX];
    const char *p = in ? in : "";
    struct item it;
    size_t n = 0, i, used = 0, w = 0;
    int rc = PAT_OK;

    if (max > LIST_ITEMS_MAX || max * (item_max + 1) > sizeof(canonbuf))
        return PAT_ERANGE;
    while (next_item(&p, &it)) {
        char *dst = canonbuf + used;

        if (n == max) {
            rc = PAT_ELIMIT;
            goto out;
        }
        if (it.len > item_max || canon(it.p, it.len, dst, item_max + 1) != 0) {
            if (bad != NULL && badlen > 0) {
                size_t l = it.len < badlen - 1 ? it.len : badlen - 1;
                memcpy(bad, it.p, l);
                bad[l] = '\0';
            }
            rc = PAT_EINVAL;
            goto out;
        }
        items[n].p = dst;
        items[n].len = strlen(dst);
        used += items[n].len + 1;
        n++;
    }
    qsort(items, n, sizeof(*items), item_cmp);
    for (i = 0; i < n; i++) {
        if (i > 0 && item_cmp(&items[i - 1], &items[i]) == 0)
            continue;
        if (w + (w > 0) + items[i].len + 1 > cap) {
            rc = PAT_ELIMIT;
            goto out;
        }
        if (w > 0)
            out[w++] = ' ';
        memcpy(out + w, items[i].p, items[i].len);
        w += items[i].len;
    }
    if (cap > 0)
        out[w] = '\0';
    if (count != NULL)
        *count = n;
out:
    return rc;
}

bool
pat__list_has(const char *list, const char *item, size_t len)
{
    const char *p = list;
    struct item it;

    while (next_item(&p, &it)) {
        if (it.len == len && memcmp(it.p, item, len) == 0)
            return true;
    }
    return false;
}

int
pat__list_intersect(const char *a, const char *b, char *out, size_t cap)
{
    const char *p = a;
    struct item it;
    size_t w = 0;

    if (cap == 0)
        return PAT_ERANGE;
    while (next_item(&p, &it)) {
        if (!pat__list_has(b, it.p, it.len))
            continue;
        if (w + (w > 0) + it.len + 1 > cap)
            return PAT_ERANGE;
        if (w > 0)
            out[w++] = ' ';
        memcpy(out + w, it.p, it.len);
        w += it.len;
    }
    out[w] = '\0';
    return PAT_OK;
}

bool
pat__list_missing(const char *a, const char *b, char *missing, size_t len)
{
    const char *p = a;
    struct item it;

    while (next_item(&p, &it)) {
        if (!pat__list_has(b, it.p, it.len)) {
            size_t l = it.len < len - 1 ? it.len : len - 1;
            memcpy(missing, it.p, l);
            missing[l] = '\0';
            return true;
        }
    }
    return false;
}

int
pat__scope_canon(const char *s, size_t len, char *out, size_t cap)
{
    size_t i;

    if (len == 0 || len > PAT_SCOPE_MAX || len >= cap)
        return PAT_EINVAL;
    if (s[0] < 'a' || s[0] > 'z')
        return PAT_EINVAL;
    for (i = 1; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == ':' || c == '.' || c == '-';
        if (!ok)
            return PAT_EINVAL;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return PAT_OK;
}

int
pat__audience_canon(const char *s, size_t len, char *out, size_t cap)
{
    size_t i;

    if (len == 0 || len > PAT_AUDIENCE_MAX || len >= cap)
        return PAT_EINVAL;
    /* Printable ASCII without spaces, quotes or backslashes. */
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
            return PAT_EINVAL;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return PAT_OK;
}

int
pat_scope_name_check(const char *name)
{
    char tmp[PAT_SCOPE_MAX + 1];

    if (name == NULL)
        return PAT_EINVAL;
    return pat__scope_canon(name, strnlen(name, PAT_SCOPE_MAX + 1), tmp,
                            sizeof(tmp));
}

int
pat__scopes_parse(struct pat_store *st, const char *in, bool need_one,
                  char *out, size_t cap)
{
    char bad[PAT_SCOPE_MAX + 8];
    size_t n = 0;
    int rc;

    rc = pat__list_normalize(in, pat__scope_canon, PAT_SCOPES_MAX,
                             PAT_SCOPE_MAX, out, cap, bad, sizeof(bad), &n);
    if (rc == PAT_EINVAL)
        return pat__fail(st, rc, "invalid scope name '%s'", bad);
    if (rc == PAT_ELIMIT)
        return pat__fail(st, PAT_EINVAL, "more than %d scopes", PAT_SCOPES_MAX);
    if (rc != PAT_OK)
        return rc;
    if (need_one && n == 0)
        return pat__fail(st, PAT_EINVAL, "at least one scope is required");
    return PAT_OK;
}

int
pat_scope_list_parse(const char *in, char *out, size_t cap)
{
    int rc = pat__list_normalize(in, pat__scope_canon, PAT_SCOPES_MAX,
                                 PAT_SCOPE_MAX, out, cap, NULL, 0, NULL);

    return rc == PAT_OK ? PAT_OK : PAT_EINVAL;
}
