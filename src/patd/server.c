/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue (see server.h): the daemon's start and graceful
 * stop, a store connection per worker thread, and the path of a request:
 * bounded accumulation of the body (413 beyond max_body_bytes), route
 * lookup, authentication (auth.c), body parsing (request.c), the
 * handler, the answer with its security headers, and one access-log line
 * (access_log.c). Nothing here knows the token format; tokens are checked
 * by libpat. Every buffer that may have held a secret (the body, as it
 * grows and at the end; libmicrohttpd's copy of each chunk; the answer's
 * text; the credential headers) is wiped before it is let go.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "access_log.h"
#include "loginlimit.h"
#include "admin_cmd.h"
#include "auth.h"
#include "deadline.h"
#include "hygiene.h"
#include "intake.h"
#include "maintenance.h"
#include "jwt.h"
#include "deliver.h"
#include "notify.h"
#include "workers.h"
#include "metrics.h"
#include "ratelimit.h"
#include "request.h"
#include "routes.h"
#include "server.h"
#include "service.h"
#include "tls.h"
#include "banned.h"

/* Per-connection request state, from the first callback to completion. */
struct conn_state {
    char *body;
    size_t len;
    size_t cap;
    bool too_big;
    bool started; /* the access handler has run once */
    bool raw_bad; /* the request-target as sent is refused */
    bool close;   /* answer close_status why, with Connection: close */
    bool failed;  /* a worker could not queue the answer: drop it */
    bool matched; /* rt and known hold the route, matched once */
    bool known;
    const struct route *rt;
    const char *why;
    int close_status; /* 400, 414 or 431 */
    char target[256]; /* the request-target as sent, cut: for the log */
    size_t route;     /* index in routes[]; route_count() when unmatched */
    size_t sent;      /* bytes of the answer's body */
    struct timespec start;
    struct req r; /* last: see REQ_ZEROED */
};

/*
 * The bytes of a connection's state that can hold a secret (r.csrf, and
 * pointers into the request's headers) and are wiped when it ends. The
 * large members after them (www_auth, errdetail, user, token) hold ids,
 * names and scopes only: wiping all 14 KB of them was 3.8 % of a
 * forward-auth request's CPU time (perf, bench/RESULTS.md 2026-12-03).
 */
#define CS_SECRET_BYTES (offsetof(struct conn_state, r) + REQ_ZEROED)
_Static_assert(offsetof(struct req, csrf) + sizeof(((struct req *)0)->csrf) <=
                   REQ_ZEROED,
               "the CSRF token lies in the wiped part of struct req");

/*
 * Process-wide server state. cfg is constant while serving; stores lists
 * every per-thread connection so that shutdown can close them (under
 * stores_lock).
 */
static struct {
    const struct patd_config *cfg;
    struct loginlimit *logins;
    struct ratelimit *fails;
    struct pat_verifier *verifier;
    pthread_mutex_t stores_lock;
    struct pat_store *stores[256];
    size_t nstores;
    atomic_long in_flight;
    bool workers_on;
    bool defer_misses; /* forward auth's misses go to the workers */
} srv = {
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
    /* Whatever a handler changes reaches the cache at its commit. */
    pat_store_on_commit(st, pat_verifier_on_commit, srv.verifier);
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

/* Wipes and frees the body (it may hold a password or a token). */
static void
body_free(struct conn_state *cs)
{
    if (cs->body != NULL)
        OPENSSL_cleanse(cs->body, cs->cap);
    free(cs->body);
    cs->body = NULL;
    cs->len = 0;
    cs->cap = 0;
}

/*
 * Grows the body to hold need bytes. Not realloc: that could move the
 * bytes and free the old copy unwiped. 0, or -1 when out of memory.
 */
static int
body_grow(struct conn_state *cs, size_t need)
{
    size_t cap = cs->cap ? cs->cap * 2 : 4096;
    char *p;

    while (cap < need)
        cap *= 2;
    p = malloc(cap);
    if (p == NULL)
        return -1;
    if (cs->len > 0)
        memcpy(p, cs->body, cs->len);
    if (cs->body != NULL)
        OPENSSL_cleanse(cs->body, cs->cap);
    free(cs->body);
    cs->body = p;
    cs->cap = cap;
    return 0;
}

/* The body accumulated so far, as a JSON object or a form (request.h). */
static int
parse_body(struct conn_state *cs, bool form)
{
    return intake_parse_body(&cs->r, cs->body, cs->len, form);
}

/* The request's route (NULL: none; cs->known: the path exists). */
static const struct route *
match_route(struct conn_state *cs)
{
    if (!cs->matched) {
        cs->rt = route_match(&cs->r, cs->r.method, cs->r.path, &cs->known);
        cs->matched = true;
    }
    return cs->rt;
}

/* Routes, authenticates and runs the handler; r->status is the answer. */
static void
handle(struct conn_state *cs)
{
    struct req *r = &cs->r;
    const struct route *rt;
    bool with_body;

    if (cs->too_big) {
        reply_error(r, 413, "payload_too_large",
                    "the body is larger than %ld bytes",
                    r->cfg->max_body_bytes);
        return;
    }
    if (cs->close) {
        reply_error(r, cs->close_status, "invalid_request", "%s", cs->why);
        return;
    }
    rt = match_route(cs);
    if (rt == NULL) {
        if (cs->known)
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
    if (auth_request(r, rt->auth) != 0)
        return;
    if (with_body && parse_body(cs, rt->flags & ROUTE_FORM) != 0)
        return;
    r->errdetail[0] = '\0';
    rt->fn(r);
    pat_store_set_errbuf(r->st, NULL, 0);
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
    bool json_text = false;
    int i;

    if (r->status == 0)
        reply_error(r, 500, "internal_error", "no answer");
    if (r->raw != NULL) {
        text = r->raw;
        r->raw = NULL;
    } else if (r->resp != NULL) {
        text = json_dumps(r->resp, JSON_COMPACT);
        json_text = true;
    }
    cs->sent = text ? strlen(text) : 0;
    if (text != NULL && json_text) /* may carry a new token: wiped at free */
        resp = MHD_create_response_from_buffer_with_free_callback(
            cs->sent, text, hygiene_free);
    else if (text != NULL)
        resp = MHD_create_response_from_buffer(cs->sent, text,
                                               MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "",
                                               MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        hygiene_free(text);
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
    /* After a request whose framing is in doubt, nothing on it is read. */
    if (cs->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/*
 * Runs the handler, from the start with no answer yet when it deferred
 * (forward auth on a miss) or was handed over before it ran at all.
 */
static void
start_over(struct conn_state *cs)
{
    cs->r.defer = false;
    cs->r.can_defer = false;
    cs->r.status = 0;
    cs->r.nhdrs = 0;
    cs->r.www_auth[0] = '\0';
    cs->r.retry_after[0] = '\0';
    handle(cs);
}

/*
 * A request's handler on a worker thread (workers.h), its connection
 * suspended meanwhile: the answer is queued while it is suspended and
 * goes out when it is resumed. cs belongs to libmicrohttpd again from the
 * resume on (on_completed frees it), so nothing touches it after.
 */
static void
run_job(void *arg)
{
    struct conn_state *cs = arg;
    struct MHD_Connection *c = cs->r.conn;

    start_over(cs);
    if (respond(c, cs) != MHD_YES)
        cs->failed = true;
    MHD_resume_connection(c);
}

/*
 * Whether the request goes to a worker: everything that needs a store
 * handle of its own (the API, sign-in, revocation, leak reports,
 * readiness). Forward auth, introspection, health, metrics and the pages
 * stay on the threads that read requests; none of them writes or waits.
 */
static bool
offload(struct conn_state *cs)
{
    const struct route *rt;

    if (!srv.workers_on || cs->too_big || cs->close)
        return false;
    rt = match_route(cs);
    return rt != NULL && !(rt->flags & ROUTE_STORELESS);
}

/*
 * Each connection's memory in libmicrohttpd: the read buffer and, from
 * the other end of the same pool, a record of 64 bytes per header line,
 * then the answer's headers. max_header_bytes is enforced by patd
 * (intake_head_error: JSON 414 and 431); the pool has 8 KiB more, so
 * that a head just over the limit still reaches patd for its JSON answer
 * and one within it leaves room for the answer (up to about 95 header
 * lines; more is a JSON 431 as well). Only a head that overflows the
 * pool gets libmicrohttpd's own 414/431, whose HTML body is a constant
 * of the library. Not larger: 0.9.75 zeroes the whole pool between two
 * requests on a kept connection (MHD_pool_reset), measured at about
 * 1 us of CPU per request for each 8 KiB (bench/RESULTS.md).
 */
static size_t
pool_bytes(const struct patd_config *cfg)
{
    return (size_t)cfg->max_header_bytes + 8192;
}

/*
 * libmicrohttpd calls this with the request-target as sent, before it
 * decodes it; what it returns is the request's state from then on.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct conn_state *cs = malloc(sizeof(*cs));

    (void)cls;
    deadline_request_line(c);
    if (cs == NULL)
        return NULL;
    memset(cs, 0, offsetof(struct conn_state, r) + REQ_ZEROED);
    cs->r.www_auth[0] = '\0';
    cs->r.errdetail[0] = '\0';
    cs->raw_bad = uri != NULL && intake_raw_path_bad(uri);
    snprintf(cs->target, sizeof(cs->target), "%s", uri ? uri : "");
    clock_gettime(CLOCK_MONOTONIC, &cs->start);
    return cs;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **con_cls)
{
    struct conn_state *cs = *con_cls;
    const char *clen;

    (void)cls;
    if (cs == NULL || cs->failed) /* no state, or no answer to give */
        return MHD_NO;
    if (!cs->started) {
        cs->started = true;
        atomic_fetch_add(&srv.in_flight, 1);
        cs->r.conn = c;
        cs->r.cfg = srv.cfg;
        cs->r.logins = srv.logins;
        cs->route = route_count();
        cs->r.method = method;
        cs->r.path = url;
        intake_client_ip(c, srv.cfg->trusted_proxies, cs->r.ip,
                         sizeof(cs->r.ip));
        cs->r.user_agent =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
        cs->r.actor.ip = cs->r.ip;
        cs->r.actor.user_agent = cs->r.user_agent;
        cs->close_status =
            intake_head_error(c, method, version, srv.cfg->max_header_bytes,
                              pool_bytes(srv.cfg), &cs->why);
        if (cs->close_status == 0) {
            cs->close_status = 400;
            cs->why = cs->raw_bad ? "an encoded slash or NUL in the path"
                                  : intake_framing_error(c, version);
        }
        if (cs->why != NULL) {
            cs->close = true;
            deadline_arrived(c);
            handle(cs);
            return respond(c, cs);
        }
        clen =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (clen != NULL && strtoull(clen, NULL, 10) >
                                (unsigned long long)srv.cfg->max_body_bytes) {
            /*
             * Answer 413 now, before any of the body is read (and before
             * "100 Continue"): libmicrohttpd then closes the connection.
             */
            cs->too_big = true;
            deadline_arrived(c);
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
            hygiene_wipe_borrowed(upload, n);
            body_free(cs);
            return MHD_YES;
        }
        if (cs->len + n > cs->cap && body_grow(cs, cs->len + n) != 0)
            return MHD_NO;
        memcpy(cs->body + cs->len, upload, n);
        cs->len += n;
        /* libmicrohttpd's read buffer is done with these bytes. */
        hygiene_wipe_borrowed(upload, n);
        return MHD_YES;
    }
    deadline_arrived(c);
    if (offload(cs)) {
        MHD_suspend_connection(c);
        if (workers_submit(run_job, cs))
            return MHD_YES;
        MHD_resume_connection(c); /* queue full: serve it here */
    }
    cs->r.can_defer = srv.workers_on;
    cs->r.defer_misses = srv.defer_misses;
    handle(cs);
    if (cs->r.defer) {
        metrics_deferred();
        MHD_suspend_connection(c);
        if (workers_submit(run_job, cs))
            return MHD_YES;
        MHD_resume_connection(c);
        start_over(cs); /* queue full: the miss is read here */
    }
    return respond(c, cs);
}

/* Why a request's answer did not go out, for the log; NULL when it did. */
static const char *
unanswered(enum MHD_RequestTerminationCode toe, bool unstarted)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return unstarted ? "refused before the handler" : NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client closed";
    default:
        return "error";
    }
}

/*
 * The credentials of the request, in libmicrohttpd's connection memory,
 * which it frees or reuses without wiping: done with once the request
 * has completed.
 */
static void
wipe_credentials(struct MHD_Connection *c)
{
    static const struct {
        enum MHD_ValueKind kind;
        const char *name;
    } creds[] = {
        {MHD_HEADER_KIND, "Authorization"},
        {MHD_HEADER_KIND, "Cookie"},
        {MHD_HEADER_KIND, "X-CSRF-Token"},
        {MHD_COOKIE_KIND, "patd_session"},
    };
    const char *v;
    size_t i;

    for (i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
        v = MHD_lookup_connection_value(c, creds[i].kind, creds[i].name);
        if (v != NULL)
            hygiene_wipe_borrowed(v, strlen(v));
    }
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct conn_state *cs = *con_cls;
    bool cut = deadline_was_cut(c);

    (void)cls;
    deadline_answered(c);
    if (cs == NULL)
        return;
    /*
     * A request that never reached the handler (headers too large or
     * never finished, answered by libmicrohttpd itself or not at all) is
     * logged too, as not answered by patd.
     */
    if (!cs->started) {
        cs->r.path = cs->target;
        intake_client_ip(c, srv.cfg->trusted_proxies, cs->r.ip,
                         sizeof(cs->r.ip));
        access_log_write(&cs->r, &cs->start, 0,
                         cut ? "deadline" : unanswered(toe, true));
        wipe_credentials(c);
        OPENSSL_cleanse(cs, CS_SECRET_BYTES);
        free(cs);
        *con_cls = NULL;
        return;
    }
    access_log_write(&cs->r, &cs->start, cs->sent,
                     cut ? "deadline" : unanswered(toe, false));
    json_decref(cs->r.body);
    json_decref(cs->r.resp);
    free(cs->r.raw);
    body_free(cs);
    wipe_credentials(c);
    OPENSSL_cleanse(cs, CS_SECRET_BYTES);
    free(cs);
    *con_cls = NULL;
    atomic_fetch_sub(&srv.in_flight, 1);
}

/* A connection cut at the deadline before any request line: one line. */
static void
log_cut(const char *peer, const struct timespec *opened)
{
    struct req *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return;
    snprintf(r->ip, sizeof(r->ip), "%s", peer);
    r->path = "";
    access_log_write(r, opened, 0, "deadline");
    free(r);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    deadline_on_connection(c, socket_context, code, log_cut);
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
        pat_verifier_set_rate_nodes(srv.verifier, (int)cfg->rate_limit_nodes);
    }
    srv.logins = loginlimit_new((unsigned)cfg->login_max_tracked);
    srv.fails = ratelimit_new(65536);
    if (!metrics_routes_fit()) {
        fprintf(stderr, "patd: more routes than metrics.c counts\n");
        goto out;
    }
    if (srv.logins == NULL || srv.fails == NULL ||
        access_log_open(cfg->access_log) != 0 || maintenance_start(cfg) != 0 ||
        jwt_start(cfg) != 0 || deliver_start(cfg) != 0 ||
        notify_start(cfg) != 0)
        goto out;
    signal(SIGPIPE, SIG_IGN);
    if (cfg->workers > 0) {
        if (workers_start((size_t)cfg->workers, 4096) != 0)
            goto out;
        srv.workers_on = true;
        /* A miss on SQLite is a local read of microseconds: kept inline. */
        srv.defer_misses = strncmp(cfg->store, "postgres", 8) == 0;
    }
    if (deadline_start(cfg->request_deadline, cfg->idle_timeout) != 0)
        goto out;
    flags = MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_INTERNAL_POLLING_THREAD |
            (strcmp(cfg->mode, "epoll") == 0 ? MHD_USE_EPOLL : MHD_USE_POLL) |
            tls_mhd_flags();
    d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        pool_bytes(cfg), MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_ARRAY,
        tls_mhd_options(), MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "patd: cannot listen on '%s'\n", cfg->listen);
        goto out;
    }
    {
        char shown[1024]; /* the store URL without its password */
        fprintf(stderr, "patd: serving on %s://%s (store %s)\n",
                tls_on() ? "https" : "http", cfg->listen,
                admin_redact(cfg->store, shown, sizeof(shown)));
    }
    service_ready(cfg->listen);
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            service_reload();
            continue;
        }
        break;
    }
    service_stopping();
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
    /* No connection may stay suspended when the daemon stops. */
    workers_stop();
    if (d != NULL)
        MHD_stop_daemon(d);
    deadline_stop();
    maintenance_stop();
    jwt_stop();
    deliver_stop();
    notify_stop();
    close_stores();
    pat_verifier_free(srv.verifier); /* writes the pending usage */
    loginlimit_free(srv.logins);
    ratelimit_free(srv.fails);
    access_log_close();
    return status;
}
