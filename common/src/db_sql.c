/* db_sql.c: SQL text shared by the backends. Values never appear here:
 * they travel as bound parameters, COPY data or bcp bindings. */
#include "db_int.h"

const char *const db_sql_stage_cols[] = {
    "gran",       "system_id",        "station_id",    "window_start_ms",
    "local_date", "local_hour",       "local_dow",     "samples",
    "bikes_avg",  "bikes_min",        "bikes_max",     "docks_avg",
    "docks_min",  "docks_max",        "minutes_empty", "minutes_full",
    "bikes_in",   "bikes_out",        "flow_reliable", "status",
    "capacity",   "electric_avg",     "station_name",  "lat",
    "lon",        "station_capacity", "system_name",   "time_zone",
    "flags",      "dim_from_ms",
};
const size_t db_sql_stage_cols_len =
    sizeof(db_sql_stage_cols) / sizeof(db_sql_stage_cols[0]);

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

#define MEASURES                                                               \
    "samples, bikes_avg, bikes_min, bikes_max, docks_avg, docks_min, "         \
    "docks_max, minutes_empty, minutes_full, bikes_in, bikes_out, "            \
    "flow_reliable, status, capacity, electric_avg"
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

/* Order matters: dim_station closes the current version before inserting
 * the next one. A station whose latest row in the batch is not later than
 * its current version keeps it: reloading old data never rewrites history,
 * and reloading the same data changes nothing. Of two loaders racing to
 * open a station's first version, one wins and the other's insert does
 * nothing (ON CONFLICT DO NOTHING) instead of failing its batch. */
const char *const db_sql_merge_ansi[] = {
    "INSERT INTO dim_system (system_id, name, time_zone) "
    "SELECT system_id, system_name, time_zone FROM stg_station_stats "
    "WHERE (flags & 2) <> 0 "
    "ON CONFLICT (system_id) DO UPDATE SET name = excluded.name, "
    "time_zone = excluded.time_zone",

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
    "window_start_ms, " MEASURES ") "
    "SELECT system_id, station_id, window_start_ms, " MEASURES
    " FROM stg_station_stats WHERE gran = 0 "
    "ON CONFLICT (system_id, station_id, window_start_ms) DO UPDATE "
    "SET " SET_MEASURES,

    "INSERT INTO fact_station_daily (system_id, station_id, "
    "window_start_ms, local_date, " MEASURES ") "
    "SELECT system_id, station_id, window_start_ms, local_date, " MEASURES
    " FROM stg_station_stats WHERE gran = 1 "
    "ON CONFLICT (system_id, station_id, window_start_ms) DO UPDATE SET "
    "local_date = excluded.local_date, " SET_MEASURES,
};
const size_t db_sql_merge_ansi_len =
    sizeof(db_sql_merge_ansi) / sizeof(db_sql_merge_ansi[0]);

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

static void
v_int(struct db_val *v, int64_t i)
{
    v->t = DB_V_INT;
    v->i = i;
}

static void
v_dbl(struct db_val *v, double d)
{
    v->t = DB_V_DBL;
    v->d = d;
}

static void
v_txt(struct db_val *v, const char *s)
{
    v->t = DB_V_TXT;
    v->s = s != NULL ? s : "";
}

/* Must follow db_sql_stage_cols; db_sql_test checks every index. */
void
db_stage_val(const struct db_batch *b, size_t i, size_t col, struct db_val *v)
{
    const struct velo_db_row *r = b->rows[i];

    switch (col) {
    case 0:
        v_int(v, r->gran);
        break;
    case 1:
        v_txt(v, r->system_id);
        break;
    case 2:
        v_txt(v, r->station_id);
        break;
    case 3:
        v_int(v, r->window_start_ms);
        break;
    case 4:
        v_txt(v, r->local_date);
        break;
    case 5:
        v_int(v, r->local_hour);
        break;
    case 6:
        v_int(v, r->local_dow);
        break;
    case 7:
        v_int(v, r->samples);
        break;
    case 8:
        v_dbl(v, r->bikes_avg);
        break;
    case 9:
        v_dbl(v, r->bikes_min);
        break;
    case 10:
        v_dbl(v, r->bikes_max);
        break;
    case 11:
        v_dbl(v, r->docks_avg);
        break;
    case 12:
        v_dbl(v, r->docks_min);
        break;
    case 13:
        v_dbl(v, r->docks_max);
        break;
    case 14:
        v_dbl(v, r->minutes_empty);
        break;
    case 15:
        v_dbl(v, r->minutes_full);
        break;
    case 16:
        v_int(v, r->bikes_in);
        break;
    case 17:
        v_int(v, r->bikes_out);
        break;
    case 18:
        v_int(v, r->flow_reliable ? 1 : 0);
        break;
    case 19:
        v_txt(v, r->status);
        break;
    case 20:
        v_int(v, r->capacity);
        break;
    case 21:
        if (r->has_electric_avg)
            v_dbl(v, r->electric_avg);
        else
            v->t = DB_V_NULL;
        break;
    case 22:
        v_txt(v, r->station_name);
        break;
    case 23:
        v_dbl(v, r->lat);
        break;
    case 24:
        v_dbl(v, r->lon);
        break;
    case 25:
        v_int(v, r->station_capacity);
        break;
    case 26:
        v_txt(v, r->system_name);
        break;
    case 27:
        v_txt(v, r->time_zone);
        break;
    case 28:
        v_int(v, b->flags[i]);
        break;
    default:
        v_int(v, b->dim_from[i]);
        break;
    }
}
