/* SPDX-License-Identifier: MIT */
/*
 * The webhook sender of patd serve (docs/webhooks.md): one thread of its
 * own, never an HTTP thread, with its own store handle and a libcurl
 * multi handle. Each round it claims the endpoints that are due (a lease
 * in the store, so one node works an endpoint at a time), takes the next
 * message of each (one-offs first, then the feed in order), sends them
 * all at once, signed per Standard Webhooks, and records each outcome,
 * which moves the endpoint on or schedules its retry. An endpoint has at
 * most one request in flight, which is what keeps its order.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "deliver.h"
#include "stopper.h"
#include "model_json.h"
#include "banned.h"

#define MAX_PARALLEL 64

struct job {
    struct pat_webhook w;
    struct pat_webhook_msg msg;
    struct pat_webhook_attempt a;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    size_t resp_len;
    int64_t start_ms;
    char errbuf[CURL_ERROR_SIZE];
};

static struct {
    pthread_t thread;
    bool on;
    struct stopper stop;
    const struct patd_config *cfg;
    char node[PAT_WEBHOOK_NODE_MAX + 1];
    struct job jobs[MAX_PARALLEL];
    struct pat_webhook claimed[MAX_PARALLEL];
    struct pat_webhook_outcome out[MAX_PARALLEL];
} d = {
    .stop = STOPPER_INIT,
};

/* Counters for /metrics; the gauges are read by the sender each round. */
static atomic_ulong n_ok, n_http, n_timeout, n_error;
static atomic_long g_waiting = -1, g_oldest_at;

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
deliver_sign(const char *secret, const char *msg_id, long long ts,
             const char *body, size_t body_len, char *out, size_t cap)
{
    unsigned char key[128], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    size_t key_len = 0, hn;
    char *signed_part = NULL;
    int n, rc = -1;

    if (strncmp(secret, "whsec_", 6) != 0 ||
        sodium_base642bin(key, sizeof(key), secret + 6, strlen(secret + 6),
                          NULL, &key_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        goto out;
    /* msg_id "." timestamp "." body: the exact bytes that are sent. */
    hn = strlen(msg_id) + 24;
    signed_part = malloc(hn + body_len + 1);
    if (signed_part == NULL)
        goto out;
    n = snprintf(signed_part, hn, "%s.%lld.", msg_id, ts);
    if (n < 0 || (size_t)n >= hn)
        goto out;
    memcpy(signed_part + n, body, body_len);
    if (HMAC(EVP_sha256(), key, (int)key_len,
             (const unsigned char *)signed_part, (size_t)n + body_len, mac,
             &mac_len) == NULL)
        goto out;
    if (cap <
        3 + sodium_base64_ENCODED_LEN(mac_len, sodium_base64_VARIANT_ORIGINAL))
        goto out;
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, cap - 3, mac, mac_len,
                      sodium_base64_VARIANT_ORIGINAL);
    rc = 0;
out:
    free(signed_part);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* The body of a feed row: {type, timestamp, data}, data the feed item. */
static char *
event_body(const struct pat_change *ch)
{
    char at[PAT_TIME_LEN + 1];
    json_t *o;
    char *s;

    pat_time_format(ch->at, at, sizeof(at));
    o = json_pack("{s:s, s:s, s:o}", "type", ch->type, "timestamp", at, "data",
                  render_change(ch));
    if (o == NULL)
        return NULL;
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Keeps the first PAT_WEBHOOK_RESPONSE_MAX bytes, printable only. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct job *j = arg;
    size_t len = size * n, i;

    for (i = 0; i < len && j->resp_len < PAT_WEBHOOK_RESPONSE_MAX; i++) {
        unsigned char c = (unsigned char)p[i];
        j->a.response[j->resp_len++] =
            (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? (char)c : '?';
    }
    j->a.response[j->resp_len] = '\0';
    return len;
}

static void
job_clear(struct job *j)
{
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    free(j->body);
    memset(j, 0, sizeof(*j));
}

static struct curl_slist *
add_header(struct curl_slist *l, bool *fail, const char *name, const char *v)
{
    char line[256];
    struct curl_slist *n;

    /* "name:" with no value is how libcurl leaves a header out. */
    snprintf(line, sizeof(line), v[0] ? "%s: %s" : "%s:%s", name, v);
    n = curl_slist_append(l, line);
    if (n == NULL)
        *fail = true;
    return n ? n : l;
}

/*
 * Builds the request of job j: body, headers and signature. Returns 0,
 * or -1 with the attempt recorded as an error that needs no HTTP.
 */
static int
job_prepare(struct pat_store *st, struct job *j)
{
    char secret[PAT_WEBHOOK_SECRET_MAX + 1] = "", sig[128], ts[24];
    long long t = (long long)(now_ms() / 1000);
    bool fail = false;

    if (j->msg.body[0] != '\0')
        j->body = strdup(j->msg.body);
    else if (j->msg.change.seq > 0)
        j->body = event_body(&j->msg.change);
    else {
        snprintf(j->a.error, sizeof(j->a.error),
                 "the event was pruned from the feed");
        return -1;
    }
    if (j->body == NULL ||
        pat_webhook_secret(st, j->w.id, secret, sizeof(secret)) != PAT_OK ||
        deliver_sign(secret, j->msg.msg_id, t, j->body, strlen(j->body), sig,
                     sizeof(sig)) != 0) {
        OPENSSL_cleanse(secret, sizeof(secret));
        snprintf(j->a.error, sizeof(j->a.error), "cannot sign the message");
        return -1;
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    snprintf(ts, sizeof(ts), "%lld", t);
    j->hdrs = add_header(j->hdrs, &fail, "content-type", "application/json");
    j->hdrs = add_header(j->hdrs, &fail, "user-agent", "patd-webhooks/1");
    j->hdrs = add_header(j->hdrs, &fail, "webhook-id", j->msg.msg_id);
    j->hdrs = add_header(j->hdrs, &fail, "webhook-timestamp", ts);
    j->hdrs = add_header(j->hdrs, &fail, "webhook-signature", sig);
    j->hdrs = add_header(j->hdrs, &fail, "expect", "");
    j->easy = curl_easy_init();
    if (fail || j->easy == NULL) {
        snprintf(j->a.error, sizeof(j->a.error), "out of memory");
        return -1;
    }
    curl_easy_setopt(j->easy, CURLOPT_URL, j->w.url);
    curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(j->body));
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS,
                     d.cfg->webhook_timeout * 1000L);
    curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (d.cfg->webhook_timeout < 5 ? d.cfg->webhook_timeout : 5) *
                         1000L);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    return 0;
}

/* Fills the attempt of a finished transfer. */
static void
job_result(struct job *j, CURLcode cc)
{
    long status = 0;

    j->a.latency_ms = now_ms() - j->start_ms;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    j->a.status = (int)status;
    if (status == 429 || status == 503) {
        curl_off_t after = 0;
        if (curl_easy_getinfo(j->easy, CURLINFO_RETRY_AFTER, &after) ==
                CURLE_OK &&
            after > 0)
            j->a.retry_after_ms = (int64_t)after * 1000;
    }
    if (cc == CURLE_OK && status >= 200 && status <= 299) {
        snprintf(j->a.result, sizeof(j->a.result), "ok");
        atomic_fetch_add(&n_ok, 1);
    } else if (cc == CURLE_OK) {
        snprintf(j->a.result, sizeof(j->a.result), "http_error");
        atomic_fetch_add(&n_http, 1);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(j->a.result, sizeof(j->a.result), "timeout");
        snprintf(j->a.error, sizeof(j->a.error), "no answer within %ld s",
                 d.cfg->webhook_timeout);
        atomic_fetch_add(&n_timeout, 1);
    } else {
        snprintf(j->a.result, sizeof(j->a.result), "error");
        snprintf(j->a.error, sizeof(j->a.error), "%s",
                 j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
        atomic_fetch_add(&n_error, 1);
    }
}

/* Runs the transfers added to m until all are done (or stop). */
static void
run_multi(CURLM *m)
{
    int running = 1, left;
    CURLMsg *msg;

    while (running > 0 && !stopper_stopping(&d.stop)) {
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            struct job *j = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            if (j != NULL)
                job_result(j, msg->data.result);
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 200, NULL);
    }
}

/* Records j's attempt; the lease may have been lost meanwhile. */
static void
job_record(struct pat_store *st, struct job *j)
{
    int rc = pat_webhook_done(st, d.node, &j->w, &j->msg, &j->a,
                              d.cfg->webhook_backoff_scale);

    if (rc == PAT_ECONFLICT)
        fprintf(stderr, "patd: webhook %s: lease lost, attempt not kept\n",
                j->w.id);
    else if (rc != PAT_OK)
        fprintf(stderr, "patd: webhook %s: cannot record an attempt: %s\n",
                j->w.id, pat_strerror(rc));
}

/*
 * One round: claim, send, record. Returns how many messages were sent,
 * or -1 when the store failed (the handle is then reopened).
 */
static int
round_once(struct pat_store *st, CURLM *m)
{
    size_t n = 0, i, nj = 0;
    int64_t lease = d.cfg->webhook_timeout * 2000L + 10000;
    int rc, sent = 0;

    rc = pat_webhook_claim(st, d.node, now_ms(), lease, d.claimed,
                           (size_t)d.cfg->webhook_concurrency, &n);
    if (rc != PAT_OK)
        return -1;
    for (i = 0; i < n; i++) {
        struct job *j = &d.jobs[nj];
        memset(j, 0, sizeof(*j));
        j->w = d.claimed[i];
        rc = pat_webhook_next(st, &j->w, &j->msg);
        if (rc == PAT_ENOTFOUND) {
            pat_webhook_skip(st, d.node, &j->w, j->msg.skip_to);
            pat_webhook_release(st, d.node, j->w.id);
            continue;
        }
        if (rc != PAT_OK)
            return -1;
        j->a.at_ms = j->start_ms = now_ms();
        if (job_prepare(st, j) != 0) {
            snprintf(j->a.result, sizeof(j->a.result), "error");
            atomic_fetch_add(&n_error, 1);
            job_record(st, j);
            job_clear(j);
            continue;
        }
        curl_multi_add_handle(m, j->easy);
        nj++;
    }
    if (nj > 0)
        run_multi(m);
    rc = PAT_OK;
    /* The round's outcomes are recorded in one transaction. */
    for (i = 0; i < nj; i++) {
        struct job *j = &d.jobs[i];
        curl_multi_remove_handle(m, j->easy);
        if (j->a.result[0] != '\0')
            d.out[sent++] =
                (struct pat_webhook_outcome){&j->w, &j->msg, &j->a, PAT_OK};
    }
    if (sent > 0) {
        rc = pat_webhook_done_many(st, d.node, d.out, (size_t)sent,
                                   d.cfg->webhook_backoff_scale);
        if (rc != PAT_OK)
            fprintf(stderr, "patd: webhooks: cannot record attempts: %s\n",
                    pat_strerror(rc));
        for (i = 0; rc == PAT_OK && i < (size_t)sent; i++) {
            if (d.out[i].rc == PAT_ECONFLICT)
                fprintf(stderr,
                        "patd: webhook %s: lease lost, attempt "
                        "not kept\n",
                        d.out[i].w->id);
        }
    }
    for (i = 0; i < nj; i++)
        job_clear(&d.jobs[i]);
    return rc == PAT_OK ? sent : -1;
}

static void
update_gauges(struct pat_store *st)
{
    int64_t waiting = 0, oldest = 0;

    if (pat_webhook_stats(st, &waiting, &oldest) == PAT_OK) {
        atomic_store(&g_waiting, (long)waiting);
        atomic_store(&g_oldest_at, (long)oldest);
    }
}

static void *
main_loop(void *arg)
{
    struct pat_store *st = NULL;
    CURLM *m = curl_multi_init();
    int64_t gauges_at = 0;
    char err[256];
    int sent;

    (void)arg;
    /*
     * Delivery is background work: on a busy node the request threads
     * come first (Linux: a thread's own nice value).
     */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    while (m != NULL && !stopper_stopping(&d.stop)) {
        if (st == NULL &&
            pat_store_open(d.cfg->store, 0, &st, err, sizeof(err)) != PAT_OK) {
            st = NULL;
            if (stopper_wait(&d.stop, 2000))
                break;
            continue;
        }
        sent = round_once(st, m);
        if (now_ms() - gauges_at >= 5000) {
            update_gauges(st);
            gauges_at = now_ms();
        }
        if (sent < 0) {
            pat_store_close(st);
            st = NULL;
        }
        if (sent <= 0 && stopper_wait(&d.stop, d.cfg->webhook_poll_ms))
            break;
    }
    curl_multi_cleanup(m);
    pat_store_close(st);
    return NULL;
}

int
deliver_start(const struct patd_config *cfg)
{
    char host[40] = "node", rnd[9];

    if (!cfg->webhook_enabled)
        return 0;
    d.cfg = cfg;
    stopper_reset(&d.stop);
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    if (pat_random_base62(rnd, 8) != PAT_OK)
        return -1;
    rnd[8] = '\0';
    snprintf(d.node, sizeof(d.node), "%s:%ld:%s", host, (long)getpid(), rnd);
    if (pthread_create(&d.thread, NULL, main_loop, NULL) != 0)
        return -1;
    d.on = true;
    return 0;
}

void
deliver_stop(void)
{
    if (!d.on)
        return;
    stopper_stop(&d.stop);
    pthread_join(d.thread, NULL);
    d.on = false;
}

void
deliver_metrics(char *out, size_t cap)
{
    long waiting = atomic_load(&g_waiting), oldest = atomic_load(&g_oldest_at);
    long age = oldest > 0 ? (long)(now_ms() / 1000) - oldest : 0;

    snprintf(out, cap,
             "# HELP patd_webhook_deliveries_total Webhook delivery attempts "
             "by result.\n# TYPE patd_webhook_deliveries_total counter\n"
             "patd_webhook_deliveries_total{result=\"ok\"} %lu\n"
             "patd_webhook_deliveries_total{result=\"http_error\"} %lu\n"
             "patd_webhook_deliveries_total{result=\"timeout\"} %lu\n"
             "patd_webhook_deliveries_total{result=\"error\"} %lu\n"
             "# HELP patd_webhook_queue_depth Feed rows not yet delivered to "
             "enabled endpoints (-1: not measured yet).\n"
             "# TYPE patd_webhook_queue_depth gauge\n"
             "patd_webhook_queue_depth %ld\n"
             "# HELP patd_webhook_oldest_undelivered_seconds Age of the "
             "oldest of them.\n"
             "# TYPE patd_webhook_oldest_undelivered_seconds gauge\n"
             "patd_webhook_oldest_undelivered_seconds %ld\n",
             atomic_load(&n_ok), atomic_load(&n_http), atomic_load(&n_timeout),
             atomic_load(&n_error), waiting, age < 0 ? 0 : age);
}
