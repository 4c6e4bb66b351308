/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for patd serve's configuration reader
 * (src/patd/serve_config.c, inih underneath): any text is either
 * accepted into a configuration or refused with "NAME:LINE: reason",
 * never read past its end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct patd_config cfg;
    char err[512] = "";
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    patd_config_defaults(&cfg);
    if (patd_config_load_text(&cfg, text, "fuzz.conf", err, sizeof(err)) != 0 &&
        strncmp(err, "fuzz.conf:", 10) != 0)
        abort();
    /* What was accepted is terminated and within its bounds. */
    if (strnlen(cfg.listen, sizeof(cfg.listen)) == sizeof(cfg.listen) ||
        strnlen(cfg.store, sizeof(cfg.store)) == sizeof(cfg.store) ||
        cfg.threads < 1 || cfg.threads > 64)
        abort();
    free(text);
    return 0;
}
