/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/events: the change feed for admins (DESIGN.md section 12), read
 * by sequence number. A client keeps next_after and asks again with it;
 * an empty page gives back the after it was asked with, so polling never
 * goes back and never skips a row.
 */
#include <stdlib.h>

#include "request.h"
#include "model_json.h"
#include "routes.h"
#include "banned.h"

int
h_events_list(struct req *r)
{
    const char *a = req_query(r, "after"), *l = req_query(r, "limit");
    struct pat_change *page = NULL;
    long long after = 0, limit = 50;
    json_t *items;
    size_t n = 0, i;
    int rc;

    if (a != NULL && !pat_parse_number(a, 0, INT64_MAX, &after))
        return reply_error(r, 400, "invalid_request",
                           "after must be a sequence number (0 or more)");
    if (l != NULL && !pat_parse_number(l, 1, 200, &limit))
        return reply_error(r, 400, "invalid_request",
                           "limit must be from 1 to 200");
    page = calloc((size_t)limit, sizeof(*page));
    if (page == NULL)
        return reply_pat(r, PAT_ENOMEM);
    rc = pat_changes_list(r->st, after, page, (size_t)limit, &n);
    if (rc != PAT_OK) {
        free(page);
        return reply_pat(r, rc);
    }
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items, render_change(&page[i]));
    reply(r, 200,
          json_pack("{s:o, s:I}", "items", items, "next_after",
                    (json_int_t)(n > 0 ? page[n - 1].seq : after)));
    free(page);
    return r->status;
}
