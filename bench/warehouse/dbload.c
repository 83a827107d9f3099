/* velo-bench-db-load: rows/s loaded into the warehouse through the velo_db
 * adapter, the way velo-warehouse loads them: batches of --batch rows,
 * each one transaction (velo_db_begin, velo_db_upsert, velo_db_commit).
 *
 *   velo-bench-db-load --url postgresql://velo@127.0.0.1:PORT/db
 *                      [--rows 200000] [--stations 1000] [--batch 10000]
 *                      [--reload 1] [--json]
 *   velo-bench-db-load --csv PATH [--rows ...] [--stations ...]
 *
 * The rows are hourly aggregates of --stations stations of one system,
 * hour after hour (row i: station i % stations, hour i / stations), with
 * deterministic values. They are built before the clock starts; opening
 * the database (connect and migrations) is timed apart. With --reload 1 the
 * rows are loaded twice and the second load is timed: every fact is there
 * already, so every batch takes the adapter's merge path (a rerun). With
 * --csv the same rows are written as CSV in fact_station_hourly's column
 * order (the baseline of bench/warehouse loads them with psql \copy) and
 * nothing is loaded. The password comes from VELO_WAREHOUSE_PASSWORD(_FILE).
 * Exit status: 0 done, 1 failed, 78 bad flags. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bench_util.h"
#include "velo/clock.h"
#include "velo/db.h"
#include "velo/log.h"

#define DL_T0_MS INT64_C(1774742400000) /* 2026-03-29T00:00:00Z */
#define DL_HOUR_MS INT64_C(3600000)
#define DL_ID_LEN 16

struct dl_opts {
    const char *url, *csv;
    uint32_t    rows, stations, batch, reload;
    bool        json;
};

/* The rows and the strings they borrow. */
struct dl_data {
    struct velo_db_row *rows;
    char (*ids)[DL_ID_LEN];              /* per station */
    char (*names)[DL_ID_LEN];            /* per station */
    char (*dates)[VELO_DB_DATE_LEN + 1]; /* per hour */
};

static const char *const dl_status[] = {"OPEN", "OPEN", "OPEN", "CLOSED"};

static void
dl_row(struct velo_db_row *r, const struct dl_data *d, uint32_t st,
       uint32_t hour)
{
    uint32_t cap = 10 + st % 31, mix = st * 2654435761u ^ hour * 40503u;
    double   avg = (double)(mix % (cap * 100)) / 100.0;

    memset(r, 0, sizeof(*r));
    r->gran = VELO_DB_HOUR;
    r->system_id = "bench:x";
    r->station_id = d->ids[st];
    r->window_start_ms = DL_T0_MS + (int64_t)hour * DL_HOUR_MS;
    r->local_date = d->dates[hour / 24];
    r->local_hour = (int32_t)(hour % 24);
    r->local_dow = (int32_t)((hour / 24) % 7);
    r->samples = 12;
    r->bikes_avg = avg;
    r->bikes_min = (double)(uint32_t)avg / 2;
    r->bikes_max = avg < cap - 1 ? (double)(uint32_t)avg + 1 : (double)cap;
    r->docks_avg = cap - avg;
    r->docks_min = cap - r->bikes_max;
    r->docks_max = cap - r->bikes_min;
    r->minutes_empty = r->bikes_min == 0 ? (double)(mix % 60) : 0;
    r->minutes_full = r->docks_min == 0 ? (double)(mix % 45) : 0;
    r->bikes_in = mix % 7;
    r->bikes_out = mix % 5;
    r->flow_reliable = mix % 10 != 0;
    r->status = dl_status[mix % 4 == 3 && mix % 9 == 0 ? 3 : 0];
    r->capacity = (int32_t)cap;
    r->has_electric_avg = st % 3 != 0;
    r->electric_avg = avg / 3;
    r->station_name = d->names[st];
    r->lat = 53.3 + st * 1e-4;
    r->lon = -6.26 - st * 1e-4;
    r->station_capacity = (int32_t)cap;
    r->system_name = "Bench";
    r->time_zone = "Europe/Dublin";
}

static int
dl_build(struct dl_data *d, const struct dl_opts *o)
{
    uint32_t i, hours = o->rows / o->stations + 1;
    int64_t  day;

    d->rows = calloc(o->rows, sizeof(*d->rows));
    d->ids = calloc(o->stations, sizeof(*d->ids));
    d->names = calloc(o->stations, sizeof(*d->names));
    d->dates = calloc(hours / 24 + 1, sizeof(*d->dates));
    if (!d->rows || !d->ids || !d->names || !d->dates)
        return VELO_ENOMEM;
    for (i = 0; i < o->stations; i++) {
        snprintf(d->ids[i], DL_ID_LEN, "%" PRIu32, 100000 + i);
        snprintf(d->names[i], DL_ID_LEN, "Station %" PRIu32, i);
    }
    for (i = 0; i <= hours / 24; i++) {
        day = 29 + i; /* days after 2026-03-28; enough for a bench */
        snprintf(d->dates[i], sizeof(d->dates[i]), "2026-%02d-%02d",
                 (int)(3 + (day - 1) / 30), (int)((day - 1) % 30 + 1));
    }
    for (i = 0; i < o->rows; i++)
        dl_row(&d->rows[i], d, i % o->stations, i / o->stations);
    return VELO_OK;
}

/* One CSV line in fact_station_hourly's column order (empty = NULL). */
static void
dl_csv_row(FILE *f, const struct velo_db_row *r)
{
    fprintf(f,
            "%s,%s,%" PRId64 ",%" PRId64 ",%.17g,%.17g,%.17g,%.17g,%.17g,"
            "%.17g,%.17g,%.17g,%" PRId64 ",%" PRId64 ",%d,%s,%" PRId32 ",",
            r->system_id, r->station_id, r->window_start_ms, r->samples,
            r->bikes_avg, r->bikes_min, r->bikes_max, r->docks_avg,
            r->docks_min, r->docks_max, r->minutes_empty, r->minutes_full,
            r->bikes_in, r->bikes_out, r->flow_reliable ? 1 : 0, r->status,
            r->capacity);
    if (r->has_electric_avg)
        fprintf(f, "%.17g", r->electric_avg);
    fputc('\n', f);
}

static int
dl_csv(const struct dl_data *d, const struct dl_opts *o)
{
    FILE    *f = fopen(o->csv, "w");
    uint32_t i;

    if (f == NULL)
        return VELO_EIO;
    for (i = 0; i < o->rows; i++)
        dl_csv_row(f, &d->rows[i]);
    return fclose(f) == 0 ? VELO_OK : VELO_EIO;
}

/* Loads every row, o->batch per transaction. */
static int
dl_load(velo_db *db, const struct dl_data *d, const struct dl_opts *o,
        uint32_t *batches)
{
    uint32_t i, n;
    int      rv = VELO_OK;

    for (i = 0; rv == VELO_OK && i < o->rows; i += n) {
        n = o->rows - i < o->batch ? o->rows - i : o->batch;
        rv = velo_db_begin(db);
        if (rv == VELO_OK)
            rv = velo_db_upsert(db, d->rows + i, n);
        if (rv == VELO_OK)
            rv = velo_db_commit(db);
        if (rv != VELO_OK)
            velo_db_rollback(db);
        (*batches)++;
    }
    return rv;
}

static int
dl_run(const struct dl_data *d, const struct dl_opts *o)
{
    struct velo_db_opts  dbo = {0};
    velo_db             *db = NULL;
    char                *pw = NULL;
    struct velo_db_stats st = {0};
    uint32_t             batches = 0;
    int64_t              t0, t1, t2;
    double               secs;
    int                  rv;

    rv = velo_db_password_load(&pw);
    dbo.password = pw;
    dbo.statement_timeout_ms = 600000;
    t0 = velo_mono_ms();
    if (rv == VELO_OK)
        rv = velo_db_open(&db, o->url, &dbo);
    if (rv == VELO_OK && o->reload)
        rv = dl_load(db, d, o, &batches); /* untimed: the first load */
    batches = 0;
    t1 = velo_mono_ms();
    if (rv == VELO_OK)
        rv = dl_load(db, d, o, &batches);
    t2 = velo_mono_ms();
    if (rv == VELO_OK)
        velo_db_stats_get(db, &st);
    velo_db_close(db);
    free(pw);
    if (rv != VELO_OK)
        return rv;
    secs = (double)(t2 - t1) / 1000.0;
    if (o->json)
        printf("{\"bench\":\"db_load\",\"rows\":%" PRIu32 ",\"batch\":%" PRIu32
               ",\"batches\":%" PRIu32 ",\"reload\":%s,"
               "\"fallbacks\":%" PRIu64 ",\"open_seconds\":%.3f,"
               "\"seconds\":%.3f,\"rows_per_s\":%.1f}\n",
               o->rows, o->batch, batches, o->reload ? "true" : "false",
               st.load_fallbacks, (double)(t1 - t0) / 1000.0, secs,
               secs > 0 ? o->rows / secs : 0);
    else
        printf("%" PRIu32 " rows in %" PRIu32 " transactions%s: %.3f s, "
               "%.0f rows/s (open %.3f s, %" PRIu64 " merge fallbacks)\n",
               o->rows, batches, o->reload ? " (reload)" : "", secs,
               secs > 0 ? o->rows / secs : 0, (double)(t1 - t0) / 1000.0,
               st.load_fallbacks);
    return VELO_OK;
}

int
main(int argc, char **argv)
{
    /* --batch defaults to velo-warehouse's --batch-size. */
    struct dl_opts o = {.rows = 200000, .stations = 1000, .batch = 10000};
    const struct bench_flag flags[] = {
        {"--url", &o.url, NULL},     {"--csv", &o.csv, NULL},
        {"--rows", NULL, &o.rows},   {"--stations", NULL, &o.stations},
        {"--batch", NULL, &o.batch}, {"--reload", NULL, &o.reload},
    };
    struct dl_data d = {0};
    int            rv;

    if (bench_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]),
                    &o.json) != 0 ||
        (o.url == NULL) == (o.csv == NULL) || o.rows == 0 || o.stations == 0 ||
        o.batch == 0 || o.batch > VELO_DB_BATCH_MAX) {
        fprintf(stderr, "usage: velo-bench-db-load --url URL | --csv PATH "
                        "[--rows N] [--stations N] [--batch N] [--reload 1] "
                        "[--json]\n");
        return 78;
    }
    velo_log_init("bench-db-load", VELO_LOG_WARN, 2);
    rv = dl_build(&d, &o);
    if (rv == VELO_OK)
        rv = o.csv != NULL ? dl_csv(&d, &o) : dl_run(&d, &o);
    free(d.rows);
    free(d.ids);
    free(d.names);
    free(d.dates);
    if (rv != VELO_OK) {
        fprintf(stderr, "velo-bench-db-load: %s\n", velo_strerror(rv));
        return 1;
    }
    return 0;
}
