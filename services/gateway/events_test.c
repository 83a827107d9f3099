/* events_test.c: Last-Event-ID resume decisions (gw_events_plan): a new
 * client gets live events only; an id still covered by the ring replays
 * what came after it; an id older than the ring, from another run, from
 * the future or malformed gets a snapshot first; so does an id from before
 * a gap (gw_events_oldest). */
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

/* A gap (the PUB source moved, events may be lost): an id from before it
 * gets a snapshot, the gap's own id (its snapshot event) and later ones
 * replay as usual. */
static void
test_plan_after_a_gap(void **state)
{
    uint64_t o;

    (void)state;
    assert_int_equal(gw_events_oldest(0, 16, 0), 0);
    assert_int_equal(gw_events_oldest(3, 16, 0), 1);
    assert_int_equal(gw_events_oldest(20, 16, 0), 5);
    o = gw_events_oldest(21, 16, 21); /* 20 events, then the gap */
    assert_int_equal(o, 22);
    assert_true(gw_events_plan("1764500000000-20", RUN, o, 21).snapshot);
    assert_false(gw_events_plan("1764500000000-21", RUN, o, 21).snapshot);
    o = gw_events_oldest(24, 16, 21); /* three more */
    assert_true(gw_events_plan("1764500000000-19", RUN, o, 24).snapshot);
    assert_true(gw_events_plan("1764500000000-20", RUN, o, 24).snapshot);
    assert_false(gw_events_plan("1764500000000-21", RUN, o, 24).snapshot);
    assert_int_equal(gw_events_plan("1764500000000-21", RUN, o, 24).from_seq,
                     21);
    assert_int_equal(gw_events_oldest(60, 16, 21), 45); /* the ring's own */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_new_client_is_live_only),
        cmocka_unit_test(test_plan_resume_inside_ring_replays_after_id),
        cmocka_unit_test(test_plan_too_far_behind_or_foreign_gets_snapshot),
        cmocka_unit_test(test_plan_after_a_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
