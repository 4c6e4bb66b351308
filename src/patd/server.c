/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue (see server.h). A request goes through: bounded
 * accumulation of the body (413 beyond max_body_bytes), route lookup,
 * authentication, JSON parsing with a depth bound, the handler, the
 * answer, and one access-log line. Nothing here knows the token format;
 * tokens are checked by libpat.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "admin_cmd.h"
#include "metrics.h"
#include "ratelimit.h"
#include "routes.h"
#include "server.h"
#include "banned.h"

/* Per-connection request state, from the first callback to completion. */
struct conn_state {
    char *body;
    size_t len;
    size_t cap;
    bool too_big;
    size_t route; /* index in routes[]; route_count() when unmatched */
    size_t sent;  /* bytes of the answer's body */
    struct timespec start;
    struct req r; /* last: see REQ_ZEROED */
};

/*
 * Process-wide server state. cfg is constant while serving; the log file
 * is swapped under log_lock on SIGHUP; stores lists every per-thread
 * connection so that shutdown can close them (under stores_lock).
 */
static struct {
    const struct patd_config *cfg;
    struct ratelimit *logins;
    struct ratelimit *fails;
    struct pat_verifier *verifier;
    pthread_mutex_t log_lock;
    FILE *log;
    bool log_off; /* [log] access = off; constant while serving */
    pthread_mutex_t stores_lock;
    struct pat_store *stores[256];
    size_t nstores;
    atomic_long in_flight;
} srv = {
    .log_lock = PTHREAD_MUTEX_INITIALIZER,
    .stores_lock = PTHREAD_MUTEX_INITIALIZER,
};

static _Thread_local struct pat_store *tls_store;

/* This thread's store connection, opened on first use. */
static struct pat_store *
thread_store(char *err, size_t errlen)
{
    struct pat_store *st = NULL;

    if (tls_store != NULL)
        return tls_store;
    if (pat_store_open(srv.cfg->store, 0, &st, err, errlen) != PAT_OK)
        return NULL;
    pthread_mutex_lock(&srv.stores_lock);
    if (srv.nstores < sizeof(srv.stores) / sizeof(srv.stores[0])) {
        srv.stores[srv.nstores++] = st;
        tls_store = st;
    }
    pthread_mutex_unlock(&srv.stores_lock);
    if (tls_store == NULL)
        pat_store_close(st);
    return tls_store;
}

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
static void
client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
    const char *xff, *end;

    peer_ip(c, out, cap);
    if (srv.cfg->trusted_proxies[0] == '\0' ||
        !pat_cidr_list_match(srv.cfg->trusted_proxies, out))
        return;
    xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff == NULL)
        return;
    end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        char ip[PAT_IP_MAX + 1];
        size_t len;

        while (start > xff && start[-1] != ',')
            start--;
        while (start < end && *start == ' ')
            start++;
        len = (size_t)(end - start);
        while (len > 0 && start[len - 1] == ' ')
            len--;
        if (len == 0 || len > PAT_IP_MAX)
            return; /* garbage: keep the proxy's own address */
        memcpy(ip, start, len);
        ip[len] = '\0';
        if (pat_cidr_list_check(ip) != PAT_OK)
            return;
        snprintf(out, cap, "%s", ip);
        if (!pat_cidr_list_match(srv.cfg->trusted_proxies, ip))
            return;
        end = start;
        while (end > xff && (end[-1] == ',' || end[-1] == ' '))
            end--;
    }
}

/* Deepest nesting of arrays and objects in a JSON text (strings skipped). */
static long
json_depth(const char *s, size_t len)
{
    long depth = 0, max = 0;
    bool in_str = false;
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                max = depth;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return max;
}

/*
 * Parses the body of a POST, PUT or PATCH into r->body, or for a form
 * route (RFC 7662/7009) keeps it in r->form; 0 or the status answered.
 * Everything else is JSON whatever its Content-Type says: "curl -d"
 * labels JSON as a form, and ignoring such a body would be worse.
 */
static int
parse_body(struct conn_state *cs, bool form)
{
    struct req *r = &cs->r;
    json_error_t jerr;

    const char *type =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");

    if (cs->len == 0)
        return 0;
    if (form && type != NULL &&
        strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        r->form = cs->body;
        r->form_len = cs->len;
        return 0;
    }
    if (json_depth(cs->body, cs->len) > r->cfg->max_json_depth)
        return reply_error(r, 400, "invalid_request",
                           "JSON is nested deeper than %ld levels",
                           r->cfg->max_json_depth);
    r->body = json_loadb(cs->body, cs->len, JSON_REJECT_DUPLICATES, &jerr);
    if (r->body == NULL)
        return reply_error(r, 400, "invalid_request",
                           "malformed JSON at line %d, column %d: %s",
                           jerr.line, jerr.column, jerr.text);
    if (!json_is_object(r->body))
        return reply_error(r, 400, "invalid_request",
                           "the body must be a JSON object");
    return 0;
}

static int
insufficient(struct req *r, const char *scope)
{
    snprintf(r->www_auth, sizeof(r->www_auth),
             "Bearer realm=\"patd\", error=\"insufficient_scope\", "
             "scope=\"%s\"",
             scope);
    return reply_error(r, 403, "insufficient_scope",
                       "this endpoint needs a token with scope '%s'", scope);
}

static int
invalid_token(struct req *r, const char *why)
{
    snprintf(r->www_auth, sizeof(r->www_auth),
             "Bearer realm=\"patd\", error=\"invalid_token\"");
    return reply_error(r, 401, "invalid_token", "%s", why);
}

/* Authenticates a Bearer PAT; 0 or the status answered. */
static int
auth_bearer(struct req *r, const char *hdr, enum auth_need need)
{
    const char *tok;
    size_t len;
    int rc;

    if (strncasecmp(hdr, "Bearer ", 7) != 0) {
        snprintf(r->www_auth, sizeof(r->www_auth),
                 "Bearer realm=\"patd\", error=\"invalid_request\"");
        return reply_error(r, 400, "invalid_request",
                           "the Authorization header must be 'Bearer "
                           "<token>'");
    }
    tok = hdr + 7;
    while (*tok == ' ')
        tok++;
    len = strnlen(tok, PAT_TOKEN_MAX + 1);
    {
        struct pat_check check = {r->ip, NULL, NULL, false};
        rc = pat_verifier_check(r->verifier, tok, len, &check, &r->token);
    }
    if (rc == PAT_EUNAVAIL || rc == PAT_ESTORE)
        return reply_pat(r, PAT_EUNAVAIL);
    if (rc != PAT_OK)
        return invalid_token(r, pat_strerror(rc));
    rc = pat_user_get(r->st, r->token.user_id, &r->user);
    if (rc != PAT_OK)
        return rc == PAT_ENOTFOUND ? invalid_token(r, "user not found")
                                   : reply_pat(r, rc);
    r->authed = AUTHED_TOKEN;
    r->actor.token_id = r->token.token_id;
    r->actor.token_scopes = r->token.scopes;
    r->actor.token_expires_at = r->token.expires_at;
    if (need == AUTH_SELF && !pat_verdict_has_scope(&r->token, "patd:self"))
        return insufficient(r, "patd:self");
    if (need == AUTH_ADMIN && r->user.role != PAT_ROLE_ADMIN)
        return reply_error(r, 403, "forbidden", "administrators only");
    if (need == AUTH_ADMIN && !pat_verdict_has_scope(&r->token, "patd:admin"))
        return insufficient(r, "patd:admin");
    return 0;
}

/* Authenticates a session cookie, with CSRF on state changes. */
static int
auth_session(struct req *r, const char *cookie, enum auth_need need)
{
    char *csrf = r->csrf;
    const char *sent;
    bool safe = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int rc;

    if (need == AUTH_TOKEN)
        return reply_error(r, 401, "invalid_token",
                           "this endpoint needs a token");
    rc = pat_session_get(r->st, cookie, strlen(cookie), &r->user, csrf,
                         sizeof(r->csrf));
    if (rc == PAT_EUNAVAIL || rc == PAT_ESTORE)
        return reply_pat(r, PAT_EUNAVAIL);
    if (rc != PAT_OK)
        return reply_error(r, 401, "invalid_token",
                           "the session has ended; sign in again");
    r->authed = AUTHED_SESSION;
    sent =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!safe && (sent == NULL || strlen(sent) != PAT_CSRF_LEN ||
                  CRYPTO_memcmp(sent, csrf, PAT_CSRF_LEN) != 0))
        return reply_error(r, 403, "forbidden",
                           "missing or wrong X-CSRF-Token header");
    if (need == AUTH_ADMIN && r->user.role != PAT_ROLE_ADMIN)
        return reply_error(r, 403, "forbidden", "administrators only");
    return 0;
}

static int
authenticate(struct req *r, enum auth_need need)
{
    const char *hdr =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    const char *cookie =
        MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "patd_session");
    int rc;

    if (need == AUTH_NONE)
        return 0;
    if (hdr != NULL)
        rc = auth_bearer(r, hdr, need);
    else if (cookie != NULL)
        rc = auth_session(r, cookie, need);
    else
        return reply_error(r, 401, "invalid_token", "authentication required");
    if (r->authed != AUTHED_NONE)
        r->actor.user_id = r->user.id;
    return rc;
}

/* Routes, authenticates and runs the handler; r->status is the answer. */
static void
handle(struct conn_state *cs)
{
    struct req *r = &cs->r;
    const struct route *rt;
    bool known, with_body;

    if (cs->too_big) {
        reply_error(r, 413, "payload_too_large",
                    "the body is larger than %ld bytes",
                    r->cfg->max_body_bytes);
        return;
    }
    rt = route_match(r, r->method, r->path, &known);
    if (rt == NULL) {
        if (known)
            reply_error(r, 405, "invalid_request",
                        "method %.16s is not allowed here", r->method);
        else
            reply_error(r, 404, "not_found", "no such endpoint");
        return;
    }
    cs->route = route_index(rt);
    r->verifier = srv.verifier;
    r->fails = srv.fails;
    with_body =
        !(rt->flags & ROUTE_NOBODY) &&
        (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
         strcmp(r->method, "PATCH") == 0);
    if (rt->flags & ROUTE_STORELESS) {
        if (!with_body || parse_body(cs, rt->flags & ROUTE_FORM) == 0)
            rt->fn(r);
        return;
    }
    r->st = thread_store(r->errdetail, sizeof(r->errdetail));
    if (r->st == NULL) {
        fprintf(stderr, "patd: store: %s\n", r->errdetail);
        r->errdetail[0] = '\0';
        reply_pat(r, PAT_EUNAVAIL);
        return;
    }
    pat_store_set_errbuf(r->st, r->errdetail, sizeof(r->errdetail));
    if (authenticate(r, rt->auth) != 0)
        return;
    if (with_body && parse_body(cs, rt->flags & ROUTE_FORM) != 0)
        return;
    r->errdetail[0] = '\0';
    rt->fn(r);
    pat_store_set_errbuf(r->st, NULL, 0);
    /*
     * A change that can make a token less valid is seen by the very next
     * verification on this node. Routes that cannot (creation, renaming,
     * sessions) keep the cache; the unauthenticated revocation routes
     * flush it themselves, and only when they revoked something.
     */
    if ((with_body || strcmp(r->method, "DELETE") == 0) &&
        !(rt->flags & ROUTE_READONLY) && r->status < 400)
        pat_verifier_invalidate(srv.verifier);
}

static void
add_security_headers(struct MHD_Response *resp)
{
    /* A handler that allows caching (h_web) has set its own. */
    if (MHD_get_response_header(resp, "Cache-Control") == NULL)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result
respond(struct MHD_Connection *c, struct conn_state *cs)
{
    struct req *r = &cs->r;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char *text = NULL;

    int i;

    if (r->status == 0)
        reply_error(r, 500, "internal_error", "no answer");
    if (r->raw != NULL) {
        text = r->raw;
        r->raw = NULL;
    } else if (r->resp != NULL) {
        text = json_dumps(r->resp, JSON_COMPACT);
    }
    cs->sent = text ? strlen(text) : 0;
    if (text != NULL)
        resp = MHD_create_response_from_buffer(cs->sent, text,
                                               MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "",
                                               MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    if (text != NULL)
        MHD_add_response_header(resp, "Content-Type",
                                r->raw_type ? r->raw_type : "application/json");
    for (i = 0; i < r->nhdrs; i++)
        MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
    metrics_request(cs->route, r->status);
    add_security_headers(resp);
    if (r->www_auth[0])
        MHD_add_response_header(resp, "WWW-Authenticate", r->www_auth);
    if (r->retry_after[0])
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    if (r->set_cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
    ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **con_cls)
{
    struct conn_state *cs = *con_cls;
    const char *clen;

    (void)cls;
    (void)version;
    if (cs == NULL) {
        cs = malloc(sizeof(*cs));
        if (cs == NULL)
            return MHD_NO;
        memset(cs, 0, offsetof(struct conn_state, r) + REQ_ZEROED);
        cs->r.www_auth[0] = '\0';
        cs->r.errdetail[0] = '\0';
        *con_cls = cs;
        atomic_fetch_add(&srv.in_flight, 1);
        clock_gettime(CLOCK_MONOTONIC, &cs->start);
        cs->r.conn = c;
        cs->r.cfg = srv.cfg;
        cs->r.logins = srv.logins;
        cs->route = route_count();
        cs->r.method = method;
        cs->r.path = url;
        client_ip(c, cs->r.ip, sizeof(cs->r.ip));
        cs->r.user_agent =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
        cs->r.actor.ip = cs->r.ip;
        cs->r.actor.user_agent = cs->r.user_agent;
        clen =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (clen != NULL && strtoull(clen, NULL, 10) >
                                (unsigned long long)srv.cfg->max_body_bytes) {
            /*
             * Answer 413 now, before any of the body is read (and before
             * "100 Continue"): libmicrohttpd then closes the connection.
             */
            cs->too_big = true;
            handle(cs);
            return respond(c, cs);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;

        *upload_size = 0;
        if (cs->too_big || cs->len + n > (size_t)srv.cfg->max_body_bytes) {
            cs->too_big = true;
            free(cs->body);
            cs->body = NULL;
            cs->len = 0;
            return MHD_YES;
        }
        if (cs->len + n > cs->cap) {
            size_t cap = cs->cap ? cs->cap * 2 : 4096;
            char *p;
            while (cap < cs->len + n)
                cap *= 2;
            p = realloc(cs->body, cap);
            if (p == NULL)
                return MHD_NO;
            cs->body = p;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload, n);
        cs->len += n;
        return MHD_YES;
    }
    handle(cs);
    return respond(c, cs);
}

/* Copies a path for the log: printable ASCII, token-shaped parts hidden. */
static void
log_path(const char *path, char *out, size_t cap)
{
    size_t w = 0;
    const char *p = path ? path : "";

    while (*p != '\0' && w + 8 < cap) {
        size_t seg = strcspn(p + (*p == '/'), "/") + (*p == '/');
        const char *s = p + (*p == '/');
        size_t sl = seg - (*p == '/'), i;

        if (*p == '/')
            out[w++] = '/';
        if (pat_token_check_any(s, sl) == PAT_OK) {
            memcpy(out + w, "[token]", 7);
            w += 7;
        } else {
            for (i = 0; i < sl && w + 1 < cap; i++) {
                unsigned char ch = (unsigned char)s[i];
                out[w++] =
                    (ch >= 0x21 && ch < 0x7f && ch != '"') ? (char)ch : '?';
            }
        }
        p += seg;
    }
    out[w] = '\0';
}

static void
access_log(const struct conn_state *cs)
{
    if (srv.log_off) /* build nothing */
        return;
    const struct req *r = &cs->r;
    struct timespec end;
    char when[PAT_TIME_LEN + 1], path[512];
    double ms;
    json_t *line;
    char *text;

    clock_gettime(CLOCK_MONOTONIC, &end);
    ms = (double)(end.tv_sec - cs->start.tv_sec) * 1e3 +
         (double)(end.tv_nsec - cs->start.tv_nsec) / 1e6;
    pat_time_format((int64_t)time(NULL), when, sizeof(when));
    log_path(r->path, path, sizeof(path));
    line = json_pack("{s:s, s:s, s:s, s:i, s:I, s:f, s:s, s:s?, s:s?}", "time",
                     when, "method", r->method ? r->method : "-", "path", path,
                     "status", r->status, "bytes", (json_int_t)cs->sent,
                     "duration_ms", ms, "client", r->ip, "user_id",
                     r->authed ? r->user.id : NULL, "token_id",
                     r->authed == AUTHED_TOKEN ? r->token.token_id : NULL);
    if (line == NULL)
        return;
    text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    if (text == NULL)
        return;
    /* One write per line, so lines never interleave with other output. */
    pthread_mutex_lock(&srv.log_lock);
    if (srv.log != NULL) {
        fprintf(srv.log, "%s\n", text);
        fflush(srv.log);
    }
    pthread_mutex_unlock(&srv.log_lock);
    free(text);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct conn_state *cs = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (cs == NULL)
        return;
    access_log(cs);
    json_decref(cs->r.body);
    json_decref(cs->r.resp);
    free(cs->r.raw);
    free(cs->body);
    free(cs);
    *con_cls = NULL;
    atomic_fetch_sub(&srv.in_flight, 1);
}

static int
open_log(void)
{
    FILE *f = stderr;

    if (strcmp(srv.cfg->access_log, "off") == 0)
        f = NULL;
    else if (strcmp(srv.cfg->access_log, "-") != 0) {
        f = fopen(srv.cfg->access_log, "ae");
        if (f == NULL) {
            fprintf(stderr, "patd: cannot open '%s': %s\n", srv.cfg->access_log,
                    strerror(errno));
            return -1;
        }
    }
    pthread_mutex_lock(&srv.log_lock);
    if (srv.log != NULL && srv.log != stderr)
        fclose(srv.log);
    srv.log = f;
    pthread_mutex_unlock(&srv.log_lock);
    return 0;
}

static int
parse_listen(const char *listen, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port;

    if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return -1;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Waits for the requests in flight, at most cfg->shutdown_timeout. */
static void
drain(void)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    long waited = 0, limit = srv.cfg->shutdown_timeout * 100;

    while (atomic_load(&srv.in_flight) > 0 && waited++ < limit)
        nanosleep(&tick, NULL);
}

static void
close_stores(void)
{
    size_t i;

    pthread_mutex_lock(&srv.stores_lock);
    for (i = 0; i < srv.nstores; i++)
        pat_store_close(srv.stores[i]);
    srv.nstores = 0;
    pthread_mutex_unlock(&srv.stores_lock);
}

int
server_run(const struct patd_config *cfg)
{
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sa;
    sigset_t sigs;
    unsigned flags;
    int sig = 0, status = 1;

    srv.cfg = cfg;
    srv.log_off = strcmp(cfg->access_log, "off") == 0;
    if (parse_listen(cfg->listen, &sa) != 0) {
        fprintf(stderr, "patd: cannot listen on '%s': use IPV4:PORT\n",
                cfg->listen);
        return 1;
    }
    /*
     * Block the signals before any thread starts (the verifier's flusher
     * is the first): every thread inherits the mask, and only the main
     * thread takes them, in sigwait below.
     */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    {
        struct pat_verifier_options vo = {(size_t)cfg->cache_entries,
                                          (int)cfg->cache_ttl,
                                          (int)cfg->usage_interval};
        char err[512] = "";
        if (pat_verifier_new(cfg->store, &vo, &srv.verifier, err,
                             sizeof(err)) != PAT_OK) {
            fprintf(stderr, "patd: cannot open the store: %s\n", err);
            goto out;
        }
    }
    srv.logins = ratelimit_new(8192);
    srv.fails = ratelimit_new(65536);
    if (srv.logins == NULL || srv.fails == NULL || open_log() != 0)
        goto out;
    signal(SIGPIPE, SIG_IGN);
    flags = MHD_USE_ITC | MHD_USE_INTERNAL_POLLING_THREAD |
            (strcmp(cfg->mode, "epoll") == 0 ? MHD_USE_EPOLL : MHD_USE_POLL);
    d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)cfg->max_header_bytes, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "patd: cannot listen on '%s'\n", cfg->listen);
        goto out;
    }
    {
        char shown[1024]; /* the store URL without its password */
        fprintf(stderr, "patd: serving on http://%s (store %s)\n", cfg->listen,
                admin_redact(cfg->store, shown, sizeof(shown)));
    }
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            open_log();
            continue;
        }
        break;
    }
    fprintf(stderr, "patd: stopping on signal %d\n", sig);
    {
        /* Stop accepting at once; connections already open finish. */
        MHD_socket lsock = MHD_quiesce_daemon(d);
        if (lsock != MHD_INVALID_SOCKET)
            close(lsock);
    }
    drain();
    status = 0;
out:
    if (d != NULL)
        MHD_stop_daemon(d);
    close_stores();
    pat_verifier_free(srv.verifier); /* writes the pending usage */
    ratelimit_free(srv.logins);
    ratelimit_free(srv.fails);
    if (srv.log != NULL && srv.log != stderr)
        fclose(srv.log);
    return status;
}
