/* clock_test.c: RFC 3339 parse/format and the clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "velo/clock.h"

static void
test_clock_format_iso_is_utc_with_millis(void **state)
{
    char buf[32];

    (void)state;
    velo_time_format_iso(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    velo_time_format_iso(1764072000123LL, buf, sizeof(buf));
    assert_string_equal(buf, "2025-11-25T12:00:00.123Z");
    velo_time_format_iso(1709164800000LL, buf, sizeof(buf));
    assert_string_equal(buf, "2024-02-29T00:00:00.000Z");
    assert_int_equal(strlen(buf), 24);
}

static void
test_clock_format_iso_before_epoch_floors(void **state)
{
    char buf[32];

    (void)state;
    velo_time_format_iso(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    velo_time_format_iso(-1000, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.000Z");
}

static void
test_clock_parse_iso_utc_and_offsets(void **state)
{
    int64_t ms = 0;

    (void)state;
    assert_int_equal(velo_time_parse_iso("2019-04-08T12:23:34Z", &ms), VELO_OK);
    assert_int_equal(ms, 1554726214000LL);
    /* +02:00 is two hours ahead of UTC: 10:23:34.5 UTC. */
    assert_int_equal(velo_time_parse_iso("2019-04-08T12:23:34.5+02:00", &ms),
                     VELO_OK);
    assert_int_equal(ms, 1554719014500LL);
    assert_int_equal(velo_time_parse_iso("2019-04-08T07:53:34-04:30", &ms),
                     VELO_OK);
    assert_int_equal(ms, 1554726214000LL);
    assert_int_equal(velo_time_parse_iso("2019-04-08 12:23:34z", &ms), VELO_OK);
    assert_int_equal(ms, 1554726214000LL);
    /* Digits past milliseconds are cut, not rounded. */
    assert_int_equal(velo_time_parse_iso("2019-04-08T12:23:34.123999Z", &ms),
                     VELO_OK);
    assert_int_equal(ms, 1554726214123LL);
}

static void
test_clock_parse_iso_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "2019-04-08",
        "2019-04-08T12:23:34",       /* no zone */
        "2019-04-08T12:23:34+0200",  /* offset without colon */
        "2019-04-08T12:23:34Zjunk",  /* trailing junk */
        "2019-04-08T12:23:34.Z",     /* empty fraction */
        "2019-4-08T12:23:34Z",       /* short month */
        "2019-13-08T12:23:34Z",      /* month 13 */
        "2019-00-08T12:23:34Z",      /* month 0 */
        "2019-04-08T24:00:00Z",      /* hour 24 */
        "2019-04-08T12:60:00Z",      /* minute 60 */
        "2019-04-08X12:23:34Z",      /* bad separator */
        "2019-02-30T00:00:00Z",      /* no such day */
        "2019-02-29T00:00:00Z",      /* not a leap year */
        "2019-04-31T00:00:00Z",      /* April has 30 days */
        "2019-04-08T12:23:34+24:00", /* offset hour 24 */
    };
    int64_t ms = 42;
    size_t  i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (velo_time_parse_iso(bad[i], &ms) != VELO_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(velo_time_parse_iso(NULL, &ms), VELO_EINVAL);
    assert_int_equal(ms, 42);
    /* Real leap days still parse. */
    assert_int_equal(velo_time_parse_iso("2024-02-29T00:00:00Z", &ms), VELO_OK);
    assert_int_equal(velo_time_parse_iso("2000-02-29T00:00:00Z", &ms), VELO_OK);
    assert_int_equal(velo_time_parse_iso("1900-02-29T00:00:00Z", &ms),
                     VELO_EINVAL);
}

static void
test_clock_format_then_parse_round_trips(void **state)
{
    static const int64_t samples[] = {
        0,
        1,
        -1,
        999,
        86399999,
        951782400000LL,   /* 2000-02-29 */
        1554726214123LL,  /* 2019-04-08 */
        4102444799999LL,  /* 2099-12-31T23:59:59.999 */
        -2208988800000LL, /* 1900-01-01 */
    };
    char    buf[32];
    int64_t back;
    size_t  i;

    (void)state;
    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        velo_time_format_iso(samples[i], buf, sizeof(buf));
        assert_int_equal(velo_time_parse_iso(buf, &back), VELO_OK);
        assert_int_equal(back, samples[i]);
    }
}

static void
test_clock_now_and_monotonic_move_forward(void **state)
{
    int64_t m0, m1, n0;

    (void)state;
    n0 = velo_now_ms();
    assert_true(n0 > 1577836800000LL); /* after 2020-01-01 */
    m0 = velo_mono_ms();
    velo_sleep_ms(20);
    m1 = velo_mono_ms();
    assert_true(m1 - m0 >= 20);
    assert_true(velo_mono_ns() >= m1 * 1000000);
    velo_sleep_ms(0);  /* returns at once */
    velo_sleep_ms(-5); /* so does a negative wait */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_format_iso_is_utc_with_millis),
        cmocka_unit_test(test_clock_format_iso_before_epoch_floors),
        cmocka_unit_test(test_clock_parse_iso_utc_and_offsets),
        cmocka_unit_test(test_clock_parse_iso_rejects_malformed),
        cmocka_unit_test(test_clock_format_then_parse_round_trips),
        cmocka_unit_test(test_clock_now_and_monotonic_move_forward),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
