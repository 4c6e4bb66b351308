/* SPDX-License-Identifier: MIT */
/*
 * bench/verify: the in-process verifier's speed on this machine.
 *
 *   verify [--tokens N] [--distinct M] [--seconds S]
 *       builds a store of N active tokens in /dev/shm (or $TMPDIR), then
 *       measures on one thread: cache hits (pat_verifier_check cycling
 *       through M tokens, all cached) and cache misses (pat_verify, one
 *       store read each, the path every miss takes).
 *   verify --fill N
 *       builds a store of N tokens and verifies each once through one
 *       verifier, so that its cache holds all N and the usage of all N
 *       is pending; prints the process's peak and resident memory
 *       before and after (the cost of both).
 *   verify --make-store PATH N M TOKENFILE
 *       builds the store at PATH for bench/auth.sh and writes M of its
 *       tokens, one a line, to TOKENFILE.
 *
 * Tokens are made with the library's own create path, in one transaction
 * per 10,000 so that building a million takes seconds, not hours of
 * fsyncs. Output: one "name: value" line per figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int rc, const char *err)
{
    fprintf(stderr, "verify: %s: %s (%s)\n", what, pat_strerror(rc), err);
    exit(1);
}

/* Builds the store; keeps the first m plaintexts in *out (m * 64 bytes). */
static char *
make_store(const char *path, long n, long m)
{
    struct pat_store *st = NULL;
    struct pat_user admin, u;
    struct pat_token t;
    struct pat_policy pol;
    struct pat_user_spec us = {"bench", NULL, NULL, PAT_ROLE_USER,
                               "patd:self repo:read"};
    char err[256] = "", secret[PAT_TOKEN_MAX + 1], name[32];
    char *keep = calloc((size_t)m, 64);
    long i;
    int rc;

    unlink(path);
    rc = pat_store_open(path, PAT_OPEN_CREATE, &st, err, sizeof(err));
    if (rc != PAT_OK)
        die("open", rc, err);
    rc = pat_store_init(st, NULL, &admin, &t, secret, sizeof(secret));
    if (rc == PAT_OK)
        rc = pat_scope_put(st, NULL, "repo:read", "Read repositories");
    if (rc == PAT_OK)
        rc = pat_user_create(st, NULL, &us, &u);
    if (rc == PAT_OK)
        rc = pat_policy_get(st, &pol);
    pol.max_tokens_per_user = 1000000;
    if (rc == PAT_OK)
        rc = pat_policy_put(st, NULL, &pol);
    if (rc != PAT_OK || keep == NULL)
        die("bootstrap", rc, err);
    for (i = 0; i < n; i++) {
        struct pat_token_spec ts = {u.id, name, NULL,           "repo:read",
                                    NULL, NULL, {0, 366, false}};
        if (i % 10000 == 0 && (rc = pat__tx_begin(st)) != PAT_OK)
            die("begin", rc, err);
        /* 100 tokens a user, as a team would have them. */
        if (i % 100 == 0 && i > 0) {
            char uname[32];
            snprintf(uname, sizeof(uname), "bench%ld", i / 100);
            us.username = uname;
            rc = pat__user_create_tx(st, NULL, &us, &u);
            if (rc != PAT_OK)
                die("user", rc, err);
            ts.user_id = u.id;
        }
        snprintf(name, sizeof(name), "t%ld", i);
        rc = pat__token_create_tx(st, NULL, &ts, &t, secret, sizeof(secret));
        if (rc != PAT_OK)
            die("create", rc, err);
        if (i < m)
            memcpy(keep + i * 64, secret, strlen(secret) + 1);
        if ((i % 10000 == 9999 || i == n - 1) &&
            (rc = pat__tx_commit(st)) != PAT_OK)
            die("commit", rc, err);
    }
    pat_store_close(st);
    return keep;
}

static void
bench_hits(const char *path, const char *keep, long m, double secs)
{
    struct pat_verifier_options o = {0, 3600, -1};
    struct pat_verifier *v = NULL;
    struct pat_check c = {"127.0.0.1", "repo:read", NULL, false};
    struct pat_verdict *out = malloc(sizeof(*out));
    char err[256] = "";
    double t0, t;
    long i, n = 0;
    int rc = pat_verifier_new(path, &o, &v, err, sizeof(err));

    if (rc != PAT_OK || out == NULL)
        die("verifier", rc, err);
    for (i = 0; i < m; i++) { /* warm: every token cached */
        const char *tok = keep + i * 64;
        if (pat_verifier_check(v, tok, strlen(tok), &c, out) != PAT_OK)
            die("warm", -1, tok);
    }
    t0 = now_s();
    do {
        for (i = 0; i < 10000; i++, n++) {
            const char *tok = keep + (n % m) * 64;
            if (pat_verifier_check(v, tok, 42, &c, out) != PAT_OK)
                die("hit", -1, "a cached token was refused");
        }
        t = now_s();
    } while (t - t0 < secs);
    printf("verify_cache_hit_per_s: %.0f\n", (double)n / (t - t0));
    free(out);
    pat_verifier_free(v);
}

/* Prints this process's peak and current resident memory. */
static void
print_memory(const char *label)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0 ||
            strncmp(line, "RssAnon:", 8) == 0 ||
            strncmp(line, "RssFile:", 8) == 0)
            printf("%s_%s", label, line);
    }
    if (f != NULL)
        fclose(f);
}

/*
 * --fill: every one of m tokens verified once through one verifier, so
 * that its cache holds them all; then the memory of the process.
 */
static void
bench_fill(const char *path, const char *keep, long m)
{
    /*
     * Usage on, with an interval longer than the run: every token's
     * usage is still pending at the end, as on a server whose million
     * tokens were all used within the last minute.
     */
    struct pat_verifier_options o = {(size_t)m, 3600, 3600};
    struct pat_check c = {"192.0.2.10", NULL, NULL, false};
    struct pat_verifier *v = NULL;
    struct pat_verifier_stats st;
    struct pat_verdict *out = malloc(sizeof(*out));
    char err[256] = "";
    long i;
    int rc = pat_verifier_new(path, &o, &v, err, sizeof(err));

    if (rc != PAT_OK || out == NULL)
        die("verifier", rc, err);
    print_memory("before_fill");
    for (i = 0; i < m; i++) {
        const char *tok = keep + i * 64;
        if (pat_verifier_check(v, tok, 42, &c, out) != PAT_OK)
            die("fill", -1, tok);
    }
    pat_verifier_stats(v, &st);
    printf("cache_entries: %llu\n", (unsigned long long)st.entries);
    print_memory("after_fill");
    free(out);
    pat_verifier_free(v);
}

static void
bench_misses(const char *path, const char *keep, long m, double secs)
{
    struct pat_store *st = NULL;
    struct pat_verdict *out = malloc(sizeof(*out));
    char err[256] = "";
    double t0, t;
    long i, n = 0;
    int rc = pat_store_open(path, 0, &st, err, sizeof(err));

    if (rc != PAT_OK || out == NULL)
        die("open", rc, err);
    t0 = now_s();
    do {
        for (i = 0; i < 1000; i++, n++) {
            const char *tok = keep + (n % m) * 64;
            if (pat_verify(st, tok, 42, out) != PAT_OK)
                die("miss", -1, "a valid token was refused");
        }
        t = now_s();
    } while (t - t0 < secs);
    printf("verify_cache_miss_sqlite_per_s: %.0f\n", (double)n / (t - t0));
    free(out);
    pat_store_close(st);
}

int
main(int argc, char **argv)
{
    long n = 100000, m = 10000;
    double secs = 3;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char path[256];
    char *keep;
    int i;

    if (argc == 6 && strcmp(argv[1], "--make-store") == 0) {
        FILE *f;
        n = strtol(argv[3], NULL, 10);
        m = strtol(argv[4], NULL, 10);
        keep = make_store(argv[2], n, m);
        f = fopen(argv[5], "w");
        for (i = 0; f != NULL && i < m; i++)
            fprintf(f, "%s\n", keep + (long)i * 64);
        if (f == NULL || fclose(f) != 0)
            die("write", -1, argv[5]);
        free(keep);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--fill") == 0) {
        n = strtol(argv[2], NULL, 10);
        snprintf(path, sizeof(path), "%s/patd-fill-%d.db", dir, (int)getpid());
        keep = make_store(path, n, n);
        bench_fill(path, keep, n);
        free(keep);
        unlink(path);
        return 0;
    }
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tokens") == 0)
            n = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--distinct") == 0)
            m = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            secs = strtod(argv[i + 1], NULL);
    }
    if (m > n)
        m = n;
    snprintf(path, sizeof(path), "%s/patd-bench-%d.db", dir, (int)getpid());
    printf("tokens_in_store: %ld\ndistinct_tokens: %ld\n", n, m);
    keep = make_store(path, n, m);
    bench_hits(path, keep, m, secs);
    bench_misses(path, keep, m, secs);
    free(keep);
    unlink(path);
    return 0;
}
