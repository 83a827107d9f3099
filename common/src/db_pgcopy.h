/* db_pgcopy.h: PostgreSQL's binary COPY format for staging values (not
 * installed; db_pg.c is its user).
 *
 * `COPY t (cols) FROM STDIN (FORMAT binary)` takes a header (the 11-byte
 * signature "PGCOPY\n\377\r\n\0", int32 flags 0, int32 header extension
 * length 0), then per row an int16 field count and per field an int32
 * byte length (-1 for NULL) followed by the value in the type's send
 * format, and an int16 -1 as the trailer. Every integer is in network
 * byte order. The server neither parses nor rounds: INTEGER is 4 bytes,
 * BIGINT 8, DOUBLE PRECISION the 8 bytes of the IEEE double (NaN and
 * infinities pass through as they do in text COPY), TEXT its bytes as they
 * are (no escaping; the server still checks the encoding). */
#ifndef VELO_DB_PGCOPY_H
#define VELO_DB_PGCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "db_int.h"

struct velo_buf;

/* Staging columns (db_stage_val indices) that one COPY sends, in order. */
struct db_pgcopy_cols {
    const uint8_t *col;
    size_t         n;
};
/* Every staging column (stg_station_stats). */
extern const struct db_pgcopy_cols db_pgcopy_stage;
/* fact_station_hourly's columns. */
extern const struct db_pgcopy_cols db_pgcopy_hourly;
/* fact_station_daily's columns (the hourly ones plus local_date). */
extern const struct db_pgcopy_cols db_pgcopy_daily;

/* Appends the header. VELO_ETOOBIG past out's max, VELO_ENOMEM. */
VELO_MUST_CHECK int db_pgcopy_header(struct velo_buf *out);

/* Appends row i of b as one binary COPY tuple of cols. VELO_ETOOBIG past
 * out's max (out is then unchanged up to the failed field: the caller
 * drops the whole COPY), VELO_ENOMEM. */
VELO_MUST_CHECK int db_pgcopy_row(struct velo_buf       *out,
                                  const struct db_batch *b, size_t i,
                                  const struct db_pgcopy_cols *cols);

/* Appends the trailer. */
VELO_MUST_CHECK int db_pgcopy_trailer(struct velo_buf *out);

/* Writes "COPY table (c, ...) FROM STDIN (FORMAT binary)" into sql (table
 * from a fixed list, columns from db_sql_stage_col). VELO_ETOOBIG when it
 * does not fit in size bytes. */
VELO_MUST_CHECK int db_pgcopy_sql(char *sql, size_t size, const char *table,
                                  const struct db_pgcopy_cols *cols);

#endif
