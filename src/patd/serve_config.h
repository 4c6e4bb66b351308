/* SPDX-License-Identifier: MIT */
/*
 * Configuration of patd serve: built-in defaults, then an INI file
 * (--config / PATD_CONFIG), then PATD_* environment variables, then
 * flags. Every limit the server enforces is a key here; patd.conf.example
 * documents each one.
 */
#ifndef PATD_SERVE_CONFIG_H
#define PATD_SERVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct patd_config {
    /* [server] */
    char listen[64]; /* ADDR:PORT */
    long threads;    /* worker threads in the pool */
    long workers;    /* threads for requests that need the store; 0: none */
    char mode[8];    /* "poll" or "epoll" */
    long max_connections; /* open connections in all */
    long max_connections_per_ip;
    long idle_timeout;     /* seconds a connection may sit idle */
    long max_header_bytes; /* request line + headers; 414/431 beyond */
    long max_body_bytes;   /* 413 beyond */
    long max_json_depth;   /* 400 beyond */
    long shutdown_timeout; /* seconds to finish requests in flight */
    bool core_dumps;       /* leave core dumps as the system has them */
    /* [store] */
    char store[1024]; /* sqlite:PATH or PATH */
    /* [session] */
    long session_ttl;   /* seconds */
    bool cookie_secure; /* mark the cookie Secure (behind TLS) */
    /* [login] */
    long login_max_per_user; /* failures per window */
    long login_max_per_ip;
    long login_window;          /* seconds */
    long login_max_tracked;     /* usernames, and addresses, counted at once */
    char trusted_proxies[1024]; /* CIDRs whose X-Forwarded-For is believed */
    /*
     * [server] public_url: the external base URL ("" when not set). Its
     * origin is the only one a cookie request may come from; without it
     * the origin is taken from the Host header.
     */
    char public_url[512];
    /* [session] max_per_user: live sessions a user may hold at once. */
    long session_max_per_user;
    /* [cache] */
    long cache_entries;
    long cache_ttl; /* seconds; the backstop for other nodes */
    /* [usage] */
    long usage_interval; /* seconds between usage writes */
    /* [feed] */
    long feed_retention_days; /* change feed rows older than this go */
    /* [auth] */
    long auth_max_failures; /* failed verifications per address */
    long auth_window;       /* seconds */
    long leak_max_reports;  /* leak reports per address per window */
    /* [log] */
    char access_log[1024]; /* "-" for stderr, "off", or a file path */
    /* [server] request_deadline: seconds for a whole request to arrive */
    long request_deadline;
    /*
     * [sso] (DESIGN.md section 11): OpenID Connect sign-in, off while
     * issuer is empty. map holds one rule a line, "group = scope ...";
     * a repeated map key appends a line.
     */
    char sso_issuer[512];
    char sso_client_id[256];
    char sso_client_secret_file[1024];
    char sso_scopes[512];        /* added to "openid profile email" */
    char sso_username_claim[64]; /* default preferred_username */
    char sso_groups_claim[64];   /* default groups */
    char sso_map[4096];
    char sso_admin_group[256]; /* members get the admin role */
    bool sso_local_passwords;  /* default true */
    bool sso_userinfo;         /* also read the userinfo endpoint */
    /* [tls] PEM files; "" (the default): plain HTTP (tls.h) */
    char tls_cert[1024];
    char tls_key[1024];
    /* [jwt] token exchange (DESIGN.md section 10) */
    char jwt_kek_file[1024]; /* key-encryption key file ("": environment) */
    char jwt_alg[8];         /* RS256, ES256 or EdDSA for new keys */
    char jwt_issuer[512];    /* "": public_url, else http://listen */
    long jwt_lifetime;       /* seconds a JWT lives by default */
    long jwt_max_lifetime;   /* the policy maximum */
    long jwt_prepublish;     /* seconds a new key is published unused; -1:
                                one jwt_lifetime */
    long jwt_status_ttl;     /* seconds a status list may be cached */
    /*
     * [governance] rate_limit_nodes: the nodes that share per-token rate
     * limits; each allows ceil(limit / nodes) (docs/governance.md).
     */
    long rate_limit_nodes;
    /* [webhooks] (docs/webhooks.md) */
    bool webhook_enabled;       /* this node runs a sender */
    long webhook_timeout;       /* seconds a delivery may take */
    long webhook_concurrency;   /* endpoints sent to at once */
    long webhook_poll_ms;       /* idle wait between rounds */
    long webhook_backoff_scale; /* retry waits divided by this (tests) */
    /* [notify] */
    long notify_interval;    /* seconds between expiry scans */
    long notify_day_seconds; /* length of a "day" (86400; tests shorter) */
    /* [smtp] (host "" : no mail) */
    char smtp_host[256];
    long smtp_port;
    char smtp_tls[16]; /* "none", "starttls" or "tls" */
    char smtp_username[256];
    char smtp_password[256]; /* from PATD_SMTP_PASSWORD, or password_file */
    char smtp_password_file[1024];
    char smtp_from[256];
    /* [sso] bounds on GET /v1/sso/start (unauthenticated, writes a grant) */
    long sso_max_starts_per_ip; /* per [auth] window */
    long sso_max_pending;       /* unexpired sign-in grants, all clients */
};

/* Fills c with the built-in defaults. */
void patd_config_defaults(struct patd_config *c);

/*
 * Reads the INI file path into c. Unknown sections or keys and bad values
 * are refused: err receives "FILE:LINE: reason". Returns 0 or -1.
 */
int patd_config_load(struct patd_config *c, const char *path, char *err,
                     size_t errlen);

/* The same for INI text in memory (NUL-terminated), called name in err. */
int patd_config_load_text(struct patd_config *c, const char *text,
                          const char *name, char *err, size_t errlen);

/*
 * Applies PATD_<SECTION>_<KEY> variables (and the short PATD_LISTEN,
 * PATD_STORE, PATD_DB). Returns 0, or -1 with err naming the variable.
 */
int patd_config_env(struct patd_config *c, char *err, size_t errlen);

/* Sets one "section.key" to value (flags use it). 0 or -1 with err. */
int patd_config_set(struct patd_config *c, const char *section, const char *key,
                    const char *value, char *err, size_t errlen);

#endif
