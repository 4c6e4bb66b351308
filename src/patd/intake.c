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

/* The X-Forwarded-For lines of a request, in the order they came. */
#define XFF_LINES_MAX 16

struct xff_lines {
    const char *line[XFF_LINES_MAX];
    size_t n;
    bool over;
};

static enum MHD_Result
collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct xff_lines *x = cls;

    (void)kind;
    if (key == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    if (x->n == XFF_LINES_MAX) {
        x->over = true;
        return MHD_NO;
    }
    x->line[x->n++] = value ? value : "";
    return MHD_YES;
}

/*
 * The client address: the peer, or, when the peer is a trusted proxy, the
 * right-most address of X-Forwarded-For that is not a trusted proxy
 * itself (the left part is whatever the client sent). Several
 * X-Forwarded-For lines are one list in their order (RFC 9110 5.3): a
 * proxy that adds its own line after the client's is read first. More
 * lines than XFF_LINES_MAX: nothing is believed beyond the peer.
 */
void
intake_client_ip(struct MHD_Connection *c, const char *trusted_proxies,
                 char *out, size_t cap)
{
    struct xff_lines x = {{NULL}, 0, false};
    size_t i;

    peer_ip(c, out, cap);
    if (trusted_proxies[0] == '\0' ||
        !pat_cidr_list_match(trusted_proxies, out))
        return;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_xff, &x);
    if (x.over)
        return;
    for (i = x.n; i > 0; i--) {
        if (wire_xff_client(x.line[i - 1], trusted_proxies, out, cap) != 1)
            return;
    }
}

struct framing {
    int content_length;
    int transfer_encoding;
    bool te_chunked;
    bool host;
    bool bad_name;
};

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct framing *f = cls;

    (void)kind;
    if (key == NULL)
        return MHD_YES;
    if (strpbrk(key, " \t") != NULL)
        f->bad_name = true;
    if (strcasecmp(key, "Content-Length") == 0)
        f->content_length++;
    else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        f->te_chunked = value != NULL && strcasecmp(value, "chunked") == 0;
    } else if (strcasecmp(key, "Host") == 0)
        f->host = true;
    return MHD_YES;
}

const char *
intake_framing_error(struct MHD_Connection *c, const char *version)
{
    struct framing f = {0, 0, false, false, false};

    MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &f);
    if (f.bad_name)
        return "a header name has white space in it";
    if (f.content_length > 1)
        return "more than one Content-Length";
    if (f.content_length > 0 && f.transfer_encoding > 0)
        return "Content-Length together with Transfer-Encoding";
    if (f.transfer_encoding > 1 || (f.transfer_encoding == 1 && !f.te_chunked))
        return "a Transfer-Encoding other than chunked";
    if (!f.host && version != NULL && strcmp(version, "HTTP/1.1") == 0)
        return "HTTP/1.1 without Host";
    return NULL;
}

bool
intake_raw_path_bad(const char *uri)
{
    size_t n = strcspn(uri, "?");
    size_t i;

    for (i = 0; i + 2 < n; i++) {
        if (uri[i] != '%')
            continue;
        if ((uri[i + 1] == '2' && (uri[i + 2] == 'f' || uri[i + 2] == 'F')) ||
            (uri[i + 1] == '0' && uri[i + 2] == '0'))
            return true;
    }
    return false;
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
