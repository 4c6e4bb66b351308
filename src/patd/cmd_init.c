/* SPDX-License-Identifier: MIT */
/*
 * patd init and patd migrate: create and bootstrap a store, and bring an
 * existing one to the current schema.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "write_all.h"
#include "admin_cmd.h"
#include "jwt.h"

/* Opens FILE for the token: new, 0600, never an existing file. */
static int
open_token_file(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                0600);
}

/*
 * Tells what was made. The plaintext goes to stdout only when no token
 * file took it (token_file NULL): a token written to a 0600 file must
 * not also land in a terminal's scrollback, a CI log or a pipe.
 */
static void
print_init(struct cmd_ctx *c, const struct pat_user *admin,
           const struct pat_token *tok, const char *secret,
           const char *token_file, int64_t now)
{
    char exp[PAT_TIME_LEN + 1], url[1024];

    if (c->json) {
        json_t *o = json_pack("{s:o, s:o}", "user", render_user(admin),
                              "token_object", render_token(tok, now));
        if (o != NULL && token_file != NULL)
            json_object_set_new(o, "token_file", json_string(token_file));
        else if (o != NULL)
            json_object_set_new(o, "token", json_string(secret));
        admin_print_json(o);
        return;
    }
    fprintf(stderr,
            "patd: initialised '%s'\n"
            "patd: admin user '%s' (%s)\n",
            admin_redact(c->db, url, sizeof(url)), admin->username, admin->id);
    if (token_file != NULL) {
        fprintf(stderr,
                "patd: the admin's first token (scopes: %s; expires %s) is "
                "in '%s'\n",
                tok->scopes,
                admin_time(tok->expires_at, "never", exp, sizeof(exp)),
                token_file);
        return;
    }
    fprintf(stderr,
            "patd: the admin's first token (scopes: %s; expires %s) is "
            "printed below; it will not be shown again\n",
            tok->scopes,
            admin_time(tok->expires_at, "never", exp, sizeof(exp)));
    printf("%s\n", secret);
}

/*
 * The first JWT signing key, when the environment names a KEK
 * (PATD_JWT_KEK or PATD_JWT_KEK_FILE; PATD_JWT_ALG picks the alg) and
 * the store has none yet. Without a KEK nothing is done: the first
 * patd serve that has one makes the key.
 */
static int
first_key(struct pat_store *st)
{
    char err[256] = "";
    bool created = false;
    int rc = jwt_bootstrap(st, NULL, getenv("PATD_JWT_ALG"), &created, err,
                           sizeof(err));

    if (rc == PAT_ENOTFOUND)
        return EXIT_DONE;
    if (rc != PAT_OK)
        return cli_refuse("cannot create a JWT signing key: %s", err);
    if (created)
        fprintf(stderr, "patd: created the first JWT signing key\n");
    return EXIT_DONE;
}

struct init_args {
    const char *admin;
    const char *prefix;
    const char *token_file;
};

static int
init_opt(int opt, const char *arg, void *ctx)
{
    struct init_args *a = ctx;

    switch (opt) {
    case 'a':
        a->admin = arg;
        return 0;
    case 'p':
        a->prefix = arg;
        return 0;
    case 't':
        a->token_file = arg;
        return 0;
    default:
        return 1;
    }
}

int
cmd_init(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "init [--db PATH] [--admin NAME] [--prefix PREFIX] "
        "[--token-file FILE] [--json]";
    static const struct option opts[] = {
        ADMIN_COMMON_OPTS,
        {"admin", required_argument, NULL, 'a'},
        {"prefix", required_argument, NULL, 'p'},
        {"token-file", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct pat_init_spec spec = {NULL, NULL};
    struct pat_store *st = NULL;
    struct pat_user admin;
    struct pat_token tok;
    char secret[PAT_TOKEN_MAX + 1];
    const char *token_file = NULL;
    struct init_args a = {NULL, NULL, NULL};
    int rc, fd = -1, status;

    status = cli_parse(c, argc, argv, opts, usage, init_opt, &a);
    if (status >= 0)
        return status;
    spec.admin_username = a.admin;
    spec.prefix = a.prefix;
    token_file = a.token_file;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (spec.prefix != NULL && pat_prefix_check(spec.prefix) != PAT_OK) {
        return cli_refuse("invalid token prefix '%s': 2-16 of [a-z0-9], "
                          "starting with a letter",
                          spec.prefix);
    }
    if (token_file != NULL) {
        fd = open_token_file(token_file);
        if (fd < 0)
            return cli_refuse("cannot create '%s': %s", token_file,
                              strerror(errno));
    }
    status = admin_open(c, PAT_OPEN_CREATE, &st);
    if (status != EXIT_DONE)
        goto out;
    rc = pat_store_init(st, &spec, &admin, &tok, secret, sizeof(secret));
    if (rc != PAT_OK) {
        status = admin_refuse(c, "cannot initialise the store", rc);
        goto out;
    }
    /*
     * The store is initialised now: a token file that cannot be written
     * is a refusal, and the way back is a local `patd token create`,
     * never the plaintext on stdout instead.
     */
    if (fd >= 0 && (!cli_write_all(fd, secret, strlen(secret)) ||
                    !cli_write_all(fd, "\n", 1) || fsync(fd) != 0)) {
        status = cli_refuse("cannot write '%s': %s; the store is "
                            "initialised: make the admin a token with "
                            "'patd token create'",
                            token_file, strerror(errno));
        OPENSSL_cleanse(secret, sizeof(secret));
        goto out;
    }
    print_init(c, &admin, &tok, secret, token_file, pat_store_now(st));
    OPENSSL_cleanse(secret, sizeof(secret));
    status = first_key(st);
out:
    if (fd >= 0) {
        close(fd);
        if (status != EXIT_DONE)
            unlink(token_file);
    }
    pat_store_close(st);
    return status;
}

int
cmd_migrate(struct cmd_ctx *c, int argc, char **argv)
{
    static const char usage[] = "migrate [--db PATH | --store URL] [--json]";
    static const struct option opts[] = {ADMIN_COMMON_OPTS, {NULL, 0, NULL, 0}};
    struct pat_store *st = NULL;
    int status;

    status = cli_parse(c, argc, argv, opts, usage, NULL, NULL);
    if (status >= 0)
        return status;
    if (optind != argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    /* A store not initialised yet may be migrated (before an import). */
    status = admin_open(c, ADMIN_OPEN_UNINIT, &st);
    if (status != EXIT_DONE)
        return status;
    if (pat_store_prefix(st) != NULL && first_key(st) != EXIT_DONE) {
        pat_store_close(st);
        return EXIT_REFUSED;
    }
    if (c->json)
        admin_print_json(json_pack("{s:i, s:i}", "schema_version",
                                   pat_store_schema_version(st), "applied",
                                   pat_store_migrations_applied(st)));
    else
        printf("schema version %d (%d migration%s applied now)\n",
               pat_store_schema_version(st), pat_store_migrations_applied(st),
               pat_store_migrations_applied(st) == 1 ? "" : "s");
    pat_store_close(st);
    return EXIT_DONE;
}
