/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the server's body readers (src/patd/wire.c): the
 * JSON body (nesting bound, duplicate keys, "must be an object") and the
 * urlencoded form of the RFC 7662/7009 routes (value, presence). The
 * whole input is the body; each reader must answer for any bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"token", "token_type_hint", "", "t",
                                       NULL};
    const char *const *k;
    char *body, out[160];
    json_error_t jerr;
    json_t *v = NULL;
    enum wire_json rc;

    /* An exact-size copy, not terminated: ASan sees any read past size. */
    body = malloc(size ? size : 1);
    if (body == NULL)
        return 0;
    memcpy(body, data, size);
    rc = wire_json_body(body, size, 16, &v, &jerr);
    if ((rc == WIRE_JSON_OK) != (v != NULL && json_is_object(v)))
        abort();
    json_decref(v);
    for (k = keys; *k != NULL; k++) {
        bool has = wire_form_has(body, size, *k);
        if (wire_form_value(body, size, *k, out, sizeof(out))) {
            if (strlen(out) >= sizeof(out))
                abort();
            if (!has && (*k)[0] != '\0')
                abort(); /* a value was read for a key that is absent */
        }
    }
    free(body);
    return 0;
}
