/* SPDX-License-Identifier: MIT */
/*
 * The access log of patd serve: one JSON line per request (time, method,
 * path with token-shaped segments hidden, status, bytes, duration,
 * client, user and token ids) on stderr, appended to a file, or nowhere.
 * The file can be reopened, so that it can be rotated under a running
 * server (SIGHUP).
 */
#ifndef PATD_ACCESS_LOG_H
#define PATD_ACCESS_LOG_H

#include <stddef.h>
#include <time.h>

#include "request.h"

/*
 * Opens the log where says ("-": stderr, "off": none, else a file path,
 * appended to). where is borrowed until access_log_close and must not
 * change in between. Call it before any request is served. 0, or -1
 * with the reason on stderr.
 */
int access_log_open(const char *where);

/*
 * Opens the same file again and closes the old one; on failure the old
 * one stays in use. 0, or -1 with the reason on stderr. Safe while
 * requests are logged.
 */
int access_log_reopen(void);

/*
 * Writes r's line: start is when the request began (CLOCK_MONOTONIC),
 * sent the bytes of the answer's body, unanswered NULL for a request
 * whose answer went out, else why it did not ("timeout", "client
 * closed", ...), written as the member "unanswered". Any thread; lines
 * never interleave.
 */
void access_log_write(const struct req *r, const struct timespec *start,
                      size_t sent, const char *unanswered);

/* Closes the file, if one is open; call it after the last request. */
void access_log_close(void);

#endif
