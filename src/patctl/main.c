/* SPDX-License-Identifier: MIT */
/*
 * patctl: the command-line client of the patd HTTP API. This file reads
 * the options that come before the command and picks the command; each
 * command group lives in its own cmd_*.c file.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl.h"
#include "banned.h"

static int
cmd_version(struct cmd_ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    printf("patctl %s (%s)\n", PATD_VERSION, curl_version());
    return EXIT_DONE;
}

static const struct cli_cmd commands[] = {
    {"login", "login [--url URL] [--token-file FILE]", cmd_login},
    {"logout", "logout [--revoke]", cmd_logout},
    {"whoami", "whoami", cmd_whoami},
    {"token",
     "token list|create|show|rename|regenerate|revoke ... (patctl token "
     "--help)",
     cmd_token},
    {"user",
     "user list|create|show|disable|enable|set-scopes|delete ... (patctl "
     "user --help)",
     cmd_user},
    {"tokens", "tokens list|show|revoke|bulk-revoke ... (patctl tokens --help)",
     cmd_tokens},
    {"audit",
     "audit [--since TIME] [--action ACTION] [--actor USER_ID] [--target ID] "
     "| audit --mine",
     cmd_audit},
    {"events", "events [--after SEQ] [--limit N]", cmd_events},
    {"verify", "verify [--scope SCOPE]... [--audience AUD] < TOKEN",
     cmd_verify},
    {"scan", "scan [--show] [--report URL] [PATH...]", cmd_scan},
    {"webhook",
     "webhook list|add|show|enable|disable|delete|secret|test|deliveries|"
     "redeliver ... (patctl webhook --help)",
     cmd_webhook},
    {"version", "version", cmd_version},
    {NULL, NULL, NULL},
};

/*
 * jansson's memory is wiped before it is freed: parsed answers hold new
 * tokens and request bodies may hold a password.
 */
static void
wiping_free(void *p)
{
    if (p != NULL) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

/* Every argument must be UTF-8, as every JSON string patctl sends is. */
static int
check_utf8(int argc, char **argv)
{
    json_t *s;
    int i;

    for (i = 1; i < argc; i++) {
        s = json_string(argv[i]);
        if (s == NULL) {
            fprintf(stderr, "patctl: argument %d is not valid UTF-8\n", i);
            return EXIT_USAGE;
        }
        json_decref(s);
    }
    return EXIT_DONE;
}

/*
 * Reads the options before the command; -1 to go on, else the status.
 * Only patctl takes options there, and they are parsed unlike a
 * command's (stop at the first operand; --help means the command
 * list), so this loop is patctl's own, as git.c reads git's options
 * before any builtin's parse_options.
 */
static int
global_opts(struct cmd_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_COMMON_OPTS,
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt, status;

    /* '+': stop at the command, whose own options follow it. */
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        status = ctl_common_opt(c, opt, optarg);
        if (status == CLI_OPT_TAKEN)
            continue;
        if (status != CLI_OPT_OTHER)
            return status;
        if (opt == 'V')
            return cmd_version(c, 0, NULL);
        if (opt == 'h')
            return -2;
        return EXIT_USAGE;
    }
    return -1;
}

/*
 * getopt names the whole command ("patctl token create: unrecognized
 * option"), which cli_dispatch passes down as argv[0].
 */
static const struct cli_program program = {"patctl", ctl_common_opt, true};

int
main(int argc, char **argv)
{
    struct cmd_ctx c;
    int status;

    memset(&c, 0, sizeof(c));
    cli_init(&program);
    json_set_alloc_funcs(malloc, wiping_free);
    status = check_utf8(argc, argv);
    if (status != EXIT_DONE)
        return status;
    status = global_opts(&c, argc, argv);
    if (status >= 0)
        return status;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cli_refuse("cannot start libcurl");
    /* cli_dispatch wants argv[0] = the group and argv[1] = the command. */
    if (status == -2 || optind >= argc)
        status = cli_dispatch(&c, commands, status == -2 ? 2 : 1,
                              (char *[]){argv[0], "--help", NULL});
    else
        status =
            cli_dispatch(&c, commands, argc - optind + 1, argv + optind - 1);
    ctl_release(&c);
    curl_global_cleanup();
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_refuse("cannot write the output");
    return status;
}
