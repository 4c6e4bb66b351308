/* SPDX-License-Identifier: MIT */
/*
 * RFC 3339 timestamps: every time in the API is written as
 * "2026-11-27T10:00:00Z" and read back with a bounded parser.
 */
#include <string.h>
#include <time.h>

#include "internal.h"

int
pat_time_format(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (outlen < PAT_TIME_LEN + 1 || t < 0 || t > 253402300799LL)
        return PAT_ERANGE;
    if (gmtime_r(&tt, &tm) == NULL)
        return PAT_ERANGE;
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) != PAT_TIME_LEN)
        return PAT_ERANGE;
    return PAT_OK;
}

/* Reads exactly n digits at *p (bounded by end) into *v. */
static bool
digits(const char **p, const char *end, int n, int *v)
{
    int i, x = 0;

    if (end - *p < n)
        return false;
    for (i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool
expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

static bool
days_ok(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max;

    if (m < 1 || m > 12 || d < 1)
        return false;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

/* Parses "Z" or "+hh:mm"/"-hh:mm" into an offset in seconds east of UTC. */
static bool
offset(const char **p, const char *end, int *off)
{
    int sign, h, m;

    if (expect(p, end, 'Z') || expect(p, end, 'z')) {
        *off = 0;
        return true;
    }
    if (*p >= end || (**p != '+' && **p != '-'))
        return false;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!digits(p, end, 2, &h) || !expect(p, end, ':') ||
        !digits(p, end, 2, &m) || h > 23 || m > 59)
        return false;
    *off = sign * (h * 3600 + m * 60);
    return true;
}

int
pat_time_parse(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    time_t t;

    if (s == NULL || len > 64)
        return PAT_EINVAL;
    if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') ||
        !digits(&p, end, 2, &mo) || !expect(&p, end, '-') ||
        !digits(&p, end, 2, &d) || y < 1970 || !days_ok(y, mo, d))
        return PAT_EINVAL;
    if (p < end) {
        if (*p != 'T' && *p != 't')
            return PAT_EINVAL;
        p++;
        if (!digits(&p, end, 2, &h) || !expect(&p, end, ':') ||
            !digits(&p, end, 2, &mi) || !expect(&p, end, ':') ||
            !digits(&p, end, 2, &sec) || h > 23 || mi > 59 || sec > 60)
            return PAT_EINVAL;
        if (p < end && *p == '.') {
            p++;
            if (p >= end || *p < '0' || *p > '9')
                return PAT_EINVAL;
            while (p < end && *p >= '0' && *p <= '9')
                p++;
        }
        if (!offset(&p, end, &off) || p != end)
            return PAT_EINVAL;
    }
    if (sec == 60)
        sec = 59; /* a leap second names the last second of its minute */
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return PAT_EINVAL;
    *out = (int64_t)t - off;
    return PAT_OK;
}
