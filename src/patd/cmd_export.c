/* SPDX-License-Identifier: MIT */
/*
 * patd export and patd import: a whole store as JSON lines (see
 * include/pat/transfer.h and docs/scaling.md), to move from SQLite to
 * PostgreSQL. The file holds secrets' hashes and password hashes, never
 * a plaintext, but it is still kept from other users: it is created with
 * mode 0600 and never over an existing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_cmd.h"

/* The longest line an import accepts (an export's longest is ~20 KiB). */
#define LINE_MAX_BYTES (256 * 1024)

struct file_args {
    const char *path;
};

static int
file_opt(int opt, const char *arg, void *ctx)
{
    struct file_args *a = ctx;

    if (opt != 'f')
        return 1;
    a->path = arg;
    return 0;
}

/* Where an export goes; err is the errno of the first failed write. */
struct sink {
    FILE *f;
    int err;
};

static int
write_line(void *arg, const char *line, size_t len)
{
    struct sink *s = arg;

    if (fwrite(line, 1, len, s->f) != len || fputc('\n', s->f) == EOF) {
        s->err = errno ? errno : EIO;
        return PAT_EINVAL;
    }
    return PAT_OK;
}

static void
print_counts(const char *verb, const struct pat_transfer_counts *n,
             const char *store)
{
    char shown[1024];

    fprintf(stderr,
            "patd: %s %lld users, %lld tokens, %lld secrets, %lld scopes "
            "and %lld audit events (%s)\n",
            verb, (long long)n->users, (long long)n->tokens,
            (long long)n->secrets, (long long)n->scopes, (long long)n->audit,
            admin_redact(store, shown, sizeof(shown)));
}

/* A new file, 0600, never an existing one; NULL with errno set. */
static FILE *
create_private(const char *path)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f;

    if (fd < 0)
        return NULL;
    f = fdopen(fd, "w");
    if (f == NULL)
        close(fd);
    return f;
}

int
cmd_export(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "export [--db PATH | --store URL] "
                                "[--output FILE]   (JSON lines; stdout "
                                "without --output)";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"output", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct file_args a = {NULL};
    struct pat_transfer_counts n;
    struct pat_store *st = NULL;
    struct sink s = {stdout, 0};
    int status, rc;

    status = cli_parse(c, argc, argv, opts, usage, file_opt, &a);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    if (a.path != NULL) {
        s.f = create_private(a.path);
        if (s.f == NULL) {
            status =
                cli_refuse("cannot create '%s': %s", a.path, strerror(errno));
            pat_store_close(st);
            return status;
        }
    }
    rc = pat_store_export(st, write_line, &s, &n);
    if (rc == PAT_OK && fflush(s.f) != 0)
        s.err = errno;
    if (rc == PAT_OK && s.f != stdout && fsync(fileno(s.f)) != 0)
        s.err = errno;
    if (s.f != stdout && fclose(s.f) != 0 && s.err == 0)
        s.err = errno;
    if (s.err != 0) {
        status = cli_refuse("cannot write the export: %s", strerror(s.err));
    } else if (rc != PAT_OK) {
        status = admin_refuse(c, "cannot export the store", rc);
    } else {
        print_counts("exported", &n, c->db);
    }
    if (status != EXIT_DONE && a.path != NULL)
        unlink(a.path);
    pat_store_close(st);
    return status;
}

/* Where an import comes from: one line at a time, bounded. */
struct source {
    FILE *f;
    char *buf;
    bool too_long;
    int err;
};

static int
read_line(void *arg, const char **line, size_t *len)
{
    struct source *s = arg;
    size_t n;

    if (fgets(s->buf, LINE_MAX_BYTES, s->f) == NULL) {
        if (ferror(s->f)) {
            s->err = errno ? errno : EIO;
            return PAT_EINVAL;
        }
        return PAT_ENOTFOUND;
    }
    n = strlen(s->buf);
    if (n == LINE_MAX_BYTES - 1 && s->buf[n - 1] != '\n') {
        s->too_long = true;
        return PAT_EINVAL;
    }
    *line = s->buf;
    *len = n;
    return PAT_OK;
}

int
cmd_import(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "import [--db PATH | --store URL] "
                                "[--input FILE]   (an empty store; stdin "
                                "without --input)";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"input", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct file_args a = {NULL};
    struct pat_transfer_counts n;
    struct pat_store *st = NULL;
    struct source s = {stdin, NULL, false, 0};
    int status, rc;

    status = cli_parse(c, argc, argv, opts, usage, file_opt, &a);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (a.path != NULL) {
        s.f = fopen(a.path, "re");
        if (s.f == NULL)
            return cli_refuse("cannot open '%s': %s", a.path, strerror(errno));
    }
    s.buf = malloc(LINE_MAX_BYTES);
    if (s.buf == NULL) {
        status = cli_refuse("out of memory");
        goto out;
    }
    status = admin_open(c, PAT_OPEN_CREATE, &st);
    if (status != EXIT_DONE)
        goto out;
    rc = pat_store_import(st, read_line, &s, &n);
    if (s.too_long) {
        status = cli_refuse("cannot import: a line is longer than %d bytes; "
                            "nothing was imported",
                            LINE_MAX_BYTES);
    } else if (s.err != 0) {
        status = cli_refuse("cannot read the export: %s", strerror(s.err));
    } else if (rc != PAT_OK) {
        status = admin_refuse(c, "cannot import; nothing was imported", rc);
    } else {
        print_counts("imported", &n, c->db);
    }
out:
    pat_store_close(st);
    free(s.buf);
    if (s.f != stdin)
        fclose(s.f);
    return status;
}
