/* SPDX-License-Identifier: MIT */
/*
 * patd serve (settings: defaults < config file < PATD_* environment <
 * flags) and patd routes (the route table, for the OpenAPI parity test).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmd.h"
#include "hygiene.h"
#include "serve_config.h"
#include "routes.h"
#include "server.h"
#include "sso.h"
#include "tls.h"

struct serve_args {
    const char *config;
    const char *store;
    const char *listen;
};

static int
serve_opt(int opt, const char *arg, void *ctx)
{
    struct serve_args *a = ctx;

    switch (opt) {
    case 'c':
        a->config = arg;
        return 0;
    case 'l':
        a->listen = arg;
        return 0;
    default:
        return 1;
    }
}

/*
 * Opens the store once before serving: migrates it and fails fast.
 * Returns EXIT_DONE, or EXIT_REFUSED after saying why.
 */
static int
check_store(const struct patd_config *cfg)
{
    struct pat_store *st = NULL;
    char err[512] = "";
    int rc = pat_store_open(cfg->store, 0, &st, err, sizeof(err));

    if (rc == PAT_OK && pat_store_prefix(st) == NULL)
        rc = PAT_ENOTINIT;
    pat_store_close(st);
    if (rc == PAT_OK)
        return EXIT_DONE;
    return cli_refuse("cannot serve '%s': %s", cfg->store,
                      err[0] ? err : pat_strerror(rc));
}

int
cmd_serve(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "serve [--config FILE] [--db PATH | --store URL] "
        "[--listen ADDR:PORT]";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct serve_args a = {NULL, NULL, NULL};
    struct patd_config cfg;
    char err[512];
    int status;

    status = cli_parse(c, argc, argv, opts, usage, serve_opt, &a);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (a.config == NULL)
        a.config = getenv("PATD_CONFIG");
    patd_config_defaults(&cfg);
    if ((a.config != NULL && a.config[0] != '\0' &&
         patd_config_load(&cfg, a.config, err, sizeof(err)) != 0) ||
        patd_config_env(&cfg, err, sizeof(err)) != 0 ||
        (c->db != NULL &&
         patd_config_set(&cfg, "store", "url", c->db, err, sizeof(err)) != 0) ||
        (a.listen != NULL && patd_config_set(&cfg, "server", "listen", a.listen,
                                             err, sizeof(err)) != 0)) {
        fprintf(stderr, "patd: %s\n", err);
        return EXIT_USAGE;
    }
    if (hygiene_core_dumps(cfg.core_dumps) != 0)
        return EXIT_REFUSED;
    status = check_store(&cfg);
    if (status != EXIT_DONE)
        return status;
    if (sso_init(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "patd: %s\n", err);
        return EXIT_USAGE;
    }
    if (tls_start(cfg.tls_cert, cfg.tls_key, err, sizeof(err)) != 0) {
        sso_release();
        return cli_refuse("cannot serve over TLS: %s", err);
    }
    if (tls_on())
        cfg.cookie_secure = true; /* a cookie sent over TLS stays there */
    status = server_run(&cfg);
    tls_stop();
    sso_release();
    return status;
}

int
cmd_routes(struct cmd_ctx *c, int argc, char **argv)
{
    const struct route *rt;

    (void)c;
    (void)argc;
    (void)argv;
    const char *const *m;

    for (rt = routes; rt->method != NULL; rt++) {
        if (strcmp(rt->method, ROUTE_ANY) != 0) {
            printf("%s %s\n", rt->method, rt->pattern);
            continue;
        }
        for (m = route_any_methods; *m != NULL; m++)
            printf("%s %s\n", *m, rt->pattern);
    }
    return EXIT_DONE;
}
