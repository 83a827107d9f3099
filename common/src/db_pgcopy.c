/* db_pgcopy.c: binary COPY tuples of staging values (see db_pgcopy.h). */
#include <string.h>

#include "db_pgcopy.h"
#include "velo/buf.h"

/* Staging column positions (db_sql.c's stage_cols; db_pgcopy_test.c checks
 * the names). */
enum {
    SC_GRAN,
    SC_SYSTEM_ID,
    SC_STATION_ID,
    SC_WINDOW,
    SC_LOCAL_DATE,
    SC_SAMPLES = 7,
    SC_ELECTRIC = 21,
    SC_COUNT = 30,
};

/* samples .. capacity, the measures both fact tables carry in this order
 * (electric_avg, the last, may be NULL: SC_ELECTRIC). */
#define SC_MEASURES                                                            \
    SC_SAMPLES, SC_SAMPLES + 1, SC_SAMPLES + 2, SC_SAMPLES + 3,                \
        SC_SAMPLES + 4, SC_SAMPLES + 5, SC_SAMPLES + 6, SC_SAMPLES + 7,        \
        SC_SAMPLES + 8, SC_SAMPLES + 9, SC_SAMPLES + 10, SC_SAMPLES + 11,      \
        SC_SAMPLES + 12, SC_SAMPLES + 13

static const uint8_t all_cols[SC_COUNT] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
};

/* The fact columns: key, then samples .. electric_avg. */
static const uint8_t hourly_cols[] = {
    SC_SYSTEM_ID, SC_STATION_ID, SC_WINDOW, SC_MEASURES, SC_ELECTRIC,
};
static const uint8_t daily_cols[] = {
    SC_SYSTEM_ID,  SC_STATION_ID, SC_WINDOW,
    SC_LOCAL_DATE, SC_MEASURES,   SC_ELECTRIC,
};

const struct db_pgcopy_cols db_pgcopy_stage = {all_cols, SC_COUNT};
const struct db_pgcopy_cols db_pgcopy_hourly = {hourly_cols,
                                                sizeof(hourly_cols)};
const struct db_pgcopy_cols db_pgcopy_daily = {daily_cols, sizeof(daily_cols)};

/* Network byte order, whatever the host's. */
static void
put_be(uint8_t *p, uint64_t v, int bytes)
{
    int k;

    for (k = bytes - 1; k >= 0; k--) {
        p[k] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

int
db_pgcopy_header(struct velo_buf *out)
{
    /* Signature (with its NUL), flags 0, no header extension. */
    static const uint8_t hdr[19] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                    '\n', 0xff, '\r', '\n', 0};

    return velo_buf_append(out, hdr, sizeof(hdr));
}

int
db_pgcopy_trailer(struct velo_buf *out)
{
    static const uint8_t end[2] = {0xff, 0xff};

    return velo_buf_append(out, end, sizeof(end));
}

/* One field: length word, then the value. */
static int
put_field(struct velo_buf *out, const struct db_val *v)
{
    uint8_t  f[12];
    uint64_t bits;
    size_t   len;
    int      rv;

    switch (v->t) {
    case DB_V_NULL:
        put_be(f, UINT32_MAX, 4); /* -1 */
        return velo_buf_append(out, f, 4);
    case DB_V_INT:
        put_be(f, (uint64_t)v->ibytes, 4);
        put_be(f + 4, (uint64_t)v->i, v->ibytes); /* two's complement */
        return velo_buf_append(out, f, 4 + (size_t)v->ibytes);
    case DB_V_DBL:
        memcpy(&bits, &v->d, sizeof(bits));
        put_be(f, 8, 4);
        put_be(f + 4, bits, 8);
        return velo_buf_append(out, f, 12);
    case DB_V_TXT:
        break;
    }
    /* db_batch_prepare capped every string far below INT32_MAX. */
    len = strlen(v->s);
    put_be(f, (uint64_t)len, 4);
    rv = velo_buf_append(out, f, 4);
    return rv == VELO_OK ? velo_buf_append(out, v->s, len) : rv;
}

int
db_pgcopy_row(struct velo_buf *out, const struct db_batch *b, size_t i,
              const struct db_pgcopy_cols *cols)
{
    struct db_val v;
    uint8_t       cnt[2];
    size_t        c;
    int           rv;

    put_be(cnt, (uint64_t)cols->n, 2);
    rv = velo_buf_append(out, cnt, sizeof(cnt));
    for (c = 0; rv == VELO_OK && c < cols->n; c++) {
        db_stage_val(b, i, cols->col[c], &v);
        rv = put_field(out, &v);
    }
    return rv;
}

int
db_pgcopy_sql(char *sql, size_t size, const char *table,
              const struct db_pgcopy_cols *cols)
{
    struct velo_buf b;
    size_t          c;
    int             rv;

    velo_buf_init_fixed(&b, sql, size);
    rv = velo_buf_printf(&b, "COPY %s (", table);
    for (c = 0; rv == VELO_OK && c < cols->n; c++)
        rv = velo_buf_printf(&b, "%s%s", c ? ", " : "",
                             db_sql_stage_col(cols->col[c]));
    if (rv == VELO_OK)
        rv = velo_buf_puts(&b, ") FROM STDIN (FORMAT binary)");
    return rv; /* no _fini: it would empty sql, and nothing was allocated */
}
