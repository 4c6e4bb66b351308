/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue (see server.h): the daemon's start and graceful
 * stop, a store connection per worker thread, and the path of a request:
 * bounded accumulation of the body (413 beyond max_body_bytes), route
 * lookup, authentication (auth.c), body parsing (request.c), the
 * handler, the answer with its security headers, and one access-log line
 * (access_log.c). Nothing here knows the token format; tokens are checked
 * by libpat.
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

#include "access_log.h"
#include "loginlimit.h"
#include "admin_cmd.h"
#include "auth.h"
#include "intake.h"
#include "maintenance.h"
#include "metrics.h"
#include "ratelimit.h"
#include "request.h"
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

/* The body accumulated so far, as a JSON object or a form (request.h). */
static int
parse_body(struct conn_state *cs, bool form)
{
    return intake_parse_body(&cs->r, cs->body, cs->len, form);
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
        intake_client_ip(c, srv.cfg->trusted_proxies, cs->r.ip,
                         sizeof(cs->r.ip));
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
    access_log_write(&cs->r, &cs->start, cs->sent);
    json_decref(cs->r.body);
    json_decref(cs->r.resp);
    free(cs->r.raw);
    free(cs->body);
    free(cs);
    *con_cls = NULL;
    atomic_fetch_sub(&srv.in_flight, 1);
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
    }
    srv.logins = loginlimit_new((unsigned)cfg->login_max_tracked);
    srv.fails = ratelimit_new(65536);
    if (srv.logins == NULL || srv.fails == NULL ||
        access_log_open(cfg->access_log) != 0 || maintenance_start(cfg) != 0)
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
            access_log_reopen();
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
    maintenance_stop();
    close_stores();
    pat_verifier_free(srv.verifier); /* writes the pending usage */
    loginlimit_free(srv.logins);
    ratelimit_free(srv.fails);
    access_log_close();
    return status;
}
