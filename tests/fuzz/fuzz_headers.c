/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the server's header and path helpers: the client
 * address behind trusted proxies (X-Forwarded-For), If-None-Match
 * against an ETag (src/patd/wire.c), and the access log's path redaction
 * (src/patd/log_redact.c). The first byte picks the helper; the rest is
 * its input. Beyond memory safety, the redaction must leave no
 * token-shaped run ('_' and 38 base62 characters) in what it writes, and
 * the address chosen must be a valid one or the peer's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log_redact.h"
#include "pat/pat.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_base62(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= 'a' && ch <= 'z');
}

/* Whether s holds '_' and then 38 base62 characters. */
static bool
token_shaped(const char *s)
{
    size_t run = 0;
    bool after = false;

    for (; *s != '\0'; s++) {
        if (*s == '_') {
            after = true;
            run = 0;
        } else if (after && is_base62((unsigned char)*s)) {
            if (++run >= 38)
                return true;
        } else {
            after = false;
        }
    }
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z, out[512];
    size_t len, n;

    if (size < 1)
        return 0;
    len = size - 1;
    z = malloc(len + 1);
    if (z == NULL)
        return 0;
    memcpy(z, data + 1, len);
    z[len] = '\0';
    switch (data[0] % 3) {
    case 0:
        memcpy(out, "10.0.0.1", 9);
        wire_xff_client(z, "10.0.0.0/8 127.0.0.1/32 2001:db8::/32", out,
                        PAT_IP_MAX + 1);
        if (strcmp(out, "10.0.0.1") != 0 && pat_cidr_list_check(out) != PAT_OK)
            abort();
        break;
    case 1:
        (void)wire_etag_matches(z, "\"3f2a9c\"");
        (void)wire_etag_matches(z, "");
        break;
    default:
        n = log_path_redact(z, out, sizeof(out));
        if (n >= sizeof(out) || strlen(out) != n || token_shaped(out))
            abort();
        break;
    }
    free(z);
    return 0;
}
