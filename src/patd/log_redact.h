/* SPDX-License-Identifier: MIT */
/*
 * The path of a request as the access log shows it: printable ASCII, and
 * every token-shaped run hidden as [token], also when it was
 * percent-encoded (once or more). Pure string work, so that a fuzz
 * target can call it without a server.
 */
#ifndef PATD_LOG_REDACT_H
#define PATD_LOG_REDACT_H

#include <stddef.h>

/*
 * The longest path examined; what follows is cut (the log line holds
 * less than this anyway).
 */
#define LOG_PATH_SCAN 2048

/*
 * Writes path (NULL: "") into out[cap] (cap >= 8), NUL-terminated,
 * cut to fit: bytes outside printable ASCII and '"' become '?', and each
 * token-shaped run ([a-z0-9]*_ and 38 or more base62 characters, the
 * shape of DESIGN.md section 2 without its checksum) becomes [token],
 * whether it appears as sent or after percent-decoding, however many
 * times encoded. Returns the length written.
 */
size_t log_path_redact(const char *path, char *out, size_t cap);

#endif
