/* SPDX-License-Identifier: MIT */
/*
 * Web sessions (see include/pat/session.h). The cookie is a bearer
 * secret like a token: only its SHA-256 is stored.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "store/store_int.h"

static int
cookie_hash(const char *cookie, size_t len, uint8_t *hash)
{
    if (cookie == NULL || len != PAT_SESSION_LEN)
        return PAT_ENOTFOUND;
    return pat_token_hash(cookie, len, hash);
}

/* Fills ses for a new session of ttl seconds made by who. */
static int
session_fill(struct pat_store *st, const struct pat_actor *who, int64_t ttl,
             struct pat_session *ses)
{
    memset(ses, 0, sizeof(*ses));
    ses->created_at = pat_store_now(st);
    ses->expires_at = ses->created_at + ttl;
    if (who != NULL && who->ip != NULL)
        pat__copy(ses->ip, sizeof(ses->ip), who->ip);
    /* A user agent is whatever the client says: keep a bounded prefix. */
    if (who != NULL && who->user_agent != NULL)
        pat__ua_copy(ses->user_agent, sizeof(ses->user_agent), who->user_agent);
    return pat__random_id("ses", ses->id, sizeof(ses->id));
}

/* The writes of pat_session_create, inside its transaction. */
static int
session_create_tx(struct pat_store *st, const struct pat_actor *who,
                  const char *user_id, int max_per_user, const uint8_t *hash,
                  const char *csrf, const struct pat_session *ses)
{
    char detail[PAT_DETAIL_MAX + 1];
    int rc;

    rc = pat__db_session_prune(st, ses->created_at, NULL);
    if (rc == PAT_OK)
        rc = pat__db_session_insert(st, hash, user_id, csrf, ses);
    if (rc == PAT_OK)
        rc = pat__db_session_trim(st, user_id, hash, (int64_t)max_per_user - 1);
    if (rc != PAT_OK)
        return rc;
    pat__detail(detail, sizeof(detail), "{s:s}", "session_id", ses->id);
    return pat__audit(st, who, "session.created", user_id, NULL, detail);
}

int
pat_session_create(struct pat_store *st, const struct pat_actor *who,
                   const char *user_id, int64_t ttl, int max_per_user,
                   char *cookie, size_t cookie_len, char *csrf, size_t csrf_len)
{
    struct pat_session ses;
    uint8_t hash[PAT_HASH_LEN];
    int rc;

    if (cookie_len < PAT_SESSION_LEN + 1 || csrf_len < PAT_CSRF_LEN + 1 ||
        ttl <= 0 || max_per_user < 1)
        return PAT_EINVAL;
    rc = pat_random_base62(cookie, PAT_SESSION_LEN);
    if (rc == PAT_OK)
        rc = pat_random_base62(csrf, PAT_CSRF_LEN);
    if (rc != PAT_OK)
        goto fail;
    cookie[PAT_SESSION_LEN] = '\0';
    csrf[PAT_CSRF_LEN] = '\0';
    rc = cookie_hash(cookie, PAT_SESSION_LEN, hash);
    if (rc == PAT_OK)
        rc = session_fill(st, who, ttl, &ses);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto fail;
    rc = session_create_tx(st, who, user_id, max_per_user, hash, csrf, &ses);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc == PAT_OK)
        return rc;
fail:
    OPENSSL_cleanse(cookie, cookie_len);
    OPENSSL_cleanse(csrf, csrf_len);
    return rc;
}

int
pat_session_get(struct pat_store *st, const char *cookie, size_t len,
                struct pat_user *u, char *csrf, size_t csrf_len, char *id)
{
    uint8_t hash[PAT_HASH_LEN];
    char user_id[PAT_ID_LEN + 1];
    int rc = cookie_hash(cookie, len, hash);

    if (rc == PAT_OK)
        rc = pat__db_session_get(st, hash, pat_store_now(st), user_id,
                                 sizeof(user_id), csrf, csrf_len, id,
                                 PAT_ID_LEN + 1);
    if (rc == PAT_OK)
        rc = pat__user_find(st, user_id, u);
    if (rc == PAT_OK && u->disabled)
        rc = PAT_ENOTFOUND;
    return rc;
}

int
pat_session_delete(struct pat_store *st, const char *cookie, size_t len)
{
    uint8_t hash[PAT_HASH_LEN];
    int rc = cookie_hash(cookie, len, hash);

    if (rc == PAT_ENOTFOUND)
        return PAT_OK;
    if (rc != PAT_OK)
        return rc;
    return pat__db_session_delete(st, hash);
}

int
pat_session_list(struct pat_store *st, const char *user_id,
                 const char *current_id, struct pat_session *out, size_t cap,
                 size_t *n)
{
    size_t i;
    int rc = pat__db_session_list(st, user_id, pat_store_now(st), out, cap, n);

    for (i = 0; rc == PAT_OK && current_id != NULL && i < *n; i++)
        out[i].current = strcmp(out[i].id, current_id) == 0;
    return rc;
}

int
pat_session_end(struct pat_store *st, const struct pat_actor *who,
                const char *user_id, const char *id)
{
    char detail[PAT_DETAIL_MAX + 1];
    int rc;

    if (id == NULL || strnlen(id, PAT_ID_LEN + 1) != PAT_ID_LEN ||
        strncmp(id, "ses_", 4) != 0)
        return pat__fail(st, PAT_ENOTFOUND, "no session '%.32s'", id ? id : "");
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_session_end(st, user_id, id);
    if (rc == PAT_ENOTFOUND)
        rc = pat__fail(st, rc, "no session '%s'", id);
    if (rc == PAT_OK) {
        pat__detail(detail, sizeof(detail), "{s:s}", "session_id", id);
        rc = pat__audit(st, who, "session.ended", user_id, NULL, detail);
    }
    if (rc == PAT_OK)
        return pat__tx_commit(st);
    pat__tx_rollback(st);
    return rc;
}

int
pat_session_prune(struct pat_store *st, int64_t *n)
{
    return pat__db_session_prune(st, pat_store_now(st), n);
}
