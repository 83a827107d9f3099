/* cdc_test.c: change capture decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "cdc.h"

static Velo__V1__StationSnapshot
station(uint32_t bikes)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;

    s.system_id = "x:y";
    s.station_id = "42";
    s.has_bikes_available = 1;
    s.bikes_available = bikes;
    return s;
}

static void
test_cdc_unseen_station_is_due(void **state)
{
    ingest_cdc               *c;
    Velo__V1__StationSnapshot s = station(3);

    (void)state;
    assert_int_equal(ingest_cdc_new(&c, 300000), VELO_OK);
    assert_true(ingest_cdc_due(c, "x:y/42", ingest_cdc_hash(&s), 1000, 0));
    ingest_cdc_free(c);
}

static void
test_cdc_unchanged_is_suppressed_until_heartbeat(void **state)
{
    ingest_cdc               *c;
    Velo__V1__StationSnapshot s = station(3);
    uint64_t                  h = ingest_cdc_hash(&s);

    (void)state;
    assert_int_equal(ingest_cdc_new(&c, 300000), VELO_OK);
    assert_int_equal(ingest_cdc_mark(c, "x:y/42", h, 1000), VELO_OK);
    assert_false(ingest_cdc_due(c, "x:y/42", h, 1000 + 299999, 0));
    assert_true(ingest_cdc_due(c, "x:y/42", h, 1000 + 300000, 0));
    /* With a 60 s poll interval as slack, 240 s is already due. */
    assert_true(ingest_cdc_due(c, "x:y/42", h, 1000 + 240000, 60000));
    ingest_cdc_free(c);
}

static void
test_cdc_hash_ignores_times_but_not_counts(void **state)
{
    Velo__V1__StationSnapshot a = station(3), b = station(3), d = station(4);

    (void)state;
    b.has_fetched_at_ms = 1;
    b.fetched_at_ms = 123;
    b.has_last_reported_ms = 1;
    b.last_reported_ms = 456;
    assert_int_equal(ingest_cdc_hash(&a), ingest_cdc_hash(&b));
    assert_int_not_equal(ingest_cdc_hash(&a), ingest_cdc_hash(&d));
    /* Absent is not zero. */
    d = station(0);
    a.has_bikes_available = 0;
    assert_int_not_equal(ingest_cdc_hash(&a), ingest_cdc_hash(&d));
}

static void
test_cdc_forget_makes_due_and_table_grows(void **state)
{
    ingest_cdc *c;
    char        key[32];
    int         i;

    (void)state;
    assert_int_equal(ingest_cdc_new(&c, 300000), VELO_OK);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "s/%d", i);
        assert_int_equal(ingest_cdc_mark(c, key, (uint64_t)i, 0), VELO_OK);
    }
    assert_int_equal(ingest_cdc_size(c), 5000);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "s/%d", i);
        assert_false(ingest_cdc_due(c, key, (uint64_t)i, 10, 0));
    }
    ingest_cdc_forget(c, "s/17");
    assert_true(ingest_cdc_due(c, "s/17", 17, 10, 0));
    assert_false(ingest_cdc_due(c, "s/18", 18, 10, 0));
    assert_int_equal(ingest_cdc_size(c), 4999);
    assert_int_equal(ingest_cdc_mark(c, "s/17", 17, 10), VELO_OK);
    assert_int_equal(ingest_cdc_size(c), 5000);
    ingest_cdc_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cdc_unseen_station_is_due),
        cmocka_unit_test(test_cdc_unchanged_is_suppressed_until_heartbeat),
        cmocka_unit_test(test_cdc_hash_ignores_times_but_not_counts),
        cmocka_unit_test(test_cdc_forget_makes_due_and_table_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
