/* events_test.c: Last-Event-ID resume decisions (gw_events_plan): a new
 * client gets live events only; an id still covered by the ring replays
 * what came after it; an id older than the ring, from another run, from
 * the future or malformed gets a snapshot first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "events.h"

#define RUN 1764500000000LL

static void
test_plan_new_client_is_live_only(void **state)
{
    struct gw_resume r = gw_events_plan(NULL, RUN, 5, 20);

    (void)state;
    assert_false(r.snapshot);
    assert_int_equal(r.from_seq, 20);
}

static void
test_plan_resume_inside_ring_replays_after_id(void **state)
{
    struct gw_resume r;

    (void)state;
    r = gw_events_plan("1764500000000-12", RUN, 5, 20);
    assert_false(r.snapshot);
    assert_int_equal(r.from_seq, 12);
    r = gw_events_plan("1764500000000-4", RUN, 5, 20); /* 5.. is kept */
    assert_false(r.snapshot);
    assert_int_equal(r.from_seq, 4);
    r = gw_events_plan("1764500000000-20", RUN, 5, 20); /* up to date */
    assert_false(r.snapshot);
    assert_int_equal(r.from_seq, 20);
    r = gw_events_plan("1764500000000-0", RUN, 0, 0); /* nothing yet */
    assert_false(r.snapshot);
}

static void
test_plan_too_far_behind_or_foreign_gets_snapshot(void **state)
{
    (void)state;
    assert_true(gw_events_plan("1764500000000-3", RUN, 5, 20).snapshot);
    assert_true(gw_events_plan("1764400000000-12", RUN, 5, 20).snapshot);
    assert_true(gw_events_plan("1764500000000-21", RUN, 5, 20).snapshot);
    assert_true(gw_events_plan("garbage", RUN, 5, 20).snapshot);
    assert_true(gw_events_plan("1764500000000-", RUN, 5, 20).snapshot);
    assert_true(gw_events_plan("-5", RUN, 5, 20).snapshot);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_new_client_is_live_only),
        cmocka_unit_test(test_plan_resume_inside_ring_replays_after_id),
        cmocka_unit_test(test_plan_too_far_behind_or_foreign_gets_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
