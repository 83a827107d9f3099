/* station_record_test.c: the record module on its own. The field readers tell
 * absent, null, wrong type, negative and too large apart; the first
 * failure wins; the event-time rule at its exact bounds; and one record
 * becoming an item or a reject, whatever the format's map function does.
 * The parsers built on it are tested on real payloads in jcdecaux_test.c
 * and gbfs_test.c. */
#include "station_record.h"
#include "test_util.h"
#include "velo/json.h"

#define EPOCH_2000_MS 946684800000LL
#define DAY_MS 86400000LL
#define FETCHED_MS 1770420000000LL

/* A record being mapped, with its own batch, snapshot and JSON. */
struct rec_fx {
    struct ingest_batch b;
    struct ingest_rec   r;
    cJSON              *o;
};

static void
fx_init(struct rec_fx *fx, const char *json)
{
    memset(fx, 0, sizeof(*fx));
    ingest_batch_init(&fx->b, 4);
    assert_int_equal(ingest_batch_add(&fx->b, &fx->r.snapshot), VELO_OK);
    fx->r.batch = &fx->b;
    fx->r.prefix = "";
    fx->r.fetched_at_ms = FETCHED_MS;
    assert_int_equal(velo_json_parse(json, strlen(json), &fx->o), VELO_OK);
}

static void
fx_fini(struct rec_fx *fx)
{
    cJSON_Delete(fx->o);
    ingest_batch_fini(&fx->b);
}

/* Reads key as a count into a fresh record; returns has, why in fx. */
static protobuf_c_boolean
read_u32(struct rec_fx *fx, const char *json, uint32_t *v)
{
    protobuf_c_boolean has = 0;

    fx_init(fx, json);
    *v = 77;
    ingest_rec_u32(&fx->r, fx->o, "n", &has, v);
    return has;
}

static void
test_u32_absent_null_wrong_negative_too_large(void **state)
{
    static const struct {
        const char *json;
        const char *why; /* "" when the field does not fail */
    } cases[] = {
        {"{}", ""},
        {"{\"n\":null}", ""},
        {"{\"n\":\"3\"}", "n: not an integer"},
        {"{\"n\":2.5}", "n: not an integer"},
        {"{\"n\":true}", "n: not an integer"},
        {"{\"n\":[1]}", "n: not an integer"},
        {"{\"n\":-1}", "n: negative"},
        {"{\"n\":4294967296}", "n: too large"},
        {"{\"n\":1e300}", "n: not an integer"},
    };
    struct rec_fx fx;
    uint32_t      v;
    size_t        i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Nothing is stored, whether the field fails or is only absent. */
        assert_false(read_u32(&fx, cases[i].json, &v));
        assert_int_equal(v, 77);
        assert_string_equal(fx.r.why, cases[i].why);
        fx_fini(&fx);
    }
    assert_true(read_u32(&fx, "{\"n\":4294967295}", &v));
    assert_int_equal(v, UINT32_MAX);
    assert_string_equal(fx.r.why, "");
    fx_fini(&fx);
    assert_true(read_u32(&fx, "{\"n\":0}", &v)); /* a real 0 is kept */
    assert_int_equal(v, 0);
    fx_fini(&fx);
}

static void
test_bool_dbl_str_types(void **state)
{
    struct rec_fx              fx;
    Velo__V1__StationSnapshot *s;

    (void)state;
    fx_init(&fx, "{\"t\":true,\"one\":1,\"zero\":0,\"d\":-6.25,\"s\":\"\","
                 "\"nb\":null,\"nd\":null,\"ns\":null}");
    s = fx.r.snapshot;
    ingest_rec_bool(&fx.r, fx.o, "t", &s->has_banking, &s->banking);
    assert_true(s->has_banking && s->banking);
    ingest_rec_bool(&fx.r, fx.o, "one", &s->has_bonus, &s->bonus);
    assert_true(s->has_bonus && s->bonus);
    ingest_rec_bool(&fx.r, fx.o, "zero", &s->has_connected, &s->connected);
    assert_true(s->has_connected && !s->connected);
    ingest_rec_dbl(&fx.r, fx.o, "d", &s->has_lat, &s->lat);
    assert_true(s->has_lat);
    assert_near(s->lat, -6.25);
    ingest_rec_str(&fx.r, fx.o, "s", &s->name);
    assert_non_null(s->name); /* "" is present, not absent */
    assert_string_equal(s->name, "");
    ingest_rec_bool(&fx.r, fx.o, "nb", &s->has_is_renting, &s->is_renting);
    ingest_rec_dbl(&fx.r, fx.o, "nd", &s->has_lon, &s->lon);
    ingest_rec_str(&fx.r, fx.o, "ns", &s->address);
    assert_false(s->has_is_renting || s->has_lon);
    assert_null(s->address);
    assert_string_equal(fx.r.why, "");
    fx_fini(&fx);
}

/* Reads field f of json with reader k (0 bool, 1 dbl, 2 str) and returns
 * why in fx (the caller frees fx). */
static const char *
wrong_type(struct rec_fx *fx, const char *json, int k)
{
    Velo__V1__StationSnapshot *s;

    fx_init(fx, json);
    s = fx->r.snapshot;
    if (k == 0)
        ingest_rec_bool(&fx->r, fx->o, "f", &s->has_banking, &s->banking);
    else if (k == 1)
        ingest_rec_dbl(&fx->r, fx->o, "f", &s->has_lat, &s->lat);
    else
        ingest_rec_str(&fx->r, fx->o, "f", &s->name);
    assert_false(s->has_banking || s->has_lat);
    assert_null(s->name);
    return fx->r.why;
}

static void
test_wrong_types_fail_with_their_reason(void **state)
{
    struct rec_fx fx;

    (void)state;
    assert_string_equal(wrong_type(&fx, "{\"f\":\"yes\"}", 0),
                        "f: not a boolean");
    fx_fini(&fx);
    assert_string_equal(wrong_type(&fx, "{\"f\":2}", 0), "f: not a boolean");
    fx_fini(&fx);
    assert_string_equal(wrong_type(&fx, "{\"f\":\"53.3\"}", 1),
                        "f: not a number");
    fx_fini(&fx);
    assert_string_equal(wrong_type(&fx, "{\"f\":{}}", 1), "f: not a number");
    fx_fini(&fx);
    assert_string_equal(wrong_type(&fx, "{\"f\":7}", 2), "f: not a string");
    fx_fini(&fx);
    assert_string_equal(wrong_type(&fx, "{\"f\":false}", 2), "f: not a string");
    fx_fini(&fx);
}

static void
test_obj_absent_null_wrong(void **state)
{
    struct rec_fx fx;
    const cJSON  *it;

    (void)state;
    fx_init(&fx, "{\"o\":{\"a\":1},\"n\":null,\"arr\":[{}]}");
    it = ingest_rec_obj(&fx.r, fx.o, "o");
    assert_non_null(it);
    assert_ptr_equal(it, cJSON_GetObjectItem(fx.o, "o")); /* borrowed */
    assert_null(ingest_rec_obj(&fx.r, fx.o, "missing"));
    assert_null(ingest_rec_obj(&fx.r, fx.o, "n"));
    assert_string_equal(fx.r.why, "");
    assert_null(ingest_rec_obj(&fx.r, fx.o, "arr"));
    assert_string_equal(fx.r.why, "arr: not an object");
    fx_fini(&fx);
}

static void
test_found_tells_absent_from_wrong(void **state)
{
    struct rec_fx fx;

    (void)state;
    fx_init(&fx, "{}");
    assert_true(ingest_rec_found(&fx.r, "k", VELO_OK, "bad"));
    assert_false(ingest_rec_found(&fx.r, "k", VELO_ENOTFOUND, "bad"));
    assert_string_equal(fx.r.why, "");
    assert_false(ingest_rec_found(&fx.r, "k", VELO_EPROTO, "bad"));
    assert_string_equal(fx.r.why, "k: bad");
    fx_fini(&fx);
}

/* The first failure is the reason; later ones do not overwrite it, and
 * the prefix names the nested object. */
static void
test_first_failure_wins_and_prefix_names_the_object(void **state)
{
    struct rec_fx              fx;
    Velo__V1__StationSnapshot *s;

    (void)state;
    fx_init(&fx, "{\"a\":-1,\"b\":\"x\",\"c\":5}");
    s = fx.r.snapshot;
    fx.r.prefix = "position.";
    ingest_rec_dbl(&fx.r, fx.o, "b", &s->has_lat, &s->lat);
    fx.r.prefix = "";
    ingest_rec_u32(&fx.r, fx.o, "a", &s->has_capacity, &s->capacity);
    ingest_rec_fail(&fx.r, "z", "explicit");
    assert_string_equal(fx.r.why, "position.b: not a number");
    /* Later fields are still read. */
    ingest_rec_u32(&fx.r, fx.o, "c", &s->has_bikes_available,
                   &s->bikes_available);
    assert_true(s->has_bikes_available);
    assert_int_equal(s->bikes_available, 5);
    fx_fini(&fx);
}

static void
test_time_rule_bounds(void **state)
{
    (void)state;
    /* Not before 2000-01-01T00:00:00Z. */
    assert_false(ingest_rec_time_plausible(FETCHED_MS, EPOCH_2000_MS - 1));
    assert_false(ingest_rec_time_plausible(FETCHED_MS, EPOCH_2000_MS - 0.5));
    assert_true(ingest_rec_time_plausible(FETCHED_MS, EPOCH_2000_MS));
    assert_false(ingest_rec_time_plausible(FETCHED_MS, 0));
    assert_false(ingest_rec_time_plausible(FETCHED_MS, -9.2e18));
    /* At most one day after a known fetch. */
    assert_true(ingest_rec_time_plausible(FETCHED_MS, FETCHED_MS + DAY_MS));
    assert_false(
        ingest_rec_time_plausible(FETCHED_MS, FETCHED_MS + DAY_MS + 0.5));
    assert_false(
        ingest_rec_time_plausible(FETCHED_MS, FETCHED_MS + DAY_MS + 1));
    assert_true(
        ingest_rec_time_plausible(FETCHED_MS, FETCHED_MS - 10 * DAY_MS));
    /* Unknown fetch time (0 or negative): only the fixed bounds. */
    assert_true(ingest_rec_time_plausible(0, FETCHED_MS + 1000 * DAY_MS));
    assert_true(ingest_rec_time_plausible(-1, 8999999999999999.0));
    assert_false(ingest_rec_time_plausible(0, 9.0e15));
    assert_false(ingest_rec_time_plausible(0, 1e300));
    assert_false(ingest_rec_time_plausible(0, INFINITY));
    assert_false(ingest_rec_time_plausible(0, NAN));
    assert_false(ingest_rec_time_plausible(0, EPOCH_2000_MS - 1));
}

static void
test_time_stores_value_or_zero(void **state)
{
    struct rec_fx fx;

    (void)state;
    fx_init(&fx, "{}");
    ingest_rec_time(&fx.r, FETCHED_MS + 3600000);
    assert_true(fx.r.snapshot->has_last_reported_ms);
    assert_int_equal(fx.r.snapshot->last_reported_ms, FETCHED_MS + 3600000);
    ingest_rec_time(&fx.r, FETCHED_MS + DAY_MS + 1);
    assert_int_equal(fx.r.snapshot->last_reported_ms, 0);
    ingest_rec_time(&fx.r, INT64_MIN);
    assert_int_equal(fx.r.snapshot->last_reported_ms, 0);
    ingest_rec_time(&fx.r, INT64_MAX);
    assert_int_equal(fx.r.snapshot->last_reported_ms, 0);
    assert_string_equal(fx.r.why, ""); /* implausible is not a failure */
    fx_fini(&fx);
}

static void
test_time_item_absent_null_value(void **state)
{
    struct rec_fx fx;

    (void)state;
    fx_init(&fx, "{\"t\":null,\"v\":\"2019-04-08T12:23:34Z\"}");
    assert_null(ingest_rec_time_item(&fx.r, fx.o, "absent"));
    assert_false(fx.r.snapshot->has_last_reported_ms);
    assert_non_null(ingest_rec_time_item(&fx.r, fx.o, "v"));
    assert_false(fx.r.snapshot->has_last_reported_ms);
    /* null: "not reporting", sent as 0 (DESIGN §3). */
    fx.r.snapshot->last_reported_ms = 5;
    assert_null(ingest_rec_time_item(&fx.r, fx.o, "t"));
    assert_true(fx.r.snapshot->has_last_reported_ms);
    assert_int_equal(fx.r.snapshot->last_reported_ms, 0);
    fx_fini(&fx);
}

/* A map function for the station tests: reads "n" as capacity, "lat"
 * as latitude, and counts its calls in *arg. */
static void
map_test(struct ingest_rec *r, const cJSON *el, const void *arg)
{
    Velo__V1__StationSnapshot *s = r->snapshot;

    (*(int *)arg)++;
    ingest_rec_u32(r, el, "n", &s->has_capacity, &s->capacity);
    ingest_rec_dbl(r, el, "lat", &s->has_lat, &s->lat);
}

static const struct ingest_rec_format fmt_test = {
    .name = "test-1",
    .id_key = "id",
    .id_wrong_type = "not a string",
    .id_size = 8,
    .map = map_test,
};

static const struct ingest_parse_ctx ctx_test = {"test:x", FETCHED_MS};

/* Maps every element of the array json into b (max records). */
static int
stations(const char *json, size_t max, struct ingest_batch *b, int *calls)
{
    cJSON *root;
    int    rv;

    assert_int_equal(velo_json_parse(json, strlen(json), &root), VELO_OK);
    ingest_batch_init(b, max);
    *calls = 0;
    rv = ingest_rec_stations(&fmt_test, calls, &ctx_test, b, root);
    cJSON_Delete(root);
    return rv;
}

static void
test_station_item_gets_ids_format_and_fetch_time(void **state)
{
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;
    int                              calls;

    (void)state;
    assert_int_equal(
        stations("[{\"id\":\"a\",\"n\":4},{\"id\":12}]", 10, &b, &calls),
        VELO_OK);
    assert_int_equal(calls, 2);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.nrejects, 0);
    s = &b.items[0];
    assert_string_equal(s->system_id, "test:x");
    assert_string_equal(s->station_id, "a");
    assert_string_equal(s->source_format, "test-1");
    assert_true(s->has_fetched_at_ms);
    assert_int_equal(s->fetched_at_ms, FETCHED_MS);
    assert_int_equal(s->capacity, 4);
    assert_string_equal(b.items[1].station_id, "12"); /* integer id */
    assert_false(b.items[1].has_capacity);
    ingest_batch_fini(&b);
}

static void
test_station_bad_ids_are_rejects_with_no_id(void **state)
{
    static const char *why[] = {
        "station: not an object",
        "station: not an object",
        "id: missing",
        "id: missing",
        "id: empty",
        "id: too long",
        "id: not a string",
    };
    struct ingest_batch b;
    size_t              i;
    int                 calls;

    (void)state;
    assert_int_equal(stations("[7,[],{},{\"id\":null},{\"id\":\"\"},"
                              "{\"id\":\"12345678\"},{\"id\":true},"
                              "{\"id\":\"1234567\"}]",
                              10, &b, &calls),
                     VELO_OK);
    /* Only the last one has a usable id (7 chars fit id_size 8). */
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "1234567");
    assert_int_equal(calls, 1);
    assert_int_equal(b.nrejects, 7);
    for (i = 0; i < 7; i++) {
        assert_string_equal(b.rejects[i].reason, why[i]);
        assert_string_equal(b.rejects[i].station_id, "");
    }
    assert_string_equal(b.rejects[0].raw, "7");
    assert_string_equal(b.rejects[5].raw, "{\"id\":\"12345678\"}");
    ingest_batch_fini(&b);
}

/* A field failure or a failed validation drops the item (and its strings:
 * ASan would see a leak) and leaves a reject with the element's JSON. */
static void
test_station_failures_become_rejects_in_order(void **state)
{
    struct ingest_batch b;
    int                 calls;

    (void)state;
    assert_int_equal(stations("[{\"id\":\"a\",\"n\":-1,\"lat\":\"x\"},"
                              "{\"id\":\"b\",\"lat\":91},"
                              "{\"id\":\"c\",\"n\":1}]",
                              10, &b, &calls),
                     VELO_OK);
    assert_int_equal(calls, 3);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "c");
    assert_int_equal(b.nrejects, 2);
    assert_string_equal(b.rejects[0].station_id, "a");
    assert_string_equal(b.rejects[0].reason, "n: negative");
    assert_string_equal(b.rejects[0].raw,
                        "{\"id\":\"a\",\"n\":-1,\"lat\":\"x\"}");
    assert_string_equal(b.rejects[1].station_id, "b");
    assert_non_null(strstr(b.rejects[1].reason, "lat"));
    ingest_batch_fini(&b);
}

static void
test_stations_stop_at_a_full_batch(void **state)
{
    struct ingest_batch b;
    const char         *json = "{\"id\":\"z\",\"n\":2}";
    cJSON              *one;
    int                 calls;

    (void)state;
    assert_int_equal(
        stations("[{\"id\":\"a\"},5,{\"id\":\"c\"},{\"id\":\"d\"}]", 2, &b,
                 &calls),
        VELO_ETOOBIG);
    /* "c" found the batch full before its map function ran. */
    assert_int_equal(calls, 1);
    assert_int_equal(b.len + b.nrejects, 2);
    ingest_batch_fini(&b);
    /* One bare object through ingest_rec_station: the same rules. */
    assert_int_equal(velo_json_parse(json, strlen(json), &one), VELO_OK);
    ingest_batch_init(&b, 1);
    calls = 0;
    assert_int_equal(ingest_rec_station(&fmt_test, &calls, &ctx_test, &b, one),
                     VELO_OK);
    assert_int_equal(b.items[0].capacity, 2);
    assert_int_equal(ingest_rec_station(&fmt_test, &calls, &ctx_test, &b, one),
                     VELO_ETOOBIG);
    assert_int_equal(b.len, 1);
    cJSON_Delete(one);
    ingest_batch_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u32_absent_null_wrong_negative_too_large),
        cmocka_unit_test(test_bool_dbl_str_types),
        cmocka_unit_test(test_wrong_types_fail_with_their_reason),
        cmocka_unit_test(test_obj_absent_null_wrong),
        cmocka_unit_test(test_found_tells_absent_from_wrong),
        cmocka_unit_test(test_first_failure_wins_and_prefix_names_the_object),
        cmocka_unit_test(test_time_rule_bounds),
        cmocka_unit_test(test_time_stores_value_or_zero),
        cmocka_unit_test(test_time_item_absent_null_value),
        cmocka_unit_test(test_station_item_gets_ids_format_and_fetch_time),
        cmocka_unit_test(test_station_bad_ids_are_rejects_with_no_id),
        cmocka_unit_test(test_station_failures_become_rejects_in_order),
        cmocka_unit_test(test_stations_stop_at_a_full_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
