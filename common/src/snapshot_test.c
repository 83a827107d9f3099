/* snapshot_test.c: Kafka key and the JSON shape of a StationSnapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/json.h"
#include "velo/snapshot.h"
#include "velo/v1/system.pb-c.h"

/* Renders s and parses the JSON back (caller frees with cJSON_Delete). */
static cJSON *
to_json(const Velo__V1__StationSnapshot *s, char **text)
{
    struct velo_buf b;
    cJSON          *root = NULL;

    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_snapshot_to_json(s, &b), VELO_OK);
    assert_int_equal(velo_json_parse(b.data, b.len, &root), VELO_OK);
    assert_true(cJSON_IsObject(root));
    if (text != NULL)
        *text = velo_buf_steal(&b, NULL);
    velo_buf_fini(&b);
    return root;
}

static void
test_snapshot_key_joins_system_and_station(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    char                      key[64];

    (void)state;
    s.system_id = "jcdecaux:dublin";
    s.station_id = "42";
    assert_int_equal(velo_snapshot_key(&s, key, sizeof(key)), VELO_OK);
    assert_string_equal(key, "jcdecaux:dublin/42");
}

static void
test_snapshot_key_too_small_buffer_is_toobig_and_untouched(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    char                      key[32] = "untouched";

    (void)state;
    s.system_id = "gbfs:oslo";
    s.station_id = "123";
    /* "gbfs:oslo/123" is 13 chars: 14 bytes fit, 13 do not. */
    assert_int_equal(velo_snapshot_key(&s, key, 13), VELO_ETOOBIG);
    assert_string_equal(key, "untouched");
    assert_int_equal(velo_snapshot_key(&s, key, 14), VELO_OK);
    assert_string_equal(key, "gbfs:oslo/123");
}

static void
test_snapshot_key_needs_both_ids(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    char                      key[32];

    (void)state;
    s.system_id = "gbfs:oslo";
    assert_int_equal(velo_snapshot_key(&s, key, sizeof(key)), VELO_EINVAL);
    s.station_id = "";
    assert_int_equal(velo_snapshot_key(&s, key, sizeof(key)), VELO_EINVAL);
    s.system_id = NULL;
    s.station_id = "1";
    assert_int_equal(velo_snapshot_key(&s, key, sizeof(key)), VELO_EINVAL);
}

static void
test_snapshot_json_has_every_present_field_by_proto_name(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    cJSON                    *j;

    (void)state;
    s.system_id = "jcdecaux:dublin";
    s.station_id = "42";
    s.name = "CHATHAM STREET \"North\"";
    s.has_capacity = 1;
    s.capacity = 30;
    s.has_bikes_available = 1;
    s.bikes_available = 0; /* a real 0 stays */
    s.has_docks_available = 1;
    s.docks_available = 30;
    s.has_status = 1;
    s.status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    s.has_is_renting = 1;
    s.is_renting = 0;
    s.has_banking = 1;
    s.banking = 1;
    s.has_fetched_at_ms = 1;
    s.fetched_at_ms = 1764072000123LL;
    s.source_format = "jcdecaux-v3";
    j = to_json(&s, NULL);
    assert_string_equal(cJSON_GetObjectItem(j, "system_id")->valuestring,
                        "jcdecaux:dublin");
    assert_string_equal(cJSON_GetObjectItem(j, "station_id")->valuestring,
                        "42");
    assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring,
                        "CHATHAM STREET \"North\"");
    assert_true(cJSON_GetObjectItem(j, "capacity")->valuedouble == 30);
    assert_true(cJSON_GetObjectItem(j, "bikes_available")->valuedouble == 0);
    assert_true(cJSON_GetObjectItem(j, "docks_available")->valuedouble == 30);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring,
                        "CLOSED");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "is_renting")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "banking")));
    assert_true(cJSON_GetObjectItem(j, "fetched_at_ms")->valuedouble ==
                1764072000123.0);
    assert_string_equal(cJSON_GetObjectItem(j, "fetched_at")->valuestring,
                        "2025-11-25T12:00:00.123Z");
    assert_string_equal(cJSON_GetObjectItem(j, "source_format")->valuestring,
                        "jcdecaux-v3");
    assert_int_equal(cJSON_GetArraySize(j), 12);
    cJSON_Delete(j);
}

static void
test_snapshot_json_omits_absent_fields(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    char                     *text;
    cJSON                    *j;

    (void)state;
    s.system_id = "gbfs:x";
    s.station_id = "1";
    s.electric_bikes = 5; /* set but not marked present: stays absent */
    j = to_json(&s, &text);
    assert_string_equal(text,
                        "{\"system_id\":\"gbfs:x\",\"station_id\":\"1\"}");
    assert_null(cJSON_GetObjectItem(j, "electric_bikes"));
    assert_null(cJSON_GetObjectItem(j, "status"));
    assert_null(cJSON_GetObjectItem(j, "last_reported"));
    cJSON_Delete(j);
    free(text);
}

static void
test_snapshot_json_zero_last_reported_is_null_time(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    cJSON                    *j, *lr;

    (void)state;
    s.has_last_reported_ms = 1;
    s.last_reported_ms = 0;
    j = to_json(&s, NULL);
    lr = cJSON_GetObjectItem(j, "last_reported");
    assert_non_null(lr);
    assert_true(cJSON_IsNull(lr));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "last_reported_ms")));
    assert_true(cJSON_GetObjectItem(j, "last_reported_ms")->valuedouble == 0);
    cJSON_Delete(j);

    s.last_reported_ms = 1554726214000LL;
    j = to_json(&s, NULL);
    assert_string_equal(cJSON_GetObjectItem(j, "last_reported")->valuestring,
                        "2019-04-08T12:23:34.000Z");
    cJSON_Delete(j);
}

static void
test_snapshot_json_coordinates_round_trip_exactly(void **state)
{
    static const double coords[][2] = {
        {53.349562, -6.278198},
        {59.91562, 10.7507},
        {0.1 + 0.2, -179.99999999999997},
        {-33.868820000000014, 151.20929},
        {45, 0},
    };
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    char                     *text;
    cJSON                    *j;
    size_t                    i;

    (void)state;
    s.has_lat = s.has_lon = 1;
    for (i = 0; i < sizeof(coords) / sizeof(coords[0]); i++) {
        s.lat = coords[i][0];
        s.lon = coords[i][1];
        j = to_json(&s, &text);
        assert_true(cJSON_GetObjectItem(j, "lat")->valuedouble == s.lat);
        assert_true(cJSON_GetObjectItem(j, "lon")->valuedouble == s.lon);
        cJSON_Delete(j);
        if (i == 0) /* short decimals stay short */
            assert_string_equal(text, "{\"lat\":53.349562,\"lon\":-6.278198}");
        free(text);
    }
}

static void
test_snapshot_json_status_names(void **state)
{
    static const struct {
        Velo__V1__StationStatus v;
        const char             *name;
    } cases[] = {
        {VELO__V1__STATION_STATUS__STATION_STATUS_OPEN, "OPEN"},
        {VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED, "CLOSED"},
        {VELO__V1__STATION_STATUS__STATION_STATUS_UNKNOWN, "UNKNOWN"},
    };
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    cJSON                    *j;
    size_t                    i;

    (void)state;
    s.has_status = 1;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s.status = cases[i].v;
        j = to_json(&s, NULL);
        assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring,
                            cases[i].name);
        cJSON_Delete(j);
    }
}

static void
test_snapshot_json_over_limit_leaves_buffer_unchanged(void **state)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;
    struct velo_buf           b;

    (void)state;
    s.system_id = "jcdecaux:dublin";
    s.station_id = "42";
    s.name = "A long enough station name to pass the limit";
    velo_buf_init(&b, 48);
    assert_int_equal(velo_buf_puts(&b, "["), VELO_OK);
    assert_int_equal(velo_snapshot_to_json(&s, &b), VELO_ETOOBIG);
    assert_string_equal(b.data, "[");
    velo_buf_fini(&b);
}

static void
test_snapshot_json_survives_a_decoded_message(void **state)
{
    Velo__V1__StationSnapshot  s = VELO__V1__STATION_SNAPSHOT__INIT;
    Velo__V1__StationSnapshot *d;
    uint8_t                    wire[256];
    size_t                     n;
    cJSON                     *j;

    (void)state;
    s.system_id = "gbfs:lyon";
    s.station_id = "10001";
    s.has_electric_bikes = 1;
    s.electric_bikes = 3;
    s.has_simulated = 1;
    s.simulated = 1;
    n = velo__v1__station_snapshot__pack(&s, wire);
    d = velo__v1__station_snapshot__unpack(NULL, n, wire);
    assert_non_null(d);
    j = to_json(d, NULL);
    assert_true(cJSON_GetObjectItem(j, "electric_bikes")->valuedouble == 3);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "simulated")));
    assert_null(cJSON_GetObjectItem(j, "mechanical_bikes"));
    assert_null(cJSON_GetObjectItem(j, "name"));
    assert_int_equal(cJSON_GetArraySize(j), 4);
    cJSON_Delete(j);
    velo__v1__station_snapshot__free_unpacked(d, NULL);
}

static void
test_proto_json_writes_a_systeminfo(void **state)
{
    Velo__V1__SystemInfo si = VELO__V1__SYSTEM_INFO__INIT;
    struct velo_buf      b;

    (void)state;
    si.system_id = "jcdecaux:dublin";
    si.name = "dublin\"bikes";
    si.timezone = "Europe/Dublin";
    si.has_station_count = 1;
    si.station_count = 114;
    velo_buf_init(&b, 4096);
    assert_int_equal(
        velo_proto_to_json(&si.base, &velo__v1__system_info__descriptor, &b),
        VELO_OK);
    /* Absent fields (operator, language...) are omitted. */
    assert_string_equal(b.data, "{\"system_id\":\"jcdecaux:dublin\","
                                "\"name\":\"dublin\\\"bikes\","
                                "\"timezone\":\"Europe/Dublin\","
                                "\"station_count\":114}");
    velo_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_key_joins_system_and_station),
        cmocka_unit_test(
            test_snapshot_key_too_small_buffer_is_toobig_and_untouched),
        cmocka_unit_test(test_snapshot_key_needs_both_ids),
        cmocka_unit_test(
            test_snapshot_json_has_every_present_field_by_proto_name),
        cmocka_unit_test(test_snapshot_json_omits_absent_fields),
        cmocka_unit_test(test_snapshot_json_zero_last_reported_is_null_time),
        cmocka_unit_test(test_snapshot_json_coordinates_round_trip_exactly),
        cmocka_unit_test(test_snapshot_json_status_names),
        cmocka_unit_test(test_snapshot_json_over_limit_leaves_buffer_unchanged),
        cmocka_unit_test(test_snapshot_json_survives_a_decoded_message),
        cmocka_unit_test(test_proto_json_writes_a_systeminfo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
