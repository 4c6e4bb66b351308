/* SPDX-License-Identifier: MIT */
/*
 * What the local admin commands share (see admin_cmd.h): their common
 * options, where the store is, how its refusals are reported, and how
 * objects are printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin_cmd.h"

int
admin_common_opt(struct cmd_ctx *c, int opt, const char *arg)
{
    switch (opt) {
    case 'D':
        c->db = arg;
        return CLI_OPT_TAKEN;
    case 'J':
        c->json = true;
        return CLI_OPT_TAKEN;
    default:
        return CLI_OPT_OTHER;
    }
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
admin_open(struct cmd_ctx *c, int flags, struct pat_store **st)
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
        return cli_refuse("'%s' is not initialised; run 'patd init'", db);
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
admin_refuse(struct cmd_ctx *c, const char *what, int rc)
{
    int status = cli_refuse("%s: %s", what,
                            c->err[0] != '\0' ? c->err : pat_strerror(rc));

    c->err[0] = '\0';
    return status;
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
