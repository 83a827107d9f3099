/* table.h: aligned text tables for people, safe for any cell text.
 *
 * Cells usually hold strings a peer sent (station names), so each one is
 * cleaned on the way in: invalid UTF-8 and control characters (including
 * escape sequences a rogue name could use on the terminal) become '?',
 * and a cell longer than its column's max_width is cut on a character
 * boundary and ends in "…". Widths count code points, which is right for
 * Latin, Greek and Cyrillic names; East Asian wide characters and
 * combining marks are counted as one column each (a known limitation:
 * their rows may be misaligned, never corrupted). */
#ifndef VELOCTL_TABLE_H
#define VELOCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "velo/buf.h"
#include "velo/err.h"

struct veloctl_col {
    const char *name;      /* header */
    bool        right;     /* right-aligned (numbers) */
    size_t      min_width; /* pad to at least this (fixed layouts) */
    size_t      max_width; /* cut longer cells; 0: no limit */
};

typedef struct veloctl_table veloctl_table;

/* A table with ncols columns; cols is borrowed for the table's life. */
VELO_MUST_CHECK int veloctl_table_new(veloctl_table           **out,
                                      const struct veloctl_col *cols,
                                      size_t                    ncols);

/* Appends a row of ncols cells, each copied and cleaned; a NULL cell
 * prints "-". VELO_ENOMEM. */
VELO_MUST_CHECK int veloctl_table_add(veloctl_table     *t,
                                      const char *const *cells);

size_t veloctl_table_rows(const veloctl_table *t);

/* Appends the header line (when header is true) and every row: columns
 * separated by two spaces, padded to the widest cell, no trailing
 * spaces, one "\n" per line. VELO_ETOOBIG/VELO_ENOMEM from out. */
VELO_MUST_CHECK int veloctl_table_render(const veloctl_table *t, bool header,
                                         struct velo_buf *out);

void veloctl_table_free(veloctl_table *t);

/* Copies src into dst (size bytes, always NUL-terminated) cleaned as
 * described above and cut to max_cols columns (0: no limit). Returns the
 * columns written. dst needs strlen(src) + 4 bytes to never cut short. */
size_t veloctl_utf8_clean(char *dst, size_t size, const char *src,
                          size_t max_cols);

/* Columns of a valid UTF-8 string (code points). */
size_t veloctl_utf8_width(const char *s);

#endif
