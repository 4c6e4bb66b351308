/* SPDX-License-Identifier: MIT */
/*
 * What the server reads from a request before any handler runs: the
 * client's address, believing X-Forwarded-For only from trusted proxies,
 * and the body, parsed into a JSON object of bounded depth, or kept as it
 * is on the routes that take a form.
 */
#ifndef PATD_INTAKE_H
#define PATD_INTAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

/*
 * Writes the client's address into out[cap] (text, at most PAT_IP_MAX
 * bytes): the peer's, or, when the peer lies in trusted_proxies (a CIDR
 * list, "" for none), the right-most address of X-Forwarded-For that is
 * not a trusted proxy itself. "unknown" when the peer has no address.
 */
void intake_client_ip(struct MHD_Connection *c, const char *trusted_proxies,
                      char *out, size_t cap);

/*
 * Parses body (len bytes) into r->body, a JSON object at most
 * r->cfg->max_json_depth deep; or, when form is set and the Content-Type
 * says so, points r->form at body, which must then outlive r. An empty
 * body is left absent. Returns 0, or the status answered (400).
 */
int intake_parse_body(struct req *r, const char *body, size_t len, bool form);

#endif
