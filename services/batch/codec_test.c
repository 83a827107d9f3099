/* codec_test.c: snapshots decode or are refused with a reason; rows get
 * their documented keys and round-trip through protobuf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "velo/db.h"
#include "velo/v1/aggregate.pb-c.h"
#include "velo/v1/station.pb-c.h"

static size_t
pack_snap(const Velo__V1__StationSnapshot *m, uint8_t *buf)
{
    assert_true(protobuf_c_message_get_packed_size(&m->base) < 512);
    return protobuf_c_message_pack(&m->base, buf);
}

static Velo__V1__StationSnapshot
snap(void)
{
    Velo__V1__StationSnapshot m = VELO__V1__STATION_SNAPSHOT__INIT;

    m.system_id = "gbfs:lyon";
    m.station_id = "42";
    m.has_fetched_at_ms = 1, m.fetched_at_ms = 1774778400000LL;
    m.has_bikes_available = 1, m.bikes_available = 3;
    m.has_docks_available = 1, m.docks_available = 17;
    m.has_capacity = 1, m.capacity = 20;
    m.has_status = 1, m.status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    return m;
}

static void
test_snapshot_decodes_to_a_sample(void **state)
{
    Velo__V1__StationSnapshot m = snap();
    uint8_t                   buf[512];
    struct batch_rec          r;
    const char               *why = NULL;
    size_t                    n = pack_snap(&m, buf);

    (void)state;
    assert_int_equal(batch_rec_decode(buf, n, &r, &why), VELO_OK);
    assert_string_equal(r.system_id, "gbfs:lyon");
    assert_string_equal(r.station_id, "42");
    assert_int_equal(r.s.t_ms, 1774778400000LL);
    assert_int_equal(r.s.bikes, 3);
    assert_int_equal(r.s.docks, 17);
    assert_int_equal(r.s.status, 1);
    assert_false(r.s.has_electric);
    assert_false(r.dims.has_name || r.dims.has_pos);

    m.name = "Place Bellecour";
    m.has_lat = 1, m.lat = 45.7578;
    m.has_lon = 1, m.lon = 4.832;
    n = pack_snap(&m, buf);
    assert_int_equal(batch_rec_decode(buf, n, &r, &why), VELO_OK);
    assert_true(r.dims.has_name && r.dims.has_pos);
    assert_string_equal(r.dims.name, "Place Bellecour");
    assert_true(r.dims.lat == 45.7578 && r.dims.lon == 4.832);
}

static void
test_bad_records_are_refused_with_a_reason(void **state)
{
    Velo__V1__StationSnapshot m = snap();
    uint8_t                   buf[512];
    struct batch_rec          r;
    const char               *why = NULL;
    size_t                    n;

    (void)state;
    assert_int_equal(batch_rec_decode("\xff\xff\xff", 3, &r, &why),
                     VELO_EPROTO);
    assert_string_equal(why, "undecodable");
    m.has_fetched_at_ms = 0;
    n = pack_snap(&m, buf);
    assert_int_equal(batch_rec_decode(buf, n, &r, &why), VELO_EPROTO);
    assert_string_equal(why, "no fetched_at_ms");
    m = snap();
    m.station_id = "a/b"; /* would make an ambiguous output key */
    n = pack_snap(&m, buf);
    assert_int_equal(batch_rec_decode(buf, n, &r, &why), VELO_EPROTO);
    assert_string_equal(why, "bad id");
    m = snap();
    m.has_bikes_available = 0;
    n = pack_snap(&m, buf);
    assert_int_equal(batch_rec_decode(buf, n, &r, &why), VELO_EPROTO);
}

static struct batch_stats
stats(void)
{
    return (struct batch_stats){.samples = 12,
                                .known_ms = 3600000,
                                .bikes_avg = 2.5,
                                .bikes_max = 5,
                                .docks_avg = 17.5,
                                .empty_ms = 90000,
                                .bikes_in = 4,
                                .flow_reliable = true,
                                .status = 1,
                                .capacity = 20};
}

static void
test_hourly_row_key_and_value(void **state)
{
    struct batch_stats            s = stats();
    struct batch_row              row = {.gran = BATCH_HOURLY,
                                         .system_id = "gbfs:lyon",
                                         .station_id = "42",
                                         .start_ms = 1774778400000LL,
                                         .end_ms = 1774782000000LL,
                                         .stats = &s};
    struct velo_buf               key, val;
    const char                   *ct = NULL;
    Velo__V1__HourlyStationStats *m;

    (void)state;
    velo_buf_init(&key, 1024);
    velo_buf_init(&val, 4096);
    assert_int_equal(batch_row_key(&row, &key), VELO_OK);
    assert_int_equal(key.len, strlen("gbfs:lyon/42/hourly/2026-03-29T10:00Z"));
    assert_memory_equal(key.data, "gbfs:lyon/42/hourly/2026-03-29T10:00Z",
                        key.len);
    assert_int_equal(batch_row_encode(&row, &val, &ct), VELO_OK);
    assert_string_equal(ct, BATCH_HOURLY_CONTENT_TYPE);
    m = velo__v1__hourly_station_stats__unpack(NULL, val.len,
                                               (uint8_t *)val.data);
    assert_non_null(m);
    assert_int_equal(m->window_start_ms, 1774778400000LL);
    assert_true(m->bikes_avg == 2.5);
    assert_true(m->minutes_empty == 1.5);
    assert_true(m->minutes_known == 60.0);
    assert_int_equal(m->bikes_in, 4);
    assert_true(m->has_flow_reliable && m->flow_reliable);
    assert_false(m->has_electric_avg); /* never a made-up 0 */
    assert_null(m->timezone);          /* no zone: no local calendar */
    assert_false(m->has_local_hour || m->has_local_dow);
    assert_null(m->system_name); /* none known: the loader keeps its own */
    velo__v1__hourly_station_stats__free_unpacked(m, NULL);

    row.local_date = "2026-03-29";
    row.timezone = "Europe/Paris";
    row.dims = &(struct batch_dims){.name = "Bellecour",
                                    .lat = 45.75,
                                    .lon = 4.83,
                                    .has_name = true,
                                    .has_pos = true};
    row.local_hour = 12;
    row.local_dow = 0;
    row.system_name = "Vélo'v";
    velo_buf_reset(&val);
    assert_int_equal(batch_row_encode(&row, &val, &ct), VELO_OK);
    m = velo__v1__hourly_station_stats__unpack(NULL, val.len,
                                               (uint8_t *)val.data);
    assert_non_null(m);
    assert_string_equal(m->local_date, "2026-03-29");
    assert_string_equal(m->timezone, "Europe/Paris");
    assert_true(m->has_local_hour && m->local_hour == 12);
    assert_true(m->has_local_dow && m->local_dow == 0);
    assert_string_equal(m->station_name, "Bellecour");
    assert_string_equal(m->system_name, "Vélo'v");
    assert_true(m->has_lat && m->lat == 45.75 && m->has_lon && m->lon == 4.83);
    velo__v1__hourly_station_stats__free_unpacked(m, NULL);
    velo_buf_fini(&key);
    velo_buf_fini(&val);
}

static void
test_daily_row_key_and_value(void **state)
{
    struct batch_stats           s = stats();
    struct batch_row             row = {.gran = BATCH_DAILY,
                                        .system_id = "gbfs:lyon",
                                        .station_id = "42",
                                        .start_ms = 1792879200000LL,
                                        .end_ms = 1792969200000LL,
                                        .local_date = "2026-10-25",
                                        .timezone = "Europe/Paris",
                                        .system_name = "Vélo'v",
                                        .stats = &s};
    struct velo_buf              key, val;
    const char                  *ct = NULL;
    Velo__V1__DailyStationStats *m;

    (void)state;
    s.has_electric = true;
    s.electric_avg = 1.25;
    velo_buf_init(&key, 1024);
    velo_buf_init(&val, 4096);
    assert_int_equal(batch_row_key(&row, &key), VELO_OK);
    assert_memory_equal(key.data, "gbfs:lyon/42/daily/2026-10-25", key.len);
    assert_int_equal(batch_row_encode(&row, &val, &ct), VELO_OK);
    assert_string_equal(ct, BATCH_DAILY_CONTENT_TYPE);
    m = velo__v1__daily_station_stats__unpack(NULL, val.len,
                                              (uint8_t *)val.data);
    assert_non_null(m);
    assert_string_equal(m->local_date, "2026-10-25");
    assert_string_equal(m->timezone, "Europe/Paris");
    assert_int_equal(m->window_end_ms - m->window_start_ms, 25 * 3600000LL);
    assert_true(m->has_electric_avg && m->electric_avg == 1.25);
    assert_string_equal(m->system_name, "Vélo'v");
    velo__v1__daily_station_stats__free_unpacked(m, NULL);
    velo_buf_fini(&key);
    velo_buf_fini(&val);
}

/* A system name longer than the warehouse's column (VELO_DB_NAME_MAX) is
 * cut on a character boundary, never inside one. */
static void
test_long_system_name_is_cut_on_a_character(void **state)
{
    struct batch_stats           s = stats();
    char                         name[600];
    struct batch_row             row = {.gran = BATCH_DAILY,
                                        .system_id = "gbfs:lyon",
                                        .station_id = "42",
                                        .start_ms = 1792879200000LL,
                                        .end_ms = 1792969200000LL,
                                        .local_date = "2026-10-25",
                                        .timezone = "Europe/Paris",
                                        .system_name = name,
                                        .stats = &s};
    struct velo_buf              val;
    const char                  *ct = NULL;
    Velo__V1__DailyStationStats *m;
    size_t                       i;

    (void)state;
    name[0] = 'x';
    for (i = 1; i + 3 < sizeof(name); i += 3)
        memcpy(name + i, "\xe2\x82\xac", 3); /* euro sign */
    name[i] = '\0';
    velo_buf_init(&val, 4096);
    assert_int_equal(batch_row_encode(&row, &val, &ct), VELO_OK);
    m = velo__v1__daily_station_stats__unpack(NULL, val.len,
                                              (uint8_t *)val.data);
    assert_non_null(m);
    /* 1 + 3n <= 256: 1 + 3 * 85 = 256 bytes. */
    assert_int_equal(strlen(m->system_name), 256);
    assert_true(strlen(m->system_name) <= VELO_DB_NAME_MAX);
    assert_memory_equal(m->system_name, name, 256);
    velo__v1__daily_station_stats__free_unpacked(m, NULL);
    velo_buf_fini(&val);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_decodes_to_a_sample),
        cmocka_unit_test(test_bad_records_are_refused_with_a_reason),
        cmocka_unit_test(test_hourly_row_key_and_value),
        cmocka_unit_test(test_daily_row_key_and_value),
        cmocka_unit_test(test_long_system_name_is_cut_on_a_character),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
