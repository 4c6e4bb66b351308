/* SPDX-License-Identifier: MIT */
/*
 * The command line of patd and patctl, written once for both (as git's
 * parse-options.h serves every builtin): parsing a command's options,
 * dispatching to subcommands through tables, usage lines, and the one
 * line on stderr that ends a refused or mistaken command. A program
 * describes itself once, in main, with cli_init; its commands then only
 * name their own options and usage. See docs/internals/cli.md.
 *
 * Exit status, the same for every command of both programs: 0 done,
 * 1 refused (one line on stderr says why), 2 usage (one line says what
 * was wrong, then the usage).
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/*
 * The state of one run of a program: the options every command takes
 * and whatever the program keeps from one command to the next. The
 * plumbing only passes it along, from main through cli_dispatch to the
 * commands and through cli_parse to the program's common_opt, and never
 * looks inside: each program defines it (patd in admin_cmd.h, patctl in
 * ctl.h).
 */
struct cmd_ctx;

/*
 * What a program's common_opt says of one option: taken (recorded in the
 * cmd_ctx), another (not an option every command takes: the command's
 * own callback gets it), or else an exit status > 0 to stop with, after
 * saying why on stderr.
 */
enum { CLI_OPT_OTHER = -1, CLI_OPT_TAKEN = 0 };

/* What the plumbing needs to know of the program it serves. */
struct cli_program {
    /* "patd": the first word of every message and usage line. */
    const char *name;
    /*
     * Handles the options every command of the program takes (they are
     * in every option table, and cli_parse offers each option here
     * first). NULL when there are none.
     */
    int (*common_opt)(struct cmd_ctx *c, int opt, const char *arg);
    /*
     * cli_dispatch hands a command, as argv[0], the whole command so far
     * ("patctl token create"), which getopt then names in its messages;
     * when false, only the command's own word ("create"), which some of
     * patd's commands read back as their verb.
     */
    bool argv0_whole_command;
};

/*
 * Sets the plumbing up for prog (borrowed for the rest of the run). main
 * calls it once, before anything else of this file.
 */
void cli_init(const struct cli_program *prog);

/* The --help entry of every option table; cli_parse answers it. */
#define CLI_OPT_HELP                                                           \
    {                                                                          \
        "help", no_argument, NULL, 'h'                                         \
    }

/*
 * A command's own options: opt is the code of its struct option and arg
 * its argument (NULL for a flag). Returns 0, or nonzero for a value that
 * is not acceptable (cli_parse then prints the usage and returns 2); a
 * callback that wants its own message records the value in ctx and
 * returns 0, for the command to refuse after parsing.
 */
typedef int (*cli_opt_cb)(int opt, const char *arg, void *ctx);

/*
 * Parses the options of a command (argv[0] is the command) with
 * getopt_long and the table opts (ended by a zero entry, holding the
 * program's common options and CLI_OPT_HELP). An option every command
 * takes goes to the program's common_opt, --help prints usage on stdout,
 * and any other option to fn with ctx (fn may be NULL when there is
 * none). Options may come in any order and repeat, and may follow
 * operands. Returns -1 when parsing went through (the operands are
 * argv[optind] to argv[argc - 1]), else the exit status to return: 0
 * after --help, 2 after an unknown option or a value fn refused (getopt
 * has named it; the usage follows on stderr), or what common_opt
 * stopped with.
 */
int cli_parse(struct cmd_ctx *c, int argc, char **argv,
              const struct option *opts, const char *usage, cli_opt_cb fn,
              void *ctx);

/*
 * A subcommand: its name, its usage line (without "usage: NAME "), and
 * the function that runs it with its own argv (argv[0] its name, see
 * argv0_whole_command). A table ends with an entry whose name is NULL.
 */
struct cli_cmd {
    const char *name;
    const char *usage;
    int (*run)(struct cmd_ctx *c, int argc, char **argv);
};

/*
 * Runs the command of cmds named by argv[1] (argv[0] is whatever led
 * here: the program or the group) and returns its exit status. "help",
 * -h and --help print the usage line of every command of cmds on stdout
 * and return 0; with no argv[1] they are printed there too, but the
 * status is 2; an unknown name is refused as "NAME: unknown command
 * 'GROUP NAME'", with the usage lines on stderr (2).
 */
int cli_dispatch(struct cmd_ctx *c, const struct cli_cmd *cmds, int argc,
                 char **argv);

/* Prints "usage: NAME usage" and a newline to f. */
void cli_usage(FILE *f, const char *usage);

/*
 * Prints "NAME: why" (formatted from fmt) and then the usage on stderr;
 * returns EXIT_USAGE.
 */
int cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "NAME: why" (formatted from fmt) on stderr; returns EXIT_REFUSED. */
int cli_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
