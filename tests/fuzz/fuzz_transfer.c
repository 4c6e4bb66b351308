/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the import reader (lib/transfer.c): the input is
 * an export file, fed line by line to pat_store_import on an empty
 * SQLite store in memory. Whatever the lines, the import either refuses
 * them (and leaves the store empty, in a rolled-back transaction) or
 * takes them; after a success the next input gets a fresh store.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pat/pat.h"
#include "pat/transfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct lines {
    const char *p, *end;
};

static int
next_line(void *arg, const char **line, size_t *len)
{
    struct lines *l = arg;
    const char *nl;

    if (l->p >= l->end)
        return PAT_ENOTFOUND;
    nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    *line = l->p;
    *len = (size_t)((nl ? nl : l->end) - l->p);
    l->p = nl ? nl + 1 : l->end;
    return PAT_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pat_store *st;
    struct pat_transfer_counts n;
    struct lines l;
    static char err[256]; /* the store keeps it as its error buffer */
    char *copy;
    int rc;

    if (st == NULL && pat_store_open("sqlite::memory:", PAT_OPEN_CREATE, &st,
                                     err, sizeof(err)) != PAT_OK) {
        fprintf(stderr, "fuzz_transfer: cannot open a store: %s\n", err);
        abort();
    }
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    l.p = copy;
    l.end = copy + size;
    rc = pat_store_import(st, next_line, &l, &n);
    if (rc == PAT_OK) {
        pat_store_close(st); /* no longer empty */
        st = NULL;
    }
    free(copy);
    return 0;
}
