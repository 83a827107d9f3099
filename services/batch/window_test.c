/* window_test.c: hand-computed windows. M = one minute; T0 is
 * 2026-03-29T10:00Z; the arithmetic of each case is in its comment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "window.h"

#define M 60000LL
#define T0 1774778400000LL
#define OPEN 1
#define CLOSED 2

static struct batch_sample
at(int64_t t, uint32_t bikes, uint32_t docks)
{
    return (struct batch_sample){.t_ms = t,
                                 .bikes = bikes,
                                 .docks = docks,
                                 .capacity = bikes + docks,
                                 .status = OPEN};
}

/* Heartbeats every 5 min (hb 5 min) at 7 bikes / 13 docks from T0-5M:
 * 12 samples inside [T0, T0+60M) (T0, T0+5M, ..., T0+55M), each holding
 * exactly 5 min: known 60 min, avg 7 and 13, no flow, reliable. */
static void
test_station_that_never_changes(void **state)
{
    struct batch_sample s[20];
    struct batch_stats  st;
    int                 i;

    (void)state;
    for (i = 0; i < 20; i++)
        s[i] = at(T0 - 5 * M + i * 5 * M, 7, 13);
    assert_true(batch_window_compute(s, 20, T0, T0 + 60 * M, 5 * M, &st));
    assert_int_equal(st.samples, 12);
    assert_int_equal(st.known_ms, 60 * M);
    assert_true(st.bikes_avg == 7.0);
    assert_true(st.docks_avg == 13.0);
    assert_int_equal(st.bikes_min, 7);
    assert_int_equal(st.bikes_max, 7);
    assert_int_equal(st.bikes_in + st.bikes_out, 0);
    assert_int_equal(st.empty_ms + st.full_ms, 0);
    assert_true(st.flow_reliable);
    assert_int_equal(st.status, OPEN);
    assert_int_equal(st.capacity, 20);
    assert_false(st.has_electric);
}

/* With a 2 h heartbeat, one sample at T0-30M (4 bikes) and the next at
 * T0+90M: the state of T0-30M holds until min(T0+90M, T0-30M+120M) =
 * T0+90M, so the hour [T0, T0+60M) is known throughout with no sample in
 * it: samples 0, known 60 min, avg 4, reliable (nothing changed). */
static void
test_hour_without_samples_keeps_carried_state(void **state)
{
    struct batch_sample s[2] = {at(T0 - 30 * M, 4, 6), at(T0 + 90 * M, 5, 5)};
    struct batch_stats  st;

    (void)state;
    assert_true(batch_window_compute(s, 2, T0, T0 + 60 * M, 120 * M, &st));
    assert_int_equal(st.samples, 0);
    assert_int_equal(st.known_ms, 60 * M);
    assert_true(st.bikes_avg == 4.0);
    assert_true(st.flow_reliable);
}

/* hb 30 min. T0-10M 2/18, T0+10M 0/20, T0+25M 0/20, T0+40M 5/15, T0+70M.
 * In [T0, T0+60M): 2 bikes for 10 min (T0..T0+10M), 0 for 15+15 min,
 * 5 for 20 min (T0+40M..T0+60M, clipped).
 * bikes_avg = (10*2 + 30*0 + 20*5) / 60 = 120/60 = 2.0
 * docks_avg = (10*18 + 30*20 + 20*15) / 60 = 1080/60 = 18.0
 * empty 30 min, full 0; out 2 (2->0), in 5 (0->5); 3 samples inside. */
static void
test_station_that_empties_and_refills(void **state)
{
    struct batch_sample s[5] = {at(T0 - 10 * M, 2, 18), at(T0 + 10 * M, 0, 20),
                                at(T0 + 25 * M, 0, 20), at(T0 + 40 * M, 5, 15),
                                at(T0 + 70 * M, 5, 15)};
    struct batch_stats  st;

    (void)state;
    assert_true(batch_window_compute(s, 5, T0, T0 + 60 * M, 30 * M, &st));
    assert_int_equal(st.samples, 3);
    assert_true(st.bikes_avg == 2.0);
    assert_true(st.docks_avg == 18.0);
    assert_int_equal(st.empty_ms, 30 * M);
    assert_int_equal(st.full_ms, 0);
    assert_int_equal(st.bikes_out, 2);
    assert_int_equal(st.bikes_in, 5);
    assert_int_equal(st.bikes_min, 0);
    assert_int_equal(st.bikes_max, 5);
    assert_int_equal(st.docks_min, 15);
    assert_int_equal(st.docks_max, 20);
    assert_true(st.flow_reliable);
}

/* Samples every 20 min (hb 30 min): 3 bikes up to T0+40M, 8 from T0+60M,
 * the hour edge. Hour A [T0, T0+60M): T0, +20M, +40M hold 20 min each at
 * 3 bikes: avg 3, no flow. The 3->8 change happened at T0+60M, so it
 * belongs to hour B [T0+60M, T0+120M): in 5, samples +60M, +80M, +100M,
 * avg 8, known 60 min (the +100M state holds until the +120M sample). */
static void
test_change_exactly_on_the_hour_edge(void **state)
{
    struct batch_sample s[8];
    struct batch_stats  a, b;
    int                 i;

    (void)state;
    for (i = 0; i < 8; i++)
        s[i] = at(T0 - 20 * M + i * 20 * M, i < 4 ? 3 : 8, 10);
    assert_true(batch_window_compute(s, 8, T0, T0 + 60 * M, 30 * M, &a));
    assert_true(
        batch_window_compute(s, 8, T0 + 60 * M, T0 + 120 * M, 30 * M, &b));
    assert_int_equal(a.samples, 3);
    assert_true(a.bikes_avg == 3.0);
    assert_int_equal(a.bikes_in + a.bikes_out, 0);
    assert_int_equal(b.samples, 3);
    assert_true(b.bikes_avg == 8.0);
    assert_int_equal(b.bikes_in, 5);
    assert_int_equal(b.bikes_min, 8); /* the 3 ended exactly at the edge */
    assert_true(a.flow_reliable && b.flow_reliable);
}

/* hb 5 min. T0-1M 4 bikes, T0+4M 4, then silence until T0+30M, then 9
 * bikes every 5 min to T0+60M. Known: T0..T0+4M (4 min) + T0+4M..T0+9M
 * (5 min, the heartbeat ends it) + T0+30M..T0+60M (30 min) = 39 min; the
 * 21 min in between count toward nothing.
 * bikes_avg = (9*4 + 30*9) / 39 = 306/39; the 4->9 change came after a
 * 26 min gap: not counted, flows unreliable. Samples: +4M and 6 from +30M
 * to +55M = 7. */
static void
test_gap_longer_than_heartbeat(void **state)
{
    struct batch_sample s[10];
    struct batch_stats  st;
    int                 i, n = 0;

    (void)state;
    s[n++] = at(T0 - 1 * M, 4, 6);
    s[n++] = at(T0 + 4 * M, 4, 6);
    for (i = 0; i <= 6; i++)
        s[n++] = at(T0 + 30 * M + i * 5 * M, 9, 1);
    assert_true(
        batch_window_compute(s, (size_t)n, T0, T0 + 60 * M, 5 * M, &st));
    assert_int_equal(st.known_ms, 39 * M);
    assert_true(st.bikes_avg == 306.0 / 39.0);
    assert_int_equal(st.samples, 7);
    assert_int_equal(st.bikes_in, 0);
    assert_int_equal(st.bikes_out, 0);
    assert_false(st.flow_reliable);
}

/* A station first seen at T0+45M (6 bikes, 2 e-bikes), heartbeats at
 * +50M, +55M, +60M (hb 5 min): known 15 min, avg 6, electric 2, 3
 * samples; the time before it had no information: unreliable. */
static void
test_station_that_appears_mid_hour(void **state)
{
    struct batch_sample s[4];
    struct batch_stats  st;
    int                 i;

    (void)state;
    for (i = 0; i < 4; i++) {
        s[i] = at(T0 + 45 * M + i * 5 * M, 6, 4);
        s[i].has_electric = true;
        s[i].electric = 2;
    }
    assert_true(batch_window_compute(s, 4, T0, T0 + 60 * M, 5 * M, &st));
    assert_int_equal(st.known_ms, 15 * M);
    assert_int_equal(st.samples, 3);
    assert_true(st.bikes_avg == 6.0);
    assert_true(st.has_electric);
    assert_true(st.electric_avg == 2.0);
    assert_false(st.flow_reliable);
    /* The hour before it: no information, no row. */
    assert_false(batch_window_compute(s, 4, T0 - 60 * M, T0, 5 * M, &st));
}

/* Open 20 min then closed 40 min (hb 30): closed dominates. Docks 0 while
 * open: full 20 min. Capacity is the max (25 then 30). */
static void
test_dominant_status_and_capacity(void **state)
{
    struct batch_sample s[4] = {at(T0, 5, 0), at(T0 + 20 * M, 5, 25),
                                at(T0 + 40 * M, 5, 25), at(T0 + 60 * M, 5, 25)};
    struct batch_stats  st;

    (void)state;
    s[1].status = CLOSED;
    s[2].status = CLOSED;
    assert_true(batch_window_compute(s, 4, T0, T0 + 60 * M, 30 * M, &st));
    assert_int_equal(st.status, CLOSED);
    assert_int_equal(st.full_ms, 20 * M);
    assert_int_equal(st.capacity, 30);
}

/* Brussels 2026-03-29 is 23 h long (tz_test): an empty station with 5 min
 * heartbeats all around it has 23*12 = 276 samples and 1380 minutes
 * empty; 2026-10-25 is 25 h: 300 samples, 1500 minutes. */
static void
test_daylight_saving_days(void **state)
{
    static struct batch_sample s[400];
    struct batch_stats         st;
    int64_t spring = 1774738800000LL, autumn = 1792879200000LL;
    int     i;

    (void)state;
    for (i = 0; i < 400; i++)
        s[i] = at(spring - 60 * M + i * 5 * M, 0, 20);
    assert_true(
        batch_window_compute(s, 400, spring, spring + 23 * 60 * M, 5 * M, &st));
    assert_int_equal(st.samples, 276);
    assert_int_equal(st.empty_ms / M, 1380);
    for (i = 0; i < 400; i++)
        s[i] = at(autumn - 60 * M + i * 5 * M, 0, 20);
    assert_true(
        batch_window_compute(s, 400, autumn, autumn + 25 * 60 * M, 5 * M, &st));
    assert_int_equal(st.samples, 300);
    assert_int_equal(st.empty_ms / M, 1500);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_station_that_never_changes),
        cmocka_unit_test(test_hour_without_samples_keeps_carried_state),
        cmocka_unit_test(test_station_that_empties_and_refills),
        cmocka_unit_test(test_change_exactly_on_the_hour_edge),
        cmocka_unit_test(test_gap_longer_than_heartbeat),
        cmocka_unit_test(test_station_that_appears_mid_hour),
        cmocka_unit_test(test_dominant_status_and_capacity),
        cmocka_unit_test(test_daylight_saving_days),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
