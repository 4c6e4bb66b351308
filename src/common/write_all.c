/* SPDX-License-Identifier: MIT */
/* cli_write_all of write_all.h: write(2) until all of it is out. */
#include <errno.h>
#include <unistd.h>

#include "write_all.h"
#include "banned.h"

bool
cli_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}
