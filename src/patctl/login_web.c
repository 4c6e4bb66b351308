/* SPDX-License-Identifier: MIT */
/*
 * `patctl login --web`: a new token approved in the browser, received
 * on a one-time loopback listener (RFC 8252 section 7.3, the way
 * `gh auth login --web` does it), with a code exchanged under PKCE so
 * that the token itself never sits in a URL or the browser's history
 * (src/patd/h_cli.c has the server's half).
 *
 * patctl listens on 127.0.0.1 at a port the system picks, opens
 * $BROWSER (else xdg-open) at the patd page that asks the signed-in
 * person to approve, and always prints the URL too. It serves exactly
 * one callback whose `state` matches, then calls POST /v1/cli/token with
 * the code and its verifier, and stores the token as `patctl login`
 * does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "ctl.h"
#include "login_web.h"
#include "write_all.h"
#include "banned.h"

#define STATE_LEN    32
#define VERIFIER_LEN 64
#define WAIT_S       300 /* how long the approval may take */

/* Random base64url characters, len of them, into out[len + 1]. */
static bool
random_text(char *out, size_t len)
{
    unsigned char raw[64];
    char enc[100];

    if (len > 80 || sodium_init() < 0)
        return false;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(enc, sizeof(enc), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    memcpy(out, enc, len);
    out[len] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(enc, sizeof(enc));
    return true;
}

static bool
challenge_of(const char *verifier, char *out, size_t cap)
{
    unsigned char md[32];
    unsigned n = 0;

    if (EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL) !=
            1 ||
        cap < sodium_base64_ENCODED_LEN(
                  32, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return false;
    sodium_bin2base64(out, cap, md, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

/* A listening socket on 127.0.0.1 at a port the system picks. */
static int
listen_loopback(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Runs $BROWSER or xdg-open on url without waiting for it to finish. */
static void
open_browser(const char *url)
{
    const char *b = getenv("BROWSER");
    pid_t pid = fork();

    if (pid != 0)
        return; /* the URL is printed either way */
    /* The child: its output must not mix with patctl's. */
    if (freopen("/dev/null", "w", stdout) == NULL ||
        freopen("/dev/null", "w", stderr) == NULL)
        _exit(127);
    if (b != NULL && b[0] != '\0')
        execlp("sh", "sh", "-c", "$BROWSER \"$1\"", "sh", url, (char *)NULL);
    else
        execlp("xdg-open", "xdg-open", url, (char *)NULL);
    _exit(127);
}

/* The value of key in query (up to a space, '&' or the end), decoded. */
static bool
query_value(CURL *cu, const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = query;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, "& ");
        if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            int n = 0;
            char *d =
                curl_easy_unescape(cu, p + kl + 1, (int)(len - kl - 1), &n);
            bool ok = d != NULL && (size_t)n < cap;
            if (ok)
                snprintf(out, cap, "%s", d);
            curl_free(d);
            return ok;
        }
        p += len;
        if (*p != '&')
            break;
        p++;
    }
    return false;
}

static void
answer(int fd, int status, const char *text)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
                     "charset=utf-8\r\nCache-Control: no-store\r\n"
                     "Referrer-Policy: no-referrer\r\nConnection: close\r\n"
                     "\r\n<!doctype html><title>patctl</title><p id=\"patctl\">"
                     "%s</p>",
                     status, status == 200 ? "OK" : "Bad Request", text);

    if (n > 0)
        (void)cli_write_all(fd, buf, (size_t)n);
}

/*
 * Serves callbacks until one carries state; its code goes to code[cap].
 * Requests for other paths get a 404 and are forgotten; a wrong state
 * ends the wait (someone else's page reached the listener).
 */
static int
wait_callback(int lfd, const char *state, char *code, size_t cap)
{
    time_t end = time(NULL) + WAIT_S;
    CURL *cu = curl_easy_init();
    int status = EXIT_REFUSED;

    if (cu == NULL)
        return cli_refuse("out of memory");
    while (time(NULL) < end) {
        struct pollfd p = {lfd, POLLIN, 0};
        char req[8192], got[128];
        ssize_t n;
        size_t used = 0;
        int fd;

        if (poll(&p, 1, 1000) <= 0)
            continue;
        fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        /* The request line is all that is read. */
        while (used < sizeof(req) - 1 && memchr(req, '\n', used) == NULL) {
            struct pollfd q = {fd, POLLIN, 0};
            if (poll(&q, 1, 5000) <= 0)
                break;
            n = read(fd, req + used, sizeof(req) - 1 - used);
            if (n <= 0)
                break;
            used += (size_t)n;
        }
        req[used] = '\0';
        if (strncmp(req, "GET /callback?", 14) != 0) {
            answer(fd, 404, "Not here.");
            close(fd);
            continue;
        }
        if (!query_value(cu, req + 14, "state", got, sizeof(got)) ||
            strlen(got) != strlen(state) ||
            CRYPTO_memcmp(got, state, strlen(state)) != 0) {
            answer(fd, 400, "This approval was not for this patctl.");
            close(fd);
            status = cli_refuse("the callback's state does not match; "
                                "nothing was stored");
            break;
        }
        if (!query_value(cu, req + 14, "code", code, cap)) {
            answer(fd, 400, "The approval carried no code.");
            close(fd);
            status = cli_refuse("the callback carried no code");
            break;
        }
        answer(fd, 200, "patctl has the approval. You can close this tab.");
        close(fd);
        status = EXIT_DONE;
        break;
    }
    if (status == EXIT_REFUSED && time(NULL) >= end)
        status = cli_refuse("no approval came within %d seconds", WAIT_S);
    curl_easy_cleanup(cu);
    return status;
}

/* The page to open: base + "/#/cli-login?..." */
static bool
approval_url(const struct login_web *w, const char *base, int port,
             const char *state, const char *challenge, char *out, size_t cap)
{
    CURL *cu = curl_easy_init();
    char host[128] = "", name[200], *sc, *nm;
    int n;

    if (cu == NULL)
        return false;
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "this computer");
    snprintf(name, sizeof(name), "patctl on %.60s %lld", host,
             (long long)time(NULL));
    sc = curl_easy_escape(cu, w->scopes, 0);
    nm = curl_easy_escape(cu, name, 0);
    n = snprintf(out, cap,
                 "%s/#/cli-login?port=%d&state=%s&code_challenge=%s&scope=%s"
                 "&days=%lld&name=%s",
                 base, port, state, challenge, sc ? sc : "",
                 w->days > 0 ? w->days : 0, nm ? nm : "");
    curl_free(sc);
    curl_free(nm);
    curl_easy_cleanup(cu);
    return n > 0 && (size_t)n < cap;
}

/* POST /v1/cli/token; the token into c->cfg.token. */
static int
exchange(struct cmd_ctx *c, const char *code, const char *verifier)
{
    struct http_res res;
    char err[CONFIG_URL_MAX + 512];
    json_t *body =
        json_pack("{s:s, s:s}", "code", code, "code_verifier", verifier);
    const char *tok;
    int status = EXIT_DONE;

    if (body == NULL)
        return cli_refuse("out of memory");
    if (!http_init(&c->http, c->cfg.url, NULL, err, sizeof(err))) {
        json_decref(body);
        return cli_refuse("%s", err);
    }
    c->connected = true;
    if (!http_request(&c->http, "POST", "/v1/cli/token", body, &res, err,
                      sizeof(err))) {
        json_decref(body);
        return cli_refuse("%s", err);
    }
    json_decref(body);
    if (res.status != 201) {
        ctl_report(&res);
        http_res_release(&res);
        return EXIT_REFUSED;
    }
    tok = json_string_value(json_object_get(res.body, "token"));
    if (tok == NULL || strlen(tok) >= sizeof(c->cfg.token))
        status = cli_refuse("the server's answer holds no token");
    else
        snprintf(c->cfg.token, sizeof(c->cfg.token), "%s", tok);
    http_res_release(&res);
    /* The next calls carry the new token. */
    http_release(&c->http);
    c->connected = false;
    return status;
}

int
login_web(struct cmd_ctx *c, const struct login_web *w)
{
    char state[STATE_LEN + 1], verifier[VERIFIER_LEN + 1], challenge[64];
    char url[CONFIG_URL_MAX + 1024], code[128];
    int lfd, port = 0, status;

    if (!random_text(state, STATE_LEN) ||
        !random_text(verifier, VERIFIER_LEN) ||
        !challenge_of(verifier, challenge, sizeof(challenge)))
        return cli_refuse("cannot make random values");
    lfd = listen_loopback(&port);
    if (lfd < 0)
        return cli_refuse("cannot listen on 127.0.0.1: %s", strerror(errno));
    if (!approval_url(w, c->cfg.url, port, state, challenge, url,
                      sizeof(url))) {
        close(lfd);
        return cli_refuse("the approval URL is too long");
    }
    fprintf(stderr,
            "Approve the new token in your browser. If it does not open, "
            "open this URL:\n  %s\nWaiting for the approval on "
            "127.0.0.1:%d...\n",
            url, port);
    open_browser(url);
    status = wait_callback(lfd, state, code, sizeof(code));
    close(lfd);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    if (status == EXIT_DONE)
        status = exchange(c, code, verifier);
    OPENSSL_cleanse(verifier, sizeof(verifier));
    OPENSSL_cleanse(code, sizeof(code));
    return status;
}
