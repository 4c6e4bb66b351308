/* SPDX-License-Identifier: MIT */
/*
 * Verification of a presented token against the store: the reference
 * path, and what a cache in front of it must agree with. It reads the
 * store once and writes nothing, except when a retired secret comes back
 * (a reuse): that is recorded, and may revoke the token by policy.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "store/store_int.h"

static void
fill(struct pat_verdict *out, const struct pat_token *t,
     const struct pat_user *u)
{
    pat__copy(out->token_id, sizeof(out->token_id), t->id);
    pat__copy(out->user_id, sizeof(out->user_id), u->id);
    pat__copy(out->username, sizeof(out->username), u->username);
    pat__copy(out->audiences, sizeof(out->audiences), t->audiences);
    pat__copy(out->allowed_cidrs, sizeof(out->allowed_cidrs), t->allowed_cidrs);
    out->created_at = t->created_at;
    out->expires_at = t->expires_at;
    out->service = u->kind == PAT_KIND_SERVICE;
    out->uses_limited = t->max_uses > 0;
    out->uses_left = t->uses_left;
    out->rate_limit = t->rate_limit;
    out->rate_window = t->rate_window;
}

/*
 * Presentations of a retired secret that were not recorded, per token,
 * in this process: the next record says how many there were. A small
 * table, slots taken by a hash of the token id; a collision only loses a
 * count, never a record.
 */
#define REUSE_SLOTS 1024

static struct {
    pthread_mutex_t lock;
    struct {
        char token_id[PAT_ID_LEN + 1];
        long repeats;
    } slot[REUSE_SLOTS];
} reuse = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t
reuse_slot(const char *token_id)
{
    uint32_t h = 2166136261u;

    for (; *token_id != '\0'; token_id++)
        h = (h ^ (uint8_t)*token_id) * 16777619u;
    return h % REUSE_SLOTS;
}

/* Counts one presentation not recorded (take: false), or takes the count. */
static long
reuse_count(const char *token_id, bool take)
{
    size_t i = reuse_slot(token_id);
    long n = 0;

    pthread_mutex_lock(&reuse.lock);
    if (strcmp(reuse.slot[i].token_id, token_id) != 0) {
        pat__copy(reuse.slot[i].token_id, sizeof(reuse.slot[i].token_id),
                  token_id);
        reuse.slot[i].repeats = 0;
    }
    if (take) {
        n = reuse.slot[i].repeats;
        reuse.slot[i].repeats = 0;
    } else {
        reuse.slot[i].repeats++;
    }
    pthread_mutex_unlock(&reuse.lock);
    return n;
}

/*
 * Records a reuse and, under revoke_on_reuse, revokes the token; at most
 * once per token per PAT_REUSE_RECORD_S on every node together (the feed
 * row is the record that it was made), so that a client retrying with an
 * old secret cannot fill the audit trail or keep the store busy. The
 * presentations in between are counted and go into the next record.
 */
static void
report_reuse(struct pat_store *st, const struct pat_token *t)
{
    struct pat_policy pol;
    char detail[64];
    int64_t last = 0;
    bool recent;
    int rc;

    if (pat__tx_begin(st) != PAT_OK)
        return;
    rc = pat__db_change_last_of(st, t->id, "token.reuse_detected", &last);
    recent = rc == PAT_OK && pat_store_now(st) - last < PAT_REUSE_RECORD_S;
    if (rc == PAT_ENOTFOUND)
        rc = PAT_OK;
    if (rc == PAT_OK && !recent) {
        snprintf(detail, sizeof(detail), "{\"repeats\":%ld}",
                 reuse_count(t->id, true));
        rc = pat__audit(st, NULL, "token.reuse_detected", t->user_id, t->id,
                        detail);
        if (rc == PAT_OK)
            rc = pat__feed(st, NULL, "token.reuse_detected", t->user_id, t->id,
                           detail);
    }
    /* The policy may have changed since the last record: still applied. */
    if (rc == PAT_OK)
        rc = pat__db_policy_get(st, &pol);
    if (rc == PAT_OK && pol.revoke_on_reuse)
        rc = pat__token_revoke_id(st, NULL, t->id, "reuse");
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK && recent)
        reuse_count(t->id, false);
}

int
pat_verify(struct pat_store *st, const char *token, size_t len,
           struct pat_verdict *out)
{
    struct pat_token t;
    struct pat_user u;
    uint8_t hash[PAT_HASH_LEN];
    int64_t retire_at = 0, now;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = pat__need_init(st);
    if (rc != PAT_OK)
        return rc;
    if (token == NULL || pat_token_check(st->prefix, token, len) != PAT_OK)
        return PAT_EMALFORMED;
    rc = pat_token_hash(token, len, hash);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_verify_lookup(st, hash, &t, &retire_at, &u);
    if (rc == PAT_ENOTFOUND)
        return PAT_EUNKNOWN;
    if (rc != PAT_OK)
        return rc;
    fill(out, &t, &u);
    now = pat_store_now(st);
    if (t.revoked_at != 0)
        return PAT_EREVOKED;
    if (retire_at != 0 && retire_at <= now) {
        report_reuse(st, &t);
        return PAT_EREUSED;
    }
    if (t.expires_at != 0 && t.expires_at <= now)
        return PAT_EEXPIRED;
    if (u.disabled || u.deleted_at != 0)
        return PAT_EDISABLED;
    if (t.approval == PAT_APPROVAL_PENDING)
        return PAT_EPENDING;
    if (t.max_uses > 0 && t.uses_left <= 0)
        return PAT_EEXHAUSTED;
    out->grace_until = retire_at;
    rc = pat__list_intersect(t.scopes, u.scopes, out->scopes,
                             sizeof(out->scopes));
    return rc == PAT_OK ? PAT_OK : PAT_ESTORE;
}

bool
pat_verdict_allows_ip(const struct pat_verdict *v, const char *ip)
{
    if (v->allowed_cidrs[0] == '\0')
        return true;
    return ip != NULL && pat__cidr_match(v->allowed_cidrs, ip);
}

bool
pat_verdict_has_scope(const struct pat_verdict *v, const char *scope)
{
    return scope != NULL && pat__list_has(v->scopes, scope, strlen(scope));
}
