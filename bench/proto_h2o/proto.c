/* SPDX-License-Identifier: MIT */
/*
 * A prototype of patd's forward-auth path (GET /v1/auth with a Bearer
 * PAT) on libh2o-evloop 2.2.5 (Debian), for the HTTP-layer decision of
 * issue #10 (docs/internals/server.md, "HTTP layer: measured decision").
 * Not part of patd: bench/proto_h2o/build.sh builds it, bench/http_layer.sh
 * measures it beside patd and nginx.
 *
 * Each of --threads threads runs its own h2o event loop on its own
 * SO_REUSEPORT listening socket (the kernel spreads connections), and
 * checks the token with libpat's real verifier (include/pat/verify.h),
 * shared by all threads as in patd. The answer carries the headers
 * patd's carries (the five X-Pat-* identity headers and the three
 * security headers). What it leaves out compared with patd: the failure
 * limit's table read, metrics counters, and the strict framing checks
 * (libh2o gives the application no view of them, see server.md). With
 * --log FILE each thread formats a JSON line per request into its own
 * buffer, written when 64 KiB are full (as patd's access log).
 *
 *   proto --db URL --port N [--threads N] [--log FILE]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include <pat/err.h>
#include <pat/text.h>
#include <pat/verify.h>

static h2o_globalconf_t config;
static struct pat_verifier *verifier;
static int port;
static int log_fd = -1;

struct logbuf {
    char data[65536];
    size_t len;
};

static _Thread_local struct logbuf *tls_log;

static void
log_line(const char *path, size_t plen, int status, const char *ip,
         const char *token_id)
{
    char line[512];
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    if (log_fd < 0)
        return;
    if (tls_log == NULL && (tls_log = calloc(1, sizeof(*tls_log))) == NULL)
        return;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = snprintf(line, sizeof(line),
                 "{\"time\":\"%s\",\"method\":\"GET\",\"path\":\"%.*s\","
                 "\"status\":%d,\"bytes\":0,\"client\":\"%s\","
                 "\"token_id\":\"%s\"}\n",
                 when, (int)(plen > 200 ? 200 : plen), path, status, ip,
                 token_id);
    if (n <= 0 || (size_t)n >= sizeof(line))
        return;
    if (tls_log->len + (size_t)n > sizeof(tls_log->data)) {
        if (write(log_fd, tls_log->data, tls_log->len) < 0)
            perror("proto: log");
        tls_log->len = 0;
    }
    memcpy(tls_log->data + tls_log->len, line, (size_t)n);
    tls_log->len += (size_t)n;
}

static void
add(h2o_req_t *req, const char *name, const char *v)
{
    size_t n = strlen(v);
    h2o_iovec_t copy = h2o_strdup(&req->pool, n ? v : " ", n ? n : 1);

    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0,
                          NULL, copy.base, copy.len);
}

/* The value of name=... in the query (no percent-decoding: a prototype). */
static void
query_value(h2o_req_t *req, const char *name, char *out, size_t cap)
{
    const char *q, *end;
    size_t nl = strlen(name);

    out[0] = '\0';
    if (req->query_at == SIZE_MAX)
        return;
    q = req->path.base + req->query_at + 1;
    end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - q) > nl && memcmp(q, name, nl) == 0 &&
            q[nl] == '=') {
            size_t vl = (size_t)(stop - q) - nl - 1;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, q + nl + 1, vl);
            out[vl] = '\0';
            return;
        }
        q = stop + 1;
    }
}

static int
on_auth(h2o_handler_t *self, h2o_req_t *req)
{
    static h2o_generator_t none = {NULL, NULL};
    struct pat_verdict v;
    struct pat_check check = {NULL, NULL, NULL, false};
    struct sockaddr_storage ss;
    char ip[INET6_ADDRSTRLEN] = "-", scopes[256];
    const char *tok;
    size_t len;
    ssize_t at;
    int rc;

    (void)self;
    (void)none;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        !h2o_memis(req->path_normalized.base, req->path_normalized.len,
                   H2O_STRLIT("/v1/auth")))
        return -1;
    if (req->conn->callbacks->get_peername(req->conn, (void *)&ss) > 0 &&
        ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip,
                  sizeof(ip));
    query_value(req, "scope", scopes, sizeof(scopes));
    at = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    rc = PAT_EMALFORMED;
    memset(&v, 0, sizeof(v));
    if (at >= 0) {
        h2o_iovec_t *hv = &req->headers.entries[at].value;
        if (hv->len > 7 && strncasecmp(hv->base, "Bearer ", 7) == 0) {
            tok = hv->base + 7;
            len = hv->len - 7;
            check.ip = ip;
            check.scopes = scopes[0] ? scopes : NULL;
            rc = pat_verifier_check(verifier, tok, len, &check, &v);
        }
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    req->res.content_length = 0;
    if (rc == PAT_OK) {
        char exp[32] = "";
        if (v.expires_at != 0)
            pat_time_format(v.expires_at, exp, sizeof(exp));
        add(req, "x-pat-user-id", v.user_id);
        add(req, "x-pat-username", v.username);
        add(req, "x-pat-token-id", v.token_id);
        add(req, "x-pat-scopes", v.scopes);
        add(req, "x-pat-expires", exp);
        req->res.status = 200;
        req->res.reason = "OK";
    } else {
        h2o_add_header(&req->pool, &req->res.headers,
                       H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"patd\", "
                                  "error=\"invalid_token\""));
        req->res.status = rc == PAT_EINSUFFICIENT ? 403 : 401;
        req->res.reason =
            rc == PAT_EINSUFFICIENT ? "Forbidden" : "Unauthorized";
    }
    log_line(req->path.base, req->path.len, req->res.status, ip, v.token_id);
    h2o_send_inline(req, NULL, 0);
    return 0;
}

static int
on_health(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = 2;
    h2o_send_inline(req, "ok", 2);
    return 0;
}

struct loop {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
};

static void
on_accept(h2o_socket_t *listener, const char *err)
{
    struct loop *l = listener->data;
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    h2o_accept(&l->accept, sock);
}

static void *
run_loop(void *arg)
{
    struct loop *l = arg;
    struct sockaddr_in sa;
    h2o_socket_t *sock;
    int fd, on = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 4096) != 0) {
        perror("proto: listen");
        exit(1);
    }
    h2o_context_init(&l->ctx, h2o_evloop_create(), &config);
    l->accept.ctx = &l->ctx;
    l->accept.hosts = config.hosts;
    sock = h2o_evloop_socket_create(l->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = l;
    h2o_socket_read_start(sock, on_accept);
    while (h2o_evloop_run(l->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int
main(int argc, char **argv)
{
    struct pat_verifier_options vo = {1000000, 10, 60};
    const char *db = NULL;
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    h2o_handler_t *h;
    char err[512] = "";
    int threads = 2, i;
    pthread_t tid;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            port = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--log") == 0 &&
                 strcmp(argv[i + 1], "off") != 0)
            log_fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_APPEND, 0600);
    }
    if (db == NULL || port <= 0 || threads < 1) {
        fprintf(stderr, "usage: proto --db URL --port N [--threads N] "
                        "[--log FILE]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (pat_verifier_new(db, &vo, &verifier, err, sizeof(err)) != PAT_OK) {
        fprintf(stderr, "proto: %s\n", err);
        return 1;
    }
    h2o_config_init(&config);
    host = h2o_config_register_host(
        &config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/v1/auth", 0);
    h = h2o_create_handler(path, sizeof(*h));
    h->on_req = on_auth;
    path = h2o_config_register_path(host, "/healthz", 0);
    h = h2o_create_handler(path, sizeof(*h));
    h->on_req = on_health;
    for (i = 0; i < threads; i++) {
        struct loop *l = calloc(1, sizeof(*l));
        if (l == NULL || pthread_create(&tid, NULL, run_loop, l) != 0)
            return 1;
    }
    pause(); /* killed by the bench script */
    return 0;
}
