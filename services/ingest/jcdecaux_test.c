/* jcdecaux_test.c: JCDecaux v1/v3 parsing on the real recorded payloads of
 * tests/fixtures/jcdecaux (found through VELO_FIXTURES), then on malformed
 * variants: truncated, wrong root, wrong field types, nulls, huge counts,
 * and bytes flipped at random. */
#include "test_util.h"
#include "velo/json.h"

#define DUBLIN "jcdecaux/v1_stations_dublin.json"
#define LUND "jcdecaux/v1_stations_lund_2015.json"
#define CONTRACTS "jcdecaux/v1_contracts_2015.json"
#define V3_DOC "jcdecaux/v3_station_doc_example.json"

typedef int (*parse_fn)(const char *, size_t, const struct ingest_parse_ctx *,
                        struct ingest_batch *, char *, size_t);

/* Fetched a few minutes after the newest Dublin last_update. */
static const struct ingest_parse_ctx ctx = {"jcdecaux:dublin", 1770420000000LL};

static int
parse_file(parse_fn fn, const char *rel, struct ingest_batch *b)
{
    char   err[160];
    size_t len;
    char  *body = test_fixture(&len, "%s", rel);
    int    rv;

    ingest_batch_init(b, 10000);
    rv = fn(body, len, &ctx, b, err, sizeof(err));
    free(body);
    return rv;
}

static int
parse_str(parse_fn fn, const char *json, struct ingest_batch *b)
{
    char err[160];

    ingest_batch_init(b, 10000);
    return fn(json, strlen(json), &ctx, b, err, sizeof(err));
}

static void
test_v1_dublin_gives_114_valid_stations(void **state)
{
    struct ingest_batch b;
    size_t              i;
    char                why[160];

    (void)state;
    assert_int_equal(parse_file(ingest_jcdecaux_v1_parse, DUBLIN, &b), VELO_OK);
    assert_int_equal(b.len, 114);
    assert_int_equal(b.nrejects, 0);
    for (i = 0; i < b.len; i++) {
        const Velo__V1__StationSnapshot *s = &b.items[i];
        assert_string_equal(s->system_id, "jcdecaux:dublin");
        assert_string_equal(s->source_format, "jcdecaux-v1");
        assert_true(s->has_fetched_at_ms);
        assert_int_equal(s->fetched_at_ms, ctx.fetched_at_ms);
        /* v1 has no e-bike split: absent, never a made-up 0. */
        assert_false(s->has_mechanical_bikes);
        assert_false(s->has_electric_bikes);
        assert_false(s->has_connected);
        assert_int_equal(ingest_snapshot_validate(s, why, sizeof(why)),
                         VELO_OK);
    }
    /* Payload order is kept. */
    assert_string_equal(b.items[0].station_id, "42");
    assert_string_equal(b.items[113].station_id, "88");
    ingest_batch_fini(&b);
}

static void
test_v1_dublin_station_values_are_exact(void **state)
{
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;

    (void)state;
    assert_int_equal(parse_file(ingest_jcdecaux_v1_parse, DUBLIN, &b), VELO_OK);
    s = test_find(&b, "42");
    assert_string_equal(s->name, "SMITHFIELD NORTH");
    assert_string_equal(s->address, "Smithfield North");
    assert_true(s->has_lat && s->has_lon);
    assert_near(s->lat, 53.349562);
    assert_near(s->lon, -6.278198);
    assert_true(s->has_capacity && s->has_bikes_available &&
                s->has_docks_available);
    assert_int_equal(s->capacity, 30);
    assert_int_equal(s->bikes_available, 15);
    assert_int_equal(s->docks_available, 15);
    assert_true(s->has_status);
    assert_int_equal(s->status, VELO__V1__STATION_STATUS__STATION_STATUS_OPEN);
    assert_true(s->has_banking && s->has_bonus);
    assert_false(s->banking);
    assert_false(s->bonus);
    assert_true(s->has_last_reported_ms);
    assert_int_equal(s->last_reported_ms, 1770418469000LL);

    s = test_find(&b, "54"); /* an empty station: 0 bikes is a real 0 */
    assert_string_equal(s->name, "CLONMEL STREET");
    assert_true(s->has_bikes_available);
    assert_int_equal(s->bikes_available, 0);
    assert_int_equal(s->docks_available, 33);
    assert_int_equal(s->capacity, 33);
    assert_int_equal(s->last_reported_ms, 1770418566000LL);

    s = test_find(&b, "88");
    assert_string_equal(s->name, "BLACKHALL PLACE");
    assert_near(s->lat, 53.3488);
    assert_near(s->lon, -6.281637);
    assert_int_equal(s->bikes_available, 3);
    assert_int_equal(s->docks_available, 27);
    assert_int_equal(s->last_reported_ms, 1770418514000LL);
    ingest_batch_fini(&b);
}

static void
test_v1_lund_keeps_empty_addresses(void **state)
{
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;
    size_t                           i;

    (void)state;
    assert_int_equal(parse_file(ingest_jcdecaux_v1_parse, LUND, &b), VELO_OK);
    assert_int_equal(b.len, 17);
    assert_int_equal(b.nrejects, 0);
    for (i = 0; i < b.len; i++) {
        /* Sent as "": present and empty, not absent. */
        assert_non_null(b.items[i].address);
        assert_string_equal(b.items[i].address, "");
    }
    s = test_find(&b, "5");
    assert_string_equal(s->name, "M\xc3\x85RTENSTORGET"); /* UTF-8 kept */
    assert_true(s->banking);
    assert_int_equal(s->capacity, 30);
    assert_int_equal(s->bikes_available, 3);
    assert_int_equal(s->docks_available, 27);
    assert_int_equal(s->last_reported_ms, 1451295505000LL);
    ingest_batch_fini(&b);
}

/* A contracts list is not a station list: every element is rejected
 * (none has a `number`), each with its raw JSON, and nothing is emitted. */
static void
test_v1_contracts_list_rejects_every_element(void **state)
{
    struct ingest_batch b;
    cJSON              *raw;
    size_t              i;

    (void)state;
    assert_int_equal(parse_file(ingest_jcdecaux_v1_parse, CONTRACTS, &b),
                     VELO_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.nrejects, 27);
    for (i = 0; i < b.nrejects; i++) {
        assert_string_equal(b.rejects[i].reason, "number: missing");
        assert_string_equal(b.rejects[i].station_id, "");
        assert_int_equal(
            velo_json_parse(b.rejects[i].raw, b.rejects[i].len, &raw), VELO_OK);
        assert_non_null(cJSON_GetObjectItem(raw, "commercial_name"));
        cJSON_Delete(raw);
    }
    assert_non_null(strstr(b.rejects[1].raw, "\"commercial_name\":\"Velib\""));
    ingest_batch_fini(&b);
}

static void
test_v3_doc_example_single_object(void **state)
{
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;

    (void)state;
    assert_int_equal(parse_file(ingest_jcdecaux_v3_parse, V3_DOC, &b), VELO_OK);
    assert_int_equal(b.len, 1);
    assert_int_equal(b.nrejects, 0);
    s = &b.items[0];
    assert_string_equal(s->station_id, "123");
    assert_string_equal(s->source_format, "jcdecaux-v3");
    assert_string_equal(s->name, "nom station");
    assert_string_equal(s->address, "adresse indicative");
    assert_near(s->lat, 45.774204);
    assert_near(s->lon, 4.867512);
    assert_true(s->has_banking && s->banking);
    assert_true(s->has_bonus && !s->bonus);
    assert_true(s->has_connected && s->connected);
    assert_int_equal(s->status, VELO__V1__STATION_STATUS__STATION_STATUS_OPEN);
    assert_int_equal(s->last_reported_ms, 1554726214000LL);
    assert_true(s->has_capacity && s->has_bikes_available &&
                s->has_docks_available && s->has_mechanical_bikes &&
                s->has_electric_bikes);
    assert_int_equal(s->capacity, 40);
    assert_int_equal(s->bikes_available, 15);
    assert_int_equal(s->docks_available, 7);
    assert_int_equal(s->mechanical_bikes, 10);
    assert_int_equal(s->electric_bikes, 5);
    ingest_batch_fini(&b);
}

static void
test_v3_array_and_nulls(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(
        parse_str(ingest_jcdecaux_v3_parse,
                  "[{\"number\":1,\"lastUpdate\":null,\"connected\":null,"
                  "\"totalStands\":{\"capacity\":10,\"availabilities\":"
                  "{\"bikes\":4,\"stands\":6,\"mechanicalBikes\":null}}},"
                  "{\"number\":\"2\",\"totalStands\":null}]",
                  &b),
        VELO_OK);
    assert_int_equal(b.len, 2);
    assert_true(b.items[0].has_last_reported_ms);
    assert_int_equal(b.items[0].last_reported_ms, 0);
    assert_false(b.items[0].has_connected);
    assert_int_equal(b.items[0].bikes_available, 4);
    assert_false(b.items[0].has_mechanical_bikes);
    assert_false(b.items[0].has_electric_bikes);
    assert_string_equal(b.items[1].station_id, "2");
    assert_false(b.items[1].has_capacity);
    assert_false(b.items[1].has_last_reported_ms);
    ingest_batch_fini(&b);
}

static void
test_v3_bad_fields_reject_the_station(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(
        parse_str(ingest_jcdecaux_v3_parse,
                  "[{\"number\":1,\"lastUpdate\":\"yesterday\"},"
                  "{\"number\":2,\"totalStands\":\"x\"},"
                  "{\"number\":3,\"totalStands\":{\"availabilities\":"
                  "{\"bikes\":2,\"mechanicalBikes\":2,\"electricalBikes\":1}"
                  "}},"
                  "{\"number\":4,\"position\":{\"latitude\":\"north\"}},"
                  "{\"number\":5}]",
                  &b),
        VELO_OK);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "5");
    assert_int_equal(b.nrejects, 4);
    assert_string_equal(b.rejects[0].reason,
                        "lastUpdate: not an ISO 8601 time");
    assert_string_equal(b.rejects[1].reason, "totalStands: not an object");
    assert_non_null(strstr(b.rejects[2].reason, "bikes_available"));
    assert_string_equal(b.rejects[3].reason, "position.latitude: not a number");
    assert_string_equal(b.rejects[3].station_id, "4");
    ingest_batch_fini(&b);
}

static void
test_v1_wrong_type_field_rejects_station_keeps_rest(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(parse_str(ingest_jcdecaux_v1_parse,
                               "[{\"number\":1,\"available_bikes\":3},"
                               "{\"number\":2,\"available_bikes\":\"x\"},"
                               "{\"number\":3,\"banking\":\"yes\"},"
                               "{\"number\":4,\"name\":7},"
                               "{\"number\":5,\"position\":[53,-6]},"
                               "{\"number\":6,\"bike_stands\":2.5},"
                               "{\"number\":7,\"available_bikes\":9}]",
                               &b),
                     VELO_OK);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.items[0].station_id, "1");
    assert_string_equal(b.items[1].station_id, "7");
    assert_int_equal(b.items[1].bikes_available, 9);
    assert_int_equal(b.nrejects, 5);
    assert_string_equal(b.rejects[0].station_id, "2");
    assert_string_equal(b.rejects[0].reason, "available_bikes: not an integer");
    /* The raw JSON is the element itself, compact. */
    assert_string_equal(b.rejects[0].raw,
                        "{\"number\":2,\"available_bikes\":\"x\"}");
    assert_string_equal(b.rejects[1].reason, "banking: not a boolean");
    assert_string_equal(b.rejects[2].reason, "name: not a string");
    assert_string_equal(b.rejects[3].reason, "position: not an object");
    assert_string_equal(b.rejects[4].reason, "bike_stands: not an integer");
    ingest_batch_fini(&b);
}

static void
test_v1_nulls_are_absent_not_zero(void **state)
{
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;

    (void)state;
    assert_int_equal(
        parse_str(ingest_jcdecaux_v1_parse,
                  "[{\"number\":1,\"name\":null,\"address\":null,"
                  "\"position\":null,\"bike_stands\":null,"
                  "\"available_bikes\":null,\"available_bike_stands\":null,"
                  "\"status\":null,\"banking\":null,\"bonus\":null,"
                  "\"last_update\":null}]",
                  &b),
        VELO_OK);
    assert_int_equal(b.len, 1);
    s = &b.items[0];
    assert_null(s->name);
    assert_null(s->address);
    assert_false(s->has_lat || s->has_lon || s->has_capacity ||
                 s->has_bikes_available || s->has_docks_available ||
                 s->has_status || s->has_banking || s->has_bonus);
    /* Except the event time: null means "not reporting", 0 (DESIGN §3). */
    assert_true(s->has_last_reported_ms);
    assert_int_equal(s->last_reported_ms, 0);
    ingest_batch_fini(&b);
}

static void
test_v1_status_words(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(parse_str(ingest_jcdecaux_v1_parse,
                               "[{\"number\":1,\"status\":\"CLOSED\"},"
                               "{\"number\":2,\"status\":\"MAINTENANCE\"},"
                               "{\"number\":3,\"status\":1}]",
                               &b),
                     VELO_OK);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.items[0].status,
                     VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED);
    assert_true(b.items[1].has_status);
    assert_int_equal(b.items[1].status,
                     VELO__V1__STATION_STATUS__STATION_STATUS_UNKNOWN);
    assert_string_equal(b.rejects[0].reason, "status: not a string");
    ingest_batch_fini(&b);
}

static void
test_v1_negative_and_huge_counts_are_rejected(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(parse_str(ingest_jcdecaux_v1_parse,
                               "[{\"number\":1,\"available_bikes\":-1},"
                               "{\"number\":2,\"available_bikes\":100001},"
                               "{\"number\":3,\"bike_stands\":4294967296},"
                               "{\"number\":4,\"available_bike_stands\":1e300},"
                               "{\"number\":5,\"available_bikes\":100000}]",
                               &b),
                     VELO_OK);
    assert_int_equal(b.len, 1);
    assert_int_equal(b.items[0].bikes_available, 100000);
    assert_int_equal(b.nrejects, 4);
    assert_string_equal(b.rejects[0].reason, "available_bikes: negative");
    assert_non_null(strstr(b.rejects[1].reason, "above 100000"));
    assert_string_equal(b.rejects[2].reason, "bike_stands: too large");
    assert_string_equal(b.rejects[3].reason,
                        "available_bike_stands: not an integer");
    ingest_batch_fini(&b);
}

static void
test_v1_bad_ids_and_elements_are_rejected(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(parse_str(ingest_jcdecaux_v1_parse,
                               "[{\"name\":\"no id\"},{\"number\":null},"
                               "{\"number\":true},{\"number\":\"\"},"
                               "17,\"x\",null,[],{\"number\":\"A1\"}]",
                               &b),
                     VELO_OK);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "A1");
    assert_int_equal(b.nrejects, 8);
    assert_string_equal(b.rejects[0].reason, "number: missing");
    assert_string_equal(b.rejects[1].reason, "number: missing");
    assert_string_equal(b.rejects[2].reason,
                        "number: not an integer or string");
    assert_string_equal(b.rejects[3].reason, "number: empty");
    assert_string_equal(b.rejects[4].reason, "station: not an object");
    assert_string_equal(b.rejects[4].raw, "17");
    assert_string_equal(b.rejects[4].station_id, "");
    assert_string_equal(b.rejects[6].raw, "null");
    ingest_batch_fini(&b);
}

static void
test_v1_position_out_of_range_is_rejected(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(
        parse_str(ingest_jcdecaux_v1_parse,
                  "[{\"number\":1,\"position\":{\"lat\":91,\"lng\":0}},"
                  "{\"number\":2,\"position\":{\"lat\":0,\"lng\":0}},"
                  "{\"number\":3,\"position\":{\"lat\":1,\"lng\":-181}},"
                  "{\"number\":4,\"position\":{\"lat\":-90,\"lng\":180}}]",
                  &b),
        VELO_OK);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "4");
    assert_int_equal(b.nrejects, 3);
    ingest_batch_fini(&b);
}

/* Times before 2000 or over a day after the fetch are "not sent" (0). */
static void
test_v1_absurd_last_update_is_zero(void **state)
{
    struct ingest_batch b;

    (void)state;
    assert_int_equal(parse_str(ingest_jcdecaux_v1_parse,
                               "[{\"number\":1,\"last_update\":-5},"
                               "{\"number\":2,\"last_update\":631152000000},"
                               "{\"number\":3,\"last_update\":1870420000000},"
                               "{\"number\":4,\"last_update\":1770423600000}]",
                               &b),
                     VELO_OK);
    assert_int_equal(b.len, 4);
    assert_int_equal(b.items[0].last_reported_ms, 0);
    assert_int_equal(b.items[1].last_reported_ms, 0);
    assert_int_equal(b.items[2].last_reported_ms, 0);
    /* One hour ahead of the fetch: clock skew, kept. */
    assert_int_equal(b.items[3].last_reported_ms, 1770423600000LL);
    ingest_batch_fini(&b);
}

static void
test_wrong_root_is_eproto(void **state)
{
    static const char  *roots[] = {"{\"number\":1}", "\"stations\"", "42",
                                   "null", "true"};
    struct ingest_batch b;
    size_t              i;

    (void)state;
    for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        assert_int_equal(parse_str(ingest_jcdecaux_v1_parse, roots[i], &b),
                         VELO_EPROTO);
        assert_int_equal(b.len + b.nrejects, 0);
        ingest_batch_fini(&b);
        /* v3 takes a bare object, nothing else. */
        assert_int_equal(parse_str(ingest_jcdecaux_v3_parse, roots[i], &b),
                         i == 0 ? VELO_OK : VELO_EPROTO);
        ingest_batch_fini(&b);
    }
    assert_int_equal(parse_str(ingest_jcdecaux_v1_parse, "[]", &b), VELO_OK);
    assert_int_equal(b.len, 0);
    ingest_batch_fini(&b);
}

static void
test_more_stations_than_max_is_etoobig_and_empty(void **state)
{
    struct ingest_batch b;
    char                err[160];
    size_t              len;
    char               *body = test_fixture(&len, "%s", DUBLIN);

    (void)state;
    ingest_batch_init(&b, 100);
    assert_int_equal(
        ingest_jcdecaux_v1_parse(body, len, &ctx, &b, err, sizeof(err)),
        VELO_ETOOBIG);
    assert_int_equal(b.len + b.nrejects, 0);
    assert_non_null(strstr(err, "jcdecaux-v1"));
    ingest_batch_fini(&b);
    free(body);
}

/* A parser and the fixture a variant was made from. */
struct variant_of {
    parse_fn    fn;
    const char *rel;
};

/* A cut payload must fail as a whole, with an empty batch. */
static void
check_cut(const char *part, size_t cut, const void *arg)
{
    const struct variant_of *v = arg;
    struct ingest_batch      b;
    char                     err[160] = "";
    int                      rv;

    ingest_batch_init(&b, 10000);
    rv = v->fn(part, cut, &ctx, &b, err, sizeof(err));
    if (rv != VELO_EPROTO)
        fail_msg("%s cut at %zu: rv %d", v->rel, cut, rv);
    assert_int_equal(b.len + b.nrejects, 0);
    assert_non_null(strstr(err, "malformed"));
    ingest_batch_fini(&b);
}

/* Cuts a fixture at ~100 lengths before its closing bracket, including
 * 0 and the cut that drops only that bracket. */
static void
check_truncations(parse_fn fn, const char *rel)
{
    struct variant_of v = {fn, rel};

    test_truncations(rel, 97, check_cut, &v);
}

static void
test_truncated_payloads_are_eproto_and_empty(void **state)
{
    (void)state;
    check_truncations(ingest_jcdecaux_v1_parse, DUBLIN);
    check_truncations(ingest_jcdecaux_v1_parse, LUND);
    check_truncations(ingest_jcdecaux_v1_parse, CONTRACTS);
    check_truncations(ingest_jcdecaux_v3_parse, V3_DOC);
    check_truncations(ingest_jcdecaux_v3_parse, LUND);
}

/* A payload with flipped bytes: OK (every item then valid) or EPROTO
 * (batch empty), never a crash or a leak. */
static void
check_flipped(const char *part, size_t len, const void *arg)
{
    const struct variant_of *v = arg;
    struct ingest_batch      b;
    char                     err[160];

    ingest_batch_init(&b, 10000);
    test_assert_ok_or_empty(v->fn(part, len, &ctx, &b, err, sizeof(err)), &b);
    ingest_batch_fini(&b);
}

static void
fuzz_fixture(parse_fn fn, const char *rel, int iterations, uint32_t seed)
{
    struct variant_of v = {fn, rel};

    test_flips(rel, iterations, &seed, check_flipped, &v);
}

static void
test_flipped_bytes_never_crash(void **state)
{
    (void)state;
    fuzz_fixture(ingest_jcdecaux_v1_parse, LUND, 1500, 0x9e3779b9u);
    fuzz_fixture(ingest_jcdecaux_v3_parse, V3_DOC, 1500, 0x2545f491u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_dublin_gives_114_valid_stations),
        cmocka_unit_test(test_v1_dublin_station_values_are_exact),
        cmocka_unit_test(test_v1_lund_keeps_empty_addresses),
        cmocka_unit_test(test_v1_contracts_list_rejects_every_element),
        cmocka_unit_test(test_v3_doc_example_single_object),
        cmocka_unit_test(test_v3_array_and_nulls),
        cmocka_unit_test(test_v3_bad_fields_reject_the_station),
        cmocka_unit_test(test_v1_wrong_type_field_rejects_station_keeps_rest),
        cmocka_unit_test(test_v1_nulls_are_absent_not_zero),
        cmocka_unit_test(test_v1_status_words),
        cmocka_unit_test(test_v1_negative_and_huge_counts_are_rejected),
        cmocka_unit_test(test_v1_bad_ids_and_elements_are_rejected),
        cmocka_unit_test(test_v1_position_out_of_range_is_rejected),
        cmocka_unit_test(test_v1_absurd_last_update_is_zero),
        cmocka_unit_test(test_wrong_root_is_eproto),
        cmocka_unit_test(test_more_stations_than_max_is_etoobig_and_empty),
        cmocka_unit_test(test_truncated_payloads_are_eproto_and_empty),
        cmocka_unit_test(test_flipped_bytes_never_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
