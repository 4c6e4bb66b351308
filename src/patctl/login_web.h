/* SPDX-License-Identifier: MIT */
/* `patctl login --web` (login_web.c). */
#ifndef PATCTL_LOGIN_WEB_H
#define PATCTL_LOGIN_WEB_H

struct cmd_ctx;

struct login_web {
    const char *scopes; /* space-separated; the new token's */
    long long days;     /* 0: the policy's default lifetime */
};

/*
 * Has the person approve a new token in the browser for c->cfg.url and
 * puts it into c->cfg.token. EXIT_DONE, or EXIT_REFUSED after saying why.
 */
int login_web(struct cmd_ctx *c, const struct login_web *w);

#endif
