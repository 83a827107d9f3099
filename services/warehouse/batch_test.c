/* batch_test.c: one batch, one transaction, on SQLite in a temp dir: the
 * rows land, loading again leaves identical tables, a database that is
 * locked away fails the batch whole (nothing stays) and the same batch
 * loads once it is back, absent dimension values keep the station's
 * current version, and a row the database refuses is found by halving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "batch.h"
#include "velo/buf.h"
#include "wh_test_util.h"

struct fixture {
    char            dir[64], url[128];
    velo_db        *db;
    wh_dims        *dims;
    struct wh_batch b;
};

static int
setup(void **state)
{
    struct fixture     *f = calloc(1, sizeof(*f));
    struct velo_db_opts o = {.busy_timeout_ms = 100};

    snprintf(f->dir, sizeof(f->dir), "/tmp/wh_batch_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->url, sizeof(f->url), "sqlite://%s/w.db", f->dir);
    assert_int_equal(velo_db_open(&f->db, f->url, &o), VELO_OK);
    assert_int_equal(wh_dims_new(&f->dims), VELO_OK);
    assert_int_equal(wh_batch_init(&f->b, 64), VELO_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char            cmd[128];

    wh_batch_fini(&f->b);
    wh_dims_free(f->dims);
    velo_db_close(f->db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
add_hourly(struct fixture *f, const Velo__V1__HourlyStationStats *m, int h)
{
    char           key[128];
    enum wh_reject why;

    t_hourly_key(key, sizeof(key), m->system_id, m->station_id, h);
    assert_int_equal(wh_batch_note(&f->b, 0, (int64_t)f->b.records, 1),
                     VELO_OK);
    assert_int_equal(t_decode(wh_batch_slot(&f->b), &m->base, key, &why),
                     VELO_OK);
    wh_batch_push(&f->b);
}

/* Two stations x three hours, and their days. */
static void
fill(struct fixture *f)
{
    static const char *const     ids[] = {"1", "2"};
    Velo__V1__HourlyStationStats h;
    Velo__V1__DailyStationStats  d;
    enum wh_reject               why;
    char                         key[128];
    int                          s, i;

    for (s = 0; s < 2; s++) {
        for (i = 0; i < 3; i++) {
            h = t_hourly("gbfs:t", ids[s], i);
            add_hourly(f, &h, i);
        }
        d = t_daily("gbfs:t", ids[s], 10 * (uint32_t)(s + 1));
        snprintf(key, sizeof(key), "gbfs:t/%s/daily/2025-12-01", ids[s]);
        assert_int_equal(wh_batch_note(&f->b, 1, s, 1), VELO_OK);
        assert_int_equal(t_decode(wh_batch_slot(&f->b), &d.base, key, &why),
                         VELO_OK);
        wh_batch_push(&f->b);
    }
}

/* Every table, as text. */
static char *
dump(velo_db *db)
{
    static const char *const tables[] = {"dim_system", "dim_station",
                                         "dim_time", "fact_station_hourly",
                                         "fact_station_daily"};
    struct velo_buf          out;
    size_t                   i;

    velo_buf_init(&out, 1 << 20);
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        assert_int_equal(velo_buf_printf(&out, "== %s\n", tables[i]), VELO_OK);
        assert_int_equal(velo_db_dump(db, tables[i], &out), VELO_OK);
    }
    return velo_buf_steal(&out, NULL);
}

static void
test_batch_loads_and_reloads_identically(void **state)
{
    struct fixture *f = *state;
    char           *first, *second;

    fill(f);
    assert_int_equal(f->b.nparts, 2);
    assert_int_equal(f->b.parts[0].next, 7); /* offsets 0..6 noted */
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, NULL, NULL), VELO_OK);
    first = dump(f->db);
    assert_non_null(strstr(first, "gbfs:t\t1\t1764547200000"));
    assert_non_null(strstr(first, "Gare du Nord"));
    assert_non_null(strstr(first, "Test Bikes\tEurope/Paris"));
    wh_batch_clear(&f->b);
    fill(f);
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, NULL, NULL), VELO_OK);
    second = dump(f->db);
    assert_string_equal(first, second);
    free(first);
    free(second);
}

static void
test_locked_database_fails_whole_batch_then_loads(void **state)
{
    struct fixture     *f = *state;
    struct velo_db_opts o = {.busy_timeout_ms = 100};
    velo_db            *other;
    char               *before, *after;

    assert_int_equal(velo_db_connect(&other, f->url, &o), VELO_OK);
    before = dump(f->db);
    fill(f);
    /* Another writer holds the lock past the busy timeout. */
    assert_int_equal(velo_db_begin(other), VELO_OK);
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, NULL, NULL),
                     VELO_EUNAVAIL);
    after = dump(f->db);
    assert_string_equal(before, after); /* nothing of it stayed */
    free(after);
    velo_db_rollback(other);
    /* The same held batch, loaded again: it lands whole. */
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, NULL, NULL), VELO_OK);
    after = dump(f->db);
    assert_non_null(strstr(after, "gbfs:t\t2\t1764554400000"));
    free(before);
    free(after);
    velo_db_close(other);
}

static void
test_absent_names_keep_the_current_version(void **state)
{
    struct fixture              *f = *state;
    Velo__V1__HourlyStationStats h;
    char                        *d;

    h = t_hourly("gbfs:t", "1", 0);
    add_hourly(f, &h, 0);
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, NULL, NULL), VELO_OK);
    wh_batch_clear(&f->b);
    /* A later batch without any dimension values. */
    h = t_hourly("gbfs:t", "1", 5);
    h.station_name = h.system_name = h.timezone = NULL;
    h.has_lat = h.has_lon = false;
    add_hourly(f, &h, 5);
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, NULL, NULL), VELO_OK);
    d = dump(f->db);
    /* One version of the station, still current, still named. */
    assert_non_null(strstr(d, "== dim_station\ngbfs:t\t1\t1764547200000\t"));
    assert_null(strstr(d, "\t0\tGare du Nord"));
    assert_non_null(strstr(d, "Test Bikes\tEurope/Paris"));
    free(d);
}

struct rejects {
    int  n;
    char last[64]; /* "station/hour" of the last one */
};

static void
on_reject(void *ctx, const struct wh_record *rec, int err)
{
    struct rejects *r = ctx;

    (void)err;
    r->n++;
    snprintf(r->last, sizeof(r->last), "%s/%lld", rec->row.station_id,
             (long long)((rec->row.window_start_ms - T_H0) / T_HOUR_MS));
}

/* Runs sql on the test's database beside the adapter's connection. */
static void
sqlite_exec(const struct fixture *f, const char *sql)
{
    char     path[128];
    sqlite3 *s;

    snprintf(path, sizeof(path), "%s/w.db", f->dir);
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
}

#define SPLIT_STATIONS 30 /* x 2 hours: 60 rows */

/* The database refuses one row for its content (a trigger here): that row
 * alone is rejected, the other 59 load, in halves: at most 1 + 2 x 6
 * transactions (60 -> 30 -> 15 -> 8 -> 4 -> 2 -> 1), where one per row
 * took 61. */
static void
test_refused_row_is_found_by_halving(void **state)
{
    struct fixture              *f = *state;
    struct rejects               r = {0};
    Velo__V1__HourlyStationStats h;
    char                         id[SPLIT_STATIONS][8], *d, *p;
    int                          s, i, rows = 0;

    sqlite_exec(f, "CREATE TRIGGER refuse BEFORE INSERT ON "
                   "fact_station_hourly WHEN NEW.station_id = 's17' AND "
                   "NEW.window_start_ms = 1764550800000 "
                   "BEGIN SELECT RAISE(ABORT, 'refused'); END;");
    for (s = 0; s < SPLIT_STATIONS; s++) {
        snprintf(id[s], sizeof(id[s]), "s%02d", s);
        for (i = 0; i < 2; i++) {
            h = t_hourly("gbfs:t", id[s], i);
            add_hourly(f, &h, i);
        }
    }
    assert_int_equal(wh_batch_load(&f->b, f->db, f->dims, on_reject, &r),
                     VELO_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.last, "s17/1");
    assert_true(f->b.txns <= 13);
    d = dump(f->db);
    p = strstr(d, "== fact_station_hourly\n");
    assert_non_null(p);
    for (p = strchr(p, '\n') + 1; *p != '\0' && *p != '='; p++)
        rows += *p == '\n';
    assert_int_equal(rows, 2 * SPLIT_STATIONS - 1);
    free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_batch_loads_and_reloads_identically, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_locked_database_fails_whole_batch_then_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_absent_names_keep_the_current_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_row_is_found_by_halving,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
