/* gbfs_test.c: GBFS station_information, vehicle_types and station_status
 * joined, on the spec examples (2.3, 3.0) and on a written 1.x feed
 * (tests/fixtures/gbfs), then malformed variants and flipped bytes.
 * Discovery (gbfs.json) is tested in gbfs_discovery_test.c. */
#include "test_util.h"

/* A station_status payload around the given station objects. */
#define STATUS(stations) "{\"data\":{\"stations\":[" stations "]}}"

#define OPEN VELO__V1__STATION_STATUS__STATION_STATUS_OPEN
#define CLOSED VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED

/* Fetch times just after each fixture's report times. */
static const struct ingest_parse_ctx ctx23 = {"gbfs:example", 1609866200000LL};
static const struct ingest_parse_ctx ctx30 = {"gbfs:example", 1689593700000LL};
static const struct ingest_parse_ctx ctx1 = {"gbfs:example1", 1700000065000LL};

/* A static table from fixtures; vtypes may be NULL (no vehicle_types). */
static ingest_gbfs_static *
load_static(const char *info, const char *vtypes, const char *lang)
{
    ingest_gbfs_static *st;
    char                err[160];
    size_t              len;
    char               *body;

    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    body = test_fixture(&len, "gbfs/%s", info);
    assert_int_equal(
        ingest_gbfs_info_parse(st, body, len, lang, err, sizeof(err)), VELO_OK);
    free(body);
    if (vtypes != NULL) {
        body = test_fixture(&len, "gbfs/%s", vtypes);
        assert_int_equal(
            ingest_gbfs_vtypes_parse(st, body, len, err, sizeof(err)), VELO_OK);
        free(body);
    }
    return st;
}

static int
status_buf(const ingest_gbfs_static *st, const char *body, size_t len,
           const char *version, const struct ingest_parse_ctx *ctx,
           struct ingest_batch *b, uint32_t *ttl)
{
    char err[160];

    ingest_batch_init(b, 10000);
    return ingest_gbfs_status_parse(st, body, len, version, ctx, b, ttl, err,
                                    sizeof(err));
}

static int
status_file(const ingest_gbfs_static *st, const char *rel, const char *version,
            const struct ingest_parse_ctx *ctx, struct ingest_batch *b,
            uint32_t *ttl)
{
    size_t len;
    char  *body = test_fixture(&len, "gbfs/%s", rel);
    int    rv;

    rv = status_buf(st, body, len, version, ctx, b, ttl);
    free(body);
    return rv;
}

static int
status_str(const ingest_gbfs_static *st, const char *json, const char *version,
           struct ingest_batch *b)
{
    uint32_t ttl = 0;

    return status_buf(st, json, strlen(json), version, &ctx23, b, &ttl);
}

static void
test_v23_status_counts_and_split(void **state)
{
    ingest_gbfs_static              *st;
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;
    uint32_t                         ttl = 99;

    (void)state;
    st = load_static("spec-v2.3/station_information.json",
                     "spec-v2.3/vehicle_types.json", NULL);
    assert_int_equal(status_file(st, "spec-v2.3/station_status.json", "2.3",
                                 &ctx23, &b, &ttl),
                     VELO_OK);
    assert_int_equal(ttl, 0);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.nrejects, 0);
    s = test_find(&b, "station2");
    assert_string_equal(s->system_id, "gbfs:example");
    assert_string_equal(s->source_format, "gbfs-2.3");
    assert_int_equal(s->fetched_at_ms, ctx23.fetched_at_ms);
    assert_int_equal(s->bikes_available, 6);
    assert_int_equal(s->docks_available, 8);
    assert_int_equal(s->bikes_disabled, 1);
    assert_int_equal(s->docks_disabled, 1);
    /* abc123 is "human", def456 "electric". */
    assert_true(s->has_mechanical_bikes && s->has_electric_bikes);
    assert_int_equal(s->mechanical_bikes, 2);
    assert_int_equal(s->electric_bikes, 4);
    assert_true(s->has_status);
    assert_int_equal(s->status, OPEN);
    assert_true(s->is_installed && s->is_renting && s->is_returning);
    assert_int_equal(s->last_reported_ms, 1609866106000LL);
    /* The spec's information lists only "pga": nothing to join. */
    assert_null(s->name);
    assert_false(s->has_lat || s->has_capacity);
    s = test_find(&b, "station1");
    assert_int_equal(s->bikes_available, 1);
    assert_int_equal(s->mechanical_bikes, 1);
    assert_int_equal(s->electric_bikes, 0);
    assert_int_equal(s->last_reported_ms, 1609866125000LL);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_v30_status_counts_split_and_rfc3339_times(void **state)
{
    ingest_gbfs_static              *st;
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;
    uint32_t                         ttl;

    (void)state;
    st = load_static("spec-v3.0/station_information.json",
                     "spec-v3.0/vehicle_types.json", NULL);
    assert_int_equal(status_file(st, "spec-v3.0/station_status.json", "3.0",
                                 &ctx30, &b, &ttl),
                     VELO_OK);
    assert_int_equal(b.len, 2);
    s = test_find(&b, "station2");
    assert_string_equal(s->source_format, "gbfs-3.0");
    assert_int_equal(s->bikes_available, 6); /* num_vehicles_available */
    assert_int_equal(s->bikes_disabled, 1);
    assert_int_equal(s->mechanical_bikes, 2);
    assert_int_equal(s->electric_bikes, 4);
    /* "2023-07-17T13:34:13+02:00" */
    assert_int_equal(s->last_reported_ms, 1689593653000LL);
    s = test_find(&b, "station1");
    assert_int_equal(s->bikes_available, 1);
    assert_int_equal(s->mechanical_bikes, 1);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_v30_info_joins_localized_name_and_position(void **state)
{
    ingest_gbfs_static              *st;
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;

    (void)state;
    st = load_static("spec-v3.0/station_information.json", NULL, "en");
    assert_int_equal(
        status_str(st, STATUS("{\"station_id\":\"pga\"}"), "3.0", &b), VELO_OK);
    s = &b.items[0];
    assert_string_equal(s->name, "Parking garage A");
    assert_null(s->address);
    assert_near(s->lat, 12.345678);
    assert_near(s->lon, 45.678901);
    assert_false(s->has_capacity); /* the example gives none */
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_localized_name_follows_the_language(void **state)
{
    static const char *info =
        "{\"data\":{\"stations\":[{\"station_id\":\"g\",\"name\":["
        "{\"text\":\"Gare\",\"language\":\"fr\"},"
        "{\"text\":\"Station\",\"language\":\"en\"}]}]}}";
    static const char *langs[][2] = {
        {"en", "Station"}, {"fr", "Gare"}, {"de", "Gare"}, {NULL, "Gare"}};
    ingest_gbfs_static *st;
    struct ingest_batch b;
    char                err[160];
    size_t              i;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    for (i = 0; i < 4; i++) {
        assert_int_equal(ingest_gbfs_info_parse(st, info, strlen(info),
                                                langs[i][0], err, sizeof(err)),
                         VELO_OK);
        assert_int_equal(
            status_str(st, STATUS("{\"station_id\":\"g\"}"), "3.0", &b),
            VELO_OK);
        assert_string_equal(b.items[0].name, langs[i][1]);
        ingest_batch_fini(&b);
    }
    ingest_gbfs_static_free(st);
}

static void
test_v1_written_feed_quirks(void **state)
{
    ingest_gbfs_static              *st;
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;
    uint32_t                         ttl;

    (void)state;
    st = load_static("v1.1-written/station_information.json", NULL, NULL);
    /* No version given and none in the payload: 1.0. */
    assert_int_equal(status_file(st, "v1.1-written/station_status.json", NULL,
                                 &ctx1, &b, &ttl),
                     VELO_OK);
    assert_int_equal(ttl, 10);
    assert_int_equal(b.len, 5);
    assert_int_equal(b.nrejects, 0);
    s = test_find(&b, "101");
    assert_string_equal(s->source_format, "gbfs-1.0");
    assert_string_equal(s->name, "Torget");
    assert_string_equal(s->address, "Torget 1");
    assert_near(s->lat, 59.9127);
    assert_near(s->lon, 10.7461);
    assert_int_equal(s->capacity, 20);
    assert_int_equal(s->bikes_available, 7);
    assert_int_equal(s->docks_available, 12);
    assert_int_equal(s->bikes_disabled, 1);
    assert_true(s->has_docks_disabled);
    assert_int_equal(s->docks_disabled, 0);
    /* 0/1 booleans. */
    assert_true(s->has_is_installed && s->is_installed && s->is_renting);
    assert_int_equal(s->status, OPEN);
    assert_int_equal(s->last_reported_ms, 1700000042000LL);
    /* No vehicle_types feed: no split, not a split of zeros. */
    assert_false(s->has_mechanical_bikes || s->has_electric_bikes);
    s = test_find(&b, "102"); /* neither renting nor returning */
    assert_int_equal(s->status, CLOSED);
    assert_true(s->has_is_renting && !s->is_renting);
    assert_int_equal(s->last_reported_ms, 1699996400000LL);
    s = test_find(&b, "103"); /* integer id in both feeds, absurd time */
    assert_string_equal(s->name, "Aker brygge");
    assert_true(s->has_last_reported_ms);
    assert_int_equal(s->last_reported_ms, 0);
    s = test_find(&b, "104"); /* not installed */
    assert_int_equal(s->status, CLOSED);
    s = test_find(&b, "106"); /* not in station_information */
    assert_null(s->name);
    assert_false(s->has_lat || s->has_lon || s->has_capacity);
    assert_int_equal(s->bikes_available, 3);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_split_needs_vehicle_types_and_known_types(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;
    uint32_t            ttl;

    (void)state;
    /* Without vehicle_types: absent, even though the status has counts. */
    st = load_static("spec-v2.3/station_information.json", NULL, NULL);
    assert_int_equal(status_file(st, "spec-v2.3/station_status.json", "2.3",
                                 &ctx23, &b, &ttl),
                     VELO_OK);
    assert_false(b.items[0].has_mechanical_bikes);
    assert_false(b.items[1].has_electric_bikes);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);

    st = load_static("spec-v2.3/station_information.json",
                     "spec-v2.3/vehicle_types.json", NULL);
    assert_int_equal(
        status_str(st,
                   STATUS("{\"station_id\":\"a\",\"num_bikes_available\":9,"
                          "\"vehicle_types_available\":["
                          "{\"vehicle_type_id\":\"abc123\",\"count\":2},"
                          "{\"vehicle_type_id\":\"cargo123\",\"count\":1},"
                          "{\"vehicle_type_id\":\"car1\",\"count\":1},"
                          "{\"vehicle_type_id\":\"nope\",\"count\":5}]},"
                          "{\"station_id\":\"b\",\"num_bikes_available\":1}"),
                   "2.3", &b),
        VELO_OK);
    /* cargo123 is human too; car1 (diesel) and unknown ids count nowhere. */
    assert_int_equal(b.items[0].mechanical_bikes, 3);
    assert_true(b.items[0].has_electric_bikes);
    assert_int_equal(b.items[0].electric_bikes, 0);
    /* Without vehicle_types_available: absent. */
    assert_false(b.items[1].has_mechanical_bikes);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_both_count_names_prefer_the_feed_version(void **state)
{
    static const char *both =
        STATUS("{\"station_id\":\"a\",\"num_bikes_available\":4,"
               "\"num_vehicles_available\":9,\"num_bikes_disabled\":1,"
               "\"num_vehicles_disabled\":2}");
    static const char *only3 =
        STATUS("{\"station_id\":\"a\",\"num_vehicles_available\":9,"
               "\"num_bikes_available\":null}");
    ingest_gbfs_static *st;
    struct ingest_batch b;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(status_str(st, both, "2.3", &b), VELO_OK);
    assert_int_equal(b.items[0].bikes_available, 4);
    assert_int_equal(b.items[0].bikes_disabled, 1);
    ingest_batch_fini(&b);
    assert_int_equal(status_str(st, both, "3.0", &b), VELO_OK);
    assert_int_equal(b.items[0].bikes_available, 9);
    assert_int_equal(b.items[0].bikes_disabled, 2);
    ingest_batch_fini(&b);
    assert_int_equal(status_str(st, only3, "2.3", &b), VELO_OK);
    assert_int_equal(b.items[0].bikes_available, 9);
    ingest_batch_fini(&b);
    /* The payload's own version when the caller names none. */
    assert_int_equal(status_str(st,
                                "{\"version\":\"3.0\",\"data\":{\"stations\":"
                                "[{\"station_id\":\"a\","
                                "\"num_bikes_available\":4,"
                                "\"num_vehicles_available\":9}]}}",
                                NULL, &b),
                     VELO_OK);
    assert_string_equal(b.items[0].source_format, "gbfs-3.0");
    assert_int_equal(b.items[0].bikes_available, 9);
    ingest_batch_fini(&b);
    /* A payload version that is not one does not reach source_format. */
    assert_int_equal(status_str(st,
                                "{\"version\":\"<b>\",\"data\":{\"stations\":"
                                "[{\"station_id\":\"a\"}]}}",
                                NULL, &b),
                     VELO_OK);
    assert_string_equal(b.items[0].source_format, "gbfs-1.0");
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_last_reported_forms_and_absurd_values(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    /* ctx23 fetched at 1609866200000. */
    assert_int_equal(
        status_str(st,
                   STATUS("{\"station_id\":\"null\",\"last_reported\":null},"
                          "{\"station_id\":\"none\"},"
                          "{\"station_id\":\"neg\","
                          "\"last_reported\":-9223372036854775808},"
                          "{\"station_id\":\"1999\","
                          "\"last_reported\":915148800},"
                          "{\"station_id\":\"2days\","
                          "\"last_reported\":1610039000},"
                          "{\"station_id\":\"ms\","
                          "\"last_reported\":1609866125000},"
                          "{\"station_id\":\"iso\","
                          "\"last_reported\":\"2021-01-05T17:02:05Z\"},"
                          "{\"station_id\":\"frac\","
                          "\"last_reported\":1609866125.5},"
                          "{\"station_id\":\"bad\","
                          "\"last_reported\":\"soon\"},"
                          "{\"station_id\":\"bool\","
                          "\"last_reported\":true}"),
                   "2.3", &b),
        VELO_OK);
    assert_int_equal(b.len, 8);
    assert_true(test_find(&b, "null")->has_last_reported_ms);
    assert_int_equal(test_find(&b, "null")->last_reported_ms, 0);
    assert_false(test_find(&b, "none")->has_last_reported_ms);
    assert_int_equal(test_find(&b, "neg")->last_reported_ms, 0);
    assert_int_equal(test_find(&b, "1999")->last_reported_ms, 0);
    assert_int_equal(test_find(&b, "2days")->last_reported_ms, 0);
    assert_int_equal(test_find(&b, "ms")->last_reported_ms, 0);
    assert_int_equal(test_find(&b, "iso")->last_reported_ms, 1609866125000LL);
    assert_int_equal(test_find(&b, "frac")->last_reported_ms, 1609866125500LL);
    assert_int_equal(b.nrejects, 2);
    assert_string_equal(b.rejects[0].reason,
                        "last_reported: not an RFC 3339 time");
    assert_string_equal(b.rejects[1].reason, "last_reported: not a time");
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_status_follows_the_flags(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(
        status_str(st,
                   STATUS("{\"station_id\":\"open\",\"is_installed\":true,"
                          "\"is_renting\":true,\"is_returning\":false},"
                          "{\"station_id\":\"gone\",\"is_installed\":false,"
                          "\"is_renting\":true,\"is_returning\":true},"
                          "{\"station_id\":\"shut\",\"is_installed\":true,"
                          "\"is_renting\":false,\"is_returning\":false},"
                          "{\"station_id\":\"ret\",\"is_installed\":true,"
                          "\"is_renting\":false,\"is_returning\":true},"
                          "{\"station_id\":\"none\"}"),
                   "2.3", &b),
        VELO_OK);
    assert_int_equal(test_find(&b, "open")->status, OPEN);
    assert_int_equal(test_find(&b, "gone")->status, CLOSED);
    assert_int_equal(test_find(&b, "shut")->status, CLOSED);
    /* Too little to say: absent, which reads as UNKNOWN. */
    assert_false(test_find(&b, "ret")->has_status);
    assert_false(test_find(&b, "none")->has_status);
    assert_false(test_find(&b, "none")->has_is_installed);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_wrong_type_field_rejects_station_keeps_rest(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;

    (void)state;
    st = load_static("spec-v2.3/station_information.json",
                     "spec-v2.3/vehicle_types.json", NULL);
    assert_int_equal(
        status_str(
            st,
            STATUS("{\"station_id\":\"a\",\"num_bikes_available\":\"x\"},"
                   "{\"station_id\":\"b\",\"is_renting\":\"yes\"},"
                   "{\"station_id\":\"c\",\"is_installed\":2},"
                   "{\"station_id\":{}},"
                   "{\"station_id\":\"d\","
                   "\"vehicle_types_available\":\"x\"},"
                   "{\"station_id\":\"e\","
                   "\"vehicle_types_available\":[{\"count\":1}]},"
                   "{\"station_id\":\"f\",\"num_docks_available\":-3},"
                   "{\"station_id\":\"g\","
                   "\"num_docks_available\":1000000},"
                   "{\"station_id\":\"h\",\"num_bikes_available\":"
                   "5000000000},"
                   "[],"
                   "{\"station_id\":\"ok\",\"num_bikes_available\":2}"),
            "2.3", &b),
        VELO_OK);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "ok");
    assert_int_equal(b.nrejects, 10);
    assert_string_equal(b.rejects[0].reason,
                        "num_bikes_available: not an integer");
    assert_string_equal(b.rejects[0].station_id, "a");
    assert_string_equal(b.rejects[0].raw,
                        "{\"station_id\":\"a\",\"num_bikes_available\":\"x\"}");
    assert_string_equal(b.rejects[1].reason, "is_renting: not a boolean");
    assert_string_equal(b.rejects[2].reason, "is_installed: not a boolean");
    assert_string_equal(b.rejects[3].reason,
                        "station_id: not a string or integer");
    assert_string_equal(b.rejects[4].reason,
                        "vehicle_types_available: not an array");
    assert_string_equal(b.rejects[5].reason,
                        "vehicle_types_available: malformed entry");
    assert_string_equal(b.rejects[6].reason, "num_docks_available: negative");
    assert_non_null(strstr(b.rejects[7].reason, "above 100000"));
    assert_string_equal(b.rejects[8].reason, "num_bikes_available: too large");
    assert_string_equal(b.rejects[9].reason, "station: not an object");
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_nulls_are_absent_not_zero(void **state)
{
    ingest_gbfs_static              *st;
    struct ingest_batch              b;
    const Velo__V1__StationSnapshot *s;

    (void)state;
    st = load_static("spec-v2.3/station_information.json",
                     "spec-v2.3/vehicle_types.json", NULL);
    assert_int_equal(
        status_str(st,
                   STATUS("{\"station_id\":\"a\",\"num_bikes_available\":null,"
                          "\"num_docks_available\":null,"
                          "\"num_docks_disabled\":null,"
                          "\"is_installed\":null,\"is_renting\":null,"
                          "\"is_returning\":null,"
                          "\"vehicle_types_available\":null}"),
                   "2.3", &b),
        VELO_OK);
    s = &b.items[0];
    assert_false(s->has_bikes_available || s->has_docks_available ||
                 s->has_docks_disabled || s->has_is_installed ||
                 s->has_is_renting || s->has_is_returning || s->has_status ||
                 s->has_mechanical_bikes || s->has_electric_bikes);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_missing_data_or_stations_is_eproto(void **state)
{
    static const char  *bad[] = {"{}",
                                 "[]",
                                 "null",
                                 "{\"data\":[]}",
                                 "{\"data\":{}}",
                                 "{\"data\":{\"stations\":{}}}",
                                 "{\"data\":{\"vehicle_types\":[]}}",
                                 "{\"stations\":[]}"};
    ingest_gbfs_static *st;
    struct ingest_batch b;
    uint32_t            ttl;
    char                err[160];
    size_t              i, n;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = strlen(bad[i]);
        ttl = 77;
        assert_int_equal(status_buf(st, bad[i], n, "2.3", &ctx23, &b, &ttl),
                         VELO_EPROTO);
        assert_int_equal(b.len + b.nrejects, 0);
        assert_int_equal(ttl, 77);
        ingest_batch_fini(&b);
        assert_int_equal(
            ingest_gbfs_info_parse(st, bad[i], n, NULL, err, sizeof(err)),
            VELO_EPROTO);
        if (strstr(bad[i], "vehicle_types") == NULL)
            assert_int_equal(
                ingest_gbfs_vtypes_parse(st, bad[i], n, err, sizeof(err)),
                VELO_EPROTO);
    }
    ingest_gbfs_static_free(st);
}

/* station_information is lenient: a bad field is unknown, an entry with
 * no id is skipped, and the other stations still join. */
/* The literal payloads of the hardening issue: "4\u0000x" must not become
 * station 4, invalid UTF-8 must not be stored, duplicates must not win. */
static void
test_nul_and_bad_utf8_ids_are_rejected_not_cut(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(
        status_str(st,
                   STATUS("{\"station_id\":\"4\",\"num_bikes_available\":1},"
                          "{\"station_id\":\"4\\u0000x\","
                          "\"num_bikes_available\":2},"
                          "{\"station_id\":\"\\u0000\"},"
                          "{\"station_id\":\"a\\\\u0000\"},"
                          "{\"station_id\":\"\xff\xfe\"},"
                          "{\"station_id\":\"\xc3\xa9t\xc3\xa9\"}"),
                   "2.3", &b),
        VELO_OK);
    /* "4", the escaped backslash (a literal \u0000 text, not a NUL) and
     * valid UTF-8 stand; the rest are dead-lettered, not cut. */
    assert_int_equal(b.len, 3);
    assert_string_equal(b.items[0].station_id, "4");
    assert_int_equal(b.items[0].bikes_available, 1);
    assert_string_equal(b.items[1].station_id, "a\\u0000");
    assert_string_equal(b.items[2].station_id, "\xc3\xa9t\xc3\xa9");
    assert_int_equal(b.nrejects, 3);
    assert_string_equal(b.rejects[0].reason,
                        "station_id: contains NUL (U+0000)");
    assert_string_equal(b.rejects[0].station_id, "");
    assert_string_equal(b.rejects[1].reason,
                        "station_id: contains NUL (U+0000)");
    assert_string_equal(b.rejects[2].reason, "station_id: not valid UTF-8");
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_duplicate_ids_are_dead_lettered(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(
        status_str(st,
                   STATUS("{\"station_id\":\"7\",\"num_bikes_available\":1},"
                          "{\"station_id\":\"8\",\"num_bikes_available\":1},"
                          "{\"station_id\":7,\"num_bikes_available\":9},"
                          "{\"station_id\":\"7\",\"num_bikes_available\":5}"),
                   "2.3", &b),
        VELO_OK);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.items[0].station_id, "7");
    assert_int_equal(b.items[0].bikes_available, 1); /* not last-wins */
    assert_int_equal(b.nrejects, 2);
    assert_string_equal(b.rejects[0].reason, "duplicate-id");
    assert_string_equal(b.rejects[0].station_id, "7");
    assert_string_equal(b.rejects[1].reason, "duplicate-id");
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_bad_names_are_repaired_and_counted(void **state)
{
    static const char info[] =
        "{\"data\":{\"stations\":["
        "{\"station_id\":\"a\",\"name\":\"Gare\xff\xfe\","
        "\"address\":\"rue\\u0000x\"},"
        "{\"station_id\":\"b\",\"name\":\"Op\xc3\xa9ra\"}]}}";
    ingest_gbfs_static *st;
    struct ingest_batch b;
    char                err[160];

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(ingest_gbfs_info_parse(st, info, sizeof(info) - 1, NULL,
                                            err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(
        status_str(st, STATUS("{\"station_id\":\"a\"},{\"station_id\":\"b\"}"),
                   "2.3", &b),
        VELO_OK);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.items[0].name, "Gare\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(b.items[0].address, "rue\xef\xbf\xbdx");
    assert_string_equal(b.items[1].name, "Op\xc3\xa9ra");
    assert_int_equal(b.repaired, 2);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_raw_nul_byte_is_malformed(void **state)
{
    static const char   body[] = "{\"data\":{\"stations\":[{\"station_id\":"
                                 "\"4\0x\"}]}}";
    ingest_gbfs_static *st;
    struct ingest_batch b;
    uint32_t            ttl = 0;

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(
        status_buf(st, body, sizeof(body) - 1, "2.3", &ctx23, &b, &ttl),
        VELO_EPROTO);
    assert_int_equal(b.len, 0);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_info_drops_bad_fields_not_stations(void **state)
{
    static const char *info =
        "{\"data\":{\"stations\":[7,{\"name\":\"no id\"},"
        "{\"station_id\":\"a\",\"name\":\"A\",\"lat\":\"x\",\"lon\":1,"
        "\"capacity\":-1},"
        "{\"station_id\":\"b\",\"name\":42,\"lat\":1,\"lon\":2,"
        "\"capacity\":9}]}}";
    ingest_gbfs_static *st;
    struct ingest_batch b;
    char                err[160];

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    assert_int_equal(
        ingest_gbfs_info_parse(st, info, strlen(info), NULL, err, sizeof(err)),
        VELO_OK);
    assert_int_equal(
        status_str(st, STATUS("{\"station_id\":\"a\"},{\"station_id\":\"b\"}"),
                   "2.3", &b),
        VELO_OK);
    assert_string_equal(b.items[0].name, "A");
    assert_false(b.items[0].has_lat);
    assert_true(b.items[0].has_lon);
    assert_false(b.items[0].has_capacity);
    assert_null(b.items[1].name);
    assert_int_equal(b.items[1].capacity, 9);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
}

static void
test_more_stations_than_max_is_etoobig_and_empty(void **state)
{
    ingest_gbfs_static *st;
    struct ingest_batch b;
    uint32_t            ttl = 5;
    char                err[160];
    size_t              len;
    char *body = test_fixture(&len, "gbfs/v1.1-written/station_status.json");

    (void)state;
    assert_int_equal(ingest_gbfs_static_new(&st), VELO_OK);
    ingest_batch_init(&b, 3);
    assert_int_equal(ingest_gbfs_status_parse(st, body, len, NULL, &ctx1, &b,
                                              &ttl, err, sizeof(err)),
                     VELO_ETOOBIG);
    assert_int_equal(b.len + b.nrejects, 0);
    assert_int_equal(ttl, 5);
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(st);
    free(body);
}

/* The static tables and the fixture a variant was made from. */
struct variant_of {
    ingest_gbfs_static *st;
    const char         *rel;
};

/* Parses a cut fixture with the parser of its feed (status for
 * gbfs.json and system_information): it must fail with nothing emitted. */
static void
check_cut(const char *part, size_t cut, const void *arg)
{
    const struct variant_of *v = arg;
    struct ingest_batch      b;
    uint32_t                 ttl;
    char                     err[160];
    int                      rv;

    ingest_batch_init(&b, 10000);
    if (strstr(v->rel, "station_information") != NULL)
        rv = ingest_gbfs_info_parse(v->st, part, cut, NULL, err, sizeof(err));
    else if (strstr(v->rel, "vehicle_types") != NULL)
        rv = ingest_gbfs_vtypes_parse(v->st, part, cut, err, sizeof(err));
    else
        rv = ingest_gbfs_status_parse(v->st, part, cut, "2.3", &ctx23, &b, &ttl,
                                      err, sizeof(err));
    if (rv != VELO_EPROTO)
        fail_msg("%s cut at %zu: rv %d", v->rel, cut, rv);
    assert_int_equal(b.len + b.nrejects, 0);
    ingest_batch_fini(&b);
}

static void
test_truncated_payloads_are_eproto_and_empty(void **state)
{
    static const char  *dirs[] = {"spec-v2.3", "spec-v3.0", "v1.1-written"};
    static const char  *files[] = {"gbfs.json", "system_information.json",
                                   "station_information.json",
                                   "station_status.json", "vehicle_types.json"};
    struct variant_of   v;
    struct ingest_batch b;
    char                rel[128];
    size_t              d, i;

    (void)state;
    v.st = load_static("v1.1-written/station_information.json", NULL, NULL);
    v.rel = rel;
    for (d = 0; d < 3; d++) {
        for (i = 0; i < 4; i++) {
            if (d == 2 && i == 3)
                continue; /* the 1.x feed has no vehicle_types */
            snprintf(rel, sizeof(rel), "gbfs/%s/%s", dirs[d], files[i]);
            test_truncations(rel, 47, check_cut, &v);
        }
    }
    /* Each failed station_information parse kept the previous table. */
    assert_int_equal(
        status_str(v.st, STATUS("{\"station_id\":\"103\"}"), NULL, &b),
        VELO_OK);
    assert_string_equal(b.items[0].name, "Aker brygge");
    ingest_batch_fini(&b);
    ingest_gbfs_static_free(v.st);
}

/* A status payload with flipped bytes, parsed with the static tables
 * loaded: OK (every item valid) or EPROTO (nothing emitted). */
static void
check_flipped(const char *part, size_t len, const void *arg)
{
    const struct variant_of *v = arg;
    struct ingest_batch      b;
    uint32_t                 ttl;

    test_assert_ok_or_empty(status_buf(v->st, part, len, NULL, &ctx1, &b, &ttl),
                            &b);
    ingest_batch_fini(&b);
}

static void
test_flipped_bytes_never_crash(void **state)
{
    struct variant_of v;
    uint32_t          seed;

    (void)state;
    v.st = load_static("v1.1-written/station_information.json",
                       "spec-v3.0/vehicle_types.json", NULL);
    v.rel = "gbfs/v1.1-written/station_status.json";
    seed = 0x9e3779b9u;
    test_flips(v.rel, 1200, &seed, check_flipped, &v);
    v.rel = "gbfs/spec-v2.3/station_status.json";
    seed = 0x2545f491u;
    test_flips(v.rel, 800, &seed, check_flipped, &v);
    ingest_gbfs_static_free(v.st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v23_status_counts_and_split),
        cmocka_unit_test(test_v30_status_counts_split_and_rfc3339_times),
        cmocka_unit_test(test_v30_info_joins_localized_name_and_position),
        cmocka_unit_test(test_localized_name_follows_the_language),
        cmocka_unit_test(test_v1_written_feed_quirks),
        cmocka_unit_test(test_split_needs_vehicle_types_and_known_types),
        cmocka_unit_test(test_both_count_names_prefer_the_feed_version),
        cmocka_unit_test(test_last_reported_forms_and_absurd_values),
        cmocka_unit_test(test_status_follows_the_flags),
        cmocka_unit_test(test_wrong_type_field_rejects_station_keeps_rest),
        cmocka_unit_test(test_nulls_are_absent_not_zero),
        cmocka_unit_test(test_missing_data_or_stations_is_eproto),
        cmocka_unit_test(test_info_drops_bad_fields_not_stations),
        cmocka_unit_test(test_nul_and_bad_utf8_ids_are_rejected_not_cut),
        cmocka_unit_test(test_duplicate_ids_are_dead_lettered),
        cmocka_unit_test(test_bad_names_are_repaired_and_counted),
        cmocka_unit_test(test_raw_nul_byte_is_malformed),
        cmocka_unit_test(test_more_stations_than_max_is_etoobig_and_empty),
        cmocka_unit_test(test_truncated_payloads_are_eproto_and_empty),
        cmocka_unit_test(test_flipped_bytes_never_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
