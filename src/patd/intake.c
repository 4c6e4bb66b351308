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
#include <stdint.h>
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

/*
 * The request's head as it arrived, read back from libmicrohttpd's read
 * buffer. 0.9.75 parses the head in place: it ends a line at CR LF or at
 * a bare LF and turns those bytes into NULs, turns the colon of a header
 * line into a NUL, and keeps the name and the value (from its first
 * non-blank byte to the end of the line) where they were. The region
 * from the method to the end of the empty line is header_size bytes
 * (MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE). So a head whose lines all
 * end in CR LF is exactly: the request line ending at the version, two
 * NULs; each header in the order received, its name at the start of the
 * next line, blanks only between the colon and the value, the value, two
 * NULs; then two NULs for the empty line, ending the region. A bare LF
 * leaves one NUL; an obs-fold line leaves its bytes between one value's
 * NULs and the next name (libmicrohttpd copied them onto the name).
 */
struct head_walk {
    uintptr_t next; /* where the next line must start */
    uintptr_t end;  /* one past the empty line */
    size_t lines;   /* header lines */
    bool bad;
};

/* A control byte other than HT (a bare CR, a NUL cut short, DEL...). */
static bool
has_ctl(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return true;
    }
    return false;
}

/* Whether the line at p (n bytes, then its NUL) ends in CR LF, inside w. */
static bool
line_end_ok(const struct head_walk *w, const char *p, size_t n)
{
    uintptr_t e = (uintptr_t)p + n;

    return e + 2 <= w->end && p[n + 1] == '\0';
}

static enum MHD_Result
walk_header(void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct head_walk *w = cls;
    size_t kl, vl;
    const char *p;

    (void)kind;
    if (key == NULL || value == NULL || (uintptr_t)key != w->next) {
        w->bad = true;
        return MHD_NO;
    }
    kl = strlen(key);
    p = key + kl + 1; /* after the colon */
    if ((uintptr_t)value < (uintptr_t)p || (uintptr_t)value >= w->end) {
        w->bad = true;
        return MHD_NO;
    }
    for (; (uintptr_t)p < (uintptr_t)value; p++)
        if (*p != ' ' && *p != '\t') {
            w->bad = true;
            return MHD_NO;
        }
    vl = strlen(value);
    if (!line_end_ok(w, value, vl) || has_ctl(key, kl) || has_ctl(value, vl)) {
        w->bad = true;
        return MHD_NO;
    }
    w->next = (uintptr_t)value + vl + 2;
    w->lines++;
    return MHD_YES;
}

/* libmicrohttpd's record of one header, in the connection's pool. */
#define HEADER_RECORD_BYTES 64
/* The pool an answer needs (its headers): more than patd's take. */
#define ANSWER_RESERVE 2048

int
intake_head_error(struct MHD_Connection *c, const char *method,
                  const char *version, long max_head, size_t pool,
                  const char **why)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    struct head_walk w;
    size_t vl;

    *why = "the request head is malformed";
    if (ci == NULL || method == NULL || version == NULL)
        return 400;
    w.end = (uintptr_t)method + ci->header_size;
    w.lines = 0;
    w.bad = false;
    /* The request line: from the method to the end of the version. */
    if ((uintptr_t)version <= (uintptr_t)method || (uintptr_t)version >= w.end)
        return 400; /* no version: libmicrohttpd's static "" */
    vl = strlen(version);
    if ((uintptr_t)version + vl - (uintptr_t)method > (size_t)max_head) {
        *why = "the request line is too long";
        return 414;
    }
    if (ci->header_size > (size_t)max_head) {
        *why = "the request headers are too large";
        return 431;
    }
    *why = "a line that does not end in CR LF, or a folded header line";
    if (!line_end_ok(&w, version, vl))
        return 400;
    w.next = (uintptr_t)version + vl + 2;
    MHD_get_connection_values(c, MHD_HEADER_KIND, walk_header, &w);
    if (w.bad)
        return 400;
    /* The empty line, and nothing after it inside the head. */
    if (w.next + 2 != w.end || ((const char *)w.next)[0] != '\0' ||
        ((const char *)w.next)[1] != '\0')
        return 400;
    /*
     * Enough of the pool left for the answer's headers? The head stays
     * in the pool and each header line took a record: a head of many
     * lines may leave too little, and the answer would not go out.
     */
    if (ci->header_size + w.lines * HEADER_RECORD_BYTES + ANSWER_RESERVE >
        pool) {
        *why = "too many header lines";
        return 431;
    }
    *why = NULL;
    return 0;
}
