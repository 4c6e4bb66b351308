/* SPDX-License-Identifier: MIT */
/* patd scope add|list: the scope catalog. */
#include <getopt.h>
#include <string.h>

#include "admin_cmd.h"

static int
scope_opt(int opt, const char *arg, void *ctx)
{
    if (opt != 'd')
        return 1;
    *(const char **)ctx = arg;
    return 0;
}

static int
scope_add(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "scope add NAME [--description TEXT] [--db PATH]";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"description", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct pat_store *st = NULL;
    const char *desc = "";
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, scope_opt, &desc);
    if (status >= 0)
        return status;
    if (argc - optind != 1)
        return cli_usage_error(usage, "expected one scope name");
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_scope_put(st, NULL, argv[optind], desc);
    if (rc != PAT_OK)
        status = admin_refuse(c, "cannot add the scope", rc);
    pat_store_close(st);
    return status;
}

static int
scope_list(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "scope list [--db PATH] [--json]";
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    struct pat_scope scopes[256];
    struct pat_store *st = NULL;
    size_t n = 0, i;
    int rc, status;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    status = admin_open(c, 0, &st);
    if (status != EXIT_DONE)
        return status;
    rc = pat_scope_list(st, scopes, sizeof(scopes) / sizeof(scopes[0]), &n);
    if (rc != PAT_OK) {
        status = admin_refuse(c, "cannot list scopes", rc);
    } else if (c->json) {
        json_t *a = json_array();
        for (i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "name",
                                               scopes[i].name, "description",
                                               scopes[i].description, "builtin",
                                               scopes[i].builtin));
        admin_print_json(json_pack("{s:o}", "items", a));
    } else {
        for (i = 0; i < n; i++)
            printf("%-32s %s%s\n", scopes[i].name, scopes[i].description,
                   scopes[i].builtin ? " (built in)" : "");
    }
    pat_store_close(st);
    return status;
}

int
cmd_scope(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct cli_cmd cmds[] = {
        {"add", "scope add NAME [--description TEXT] [--db PATH]", scope_add},
        {"list", "scope list [--db PATH] [--json]", scope_list},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(c, cmds, argc, argv);
}
