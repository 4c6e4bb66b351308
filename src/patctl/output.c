/* SPDX-License-Identifier: MIT */
/*
 * The tables and views of output.h. Widths are counted in code points
 * (jansson hands over valid UTF-8), which is right for the names and ids
 * patd holds; wide CJK characters may misalign a column, which is only
 * cosmetic.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "banned.h"

/* Number of code points in s. */
static size_t
text_width(const char *s)
{
    size_t w = 0;

    for (; *s != '\0'; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void
render_clean(const char *s, char *out, size_t outcap)
{
    size_t n = 0, len;
    unsigned char c;

    if (outcap == 0)
        return;
    for (; *s != '\0'; s += len) {
        c = (unsigned char)*s;
        len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (strnlen(s, len) < len)
            break;
        if (n + len >= outcap)
            break;
        /*
         * C0 controls, DEL and the C1 controls (U+0080..U+009F, which
         * some terminals obey like ESC [) become '?'.
         */
        if (c < 0x20 || c == 0x7F ||
            (c == 0xC2 && (unsigned char)s[1] < 0xA0)) {
            out[n++] = '?';
            continue;
        }
        memcpy(out + n, s, len);
        n += len;
    }
    out[n] = '\0';
}

/* Joins the items of array a with spaces into out. */
static void
render_array(const json_t *a, char *out, size_t outcap)
{
    char item[CELL_MAX];
    size_t i, n = 0, len;

    out[0] = '\0';
    for (i = 0; i < json_array_size(a); i++) {
        render_value(json_array_get(a, i), "null", item, sizeof(item));
        len = strlen(item);
        if (n + (n > 0) + len >= outcap)
            break;
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, item, len + 1);
        n += len;
    }
}

const char *
render_value(const json_t *v, const char *none, char *out, size_t outcap)
{
    char *text;

    out[0] = '\0';
    switch (json_typeof(v)) {
    case JSON_STRING:
        render_clean(json_string_value(v), out, outcap);
        break;
    case JSON_ARRAY:
        render_array(v, out, outcap);
        break;
    case JSON_TRUE:
        snprintf(out, outcap, "yes");
        break;
    case JSON_FALSE:
        snprintf(out, outcap, "no");
        break;
    case JSON_INTEGER:
        snprintf(out, outcap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(out, outcap, "%g", json_real_value(v));
        break;
    case JSON_OBJECT:
        text = json_dumps(v, JSON_COMPACT);
        if (text != NULL)
            render_clean(text, out, outcap);
        free(text);
        break;
    default:
        break;
    }
    return out[0] != '\0' ? out : none;
}

void
table_init(struct table *t, const char *const *heads, size_t ncols)
{
    size_t i;

    memset(t, 0, sizeof(*t));
    t->heads = heads;
    t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
    for (i = 0; i < t->ncols; i++)
        t->width[i] = text_width(heads[i]);
}

bool
table_add(struct table *t, const char *const *cells)
{
    char clean[CELL_MAX];
    char **row;
    size_t i;

    if (t->nrows == t->caprows) {
        size_t cap = t->caprows ? t->caprows * 2 : 64;
        char **p = reallocarray(t->cells, cap * t->ncols, sizeof(*p));

        if (p == NULL)
            return false;
        t->cells = p;
        t->caprows = cap;
    }
    row = t->cells + t->nrows * t->ncols;
    for (i = 0; i < t->ncols; i++) {
        render_clean(cells[i] ? cells[i] : "-", clean, sizeof(clean));
        row[i] = strdup(clean[0] ? clean : "-");
        if (row[i] == NULL) {
            while (i-- > 0)
                free(row[i]);
            return false;
        }
    }
    t->nrows++;
    return true;
}

/* Prints one row, each cell but the last padded to its column's width. */
static void
print_row(const struct table *t, FILE *f, const char *const *cells)
{
    size_t i, w;

    for (i = 0; i < t->ncols; i++) {
        fputs(cells[i], f);
        if (i + 1 == t->ncols)
            break;
        for (w = text_width(cells[i]); w < t->width[i] + 2; w++)
            fputc(' ', f);
    }
    fputc('\n', f);
}

void
table_flush(struct table *t, FILE *f)
{
    size_t r, i, w;

    for (r = 0; r < t->nrows; r++) {
        for (i = 0; i < t->ncols; i++) {
            w = text_width(t->cells[r * t->ncols + i]);
            if (w > t->width[i])
                t->width[i] = w;
        }
    }
    if (t->printed == 0 && t->nrows > 0)
        print_row(t, f, t->heads);
    for (r = 0; r < t->nrows; r++)
        print_row(t, f, (const char *const *)(t->cells + r * t->ncols));
    t->printed += t->nrows;
    table_release(t);
}

void
table_release(struct table *t)
{
    size_t i;

    for (i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
    t->caprows = 0;
}

void
render_fields(FILE *f, const json_t *obj, const struct field *fields)
{
    const struct field *fl;
    char value[4096];
    size_t width = 0, w;

    for (fl = fields; fl->label != NULL; fl++) {
        w = strlen(fl->label);
        width = w > width ? w : width;
    }
    for (fl = fields; fl->label != NULL; fl++) {
        fprintf(f, "%s:", fl->label);
        for (w = strlen(fl->label); w < width + 1; w++)
            fputc(' ', f);
        fprintf(f, "%s\n",
                render_value(json_object_get(obj, fl->key), fl->none, value,
                             sizeof(value)));
    }
}

void
render_json(FILE *f, const json_t *v)
{
    json_dumpf(v, f, JSON_INDENT(2));
    fputc('\n', f);
}

bool
render_json_item(FILE *f, struct json_items *l, const json_t *item)
{
    char *text = json_dumps(item, JSON_INDENT(2));
    const char *p;

    if (text == NULL)
        return false;
    fputs(l->n == 0 ? "{\n  \"items\": [\n" : ",\n", f);
    l->n++;
    /* Indent the item's lines to sit inside "items". */
    fputs("    ", f);
    for (p = text; *p != '\0'; p++) {
        fputc(*p, f);
        if (*p == '\n')
            fputs("    ", f);
    }
    free(text);
    return true;
}

void
render_json_end(FILE *f, struct json_items *l)
{
    fputs(l->n == 0 ? "{\n  \"items\": []\n}\n" : "\n  ]\n}\n", f);
}
