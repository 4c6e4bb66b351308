/* SPDX-License-Identifier: MIT */
/*
 * Secret hygiene of the patd process (see hygiene.h). Plaintext tokens
 * and passwords pass through buffers patd does not see the end of:
 * jansson's strings and parser buffers, the texts of answers. Wiping
 * them where they are freed is the one place that catches all of them.
 *
 * The allocator takes the size to wipe from malloc_usable_size rather
 * than from a header of its own: with a header, a json_dumps text passed
 * to plain free() (as libpat and the commands do) would free a pointer
 * malloc never returned. malloc_usable_size is glibc's and musl's, and
 * ASan's allocator answers it too.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "hygiene.h"
#include "banned.h"

void
hygiene_free(void *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, malloc_usable_size(p));
    free(p);
}

void
hygiene_wipe_borrowed(const void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse((void *)(uintptr_t)p, len);
}

void
hygiene_install(void)
{
    json_set_alloc_funcs(malloc, hygiene_free);
}

int
hygiene_core_dumps(bool allow)
{
    struct rlimit rl = {0, 0};
    int dumpable;

    if (!allow && (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
                   setrlimit(RLIMIT_CORE, &rl) != 0)) {
        perror("patd: cannot turn core dumps off");
        return -1;
    }
    dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (getrlimit(RLIMIT_CORE, &rl) != 0)
        rl.rlim_cur = RLIM_INFINITY;
    fprintf(stderr, "patd: core dumps %s (dumpable %d, core limit %lld)\n",
            dumpable == 0 && rl.rlim_cur == 0 ? "off" : "allowed", dumpable,
            rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur);
    return 0;
}

int
hygiene_read_secret_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (f == NULL || cap == 0) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    n = strcspn(buf, "\r\n");
    OPENSSL_cleanse(buf + n, cap - n);
    return 0;
}
