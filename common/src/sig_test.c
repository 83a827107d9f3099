/* sig_test.c: velo_sig_wake ends a velo_sig_wait early, with 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include "velo/clock.h"
#include "velo/sig.h"

static void *
waker(void *arg)
{
    (void)arg;
    velo_sleep_ms(50);
    velo_sig_wake();
    return NULL;
}

static void
test_wake_ends_the_wait(void **state)
{
    pthread_t t;
    int64_t   t0;

    (void)state;
    assert_int_equal(velo_sig_block(), VELO_OK);
    assert_int_equal(velo_sig_wait(10), 0); /* a plain timeout */
    t0 = velo_mono_ms();
    assert_int_equal(pthread_create(&t, NULL, waker, NULL), 0);
    assert_int_equal(velo_sig_wait(10000), 0);
    assert_true(velo_mono_ms() - t0 < 5000); /* woken, not timed out */
    pthread_join(t, NULL);
    /* A wake before the wait is not lost: the signal stays pending. */
    velo_sig_wake();
    t0 = velo_mono_ms();
    assert_int_equal(velo_sig_wait(10000), 0);
    assert_true(velo_mono_ms() - t0 < 5000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wake_ends_the_wait),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
