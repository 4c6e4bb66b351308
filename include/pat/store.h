/* SPDX-License-Identifier: MIT */
/*
 * The store handle. One handle is one connection: it is not thread-safe,
 * and a threaded program opens one per thread (DESIGN.md section 6).
 * Opening runs the numbered schema migrations that are still pending.
 */
#ifndef PAT_STORE_H
#define PAT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct pat_store;

enum pat_open_flags {
    PAT_OPEN_CREATE = 1, /* create the database when it does not exist */
};

/*
 * Opens the store named by url: "sqlite:PATH" or a plain PATH, or a
 * PostgreSQL URI "postgres://..." (or "postgresql://...") given whole to
 * libpq. On success *out is a new handle the caller frees with
 * pat_store_close. On failure *out is NULL; if errbuf is not NULL it
 * receives a one-line reason.
 * PAT_ENOTFOUND: no SQLite database there and PAT_OPEN_CREATE not given.
 * A PostgreSQL database must exist (PAT_OPEN_CREATE is ignored); one that
 * cannot be reached, missing or not, is PAT_EUNAVAIL.
 * PAT_ESCHEMA: the database was migrated by a newer program.
 */
int pat_store_open(const char *url, int flags, struct pat_store **out,
                   char *errbuf, size_t errlen);

/* Closes the connection and frees st. Accepts NULL. */
void pat_store_close(struct pat_store *st);

/*
 * Registers a caller buffer that receives a one-line detail whenever a
 * call on st fails (as curl's CURLOPT_ERRORBUFFER). The buffer is
 * borrowed until it is replaced or st is closed. buf may be NULL.
 */
void pat_store_set_errbuf(struct pat_store *st, char *buf, size_t len);

/*
 * Replaces the clock (for tests and simulations). now(arg) must return
 * Unix seconds. NULL restores the system clock.
 */
void pat_store_set_clock(struct pat_store *st, int64_t (*now)(void *),
                         void *arg);

/* The store's current time in Unix seconds. */
int64_t pat_store_now(const struct pat_store *st);

/* Schema version after open, and how many migrations open applied. */
int pat_store_schema_version(const struct pat_store *st);
int pat_store_migrations_applied(const struct pat_store *st);

/* The number of migrations this program knows. */
int pat_store_schema_latest(void);

/*
 * How many migrations this program has: the latest version, unless the
 * numbering has gaps (branches that each took their own number).
 */
int pat_store_schema_count(void);

/*
 * Whether st can commit a change now: opens a write transaction (which
 * takes the writers' lock: BEGIN IMMEDIATE on SQLite, the advisory lock
 * on PostgreSQL), writes one settings row and rolls it all back. PAT_OK,
 * or the error a real change would meet (a lock held elsewhere past the
 * busy timeout, a read-only database or file, a full disk where the
 * engine notices it before commit). Nothing is ever committed.
 */
int pat_store_check_write(struct pat_store *st);

/*
 * The token prefix of this store (set by pat_store_init), or NULL when the
 * store is not initialised. Borrowed for the handle's lifetime.
 */
const char *pat_store_prefix(const struct pat_store *st);

struct pat_init_spec {
    const char *prefix;         /* NULL: "pat" */
    const char *admin_username; /* NULL: "admin" */
};

/*
 * Bootstraps an empty store in one transaction: the token prefix, the
 * built-in scopes, the default policy, an admin user and the admin's
 * first token (scopes patd:admin and patd:self, default lifetime). The
 * plaintext goes to secret (at least PAT_TOKEN_MAX + 1 bytes) and is
 * never stored. PAT_EINITED when the store was initialised before; on any
 * failure nothing is written and secret is wiped.
 */
int pat_store_init(struct pat_store *st, const struct pat_init_spec *spec,
                   struct pat_user *admin, struct pat_token *token,
                   char *secret, size_t secret_len);

#endif
