/* db_pgcopy_test.c: the binary COPY encoding, byte for byte. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db_pgcopy.h"
#include "velo/buf.h"

/* One hourly row whose fields cover each encoding case. */
static struct velo_db_row
odd_row(void)
{
    struct velo_db_row r;

    memset(&r, 0, sizeof(r));
    r.gran = VELO_DB_HOUR;
    r.system_id = "a\tb\nc\\d"; /* text COPY would escape all three */
    r.station_id = "7";
    r.window_start_ms = -1;
    r.local_date = "2025-12-01";
    r.samples = INT64_C(0x0102030405060708);
    r.bikes_avg = 1.5;
    r.bikes_min = -2.0;
    r.bikes_max = NAN;
    r.docks_avg = INFINITY;
    r.docks_min = -INFINITY;
    r.docks_max = 0.0;
    r.minutes_empty = -0.0;
    r.minutes_full = 0.25;
    r.bikes_in = -5;
    r.bikes_out = 0;
    r.flow_reliable = true;
    r.status = "";
    r.capacity = -3;
    r.has_electric_avg = false; /* NULL */
    r.electric_avg = 99;        /* ignored */
    r.station_name = "S";
    r.system_name = "Sys";
    r.time_zone = "UTC";
    return r;
}

/* Length word 8 then a double's bytes. */
#define D8(b0, b1) 0, 0, 0, 8, b0, b1, 0, 0, 0, 0, 0, 0

static const uint8_t want_hourly[] = {
    0,
    18, /* field count */
    0,
    0,
    0,
    7,
    'a',
    '\t',
    'b',
    '\n',
    'c',
    '\\',
    'd', /* system_id */
    0,
    0,
    0,
    1,
    '7', /* station_id */
    0,
    0,
    0,
    8,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff, /* -1 */
    0,
    0,
    0,
    8,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,              /* samples */
    D8(0x3f, 0xf8), /* 1.5 */
    D8(0xc0, 0x00), /* -2 */
    D8(0x7f, 0xf8), /* NaN */
    D8(0x7f, 0xf0), /* inf */
    D8(0xff, 0xf0), /* -inf */
    D8(0x00, 0x00), /* 0 */
    D8(0x80, 0x00), /* -0 */
    D8(0x3f, 0xd0), /* 0.25 */
    0,
    0,
    0,
    8,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xfb, /* -5 */
    0,
    0,
    0,
    8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0, /* bikes_out */
    0,
    0,
    0,
    4,
    0,
    0,
    0,
    1, /* flow_reliable */
    0,
    0,
    0,
    0, /* status "" */
    0,
    0,
    0,
    4,
    0xff,
    0xff,
    0xff,
    0xfd, /* capacity -3 */
    0xff,
    0xff,
    0xff,
    0xff, /* electric NULL */
};

static void
one_row_batch(struct db_batch *b, const struct velo_db_row *r)
{
    static const struct velo_db_row *rows[1];
    static uint8_t                   flags[1] = {DB_F_STATION};
    static int64_t                   dim_from[1] = {INT64_C(-2)};

    rows[0] = r;
    b->rows = rows;
    b->flags = flags;
    b->dim_from = dim_from;
    b->n = 1;
}

static void
test_hourly_row_is_byte_exact(void **state)
{
    struct velo_db_row r = odd_row();
    struct db_batch    b;
    struct velo_buf    out;

    (void)state;
    one_row_batch(&b, &r);
    velo_buf_init(&out, 4096);
    assert_int_equal(db_pgcopy_row(&out, &b, 0, &db_pgcopy_hourly), VELO_OK);
    assert_int_equal(out.len, sizeof(want_hourly));
    assert_memory_equal(out.data, want_hourly, sizeof(want_hourly));
    velo_buf_fini(&out);
}

/* Daily rows carry local_date after the key; the staging tuple holds all
 * 30 columns, ending in flags and dim_from_ms. */
static void
test_daily_and_stage_rows(void **state)
{
    static const uint8_t date[] = {0,   0,   0,   10,  '2', '0', '2',
                                   '5', '-', '1', '2', '-', '0', '1'};
    static const uint8_t tail[] = {
        0, 0, 0,    4,    0,    0,    0,    DB_F_STATION, 0,    0,
        0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,         0xff, 0xfe};
    struct velo_db_row r = odd_row();
    struct db_batch    b;
    struct velo_buf    out;
    size_t             key = 2 + 11 + 5 + 12;

    (void)state;
    r.gran = VELO_DB_DAY;
    one_row_batch(&b, &r);
    velo_buf_init(&out, 4096);
    assert_int_equal(db_pgcopy_row(&out, &b, 0, &db_pgcopy_daily), VELO_OK);
    assert_int_equal(out.len, sizeof(want_hourly) + sizeof(date));
    assert_int_equal((uint8_t)out.data[1], 19);
    assert_memory_equal(out.data + 2, want_hourly + 2, key - 2);
    assert_memory_equal(out.data + key, date, sizeof(date));
    assert_memory_equal(out.data + key + sizeof(date), want_hourly + key,
                        sizeof(want_hourly) - key);
    velo_buf_reset(&out);
    assert_int_equal(db_pgcopy_row(&out, &b, 0, &db_pgcopy_stage), VELO_OK);
    assert_int_equal((uint8_t)out.data[1], 30);
    /* gran is INTEGER 1 for a day row. */
    assert_memory_equal(out.data + 2, "\0\0\0\4\0\0\0\1", 8);
    assert_memory_equal(out.data + out.len - sizeof(tail), tail, sizeof(tail));
    velo_buf_fini(&out);
}

static void
test_header_trailer_and_limits(void **state)
{
    static const uint8_t hdr[] = {'P',  'G',  'C',  'O', 'P', 'Y', '\n',
                                  0xff, '\r', '\n', 0,   0,   0,   0,
                                  0,    0,    0,    0,   0};
    struct velo_db_row   r = odd_row();
    struct db_batch      b;
    struct velo_buf      out;

    (void)state;
    velo_buf_init(&out, 64);
    assert_int_equal(db_pgcopy_header(&out), VELO_OK);
    assert_int_equal(db_pgcopy_trailer(&out), VELO_OK);
    assert_int_equal(out.len, sizeof(hdr) + 2);
    assert_memory_equal(out.data, hdr, sizeof(hdr));
    assert_memory_equal(out.data + sizeof(hdr), "\xff\xff", 2);
    one_row_batch(&b, &r);
    assert_int_equal(db_pgcopy_row(&out, &b, 0, &db_pgcopy_hourly),
                     VELO_ETOOBIG);
    velo_buf_fini(&out);
}

static void
test_column_lists_match_stage_names(void **state)
{
    char   sql[1024];
    char   small[32];
    size_t i;

    (void)state;
    assert_int_equal(db_pgcopy_stage.n, db_sql_stage_cols_len);
    for (i = 0; i < db_pgcopy_stage.n; i++)
        assert_int_equal(db_pgcopy_stage.col[i], i);
    assert_int_equal(
        db_pgcopy_sql(sql, sizeof(sql), "fact_station_daily", &db_pgcopy_daily),
        VELO_OK);
    assert_string_equal(
        sql, "COPY fact_station_daily (system_id, station_id, "
             "window_start_ms, local_date, samples, bikes_avg, bikes_min, "
             "bikes_max, docks_avg, docks_min, docks_max, minutes_empty, "
             "minutes_full, bikes_in, bikes_out, flow_reliable, status, "
             "capacity, electric_avg) FROM STDIN (FORMAT binary)");
    assert_int_equal(db_pgcopy_sql(sql, sizeof(sql), "fact_station_hourly",
                                   &db_pgcopy_hourly),
                     VELO_OK);
    assert_non_null(strstr(sql, "(system_id, station_id, window_start_ms, "
                                "samples, "));
    assert_int_equal(db_pgcopy_sql(small, sizeof(small), "stg_station_stats",
                                   &db_pgcopy_stage),
                     VELO_ETOOBIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hourly_row_is_byte_exact),
        cmocka_unit_test(test_daily_and_stage_rows),
        cmocka_unit_test(test_header_trailer_and_limits),
        cmocka_unit_test(test_column_lists_match_stage_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
