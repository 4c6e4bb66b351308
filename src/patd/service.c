/* SPDX-License-Identifier: MIT */
/* patd serve and systemd (see service.h). */
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "access_log.h"
#include "service.h"
#include "tls.h"
#include "banned.h"

void
service_ready(const char *listen)
{
    sd_notifyf(0, "READY=1\nSTATUS=serving on %s://%s",
               tls_on() ? "https" : "http", listen);
}

void
service_reload(void)
{
    char err[512] = "";

    sd_notify(0, "RELOADING=1");
    access_log_reopen();
    if (tls_reload(err, sizeof(err)) != 0)
        fprintf(stderr,
                "patd: TLS not reloaded, the old certificate stays: "
                "%s\n",
                err);
    else if (tls_on())
        fprintf(stderr, "patd: TLS certificate reloaded\n");
    sd_notify(0, "READY=1");
}

void
service_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}
