/* table.c: aligned text tables and UTF-8 cleaning (see table.h). */
#include "table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */

struct veloctl_table {
    const struct veloctl_col *cols;
    size_t                    ncols;
    char                    **cells; /* nrows * ncols, cleaned, owned */
    size_t                    nrows, cap;
};

/* Length (1..4) of the valid UTF-8 sequence at s with its code point in
 * *cp, or 0 when s does not start one (overlong forms and surrogates
 * included). A NUL inside a sequence fails the continuation test. */
static size_t
utf8_seq(const unsigned char *s, uint32_t *cp)
{
    uint32_t c;
    size_t   n, i;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        c = s[0] & 0x1fu;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        c = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        c = s[0] & 0x07u;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
        (n == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0;
    *cp = c;
    return n;
}

/* Characters that would move the cursor, recolour or reorder the
 * terminal's text: C0 and C1 controls, DEL, line/paragraph separators and
 * bidirectional overrides. */
static bool
cp_unsafe(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
           (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* One column's worth of s: *src_len bytes consumed; *keep is false when
 * they print as '?'. */
static void
unit_next(const char *s, size_t *src_len, bool *keep)
{
    uint32_t cp = 0;
    size_t   n = utf8_seq((const unsigned char *)s, &cp);

    *keep = n > 0 && !cp_unsafe(cp);
    *src_len = n > 0 ? n : 1;
}

static size_t
units_count(const char *s)
{
    size_t n = 0, len;
    bool   keep;

    while (*s != '\0') {
        unit_next(s, &len, &keep);
        s += len;
        n++;
    }
    return n;
}

size_t
veloctl_utf8_clean(char *dst, size_t size, const char *src, size_t max_cols)
{
    size_t total = units_count(src), limit = total, cols = 0, o = 0, len;
    size_t reserve = 0;
    bool   keep;

    if (max_cols > 0 && total > max_cols) {
        limit = max_cols - 1;
        reserve = sizeof(ELLIPSIS) - 1;
    }
    for (; cols < limit; cols++) {
        unit_next(src, &len, &keep);
        if (o + (keep ? len : 1) + reserve + 1 > size)
            break;
        if (keep)
            memcpy(dst + o, src, len);
        else
            dst[o] = '?';
        o += keep ? len : 1;
        src += len;
    }
    /* "côté …" reads worse than "côté…": drop the spaces before the cut. */
    while (reserve > 0 && o > 0 && dst[o - 1] == ' ') {
        o--;
        cols--;
    }
    if (reserve > 0 && o + reserve + 1 <= size) {
        memcpy(dst + o, ELLIPSIS, reserve);
        o += reserve;
        cols++;
    }
    if (size > 0)
        dst[o] = '\0';
    return cols;
}

size_t
veloctl_utf8_width(const char *s)
{
    return units_count(s);
}

int
veloctl_table_new(veloctl_table **out, const struct veloctl_col *cols,
                  size_t ncols)
{
    veloctl_table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return VELO_ENOMEM;
    t->cols = cols;
    t->ncols = ncols;
    *out = t;
    return VELO_OK;
}

static char *
cell_dup(const char *src, size_t max_cols)
{
    size_t size;
    char  *c;

    if (src == NULL)
        src = "-";
    size = strlen(src) + sizeof(ELLIPSIS) + 1;
    c = malloc(size);
    if (c != NULL)
        veloctl_utf8_clean(c, size, src, max_cols);
    return c;
}

int
veloctl_table_add(veloctl_table *t, const char *const *cells)
{
    char **grown, **row;
    size_t i, cap;

    if (t->nrows == t->cap) {
        cap = t->cap ? t->cap * 2 : 16;
        grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));
        if (grown == NULL)
            return VELO_ENOMEM;
        t->cells = grown;
        t->cap = cap;
    }
    row = t->cells + t->nrows * t->ncols;
    for (i = 0; i < t->ncols; i++) {
        row[i] = cell_dup(cells[i], t->cols[i].max_width);
        if (row[i] == NULL) {
            while (i > 0)
                free(row[--i]);
            return VELO_ENOMEM;
        }
    }
    t->nrows++;
    return VELO_OK;
}

size_t
veloctl_table_rows(const veloctl_table *t)
{
    return t->nrows;
}

/* Appends one line; widths[] holds every column's width. Trailing
 * spaces (an empty last cell) are dropped. */
static int
line_put(const veloctl_table *t, char *const *cells, const size_t *widths,
         struct velo_buf *out)
{
    size_t i, w, pad, mark = out->len;
    int    rv = VELO_OK;

    for (i = 0; rv == VELO_OK && i < t->ncols; i++) {
        w = veloctl_utf8_width(cells[i]);
        pad = widths[i] > w ? widths[i] - w : 0;
        if (i > 0)
            rv = velo_buf_puts(out, "  ");
        if (rv == VELO_OK && t->cols[i].right)
            rv = velo_buf_printf(out, "%*s%s", (int)pad, "", cells[i]);
        else if (rv == VELO_OK)
            rv = velo_buf_printf(out, "%s%*s", cells[i], (int)pad, "");
    }
    while (rv == VELO_OK && out->len > mark && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    return rv == VELO_OK ? velo_buf_puts(out, "\n") : rv;
}

int
veloctl_table_render(const veloctl_table *t, bool header, struct velo_buf *out)
{
    size_t *widths;
    char  **names;
    size_t  i, r, w;
    int     rv = VELO_OK;

    widths = calloc(t->ncols, sizeof(*widths));
    names = calloc(t->ncols, sizeof(*names));
    if (widths == NULL || names == NULL)
        rv = VELO_ENOMEM;
    for (i = 0; rv == VELO_OK && i < t->ncols; i++) {
        names[i] = (char *)t->cols[i].name;
        widths[i] = t->cols[i].min_width;
        if (header && veloctl_utf8_width(names[i]) > widths[i])
            widths[i] = veloctl_utf8_width(names[i]);
        for (r = 0; r < t->nrows; r++) {
            w = veloctl_utf8_width(t->cells[r * t->ncols + i]);
            widths[i] = w > widths[i] ? w : widths[i];
        }
    }
    if (rv == VELO_OK && header)
        rv = line_put(t, names, widths, out);
    for (r = 0; rv == VELO_OK && r < t->nrows; r++)
        rv = line_put(t, t->cells + r * t->ncols, widths, out);
    free(names);
    free(widths);
    return rv;
}

void
veloctl_table_free(veloctl_table *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
