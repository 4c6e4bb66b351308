/* SPDX-License-Identifier: MIT */
/*
 * Reading a request before its handler runs (see request.h): the client
 * address, which decides rate limits, allowed_cidrs and the audit trail,
 * so X-Forwarded-For is believed only as far as the proxies are trusted;
 * and the body, which is untrusted input, so its JSON nesting is bounded
 * before jansson sees it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "serve_config.h"
#include "intake.h"
#include "wire.h"
#include "banned.h"

static void
peer_ip(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(out, cap, "unknown");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET,
                  &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  out, (socklen_t)cap);
}

/*
 * The client address: the peer, or, when the peer is a trusted proxy, the
 * right-most address of X-Forwarded-For that is not a trusted proxy
 * itself (the left part of the header is whatever the client sent).
 */
void
intake_client_ip(struct MHD_Connection *c, const char *trusted_proxies,
                 char *out, size_t cap)
{
    const char *xff;

    peer_ip(c, out, cap);
    if (trusted_proxies[0] == '\0' ||
        !pat_cidr_list_match(trusted_proxies, out))
        return;
    xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    wire_xff_client(xff, trusted_proxies, out, cap);
}

/*
 * Parses the body of a POST, PUT or PATCH into r->body, or for a form
 * route (RFC 7662/7009) keeps it in r->form; 0 or the status answered.
 * Everything else is JSON whatever its Content-Type says: "curl -d"
 * labels JSON as a form, and ignoring such a body would be worse.
 */
int
intake_parse_body(struct req *r, const char *body, size_t len, bool form)
{
    json_error_t jerr;

    const char *type =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");

    if (len == 0)
        return 0;
    if (form && type != NULL &&
        strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        r->form = body;
        r->form_len = len;
        return 0;
    }
    switch (
        wire_json_body(body, len, r->cfg->max_json_depth, &r->body, &jerr)) {
    case WIRE_JSON_OK:
        return 0;
    case WIRE_JSON_DEEP:
        return reply_error(r, 400, "invalid_request",
                           "JSON is nested deeper than %ld levels",
                           r->cfg->max_json_depth);
    case WIRE_JSON_MALFORMED:
        return reply_error(r, 400, "invalid_request",
                           "malformed JSON at line %d, column %d: %s",
                           jerr.line, jerr.column, jerr.text);
    case WIRE_JSON_NOT_OBJECT:
    default:
        return reply_error(r, 400, "invalid_request",
                           "the body must be a JSON object");
    }
}
