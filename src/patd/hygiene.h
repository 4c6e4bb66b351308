/* SPDX-License-Identifier: MIT */
/*
 * Keeping secrets out of the process's memory once they are done with,
 * and out of core files: a jansson allocator that wipes what it frees, a
 * free function for response bodies that does the same, and turning core
 * dumps off at `patd serve` start.
 */
#ifndef PATD_HYGIENE_H
#define PATD_HYGIENE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Makes every jansson object, string and text (parsed bodies, answers,
 * json_dumps output) be wiped when jansson frees it. Call it first in
 * main, before any jansson allocation. Memory stays plain malloc memory:
 * json_dumps output may still be given to free(), which does not wipe.
 */
void hygiene_install(void);

/* Wipes p's whole allocation (malloc_usable_size) and frees it; NULL ok. */
void hygiene_free(void *p);

/* Wipes len bytes at p, which the caller borrows read-only (MHD's). */
void hygiene_wipe_borrowed(const void *p, size_t len);

/*
 * Unless allow, turns core dumps off for this process (PR_SET_DUMPABLE 0,
 * which also keeps other users' debuggers and /proc/PID/mem out, and
 * RLIMIT_CORE 0). Then reports on stderr what prctl and getrlimit say.
 * 0, or -1 with the reason on stderr.
 */
int hygiene_core_dumps(bool allow);

/*
 * Reads the first line of the file at path (a client secret, an SMTP
 * password) into buf: NUL-terminated, without its line end, cut to
 * cap - 1 bytes; what else was read is wiped. 0, or -1 when the file
 * cannot be opened (errno says why).
 */
int hygiene_read_secret_line(const char *path, char *buf, size_t cap);

#endif
