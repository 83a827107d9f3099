/* backoff_test.c: waits grow, jitter stays in bounds, the cap holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "velo/backoff.h"

static void
test_backoff_doubles_within_jitter(void **state)
{
    struct velo_backoff b;
    int64_t             want = 100, d;
    int                 i;

    (void)state;
    velo_backoff_init(&b, 100, 1000000, 42);
    for (i = 0; i < 6; i++, want *= 2) {
        d = velo_backoff_next(&b);
        assert_true(d >= want * 8 / 10);
        assert_true(d < want * 12 / 10);
    }
}

static void
test_backoff_never_passes_max(void **state)
{
    struct velo_backoff b;
    int                 i;

    (void)state;
    velo_backoff_init(&b, 1000, 60000, 7);
    for (i = 0; i < 200; i++)
        assert_true(velo_backoff_next(&b) <= 60000);
    assert_true(velo_backoff_next(&b) >= 48000);
}

static void
test_backoff_reset_starts_over(void **state)
{
    struct velo_backoff b;
    int                 i;

    (void)state;
    velo_backoff_init(&b, 100, 60000, 3);
    for (i = 0; i < 10; i++)
        (void)velo_backoff_next(&b);
    velo_backoff_reset(&b);
    assert_true(velo_backoff_next(&b) < 120);
}

static void
test_backoff_clamp_caps_absurd_waits(void **state)
{
    bool capped = false;

    (void)state;
    assert_int_equal(velo_backoff_clamp(99999999999000LL, 3600000, &capped),
                     3600000);
    assert_true(capped);
    assert_int_equal(velo_backoff_clamp(5000, 3600000, &capped), 5000);
    assert_false(capped);
    assert_int_equal(velo_backoff_clamp(-5, 3600000, NULL), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_within_jitter),
        cmocka_unit_test(test_backoff_never_passes_max),
        cmocka_unit_test(test_backoff_reset_starts_over),
        cmocka_unit_test(test_backoff_clamp_caps_absurd_waits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
