/* cron_test.c: parsing and next fire times (UTC), checked by hand.
 * D = 2026-03-29T00:00Z = 1774742400000, a Sunday. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cron.h"

#define MIN 60000LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define D 1774742400000LL

static int64_t
next(const char *spec, int64_t after)
{
    struct batch_cron c;

    assert_int_equal(batch_cron_parse(&c, spec), VELO_OK);
    return batch_cron_next(&c, after);
}

static void
test_daily_at_five(void **state)
{
    (void)state;
    /* before 05:00: today; at 05:00 exactly: tomorrow (strictly after) */
    assert_int_equal(next("0 5 * * *", D + 4 * HOUR), D + 5 * HOUR);
    assert_int_equal(next("0 5 * * *", D + 5 * HOUR), D + DAY + 5 * HOUR);
    assert_int_equal(next("0 5 * * *", D + 5 * HOUR + 1), D + DAY + 5 * HOUR);
}

static void
test_steps_ranges_and_lists(void **state)
{
    (void)state;
    /* 00:07 -> 00:15 */
    assert_int_equal(next("*/15 * * * *", D + 7 * MIN), D + 15 * MIN);
    /* 10-12/2 = 10 and 12; at 10:30 the next is 12:00 */
    assert_int_equal(next("0 10-12/2 * * *", D + 10 * HOUR + 30 * MIN),
                     D + 12 * HOUR);
    /* 5,35: at 00:06 the next is 00:35 */
    assert_int_equal(next("5,35 * * * *", D + 6 * MIN), D + 35 * MIN);
}

static void
test_day_fields(void **state)
{
    (void)state;
    /* Monday only (D is Sunday): the next day. 7 is Sunday too. */
    assert_int_equal(next("0 0 * * 1", D), D + DAY);
    assert_int_equal(next("0 0 * * 7", D - 1), D);
    /* both day fields restricted: the 1st OR a Monday; D+1 is Monday 30 */
    assert_int_equal(next("0 0 1 * 1", D), D + DAY);
    /* April 1st, from March 29: 3 days */
    assert_int_equal(next("0 0 1 4 *", D), D + 3 * DAY);
    /* Feb 29 comes in 2028: 2028-02-29T00:00Z = 1835395200000 */
    assert_int_equal(next("0 0 29 2 *", D), 1835395200000LL);
    /* never */
    assert_int_equal(next("0 0 31 2 *", D), -1);
}

static void
test_bad_specs_are_einval(void **state)
{
    static const char *bad[] = {
        "",          "* * * *",     "* * * * * *", "60 * * * *",  "* 24 * * *",
        "* * 0 * *", "* * * 13 *",  "* * * * 8",   "*/0 * * * *", "5-1 * * * *",
        "a * * * *", "1,,2 * * * *"};
    struct batch_cron c;
    size_t            i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(batch_cron_parse(&c, bad[i]), VELO_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily_at_five),
        cmocka_unit_test(test_steps_ranges_and_lists),
        cmocka_unit_test(test_day_fields),
        cmocka_unit_test(test_bad_specs_are_einval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
