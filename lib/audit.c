/* SPDX-License-Identifier: MIT */
/*
 * The audit trail: every change appends one event inside its own
 * transaction, so an event exists exactly when its change does. Events
 * name ids and metadata, never a secret. A detail that would not fit
 * PAT_DETAIL_MAX keeps every field and loses the end of its longest free
 * text instead.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "store/store_int.h"

/* A string is never cut shorter than this many bytes. */
#define DETAIL_MIN_KEEP 16

/*
 * A user agent is client-chosen bytes: keep a bounded prefix in which
 * every byte that does not belong to printable UTF-8 becomes '?', so that
 * the event can be stored (PostgreSQL refuses text that is not UTF-8) and
 * rendered as JSON, and a cut never splits a character.
 */
void
pat__ua_copy(char *dst, size_t cap, const char *ua)
{
    size_t w = 0, n, len;

    while (*ua != '\0' && w + 1 < cap) {
        /* The shortest valid character at ua, if there is one. */
        n = 0;
        for (len = 1; len <= 4 && ua[len - 1] != '\0'; len++) {
            if (pat_utf8_check(ua, len, NULL) == PAT_OK) {
                n = len;
                break;
            }
        }
        if (n == 0) {
            dst[w++] = '?';
            ua++;
            continue;
        }
        if (w + n >= cap)
            break;
        memcpy(dst + w, ua, n);
        w += n;
        ua += n;
    }
    dst[w] = '\0';
}

int
pat__audit(struct pat_store *st, const struct pat_actor *who,
           const char *action, const char *target_user,
           const char *target_token, const char *detail)
{
    struct pat_audit ev;

    memset(&ev, 0, sizeof(ev));
    ev.at = pat_store_now(st);
    if (who != NULL) {
        pat__copy(ev.actor_user_id, sizeof(ev.actor_user_id), who->user_id);
        pat__copy(ev.actor_token_id, sizeof(ev.actor_token_id), who->token_id);
        pat__copy(ev.ip, sizeof(ev.ip), who->ip);
        if (who->user_agent != NULL)
            pat__ua_copy(ev.user_agent, sizeof(ev.user_agent), who->user_agent);
    }
    pat__copy(ev.action, sizeof(ev.action), action);
    pat__copy(ev.target_user_id, sizeof(ev.target_user_id), target_user);
    pat__copy(ev.target_token_id, sizeof(ev.target_token_id), target_token);
    if (pat__copy(ev.detail, sizeof(ev.detail), detail ? detail : "{}") !=
        PAT_OK)
        pat__copy(ev.detail, sizeof(ev.detail), "{\"truncated\":true}");
    return pat__db_audit_insert(st, &ev);
}

int
pat_audit_list(struct pat_store *st, const struct pat_audit_filter *f,
               struct pat_audit *out, size_t cap, size_t *n)
{
    struct pat_audit_filter none;

    *n = 0;
    if (f == NULL) {
        memset(&none, 0, sizeof(none));
        f = &none;
    }
    return pat__db_audit_list(st, f, out, cap, n);
}

/*
 * Cuts the longest string value of obj but "scopes" (the free text: a
 * name, a reason, an email) by at least excess bytes, at a character boundary,
 * and marks it with a trailing "..." and "truncated":true. Returns false when
 * no string is long enough to be worth cutting.
 */
static bool
shorten_longest(json_t *obj, size_t excess)
{
    const char *key, *longest = NULL;
    json_t *v;
    size_t len, best = 0, keep;
    char *copy;
    bool ok;

    json_object_foreach(obj, key, v)
    {
        /* A cut scope list would name other scopes: it is kept whole. */
        if (strcmp(key, "scopes") == 0)
            continue;
        if (json_is_string(v) && json_string_length(v) > best) {
            best = json_string_length(v);
            longest = key;
        }
    }
    if (longest == NULL || best <= DETAIL_MIN_KEEP)
        return false;
    v = json_object_get(obj, longest);
    len = best;
    keep = excess + 3 < len / 2 ? len - excess - 3 : len / 2;
    if (keep < DETAIL_MIN_KEEP)
        keep = DETAIL_MIN_KEEP;
    /* Back off to the first byte of a character. */
    while (keep > 0 &&
           ((unsigned char)json_string_value(v)[keep] & 0xc0) == 0x80)
        keep--;
    if (keep + 3 >= len) /* cutting would not make it shorter */
        return false;
    copy = malloc(keep + 4);
    if (copy == NULL)
        return false;
    memcpy(copy, json_string_value(v), keep);
    memcpy(copy + keep, "...", 4);
    ok = json_string_setn(v, copy, keep + 3) == 0 &&
         json_object_set_new(obj, "truncated", json_true()) == 0;
    free(copy);
    return ok;
}

void
pat__detail(char *out, size_t cap, const char *fmt, ...)
{
    json_t *obj;
    size_t n = 0;
    va_list ap;

    va_start(ap, fmt);
    obj = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    /*
     * Every field is kept; what does not fit is the free text, so the
     * longest string is shortened until the whole event fits.
     */
    while (obj != NULL) {
        n = json_dumpb(obj, out, cap - 1, JSON_COMPACT);
        if (n < cap - 1 || !shorten_longest(obj, n - (cap - 2)))
            break;
    }
    json_decref(obj);
    if (n == 0 || n >= cap - 1) {
        /* No memory, or no string left to cut: say so, in valid JSON. */
        pat__copy(out, cap, "{\"truncated\":true}");
        return;
    }
    out[n] = '\0';
}
