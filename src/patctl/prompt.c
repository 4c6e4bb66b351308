/* SPDX-License-Identifier: MIT */
/*
 * The questions of prompt.h. On a terminal they go through /dev/tty,
 * which is also where the answers come from, so a redirected stdout
 * never receives a prompt. Echo is switched off for secrets, and a
 * signal that arrives meanwhile puts the terminal back before it ends
 * the process: nobody should be left typing blind.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "prompt.h"
#include "banned.h"

/* The terminal state to restore from a signal handler; fd -1 if none. */
static volatile sig_atomic_t saved_fd = -1;
static struct termios saved_tio;

/* The signals that would otherwise leave the terminal without echo. */
static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define NSTOP_SIGS (sizeof(stop_sigs) / sizeof(stop_sigs[0]))

static void
on_signal(int sig)
{
    if (saved_fd >= 0)
        tcsetattr(saved_fd, TCSAFLUSH, &saved_tio);
    signal(sig, SIG_DFL);
    raise(sig);
}

bool
prompt_interactive(void)
{
    return isatty(STDIN_FILENO) == 1;
}

/* Reads one line of f into out; a longer line is consumed and refused. */
static bool
read_line(FILE *f, char *out, size_t outcap, char *err, size_t errcap)
{
    size_t n = 0, start = 0;
    bool too_long = false;
    int ch;

    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (n + 1 >= outcap) {
            too_long = true;
            continue;
        }
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    if (ch == EOF && n == 0) {
        snprintf(err, errcap, "no answer (end of input)");
        return false;
    }
    if (too_long) {
        explicit_bzero(out, outcap);
        snprintf(err, errcap, "the answer is too long");
        return false;
    }
    while (n > 0 && strchr(" \t\r", out[n - 1]) != NULL)
        out[--n] = '\0';
    while (out[start] == ' ' || out[start] == '\t')
        start++;
    memmove(out, out + start, n - start + 1);
    return true;
}

static void
restore(int fd, const struct sigaction *old)
{
    size_t i;

    tcsetattr(fd, TCSAFLUSH, &saved_tio);
    saved_fd = -1;
    for (i = 0; i < NSTOP_SIGS; i++)
        sigaction(stop_sigs[i], &old[i], NULL);
}

/*
 * Switches echo off on fd, saving the old handlers of stop_sigs in old.
 * false, with everything as it was, if fd is not a usable terminal.
 */
static bool
echo_off(int fd, struct sigaction *old)
{
    struct termios tio;
    struct sigaction sa;
    size_t i;

    if (tcgetattr(fd, &saved_tio) != 0)
        return false;
    tio = saved_tio;
    tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tio.c_lflag |= ICANON;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < NSTOP_SIGS; i++)
        sigaction(stop_sigs[i], &sa, &old[i]);
    saved_fd = fd;
    if (tcsetattr(fd, TCSAFLUSH, &tio) != 0) {
        restore(fd, old);
        return false;
    }
    return true;
}

bool
prompt_line(const char *question, bool secret, char *out, size_t outcap,
            char *err, size_t errcap)
{
    struct sigaction old[NSTOP_SIGS];
    FILE *tty = NULL;
    bool ok = false, quiet = false;

    out[0] = '\0';
    if (!prompt_interactive())
        return read_line(stdin, out, outcap, err, errcap);
    tty = fopen("/dev/tty", "r+e");
    if (tty == NULL) {
        snprintf(err, errcap, "cannot open the terminal: %s", strerror(errno));
        return false;
    }
    fputs(question, tty);
    fflush(tty);
    if (secret) {
        quiet = echo_off(fileno(tty), old);
        if (!quiet) {
            snprintf(err, errcap, "cannot switch the terminal's echo off");
            goto out;
        }
    }
    ok = read_line(tty, out, outcap, err, errcap);
out:
    if (quiet) {
        restore(fileno(tty), old);
        /* The newline the person typed was not echoed either. */
        fputc('\n', tty);
    }
    fclose(tty);
    return ok;
}

bool
prompt_confirm(const char *question)
{
    char answer[16];
    char err[64];

    if (!prompt_interactive() ||
        !prompt_line(question, false, answer, sizeof(answer), err, sizeof(err)))
        return false;
    return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}
