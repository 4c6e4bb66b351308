/* SPDX-License-Identifier: MIT */
/*
 * The whole-request deadline (slowloris). libmicrohttpd 0.9.75 has only
 * an idle timeout, which every byte restarts, so a client sending one
 * header byte a second holds a connection for as long as it likes. patd
 * watches every connection from libmicrohttpd's connection notification
 * and shuts down the socket of one whose request has not arrived in full
 * in time; libmicrohttpd then sees the connection end and closes it.
 *
 * A request must arrive whole (request line, headers, body) within
 * [server] request_deadline seconds of its start: the connection's
 * opening for the first request on it, the arrival of its request line
 * for a later one (libmicrohttpd shows nothing earlier). Between an
 * answer and the next request line a connection has idle_timeout
 * seconds, counted from the answer, so a request line trickled on a kept
 * connection is cut too.
 */
#ifndef PATD_DEADLINE_H
#define PATD_DEADLINE_H

#include <stdbool.h>
#include <time.h>

#include <microhttpd.h>

/* Starts the thread that cuts late connections. 0, or -1. */
int deadline_start(long request_deadline, long idle_timeout);

/* Stops it (after the daemon has stopped). */
void deadline_stop(void);

/*
 * libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback. On close it
 * calls log_cut(peer, opened) when the connection was cut before any
 * request line arrived on it (no request to log it by); opened is its
 * CLOCK_MONOTONIC opening time.
 */
void deadline_on_connection(struct MHD_Connection *c, void **socket_context,
                            enum MHD_ConnectionNotificationCode code,
                            void (*log_cut)(const char *peer,
                                            const struct timespec *opened));

/* A request line arrived on c (MHD_OPTION_URI_LOG_CALLBACK). */
void deadline_request_line(struct MHD_Connection *c);

/* The request on c has arrived in full: no deadline until its answer. */
void deadline_arrived(struct MHD_Connection *c);

/* The request on c is over; the next one has idle_timeout to start. */
void deadline_answered(struct MHD_Connection *c);

/* Whether c was cut at the deadline. */
bool deadline_was_cut(struct MHD_Connection *c);

#endif
