/* SPDX-License-Identifier: MIT */
/*
 * Lists: following next_cursor through every page of a list endpoint and
 * printing the items as they arrive, as a table or, with --json, as one
 * {"items": [...]} document. Only one page is held in memory at a time,
 * so a list of any length is bounded by the page size.
 */
#ifndef PATCTL_LIST_H
#define PATCTL_LIST_H

#include <jansson.h>

#include "ctl.h"
#include "output.h"

/* The most a server may return per page, and what patctl asks for. */
#define LIST_PAGE_MAX 200

/* Fills cells[0..ncols) for one item of a list. */
typedef void (*list_row_fn)(const json_t *item, char (*cells)[CELL_MAX]);

/* How one kind of list is shown. */
struct list_view {
    const char *const *heads; /* column headings */
    size_t ncols;             /* <= TABLE_MAX_COLS */
    list_row_fn row;
    const char *empty; /* said on stderr when a table would be empty */
};

/*
 * Fetches every page of path (a path with or without a query string; the
 * limit and cursor parameters are added here), at most limit items in
 * all (0: every item), and prints them as view says or as JSON with
 * --json. Returns EXIT_DONE, or EXIT_REFUSED after saying why (what was
 * printed before the failure stays printed).
 */
int list_print(struct cmd_ctx *c, const char *path, long long limit,
               const struct list_view *view);

/*
 * Goes through the items of every page of path, in order, until fn
 * returns true (found: stop). Returns EXIT_DONE, or EXIT_REFUSED after
 * saying why.
 */
typedef bool (*list_item_fn)(const json_t *item, void *ctx);
int list_each(struct cmd_ctx *c, const char *path, list_item_fn fn, void *ctx);

#endif
