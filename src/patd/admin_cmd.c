/* SPDX-License-Identifier: MIT */
/*
 * Plumbing shared by the local admin commands (see admin_cmd.h): where the
 * store is, how refusals are reported, and how objects are printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin_cmd.h"

void
cli_usage(FILE *f, const char *usage)
{
    fprintf(f, "usage: patd %s\n", usage);
}

bool
admin_common_opt(struct cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'D':
        c->db = arg;
        return true;
    case 'J':
        c->json = true;
        return true;
    default:
        return false;
    }
}

int
cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fputs("patd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_usage(stderr, usage);
    return EXIT_USAGE;
}

int
cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *cmds,
             int argc, char **argv)
{
    const struct cli_cmd *cmd;
    bool help;

    help = argc < 2 || strcmp(argv[1], "--help") == 0 ||
           strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0;
    for (cmd = cmds; !help && cmd->name != NULL; cmd++) {
        if (strcmp(cmd->name, argv[1]) == 0)
            return cmd->run(c, argc - 1, argv + 1);
    }
    if (!help)
        fprintf(stderr, "patd: unknown command '%s%s%s'\n", group,
                group[0] ? " " : "", argv[1]);
    for (cmd = cmds; cmd->name != NULL; cmd++)
        cli_usage(help ? stdout : stderr, cmd->usage);
    return help && argc >= 2 ? EXIT_DONE : EXIT_USAGE;
}

/* Creates the directory of path (one level, 0700) if it is missing. */
static void
make_parent(const char *path)
{
    char dir[4096];
    char *slash;
    int n = snprintf(dir, sizeof(dir), "%s", path);

    if (n < 0 || (size_t)n >= sizeof(dir))
        return;
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return;
    *slash = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return;
}

int
admin_open(struct cli *c, int flags, struct pat_store **st)
{
    const char *db = c->db;
    int rc;

    if (db == NULL || db[0] == '\0')
        db = getenv("PATD_STORE");
    if (db == NULL || db[0] == '\0')
        db = getenv("PATD_DB");
    if (db == NULL || db[0] == '\0')
        db = PATD_DEFAULT_DB;
    c->db = db;
    if (flags & PAT_OPEN_CREATE)
        make_parent(strncmp(db, "sqlite:", 7) == 0 ? db + 7 : db);
    c->err[0] = '\0';
    rc =
        pat_store_open(db, flags & PAT_OPEN_CREATE, st, c->err, sizeof(c->err));
    if (rc != PAT_OK)
        return admin_refuse(c, "cannot open the store", rc);
    if (!(flags & (PAT_OPEN_CREATE | ADMIN_OPEN_UNINIT)) &&
        pat_store_prefix(*st) == NULL) {
        pat_store_close(*st);
        *st = NULL;
        fprintf(stderr, "patd: '%s' is not initialised; run 'patd init'\n", db);
        return EXIT_REFUSED;
    }
    return EXIT_DONE;
}

const char *
admin_redact(const char *url, char *buf, size_t cap)
{
    const char *scheme = strstr(url, "://"), *at, *colon;

    if (scheme == NULL)
        return url;
    at = strchr(scheme + 3, '@');
    colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon == NULL)
        return url;
    snprintf(buf, cap, "%.*s:***%s", (int)(colon - url), url, at);
    return buf;
}

int
admin_refuse(struct cli *c, const char *what, int rc)
{
    if (c->err[0] != '\0')
        fprintf(stderr, "patd: %s: %s\n", what, c->err);
    else
        fprintf(stderr, "patd: %s: %s\n", what, pat_strerror(rc));
    c->err[0] = '\0';
    return EXIT_REFUSED;
}

bool
admin_list_add(char *list, size_t cap, const char *item)
{
    size_t len = strlen(list), il = strlen(item);

    if (len + (len > 0) + il + 1 > cap)
        return false;
    if (len > 0)
        list[len++] = ' ';
    memcpy(list + len, item, il + 1);
    return true;
}

bool
admin_read_token(char *buf, size_t cap)
{
    size_t n = 0;
    int ch;

    /* Leading white space is skipped; the token ends at the line end. */
    while ((ch = getchar()) == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
        ;
    while (ch != EOF && ch != '\n' && ch != '\r' && ch != ' ') {
        if (n + 1 >= cap)
            return false;
        buf[n++] = (char)ch;
        ch = getchar();
    }
    buf[n] = '\0';
    return n > 0;
}

const char *
admin_time(int64_t t, const char *none, char *buf, size_t cap)
{
    if (t == 0 || pat_time_format(t, buf, cap) != PAT_OK)
        return none;
    return buf;
}

void
admin_print_json(json_t *v)
{
    if (v == NULL) {
        fputs("patd: out of memory\n", stderr);
        return;
    }
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(v);
}

int
cli_parse(struct cli *c, int argc, char **argv, const struct option *opts,
          const char *usage, cli_opt_cb fn, void *ctx)
{
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (admin_common_opt(c, opt, optarg))
            continue;
        if (opt == 'h') {
            cli_usage(stdout, usage);
            return EXIT_DONE;
        }
        if (opt == '?' || fn == NULL || fn(opt, optarg, ctx) != 0) {
            cli_usage(stderr, usage);
            return EXIT_USAGE;
        }
    }
    return -1;
}
