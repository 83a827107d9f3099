/* systems_test.c: the SystemInfo map of velib_systems records: latest per
 * system wins, tombstones forget, garbage and oversize records change
 * nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "systems.h"

static size_t
pack(uint8_t *buf, const char *sys, const char *name)
{
    Velo__V1__SystemInfo si = VELO__V1__SYSTEM_INFO__INIT;

    si.system_id = (char *)sys;
    si.name = (char *)name;
    si.timezone = "Europe/Paris";
    si.has_station_count = true;
    si.station_count = 42;
    return velo__v1__system_info__pack(&si, buf);
}

static stream_systems *
make(uint32_t max)
{
    stream_systems *ss = NULL;

    assert_int_equal(
        stream_systems_new(
            &ss, &(struct stream_systems_cfg){.topic = "velib_systems",
                                              .max_record_bytes = max}),
        VELO_OK);
    return ss;
}

static void
test_systems_latest_record_wins(void **state)
{
    stream_systems       *ss = make(0);
    velo_arena           *a = velo_arena_new();
    Velo__V1__SystemInfo *si;
    uint8_t               buf[128];
    size_t                n;
    bool                  oom = false;

    (void)state;
    n = pack(buf, "gbfs:lyon", "Vélo'v");
    assert_int_equal(stream_systems_apply(ss, "gbfs:lyon", 9, buf, n), VELO_OK);
    n = pack(buf, "gbfs:lyon", "Velo'v 2");
    assert_int_equal(stream_systems_apply(ss, "gbfs:lyon", 9, buf, n), VELO_OK);
    assert_int_equal(stream_systems_count(ss), 1);
    si = stream_systems_get(ss, "gbfs:lyon", a, &oom);
    assert_non_null(si);
    assert_string_equal(si->name, "Velo'v 2");
    assert_string_equal(si->timezone, "Europe/Paris");
    assert_true(si->has_station_count);
    assert_int_equal(si->station_count, 42);
    assert_null(stream_systems_get(ss, "gbfs:oslo", a, &oom));
    assert_false(oom);
    velo_arena_free(a);
    stream_systems_free(ss);
}

static void
test_systems_tombstone_forgets(void **state)
{
    stream_systems *ss = make(0);
    uint8_t         buf[128];
    size_t          n;

    (void)state;
    n = pack(buf, "gbfs:lyon", "x");
    assert_int_equal(stream_systems_apply(ss, "gbfs:lyon", 9, buf, n), VELO_OK);
    assert_int_equal(stream_systems_apply(ss, "gbfs:lyon", 9, NULL, 0),
                     VELO_OK);
    assert_int_equal(stream_systems_count(ss), 0);
    stream_systems_free(ss);
}

static void
test_systems_garbage_and_oversize_change_nothing(void **state)
{
    stream_systems *ss = make(64);
    uint8_t         buf[128];
    size_t          n;

    (void)state;
    assert_int_equal(stream_systems_apply(ss, "k", 1, "\xff\xff\xff", 3),
                     VELO_EPROTO);
    n = pack(
        buf, "gbfs:lyon",
        "a name long enough to pass the sixty-four bytes that this map allows");
    assert_int_equal(stream_systems_apply(ss, "gbfs:lyon", 9, buf, n),
                     VELO_ETOOBIG);
    n = pack(buf, "", "x"); /* no system_id */
    assert_int_equal(stream_systems_apply(ss, "k", 1, buf, n), VELO_EPROTO);
    assert_int_equal(stream_systems_count(ss), 0);
    stream_systems_free(ss);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_systems_latest_record_wins),
        cmocka_unit_test(test_systems_tombstone_forgets),
        cmocka_unit_test(test_systems_garbage_and_oversize_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
