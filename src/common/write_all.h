/* SPDX-License-Identifier: MIT */
/*
 * Writing a whole buffer to a file descriptor. patd and patctl each
 * write a secret to a file they create as a bare descriptor (patd init's
 * --token-file, opened O_EXCL; patctl's config file, from mkstemp) and
 * fsync before closing it; this is the one loop both use for it.
 */
#ifndef CLI_WRITE_ALL_H
#define CLI_WRITE_ALL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes the len bytes at p (borrowed for the call) to fd, again after
 * a signal interrupts and after a short write. Returns true when all of
 * them were written; false when write fails (errno says why) or writes
 * nothing, and then an unknown part of them may have been written.
 */
bool cli_write_all(int fd, const char *p, size_t len);

#endif
