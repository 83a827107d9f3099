/* poll_delay_test.c: waits between polls, and the caps on what a source
 * may ask for (ttl, Retry-After). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "poll_delay.h"

#define HOUR_MS (3600 * 1000LL)

static void
test_ok_waits_interval_or_longer_ttl(void **state)
{
    struct velo_backoff   bo;
    struct ingest_outcome o = {
        .err = VELO_OK, .kind = "ok", .retry_after_ms = -1};
    struct ingest_delay d;

    (void)state;
    velo_backoff_init(&bo, 2000, 300000, 7);
    ingest_poll_delay(&bo, &o, 60000, HOUR_MS, &d);
    assert_int_equal(d.ms, 60000);
    assert_null(d.capped);
    o.ttl_s = 120;
    ingest_poll_delay(&bo, &o, 60000, HOUR_MS, &d);
    assert_int_equal(d.ms, 120000);
    assert_null(d.capped);
}

static void
test_huge_ttl_is_capped(void **state)
{
    struct velo_backoff   bo;
    struct ingest_outcome o = {.err = VELO_OK,
                               .kind = "ok",
                               .retry_after_ms = -1,
                               .ttl_s = 4294967295u};
    struct ingest_delay   d;

    (void)state;
    velo_backoff_init(&bo, 2000, 300000, 7);
    ingest_poll_delay(&bo, &o, 60000, HOUR_MS, &d);
    assert_int_equal(d.ms, HOUR_MS);
    assert_string_equal(d.capped, "ttl");
    assert_int_equal(d.asked_ms, 4294967295000LL);
}

static void
test_huge_retry_after_is_capped(void **state)
{
    struct velo_backoff   bo;
    struct ingest_outcome o = {.err = VELO_EFULL,
                               .kind = "rate_limited",
                               .retry_after_ms = 99999999999LL * 1000};
    struct ingest_delay   d;

    (void)state;
    velo_backoff_init(&bo, 2000, 300000, 7);
    ingest_poll_delay(&bo, &o, 60000, HOUR_MS, &d);
    assert_int_equal(d.ms, HOUR_MS);
    assert_string_equal(d.capped, "retry_after");
    /* A configured smaller cap applies too. */
    ingest_poll_delay(&bo, &o, 60000, 10000, &d);
    assert_true(d.ms <= 300000);
    assert_string_equal(d.capped, "retry_after");
}

static void
test_failures_back_off_and_reset(void **state)
{
    struct velo_backoff   bo;
    struct ingest_outcome bad = {
        .err = VELO_EUNAVAIL, .kind = "server_error", .retry_after_ms = -1};
    struct ingest_outcome ok = {
        .err = VELO_OK, .kind = "ok", .retry_after_ms = -1};
    struct ingest_outcome ra = {
        .err = VELO_EFULL, .kind = "rate_limited", .retry_after_ms = 90000};
    struct ingest_delay d;
    int                 i;

    (void)state;
    velo_backoff_init(&bo, 2000, 300000, 7);
    ingest_poll_delay(&bo, &bad, 60000, HOUR_MS, &d);
    assert_true(d.ms >= 1600 && d.ms < 2400); /* never 0: no tight loop */
    for (i = 0; i < 20; i++)
        ingest_poll_delay(&bo, &bad, 60000, HOUR_MS, &d);
    assert_true(d.ms >= 240000 && d.ms <= 300000);
    ingest_poll_delay(&bo, &ok, 60000, HOUR_MS, &d);
    ingest_poll_delay(&bo, &bad, 60000, HOUR_MS, &d);
    assert_true(d.ms < 2400);
    ingest_poll_delay(&bo, &ra, 60000, HOUR_MS, &d);
    assert_int_equal(d.ms, 90000); /* Retry-After longer than backoff */
    assert_null(d.capped);
}

static void
test_forbidden_waits_longest(void **state)
{
    struct velo_backoff   bo;
    struct ingest_outcome o = {
        .err = VELO_EINVAL, .kind = "forbidden", .retry_after_ms = -1};
    struct ingest_delay d;

    (void)state;
    velo_backoff_init(&bo, 2000, 300000, 7);
    ingest_poll_delay(&bo, &o, 60000, HOUR_MS, &d);
    assert_int_equal(d.ms, 300000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_waits_interval_or_longer_ttl),
        cmocka_unit_test(test_huge_ttl_is_capped),
        cmocka_unit_test(test_huge_retry_after_is_capped),
        cmocka_unit_test(test_failures_back_off_and_reset),
        cmocka_unit_test(test_forbidden_waits_longest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
