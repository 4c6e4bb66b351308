/* SPDX-License-Identifier: MIT */
/*
 * The integration-test harness: each test program starts the real
 * `patd serve` (its path is argv[1]) on a free loopback port with a
 * temporary database, talks to it over HTTP with libcurl, and checks the
 * answers. A failed check is recorded with its file and line and the run
 * goes on; h_finish() prints "N passed, M failed" and gives the exit
 * status. Nothing here sleeps to wait for the server: every wait polls
 * with a deadline.
 *
 * Memory: every struct resp and every string the harness hands out lives
 * in an arena owned by struct h and freed by h_finish(), so that tests
 * read as a list of requests and checks.
 */
#ifndef PATD_TEST_HARNESS_H
#define PATD_TEST_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define H_TOKEN_CAP 128

/* A block of the arena and the function that frees it. */
struct h_block {
    void *p;
    void (*release)(void *);
};

/*
 * One server under test and everything the harness allocated for it.
 * port and pid are nonzero exactly while a started server has not been
 * checked by h_stop(); pid alone goes to 0 once the process is reaped.
 */
struct h {
    const char *patd; /* borrowed from argv[1] */
    char dir[512];    /* temporary directory, removed by h_finish */
    char db[600];     /* dir/p.db */
    char log[600];    /* dir/serve.log: the server's stderr */
    char base[64];    /* "http://127.0.0.1:PORT" */
    int port;         /* 0 while no server runs */
    pid_t pid;        /* 0 while no server runs */
    int status;       /* wait status of the last server that exited */
    char admin_token[H_TOKEN_CAP]; /* from patd init */
    char admin_id[32];             /* the admin's user id */

    /* Arena: blocks freed together by h_finish. */
    struct h_block *blocks;
    size_t nblocks, capblocks;

    /* Every secret the server handed out, to grep the access log for. */
    const char **secrets;
    size_t nsecrets, capsecrets;
};

/* An answer. status 0 means no answer at all (connection failed). */
struct resp {
    long status;
    json_t *json; /* parsed body, or NULL (not JSON / empty) */
    char *body;   /* NUL-terminated body, never NULL */
    size_t len;
    char www_auth[512];
    char retry_after[64];
    char set_cookie[512];
    char content_type[128];
    char cache_control[128];
    char headers[4096]; /* every header line of the answer, as received */
    char what[200];     /* "METHOD /path", for messages */
};

/*
 * Checks. Each records a pass or a failure (with file:line and the
 * formatted message) and returns whether it passed; none aborts.
 */
bool h_check(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool h_expect_status(const struct resp *r, long status, const char *file,
                     int line);
bool h_expect_error(const struct resp *r, long status, const char *code,
                    const char *file, int line);
bool h_expect_healthy(struct h *h, const char *file, int line);

#define CHECK(cond, ...)     h_check((cond), __FILE__, __LINE__, __VA_ARGS__)
#define EXPECT_STATUS(r, st) h_expect_status((r), (st), __FILE__, __LINE__)
#define EXPECT_ERROR(r, st, code)                                              \
    h_expect_error((r), (st), (code), __FILE__, __LINE__)
#define EXPECT_HEALTHY(h) h_expect_healthy((h), __FILE__, __LINE__)

/* Prints a section title, so that a failure can be placed in the output. */
void h_section(const char *title);

/*
 * Sets up: checks argv[1], makes the temporary directory, runs
 * `patd init` and keeps the admin's first token. Exits the process with
 * status 1 when the environment is unusable (that is not a test result).
 * The store is dir/p.db, or the PostgreSQL database named by
 * PATD_TEST_STORE when it is set (tests/unit/with_pg.sh sets it; it must
 * be empty: one h_init per program).
 */
void h_init(struct h *h, int argc, char **argv);

/*
 * Starts `patd serve` with env (NULL-terminated "KEY=VALUE" strings added
 * to the environment, or NULL) and waits until GET /healthz answers 200,
 * polling with a deadline. Records a failure and returns false when the
 * server does not come up. Fills admin_id the first time.
 */
bool h_start(struct h *h, const char *const *env);

/*
 * Sends SIGTERM (unless the server has exited already) and waits for the
 * exit with a deadline; checks exit status 0 and that the log holds none
 * of the secrets seen so far. Kills the server (and records a failure)
 * past the deadline. Does nothing when no server was started.
 */
void h_stop(struct h *h);

/* Sends sig to the server without waiting. */
void h_signal(struct h *h, int sig);

/*
 * Waits up to timeout_ms for the server to exit; returns true and sets
 * h->status when it did.
 */
bool h_wait_exit(struct h *h, long timeout_ms);

/*
 * Stops a running server, removes the temporary directory, frees the
 * arena and prints "N passed, M failed". Returns the exit status.
 */
int h_finish(struct h *h);

/*
 * Another node on first's store (scale-out tests): its own log in
 * first's directory (node-NAME/serve.log), the same admin token. Start
 * it with h_start; end it with h_finish_peer (stops it, frees its arena)
 * before h_finish(first) removes the directory.
 */
void h_init_peer(struct h *peer, const struct h *first, const char *name);
void h_finish_peer(struct h *peer);

/*
 * Runs `patd ARGS... --db DB` and captures its stdout (at most cap - 1
 * bytes, trailing newline removed). Returns the exit status, -1 when it
 * could not run.
 */
int h_run(struct h *h, const char *const *args, char *out, size_t cap);

/*
 * One HTTP request. token: Bearer token or NULL; body: raw request body
 * (sent as application/json unless headers name a Content-Type) or NULL;
 * headers: NULL-terminated "Name: value" strings or NULL. The
 * answer lives in the arena. A "token" string in a JSON answer is
 * remembered as a secret.
 */
struct resp *http(struct h *h, const char *method, const char *path,
                  const char *token, const char *body,
                  const char *const *headers);

/* Like http() with the body made by printf. */
struct resp *httpf(struct h *h, const char *method, const char *path,
                   const char *token, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A string made by printf, in the arena. */
const char *hfmt(struct h *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *hvfmt(struct h *h, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Hands p to the arena: h_finish() calls release(p). */
void h_own(struct h *h, void *p, void (*release)(void *));

/* A copy of s in the arena (NULL stays NULL). */
const char *hstrdup(struct h *h, const char *s);

/* Remembers s as a secret that must never appear in the log. */
void h_secret(struct h *h, const char *s);

/* Fields of a JSON object; NULL / -1 / false when absent or mistyped. */
const char *jstr(const json_t *o, const char *key);
long long jint(const json_t *o, const char *key);
bool jbool(const json_t *o, const char *key);
bool jnull(const json_t *o, const char *key);
/* The "items" array of a list answer (NULL when absent). */
json_t *jitems(const struct resp *r);
size_t nitems(const struct resp *r);
/* Whether the JSON array arr holds the string s. */
bool jarray_has(const json_t *arr, const char *s);
/* Whether a list answer has an item whose "id" is id. */
bool items_have_id(const struct resp *r, const char *id);

/*
 * Counts the items of a list endpoint by following next_cursor (path may
 * hold a query already). Returns -1 (and records a failure) on any error.
 */
long h_count(struct h *h, const char *path, const char *token);

/*
 * The highest audit event id (GET /v1/audit with the admin token), to
 * tell whether a request wrote anything.
 */
long long h_last_audit_id(struct h *h);

/*
 * Admin helpers (with the admin token). h_user creates a user (scopes: a
 * JSON array text or NULL for the default; password or NULL) and returns
 * its id, or NULL after recording a failure. h_token mints a token for
 * a user and returns its plaintext; *id gets its id (both in the arena).
 */
const char *h_user(struct h *h, const char *username, const char *scopes_json,
                   const char *password);
const char *h_token(struct h *h, const char *user_id, const char *name,
                    const char *scopes_json, const char **id);

/*
 * Mints a token with the local command `patd token create --user USER
 * --name NAME ARGS... --json` (ARGS: NULL-terminated options such as
 * "--scope", "repo:read"), acting as the system rather than through a
 * PAT. Returns the plaintext and *id, or NULL after recording a failure.
 */
const char *h_cli_token(struct h *h, const char *user, const char *name,
                        const char *const *args, const char **id);

/* The current UTC time plus secs, as RFC 3339, in the arena. */
const char *h_time_in(struct h *h, long secs);

/*
 * Polls GET path with token until it answers status, or timeout_ms
 * passes. Returns whether it did.
 */
bool h_poll_status(struct h *h, const char *path, const char *token,
                   long status, long timeout_ms);

/* Monotonic milliseconds. */
long long h_now_ms(void);

/* The short pause between two polls of a loop that holds a deadline. */
void h_poll_pause(void);

/*
 * How many times the answer carries header name (case-insensitive). The
 * first one's value, without surrounding blanks (so a value of a single
 * space reads as empty), goes to out when out is not NULL.
 */
int resp_header(const struct resp *r, const char *name, char *out, size_t cap);

/* Raw sockets, for what libcurl will not send. */
int h_connect(struct h *h);
bool h_send_all(int fd, const char *buf, size_t len);
/*
 * Reads an HTTP answer from fd until the connection closes, the whole
 * body (by Content-Length) has arrived, or the headers of an interim 1xx
 * answer have, at most timeout_ms. Returns the
 * status code, 0 when there was none. buf gets what was read.
 */
long h_read_answer(int fd, long timeout_ms, char *buf, size_t cap);

#endif
