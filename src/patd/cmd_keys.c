/* SPDX-License-Identifier: MIT */
/*
 * patd keys list|rotate|retire: the JWT signing keys of token exchange,
 * on the store directly (the admin API has the same at /v1/keys). The
 * key-encryption key comes from PATD_JWT_KEK or PATD_JWT_KEK_FILE.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin_cmd.h"
#include "jwt.h"

struct rotate_args {
    const char *alg;
    long prepublish;
};

static int
rotate_opt(int opt, const char *arg, void *ctx)
{
    struct rotate_args *a = ctx;
    char *end = NULL;

    switch (opt) {
    case 'a':
        a->alg = arg;
        return 0;
    case 'p':
        a->prepublish = strtol(arg, &end, 10);
        return (end == arg || *end != '\0' || a->prepublish < 0 ||
                a->prepublish > 86400)
                   ? 1
                   : 0;
    default:
        return 1;
    }
}

static const char *
state_of(const struct pat_signing_key *k, const struct pat_signing_key *all,
         size_t n, int64_t now)
{
    size_t i;

    if (k->retired_at != 0)
        return "retired";
    if (k->active_at > now)
        return "next";
    /* The newest active, unretired key signs. */
    for (i = 0; i < n; i++)
        if (&all[i] != k && all[i].retired_at == 0 && all[i].active_at <= now &&
            all[i].active_at > k->active_at)
            return "previous";
    return "current";
}

static int
keys_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "keys list [--db PATH] [--json]";
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    struct pat_signing_key *rows = NULL;
    struct pat_store *st = NULL;
    size_t n = 0, i;
    int64_t now;
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rows = calloc(64, sizeof(*rows));
    rc = rows ? pat_keys_list(st, rows, 64, &n) : PAT_ENOMEM;
    now = pat_store_now(st);
    if (rc != PAT_OK) {
        status = admin_refuse(c, "cannot list keys", rc);
    } else if (c->json) {
        json_t *a = json_array();
        for (i = 0; i < n; i++)
            json_array_append_new(
                a, json_pack("{ss ss ss sI sI sI}", "kid", rows[i].kid, "alg",
                             rows[i].alg, "state",
                             state_of(&rows[i], rows, n, now), "created_at",
                             (json_int_t)rows[i].created_at, "active_at",
                             (json_int_t)rows[i].active_at, "retired_at",
                             (json_int_t)rows[i].retired_at));
        admin_print_json(json_pack("{so}", "items", a));
    } else {
        for (i = 0; i < n; i++)
            printf("%-18s %-6s %-9s active_at %lld%s\n", rows[i].kid,
                   rows[i].alg, state_of(&rows[i], rows, n, now),
                   (long long)rows[i].active_at,
                   rows[i].retired_at ? " (retired)" : "");
    }
    if (rows != NULL)
        OPENSSL_cleanse(rows, 64 * sizeof(*rows));
    free(rows);
    pat_store_close(st);
    return status;
}

static int
keys_rotate(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "keys rotate [--alg RS256|ES256|EdDSA] [--prepublish SECONDS] "
        "[--db PATH] [--json]";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"alg", required_argument, NULL, 'a'},
        {"prepublish", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct rotate_args a = {"RS256", 300};
    struct pat_signing_key k;
    struct pat_store *st = NULL;
    uint8_t kek[PAT_KEK_LEN];
    char err[256] = "";
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, rotate_opt, &a);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    rc = pat_kek_load(NULL, kek, err, sizeof(err));
    if (rc != PAT_OK)
        return cli_refuse("%s", rc == PAT_ENOTFOUND
                                    ? "no key-encryption key: set "
                                      "PATD_JWT_KEK or PATD_JWT_KEK_FILE"
                                    : err);
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        goto out;
    rc = pat_key_create(st, NULL, kek, a.alg, pat_store_now(st) + a.prepublish,
                        &k);
    if (rc != PAT_OK) {
        status = admin_refuse(c, "cannot create a key", rc);
    } else if (c->json) {
        admin_print_json(json_pack("{ss ss sI}", "kid", k.kid, "alg", k.alg,
                                   "active_at", (json_int_t)k.active_at));
    } else {
        printf("%s %s signs from %lld\n", k.kid, k.alg, (long long)k.active_at);
    }
    OPENSSL_cleanse(&k, sizeof(k));
out:
    OPENSSL_cleanse(kek, sizeof(kek));
    pat_store_close(st);
    return status;
}

static int
keys_retire(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "keys retire KID [--db PATH]";
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    struct pat_store *st = NULL;
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
    if (status >= 0)
        return status;
    if (argc - optind != 1)
        return cli_usage_error(usage, "expected one key id");
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_key_retire(st, NULL, argv[optind]);
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot retire the key", rc);
    pat_store_close(st);
    return status;
}

int
cmd_keys(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"list", "keys list [--db PATH] [--json]", keys_list},
        {"rotate",
         "keys rotate [--alg RS256|ES256|EdDSA] [--prepublish SECONDS] "
         "[--db PATH] [--json]",
         keys_rotate},
        {"retire", "keys retire KID [--db PATH]", keys_retire},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
