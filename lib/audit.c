/* SPDX-License-Identifier: MIT */
/*
 * The audit trail: every change appends one event inside its own
 * transaction, so an event exists exactly when its change does. Events
 * name ids and metadata, never a secret.
 */
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "store/store_int.h"

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

void
pat__detail(char *out, size_t cap, const char *fmt, ...)
{
    json_t *obj;
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    obj = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    n = obj ? json_dumpb(obj, out, cap - 1, JSON_COMPACT) : 0;
    json_decref(obj);
    if (n == 0 || n >= cap - 1) {
        /* Too long for an event (or no memory): say so, in valid JSON. */
        pat__copy(out, cap, "{\"truncated\":true}");
        return;
    }
    out[n] = '\0';
}
