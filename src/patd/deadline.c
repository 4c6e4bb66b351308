/* SPDX-License-Identifier: MIT */
/*
 * The whole-request deadline (see deadline.h). Each connection has a
 * watch, linked in one list under a mutex, with the time by which it
 * must have delivered what it owes (0: nothing owed). The request path
 * only stores that time (relaxed atomics, no lock); a thread wakes every
 * 100 ms and shuts down the socket of each watch past its time.
 *
 * Why the descriptor is safe to shut down: libmicrohttpd sends the
 * "closed" notification, which unlinks the watch under the same mutex,
 * before it closes the socket (daemon.c, MHD_cleanup_connections), so a
 * linked watch's descriptor is still that connection's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "deadline.h"
#include "banned.h"

struct watch {
    struct watch *prev, *next;
    int fd;
    atomic_llong due_ms; /* 0: nothing owed */
    atomic_bool cut;
    bool had_request; /* a request line arrived on it (request path only) */
    char peer[INET6_ADDRSTRLEN];
    struct timespec opened;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct watch *head;
    pthread_t thread;
    bool running, stop;
    long long deadline_ms, idle_ms;
} dl = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct watch *
watch_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci;

    if (!dl.running)
        return NULL;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static void *
reaper(void *arg)
{
    struct timespec until;
    struct watch *w;
    long long now, due;

    (void)arg;
    pthread_mutex_lock(&dl.lock);
    while (!dl.stop) {
        now = now_ms();
        for (w = dl.head; w != NULL; w = w->next) {
            due = atomic_load_explicit(&w->due_ms, memory_order_relaxed);
            if (due == 0 || due > now)
                continue;
            atomic_store_explicit(&w->due_ms, 0, memory_order_relaxed);
            atomic_store(&w->cut, true);
            /* libmicrohttpd reads the end and closes it in its thread. */
            shutdown(w->fd, SHUT_RDWR);
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&dl.wake, &dl.lock, &until);
    }
    pthread_mutex_unlock(&dl.lock);
    return NULL;
}

int
deadline_start(long request_deadline, long idle_timeout)
{
    dl.deadline_ms = (long long)request_deadline * 1000;
    dl.idle_ms = (long long)idle_timeout * 1000;
    dl.stop = false;
    if (pthread_create(&dl.thread, NULL, reaper, NULL) != 0)
        return -1;
    dl.running = true;
    return 0;
}

void
deadline_stop(void)
{
    if (!dl.running)
        return;
    pthread_mutex_lock(&dl.lock);
    dl.stop = true;
    pthread_cond_signal(&dl.wake);
    pthread_mutex_unlock(&dl.lock);
    pthread_join(dl.thread, NULL);
    dl.running = false;
}

/* The peer's address as text, for a line about a connection cut early. */
static void
peer_text(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    snprintf(out, cap, "-");
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

void
deadline_on_connection(struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code,
                       void (*log_cut)(const char *peer,
                                       const struct timespec *opened))
{
    const union MHD_ConnectionInfo *ci;
    struct watch *w;

    if (!dl.running)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        w = calloc(1, sizeof(*w));
        if (w == NULL || ci == NULL) {
            free(w); /* not watched: the idle timeout still holds */
            return;
        }
        w->fd = ci->connect_fd;
        peer_text(c, w->peer, sizeof(w->peer));
        clock_gettime(CLOCK_MONOTONIC, &w->opened);
        atomic_init(&w->due_ms, now_ms() + dl.deadline_ms);
        atomic_init(&w->cut, false);
        pthread_mutex_lock(&dl.lock);
        w->next = dl.head;
        if (dl.head != NULL)
            dl.head->prev = w;
        dl.head = w;
        pthread_mutex_unlock(&dl.lock);
        *socket_context = w;
        return;
    }
    w = *socket_context;
    if (w == NULL)
        return;
    pthread_mutex_lock(&dl.lock);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        dl.head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&dl.lock);
    *socket_context = NULL;
    if (atomic_load(&w->cut) && !w->had_request && log_cut != NULL)
        log_cut(w->peer, &w->opened);
    free(w);
}

void
deadline_request_line(struct MHD_Connection *c)
{
    struct watch *w = watch_of(c);

    if (w == NULL)
        return;
    /* The first request's time runs from the connection's opening. */
    if (w->had_request)
        atomic_store_explicit(&w->due_ms, now_ms() + dl.deadline_ms,
                              memory_order_relaxed);
    w->had_request = true;
}

void
deadline_arrived(struct MHD_Connection *c)
{
    struct watch *w = watch_of(c);

    if (w != NULL)
        atomic_store_explicit(&w->due_ms, 0, memory_order_relaxed);
}

void
deadline_answered(struct MHD_Connection *c)
{
    struct watch *w = watch_of(c);

    if (w != NULL && !atomic_load(&w->cut))
        atomic_store_explicit(&w->due_ms, now_ms() + dl.idle_ms,
                              memory_order_relaxed);
}

bool
deadline_was_cut(struct MHD_Connection *c)
{
    struct watch *w = watch_of(c);

    return w != NULL && atomic_load(&w->cut);
}
