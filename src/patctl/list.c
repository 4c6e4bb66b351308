/* SPDX-License-Identifier: MIT */
/*
 * The pager of list.h. A page's items are handed on before the next page
 * is asked for, and the cursor of each page must differ from the one
 * before, so a misbehaving server can neither grow patctl's memory nor
 * keep it looping on one page.
 */
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "banned.h"

/* Gives up after this many pages: 20 million items at the page size. */
#define LIST_PAGES_MAX 100000

/* Called with the first n items of each page; true stops the paging. */
typedef bool (*page_fn)(const json_t *items, size_t n, void *ctx, int *status);

/* Builds path plus limit and cursor into out. */
static int
page_path(struct cmd_ctx *c, struct buf *out, const char *path, long long want,
          const char *cursor)
{
    char limit[24];

    buf_init(out, HTTP_PATH_MAX);
    snprintf(limit, sizeof(limit), "%lld",
             want > 0 && want < LIST_PAGE_MAX ? want : LIST_PAGE_MAX);
    if (!buf_puts(out, path))
        return cli_refuse("request path too long");
    if (ctl_query(c, out, "limit", limit) != EXIT_DONE ||
        ctl_query(c, out, "cursor", cursor) != EXIT_DONE)
        return EXIT_REFUSED;
    return EXIT_DONE;
}

/*
 * Fetches the pages of path, at most limit items (0: all), handing each
 * page to fn.
 */
static int
pages(struct cmd_ctx *c, const char *path, long long limit, page_fn fn,
      void *ctx)
{
    struct buf p;
    json_t *body = NULL;
    char *cursor = NULL;
    const json_t *items, *next;
    long long seen = 0;
    size_t n, npages;
    int status;

    buf_init(&p, HTTP_PATH_MAX);
    status = ctl_connect(c);
    for (npages = 0; status == EXIT_DONE; npages++) {
        if (npages == LIST_PAGES_MAX) {
            status = cli_refuse("more than %d pages; narrow the list",
                                LIST_PAGES_MAX);
            break;
        }
        buf_release(&p);
        status = page_path(c, &p, path, limit ? limit - seen : 0, cursor);
        if (status == EXIT_DONE)
            status = ctl_call(c, "GET", buf_str(&p), NULL, &body);
        if (status != EXIT_DONE)
            break;
        items = json_object_get(body, "items");
        next = json_object_get(body, "next_cursor");
        if (!json_is_array(items)) {
            status = cli_refuse("unexpected answer from the server: no "
                                "\"items\" list");
            break;
        }
        n = json_array_size(items);
        if (limit > 0 && (long long)n > limit - seen)
            n = (size_t)(limit - seen);
        seen += (long long)n;
        if (fn(items, n, ctx, &status) || status != EXIT_DONE ||
            (limit > 0 && seen >= limit) || !json_is_string(next) ||
            json_string_length(next) == 0)
            break;
        if (cursor != NULL && strcmp(cursor, json_string_value(next)) == 0) {
            status = cli_refuse("the server sent the same cursor twice");
            break;
        }
        free(cursor);
        cursor = strdup(json_string_value(next));
        json_decref(body);
        body = NULL;
        if (cursor == NULL)
            status = cli_refuse("out of memory");
    }
    json_decref(body);
    free(cursor);
    buf_release(&p);
    return status;
}

/* State of list_print between pages. */
struct printer {
    const struct list_view *view;
    bool json;
    struct table table;
    struct json_items jitems;
};

static bool
print_page(const json_t *items, size_t n, void *ctx, int *status)
{
    struct printer *pr = ctx;
    char cells[TABLE_MAX_COLS][CELL_MAX];
    const char *row[TABLE_MAX_COLS];
    size_t i, k;

    for (i = 0; i < n; i++) {
        const json_t *item = json_array_get(items, i);

        if (pr->json) {
            if (!render_json_item(stdout, &pr->jitems, item))
                goto oom;
            continue;
        }
        for (k = 0; k < TABLE_MAX_COLS; k++) {
            cells[k][0] = '\0';
            row[k] = cells[k];
        }
        pr->view->row(item, cells);
        if (!table_add(&pr->table, row))
            goto oom;
    }
    if (!pr->json)
        table_flush(&pr->table, stdout);
    fflush(stdout);
    return false;
oom:
    *status = cli_refuse("out of memory");
    return true;
}

int
list_print(struct cmd_ctx *c, const char *path, long long limit,
           const struct list_view *view)
{
    struct printer pr;
    int status;

    memset(&pr, 0, sizeof(pr));
    pr.view = view;
    pr.json = c->json;
    table_init(&pr.table, view->heads, view->ncols);
    status = pages(c, path, limit, print_page, &pr);
    if (status == EXIT_DONE && pr.json)
        render_json_end(stdout, &pr.jitems);
    else if (status == EXIT_DONE && pr.table.printed == 0)
        fprintf(stderr, "%s\n", view->empty);
    table_release(&pr.table);
    return status;
}

/* State of list_each. */
struct walker {
    list_item_fn fn;
    void *ctx;
};

static bool
walk_page(const json_t *items, size_t n, void *ctx, int *status)
{
    struct walker *w = ctx;
    size_t i;

    (void)status;
    for (i = 0; i < n; i++) {
        if (w->fn(json_array_get(items, i), w->ctx))
            return true;
    }
    return false;
}

int
list_each(struct cmd_ctx *c, const char *path, list_item_fn fn, void *ctx)
{
    struct walker w = {fn, ctx};

    return pages(c, path, 0, walk_page, &w);
}
