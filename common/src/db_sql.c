/* db_sql.c: SQL text shared by the backends. Values never appear here:
 * they travel as bound parameters, COPY data or bcp bindings. */
#include <string.h>

#include "db_int.h"

const struct db_table db_sql_tables[] = {
    {"dim_system", "system_id"},
    {"dim_station", "system_id, station_id, valid_from"},
    {"dim_time", "system_id, hour_start_ms"},
    {"fact_station_hourly", "system_id, station_id, window_start_ms"},
    {"fact_station_daily", "system_id, station_id, window_start_ms"},
    {"schema_migrations", "version"},
};
const size_t db_sql_tables_len =
    sizeof(db_sql_tables) / sizeof(db_sql_tables[0]);

#define SET_MEASURES                                                           \
    "samples = excluded.samples, bikes_avg = excluded.bikes_avg, "             \
    "bikes_min = excluded.bikes_min, bikes_max = excluded.bikes_max, "         \
    "docks_avg = excluded.docks_avg, docks_min = excluded.docks_min, "         \
    "docks_max = excluded.docks_max, "                                         \
    "minutes_empty = excluded.minutes_empty, "                                 \
    "minutes_full = excluded.minutes_full, bikes_in = excluded.bikes_in, "     \
    "bikes_out = excluded.bikes_out, "                                         \
    "flow_reliable = excluded.flow_reliable, status = excluded.status, "       \
    "capacity = excluded.capacity, electric_avg = excluded.electric_avg"

/* The staged row of a station (flags & 1) carries the batch's latest
 * values and dim_from_ms, the first window of their trailing run; v is a
 * version of that station. */
#define S_STATION_V                                                            \
    "(s.flags & 1) <> 0 AND v.system_id = s.system_id "                        \
    "AND v.station_id = s.station_id "
#define S_SAME_DIMS_V                                                          \
    "v.name = s.station_name AND v.lat = s.lat AND v.lon = s.lon "             \
    "AND v.capacity = s.station_capacity "

/* Order matters. dim_station is a function of the set of rows loaded, not
 * of how they were cut into batches: versions are contiguous, and a batch
 * with windows before a version v that carry v's values moves v's start
 * back to them (and the end of the version before v, when that one started
 * earlier still); values before every version open a closed version of
 * their own. Then a later window with new values closes the current
 * version and the next one opens. Reloading the same data changes
 * nothing. Concurrent loaders of one system queue on its dim_system row,
 * so the second sees the first's committed versions; ON CONFLICT DO
 * NOTHING on dim_station is a second guard should that ever change. */
const char *const db_sql_merge_ansi[] = {
    "INSERT INTO dim_system (system_id, name, time_zone) "
    "SELECT system_id, system_name, time_zone FROM stg_station_stats "
    "WHERE (flags & 2) <> 0 "
    "ON CONFLICT (system_id) DO UPDATE SET name = excluded.name, "
    "time_zone = excluded.time_zone",

    /* The version before v ends where v now starts. */
    "UPDATE dim_station SET valid_to = s.dim_from_ms "
    "FROM stg_station_stats s, dim_station v WHERE " S_STATION_V
    "AND " S_SAME_DIMS_V "AND v.valid_from > s.dim_from_ms "
    "AND dim_station.system_id = s.system_id "
    "AND dim_station.station_id = s.station_id "
    "AND dim_station.valid_to = v.valid_from "
    "AND dim_station.valid_from < s.dim_from_ms",

    /* v moves back: the first version after dim_from, none covering it. */
    "UPDATE dim_station AS v SET valid_from = s.dim_from_ms "
    "FROM stg_station_stats s WHERE " S_STATION_V "AND " S_SAME_DIMS_V
    "AND v.valid_from > s.dim_from_ms AND NOT EXISTS "
    "(SELECT 1 FROM dim_station d WHERE d.system_id = s.system_id "
    "AND d.station_id = s.station_id AND d.valid_from < v.valid_from "
    "AND (d.valid_to IS NULL OR d.valid_to > s.dim_from_ms))",

    /* Other values before the first version v: a closed version. */
    "INSERT INTO dim_station (system_id, station_id, valid_from, valid_to, "
    "is_current, name, lat, lon, capacity) "
    "SELECT s.system_id, s.station_id, s.dim_from_ms, v.valid_from, 0, "
    "s.station_name, s.lat, s.lon, s.station_capacity "
    "FROM stg_station_stats s, dim_station v WHERE " S_STATION_V
    "AND v.valid_from > s.dim_from_ms AND NOT EXISTS "
    "(SELECT 1 FROM dim_station d WHERE d.system_id = s.system_id "
    "AND d.station_id = s.station_id AND d.valid_from < v.valid_from) "
    "ON CONFLICT DO NOTHING",

    "UPDATE dim_station SET valid_to = s.dim_from_ms, is_current = 0 "
    "FROM stg_station_stats s WHERE (s.flags & 1) <> 0 "
    "AND dim_station.system_id = s.system_id "
    "AND dim_station.station_id = s.station_id "
    "AND dim_station.is_current = 1 "
    "AND s.dim_from_ms > dim_station.valid_from "
    "AND (dim_station.name <> s.station_name OR dim_station.lat <> s.lat "
    "OR dim_station.lon <> s.lon "
    "OR dim_station.capacity <> s.station_capacity)",

    "INSERT INTO dim_station (system_id, station_id, valid_from, valid_to, "
    "is_current, name, lat, lon, capacity) "
    "SELECT s.system_id, s.station_id, s.dim_from_ms, "
    "CAST(NULL AS BIGINT), 1, "
    "s.station_name, s.lat, s.lon, s.station_capacity "
    "FROM stg_station_stats s WHERE (s.flags & 1) <> 0 AND NOT EXISTS "
    "(SELECT 1 FROM dim_station d WHERE d.system_id = s.system_id "
    "AND d.station_id = s.station_id AND d.is_current = 1) "
    "ON CONFLICT DO NOTHING",

    "INSERT INTO dim_time (system_id, hour_start_ms, local_date, "
    "local_hour, day_of_week) "
    "SELECT system_id, window_start_ms, local_date, local_hour, local_dow "
    "FROM stg_station_stats WHERE (flags & 4) <> 0 "
    "ON CONFLICT (system_id, hour_start_ms) DO UPDATE SET "
    "local_date = excluded.local_date, local_hour = excluded.local_hour, "
    "day_of_week = excluded.day_of_week",

    "INSERT INTO fact_station_hourly (system_id, station_id, "
    "window_start_ms, " DB_SQL_MEASURES ") "
    "SELECT system_id, station_id, window_start_ms, " DB_SQL_MEASURES
    " FROM stg_station_stats WHERE gran = 0 "
    "ON CONFLICT (system_id, station_id, window_start_ms) DO UPDATE "
    "SET " SET_MEASURES,

    "INSERT INTO fact_station_daily (system_id, station_id, "
    "window_start_ms, local_date, " DB_SQL_MEASURES ") "
    "SELECT system_id, station_id, window_start_ms, "
    "local_date, " DB_SQL_MEASURES " FROM stg_station_stats WHERE gran = 1 "
    "ON CONFLICT (system_id, station_id, window_start_ms) DO UPDATE SET "
    "local_date = excluded.local_date, " SET_MEASURES,
};
const size_t db_sql_merge_ansi_len =
    sizeof(db_sql_merge_ansi) / sizeof(db_sql_merge_ansi[0]);
const size_t db_sql_merge_dims_len =
    sizeof(db_sql_merge_ansi) / sizeof(db_sql_merge_ansi[0]) - 2;

/* The measures of alias p ("s." or "f."), as a row for IS DISTINCT FROM:
 * doubles by their bytes, so -0 against 0 or another NaN counts as a
 * change and a merge stays exactly "the later row wins". */
#define EXACT_OF(p)                                                            \
    "(" p "samples, float8send(" p "bikes_avg), float8send(" p "bikes_min), "  \
    "float8send(" p "bikes_max), float8send(" p "docks_avg), "                 \
    "float8send(" p "docks_min), float8send(" p "docks_max), "                 \
    "float8send(" p "minutes_empty), float8send(" p "minutes_full), " p        \
    "bikes_in, " p "bikes_out, " p "flow_reliable, " p "status, " p            \
    "capacity, float8send(" p "electric_avg)"
#define EXACT_F EXACT_OF("f.")
#define EXACT_S EXACT_OF("s.")
#define ON_KEY                                                                 \
    "ON f.system_id = s.system_id AND f.station_id = s.station_id "            \
    "AND f.window_start_ms = s.window_start_ms "

/* MERGE inserts without ON CONFLICT's speculative insertion and leaves
 * rows equal to the stored ones alone (a rerun writes nothing): about
 * twice as fast as db_sql_merge_ansi's fact statements on PostgreSQL 15.
 * It is safe against a concurrent insert of the same key only because
 * loaders of a system queue on its dim_system row, which the dimension
 * merges lock first in the same transaction (a race would surface as a
 * unique violation, never as a wrong row). */
const char *const db_sql_merge_pg_facts[2] = {
    "MERGE INTO fact_station_hourly f USING "
    "(SELECT * FROM stg_station_stats WHERE gran = 0) s " ON_KEY
    "WHEN MATCHED AND " EXACT_F ") IS DISTINCT FROM " EXACT_S ") "
    "THEN UPDATE SET " DB_SQL_SET_FROM_S " "
    "WHEN NOT MATCHED THEN INSERT (system_id, station_id, "
    "window_start_ms, " DB_SQL_MEASURES ") VALUES (s.system_id, s.station_id, "
    "s.window_start_ms, " DB_SQL_S_MEASURES ")",

    "MERGE INTO fact_station_daily f USING "
    "(SELECT * FROM stg_station_stats WHERE gran = 1) s " ON_KEY
    "WHEN MATCHED AND " EXACT_F ", f.local_date) IS DISTINCT FROM " EXACT_S
    ", s.local_date) THEN UPDATE SET local_date = "
    "s.local_date, " DB_SQL_SET_FROM_S
    " WHEN NOT MATCHED THEN INSERT (system_id, station_id, "
    "window_start_ms, local_date, " DB_SQL_MEASURES ") VALUES (s.system_id, "
    "s.station_id, s.window_start_ms, s.local_date, " DB_SQL_S_MEASURES ")",
};

int
db_sql_rank_expr(enum velo_db_rank by, const char **out)
{
    static const char *const exprs[] = {
        [VELO_DB_RANK_FLOW] = "bikes_in + bikes_out",
        [VELO_DB_RANK_MINUTES_EMPTY] = "minutes_empty",
        [VELO_DB_RANK_MINUTES_FULL] = "minutes_full",
    };

    if ((unsigned)by >= sizeof(exprs) / sizeof(exprs[0]))
        return VELO_EINVAL;
    *out = exprs[by];
    return VELO_OK;
}

/* How a staging column gets its value from a row (or from the batch). */
enum stage_kind {
    K_GRAN,
    K_I32,
    K_I64,
    K_BOOL,
    K_DBL,
    K_STR,
    K_ELECTRIC, /* NULL unless has_electric_avg */
    K_FLAGS,
    K_DIM_FROM,
};

struct stage_col {
    const char     *name;
    enum stage_kind kind;
    size_t          off; /* into struct velo_db_row */
};

#define C(name, kind, field)                                                   \
    {                                                                          \
        name, kind, offsetof(struct velo_db_row, field)                        \
    }

/* The staging table's columns, in order: every dialect's staging DDL, the
 * COPY rows and the bcp bind table follow it (tests check each). */
static const struct stage_col stage_cols[] = {
    C("gran", K_GRAN, gran),
    C("system_id", K_STR, system_id),
    C("station_id", K_STR, station_id),
    C("window_start_ms", K_I64, window_start_ms),
    C("local_date", K_STR, local_date),
    C("local_hour", K_I32, local_hour),
    C("local_dow", K_I32, local_dow),
    C("samples", K_I64, samples),
    C("bikes_avg", K_DBL, bikes_avg),
    C("bikes_min", K_DBL, bikes_min),
    C("bikes_max", K_DBL, bikes_max),
    C("docks_avg", K_DBL, docks_avg),
    C("docks_min", K_DBL, docks_min),
    C("docks_max", K_DBL, docks_max),
    C("minutes_empty", K_DBL, minutes_empty),
    C("minutes_full", K_DBL, minutes_full),
    C("bikes_in", K_I64, bikes_in),
    C("bikes_out", K_I64, bikes_out),
    C("flow_reliable", K_BOOL, flow_reliable),
    C("status", K_STR, status),
    C("capacity", K_I32, capacity),
    C("electric_avg", K_ELECTRIC, electric_avg),
    C("station_name", K_STR, station_name),
    C("lat", K_DBL, lat),
    C("lon", K_DBL, lon),
    C("station_capacity", K_I32, station_capacity),
    C("system_name", K_STR, system_name),
    C("time_zone", K_STR, time_zone),
    {"flags", K_FLAGS, 0},
    {"dim_from_ms", K_DIM_FROM, 0},
};
const size_t db_sql_stage_cols_len = sizeof(stage_cols) / sizeof(stage_cols[0]);

const char *
db_sql_stage_col(size_t col)
{
    return stage_cols[col].name;
}

void
db_stage_val(const struct db_batch *b, size_t i, size_t col, struct db_val *v)
{
    const struct velo_db_row *r = b->rows[i];
    const char               *f = (const char *)r + stage_cols[col].off;
    int32_t                   i32;
    bool                      bl;

    memset(v, 0, sizeof(*v));
    v->t = DB_V_INT;
    v->ibytes = 4;
    switch (stage_cols[col].kind) {
    case K_GRAN:
        v->i = r->gran;
        break;
    case K_I32:
        memcpy(&i32, f, sizeof(i32));
        v->i = i32;
        break;
    case K_I64:
        v->ibytes = 8;
        memcpy(&v->i, f, sizeof(v->i));
        break;
    case K_BOOL:
        memcpy(&bl, f, sizeof(bl));
        v->i = bl ? 1 : 0;
        break;
    case K_ELECTRIC:
        if (!r->has_electric_avg) {
            v->t = DB_V_NULL;
            break;
        }
        /* fall through */
    case K_DBL:
        v->t = DB_V_DBL;
        memcpy(&v->d, f, sizeof(v->d));
        break;
    case K_STR:
        v->t = DB_V_TXT;
        memcpy(&v->s, f, sizeof(v->s));
        if (v->s == NULL)
            v->s = "";
        break;
    case K_FLAGS:
        v->i = b->flags[i];
        break;
    case K_DIM_FROM:
        v->ibytes = 8;
        v->i = b->dim_from[i];
        break;
    }
}

int
db_sql_load_ansi(velo_db *db, const char *stage_ddl, const char *clear_sql,
                 int (*stage)(velo_db *db, const struct db_batch *b),
                 const struct db_batch *b)
{
    size_t i;
    int    rv;

    rv = db->ops->exec(db, stage_ddl);
    if (rv == VELO_OK)
        rv = db->ops->exec(db, clear_sql);
    if (rv == VELO_OK)
        rv = stage(db, b);
    for (i = 0; rv == VELO_OK && i < db_sql_merge_ansi_len; i++)
        rv = db->ops->exec(db, db_sql_merge_ansi[i]);
    return rv;
}
