/* SPDX-License-Identifier: MIT */
/*
 * patd: the daemon (patd serve) and its local admin commands. This file
 * only picks the command; each lives in its own cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "admin_cmd.h"
#include "hygiene.h"

static int
cmd_version(struct cmd_ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    printf("patd %s (schema %d)\n", PATD_VERSION, pat_store_schema_latest());
    return EXIT_DONE;
}

static const struct cli_cmd commands[] = {
    {"init",
     "init [--db PATH] [--admin NAME] [--prefix PREFIX] [--token-file FILE] "
     "[--json]",
     cmd_init},
    {"serve",
     "serve [--config FILE] [--db PATH | --store URL] [--listen ADDR:PORT]",
     cmd_serve},
    {"migrate", "migrate [--db PATH]", cmd_migrate},
    {"export", "export [--db PATH] [--output FILE]", cmd_export},
    {"import", "import [--db PATH] [--input FILE]   (an empty store)",
     cmd_import},
    {"user",
     "user add|list|show|disable|enable|set-scopes|passwd ... (patd user "
     "--help)",
     cmd_user},
    {"scope", "scope add|list ... (patd scope --help)", cmd_scope},
    {"token",
     "token create|list|show|rename|regenerate|revoke|verify ... (patd token "
     "--help)",
     cmd_token},
    {"audit", "audit list ... (patd audit --help)", cmd_audit},
    {"routes", "routes   (the HTTP routes, one 'METHOD PATH' a line)",
     cmd_routes},
    {"version", "version", cmd_version},
    {"keys", "keys list|rotate|retire ... (patd keys --help)", cmd_keys},
    {NULL, NULL, NULL},
};

/*
 * getopt names a command by its own word ("add: unrecognized option"),
 * and patd user's commands read that word back as their verb.
 */
static const struct cli_program program = {"patd", admin_common_opt, false};

int
main(int argc, char **argv)
{
    struct cmd_ctx c;

    hygiene_install(); /* before any jansson allocation */
    memset(&c, 0, sizeof(c));
    cli_init(&program);
    if (argc >= 2 && strcmp(argv[1], "--version") == 0)
        return cmd_version(&c, argc - 1, argv + 1);
    return cli_dispatch(&c, commands, argc, argv);
}
