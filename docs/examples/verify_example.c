/* SPDX-License-Identifier: MIT */
/*
 * Checking personal access tokens in-process with libpat, without an
 * HTTP round trip: a C service links libpat, opens one verifier on the
 * patd store at start-up, and calls pat_verifier_check from any thread.
 *
 *   verify_example STORE_URL [SCOPE]   (the token is read from stdin)
 *
 * Prints "valid <user> <token id> <scopes>" and exits 0, or prints the
 * reason and exits 1. Build: cc verify_example.c -lpat (see the CMake
 * target verify_example, which the test suite builds and runs).
 */
#include <stdio.h>
#include <string.h>

#include <pat/pat.h>

int
main(int argc, char **argv)
{
    struct pat_verifier_options opts = {0, 0, 0}; /* the defaults */
    struct pat_verifier *v = NULL;
    struct pat_verdict verdict;
    struct pat_check check = {NULL, NULL, NULL, false};
    char token[128], err[256] = "";
    int rc;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: verify_example STORE_URL [SCOPE] < token\n");
        return 2;
    }
    if (fgets(token, sizeof(token), stdin) == NULL) {
        fprintf(stderr, "verify_example: no token on standard input\n");
        return 2;
    }
    token[strcspn(token, "\r\n")] = '\0';
    check.scopes = argc == 3 ? argv[2] : NULL;
    check.ip = "127.0.0.1"; /* the client's address, for allowed_cidrs */

    rc = pat_verifier_new(argv[1], &opts, &v, err, sizeof(err));
    if (rc != PAT_OK) {
        fprintf(stderr, "verify_example: %s: %s\n", pat_strerror(rc), err);
        return 1;
    }
    rc = pat_verifier_check(v, token, strlen(token), &check, &verdict);
    if (rc == PAT_OK)
        printf("valid %s %s %s\n", verdict.username, verdict.token_id,
               verdict.scopes);
    else
        printf("invalid: %s\n", pat_strerror(rc));
    /* Frees the cache and writes the usage gathered (last used, address). */
    pat_verifier_free(v);
    return rc == PAT_OK ? 0 : 1;
}
