/* SPDX-License-Identifier: MIT */
/* Text helpers shared by the daemon, the CLI and the library. */
#ifndef PAT_TEXT_H
#define PAT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAT_TIME_LEN 20 /* "2026-11-27T10:00:00Z" */

/*
 * Formats t as RFC 3339 UTC into out (at least PAT_TIME_LEN + 1 bytes).
 * Returns PAT_ERANGE for years outside 1970..9999.
 */
int pat_time_format(int64_t t, char *out, size_t outlen);

/*
 * Parses an RFC 3339 date-time ("2026-11-27T10:00:00Z", fractions and
 * "+hh:mm" offsets accepted) or a full date ("2026-11-27", midnight UTC)
 * of len bytes into Unix seconds. PAT_EINVAL for anything else.
 */
int pat_time_parse(const char *s, size_t len, int64_t *out);

/*
 * Checks that s (len bytes) is valid UTF-8 without control characters.
 * On success *chars (may be NULL) receives the number of code points.
 */
int pat_utf8_check(const char *s, size_t len, size_t *chars);

/*
 * Parses a whole decimal number (at most 20 characters, nothing after
 * it) within [min, max] into *out. false for anything else.
 */
bool pat_parse_number(const char *s, long long min, long long max,
                      long long *out);

/* PAT_OK when list is empty or holds only address ranges ("10.0.0.0/8"). */
int pat_cidr_list_check(const char *list);

/* Whether ip lies in one of the ranges of list. */
bool pat_cidr_list_match(const char *list, const char *ip);

#endif
