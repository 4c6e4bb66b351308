/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the import reader (lib/transfer.c): the input is
 * an export file, fed line by line to pat_store_import on an empty
 * SQLite store in /dev/shm. Whatever the lines, the import either refuses
 * them (and leaves the store empty, in a rolled-back transaction) or
 * takes them; after a success the next input gets a fresh store.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static char path[64];

/* Removes a SQLite store and its -wal and -shm files. */
static void
remove_store(const char *p)
{
    char side[80];

    unlink(p);
    snprintf(side, sizeof(side), "%s-wal", p);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", p);
    unlink(side);
}

static void
at_exit(void)
{
    remove_store(path);
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

    if (st == NULL) {
        if (path[0] == '\0')
            atexit(at_exit);
        snprintf(path, sizeof(path), "/dev/shm/patd-fuzz-transfer-%ld.db",
                 (long)getpid());
        remove_store(path);
        if (pat_store_open(path, PAT_OPEN_CREATE, &st, err, sizeof(err)) !=
            PAT_OK) {
            fprintf(stderr, "fuzz_transfer: cannot open '%s': %s\n", path, err);
            abort();
        }
    }
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    l.p = copy;
    l.end = copy + size;
    rc = pat_store_import(st, next_line, &l, &n);
    if (rc == PAT_OK) { /* no longer empty: the next input gets a new one */
        pat_store_close(st);
        st = NULL;
        remove_store(path);
    }
    free(copy);
    return 0;
}
