/* SPDX-License-Identifier: MIT */
/*
 * The access log (see access_log.h). Every worker thread writes to one
 * stream under a mutex, one whole line per write, flushed at once: a log
 * reader never sees half a line, and a crash loses no finished request.
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

#include "access_log.h"
#include "log_redact.h"
#include "banned.h"

/*
 * where and off are set by access_log_open before any request and are
 * constant while serving; f is swapped under lock by access_log_reopen.
 */
static struct {
    pthread_mutex_t lock;
    FILE *f;
    const char *where;
    bool off; /* where is "off": build no line at all */
} alog = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

void
access_log_write(const struct req *r, const struct timespec *start, size_t sent)
{
    if (alog.off) /* build nothing */
        return;
    struct timespec end;
    char when[PAT_TIME_LEN + 1], path[512];
    double ms;
    json_t *line;
    char *text;

    clock_gettime(CLOCK_MONOTONIC, &end);
    ms = (double)(end.tv_sec - start->tv_sec) * 1e3 +
         (double)(end.tv_nsec - start->tv_nsec) / 1e6;
    pat_time_format((int64_t)time(NULL), when, sizeof(when));
    log_path_redact(r->path, path, sizeof(path));
    line = json_pack("{s:s, s:s, s:s, s:i, s:I, s:f, s:s, s:s?, s:s?}", "time",
                     when, "method", r->method ? r->method : "-", "path", path,
                     "status", r->status, "bytes", (json_int_t)sent,
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
    pthread_mutex_lock(&alog.lock);
    if (alog.f != NULL) {
        fprintf(alog.f, "%s\n", text);
        fflush(alog.f);
    }
    pthread_mutex_unlock(&alog.lock);
    free(text);
}

int
access_log_open(const char *where)
{
    alog.where = where;
    alog.off = strcmp(where, "off") == 0;
    return access_log_reopen();
}

int
access_log_reopen(void)
{
    FILE *f = stderr;

    if (strcmp(alog.where, "off") == 0)
        f = NULL;
    else if (strcmp(alog.where, "-") != 0) {
        f = fopen(alog.where, "ae");
        if (f == NULL) {
            fprintf(stderr, "patd: cannot open '%s': %s\n", alog.where,
                    strerror(errno));
            return -1;
        }
    }
    pthread_mutex_lock(&alog.lock);
    if (alog.f != NULL && alog.f != stderr)
        fclose(alog.f);
    alog.f = f;
    pthread_mutex_unlock(&alog.lock);
    return 0;
}

void
access_log_close(void)
{
    if (alog.f != NULL && alog.f != stderr)
        fclose(alog.f);
    alog.f = NULL;
}
