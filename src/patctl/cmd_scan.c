/* SPDX-License-Identifier: MIT */
/*
 * patctl scan: finds leaked tokens in files, in directories (recursively)
 * or on standard input, and with --report hands them to a patd server's
 * leak endpoint (POST /v1/credentials/revoke), which revokes them.
 * Tokens are recognised offline by scan.h, so a scan needs no server and
 * no token of its own. The output names the place and the token's hint,
 * never the token itself unless --show.
 *
 * Exit status: 1 when a token was found, 0 when none was, 2 on a usage
 * error, or when none was found but some path could not be read (a
 * clean result that did not look everywhere is not clean).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "scan.h"
#include "banned.h"

/* Bytes read at a time: with scan.h's word, all a file's contents take. */
#define SCAN_CHUNK ((size_t)64 << 10)
/* The most tokens patd takes in one leak report. */
#define REPORT_BATCH 1000
/* The longest path scan builds while descending into directories. */
#define SCAN_PATH_MAX ((size_t)4096)
#define STDIN_NAME    "(standard input)"
/* What stands for the middle of a token in its hint (U+2026). */
#define ELLIPSIS "\xe2\x80\xa6"

/* The exit statuses of scan (see the top of the file). */
enum { SCAN_CLEAN = 0, SCAN_FOUND = 1, SCAN_TROUBLE = 2 };

/*
 * The state of one scan. batch and seen hold the same tokens (seen as
 * keys, so that a token found twice is reported once per batch); both
 * are empty unless --report was given. tname and jname are the current
 * file's name cleaned for the terminal and for JSON.
 */
struct scanner {
    bool show;
    bool json;
    char report_url[CONFIG_URL_MAX + 1]; /* "" without --report */
    struct http http;                    /* to report_url, if any */
    json_t *batch;                       /* owned, <= REPORT_BATCH tokens */
    json_t *seen;                        /* owned */
    unsigned long long found;
    unsigned long long queued;
    unsigned long long reported;
    bool report_failed; /* said why; later tokens are not sent */
    bool trouble;       /* a path could not be scanned */
    char *tname;        /* owned */
    json_t *jname;      /* owned */
    struct json_items items;
    char *chunk; /* owned, SCAN_CHUNK bytes */
};

struct scan_args {
    bool show;
    const char *report;
};

static int
scan_opt(int opt, const char *arg, void *ctx)
{
    struct scan_args *a = ctx;

    switch (opt) {
    case 'S':
        a->show = true;
        return 0;
    case 'R':
        a->report = arg;
        return 0;
    default:
        return 1;
    }
}

/* Says on stderr that path could not be scanned, and why. */
static void
problem(struct scanner *sc, const char *what, const char *path, int err)
{
    char clean[SCAN_PATH_MAX + 1];

    render_clean(path, clean, sizeof(clean));
    cli_refuse("cannot %s '%s': %s", what, clean, strerror(err));
    sc->trouble = true;
}

/* A JSON string for name; bytes that are not UTF-8 become '?'. */
static json_t *
json_name(const char *name)
{
    json_t *s = json_string(name);
    char *copy;
    size_t i;

    if (s != NULL)
        return s;
    copy = strdup(name);
    if (copy == NULL)
        return NULL;
    for (i = 0; copy[i] != '\0'; i++) {
        if ((unsigned char)copy[i] >= 0x80)
            copy[i] = '?';
    }
    s = json_string(copy);
    free(copy);
    return s;
}

/* Sets the current file's names; false when out of memory. */
static bool
begin_file(struct scanner *sc, const char *name)
{
    size_t len = strlen(name);

    sc->tname = malloc(len + 1);
    sc->jname = json_name(name);
    if (sc->tname == NULL || sc->jname == NULL)
        return false;
    render_clean(name, sc->tname, len + 1);
    return true;
}

static void
end_file(struct scanner *sc)
{
    free(sc->tname);
    sc->tname = NULL;
    json_decref(sc->jname);
    sc->jname = NULL;
}

/* Sends the batch to the leak endpoint and empties it. */
static void
send_batch(struct scanner *sc)
{
    char err[CONFIG_URL_MAX + 512];
    struct http_res res;
    json_t *body = NULL;
    size_t n = json_array_size(sc->batch);

    if (n == 0 || sc->report_failed)
        goto out;
    body = json_pack("{s:O}", "credentials", sc->batch);
    if (body == NULL) {
        cli_refuse("out of memory");
        sc->report_failed = true;
        goto out;
    }
    if (!http_request(&sc->http, "POST", "/v1/credentials/revoke", body, &res,
                      err, sizeof(err))) {
        cli_refuse("%s", err);
        sc->report_failed = true;
        goto out;
    }
    if (res.status < 200 || res.status > 299) {
        ctl_report(&res);
        sc->report_failed = true;
    } else {
        sc->reported += n;
    }
    http_res_release(&res);
out:
    json_decref(body);
    json_array_clear(sc->batch);
    json_object_clear(sc->seen);
}

/* Adds a token to the batch, sending the batch when it is full. */
static void
queue(struct scanner *sc, const char *tok)
{
    json_t *s;

    if (sc->report_failed || json_object_get(sc->seen, tok) != NULL)
        return;
    s = json_string(tok);
    if (s == NULL || json_object_set_new(sc->seen, tok, json_true()) != 0 ||
        json_array_append_new(sc->batch, s) != 0) {
        cli_refuse("out of memory");
        sc->report_failed = true;
        return;
    }
    sc->queued++;
    if (json_array_size(sc->batch) >= REPORT_BATCH)
        send_batch(sc);
}

/* Prints one finding, for a person or as an item of the JSON list. */
static void
print_finding(struct scanner *sc, unsigned long long line, const char *hint,
              const char *tok)
{
    json_t *item;

    if (!sc->json) {
        printf("%s:%llu: %s\n", sc->tname, line, sc->show ? tok : hint);
        return;
    }
    item = json_pack("{s:O, s:I, s:s}", "file", sc->jname, "line",
                     (json_int_t)line, "hint", hint);
    if (item != NULL && sc->show &&
        json_object_set_new(item, "token", json_string(tok)) != 0) {
        json_decref(item);
        item = NULL;
    }
    if (item == NULL || !render_json_item(stdout, &sc->items, item))
        cli_refuse("out of memory");
    json_decref(item);
}

static int
on_found(void *ctx, unsigned long long line, const char *tok, size_t len)
{
    struct scanner *sc = ctx;
    char copy[PAT_TOKEN_MAX + 1];
    char hint[PAT_TOKEN_MAX + 1 + sizeof(ELLIPSIS)];
    size_t plen = len - PAT_RANDOM_LEN - PAT_CHECKSUM_LEN;

    sc->found++;
    memcpy(copy, tok, len);
    copy[len] = '\0';
    /* "<prefix>_" (plen bytes), the ellipsis, the last four characters. */
    snprintf(hint, sizeof(hint), "%.*s%s%s", (int)plen, copy, ELLIPSIS,
             copy + len - PAT_HINT_LEN);
    print_finding(sc, line, hint, copy);
    if (sc->report_url[0] != '\0')
        queue(sc, copy);
    explicit_bzero(copy, sizeof(copy));
    return 0;
}

/* Scans what fd holds to its end, as the file name (borrowed). */
static void
scan_fd(struct scanner *sc, int fd, const char *name)
{
    struct scan s;
    ssize_t n;

    if (!begin_file(sc, name)) {
        cli_refuse("out of memory");
        sc->trouble = true;
        goto out;
    }
    scan_init(&s);
    for (;;) {
        n = read(fd, sc->chunk, SCAN_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            problem(sc, "read", name, errno);
            break;
        }
        if (n == 0) {
            scan_end(&s, on_found, sc);
            break;
        }
        scan_feed(&s, sc->chunk, (size_t)n, on_found, sc);
    }
    scan_release(&s);
out:
    end_file(sc);
}

static void scan_path(struct scanner *sc, struct buf *path, bool top);

/* Scans every entry of the directory path, in name order. */
static void
scan_dir(struct scanner *sc, struct buf *path)
{
    struct dirent **list = NULL;
    size_t base = path->len;
    const char *name;
    int n, i;

    n = scandir(buf_str(path), &list, NULL, alphasort);
    if (n < 0) {
        problem(sc, "read", buf_str(path), errno);
        return;
    }
    for (i = 0; i < n; i++) {
        name = list[i]->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            goto next;
        if ((path->ptr[base - 1] != '/' && !buf_puts(path, "/")) ||
            !buf_puts(path, name)) {
            problem(sc, "scan", buf_str(path), ENAMETOOLONG);
            goto next;
        }
        scan_path(sc, path, false);
    next:
        buf_truncate(path, base);
        free(list[i]);
    }
    free(list);
}

/*
 * Scans the file or directory path. Below the paths given (top false),
 * symbolic links are not followed, so a link cannot make the walk loop
 * or leave the tree, and only regular files are read: a FIFO or a device
 * could block or never end.
 */
static void
scan_path(struct scanner *sc, struct buf *path, bool top)
{
    const char *p = buf_str(path);
    struct stat st;
    int fd, flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;

    if ((top ? stat(p, &st) : lstat(p, &st)) != 0) {
        problem(sc, "read", p, errno);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        scan_dir(sc, path);
        return;
    }
    if (!top && !S_ISREG(st.st_mode))
        return;
    /* The entry may have been replaced since lstat: check again. */
    if (!top)
        flags |= O_NOFOLLOW | O_NONBLOCK;
    fd = open(p, flags);
    if (fd < 0) {
        if (top || errno != ELOOP)
            problem(sc, "open", p, errno);
        return;
    }
    if (top || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)))
        scan_fd(sc, fd, p);
    close(fd);
}

/* Scans one operand: "-" is standard input. */
static void
scan_operand(struct scanner *sc, const char *arg)
{
    struct buf path;

    if (strcmp(arg, "-") == 0) {
        scan_fd(sc, STDIN_FILENO, STDIN_NAME);
        return;
    }
    buf_init(&path, SCAN_PATH_MAX);
    if (arg[0] == '\0' || !buf_puts(&path, arg))
        problem(sc, "scan", arg, arg[0] == '\0' ? ENOENT : ENAMETOOLONG);
    else
        scan_path(sc, &path, true);
    buf_release(&path);
}

/* Says how the report went. */
static void
say_reported(const struct scanner *sc)
{
    char url[CONFIG_URL_MAX + 1];

    render_clean(sc->report_url, url, sizeof(url));
    if (sc->report_failed)
        fprintf(stderr, "patctl: reported %llu of %llu tokens to %s\n",
                sc->reported, sc->queued, url);
    else
        fprintf(stderr, "patctl: reported %llu token%s to %s\n", sc->reported,
                sc->reported == 1 ? "" : "s", url);
}

/* Sets sc up from the options; EXIT_DONE, or the status to return. */
static int
scanner_init(struct scanner *sc, const struct cmd_ctx *c,
             const struct scan_args *a, const char *usage)
{
    char err[256];

    memset(sc, 0, sizeof(*sc));
    sc->show = a->show;
    sc->json = c->json;
    if (a->report != NULL) {
        if (!config_url_check(a->report, sc->report_url, sizeof(sc->report_url),
                              err, sizeof(err)))
            return cli_usage_error(usage, "--report: %s", err);
        if (!http_init(&sc->http, sc->report_url, NULL, err, sizeof(err)))
            return cli_refuse("%s", err);
        sc->batch = json_array();
        sc->seen = json_object();
        if (sc->batch == NULL || sc->seen == NULL)
            return cli_refuse("out of memory");
    }
    sc->chunk = malloc(SCAN_CHUNK);
    if (sc->chunk == NULL)
        return cli_refuse("out of memory");
    return EXIT_DONE;
}

static void
scanner_release(struct scanner *sc)
{
    if (sc->chunk != NULL) {
        explicit_bzero(sc->chunk, SCAN_CHUNK);
        free(sc->chunk);
    }
    json_decref(sc->batch);
    json_decref(sc->seen);
    http_release(&sc->http);
}

int
cmd_scan(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "scan [--show] [--report URL] [--json] [PATH...]";
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"show", no_argument, NULL, 'S'},
        {"report", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    struct scan_args a = {false, NULL};
    struct scanner sc;
    int status, i;

    status = cli_parse(c, argc, argv, opts, usage, scan_opt, &a);
    if (status != -1)
        return status;
    /* Tokens go to --report URL only, never to the configured server. */
    if (c->url_flag != NULL || c->token_file != NULL)
        return cli_usage_error(usage, "--url and --token-file do not apply "
                                      "to scan; use --report URL");
    status = scanner_init(&sc, c, &a, usage);
    if (status != EXIT_DONE)
        goto out;
    if (optind == argc)
        scan_operand(&sc, "-");
    for (i = optind; i < argc; i++)
        scan_operand(&sc, argv[i]);
    if (sc.json)
        render_json_end(stdout, &sc.items);
    if (sc.report_url[0] != '\0') {
        send_batch(&sc);
        say_reported(&sc);
    }
    status = sc.found > 0 ? SCAN_FOUND : sc.trouble ? SCAN_TROUBLE : SCAN_CLEAN;
out:
    scanner_release(&sc);
    return status;
}
