/* SPDX-License-Identifier: MIT */
/*
 * The store handle: choosing a driver from the URL, opening and
 * migrating, transactions and the commit signal (what a committed
 * transaction appended to the change feed, told to the handle's
 * owner), and the clock. Bootstrapping a new store is the domain's
 * (lib/init.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"

static int64_t
system_now(void *arg)
{
    (void)arg;
    return (int64_t)time(NULL);
}

int
pat_store_open(const char *url, int flags, struct pat_store **out, char *errbuf,
               size_t errlen)
{
    struct pat_store *st = NULL;
    const char *target;
    int rc;

    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return PAT_EINVAL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return PAT_ENOMEM;
    st->errbuf = errbuf;
    st->errlen = errlen;
    st->now = system_now;
    /* libpq takes its URIs whole; PAT_OPEN_CREATE means nothing there. */
    if (strncmp(url, "postgres://", 11) == 0 ||
        strncmp(url, "postgresql://", 13) == 0) {
        target = url;
        st->drv = &pat__postgres_driver;
    } else {
        target = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
        st->drv = &pat__sqlite_driver;
    }
    rc = st->drv->open(st, target, flags);
    if (rc != PAT_OK) {
        st->drv = NULL;
        goto fail;
    }
    rc = pat__migrate(st);
    if (rc != PAT_OK)
        goto fail;
    rc = pat__load_prefix(st);
    if (rc != PAT_OK && rc != PAT_ENOTFOUND)
        goto fail;
    *out = st;
    return PAT_OK;
fail:
    pat_store_close(st);
    return rc;
}

void
pat_store_close(struct pat_store *st)
{
    if (st == NULL)
        return;
    if (st->drv != NULL)
        st->drv->close(st);
    free(st);
}

void
pat_store_set_errbuf(struct pat_store *st, char *buf, size_t len)
{
    st->errbuf = buf;
    st->errlen = buf ? len : 0;
}

void
pat_store_set_clock(struct pat_store *st, int64_t (*now)(void *), void *arg)
{
    st->now = now ? now : system_now;
    st->now_arg = now ? arg : NULL;
}

int64_t
pat_store_now(const struct pat_store *st)
{
    return st->now(st->now_arg);
}

int
pat_store_schema_version(const struct pat_store *st)
{
    return st->schema_version;
}

int
pat_store_migrations_applied(const struct pat_store *st)
{
    return st->migrations_applied;
}

const char *
pat_store_prefix(const struct pat_store *st)
{
    return st->prefix[0] ? st->prefix : NULL;
}

void
pat_store_on_commit(struct pat_store *st, pat_commit_cb cb, void *arg)
{
    st->on_commit = cb;
    st->on_commit_arg = cb ? arg : NULL;
}

static void
refs_clear(struct pat_store *st)
{
    st->nrefs = 0;
    st->refs_over = false;
}

void
pat__note_change(struct pat_store *st, int64_t seq, int evict,
                 const char *user_id, const char *token_id)
{
    struct pat_change_ref *r;

    if (st->nrefs == PAT_COMMIT_REFS_MAX) {
        st->refs_over = true;
        return;
    }
    r = &st->refs[st->nrefs++];
    r->seq = seq;
    r->evict = evict;
    pat__copy(r->user_id, sizeof(r->user_id), user_id ? user_id : "");
    pat__copy(r->token_id, sizeof(r->token_id), token_id ? token_id : "");
}

int
pat__tx_begin(struct pat_store *st)
{
    int rc;

    if (st->in_tx)
        return pat__fail(st, PAT_ESTORE, "transaction already open");
    refs_clear(st);
    rc = st->drv->begin(st);
    if (rc == PAT_OK)
        st->in_tx = true;
    return rc;
}

/*
 * The commit signal is given after every commit attempt that carried
 * feed rows, even a failed one: a commit whose answer was lost may have
 * happened, and forgetting a cached answer that is still right costs
 * one store read, while keeping a revoked one would be a hole.
 */
int
pat__tx_commit(struct pat_store *st)
{
    int rc = st->drv->commit(st);

    if (rc != PAT_OK)
        st->drv->rollback(st);
    st->in_tx = false;
    if (st->on_commit != NULL && (st->nrefs > 0 || st->refs_over))
        st->on_commit(st->on_commit_arg, st->refs, st->nrefs, st->refs_over);
    refs_clear(st);
    return rc;
}

void
pat__tx_rollback(struct pat_store *st)
{
    if (!st->in_tx)
        return;
    st->drv->rollback(st);
    st->in_tx = false;
    refs_clear(st);
}

int
pat_store_check_write(struct pat_store *st)
{
    int rc = pat__tx_begin(st);

    if (rc != PAT_OK)
        return rc;
    /* A write, not only the lock: a read-only database refuses it here. */
    rc = pat__db_setting_put(st, "write_probe", "1");
    pat__tx_rollback(st);
    return rc;
}

int
pat__load_prefix(struct pat_store *st)
{
    char buf[PAT_PREFIX_MAX + 1];
    int rc = pat__db_setting_get(st, "token_prefix", buf, sizeof(buf));

    if (rc != PAT_OK)
        return rc;
    if (pat_prefix_check(buf) != PAT_OK)
        return pat__fail(st, PAT_ESTORE, "stored token prefix '%s' is invalid",
                         buf);
    memcpy(st->prefix, buf, sizeof(buf));
    return PAT_OK;
}

int
pat__need_init(struct pat_store *st)
{
    if (st->prefix[0] == '\0')
        return pat__fail(st, PAT_ENOTINIT,
                         "store is not initialised; run 'patd init'");
    return PAT_OK;
}
