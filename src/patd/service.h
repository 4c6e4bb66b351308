/* SPDX-License-Identifier: MIT */
/*
 * patd serve under systemd (Type=notify): readiness, reload and stop
 * reported with sd_notify. Outside systemd (no NOTIFY_SOCKET) these do
 * nothing.
 */
#ifndef PATD_SERVICE_H
#define PATD_SERVICE_H

/* The server accepts connections on listen. */
void service_ready(const char *listen);

/*
 * SIGHUP: reopens the access log and reloads the TLS certificate and
 * key, telling systemd RELOADING=1 then READY=1. A certificate that
 * does not load is reported on stderr and the old one stays.
 */
void service_reload(void);

/* The server is stopping. */
void service_stopping(void);

#endif
