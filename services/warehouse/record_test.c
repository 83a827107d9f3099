/* record_test.c: velib_aggregates records -> warehouse rows: every field
 * mapped, each kind of rejection, absent dimension values filled from what
 * the loader learnt (dims.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dims.h"
#include "record.h"
#include "velo/utf8.h"
#include "wh_test_util.h"

#define CT_HOURLY "application/x-protobuf; message=velo.v1.HourlyStationStats"

static void
test_hourly_maps_every_field(void **state)
{
    Velo__V1__HourlyStationStats m = t_hourly("gbfs:paris", "42", 3);
    struct wh_record             rec;
    struct velo_db_row           r;
    enum wh_reject               why;
    char                         key[128];

    (void)state;
    m.has_electric_avg = true;
    m.electric_avg = 1.25;
    t_hourly_key(key, sizeof(key), "gbfs:paris", "42", 3);
    assert_int_equal(t_decode(&rec, &m.base, key, &why), VELO_OK);
    wh_record_row(&rec, &r);
    assert_int_equal(r.gran, VELO_DB_HOUR);
    assert_string_equal(r.system_id, "gbfs:paris");
    assert_string_equal(r.station_id, "42");
    assert_int_equal(r.window_start_ms, T_H0 + 3 * T_HOUR_MS);
    assert_string_equal(r.local_date, "2025-12-01");
    assert_int_equal(r.local_hour, 4);
    assert_int_equal(r.local_dow, 1);
    assert_int_equal(r.samples, 12);
    assert_true(r.bikes_avg == 6.5 && r.bikes_min == 1 && r.bikes_max == 9);
    assert_true(r.docks_avg == 13.5 && r.docks_min == 11 && r.docks_max == 19);
    assert_true(r.minutes_empty == 5 && r.minutes_full == 0);
    assert_int_equal(r.bikes_in, 7);
    assert_int_equal(r.bikes_out, 6);
    assert_true(r.flow_reliable);
    assert_string_equal(r.status, "OPEN");
    assert_int_equal(r.capacity, 20);
    assert_int_equal(r.station_capacity, 20);
    assert_true(r.has_electric_avg && r.electric_avg == 1.25);
    assert_string_equal(r.station_name, "Gare du Nord");
    assert_true(r.lat == 48.88 && r.lon == 2.355);
    assert_string_equal(r.system_name, "Test Bikes");
    assert_string_equal(r.time_zone, "Europe/Paris");
    assert_true(rec.has_station_name && rec.has_position &&
                rec.has_system_name && rec.has_time_zone);
    wh_record_fini(&rec);
}

static void
test_daily_maps_date_and_window(void **state)
{
    Velo__V1__DailyStationStats m = t_daily("gbfs:paris", "7", 30);
    struct wh_record            rec;
    struct velo_db_row          r;
    enum wh_reject              why;

    (void)state;
    assert_int_equal(
        t_decode(&rec, &m.base, "gbfs:paris/7/daily/2025-12-01", &why),
        VELO_OK);
    wh_record_row(&rec, &r);
    assert_int_equal(r.gran, VELO_DB_DAY);
    assert_int_equal(r.window_start_ms, T_H0 - T_HOUR_MS);
    assert_string_equal(r.local_date, "2025-12-01");
    assert_int_equal(r.bikes_in + r.bikes_out, 60);
    assert_false(r.has_electric_avg); /* absent stays absent, not 0 */
    assert_false(rec.has_station_name);
    assert_true(rec.has_time_zone);
    wh_record_fini(&rec);
}

static int
decode_raw(const char *key, const void *val, size_t len, const char *ct,
           enum wh_reject *why)
{
    struct wh_raw raw = {key, strlen(key), val, len, ct, ct ? strlen(ct) : 0};
    struct wh_record rec;
    char             detail[64];
    int              rv;

    rv = wh_record_decode(&rec, &raw, why, detail, sizeof(detail));
    if (rv == VELO_OK)
        wh_record_fini(&rec);
    else
        assert_true(detail[0] != '\0');
    return rv;
}

static void
test_content_type_must_name_the_keys_message(void **state)
{
    Velo__V1__HourlyStationStats m = t_hourly("s", "1", 0);
    enum wh_reject               why;
    size_t                       len;
    uint8_t                     *buf = t_pack(&m.base, &len);
    const char                  *key = "s/1/hourly/2025-12-01T00:00Z";

    (void)state;
    assert_int_equal(decode_raw(key, buf, len, CT_HOURLY, &why), VELO_OK);
    assert_int_equal(
        decode_raw(key, buf, len,
                   "application/x-protobuf; message=velo.v1.DailyStationStats",
                   &why),
        VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_CONTENT_TYPE);
    /* The key says daily: the hourly bytes decode as one (same field
     * numbers), but their local_date is not the key's. */
    assert_int_equal(decode_raw("s/1/daily/2025-12-02", buf, len, NULL, &why),
                     VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_FIELDS);
    free(buf);
}

static void
test_bad_keys_and_values_are_rejected(void **state)
{
    static const char *const     keys[] = {"",
                                           "s/1/hourly",
                                           "s/1/weekly/2025-12-01",
                                           "s//hourly/x",
                                           "s/1/hourly/2025-12-01T00:00Z/extra",
                                           "/1/hourly/x"};
    static const uint8_t         garbage[] = {0xff, 0xff, 0xff, 0x07, 0x00};
    Velo__V1__HourlyStationStats m = t_hourly("s", "1", 0);
    enum wh_reject               why;
    size_t                       i, len;
    uint8_t                     *buf = t_pack(&m.base, &len);

    (void)state;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_int_equal(decode_raw(keys[i], buf, len, NULL, &why),
                         VELO_EPROTO);
        assert_int_equal(why, WH_REJECT_KEY);
    }
    assert_int_equal(decode_raw("s/1/hourly/2025-12-01T00:00Z", garbage,
                                sizeof(garbage), NULL, &why),
                     VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_DECODE);
    /* The key's ids and window must be the message's. */
    assert_int_equal(
        decode_raw("s/2/hourly/2025-12-01T00:00Z", buf, len, NULL, &why),
        VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_FIELDS);
    assert_int_equal(
        decode_raw("s/1/hourly/2025-12-01T01:00Z", buf, len, NULL, &why),
        VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_FIELDS);
    free(buf);
}

static void
test_values_the_database_would_refuse_are_rejected(void **state)
{
    Velo__V1__HourlyStationStats m;
    struct wh_record             rec;
    enum wh_reject               why;
    char                         key[512], longid[200];

    (void)state;
    t_hourly_key(key, sizeof(key), "s", "1", 2);
    m = t_hourly("s", "1", 2);
    m.bikes_avg = NAN;
    assert_int_equal(t_decode(&rec, &m.base, key, &why), VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_FIELDS);
    m = t_hourly("s", "1", 2);
    m.local_hour = 24;
    assert_int_equal(t_decode(&rec, &m.base, key, &why), VELO_EPROTO);
    m = t_hourly("s", "1", 2);
    m.local_date = (char *)"2025-1-01";
    assert_int_equal(t_decode(&rec, &m.base, key, &why), VELO_EPROTO);
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    m = t_hourly("s", longid, 2);
    t_hourly_key(key, sizeof(key), "s", longid, 2);
    assert_int_equal(t_decode(&rec, &m.base, key, &why), VELO_EPROTO);
    assert_int_equal(why, WH_REJECT_FIELDS);
}

static void
test_hourly_without_local_calendar_gets_utc(void **state)
{
    Velo__V1__HourlyStationStats m = t_hourly("s", "1", 5);
    struct wh_record             rec;
    struct velo_db_row           r;
    enum wh_reject               why;
    char                         key[128];

    (void)state;
    m.local_date = NULL;
    m.timezone = NULL;
    m.has_local_hour = m.has_local_dow = false;
    t_hourly_key(key, sizeof(key), "s", "1", 5);
    assert_int_equal(t_decode(&rec, &m.base, key, &why), VELO_OK);
    wh_record_row(&rec, &r);
    assert_string_equal(r.local_date, "2025-12-01");
    assert_int_equal(r.local_hour, 5);
    assert_int_equal(r.local_dow, 1); /* Monday */
    assert_false(rec.has_time_zone);
    wh_record_fini(&rec);
}

static void
test_names_are_repaired_and_cut(void **state)
{
    Velo__V1__HourlyStationStats m = t_hourly("s", "1", 0);
    struct wh_record             rec;
    enum wh_reject               why;
    char                         name[400];

    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    name[0] = (char)0xc3; /* a lead byte without its continuation */
    m.station_name = name;
    m.system_name = (char *)"Bad \xff name";
    assert_int_equal(
        t_decode(&rec, &m.base, "s/1/hourly/2025-12-01T00:00Z", &why), VELO_OK);
    assert_true(strlen(rec.station_name) <= VELO_DB_NAME_MAX);
    assert_true(velo_utf8_valid(rec.station_name, strlen(rec.station_name)));
    assert_string_equal(rec.system_name, "Bad \xef\xbf\xbd name");
    wh_record_fini(&rec);
}

static void
test_absent_dimensions_keep_what_was_learnt(void **state)
{
    Velo__V1__HourlyStationStats named = t_hourly("s", "1", 0);
    Velo__V1__HourlyStationStats bare = t_hourly("s", "1", 1);
    Velo__V1__HourlyStationStats other = t_hourly("s", "2", 1);
    struct wh_record             a, b, c;
    struct velo_db_row           r;
    enum wh_reject               why;
    wh_dims                     *d;

    (void)state;
    bare.station_name = bare.system_name = bare.timezone = NULL;
    bare.has_lat = bare.has_lon = false;
    other.station_name = other.system_name = other.timezone = NULL;
    other.has_lat = other.has_lon = false;
    assert_int_equal(wh_dims_new(&d), VELO_OK);
    assert_int_equal(
        t_decode(&a, &named.base, "s/1/hourly/2025-12-01T00:00Z", &why),
        VELO_OK);
    assert_int_equal(
        t_decode(&b, &bare.base, "s/1/hourly/2025-12-01T01:00Z", &why),
        VELO_OK);
    assert_int_equal(
        t_decode(&c, &other.base, "s/2/hourly/2025-12-01T01:00Z", &why),
        VELO_OK);
    assert_int_equal(wh_dims_learn(d, &a), VELO_OK);
    assert_int_equal(wh_dims_learn(d, &b), VELO_OK); /* learns nothing */
    wh_dims_fill(d, &b);
    wh_record_row(&b, &r);
    assert_string_equal(r.station_name, "Gare du Nord");
    assert_true(r.lat == 48.88 && r.lon == 2.355);
    assert_string_equal(r.system_name, "Test Bikes");
    assert_string_equal(r.time_zone, "Europe/Paris");
    /* Station 2 was never named: the fallbacks, its system's values. */
    wh_dims_fill(d, &c);
    wh_record_row(&c, &r);
    assert_string_equal(r.station_name, "");
    assert_string_equal(r.system_name, "Test Bikes");
    assert_string_equal(r.time_zone, "Europe/Paris");
    wh_record_fini(&a);
    wh_record_fini(&b);
    wh_record_fini(&c);
    wh_dims_free(d);
}

static void
test_status_text_round_trips(void **state)
{
    int s;

    (void)state;
    for (s = 0; s <= 2; s++)
        assert_int_equal(wh_status_value(wh_status_text(s)), s);
    assert_int_equal(wh_status_value("nonsense"), 0);
    assert_string_equal(wh_reject_name(WH_REJECT_DECODE), "decode");
}

/* Mutated and cut copies of valid records (fixed seed): decode either
 * succeeds or rejects, never reads out of bounds (ASan), and a success
 * always yields a row velo_db would accept the strings of. */
static void
test_mutated_records_never_crash(void **state)
{
    Velo__V1__HourlyStationStats m = t_hourly("gbfs:t", "42", 7);
    const char                  *key = "gbfs:t/42/hourly/2025-12-01T07:00Z";
    struct wh_record             rec;
    struct velo_db_row           r;
    enum wh_reject               why;
    uint64_t                     x = 88172645463325252ull;
    uint8_t                     *orig, buf[512];
    size_t                       len, n;
    char                         detail[64];
    int                          i, k;

    (void)state;
    orig = t_pack(&m.base, &len);
    assert_true(len <= sizeof(buf));
    for (i = 0; i < 5000; i++) {
        struct wh_raw raw = {key, strlen(key), buf, 0, NULL, 0};

        memcpy(buf, orig, len);
        n = len;
        for (k = 0; k < 1 + i % 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = (uint8_t)(x >> 32);
        }
        if (i % 3 == 0)
            n = (size_t)(x >> 40) % (len + 1); /* cut anywhere */
        raw.len = n;
        if (wh_record_decode(&rec, &raw, &why, detail, sizeof(detail)) !=
            VELO_OK) {
            assert_true(why < WH_REJECT_COUNT);
            continue;
        }
        wh_record_row(&rec, &r);
        assert_true(strlen(r.station_name) <= VELO_DB_NAME_MAX);
        assert_true(velo_utf8_valid(r.station_name, strlen(r.station_name)));
        assert_int_equal(strlen(r.local_date), VELO_DB_DATE_LEN);
        wh_record_fini(&rec);
    }
    free(orig);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hourly_maps_every_field),
        cmocka_unit_test(test_daily_maps_date_and_window),
        cmocka_unit_test(test_content_type_must_name_the_keys_message),
        cmocka_unit_test(test_bad_keys_and_values_are_rejected),
        cmocka_unit_test(test_values_the_database_would_refuse_are_rejected),
        cmocka_unit_test(test_hourly_without_local_calendar_gets_utc),
        cmocka_unit_test(test_names_are_repaired_and_cut),
        cmocka_unit_test(test_absent_dimensions_keep_what_was_learnt),
        cmocka_unit_test(test_status_text_round_trips),
        cmocka_unit_test(test_mutated_records_never_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
