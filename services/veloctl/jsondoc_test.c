/* jsondoc_test.c: the --json documents parse as JSON and have the
 * documented shape; absent fields are absent, nulls are explicit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "jsondoc.h"
#include "velo/json.h"
#include "velo/utf8.h"

/* Parses b (one document, newline-terminated) and frees b. */
static cJSON *
parse_doc(struct velo_buf *b)
{
    cJSON *j = NULL;

    assert_true(b->len > 0);
    assert_int_equal(b->data[b->len - 1], '\n');
    assert_int_equal(velo_json_parse(b->data, b->len, &j), VELO_OK);
    velo_buf_fini(b);
    return j;
}

static void
test_stations_document(void **state)
{
    Velo__V1__StationState        s0 = VELO__V1__STATION_STATE__INIT;
    Velo__V1__StationState        s1 = VELO__V1__STATION_STATE__INIT;
    Velo__V1__StationSnapshot     n0 = VELO__V1__STATION_SNAPSHOT__INIT;
    Velo__V1__StationSnapshot     n1 = VELO__V1__STATION_SNAPSHOT__INIT;
    Velo__V1__StationState *const sts[2] = {&s0, &s1};
    const double                  dist[2] = {12.34, NAN};
    struct velo_buf               b;
    cJSON                        *j, *arr, *st;
    const char                   *s;
    double                        d;
    uint32_t                      u;

    (void)state;
    n0.station_id = "a";
    n0.has_electric_bikes = true;
    n0.electric_bikes = 0; /* a real 0 stays 0 */
    n1.station_id = "b";
    s0.snapshot = &n0;
    s1.snapshot = &n1;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_jsondoc_stations(&b, sts, dist, 2, true, 17, "c2"),
                     VELO_OK);
    j = parse_doc(&b);
    arr = cJSON_GetObjectItemCaseSensitive(j, "stations");
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    st = cJSON_GetArrayItem(arr, 0);
    assert_int_equal(velo_json_str(st, "station_id", &s), VELO_OK);
    assert_string_equal(s, "a");
    assert_int_equal(velo_json_u32(st, "electric_bikes", &u), VELO_OK);
    assert_int_equal(u, 0);
    assert_int_equal(velo_json_dbl(st, "distance_m", &d), VELO_OK);
    assert_true(d == 12.3);
    st = cJSON_GetArrayItem(arr, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(st, "electric_bikes"));
    assert_null(cJSON_GetObjectItemCaseSensitive(st, "distance_m"));
    assert_int_equal(velo_json_u32(j, "total", &u), VELO_OK);
    assert_int_equal(u, 17);
    assert_int_equal(velo_json_str(j, "next_cursor", &s), VELO_OK);
    assert_string_equal(s, "c2");
    cJSON_Delete(j);
}

static void
test_stations_document_empty_with_nulls(void **state)
{
    struct velo_buf b;
    cJSON          *j;

    (void)state;
    velo_buf_init(&b, 1024);
    assert_int_equal(
        veloctl_jsondoc_stations(&b, NULL, NULL, 0, false, 0, NULL), VELO_OK);
    assert_string_equal(
        b.data, "{\"stations\":[],\"total\":null,\"next_cursor\":null}\n");
    j = parse_doc(&b);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "total")));
    cJSON_Delete(j);
}

static void
test_systems_document(void **state)
{
    Velo__V1__SystemSummary    s = VELO__V1__SYSTEM_SUMMARY__INIT, *sp = &s;
    Velo__V1__ListSystemsReply r = VELO__V1__LIST_SYSTEMS_REPLY__INIT;
    struct velo_buf            b;
    cJSON                     *j, *sys;
    const char                *str;
    int64_t                    ms;

    (void)state;
    s.system_id = "gbfs:oslo";
    s.source_format = "gbfs-2.3";
    s.has_last_fetched_ms = true;
    s.last_fetched_ms = 1764072000000;
    r.systems = &sp;
    r.n_systems = 1;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_jsondoc_systems(&b, &r), VELO_OK);
    j = parse_doc(&b);
    sys = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "systems"), 0);
    assert_int_equal(velo_json_str(sys, "system_id", &str), VELO_OK);
    assert_string_equal(str, "gbfs:oslo");
    assert_int_equal(velo_json_str(sys, "last_fetched", &str), VELO_OK);
    assert_string_equal(str, "2025-11-25T12:00:00.000Z");
    assert_int_equal(velo_json_i64(sys, "last_fetched_ms", &ms), VELO_OK);
    assert_int_equal(ms, 1764072000000);
    /* Not sent: not written. */
    assert_null(cJSON_GetObjectItemCaseSensitive(sys, "stations"));
    assert_null(cJSON_GetObjectItemCaseSensitive(sys, "simulated"));
    cJSON_Delete(j);
}

static void
test_health_document(void **state)
{
    Velo__V1__HealthReply h = VELO__V1__HEALTH_REPLY__INIT;
    struct veloctl_health rows[2] = {
        {"tcp://a:1", &h, NULL, NULL},
        {"tcp://b:2", NULL, "DEADLINE_EXCEEDED", "no answer within 200 ms"}};
    struct velo_buf b;
    cJSON          *j, *arr, *e;
    const char     *s;
    int64_t         lag;

    (void)state;
    h.has_ready = true;
    h.has_consumer_lag = true;
    h.consumer_lag = 5;
    h.reason = "catching up \"fast\"";
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_jsondoc_health(&b, rows, 2, false), VELO_OK);
    j = parse_doc(&b);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "ready")));
    arr = cJSON_GetObjectItemCaseSensitive(j, "instances");
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    assert_int_equal(
        velo_json_i64(cJSON_GetArrayItem(arr, 0), "consumer_lag", &lag),
        VELO_OK);
    assert_int_equal(lag, 5);
    assert_int_equal(velo_json_str(cJSON_GetArrayItem(arr, 0), "reason", &s),
                     VELO_OK);
    assert_string_equal(s, "catching up \"fast\"");
    e = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 1), "error");
    assert_int_equal(velo_json_str(e, "code", &s), VELO_OK);
    assert_string_equal(s, "DEADLINE_EXCEEDED");
    assert_int_equal(velo_json_str(e, "message", &s), VELO_OK);
    assert_string_equal(s, "no answer within 200 ms");
    cJSON_Delete(j);
}

static void
test_full_buffer_leaves_out_unchanged(void **state)
{
    Velo__V1__HealthReply h = VELO__V1__HEALTH_REPLY__INIT;
    struct veloctl_health row = {"tcp://a:1", &h, NULL, NULL};
    struct velo_buf       b;

    (void)state;
    velo_buf_init(&b, 20);
    assert_int_equal(velo_buf_puts(&b, "keep"), VELO_OK);
    assert_int_equal(veloctl_jsondoc_health(&b, &row, 1, true), VELO_ETOOBIG);
    assert_string_equal(b.data, "keep");
    velo_buf_fini(&b);
}

/* `veloctl --json` of a station whose name holds raw invalid bytes, and of
 * a health error whose message quotes a peer's bytes: valid UTF-8, valid
 * JSON, U+FFFD in place of each bad byte. */
static void
test_invalid_utf8_is_repaired_in_documents(void **state)
{
    Velo__V1__StationState        s0 = VELO__V1__STATION_STATE__INIT;
    Velo__V1__StationSnapshot     n0 = VELO__V1__STATION_SNAPSHOT__INIT;
    Velo__V1__StationState *const sts[1] = {&s0};
    struct veloctl_health         h;
    struct velo_buf               b;
    cJSON                        *j, *st;

    (void)state;
    n0.station_id = "a";
    n0.name = "Caf\xe9 \xe2\x82";
    s0.snapshot = &n0;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(
        veloctl_jsondoc_stations(&b, sts, NULL, 1, false, 0, "cur\xc0"),
        VELO_OK);
    assert_true(velo_utf8_valid(b.data, b.len));
    j = parse_doc(&b);
    st = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "stations"), 0);
    assert_string_equal(cJSON_GetObjectItem(st, "name")->valuestring,
                        "Caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(cJSON_GetObjectItem(j, "next_cursor")->valuestring,
                        "cur\xef\xbf\xbd");
    cJSON_Delete(j);

    memset(&h, 0, sizeof(h));
    h.url = "tcp://127.0.0.1:1";
    h.error_code = "UNIMPLEMENTED";
    h.error = "unknown method \"\xff\xfe\"";
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_jsondoc_health(&b, &h, 1, false), VELO_OK);
    assert_true(velo_utf8_valid(b.data, b.len));
    j = parse_doc(&b);
    st = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "instances"), 0);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(st, "error"), "message")
            ->valuestring,
        "unknown method \"\xef\xbf\xbd\xef\xbf\xbd\"");
    cJSON_Delete(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stations_document),
        cmocka_unit_test(test_stations_document_empty_with_nulls),
        cmocka_unit_test(test_systems_document),
        cmocka_unit_test(test_health_document),
        cmocka_unit_test(test_full_buffer_leaves_out_unchanged),
        cmocka_unit_test(test_invalid_utf8_is_repaired_in_documents),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
