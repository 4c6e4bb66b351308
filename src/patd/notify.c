/* SPDX-License-Identifier: MIT */
/*
 * Notices and mail (DESIGN.md section 12, docs/webhooks.md): a thread of
 * patd serve that, every [notify] interval, appends the expiry notices
 * that are due (pat_notices_scan: once per token and kind, whatever the
 * number of nodes), then reads the change feed from where it left off and
 * mails owners through SMTP (libcurl): one message a day listing their
 * expiring tokens (each notice in one digest: pat_notices_digest), and
 * one for each leak report that revoked a token and each retired secret
 * presented again. The store's mail_log makes each message once across
 * nodes (claimed before sending: a send that fails is not retried, and
 * says so on standard error). Messages name the token and its hint,
 * never a secret.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "hygiene.h"
#include "notify.h"
#include "stopper.h"
#include "banned.h"

#define DIGEST_MAX 100 /* tokens listed in one digest */
#define MAIL_MAX   65536

static struct {
    pthread_t thread;
    bool on;
    struct stopper stop;
    const struct patd_config *cfg;
    char password[256];
    int64_t cursor;
} nt = {
    .stop = STOPPER_INIT,
};

static atomic_ulong n_sent, n_failed, n_notices;

/* A message being uploaded to the SMTP server. */
struct upload {
    const char *p;
    size_t left;
};

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t len = size * n < u->left ? size * n : u->left;

    memcpy(buf, u->p, len);
    u->p += len;
    u->left -= len;
    return len;
}

/* Sends text (headers and body, CRLF lines) to rcpt; 0 or -1. */
static int
smtp_send(const char *rcpt, const char *text)
{
    const struct patd_config *c = nt.cfg;
    struct upload u = {text, strlen(text)};
    struct curl_slist *to = NULL;
    char url[300], from[300], errbuf[CURL_ERROR_SIZE] = "";
    CURLcode cc = CURLE_FAILED_INIT;
    CURL *e = curl_easy_init();

    snprintf(url, sizeof(url), "%s://%s:%ld",
             strcmp(c->smtp_tls, "tls") == 0 ? "smtps" : "smtp", c->smtp_host,
             c->smtp_port);
    snprintf(from, sizeof(from), "<%s>", c->smtp_from);
    to = curl_slist_append(NULL, rcpt);
    if (e != NULL && to != NULL) {
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        if (strcmp(c->smtp_tls, "starttls") == 0)
            curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        if (c->smtp_username[0]) {
            curl_easy_setopt(e, CURLOPT_USERNAME, c->smtp_username);
            curl_easy_setopt(e, CURLOPT_PASSWORD, nt.password);
        }
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, to);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, &u);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        cc = curl_easy_perform(e);
    }
    curl_slist_free_all(to);
    curl_easy_cleanup(e);
    if (cc == CURLE_OK) {
        atomic_fetch_add(&n_sent, 1);
        return 0;
    }
    atomic_fetch_add(&n_failed, 1);
    fprintf(stderr, "patd: mail to a token owner failed: %s\n",
            errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return -1;
}

/* Appends to a bounded message; false once it is full. */
static bool add(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - len) {
        buf[len] = '\0';
        return false;
    }
    return true;
}

/* Headers of a plain-text message to u. */
static void
headers(char *buf, size_t cap, const struct pat_user *u, const char *subject)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    buf[0] = '\0';
    add(buf, cap,
        "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Auto-Submitted: auto-generated\r\n\r\nHello %s,\r\n\r\n",
        date, nt.cfg->smtp_from, u->email, subject,
        u->display_name[0] ? u->display_name : u->username);
}

static bool
user_mailable(struct pat_store *st, const char *user_id, struct pat_user *u)
{
    return pat_user_get(st, user_id, u) == PAT_OK && u->email[0] != '\0' &&
           strchr(u->email, '\r') == NULL && strchr(u->email, '\n') == NULL;
}

/* A leak report revoked a token, or a retired secret was presented. */
static void
mail_event(struct pat_store *st, const struct pat_change *ch)
{
    bool leak = strcmp(ch->type, "token.leaked") == 0;
    char *msg = NULL;
    struct pat_token t;
    struct pat_user u;

    if (!user_mailable(st, ch->user_id, &u) ||
        pat_token_get(st, NULL, ch->token_id, &t) != PAT_OK ||
        pat_mail_once(st, ch->user_id, "event", ch->seq) != PAT_OK)
        return;
    msg = calloc(1, MAIL_MAX);
    if (msg == NULL)
        return;
    headers(msg, MAIL_MAX, &u,
            leak ? "Your token was reported leaked and revoked"
                 : "A retired secret of your token was used");
    if (leak)
        add(msg, MAIL_MAX,
            "Your token \"%s\" (ending in ...%s) was reported as leaked, "
            "for example by a secret scanner, and has been revoked.\r\n\r\n"
            "What to do: create a new token, put it where the old one was "
            "used, and find out where the old one was exposed.\r\n",
            t.name, t.hint);
    else
        add(msg, MAIL_MAX,
            "A retired secret of your token \"%s\" (current secret ending "
            "in ...%s) was presented again after the token was "
            "regenerated.\r\n\r\nWhat to do: something still uses the old "
            "secret, or someone else holds it. Find and update that place; "
            "if you do not recognise the use, revoke the token.\r\n",
            t.name, t.hint);
    smtp_send(u.email, msg);
    free(msg);
}

/* One digest for each owner with notices not yet mailed, once a day. */
static void
mail_digests(struct pat_store *st, int64_t day)
{
    char users[64][PAT_ID_LEN + 1], at[PAT_TIME_LEN + 1];
    struct pat_notice_line *lines = calloc(DIGEST_MAX, sizeof(*lines));
    size_t nu = 0, nl = 0, i, k;
    struct pat_user u;
    char *msg = malloc(MAIL_MAX);

    if (lines == NULL || msg == NULL ||
        pat_notices_mail_users(st, users, 64, &nu) != PAT_OK)
        nu = 0;
    for (i = 0; i < nu; i++) {
        if (!user_mailable(st, users[i], &u) ||
            pat_notices_digest(st, users[i], day, lines, DIGEST_MAX, &nl) !=
                PAT_OK ||
            nl == 0)
            continue;
        headers(msg, MAIL_MAX, &u, "Your access tokens expire soon");
        add(msg, MAIL_MAX,
            "These tokens of yours expire soon or have "
            "expired:\r\n\r\n");
        for (k = 0; k < nl; k++) {
            pat_time_format(lines[k].expires_at, at, sizeof(at));
            add(msg, MAIL_MAX, "- \"%s\" (ending in ...%s) %s %s\r\n",
                lines[k].name, lines[k].hint,
                strcmp(lines[k].kind, "expired") == 0 ? "expired at"
                                                      : "expires at",
                at);
        }
        add(msg, MAIL_MAX,
            "\r\nWhat to do: if a token is still needed, create a new one "
            "(or regenerate it) before it expires and replace it where it "
            "is used; otherwise nothing, it stops working by itself.\r\n");
        smtp_send(u.email, msg);
    }
    free(lines);
    free(msg);
}

/* Reads the feed from nt.cursor and mails what needs it. */
static int
mail_round(struct pat_store *st)
{
    struct pat_change *page = calloc(100, sizeof(*page));
    size_t n = 0, i;
    int rc = PAT_OK;

    if (page == NULL)
        return PAT_ENOMEM;
    do {
        rc = pat_changes_list(st, nt.cursor, page, 100, &n);
        for (i = 0; rc == PAT_OK && i < n; i++) {
            nt.cursor = page[i].seq;
            if (strcmp(page[i].type, "token.leaked") == 0 ||
                strcmp(page[i].type, "token.reuse_detected") == 0)
                mail_event(st, &page[i]);
        }
    } while (rc == PAT_OK && n == 100);
    free(page);
    if (rc == PAT_OK)
        mail_digests(st, pat_store_now(st) / nt.cfg->notify_day_seconds);
    return rc;
}

static void *
main_loop(void *arg)
{
    struct pat_store *st = NULL;
    char err[256] = "";
    bool mail = nt.cfg->smtp_host[0] != '\0';
    int64_t n = 0;
    int rc;

    (void)arg;
    do {
        if (st == NULL &&
            pat_store_open(nt.cfg->store, 0, &st, err, sizeof(err)) != PAT_OK) {
            st = NULL;
            continue;
        }
        /* Mail starts at the end of the feed: no mail about the past. */
        if (nt.cursor < 0 && pat_changes_last(st, &nt.cursor) != PAT_OK) {
            nt.cursor = -1;
            continue;
        }
        rc = pat_notices_scan(st, nt.cfg->notify_day_seconds, &n);
        if (rc == PAT_OK)
            atomic_fetch_add(&n_notices, (unsigned long)n);
        if (rc == PAT_OK && mail)
            rc = mail_round(st);
        if (rc != PAT_OK) {
            fprintf(stderr, "patd: notices: %s\n", pat_strerror(rc));
            pat_store_close(st);
            st = NULL;
        }
    } while (!stopper_wait(&nt.stop, nt.cfg->notify_interval * 1000L));
    pat_store_close(st);
    return NULL;
}

/* The SMTP password from the environment, else from its file. */
static int
load_password(const struct patd_config *cfg)
{
    snprintf(nt.password, sizeof(nt.password), "%s", cfg->smtp_password);
    if (nt.password[0] != '\0' || cfg->smtp_password_file[0] == '\0')
        return 0;
    if (hygiene_read_secret_line(cfg->smtp_password_file, nt.password,
                                 sizeof(nt.password)) != 0) {
        fprintf(stderr, "patd: cannot read smtp.password_file '%s'\n",
                cfg->smtp_password_file);
        return -1;
    }
    return 0;
}

int
notify_start(const struct patd_config *cfg)
{
    nt.cfg = cfg;
    stopper_reset(&nt.stop);
    nt.cursor = -1;
    if (cfg->smtp_host[0] != '\0' && cfg->smtp_from[0] == '\0') {
        fprintf(stderr, "patd: smtp.from is needed with smtp.host\n");
        return -1;
    }
    if (load_password(cfg) != 0)
        return -1;
    if (pthread_create(&nt.thread, NULL, main_loop, NULL) != 0)
        return -1;
    nt.on = true;
    return 0;
}

void
notify_stop(void)
{
    if (!nt.on)
        return;
    stopper_stop(&nt.stop);
    pthread_join(nt.thread, NULL);
    OPENSSL_cleanse(nt.password, sizeof(nt.password));
    nt.on = false;
}

void
notify_metrics(char *out, size_t cap)
{
    snprintf(out, cap,
             "# HELP patd_emails_total Mails to token owners by result.\n"
             "# TYPE patd_emails_total counter\n"
             "patd_emails_total{result=\"sent\"} %lu\n"
             "patd_emails_total{result=\"failed\"} %lu\n"
             "# HELP patd_notices_total Expiry notices this node wrote.\n"
             "# TYPE patd_notices_total counter\n"
             "patd_notices_total %lu\n",
             atomic_load(&n_sent), atomic_load(&n_failed),
             atomic_load(&n_notices));
}
