/* SPDX-License-Identifier: MIT */
/*
 * Where patctl finds its server and its token. In order: the --url and
 * --token-file flags, the PATCTL_URL and PATCTL_TOKEN environment
 * variables, then the config file $XDG_CONFIG_HOME/patctl/config
 * (default ~/.config/patctl/config), which `patctl login` writes with
 * mode 0600 in a 0700 directory. The file's token is only ever sent to
 * the file's URL. A token never comes from the command line, and no
 * message ever prints one.
 */
#ifndef PATCTL_CLIENT_CONFIG_H
#define PATCTL_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_URL_MAX   2048
#define CONFIG_TOKEN_MAX 256
#define CONFIG_PATH_MAX  4096

/*
 * The resolved settings. token is a secret: config_wipe it before the
 * struct goes away. url_from and token_from name where each came from,
 * for messages ("--url", "PATCTL_URL", the file's path, ...).
 */
struct config {
    char url[CONFIG_URL_MAX + 1];     /* normalised; "" if none */
    char token[CONFIG_TOKEN_MAX + 1]; /* "" if none */
    char path[CONFIG_PATH_MAX];       /* the config file */
    const char *url_from;
    const char *token_from;
};

/*
 * Resolves url and token from url_flag and token_file (either may be
 * NULL), the environment and, only when still needed, the config file.
 * Returns false with one line in err when something given is unusable
 * or there is no URL or no token.
 */
bool config_load(struct config *cfg, const char *url_flag,
                 const char *token_file, char *err, size_t errcap);

/*
 * Resolves the server URL only, as config_load does (--url, PATCTL_URL,
 * then the config file), for commands that bring their own token or
 * none. The file's token is read but never kept. false with one line in
 * err when there is no usable URL.
 */
bool config_load_url(struct config *cfg, const char *url_flag, char *err,
                     size_t errcap);

/*
 * Finds the config file's path into cfg->path. false, with a reason in
 * err, when neither XDG_CONFIG_HOME nor a home directory is known.
 */
bool config_find(struct config *cfg, char *err, size_t errcap);

/*
 * Reads the url and token of the config file at path into url and token
 * ("" for a missing key; both "" for a missing file). false, with a
 * reason in err, when the file cannot be read, is accessible by other
 * users, or is malformed; token is wiped then.
 */
bool config_read_file(const char *path, char *url, size_t urlcap, char *token,
                      size_t tokencap, char *err, size_t errcap);

/*
 * Writes url and token to the config file at path, atomically (a new
 * 0600 file renamed over the old one), creating its directory with mode
 * 0700. false with a reason in err.
 */
bool config_save(const char *path, const char *url, const char *token,
                 char *err, size_t errcap);

/*
 * Checks a server URL (http or https, printable ASCII, no query or
 * fragment) and copies it to out without trailing slashes. false with a
 * reason in err.
 */
bool config_url_check(const char *url, char *out, size_t outcap, char *err,
                      size_t errcap);

/* Whether token can be sent in a header: 1..CONFIG_TOKEN_MAX visible ASCII. */
bool config_token_ok(const char *token);

/*
 * Reads the first line of the file at path into out (wiped on failure),
 * without surrounding white space. false with a reason in err.
 */
bool config_read_token_file(const char *path, char *out, size_t outcap,
                            char *err, size_t errcap);

/* Wipes the token. */
void config_wipe(struct config *cfg);

#endif
