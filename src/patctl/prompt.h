/* SPDX-License-Identifier: MIT */
/*
 * Asking the person at the terminal: a line read with echo (the server
 * URL, a yes/no answer) or without it (a token, a password). When
 * standard input is not a terminal, lines come from it instead, without
 * prompts, so `printf '%s\n%s\n' "$URL" "$TOKEN" | patctl login` works.
 */
#ifndef PATCTL_PROMPT_H
#define PATCTL_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

/* Whether questions go to a person (standard input is a terminal). */
bool prompt_interactive(void);

/*
 * Asks question (shown on the terminal only) and reads one line into
 * out without its line end or surrounding white space. With secret the
 * terminal does not echo it. false with a reason in err at end of input,
 * on a line longer than outcap - 1, or when the terminal cannot be used;
 * out is wiped then.
 */
bool prompt_line(const char *question, bool secret, char *out, size_t outcap,
                 char *err, size_t errcap);

/* Asks a yes/no question on the terminal; only "y" or "yes" is yes. */
bool prompt_confirm(const char *question);

#endif
