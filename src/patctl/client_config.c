/* SPDX-License-Identifier: MIT */
/*
 * The settings of client_config.h: the config file format, its location, and
 * the order in which flags, environment and file are consulted. The file
 * is small INI-like text, one "key = value" a line:
 *
 *     # patctl configuration, written by 'patctl login'.
 *     url = https://patd.example.com
 *     token = pat_...
 *
 * Blank lines and lines starting with '#' or ';' are skipped; unknown
 * keys are ignored so a newer patctl's file still works with this one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "client_config.h"
#include "write_all.h"
#include "banned.h"

/* The config file is a few lines; anything much larger is not ours. */
#define CONFIG_FILE_MAX ((size_t)64 << 10)
#define TOKEN_FILE_MAX  4096
#define CONFIG_LINE_MAX 8192

static bool
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Copies s[0, len) without surrounding white space into out. */
static bool
copy_trimmed(const char *s, size_t len, char *out, size_t outcap)
{
    while (len > 0 && is_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    if (len >= outcap)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

bool
config_token_ok(const char *token)
{
    size_t n;

    for (n = 0; token[n] != '\0'; n++) {
        if (n >= CONFIG_TOKEN_MAX || token[n] <= ' ' || token[n] > '~')
            return false;
    }
    return n > 0;
}

bool
config_url_check(const char *url, char *out, size_t outcap, char *err,
                 size_t errcap)
{
    size_t len = strnlen(url, CONFIG_URL_MAX + 1), i, scheme;

    if (len > CONFIG_URL_MAX || len >= outcap) {
        snprintf(err, errcap, "the server URL is too long");
        return false;
    }
    if (strncasecmp(url, "http://", 7) == 0)
        scheme = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        scheme = 8;
    else {
        snprintf(err, errcap,
                 "the server URL must start with http:// or "
                 "https://");
        return false;
    }
    /* Paths are appended to it, so a query or fragment would break them. */
    for (i = 0; i < len; i++) {
        if (url[i] <= ' ' || url[i] > '~' || url[i] == '?' || url[i] == '#') {
            snprintf(err, errcap,
                     "the server URL has a character that "
                     "is not allowed");
            return false;
        }
    }
    while (len > scheme && url[len - 1] == '/')
        len--;
    if (len == scheme || url[scheme] == '/') {
        snprintf(err, errcap, "the server URL has no host");
        return false;
    }
    memcpy(out, url, len);
    out[len] = '\0';
    return true;
}

/* An absolute, non-empty directory from the environment variable, or NULL. */
static const char *
env_dir(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] == '/' ? v : NULL;
}

bool
config_find(struct config *cfg, char *err, size_t errcap)
{
    const char *xdg = env_dir("XDG_CONFIG_HOME");
    const char *home = env_dir("HOME");
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    int n;

    if (xdg == NULL && home == NULL &&
        getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 &&
        pwp != NULL && pw.pw_dir != NULL && pw.pw_dir[0] == '/')
        home = pw.pw_dir;
    if (xdg != NULL)
        n = snprintf(cfg->path, sizeof(cfg->path), "%s/patctl/config", xdg);
    else if (home != NULL)
        n = snprintf(cfg->path, sizeof(cfg->path), "%s/.config/patctl/config",
                     home);
    else {
        snprintf(err, errcap,
                 "cannot find the config directory; set "
                 "XDG_CONFIG_HOME or HOME");
        return false;
    }
    if (n < 0 || (size_t)n >= sizeof(cfg->path)) {
        snprintf(err, errcap, "the config file's path is too long");
        return false;
    }
    return true;
}

/* Reads all of fd (at most max bytes) into b; false if it is larger. */
static bool
read_capped(int fd, struct buf *b, size_t max)
{
    char chunk[4096];
    ssize_t n;

    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        if (b->len + (size_t)n > max || !buf_append(b, chunk, (size_t)n)) {
            errno = EFBIG;
            explicit_bzero(chunk, sizeof(chunk));
            return false;
        }
    }
    explicit_bzero(chunk, sizeof(chunk));
    return true;
}

/* Parses one "key = value" line; false with a reason in err. */
static bool
parse_line(const char *line, size_t len, char *url, size_t urlcap, char *token,
           size_t tokencap, char *err, size_t errcap)
{
    const char *eq = memchr(line, '=', len);
    char key[64];
    char uerr[128];

    while (len > 0 && is_space(line[0])) {
        line++;
        len--;
    }
    if (len == 0 || line[0] == '#' || line[0] == ';')
        return true;
    if (eq == NULL ||
        !copy_trimmed(line, (size_t)(eq - line), key, sizeof(key))) {
        snprintf(err, errcap, "expected 'key = value'");
        return false;
    }
    len -= (size_t)(eq + 1 - line);
    if (strcmp(key, "url") == 0) {
        char raw[CONFIG_URL_MAX + 1] = "";

        if (!copy_trimmed(eq + 1, len, raw, sizeof(raw)) ||
            !config_url_check(raw, url, urlcap, uerr, sizeof(uerr))) {
            snprintf(err, errcap, "bad url: %s",
                     raw[0] ? uerr : "the server URL is too long");
            return false;
        }
    } else if (strcmp(key, "token") == 0) {
        if (!copy_trimmed(eq + 1, len, token, tokencap) ||
            !config_token_ok(token)) {
            snprintf(err, errcap, "the token is malformed");
            return false;
        }
    }
    return true;
}

/* Parses the whole file text; false with "line N: why" in err. */
static bool
parse_text(const char *path, const struct buf *text, char *url, size_t urlcap,
           char *token, size_t tokencap, char *err, size_t errcap)
{
    const char *p = buf_str(text), *end = p + text->len;
    char why[160];
    int lineno = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        lineno++;
        if (len > CONFIG_LINE_MAX)
            snprintf(why, sizeof(why), "line too long");
        else if (memchr(p, '\0', len) != NULL)
            snprintf(why, sizeof(why), "NUL byte");
        else if (parse_line(p, len, url, urlcap, token, tokencap, why,
                            sizeof(why)))
            why[0] = '\0';
        if (why[0] != '\0') {
            snprintf(err, errcap, "'%s' line %d: %s", path, lineno, why);
            return false;
        }
        p += len + (nl != NULL);
    }
    return true;
}

bool
config_read_file(const char *path, char *url, size_t urlcap, char *token,
                 size_t tokencap, char *err, size_t errcap)
{
    struct buf text;
    struct stat st;
    int fd;
    bool ok = false;

    url[0] = '\0';
    token[0] = '\0';
    buf_init(&text, CONFIG_FILE_MAX);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT)
        return true;
    if (fd < 0) {
        snprintf(err, errcap, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "'%s' is not a regular file", path);
        goto out;
    }
    /* As ssh with a private key: a token others can read is not ours. */
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errcap,
                 "'%s' is accessible by other users; run chmod 600 on it",
                 path);
        goto out;
    }
    if (!read_capped(fd, &text, CONFIG_FILE_MAX)) {
        snprintf(err, errcap, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    ok = parse_text(path, &text, url, urlcap, token, tokencap, err, errcap);
out:
    if (!ok)
        explicit_bzero(token, tokencap);
    if (fd >= 0)
        close(fd);
    buf_release(&text);
    return ok;
}

bool
config_read_token_file(const char *path, char *out, size_t outcap, char *err,
                       size_t errcap)
{
    struct buf text;
    const char *s, *nl;
    size_t len;
    int fd;
    bool ok = false;

    buf_init(&text, TOKEN_FILE_MAX);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errcap, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!read_capped(fd, &text, TOKEN_FILE_MAX)) {
        snprintf(err, errcap, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    s = buf_str(&text);
    nl = memchr(s, '\n', text.len);
    len = nl != NULL ? (size_t)(nl - s) : text.len;
    if (!copy_trimmed(s, len, out, outcap) || !config_token_ok(out)) {
        snprintf(err, errcap, "the first line of '%s' is not a token", path);
        goto out;
    }
    ok = true;
out:
    if (!ok)
        explicit_bzero(out, outcap);
    if (fd >= 0)
        close(fd);
    buf_release(&text);
    return ok;
}

/* Where the URL comes from without the file; false on a bad value. */
static bool
url_override(struct config *cfg, const char *url_flag, char *err, size_t errcap)
{
    const char *env = getenv("PATCTL_URL");
    char why[128];

    if (url_flag != NULL)
        cfg->url_from = "--url";
    else if (env != NULL && env[0] != '\0') {
        url_flag = env;
        cfg->url_from = "PATCTL_URL";
    } else
        return true;
    if (!config_url_check(url_flag, cfg->url, sizeof(cfg->url), why,
                          sizeof(why))) {
        snprintf(err, errcap, "%s: %s", cfg->url_from, why);
        return false;
    }
    return true;
}

/* Where the token comes from without the file; false on a bad value. */
static bool
token_override(struct config *cfg, const char *token_file, char *err,
               size_t errcap)
{
    const char *env = getenv("PATCTL_TOKEN");
    size_t len;

    if (token_file != NULL) {
        cfg->token_from = "--token-file";
        return config_read_token_file(token_file, cfg->token,
                                      sizeof(cfg->token), err, errcap);
    }
    if (env == NULL || env[0] == '\0')
        return true;
    cfg->token_from = "PATCTL_TOKEN";
    if (!config_token_ok(env)) {
        snprintf(err, errcap, "PATCTL_TOKEN does not hold a token");
        return false;
    }
    len = strlen(env);
    memcpy(cfg->token, env, len + 1);
    return true;
}

/* Fills what is still missing from the config file. */
static bool
from_file(struct config *cfg, char *err, size_t errcap)
{
    char url[CONFIG_URL_MAX + 1];
    char token[CONFIG_TOKEN_MAX + 1];
    bool ok = false;

    if (!config_find(cfg, err, errcap) ||
        !config_read_file(cfg->path, url, sizeof(url), token, sizeof(token),
                          err, errcap))
        goto out;
    if (cfg->url[0] == '\0' && cfg->token[0] == '\0' && url[0] == '\0') {
        snprintf(err, errcap,
                 "not logged in; run 'patctl login', or set "
                 "PATCTL_URL and PATCTL_TOKEN");
        goto out;
    }
    if (cfg->url[0] == '\0') {
        if (url[0] == '\0') {
            snprintf(err, errcap,
                     "no server URL; run 'patctl login', or set "
                     "PATCTL_URL");
            goto out;
        }
        memcpy(cfg->url, url, strlen(url) + 1);
        cfg->url_from = cfg->path;
    }
    if (cfg->token[0] == '\0') {
        if (token[0] == '\0') {
            snprintf(err, errcap,
                     "not logged in; run 'patctl login', or set "
                     "PATCTL_TOKEN");
            goto out;
        }
        /* The file's token was verified against the file's server only. */
        if (strcmp(url, cfg->url) != 0) {
            snprintf(err, errcap,
                     "the token in '%s' is for '%s', not '%s'; set "
                     "PATCTL_TOKEN or use --token-file",
                     cfg->path, url, cfg->url);
            goto out;
        }
        memcpy(cfg->token, token, strlen(token) + 1);
        cfg->token_from = cfg->path;
    }
    ok = true;
out:
    explicit_bzero(token, sizeof(token));
    return ok;
}

bool
config_load(struct config *cfg, const char *url_flag, const char *token_file,
            char *err, size_t errcap)
{
    memset(cfg, 0, sizeof(*cfg));
    if (!url_override(cfg, url_flag, err, errcap) ||
        !token_override(cfg, token_file, err, errcap))
        goto fail;
    if ((cfg->url[0] == '\0' || cfg->token[0] == '\0') &&
        !from_file(cfg, err, errcap))
        goto fail;
    return true;
fail:
    config_wipe(cfg);
    return false;
}

bool
config_load_url(struct config *cfg, const char *url_flag, char *err,
                size_t errcap)
{
    char token[CONFIG_TOKEN_MAX + 1];
    bool ok;

    memset(cfg, 0, sizeof(*cfg));
    if (!url_override(cfg, url_flag, err, errcap))
        return false;
    if (cfg->url[0] != '\0')
        return true;
    ok = config_find(cfg, err, errcap) &&
         config_read_file(cfg->path, cfg->url, sizeof(cfg->url), token,
                          sizeof(token), err, errcap);
    explicit_bzero(token, sizeof(token));
    if (ok && cfg->url[0] == '\0') {
        snprintf(err, errcap,
                 "no server URL; use --url, set PATCTL_URL or run "
                 "'patctl login'");
        ok = false;
    }
    if (ok)
        cfg->url_from = cfg->path;
    return ok;
}

void
config_wipe(struct config *cfg)
{
    explicit_bzero(cfg->token, sizeof(cfg->token));
}

/*
 * Creates every missing directory above path (mode 0700), and makes the
 * last one, patctl's own, 0700 if it already existed.
 */
static bool
make_dirs(const char *path, char *err, size_t errcap)
{
    char dir[CONFIG_PATH_MAX];
    struct stat st;
    char *p, *last;
    int n = snprintf(dir, sizeof(dir), "%s", path);

    last = n > 0 && (size_t)n < sizeof(dir) ? strrchr(dir, '/') : NULL;
    if (last == NULL || last == dir) {
        snprintf(err, errcap, "bad config file path '%s'", path);
        return false;
    }
    *last = '\0';
    for (p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
        if (p != NULL)
            *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errcap, "cannot create '%s': %s", dir,
                     strerror(errno));
            return false;
        }
        if (p == NULL)
            break;
        *p = '/';
    }
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "'%s' is not a directory", dir);
        return false;
    }
    if ((st.st_mode & 077) != 0 && st.st_uid == geteuid() &&
        chmod(dir, 0700) != 0) {
        snprintf(err, errcap, "cannot chmod '%s': %s", dir, strerror(errno));
        return false;
    }
    return true;
}

bool
config_save(const char *path, const char *url, const char *token, char *err,
            size_t errcap)
{
    char tmp[CONFIG_PATH_MAX + 8];
    struct buf text;
    int fd = -1, n;
    bool ok = false;

    buf_init(&text, CONFIG_FILE_MAX);
    tmp[0] = '\0';
    if (!make_dirs(path, err, errcap))
        goto out;
    n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        snprintf(err, errcap, "the config file's path is too long");
        tmp[0] = '\0';
        goto out;
    }
    /* mkstemp creates the file 0600; fchmod says so whatever the umask. */
    fd = mkstemp(tmp);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        snprintf(err, errcap, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (!buf_puts(&text, "# patctl configuration, written by 'patctl "
                         "login'.\n# It holds a secret: keep it mode 0600.\n"
                         "url = ") ||
        !buf_puts(&text, url) || !buf_puts(&text, "\ntoken = ") ||
        !buf_puts(&text, token) || !buf_puts(&text, "\n")) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    ok = cli_write_all(fd, buf_str(&text), text.len) && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    fd = -1;
    if (!ok) {
        snprintf(err, errcap, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    ok = false;
    if (rename(tmp, path) != 0) {
        snprintf(err, errcap, "cannot rename '%s' to '%s': %s", tmp, path,
                 strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        unlink(tmp);
    buf_release(&text);
    return ok;
}
