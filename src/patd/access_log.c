/* SPDX-License-Identifier: MIT */
/*
 * The access log (see access_log.h), written the way nginx writes a
 * buffered log: each thread formats its lines into a fixed buffer of its
 * own, with no allocation and no lock shared with other threads, and
 * writes the buffer to the file in one write(2) when it is nearly full or
 * a second old (a flusher thread sees to idle threads), and at reopen and
 * shutdown. A log reader never sees half a line; a crash loses at most
 * the last second of lines (as with nginx's `buffer=` and `flush=`).
 * Every token-shaped part of the path, as sent or percent-decoded, is
 * written as [token] (log_redact.c), so a token sent in a URL by mistake
 * does not end up in log files.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "access_log.h"
#include "log_redact.h"
#include "banned.h"

#define BUF_SIZE 65536 /* per thread, like nginx's buffer=64k */
#define LINE_MAX 2048  /* one line at most; the path is cut to fit */
#define FLUSH_MS 1000  /* flush=1s */
#define BUFS_MAX 256   /* threads that log */

/*
 * One thread's lines not yet written. lock guards len and first (the
 * owner appends, the flusher and reopen write it out).
 */
struct buf {
    pthread_mutex_t lock;
    size_t len;
    int64_t first; /* monotonic ms of the oldest line held; 0: none */
    char data[BUF_SIZE];
};

/*
 * where and off are set by access_log_open before any request and are
 * constant while serving; fd is swapped under lock by access_log_reopen
 * (a buffer is written with lock held, so it goes to one file whole).
 * bufs[0..nbufs) every thread's buffer (under lock).
 */
static struct {
    pthread_mutex_t lock;
    int fd; /* -1: none */
    const char *where;
    bool off; /* where is "off": build no line at all */
    struct buf *bufs[BUFS_MAX];
    size_t nbufs;
    pthread_t flusher;
    bool flusher_on, stop;
    pthread_cond_t cond;
} alog = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .fd = -1,
    .cond = PTHREAD_COND_INITIALIZER,
};

static _Thread_local struct buf *tls_buf;

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of p, retrying short writes; the log is best effort. */
static void
write_all_fd(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Writes b out; b->lock held. */
static void
buf_flush_locked(struct buf *b)
{
    if (b->len == 0)
        return;
    pthread_mutex_lock(&alog.lock);
    if (alog.fd >= 0)
        write_all_fd(alog.fd, b->data, b->len);
    pthread_mutex_unlock(&alog.lock);
    b->len = 0;
    b->first = 0;
}

/* This thread's buffer, made on its first line; NULL: log unbuffered. */
static struct buf *
my_buf(void)
{
    struct buf *b = tls_buf;

    if (b != NULL)
        return b;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    pthread_mutex_init(&b->lock, NULL);
    pthread_mutex_lock(&alog.lock);
    if (alog.nbufs < BUFS_MAX) {
        alog.bufs[alog.nbufs++] = b;
        tls_buf = b;
    }
    pthread_mutex_unlock(&alog.lock);
    if (tls_buf == NULL) {
        pthread_mutex_destroy(&b->lock);
        free(b);
    }
    return tls_buf;
}

/* Writes out every buffer (the flusher, reopen, close). */
static void
flush_all(bool only_old)
{
    int64_t now = mono_ms();
    size_t i, n;

    pthread_mutex_lock(&alog.lock);
    n = alog.nbufs;
    pthread_mutex_unlock(&alog.lock);
    for (i = 0; i < n; i++) {
        struct buf *b = alog.bufs[i]; /* entries are never removed */
        pthread_mutex_lock(&b->lock);
        if (!only_old || (b->first != 0 && now - b->first >= FLUSH_MS))
            buf_flush_locked(b);
        pthread_mutex_unlock(&b->lock);
    }
}

static void *
flusher_main(void *arg)
{
    struct timespec until;
    bool stop = false;

    (void)arg;
    while (!stop) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&alog.lock);
        if (!alog.stop)
            pthread_cond_timedwait(&alog.cond, &alog.lock, &until);
        stop = alog.stop;
        pthread_mutex_unlock(&alog.lock);
        flush_all(!stop);
    }
    return NULL;
}

/* Appends s to out[cap] at *w, JSON-escaping backslashes and quotes. */
static void
put_str(char *out, size_t cap, size_t *w, const char *s)
{
    for (; *s != '\0' && *w + 2 < cap; s++) {
        if (*s == '"' || *s == '\\')
            out[(*w)++] = '\\';
        out[(*w)++] = *s;
    }
}

static void
put_raw(char *out, size_t cap, size_t *w, const char *s)
{
    size_t n = strlen(s);

    if (*w + n >= cap)
        n = cap - *w - 1;
    memcpy(out + *w, s, n);
    *w += n;
}

/* A string member, or null when v is NULL. */
static void
put_member(char *out, size_t cap, size_t *w, const char *key, const char *v)
{
    put_raw(out, cap, w, key);
    if (v == NULL) {
        put_raw(out, cap, w, "null");
        return;
    }
    put_raw(out, cap, w, "\"");
    put_str(out, cap, w, v);
    put_raw(out, cap, w, "\"");
}

/* Formats r's line (ending in a newline) into out; returns its length. */
static size_t
format_line(const struct req *r, const struct timespec *start, size_t sent,
            const char *unanswered, char *out, size_t cap)
{
    struct timespec end;
    char when[PAT_TIME_LEN + 1], path[512], nums[96], method[24];
    size_t w = 0;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &end);
    ms = (double)(end.tv_sec - start->tv_sec) * 1e3 +
         (double)(end.tv_nsec - start->tv_nsec) / 1e6;
    pat_time_format((int64_t)time(NULL), when, sizeof(when));
    log_path_redact(r->path, path, sizeof(path));
    log_path_redact(r->method ? r->method : "-", method, sizeof(method));
    put_member(out, cap, &w, "{\"time\":", when);
    put_member(out, cap, &w, ",\"method\":", method);
    put_member(out, cap, &w, ",\"path\":", path);
    snprintf(nums, sizeof(nums),
             ",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.6f", r->status,
             sent, ms);
    put_raw(out, cap, &w, nums);
    put_member(out, cap, &w, ",\"client\":", r->ip);
    put_member(out, cap, &w, ",\"user_id\":", r->authed ? r->user.id : NULL);
    put_member(out, cap, &w, ",\"token_id\":",
               r->authed == AUTHED_TOKEN ? r->token.token_id : NULL);
    if (unanswered != NULL)
        put_member(out, cap, &w, ",\"unanswered\":", unanswered);
    /* The line always ends well: cap leaves room for "}\n". */
    out[w++] = '}';
    out[w++] = '\n';
    return w;
}

void
access_log_write(const struct req *r, const struct timespec *start, size_t sent,
                 const char *unanswered)
{
    char line[LINE_MAX];
    struct buf *b;
    size_t n;

    if (alog.off) /* build nothing */
        return;
    n = format_line(r, start, sent, unanswered, line, sizeof(line) - 2);
    b = my_buf();
    if (b == NULL) {
        pthread_mutex_lock(&alog.lock);
        if (alog.fd >= 0)
            write_all_fd(alog.fd, line, n);
        pthread_mutex_unlock(&alog.lock);
        return;
    }
    pthread_mutex_lock(&b->lock);
    if (b->len + n > sizeof(b->data))
        buf_flush_locked(b);
    memcpy(b->data + b->len, line, n);
    b->len += n;
    if (b->first == 0)
        b->first = mono_ms();
    else if (mono_ms() - b->first >= FLUSH_MS)
        buf_flush_locked(b);
    pthread_mutex_unlock(&b->lock);
}

int
access_log_open(const char *where)
{
    alog.where = where;
    alog.off = strcmp(where, "off") == 0;
    if (access_log_reopen() != 0)
        return -1;
    if (!alog.off &&
        pthread_create(&alog.flusher, NULL, flusher_main, NULL) == 0)
        alog.flusher_on = true;
    return 0;
}

int
access_log_reopen(void)
{
    int fd = STDERR_FILENO;

    if (strcmp(alog.where, "off") == 0)
        fd = -1;
    else if (strcmp(alog.where, "-") != 0) {
        fd = open(alog.where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            fprintf(stderr, "patd: cannot open '%s': %s\n", alog.where,
                    strerror(errno));
            return -1;
        }
    }
    /* What was logged before the reopen goes to the file it was meant for. */
    flush_all(false);
    pthread_mutex_lock(&alog.lock);
    if (alog.fd >= 0 && alog.fd != STDERR_FILENO)
        close(alog.fd);
    alog.fd = fd;
    pthread_mutex_unlock(&alog.lock);
    return 0;
}

void
access_log_close(void)
{
    size_t i;

    if (alog.flusher_on) {
        pthread_mutex_lock(&alog.lock);
        alog.stop = true;
        pthread_cond_broadcast(&alog.cond);
        pthread_mutex_unlock(&alog.lock);
        pthread_join(alog.flusher, NULL);
        alog.flusher_on = false;
    }
    flush_all(false);
    if (alog.fd >= 0 && alog.fd != STDERR_FILENO)
        close(alog.fd);
    alog.fd = -1;
    for (i = 0; i < alog.nbufs; i++) {
        pthread_mutex_destroy(&alog.bufs[i]->lock);
        free(alog.bufs[i]);
    }
    alog.nbufs = 0;
}
