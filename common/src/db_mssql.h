/* db_mssql.h: the parts of the SQL Server backend that need no server
 * (db_mssql_sql.c): SQL text, batch splitting, error mapping and the bcp
 * bind table, so unit tests cover them here where no server can run. */
#ifndef VELO_DB_MSSQL_H
#define VELO_DB_MSSQL_H

#include <stddef.h>
#include <stdint.h>

#include "db_int.h"

/* One staged row in fixed storage: bcp_bind points db-lib at these fields
 * once, and every bcp_sendrow reads whatever they hold. */
struct db_mssql_stage {
    int32_t gran;
    char    system_id[VELO_DB_ID_MAX + 1];
    char    station_id[VELO_DB_ID_MAX + 1];
    int64_t window_start_ms;
    char    local_date[VELO_DB_DATE_LEN + 1];
    int32_t local_hour, local_dow;
    int64_t samples;
    double  bikes_avg, bikes_min, bikes_max;
    double  docks_avg, docks_min, docks_max;
    double  minutes_empty, minutes_full;
    int64_t bikes_in, bikes_out;
    int32_t flow_reliable;
    char    status[VELO_DB_STATUS_MAX + 1];
    int32_t capacity;
    double  electric_avg;
    char    station_name[VELO_DB_NAME_MAX + 1];
    double  lat, lon;
    int32_t station_capacity;
    char    system_name[VELO_DB_NAME_MAX + 1];
    char    time_zone[VELO_DB_TZ_MAX + 1];
    int32_t flags;
    int64_t dim_from_ms;
    /* per row: the bcp_collen of each column (0 = NULL, -1 = as bound) */
    int32_t collen[32];
};

enum db_mssql_ctype {
    DB_MSSQL_INT4 = 1, /* SYBINT4 */
    DB_MSSQL_INT8,     /* SYBINT8 */
    DB_MSSQL_FLT8,     /* SYBFLT8 */
    DB_MSSQL_CHAR,     /* SYBCHAR, NUL-terminated */
};

/* One bcp_bind call; entry i binds staging table column i + 1. */
struct db_mssql_bind {
    const char         *column;
    enum db_mssql_ctype ctype;
    size_t              offset; /* into struct db_mssql_stage */
    size_t              size;   /* bytes at offset (strings: with NUL) */
    bool                nullable;
};
extern const struct db_mssql_bind db_mssql_binds[];
extern const size_t               db_mssql_binds_len;

/* Copies row i of b into s through the bind table; sets
 * s->collen[i] to 0 for NULL (absent electric_avg, empty optional strings)
 * and -1 otherwise. Strings were validated against the same limits. */
void db_mssql_stage_fill(struct db_mssql_stage *s, const struct db_batch *b,
                         size_t i);

/* The merge that moves stg_station_stats into the star, one T-SQL batch. */
extern const char db_mssql_merge_sql[];

/* Splits migration text at lines that hold only "GO" (any case, blanks
 * around): calls fn for each non-blank batch, NUL-terminated in a copy.
 * Stops at and returns the first non-zero fn result; VELO_ENOMEM. */
int db_mssql_split(const char *sql, int (*fn)(void *ctx, const char *batch),
                   void       *ctx);

/* Maps a SQL Server message number (0 for a db-lib error) and whether the
 * connection died to a velo error. */
int db_mssql_map(int msgno, bool dead);

#endif
