/* tz_test.c: TZif zones against zdump's answers (Debian tzdata 2025b):
 * daylight-saving days of 23 and 25 hours, both hemispheres, a midnight
 * that does not exist, the footer rule far past the last transition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "velo/tz.h"

#define H (3600 * 1000LL)

static velo_tz *
load(const char *name)
{
    velo_tz *tz = NULL;

    assert_int_equal(velo_tz_load(&tz, name), VELO_OK);
    assert_non_null(tz);
    return tz;
}

static void
assert_day(const velo_tz *tz, int64_t at_ms, int64_t start_s, int64_t end_s,
           const char *date)
{
    int64_t start, end;
    char    d[11];

    velo_tz_day_bounds(tz, at_ms, &start, &end, d);
    assert_int_equal(start, start_s * 1000);
    assert_int_equal(end, end_s * 1000);
    assert_string_equal(d, date);
}

static void
test_civil_days_round_trip(void **state)
{
    int32_t y;
    int     m, d;

    (void)state;
    assert_int_equal(velo_tz_days_from_civil(1970, 1, 1), 0);
    /* date -u -d 2026-03-29 +%s = 1774742400 = 20541 days */
    assert_int_equal(velo_tz_days_from_civil(2026, 3, 29), 20541);
    /* 2026 is not a leap year: February 29 is March 1 (Feb 28 = 20512) */
    assert_int_equal(velo_tz_days_from_civil(2026, 2, 29), 20513);
    assert_int_equal(velo_tz_days_from_civil(2026, 13, 1),
                     velo_tz_days_from_civil(2027, 1, 1));
    assert_int_equal(velo_tz_days_from_civil(1969, 12, 31), -1);
    velo_tz_civil_from_days(20541, &y, &m, &d);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 3);
    assert_int_equal(d, 29);
    velo_tz_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}

/* 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC. The local day
 * runs from 2026-03-28T23:00Z (midnight CET, 1774738800) to
 * 2026-03-29T22:00Z (midnight CEST, 1774821600): 23 hours. */
static void
test_brussels_spring_day_is_23_hours(void **state)
{
    velo_tz             *tz = load("Europe/Brussels");
    struct velo_tz_local l;

    (void)state;
    assert_day(tz, 1774782000000LL, 1774738800, 1774821600, "2026-03-29");
    assert_int_equal((1774821600 - 1774738800) / 3600, 23);
    /* 00:59:59Z is 01:59:59 CET; 01:00:00Z is 03:00:00 CEST */
    velo_tz_local(tz, (1774746000 - 1) * 1000LL, &l);
    assert_int_equal(l.hour, 1);
    assert_int_equal(l.minute, 59);
    assert_int_equal(l.utc_offset_s, 3600);
    assert_int_equal(l.is_dst, 0);
    velo_tz_local(tz, 1774746000 * 1000LL, &l);
    assert_int_equal(l.hour, 3);
    assert_int_equal(l.minute, 0);
    assert_int_equal(l.utc_offset_s, 7200);
    assert_int_equal(l.wday, 0); /* a Sunday */
    assert_int_equal(velo_tz_day_start_ms(tz, 2026, 3, 29),
                     1774738800 * 1000LL);
    velo_tz_free(tz);
}

/* 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC. The day
 * runs from 2026-10-24T22:00Z (1792879200) to 2026-10-25T23:00Z
 * (1792969200): 25 hours. Both 01:30 UTC and 00:30 UTC read 02:30. */
static void
test_brussels_autumn_day_is_25_hours(void **state)
{
    velo_tz             *tz = load("Europe/Brussels");
    struct velo_tz_local a, b;

    (void)state;
    assert_day(tz, 1792879200000LL, 1792879200, 1792969200, "2026-10-25");
    assert_day(tz, 1792969200000LL - 1, 1792879200, 1792969200, "2026-10-25");
    assert_int_equal((1792969200 - 1792879200) / 3600, 25);
    velo_tz_local(tz, 1792879200000LL + 2 * H + H / 2, &a); /* 00:30Z */
    velo_tz_local(tz, 1792879200000LL + 3 * H + H / 2, &b); /* 01:30Z */
    assert_int_equal(a.hour, 2);
    assert_int_equal(b.hour, 2);
    assert_int_equal(a.is_dst, 1);
    assert_int_equal(b.is_dst, 0);
    velo_tz_free(tz);
}

/* New York 2026-03-08 (23 h: 05:00Z to 04:00Z next day) and 2026-11-01
 * (25 h: 04:00Z to 05:00Z next day). */
static void
test_new_york_days(void **state)
{
    velo_tz *tz = load("America/New_York");

    (void)state;
    assert_day(tz, 1772946000000LL + 12 * H, 1772946000, 1773028800,
               "2026-03-08");
    assert_day(tz, 1793505600000LL + 12 * H, 1793505600, 1793595600,
               "2026-11-01");
    assert_int_equal(velo_tz_offset_s(tz, 1793505600000LL), -4 * 3600);
    velo_tz_free(tz);
}

/* Sydney ends daylight saving on 2026-04-05 (03:00 AEDT -> 02:00 AEST at
 * 16:00Z): the day runs from 2026-04-04T13:00Z to 2026-04-05T14:00Z. */
static void
test_sydney_southern_hemisphere(void **state)
{
    velo_tz             *tz = load("Australia/Sydney");
    struct velo_tz_local l;

    (void)state;
    assert_day(tz, 1775307600000LL + H, 1775307600, 1775397600, "2026-04-05");
    /* 2026-01-15T00:00Z (1768435200) is summer: +11, 11:00 local */
    velo_tz_local(tz, 1768435200000LL, &l);
    assert_int_equal(l.utc_offset_s, 11 * 3600);
    assert_int_equal(l.hour, 11);
    assert_int_equal(l.day, 15);
    velo_tz_free(tz);
}

static void
test_utc_days_are_24_hours(void **state)
{
    velo_tz             *tz = load("UTC");
    struct velo_tz_local l;

    (void)state;
    /* 2026-03-29T00:00Z = 1774742400 */
    assert_day(tz, 1774742400000LL + 5, 1774742400, 1774742400 + 86400,
               "2026-03-29");
    velo_tz_local(tz, -1, &l); /* one ms before the epoch */
    assert_int_equal(l.year, 1969);
    assert_int_equal(l.hour, 23);
    assert_int_equal(l.second, 59);
    velo_tz_free(tz);
}

/* Santiago springs forward at local midnight on 2026-09-06 (00:00 -04
 * becomes 01:00 -03 at 04:00Z, 1788667200): the day starts at 01:00 local
 * and ends at midnight -03, 23 hours later. */
static void
test_day_starts_after_a_skipped_midnight(void **state)
{
    velo_tz *tz = load("America/Santiago");

    (void)state;
    assert_day(tz, 1788667200000LL + H, 1788667200, 1788667200 + 23 * 3600,
               "2026-09-06");
    velo_tz_free(tz);
}

/* 2100 is past the last listed transition: the footer rule
 * "CET-1CEST,M3.5.0,M10.5.0/3" rules. 2100-03-28 is the last Sunday of
 * March: 2100-03-27T23:00Z (4109871600) to 2100-03-28T22:00Z. */
static void
test_footer_rule_far_future(void **state)
{
    velo_tz *tz = load("Europe/Brussels");

    (void)state;
    assert_day(tz, 4109871600000LL + H, 4109871600, 4109954400, "2100-03-28");
    velo_tz_free(tz);
}

static void
test_unknown_and_bad_names(void **state)
{
    velo_tz *tz = NULL;

    (void)state;
    assert_int_equal(velo_tz_load(&tz, "Mars/Olympus_Mons"), VELO_ENOTFOUND);
    assert_int_equal(velo_tz_load(&tz, "Europe"), VELO_ENOTFOUND);
    assert_int_equal(velo_tz_load(&tz, "../../etc/passwd"), VELO_EINVAL);
    assert_int_equal(velo_tz_load(&tz, "/etc/localtime"), VELO_EINVAL);
    assert_int_equal(velo_tz_load(&tz, ""), VELO_EINVAL);
    assert_null(tz);
}

/* A file that is not TZif is VELO_EPROTO, not a crash. */
static void
test_not_tzif_is_eproto(void **state)
{
    velo_tz *tz = NULL;

    (void)state;
    assert_int_equal(velo_tz_load(&tz, "zone.tab"), VELO_EPROTO);
    assert_null(tz);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_days_round_trip),
        cmocka_unit_test(test_brussels_spring_day_is_23_hours),
        cmocka_unit_test(test_brussels_autumn_day_is_25_hours),
        cmocka_unit_test(test_new_york_days),
        cmocka_unit_test(test_sydney_southern_hemisphere),
        cmocka_unit_test(test_utc_days_are_24_hours),
        cmocka_unit_test(test_day_starts_after_a_skipped_midnight),
        cmocka_unit_test(test_footer_rule_far_future),
        cmocka_unit_test(test_unknown_and_bad_names),
        cmocka_unit_test(test_not_tzif_is_eproto),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
