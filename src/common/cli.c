/* SPDX-License-Identifier: MIT */
/*
 * The command-line plumbing of cli.h, shared by patd and patctl: the
 * getopt loop every command runs, dispatch through subcommand tables,
 * and the messages that end a command.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

/* The program being served (cli_init); borrowed for the whole run. */
static const struct cli_program *program;

/*
 * The command as far as cli_dispatch has descended ("patctl token
 * create"): what getopt names when argv0_whole_command is set, and where
 * "unknown command" finds the group.
 */
static char progname[96];

void
cli_init(const struct cli_program *prog)
{
    program = prog;
    snprintf(progname, sizeof(progname), "%s", prog->name);
}

/* Prints "NAME: why" and a newline on stderr. */
static void
vsay(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", program->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

void
cli_usage(FILE *f, const char *usage)
{
    fprintf(f, "usage: %s %s\n", program->name, usage);
}

int
cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    cli_usage(stderr, usage);
    return EXIT_USAGE;
}

int
cli_refuse(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return EXIT_REFUSED;
}

int
cli_parse(struct cmd_ctx *c, int argc, char **argv, const struct option *opts,
          const char *usage, cli_opt_cb fn, void *ctx)
{
    int opt, status;

    /* 0, not 1: GNU getopt then starts afresh for each command. */
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        status = program->common_opt != NULL
                     ? program->common_opt(c, opt, optarg)
                     : CLI_OPT_OTHER;
        if (status == CLI_OPT_TAKEN)
            continue;
        if (status != CLI_OPT_OTHER)
            return status;
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

/* Appends " word" to progname, unless it would not fit. */
static void
descend(const char *word)
{
    size_t len = strlen(progname), wlen = strlen(word);

    if (len + 1 + wlen < sizeof(progname)) {
        progname[len] = ' ';
        memcpy(progname + len + 1, word, wlen + 1);
    }
}

int
cli_dispatch(struct cmd_ctx *c, const struct cli_cmd *cmds, int argc,
             char **argv)
{
    const struct cli_cmd *cmd;
    size_t len = strlen(progname), base = strlen(program->name);
    bool help;

    help = argc < 2 || strcmp(argv[1], "--help") == 0 ||
           strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0;
    for (cmd = cmds; !help && cmd->name != NULL; cmd++) {
        if (strcmp(cmd->name, argv[1]) != 0)
            continue;
        descend(cmd->name);
        if (program->argv0_whole_command)
            argv[1] = progname;
        return cmd->run(c, argc - 1, argv + 1);
    }
    /* progname is the program, then the group (if any) that led here. */
    if (!help)
        say("unknown command '%s%s%s'", len > base ? progname + base + 1 : "",
            len > base ? " " : "", argv[1]);
    for (cmd = cmds; cmd->name != NULL; cmd++)
        cli_usage(help ? stdout : stderr, cmd->usage);
    return help && argc >= 2 ? EXIT_DONE : EXIT_USAGE;
}
