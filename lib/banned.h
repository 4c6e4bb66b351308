/* SPDX-License-Identifier: MIT */
/*
 * Functions that are unsafe on untrusted input or not thread-safe. This
 * header is included last (through lib/internal.h) by every patd source
 * file, after the system headers, so a use is a
 * compile error (as git's banned.h). Use snprintf, strtoll with an end
 * check, gmtime_r and bounded cursors instead.
 */
#ifndef PAT_BANNED_H
#define PAT_BANNED_H

#define PAT_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) PAT_BANNED(strcpy)
#undef strcat
#define strcat(x, y) PAT_BANNED(strcat)
#undef sprintf
#define sprintf(...) PAT_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PAT_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) PAT_BANNED(strtok)
#undef atoi
#define atoi(x) PAT_BANNED(atoi)
#undef atol
#define atol(x) PAT_BANNED(atol)
#undef gmtime
#define gmtime(x) PAT_BANNED(gmtime)
#undef localtime
#define localtime(x) PAT_BANNED(localtime)
#undef sscanf
#define sscanf(...) PAT_BANNED(sscanf)
#undef gets
#define gets(x) PAT_BANNED(gets)

#endif
