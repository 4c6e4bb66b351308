/* SPDX-License-Identifier: MIT */
/*
 * Moving a store from one backend to another (patd export, patd import;
 * docs/scaling.md): every row as one line of JSON. Secrets travel as
 * their SHA-256 hashes, passwords as their argon2id strings; no
 * plaintext exists to be exported. Web sessions are not moved: users sign
 * in again.
 *
 * The library does no I/O here: lines go out through a callback and come
 * in through another, so that the caller chooses files, limits and
 * error messages.
 */
#ifndef PAT_TRANSFER_H
#define PAT_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* What an export wrote or an import read, row by row. */
struct pat_transfer_counts {
    int64_t scopes;
    int64_t users;
    int64_t tokens;
    int64_t secrets;
    int64_t audit;
};

/*
 * Receives one line of an export (len bytes of JSON, no newline, not
 * NUL-terminated; borrowed for the call). Returns PAT_OK to go on, or an
 * error, which stops the export and is returned by it.
 */
typedef int (*pat_export_cb)(void *arg, const char *line, size_t len);

/*
 * Writes every row of st through cb: a header line, the token prefix,
 * the policy, the scopes, the users (deleted ones too), the tokens
 * (revocation and usage included), the secrets, the audit trail, and a
 * last line with the counts, by which an import tells a cut-off file.
 * The rows are read in one write transaction, so they are consistent:
 * writers on every node wait until the export ends. Nothing is written
 * to st. counts (may be NULL) receives what was exported.
 */
int pat_store_export(struct pat_store *st, pat_export_cb cb, void *arg,
                     struct pat_transfer_counts *counts);

/*
 * Hands the next line of an import to the library: PAT_OK with *line and
 * *len set (borrowed until the next call; a trailing newline is
 * ignored), PAT_ENOTFOUND at the end of the input, or an error, which
 * stops the import and is returned by it.
 */
typedef int (*pat_import_cb)(void *arg, const char **line, size_t *len);

/*
 * Reads an export through next into st, which must be empty: migrated
 * but never initialised (PAT_EINITED otherwise). All or nothing, in one
 * transaction: any malformed or missing line (PAT_EINVAL, with the line
 * number in the error buffer) writes nothing. Rows keep their ids, times,
 * revocations, usage and secrets' hashes, so every token verifies as it
 * did; row numbers (seq, audit event ids) are given afresh in the same
 * order. One audit event, store.imported, is added at the end. counts
 * (may be NULL) receives what was imported.
 */
int pat_store_import(struct pat_store *st, pat_import_cb next, void *arg,
                     struct pat_transfer_counts *counts);

#endif
