/* batch_test.c: the batch's bounds and ownership, and the snapshot
 * invariants of ingest_snapshot_validate. Run under ASan: a string the
 * batch forgets to free fails the test. */
#include "test_util.h"

/* A snapshot that passes validation; tests break one field at a time. */
static void
good_snapshot(Velo__V1__StationSnapshot *s)
{
    velo__v1__station_snapshot__init(s);
    s->system_id = "jcdecaux:dublin";
    s->station_id = "42";
    s->has_lat = s->has_lon = 1;
    s->lat = 53.349562;
    s->lon = -6.278198;
    s->has_capacity = s->has_bikes_available = s->has_docks_available = 1;
    s->capacity = 30;
    s->bikes_available = 15;
    s->docks_available = 15;
    s->has_mechanical_bikes = s->has_electric_bikes = 1;
    s->mechanical_bikes = 10;
    s->electric_bikes = 5;
}

static int
validate(const Velo__V1__StationSnapshot *s, char *why)
{
    return ingest_snapshot_validate(s, why, 160);
}

static void
test_add_past_max_is_etoobig(void **state)
{
    struct ingest_batch        b;
    Velo__V1__StationSnapshot *s;

    (void)state;
    ingest_batch_init(&b, 2);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_ETOOBIG);
    assert_int_equal(b.len, 2);
    ingest_batch_fini(&b);
}

static void
test_rejects_count_toward_max(void **state)
{
    struct ingest_batch        b;
    Velo__V1__StationSnapshot *s;

    (void)state;
    ingest_batch_init(&b, 2);
    assert_int_equal(ingest_batch_reject(&b, "{}", 2, "1", "x"), VELO_OK);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    assert_int_equal(ingest_batch_reject(&b, "{}", 2, "2", "y"), VELO_ETOOBIG);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_ETOOBIG);
    assert_int_equal(b.nrejects, 1);
    ingest_batch_fini(&b);
}

static void
test_add_gives_initialised_slots_that_survive_growth(void **state)
{
    struct ingest_batch        b;
    Velo__V1__StationSnapshot *s;
    char                       id[16];
    size_t                     i;

    (void)state;
    ingest_batch_init(&b, 1000);
    for (i = 0; i < 1000; i++) {
        assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
        assert_null(s->station_id);
        assert_false(s->has_bikes_available);
        snprintf(id, sizeof(id), "%zu", i);
        s->station_id = ingest_batch_strdup(&b, id);
    }
    /* Growth moved the array: every item must still hold its own id. */
    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "%zu", i);
        assert_string_equal(b.items[i].station_id, id);
    }
    ingest_batch_fini(&b);
}

static void
test_pop_frees_the_last_item_and_its_strings(void **state)
{
    struct ingest_batch        b;
    Velo__V1__StationSnapshot *s;

    (void)state;
    ingest_batch_init(&b, 4);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    s->station_id = ingest_batch_strdup(&b, "keep");
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    s->station_id = ingest_batch_strdup(&b, "drop");
    s->name = ingest_batch_strdup(&b, "name");
    ingest_batch_pop(&b);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.items[0].station_id, "keep");
    /* The freed slot is reused cleanly. */
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    assert_null(s->name);
    ingest_batch_fini(&b);
}

static void
test_reject_copies_raw_and_bounds_id_and_reason(void **state)
{
    struct ingest_batch b;
    char                raw[] = "{\"number\":1}";
    char                longid[200];

    (void)state;
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    ingest_batch_init(&b, 4);
    assert_int_equal(ingest_batch_reject(&b, raw, strlen(raw), longid,
                                         "available_bikes: negative"),
                     VELO_OK);
    raw[0] = '!'; /* the batch holds its own copy */
    assert_string_equal(b.rejects[0].raw, "{\"number\":1}");
    assert_int_equal(b.rejects[0].len, strlen("{\"number\":1}"));
    assert_int_equal(strlen(b.rejects[0].station_id),
                     sizeof(b.rejects[0].station_id) - 1);
    assert_string_equal(b.rejects[0].reason, "available_bikes: negative");
    assert_int_equal(ingest_batch_reject(&b, NULL, 0, NULL, "no raw"), VELO_OK);
    assert_null(b.rejects[1].raw);
    assert_string_equal(b.rejects[1].station_id, "");
    ingest_batch_fini(&b);
}

static void
test_fini_empties_and_keeps_max(void **state)
{
    struct ingest_batch        b;
    Velo__V1__StationSnapshot *s;

    (void)state;
    ingest_batch_init(&b, 1);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    s->name = ingest_batch_strdup(&b, "x");
    ingest_batch_fini(&b);
    assert_int_equal(b.len, 0);
    assert_null(b.items);
    assert_int_equal(b.max, 1);
    assert_int_equal(ingest_batch_add(&b, &s), VELO_OK);
    ingest_batch_fini(&b);
    ingest_batch_fini(&b); /* twice is harmless */
}

static void
test_strdup_of_null_is_null(void **state)
{
    struct ingest_batch b;

    (void)state;
    ingest_batch_init(&b, 1);
    assert_null(ingest_batch_strdup(&b, NULL));
    ingest_batch_fini(&b);
}

static void
test_validate_accepts_a_complete_snapshot(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160] = "";

    (void)state;
    good_snapshot(&s);
    assert_int_equal(validate(&s, why), VELO_OK);
}

static void
test_validate_accepts_a_snapshot_with_only_ids(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160];

    (void)state;
    velo__v1__station_snapshot__init(&s);
    s.system_id = "gbfs:x";
    s.station_id = "1";
    assert_int_equal(validate(&s, why), VELO_OK);
}

static void
test_validate_rejects_missing_or_empty_ids(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160];

    (void)state;
    good_snapshot(&s);
    s.station_id = NULL;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_string_equal(why, "station_id: missing");
    s.station_id = "";
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    good_snapshot(&s);
    s.system_id = NULL;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_string_equal(why, "system_id: missing");
}

static void
test_validate_checks_position_ranges(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160];

    (void)state;
    good_snapshot(&s);
    s.lat = 90.0;
    s.lon = -180.0;
    assert_int_equal(validate(&s, why), VELO_OK);
    s.lat = 90.0001;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "lat"));
    good_snapshot(&s);
    s.lon = 180.5;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "lon"));
    good_snapshot(&s);
    s.lat = NAN;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    /* Out of range but absent: not checked. */
    good_snapshot(&s);
    s.has_lat = 0;
    s.lat = 1000.0;
    assert_int_equal(validate(&s, why), VELO_OK);
}

static void
test_validate_rejects_null_island(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160];

    (void)state;
    good_snapshot(&s);
    s.lat = 0.0;
    s.lon = 0.0;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "position"));
    s.lon = 0.5; /* only one zero is a real place (Gulf of Guinea) */
    assert_int_equal(validate(&s, why), VELO_OK);
}

static void
test_validate_rejects_counts_above_100000(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160];

    (void)state;
    good_snapshot(&s);
    s.capacity = 100000;
    assert_int_equal(validate(&s, why), VELO_OK);
    s.capacity = 100001;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "capacity"));
    good_snapshot(&s);
    s.has_docks_disabled = 1;
    s.docks_disabled = UINT32_MAX;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "docks_disabled"));
    good_snapshot(&s);
    s.docks_available = 4000000000u;
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "docks_available"));
}

static void
test_validate_rejects_split_above_bikes(void **state)
{
    Velo__V1__StationSnapshot s;
    char                      why[160];

    (void)state;
    good_snapshot(&s);
    s.electric_bikes = 6; /* 10 + 6 > 15 */
    assert_int_equal(validate(&s, why), VELO_EPROTO);
    assert_non_null(strstr(why, "bikes_available"));
    /* Without bikes_available there is nothing to compare against. */
    s.has_bikes_available = 0;
    assert_int_equal(validate(&s, why), VELO_OK);
    /* A split that leaves bikes of no known kind is fine (GBFS types
     * vehicle_types does not name are not counted). */
    good_snapshot(&s);
    s.mechanical_bikes = 3;
    s.electric_bikes = 0;
    assert_int_equal(validate(&s, why), VELO_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_past_max_is_etoobig),
        cmocka_unit_test(test_rejects_count_toward_max),
        cmocka_unit_test(test_add_gives_initialised_slots_that_survive_growth),
        cmocka_unit_test(test_pop_frees_the_last_item_and_its_strings),
        cmocka_unit_test(test_reject_copies_raw_and_bounds_id_and_reason),
        cmocka_unit_test(test_fini_empties_and_keeps_max),
        cmocka_unit_test(test_strdup_of_null_is_null),
        cmocka_unit_test(test_validate_accepts_a_complete_snapshot),
        cmocka_unit_test(test_validate_accepts_a_snapshot_with_only_ids),
        cmocka_unit_test(test_validate_rejects_missing_or_empty_ids),
        cmocka_unit_test(test_validate_checks_position_ranges),
        cmocka_unit_test(test_validate_rejects_null_island),
        cmocka_unit_test(test_validate_rejects_counts_above_100000),
        cmocka_unit_test(test_validate_rejects_split_above_bikes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
