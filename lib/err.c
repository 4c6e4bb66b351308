/* SPDX-License-Identifier: MIT */
/*
 * pat_strerror, pat_errname and pat_err_class, generated from the one
 * table in include/pat/err.h, and the detail-buffer helpers every other
 * file uses.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

const char *
pat_strerror(int err)
{
    switch (err) {
    case PAT_OK:
        return "success";
#define PAT_ERR_MSG(name, value, cls, msg)                                     \
    case PAT_##name:                                                           \
        return msg;
        PAT_ERR_MAP(PAT_ERR_MSG)
#undef PAT_ERR_MSG
    }
    return "unknown error";
}

const char *
pat_errname(int err)
{
    switch (err) {
    case PAT_OK:
        return "OK";
#define PAT_ERR_NAME(name, value, cls, msg)                                    \
    case PAT_##name:                                                           \
        return #name;
        PAT_ERR_MAP(PAT_ERR_NAME)
#undef PAT_ERR_NAME
    }
    return "EUNKNOWNERR";
}

int
pat_err_class(int err)
{
    switch (err) {
    case PAT_OK:
        return PAT_CLASS_OK;
#define PAT_ERR_CLASS(name, value, cls, msg)                                   \
    case PAT_##name:                                                           \
        return PAT_CLASS_##cls;
        PAT_ERR_MAP(PAT_ERR_CLASS)
#undef PAT_ERR_CLASS
    }
    return PAT_CLASS_BUG;
}

static void
vseterr(struct pat_store *st, const char *fmt, va_list ap)
{
    if (st == NULL || st->errbuf == NULL || st->errlen == 0)
        return;
    vsnprintf(st->errbuf, st->errlen, fmt, ap);
}

void
pat__seterr(struct pat_store *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vseterr(st, fmt, ap);
    va_end(ap);
}

int
pat__fail(struct pat_store *st, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vseterr(st, fmt, ap);
    va_end(ap);
    return err;
}
