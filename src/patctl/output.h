/* SPDX-License-Identifier: MIT */
/*
 * How patctl shows what the server sent: aligned tables and "label: value"
 * views for people, the server's own JSON for scripts. Every string that
 * reaches the terminal is cleaned of control characters first, so a user
 * name or token name cannot carry escape sequences to someone's screen.
 */
#ifndef PATCTL_OUTPUT_H
#define PATCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define TABLE_MAX_COLS 8
#define CELL_MAX       512

/*
 * A table printed a page at a time: rows are buffered until table_flush,
 * which prints the header the first time. Column widths only grow, so a
 * later page may be wider than an earlier one but never misaligned
 * within itself.
 */
struct table {
    const char *const *heads; /* borrowed; ncols of them */
    size_t ncols;
    size_t width[TABLE_MAX_COLS];
    char **cells; /* owned: nrows * ncols strings */
    size_t nrows;
    size_t caprows;
    size_t printed; /* rows printed so far */
};

/* Sets t up with ncols (<= TABLE_MAX_COLS) headings, borrowed. */
void table_init(struct table *t, const char *const *heads, size_t ncols);

/* Adds a row of ncols cells (copied). false when out of memory. */
bool table_add(struct table *t, const char *const *cells);

/* Prints the buffered rows (and, the first time, the header) to f. */
void table_flush(struct table *t, FILE *f);

/* Frees the buffered rows. */
void table_release(struct table *t);

/*
 * Writes v as text for a person into out (always NUL-terminated,
 * truncated to outcap): strings cleaned, arrays joined with spaces,
 * booleans as yes/no, numbers in decimal, objects as compact JSON; none
 * for null, a missing value or an empty string or array. Returns out, or
 * none.
 */
const char *render_value(const json_t *v, const char *none, char *out,
                         size_t outcap);

/* A line of a "label: value" view: member key of the object, or none. */
struct field {
    const char *label;
    const char *key;
    const char *none;
};

/* Prints the fields (ended by a NULL label) of obj, labels aligned. */
void render_fields(FILE *f, const json_t *obj, const struct field *fields);

/* Prints v as indented JSON and a newline. */
void render_json(FILE *f, const json_t *v);

/*
 * Prints {"items": [...]} one item at a time, so a long list need not be
 * held in memory: render_json_item for each (false when out of memory;
 * nothing printed then), then render_json_end.
 */
struct json_items {
    size_t n;
};
bool render_json_item(FILE *f, struct json_items *l, const json_t *item);
void render_json_end(FILE *f, struct json_items *l);

/* Copies s into out, replacing control characters, as render_value. */
void render_clean(const char *s, char *out, size_t outcap);

#endif
