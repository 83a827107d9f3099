/* station_json_test.c: the JSON shape of a StationState: snapshot fields
 * under their proto names, derived fields beside them, absent fields
 * absent (never a made-up 0), all-or-nothing on a full buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "velo/json.h"
#include "velo/station_json.h"
#include "velo/utf8.h"

/* A v1-like station: no e-bike split, no trend, no distance. */
static void
state_fill(Velo__V1__StationState *st, Velo__V1__StationSnapshot *snap)
{
    velo__v1__station_state__init(st);
    velo__v1__station_snapshot__init(snap);
    snap->system_id = "jcdecaux:dublin";
    snap->station_id = "42";
    snap->name = "Smithfield \"North\"";
    snap->has_lat = snap->has_lon = true;
    snap->lat = 53.349562;
    snap->lon = -6.278198;
    snap->has_bikes_available = true;
    snap->bikes_available = 7;
    snap->has_status = true;
    snap->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    snap->has_last_reported_ms = true;
    snap->last_reported_ms = 1764072000123; /* 2025-11-25T12:00:00.123Z */
    st->snapshot = snap;
    st->has_age_s = true;
    st->age_s = 95;
    st->has_stale = true;
    st->stale = false;
}

/* Renders st and parses it back (caller frees with cJSON_Delete). */
static cJSON *
render(const Velo__V1__StationState *st, double dist)
{
    struct velo_buf b;
    cJSON          *root = NULL;

    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_station_state_to_json(st, dist, &b), VELO_OK);
    assert_int_equal(velo_json_parse(b.data, b.len, &root), VELO_OK);
    assert_true(cJSON_IsObject(root));
    velo_buf_fini(&b);
    return root;
}

static void
test_snapshot_fields_keep_their_proto_names(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    cJSON                    *j;
    const char               *s;
    double                    d;
    uint32_t                  u;

    (void)state;
    state_fill(&st, &snap);
    j = render(&st, NAN);
    assert_int_equal(velo_json_str(j, "system_id", &s), VELO_OK);
    assert_string_equal(s, "jcdecaux:dublin");
    assert_int_equal(velo_json_str(j, "station_id", &s), VELO_OK);
    assert_string_equal(s, "42");
    assert_int_equal(velo_json_str(j, "name", &s), VELO_OK);
    assert_string_equal(s, "Smithfield \"North\"");
    assert_int_equal(velo_json_dbl(j, "lat", &d), VELO_OK);
    assert_true(d == 53.349562); /* round-trips exactly */
    assert_int_equal(velo_json_u32(j, "bikes_available", &u), VELO_OK);
    assert_int_equal(u, 7);
    assert_int_equal(velo_json_str(j, "status", &s), VELO_OK);
    assert_string_equal(s, "OPEN");
    assert_int_equal(velo_json_str(j, "last_reported", &s), VELO_OK);
    assert_string_equal(s, "2025-11-25T12:00:00.123Z");
    cJSON_Delete(j);
}

static void
test_absent_fields_are_absent_not_zero(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    cJSON                    *j;

    (void)state;
    state_fill(&st, &snap);
    j = render(&st, NAN);
    /* No e-bike split, no capacity, no trend, no distance in a v1 source. */
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "electric_bikes"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "mechanical_bikes"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "capacity"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "trend_15m"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "stuck"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "changed_at"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "distance_m"));
    cJSON_Delete(j);
}

static void
test_derived_fields_are_added(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    cJSON                    *j;
    const char               *s;
    int64_t                   i;
    bool                      b;
    double                    d;

    (void)state;
    state_fill(&st, &snap);
    st.has_stuck = true;
    st.stuck = true;
    st.has_trend_15m = true;
    st.trend_15m = -3;
    st.has_changed_at_ms = true;
    st.changed_at_ms = 1764071940000; /* 2025-11-25T11:59:00Z */
    j = render(&st, 1234.5678);
    assert_int_equal(velo_json_i64(j, "age_s", &i), VELO_OK);
    assert_int_equal(i, 95);
    assert_int_equal(velo_json_bool(j, "stale", &b), VELO_OK);
    assert_false(b);
    assert_int_equal(velo_json_bool(j, "stuck", &b), VELO_OK);
    assert_true(b);
    assert_int_equal(velo_json_i64(j, "trend_15m", &i), VELO_OK);
    assert_int_equal(i, -3);
    assert_int_equal(velo_json_str(j, "changed_at", &s), VELO_OK);
    assert_string_equal(s, "2025-11-25T11:59:00.000Z");
    assert_int_equal(velo_json_i64(j, "changed_at_ms", &i), VELO_OK);
    assert_int_equal(i, 1764071940000);
    assert_int_equal(velo_json_dbl(j, "distance_m", &d), VELO_OK);
    assert_true(d == 1234.6);
    cJSON_Delete(j);
}

static void
test_changed_at_zero_is_null(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    cJSON                    *j, *c;

    (void)state;
    state_fill(&st, &snap);
    st.has_changed_at_ms = true;
    st.changed_at_ms = 0;
    j = render(&st, NAN);
    c = cJSON_GetObjectItemCaseSensitive(j, "changed_at");
    assert_non_null(c);
    assert_true(cJSON_IsNull(c));
    cJSON_Delete(j);
}

static void
test_state_without_snapshot_has_derived_fields_only(void **state)
{
    Velo__V1__StationState st = VELO__V1__STATION_STATE__INIT;
    struct velo_buf        b;
    cJSON                 *j;

    (void)state;
    velo_buf_init(&b, 1024);
    assert_int_equal(velo_station_state_to_json(&st, NAN, &b), VELO_OK);
    assert_string_equal(b.data, "{}");
    velo_buf_fini(&b);
    st.has_stale = true;
    st.stale = true;
    j = render(&st, 0.0);
    assert_int_equal(cJSON_GetArraySize(j), 2); /* stale and distance_m */
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stale")));
    cJSON_Delete(j);
}

static void
test_appends_after_existing_text(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    struct velo_buf           b;
    cJSON                    *j = NULL;

    (void)state;
    state_fill(&st, &snap);
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_buf_puts(&b, "["), VELO_OK);
    assert_int_equal(velo_station_state_to_json(&st, NAN, &b), VELO_OK);
    assert_int_equal(velo_buf_puts(&b, ","), VELO_OK);
    assert_int_equal(velo_station_state_to_json(&st, 5.0, &b), VELO_OK);
    assert_int_equal(velo_buf_puts(&b, "]"), VELO_OK);
    assert_int_equal(velo_json_parse(b.data, b.len, &j), VELO_OK);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);
    velo_buf_fini(&b);
}

/* Every limit short of the full object fails and leaves the prefix. */
static void
test_full_buffer_is_all_or_nothing(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    struct velo_buf           b;
    size_t                    full, max;
    int                       rv;

    (void)state;
    state_fill(&st, &snap);
    st.has_changed_at_ms = true;
    st.changed_at_ms = 1;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_station_state_to_json(&st, 2.5, &b), VELO_OK);
    full = b.len;
    velo_buf_fini(&b);
    for (max = 3; max < full + 3; max++) {
        velo_buf_init(&b, max);
        assert_int_equal(velo_buf_puts(&b, "ab"), VELO_OK);
        rv = velo_station_state_to_json(&st, 2.5, &b);
        if (max < full + 2) {
            assert_int_equal(rv, VELO_ETOOBIG);
            assert_int_equal(b.len, 2);
            assert_string_equal(b.data, "ab");
        } else {
            assert_int_equal(rv, VELO_OK);
            assert_int_equal(b.len, full + 2);
        }
        velo_buf_fini(&b);
    }
}

/* A feed's name with raw invalid bytes (Latin-1, a cut character, a
 * surrogate) gives valid UTF-8 and valid JSON, bad bytes as U+FFFD. */
static void
test_invalid_utf8_name_is_repaired(void **state)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    struct velo_buf           b;
    cJSON                    *root = NULL, *name;

    (void)state;
    state_fill(&st, &snap);
    snap.name = "Gare \xe9 \"Nord\" \xed\xa0\x80 \xf0\x9f\x9a";
    snap.station_id = "4\xff";
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_station_state_to_json(&st, 1.0, &b), VELO_OK);
    assert_true(velo_utf8_valid(b.data, b.len));
    assert_int_equal(velo_json_parse(b.data, b.len, &root), VELO_OK);
    name = cJSON_GetObjectItemCaseSensitive(root, "name");
    assert_true(cJSON_IsString(name));
    assert_string_equal(name->valuestring,
                        "Gare \xef\xbf\xbd \"Nord\" "
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(root, "station_id")->valuestring,
        "4\xef\xbf\xbd");
    cJSON_Delete(root);
    velo_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_fields_keep_their_proto_names),
        cmocka_unit_test(test_absent_fields_are_absent_not_zero),
        cmocka_unit_test(test_derived_fields_are_added),
        cmocka_unit_test(test_changed_at_zero_is_null),
        cmocka_unit_test(test_state_without_snapshot_has_derived_fields_only),
        cmocka_unit_test(test_appends_after_existing_text),
        cmocka_unit_test(test_full_buffer_is_all_or_nothing),
        cmocka_unit_test(test_invalid_utf8_name_is_repaired),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
