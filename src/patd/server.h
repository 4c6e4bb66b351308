/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server of patd serve: libmicrohttpd with a thread pool, one
 * store connection per worker thread, bounded requests, authentication,
 * dispatch through the route table, an access log, and a graceful stop.
 */
#ifndef PATD_SERVER_H
#define PATD_SERVER_H

#include "serve_config.h"

/*
 * Serves until SIGTERM or SIGINT, then stops accepting, finishes the
 * requests in flight (at most cfg->shutdown_timeout seconds) and closes
 * the stores. SIGHUP reopens the access log. Returns an exit status.
 */
int server_run(const struct patd_config *cfg);

#endif
