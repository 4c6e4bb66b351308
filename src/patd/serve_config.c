/* SPDX-License-Identifier: MIT */
/*
 * patd serve configuration (see serve_config.h): one table names every key, its
 * type, range and place in struct patd_config, and serves the INI file,
 * the environment and the flags alike.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "serve_config.h"
#include "pat/pat.h"
#include "banned.h"

enum kind { K_LONG, K_BOOL, K_STR, K_LINES };

struct key {
    const char *section;
    const char *name;
    enum kind kind;
    size_t offset;
    size_t size; /* K_STR: buffer size */
    long min, max;
};

#define L(sec, nm, field, lo, hi)                                              \
    {                                                                          \
        sec, nm, K_LONG, offsetof(struct patd_config, field), 0, lo, hi        \
    }
#define B(sec, nm, field)                                                      \
    {                                                                          \
        sec, nm, K_BOOL, offsetof(struct patd_config, field), 0, 0, 1          \
    }
/* K_STR: min is the shortest value allowed, S a required one, O optional. */
#define STR(sec, nm, field, least)                                             \
    {                                                                          \
        sec, nm, K_STR, offsetof(struct patd_config, field),                   \
            sizeof(((struct patd_config *)0)->field), least, 0                 \
    }
#define S(sec, nm, field) STR(sec, nm, field, 1)
#define O(sec, nm, field) STR(sec, nm, field, 0)

static const struct key keys[] = {
    S("server", "listen", listen),
    L("server", "threads", threads, 1, 64),
    L("server", "workers", workers, 0, 64),
    S("server", "mode", mode),
    L("server", "max_connections", max_connections, 1, 100000),
    L("server", "max_connections_per_ip", max_connections_per_ip, 1, 100000),
    L("server", "idle_timeout", idle_timeout, 1, 3600),
    L("server", "max_header_bytes", max_header_bytes, 4096, 1048576),
    L("server", "max_body_bytes", max_body_bytes, 1024, 16777216),
    L("server", "max_json_depth", max_json_depth, 2, 64),
    L("server", "shutdown_timeout", shutdown_timeout, 0, 600),
    B("server", "core_dumps", core_dumps),
    S("store", "url", store),
    L("session", "ttl", session_ttl, 60, 2592000),
    B("session", "cookie_secure", cookie_secure),
    L("session", "max_per_user", session_max_per_user, 1, 1000),
    L("login", "max_failures_per_user", login_max_per_user, 1, 100000),
    L("login", "max_failures_per_ip", login_max_per_ip, 1, 100000),
    L("login", "window", login_window, 1, 86400),
    L("login", "max_tracked", login_max_tracked, 16, 1048576),
    O("server", "trusted_proxies", trusted_proxies),
    O("server", "public_url", public_url),
    L("cache", "max_entries", cache_entries, 1000, 100000000),
    L("cache", "ttl", cache_ttl, 1, 3600),
    L("usage", "interval", usage_interval, 1, 3600),
    L("feed", "retention_days", feed_retention_days, 1, 3650),
    L("auth", "max_failures_per_ip", auth_max_failures, 1, 1000000),
    L("auth", "window", auth_window, 1, 86400),
    L("auth", "max_leak_reports_per_ip", leak_max_reports, 1, 1000000),
    S("log", "access", access_log),
    L("server", "request_deadline", request_deadline, 1, 3600),
    O("sso", "issuer", sso_issuer),
    O("sso", "client_id", sso_client_id),
    O("sso", "client_secret_file", sso_client_secret_file),
    O("sso", "scopes", sso_scopes),
    O("sso", "username_claim", sso_username_claim),
    O("sso", "groups_claim", sso_groups_claim),
    {"sso", "map", K_LINES, offsetof(struct patd_config, sso_map),
     sizeof(((struct patd_config *)0)->sso_map), 0, 0},
    O("sso", "admin_group", sso_admin_group),
    B("sso", "local_passwords", sso_local_passwords),
    B("sso", "userinfo", sso_userinfo),
    O("tls", "cert", tls_cert),
    O("tls", "key", tls_key),
    O("jwt", "kek_file", jwt_kek_file),
    S("jwt", "alg", jwt_alg),
    O("jwt", "issuer", jwt_issuer),
    L("jwt", "lifetime", jwt_lifetime, 1, 3600),
    L("jwt", "max_lifetime", jwt_max_lifetime, 1, 3600),
    L("jwt", "prepublish", jwt_prepublish, -1, 86400),
    L("jwt", "status_ttl", jwt_status_ttl, 1, 3600),
    L("governance", "rate_limit_nodes", rate_limit_nodes, 1, 1000),
    B("webhooks", "enabled", webhook_enabled),
    L("webhooks", "timeout", webhook_timeout, 1, 60),
    L("webhooks", "concurrency", webhook_concurrency, 1, 64),
    L("webhooks", "poll_ms", webhook_poll_ms, 10, 60000),
    L("webhooks", "backoff_scale", webhook_backoff_scale, 1, 1000000),
    L("notify", "interval", notify_interval, 1, 86400),
    L("notify", "day_seconds", notify_day_seconds, 1, 86400),
    O("smtp", "host", smtp_host),
    L("smtp", "port", smtp_port, 1, 65535),
    S("smtp", "tls", smtp_tls),
    O("smtp", "username", smtp_username),
    O("smtp", "password", smtp_password),
    O("smtp", "password_file", smtp_password_file),
    O("smtp", "from", smtp_from),
    L("sso", "max_starts_per_ip", sso_max_starts_per_ip, 1, 1000000),
    L("sso", "max_pending", sso_max_pending, 1, 100000000),
};

void
patd_config_defaults(struct patd_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8080");
    c->threads = 2;
    c->workers = 2;
    snprintf(c->mode, sizeof(c->mode), "poll");
    c->max_connections = 1024;
    c->max_connections_per_ip = 64;
    c->idle_timeout = 30;
    c->max_header_bytes = 16384;
    c->max_body_bytes = 65536;
    c->max_json_depth = 16;
    c->shutdown_timeout = 10;
    c->core_dumps = false;
    snprintf(c->store, sizeof(c->store), "sqlite:./var/patd.db");
    c->session_ttl = 43200;
    c->cookie_secure = false;
    c->session_max_per_user = 10;
    c->login_max_per_user = 5;
    c->login_max_per_ip = 20;
    c->login_window = 300;
    c->login_max_tracked = 16384;
    snprintf(c->access_log, sizeof(c->access_log), "-");
    c->trusted_proxies[0] = '\0';
    c->cache_entries = 1000000;
    c->cache_ttl = 10;
    c->usage_interval = 60;
    c->feed_retention_days = 30;
    c->auth_max_failures = 100;
    c->auth_window = 60;
    c->leak_max_reports = 10;
    c->request_deadline = 10;
    snprintf(c->sso_username_claim, sizeof(c->sso_username_claim),
             "preferred_username");
    snprintf(c->sso_groups_claim, sizeof(c->sso_groups_claim), "groups");
    c->sso_local_passwords = true;
    snprintf(c->jwt_alg, sizeof(c->jwt_alg), "RS256");
    c->jwt_lifetime = 300;
    c->jwt_max_lifetime = 3600;
    c->jwt_prepublish = -1;
    c->jwt_status_ttl = 30;
    c->rate_limit_nodes = 1;
    c->webhook_enabled = true;
    c->webhook_timeout = 15;
    c->webhook_concurrency = 8;
    c->webhook_poll_ms = 1000;
    c->webhook_backoff_scale = 1;
    c->notify_interval = 3600;
    c->notify_day_seconds = 86400;
    c->smtp_port = 587;
    snprintf(c->smtp_tls, sizeof(c->smtp_tls), "starttls");
    c->sso_max_starts_per_ip = 30;
    c->sso_max_pending = 10000;
}

static const struct key *
find_key(const char *section, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

/* Checks a value that only some strings may take. */
static const char *
check_string(const struct key *k, const char *v)
{
    if (strcmp(k->name, "mode") == 0 && strcmp(v, "poll") != 0 &&
        strcmp(v, "epoll") != 0)
        return "must be 'poll' or 'epoll'";
    if (strcmp(k->name, "listen") == 0 && strrchr(v, ':') == NULL)
        return "must be ADDRESS:PORT";
    if (strcmp(k->section, "smtp") == 0 && strcmp(k->name, "tls") == 0 &&
        strcmp(v, "none") != 0 && strcmp(v, "starttls") != 0 &&
        strcmp(v, "tls") != 0)
        return "must be 'none', 'starttls' or 'tls'";
    if (v[0] == '\0' && k->min > 0)
        return "must not be empty";
    if (strcmp(k->name, "public_url") == 0 && v[0] != '\0' &&
        strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
        return "must be empty or start with http:// or https://";
    if (strcmp(k->section, "sso") == 0 && strcmp(k->name, "issuer") == 0 &&
        v[0] != '\0' && strncmp(v, "http://", 7) != 0 &&
        strncmp(v, "https://", 8) != 0)
        return "must be empty or start with https:// (or http://)";
    if (strcmp(k->name, "trusted_proxies") == 0 &&
        pat_cidr_list_check(v) != PAT_OK)
        return "must be a space-separated list of address ranges";
    return NULL;
}

/* Stores v into the field of k; returns NULL or a reason. */
static const char *
set_value(struct patd_config *c, const struct key *k, const char *v)
{
    char *field = (char *)c + k->offset;
    const char *why;
    char *end = NULL;
    long n;

    switch (k->kind) {
    case K_LONG:
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0')
            return "is not a whole number";
        if (n < k->min || n > k->max)
            return "is out of range";
        *(long *)(void *)field = n;
        return NULL;
    case K_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
            strcmp(v, "1") == 0)
            *(bool *)(void *)field = true;
        else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
                 strcmp(v, "0") == 0)
            *(bool *)(void *)field = false;
        else
            return "must be true or false";
        return NULL;
    case K_STR:
        why = check_string(k, v);
        if (why != NULL)
            return why;
        if (strlen(v) >= k->size)
            return "is too long";
        memcpy(field, v, strlen(v) + 1);
        return NULL;
    case K_LINES:
        /* Each occurrence adds a line; ';' separates rules in one value. */
        {
            size_t used = strlen(field);

            if (used + strlen(v) + 2 > k->size)
                return "is too long";
            snprintf(field + used, k->size - used, "%s%s", used ? "\n" : "", v);
            return NULL;
        }
    }
    return "has an unknown type";
}

int
patd_config_set(struct patd_config *c, const char *section, const char *key,
                const char *value, char *err, size_t errlen)
{
    const struct key *k = find_key(section, key);
    const char *why;

    if (k == NULL) {
        snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
        return -1;
    }
    why = set_value(c, k, value);
    if (why != NULL) {
        snprintf(err, errlen, "%s.%s = '%.64s' %s", section, key, value, why);
        return -1;
    }
    return 0;
}

struct load {
    struct patd_config *c;
    char reason[256];
};

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load *l = user;

    if (name == NULL) /* a section header alone */
        return 1;
    return patd_config_set(l->c, section, name, value, l->reason,
                           sizeof(l->reason)) == 0;
}

/* Words the result of ini_parse or ini_parse_string of name. */
static int
load_result(const struct load *l, int line, const char *name, char *err,
            size_t errlen)
{
    if (line == 0)
        return 0;
    if (line < 0)
        snprintf(err, errlen, "%s: cannot read the file", name);
    else
        snprintf(err, errlen, "%s:%d: %s", name, line,
                 l->reason[0] ? l->reason : "syntax error");
    return -1;
}

int
patd_config_load(struct patd_config *c, const char *path, char *err,
                 size_t errlen)
{
    struct load l = {c, ""};

    return load_result(&l, ini_parse(path, on_ini, &l), path, err, errlen);
}

int
patd_config_load_text(struct patd_config *c, const char *text, const char *name,
                      char *err, size_t errlen)
{
    struct load l = {c, ""};

    return load_result(&l, ini_parse_string(text, on_ini, &l), name, err,
                       errlen);
}

int
patd_config_env(struct patd_config *c, char *err, size_t errlen)
{
    static const struct {
        const char *var, *section, *key;
    } aliases[] = {
        {"PATD_DB", "store", "url"},
        {"PATD_STORE", "store", "url"},
        {"PATD_LISTEN", "server", "listen"},
    };
    char var[96], reason[256];
    size_t i, j;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v;
        int n = snprintf(var, sizeof(var), "PATD_%s_%s", keys[i].section,
                         keys[i].name);
        for (j = 0; j < (size_t)n; j++)
            var[j] = (char)toupper((unsigned char)var[j]);
        v = getenv(var);
        if (v != NULL && patd_config_set(c, keys[i].section, keys[i].name, v,
                                         reason, sizeof(reason)) != 0) {
            snprintf(err, errlen, "%s: %s", var, reason);
            return -1;
        }
    }
    for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        const char *v = getenv(aliases[i].var);
        if (v != NULL && v[0] != '\0' &&
            patd_config_set(c, aliases[i].section, aliases[i].key, v, reason,
                            sizeof(reason)) != 0) {
            snprintf(err, errlen, "%s: %s", aliases[i].var, reason);
            return -1;
        }
    }
    return 0;
}
