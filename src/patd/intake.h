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

struct MHD_Connection;

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

/*
 * Framing a server behind proxies must not be lenient about, since a
 * proxy and patd that read a request differently can be made to disagree
 * on where it ends (request smuggling). libmicrohttpd 0.9.75 accepts all
 * of these (docs/internals/server.md), so patd checks the parsed headers
 * on the first call of the access handler. Returns NULL when the request
 * is acceptable, else why not: more than one Content-Length,
 * Content-Length with Transfer-Encoding, a Transfer-Encoding other than
 * chunked, a header name with white space in it, HTTP/1.1 without Host.
 */
const char *intake_framing_error(struct MHD_Connection *c, const char *version);

/*
 * Whether the request-target as sent (before percent-decoding) has an
 * encoded slash or NUL in its path: routes are matched on the decoded
 * path, where "/v1/me%2ftokens" would become another route.
 */
bool intake_raw_path_bad(const char *uri);

/*
 * The head as it arrived (read back from libmicrohttpd's read buffer,
 * see intake.c), on the first call of the access handler: 414 when the
 * request line is longer than max_head bytes, 431 when the head (request
 * line, headers and the empty line) is, or when its lines leave too
 * little of the connection's pool (pool bytes) for an answer; 400 when a
 * line ends in a bare LF instead of CR LF, a header is folded onto the
 * next line (obs-fold), or a name or value holds a control byte; 0 when
 * acceptable. *why says why.
 */
int intake_head_error(struct MHD_Connection *c, const char *method,
                      const char *version, long max_head, size_t pool,
                      const char **why);

#endif
