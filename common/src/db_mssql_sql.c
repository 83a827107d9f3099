/* db_mssql_sql.c: SQL Server text, batch splitting, error mapping and the
 * bcp bind table (db_mssql.h). No server needed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_mssql.h"

#define F(col, field, ctype, nullable)                                         \
    {                                                                          \
#col, ctype, offsetof(struct db_mssql_stage, field),                   \
            sizeof(((struct db_mssql_stage *)0)->field), nullable              \
    }

/* Staging table order (mssql/0001_star_schema.sql, db_sql_stage_cols). */
const struct db_mssql_bind db_mssql_binds[] = {
    F(gran, gran, DB_MSSQL_INT4, false),
    F(system_id, system_id, DB_MSSQL_CHAR, false),
    F(station_id, station_id, DB_MSSQL_CHAR, false),
    F(window_start_ms, window_start_ms, DB_MSSQL_INT8, false),
    F(local_date, local_date, DB_MSSQL_CHAR, false),
    F(local_hour, local_hour, DB_MSSQL_INT4, false),
    F(local_dow, local_dow, DB_MSSQL_INT4, false),
    F(samples, samples, DB_MSSQL_INT8, false),
    F(bikes_avg, bikes_avg, DB_MSSQL_FLT8, false),
    F(bikes_min, bikes_min, DB_MSSQL_FLT8, false),
    F(bikes_max, bikes_max, DB_MSSQL_FLT8, false),
    F(docks_avg, docks_avg, DB_MSSQL_FLT8, false),
    F(docks_min, docks_min, DB_MSSQL_FLT8, false),
    F(docks_max, docks_max, DB_MSSQL_FLT8, false),
    F(minutes_empty, minutes_empty, DB_MSSQL_FLT8, false),
    F(minutes_full, minutes_full, DB_MSSQL_FLT8, false),
    F(bikes_in, bikes_in, DB_MSSQL_INT8, false),
    F(bikes_out, bikes_out, DB_MSSQL_INT8, false),
    F(flow_reliable, flow_reliable, DB_MSSQL_INT4, false),
    F(status, status, DB_MSSQL_CHAR, true),
    F(capacity, capacity, DB_MSSQL_INT4, false),
    F(electric_avg, electric_avg, DB_MSSQL_FLT8, true),
    F(station_name, station_name, DB_MSSQL_CHAR, true),
    F(lat, lat, DB_MSSQL_FLT8, false),
    F(lon, lon, DB_MSSQL_FLT8, false),
    F(station_capacity, station_capacity, DB_MSSQL_INT4, false),
    F(system_name, system_name, DB_MSSQL_CHAR, true),
    F(time_zone, time_zone, DB_MSSQL_CHAR, true),
    F(flags, flags, DB_MSSQL_INT4, false),
    F(dim_from_ms, dim_from_ms, DB_MSSQL_INT8, false),
};
const size_t db_mssql_binds_len =
    sizeof(db_mssql_binds) / sizeof(db_mssql_binds[0]);

void
db_mssql_stage_fill(struct db_mssql_stage *s, const struct db_batch *b,
                    size_t row)
{
    const struct db_mssql_bind *bd;
    struct db_val               v;
    char                       *p;
    size_t                      i;

    for (i = 0; i < db_mssql_binds_len; i++) {
        bd = &db_mssql_binds[i];
        p = (char *)s + bd->offset;
        db_stage_val(b, row, i, &v);
        s->collen[i] = -1;
        switch (bd->ctype) {
        case DB_MSSQL_INT4: {
            int32_t x = (int32_t)v.i;
            memcpy(p, &x, sizeof(x));
            break;
        }
        case DB_MSSQL_INT8:
            memcpy(p, &v.i, sizeof(v.i));
            break;
        case DB_MSSQL_FLT8:
            if (v.t == DB_V_NULL)
                s->collen[i] = 0;
            else
                memcpy(p, &v.d, sizeof(v.d));
            break;
        case DB_MSSQL_CHAR:
            snprintf(p, bd->size, "%s", v.s);
            /* db-lib sends a zero-length value as NULL; say so. */
            if (p[0] == '\0')
                s->collen[i] = 0;
            break;
        }
    }
}

/* Optional strings arrive as NULL (see stage_fill): COALESCE them back. */
#define SRC_MEASURES                                                           \
    "samples, bikes_avg, bikes_min, bikes_max, docks_avg, docks_min, "         \
    "docks_max, minutes_empty, minutes_full, bikes_in, bikes_out, "            \
    "flow_reliable, COALESCE(status, N'') AS status, capacity, electric_avg"
#define FACT_ON                                                                \
    "ON t.system_id = s.system_id AND t.station_id = s.station_id "            \
    "AND t.window_start_ms = s.window_start_ms "

/* Same rules as db_sql_merge_ansi (see there), in T-SQL. HOLDLOCK keeps
 * MERGE's check-then-insert atomic against a concurrent loader. */
const char db_mssql_merge_sql[] =
    "MERGE dim_system WITH (HOLDLOCK) AS t "
    "USING (SELECT system_id, COALESCE(system_name, N'') AS name, "
    "COALESCE(time_zone, N'') AS time_zone FROM stg_station_stats "
    "WHERE (flags & 2) <> 0) AS s ON t.system_id = s.system_id "
    "WHEN MATCHED THEN UPDATE SET name = s.name, time_zone = s.time_zone "
    "WHEN NOT MATCHED THEN INSERT (system_id, name, time_zone) "
    "VALUES (s.system_id, s.name, s.time_zone);\n"

    "UPDATE p SET valid_to = s.dim_from_ms "
    "FROM dim_station AS p WITH (UPDLOCK, HOLDLOCK) "
    "JOIN stg_station_stats AS s ON p.system_id = s.system_id "
    "AND p.station_id = s.station_id "
    "JOIN dim_station AS v WITH (UPDLOCK, HOLDLOCK) "
    "ON v.system_id = s.system_id AND v.station_id = s.station_id "
    "AND v.valid_from = p.valid_to "
    "WHERE (s.flags & 1) <> 0 AND p.valid_from < s.dim_from_ms "
    "AND v.valid_from > s.dim_from_ms "
    "AND v.name = COALESCE(s.station_name, N'') AND v.lat = s.lat "
    "AND v.lon = s.lon AND v.capacity = s.station_capacity;\n"

    "UPDATE v SET valid_from = s.dim_from_ms "
    "FROM dim_station AS v WITH (UPDLOCK, HOLDLOCK) "
    "JOIN stg_station_stats AS s ON v.system_id = s.system_id "
    "AND v.station_id = s.station_id "
    "WHERE (s.flags & 1) <> 0 AND v.valid_from > s.dim_from_ms "
    "AND v.name = COALESCE(s.station_name, N'') AND v.lat = s.lat "
    "AND v.lon = s.lon AND v.capacity = s.station_capacity "
    "AND NOT EXISTS (SELECT 1 FROM dim_station AS d WITH (UPDLOCK, HOLDLOCK) "
    "WHERE d.system_id = s.system_id AND d.station_id = s.station_id "
    "AND d.valid_from < v.valid_from "
    "AND (d.valid_to IS NULL OR d.valid_to > s.dim_from_ms));\n"

    "INSERT INTO dim_station (system_id, station_id, valid_from, valid_to, "
    "is_current, name, lat, lon, capacity) "
    "SELECT s.system_id, s.station_id, s.dim_from_ms, v.valid_from, 0, "
    "COALESCE(s.station_name, N''), s.lat, s.lon, s.station_capacity "
    "FROM stg_station_stats AS s JOIN dim_station AS v WITH (UPDLOCK, "
    "HOLDLOCK) ON v.system_id = s.system_id "
    "AND v.station_id = s.station_id "
    "WHERE (s.flags & 1) <> 0 AND v.valid_from > s.dim_from_ms "
    "AND NOT EXISTS (SELECT 1 FROM dim_station AS d WITH (UPDLOCK, HOLDLOCK) "
    "WHERE d.system_id = s.system_id AND d.station_id = s.station_id "
    "AND d.valid_from < v.valid_from);\n"

    "UPDATE d SET valid_to = s.dim_from_ms, is_current = 0 "
    "FROM dim_station AS d WITH (UPDLOCK, HOLDLOCK) "
    "JOIN stg_station_stats AS s ON d.system_id = s.system_id "
    "AND d.station_id = s.station_id "
    "WHERE (s.flags & 1) <> 0 AND d.is_current = 1 "
    "AND s.dim_from_ms > d.valid_from "
    "AND (d.name <> COALESCE(s.station_name, N'') OR d.lat <> s.lat "
    "OR d.lon <> s.lon OR d.capacity <> s.station_capacity);\n"

    "INSERT INTO dim_station (system_id, station_id, valid_from, valid_to, "
    "is_current, name, lat, lon, capacity) "
    "SELECT s.system_id, s.station_id, s.dim_from_ms, "
    "CAST(NULL AS BIGINT), 1, COALESCE(s.station_name, N''), s.lat, s.lon, "
    "s.station_capacity FROM stg_station_stats AS s "
    "WHERE (s.flags & 1) <> 0 AND NOT EXISTS (SELECT 1 FROM dim_station "
    "AS d WITH (UPDLOCK, HOLDLOCK) WHERE d.system_id = s.system_id "
    "AND d.station_id = s.station_id AND d.is_current = 1);\n"

    "MERGE dim_time WITH (HOLDLOCK) AS t "
    "USING (SELECT system_id, window_start_ms, local_date, local_hour, "
    "local_dow FROM stg_station_stats WHERE (flags & 4) <> 0) AS s "
    "ON t.system_id = s.system_id AND t.hour_start_ms = s.window_start_ms "
    "WHEN MATCHED THEN UPDATE SET local_date = s.local_date, "
    "local_hour = s.local_hour, day_of_week = s.local_dow "
    "WHEN NOT MATCHED THEN INSERT (system_id, hour_start_ms, local_date, "
    "local_hour, day_of_week) VALUES (s.system_id, s.window_start_ms, "
    "s.local_date, s.local_hour, s.local_dow);\n"

    "MERGE fact_station_hourly WITH (HOLDLOCK) AS t "
    "USING (SELECT system_id, station_id, window_start_ms, " SRC_MEASURES
    " FROM stg_station_stats WHERE gran = 0) AS s " FACT_ON
    "WHEN MATCHED THEN UPDATE SET " DB_SQL_SET_FROM_S " "
    "WHEN NOT MATCHED THEN INSERT (system_id, station_id, "
    "window_start_ms, " DB_SQL_MEASURES
    ") VALUES (s.system_id, s.station_id, s.window_start_ms, " DB_SQL_S_MEASURES
    ");\n"

    "MERGE fact_station_daily WITH (HOLDLOCK) AS t "
    "USING (SELECT system_id, station_id, window_start_ms, "
    "local_date, " SRC_MEASURES
    " FROM stg_station_stats WHERE gran = 1) AS s " FACT_ON
    "WHEN MATCHED THEN UPDATE SET local_date = s.local_date, " DB_SQL_SET_FROM_S
    " WHEN NOT MATCHED THEN INSERT (system_id, station_id, window_start_ms, "
    "local_date, " DB_SQL_MEASURES ") VALUES (s.system_id, s.station_id, "
    "s.window_start_ms, s.local_date, " DB_SQL_S_MEASURES ");\n";

/* True when line [p, end) is "GO" with optional blanks around it. */
static bool
is_go(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    return end - p == 2 && toupper((unsigned char)p[0]) == 'G' &&
           toupper((unsigned char)p[1]) == 'O';
}

static bool
blank(const char *s)
{
    while (*s != '\0' && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

int
db_mssql_split(const char *sql, int (*fn)(void *ctx, const char *batch),
               void       *ctx)
{
    char *copy, *start, *line, *nl;
    int   rv = VELO_OK;

    copy = strdup(sql);
    if (copy == NULL)
        return VELO_ENOMEM;
    start = line = copy;
    while (rv == VELO_OK && line != NULL) {
        nl = strchr(line, '\n');
        if (is_go(line, nl != NULL ? nl : line + strlen(line))) {
            *line = '\0';
            if (!blank(start))
                rv = fn(ctx, start);
            start = nl != NULL ? nl + 1 : NULL;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    if (rv == VELO_OK && start != NULL && !blank(start))
        rv = fn(ctx, start);
    free(copy);
    return rv;
}

int
db_mssql_map(int msgno, bool dead)
{
    if (dead)
        return VELO_EUNAVAIL;
    switch (msgno) {
    case 1205:  /* deadlock victim */
    case 3960:  /* snapshot update conflict */
    case 40613: /* database not currently available (Azure) */
    case 40197:
    case 40501: /* service busy */
    case 49918:
    case 4060:  /* cannot open database (yet) */
    case 18401: /* server in script upgrade mode */
    case 6005:  /* SHUTDOWN is in progress */
        return VELO_EUNAVAIL;
    case 2627: /* unique constraint */
    case 2601: /* duplicate key in unique index */
    case 547:  /* foreign key / check */
    case 515:  /* NULL into NOT NULL */
    case 8152: /* string or binary data would be truncated */
    case 2628:
        return VELO_EINVAL;
    default:
        return VELO_EPROTO;
    }
}
