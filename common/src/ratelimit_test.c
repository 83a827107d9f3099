/* ratelimit_test.c: burst, refill, Retry-After, per-key buckets, a full
 * table forgets the least recent client, never grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "velo/ratelimit.h"

static velo_ratelimit *
rl_make(double rate, uint32_t burst, uint32_t max)
{
    velo_ratelimit *rl = NULL;

    assert_int_equal(
        velo_ratelimit_new(&rl, &(struct velo_ratelimit_cfg){rate, burst, max}),
        VELO_OK);
    return rl;
}

static void
test_ratelimit_burst_then_refused_with_retry_after(void **state)
{
    velo_ratelimit *rl = rl_make(0.5, 3, 16); /* one token per 2 s */
    uint32_t        ra = 0;
    int             i;

    (void)state;
    for (i = 0; i < 3; i++)
        assert_true(velo_ratelimit_take(rl, "10.0.0.1", 1000, &ra));
    assert_false(velo_ratelimit_take(rl, "10.0.0.1", 1000, &ra));
    assert_int_equal(ra, 2);
    /* 2 s later one token is back, then none. */
    assert_true(velo_ratelimit_take(rl, "10.0.0.1", 3000, &ra));
    assert_false(velo_ratelimit_take(rl, "10.0.0.1", 3000, &ra));
    velo_ratelimit_free(rl);
}

static void
test_ratelimit_refill_caps_at_burst(void **state)
{
    velo_ratelimit *rl = rl_make(100, 2, 16);
    uint32_t        ra = 0;

    (void)state;
    assert_true(velo_ratelimit_take(rl, "a", 0, &ra));
    assert_true(velo_ratelimit_take(rl, "a", 0, &ra));
    /* An hour idle still gives only the burst. */
    assert_true(velo_ratelimit_take(rl, "a", 3600000, &ra));
    assert_true(velo_ratelimit_take(rl, "a", 3600000, &ra));
    assert_false(velo_ratelimit_take(rl, "a", 3600000, &ra));
    assert_int_equal(ra, 1); /* 10 ms away: at least 1 s */
    velo_ratelimit_free(rl);
}

static void
test_ratelimit_clients_have_their_own_buckets(void **state)
{
    velo_ratelimit *rl = rl_make(1, 1, 16);
    uint32_t        ra = 0;

    (void)state;
    assert_true(velo_ratelimit_take(rl, "a", 0, &ra));
    assert_false(velo_ratelimit_take(rl, "a", 0, &ra));
    assert_true(velo_ratelimit_take(rl, "b", 0, &ra));
    velo_ratelimit_free(rl);
}

static void
test_ratelimit_many_clients_stay_bounded(void **state)
{
    velo_ratelimit *rl = rl_make(1, 1, 8);
    uint32_t        ra = 0;
    char            key[32];
    int             i;

    (void)state;
    /* 10,000 addresses in 8 slots: each new one is admitted (the least
     * recent is forgotten), nothing grows, nothing crashes. */
    for (i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "10.%d.%d.1", i / 256, i % 256);
        assert_true(velo_ratelimit_take(rl, key, i, &ra));
    }
    velo_ratelimit_free(rl);
}

static void
test_ratelimit_bad_cfg_is_einval(void **state)
{
    velo_ratelimit *rl = NULL;

    (void)state;
    assert_int_equal(
        velo_ratelimit_new(&rl, &(struct velo_ratelimit_cfg){0, 1, 0}),
        VELO_EINVAL);
    assert_int_equal(
        velo_ratelimit_new(&rl, &(struct velo_ratelimit_cfg){1, 0, 0}),
        VELO_EINVAL);
    assert_null(rl);
    velo_ratelimit_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_burst_then_refused_with_retry_after),
        cmocka_unit_test(test_ratelimit_refill_caps_at_burst),
        cmocka_unit_test(test_ratelimit_clients_have_their_own_buckets),
        cmocka_unit_test(test_ratelimit_many_clients_stay_bounded),
        cmocka_unit_test(test_ratelimit_bad_cfg_is_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
