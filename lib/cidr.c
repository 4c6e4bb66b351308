/* SPDX-License-Identifier: MIT */
/*
 * Address ranges a token may be used from ("allowed_cidrs"): parsing into
 * canonical form ("10.1.0.0/16", host bits cleared) and matching a client
 * address against a list of them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct range {
    int family;
    unsigned char addr[16];
    int bits;
};

static int
parse_range(const char *s, size_t len, struct range *r)
{
    char buf[PAT_CIDR_MAX + 1];
    const char *slash;
    size_t alen;
    long bits;
    int max, i;

    if (len == 0 || len > PAT_CIDR_MAX)
        return PAT_EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    slash = memchr(buf, '/', len);
    alen = slash ? (size_t)(slash - buf) : len;
    buf[alen] = '\0';
    if (inet_pton(AF_INET, buf, r->addr) == 1) {
        r->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
        r->family = AF_INET6;
        max = 128;
    } else {
        return PAT_EINVAL;
    }
    bits = max;
    if (slash != NULL) {
        const char *d = slash + 1;
        size_t dl = len - alen - 1;
        if (dl == 0 || dl > 3)
            return PAT_EINVAL;
        bits = 0;
        for (i = 0; i < (int)dl; i++) {
            if (d[i] < '0' || d[i] > '9')
                return PAT_EINVAL;
            bits = bits * 10 + (d[i] - '0');
        }
        if (bits > max)
            return PAT_EINVAL;
    }
    r->bits = (int)bits;
    /* Clear host bits so that equal ranges have one spelling. */
    for (i = 0; i < max / 8; i++) {
        int keep = r->bits - i * 8;
        if (keep >= 8)
            continue;
        r->addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
    return PAT_OK;
}

int
pat__cidr_canon(const char *s, size_t len, char *out, size_t cap)
{
    struct range r;
    char addr[INET6_ADDRSTRLEN];
    int n;

    if (parse_range(s, len, &r) != PAT_OK)
        return PAT_EINVAL;
    if (inet_ntop(r.family, r.addr, addr, sizeof(addr)) == NULL)
        return PAT_EINVAL;
    n = snprintf(out, cap, "%s/%d", addr, r.bits);
    if (n < 0 || (size_t)n >= cap)
        return PAT_EINVAL;
    return PAT_OK;
}

static bool
in_range(const struct range *r, const unsigned char *a)
{
    int full = r->bits / 8, rest = r->bits % 8;

    if (memcmp(r->addr, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((r->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

bool
pat__cidr_match(const char *cidrs, const char *ip)
{
    unsigned char a4[4], a6[16];
    bool v4 = inet_pton(AF_INET, ip, a4) == 1;
    bool v6 = !v4 && inet_pton(AF_INET6, ip, a6) == 1;
    const char *p = cidrs;

    if (!v4 && !v6)
        return false;
    /* An IPv4-mapped IPv6 peer is matched as the IPv4 address it is. */
    if (v6 && memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        memcpy(a4, a6 + 12, 4);
        v4 = true;
        v6 = false;
    }
    while (*p != '\0') {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        struct range r;

        if (parse_range(p, len, &r) == PAT_OK) {
            if (r.family == AF_INET && v4 && in_range(&r, a4))
                return true;
            if (r.family == AF_INET6 && v6 && in_range(&r, a6))
                return true;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

int
pat_cidr_list_check(const char *list)
{
    char out[PAT_CIDRSTR_MAX + 1];

    return pat__list_normalize(list, pat__cidr_canon, PAT_CIDRS_MAX,
                               PAT_CIDR_MAX, out, sizeof(out), NULL, 0, NULL);
}

bool
pat_cidr_list_match(const char *list, const char *ip)
{
    return list != NULL && ip != NULL && pat__cidr_match(list, ip);
}
