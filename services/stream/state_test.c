/* state_test.c: the live state without Kafka or sockets: apply rules,
 * derived values (age, stale, stuck, trend), order and summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state.h"
#include "test_util.h"

#define MIN_MS (60 * 1000)
#define HOUR_MS (60 * MIN_MS)
#define T0 1700000000000LL /* an arbitrary wall-clock ms */

static const struct stream_state_cfg cfg = {
    .stale_ms = 15 * MIN_MS,
    .stuck_ms = 6 * HOUR_MS,
    .trend_ms = 15 * MIN_MS,
};

static int
setup(void **state)
{
    stream_state *st = NULL;

    assert_int_equal(stream_state_new(&st, &cfg), VELO_OK);
    *state = st;
    return 0;
}

static int
teardown(void **state)
{
    stream_state_free(*state);
    return 0;
}

/* Applies tmpl at now; returns what happened. */
static enum stream_apply
apply(stream_state *st, const Velo__V1__StationSnapshot *tmpl, int64_t now)
{
    const struct stream_entry *e = NULL;
    enum stream_apply          res;

    assert_int_equal(stream_state_apply(st, t_heap(tmpl), now, &res, &e),
                     VELO_OK);
    if (res == STREAM_APPLY_OLDER)
        assert_null(e);
    else
        assert_non_null(e);
    return res;
}

static Velo__V1__StationState
derive(stream_state *st, const char *sys, const char *id, int64_t now)
{
    Velo__V1__StationState     out = VELO__V1__STATION_STATE__INIT;
    const struct stream_entry *e = stream_state_find(st, sys, id);

    assert_non_null(e);
    stream_state_derive(st, e, now, &out);
    return out;
}

static void
test_apply_new_then_find(void **state)
{
    stream_state              *st = *state;
    Velo__V1__StationSnapshot  s = t_snap("jcdecaux:dublin", "42", 3, 7, T0);
    const struct stream_entry *e;

    assert_int_equal(apply(st, &s, T0), STREAM_APPLY_NEW);
    assert_int_equal(stream_state_count(st), 1);
    e = stream_state_find(st, "jcdecaux:dublin", "42");
    assert_non_null(e);
    assert_string_equal(e->key, "jcdecaux:dublin/42");
    assert_int_equal(e->snap->bikes_available, 3);
    assert_int_equal(e->applied_at_ms, T0);
    assert_null(stream_state_find(st, "jcdecaux:dublin", "43"));
    assert_null(stream_state_find(st, "jcdecaux:dubli", "42"));
    assert_null(stream_state_find(st, NULL, "42"));
}

static void
test_older_snapshot_is_ignored(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 5, 5, T0 + 2000);

    assert_int_equal(apply(st, &s, T0), STREAM_APPLY_NEW);
    s = t_snap("x", "1", 9, 1, T0 + 1000); /* a replay from before */
    assert_int_equal(apply(st, &s, T0 + 10), STREAM_APPLY_OLDER);
    assert_int_equal(stream_state_find(st, "x", "1")->snap->bikes_available, 5);
    assert_int_equal(stream_state_find(st, "x", "1")->snap->fetched_at_ms,
                     T0 + 2000);
    s = t_snap("x", "1", 9, 1, T0 + 3000);
    assert_int_equal(apply(st, &s, T0 + 20), STREAM_APPLY_CHANGED);
    assert_int_equal(stream_state_find(st, "x", "1")->snap->bikes_available, 9);
}

static void
test_same_and_changed_and_changed_at(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 5, 5, T0);

    assert_int_equal(apply(st, &s, T0), STREAM_APPLY_NEW);
    s = t_snap("x", "1", 5, 5, T0 + MIN_MS); /* heartbeat */
    assert_int_equal(apply(st, &s, T0 + MIN_MS), STREAM_APPLY_SAME);
    assert_int_equal(derive(st, "x", "1", T0 + MIN_MS).changed_at_ms, T0);
    assert_int_equal(derive(st, "x", "1", T0 + MIN_MS).applied_at_ms,
                     T0 + MIN_MS);
    s = t_snap("x", "1", 5, 4, T0 + 2 * MIN_MS); /* docks only */
    assert_int_equal(apply(st, &s, T0 + 2 * MIN_MS), STREAM_APPLY_CHANGED);
    assert_int_equal(derive(st, "x", "1", T0).changed_at_ms, T0 + 2 * MIN_MS);
    s.status = T_CLOSED;
    s.fetched_at_ms = T0 + 3 * MIN_MS;
    assert_int_equal(apply(st, &s, T0 + 3 * MIN_MS), STREAM_APPLY_CHANGED);
    /* A status change is published but is not a bikes/docks change. */
    assert_int_equal(derive(st, "x", "1", T0).changed_at_ms, T0 + 2 * MIN_MS);
}

static void
test_trend_compares_with_15_minutes_ago(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 5, 5, T0);
    Velo__V1__StationState    out;

    apply(st, &s, T0);
    s = t_snap("x", "1", 8, 2, T0 + 5 * MIN_MS);
    apply(st, &s, T0 + 5 * MIN_MS);
    /* 10 minutes in: no history that old, so no trend. */
    out = derive(st, "x", "1", T0 + 10 * MIN_MS);
    assert_false(out.has_trend_15m);
    /* 16 minutes in: 15 minutes ago it had 5, now 8. */
    out = derive(st, "x", "1", T0 + 16 * MIN_MS);
    assert_true(out.has_trend_15m);
    assert_int_equal(out.trend_15m, 3);
    s = t_snap("x", "1", 3, 7, T0 + 20 * MIN_MS);
    apply(st, &s, T0 + 20 * MIN_MS);
    /* 21 minutes in: 15 minutes ago (6 min) it had 8, now 3. */
    out = derive(st, "x", "1", T0 + 21 * MIN_MS);
    assert_true(out.has_trend_15m);
    assert_int_equal(out.trend_15m, -5);
    /* An hour later with no change: flat. */
    out = derive(st, "x", "1", T0 + 80 * MIN_MS);
    assert_int_equal(out.trend_15m, 0);
}

static void
test_trend_survives_many_changes(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s;
    Velo__V1__StationState    out;
    int                       i;

    /* A change every 10 s for 20 minutes overflows the ring; the answer
     * is then either absent or right, never made up. */
    for (i = 0; i < 120; i++) {
        s = t_snap("x", "1", (uint32_t)(i % 7), 10, T0 + i * 10000);
        apply(st, &s, T0 + i * 10000);
    }
    out = derive(st, "x", "1", T0 + 119 * 10000);
    if (out.has_trend_15m)
        assert_int_equal(out.trend_15m, (int)(119 % 7) - (int)(29 % 7));
    s = t_snap("x", "1", 4, 10, T0 + 40 * MIN_MS);
    apply(st, &s, T0 + 40 * MIN_MS);
    out = derive(st, "x", "1", T0 + 56 * MIN_MS);
    assert_true(out.has_trend_15m);
    assert_int_equal(out.trend_15m, 0);
}

static void
test_no_trend_without_bikes(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 5, 5, T0);

    s.has_bikes_available = false;
    apply(st, &s, T0);
    s.fetched_at_ms = T0 + 20 * MIN_MS;
    apply(st, &s, T0 + 20 * MIN_MS);
    assert_false(derive(st, "x", "1", T0 + 20 * MIN_MS).has_trend_15m);
}

static void
test_age_and_stale(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 5, 5, T0);
    Velo__V1__StationState    out;

    s.last_reported_ms = T0 - 100 * 1000; /* the source's own time */
    apply(st, &s, T0);
    out = derive(st, "x", "1", T0);
    assert_true(out.has_age_s);
    assert_int_equal(out.age_s, 100);
    assert_false(out.stale);
    out = derive(st, "x", "1", T0 - 100 * 1000 + 15 * MIN_MS + 1000);
    assert_true(out.stale);
    /* No last_reported: age counts from fetched_at. */
    s = t_snap("x", "2", 5, 5, T0);
    s.last_reported_ms = 0;
    apply(st, &s, T0);
    assert_int_equal(derive(st, "x", "2", T0 + 42000).age_s, 42);
    assert_false(derive(st, "x", "2", T0 + 15 * MIN_MS).stale);
    assert_true(derive(st, "x", "2", T0 + 15 * MIN_MS + 1).stale);
    /* A clock running behind never gives a negative age. */
    assert_int_equal(derive(st, "x", "2", T0 - 5000).age_s, 0);
}

/* Heartbeats with fresh report times and the same bikes until `until`. */
static void
heartbeats(stream_state *st, Velo__V1__StationSnapshot s, int64_t until)
{
    int64_t t;

    for (t = s.fetched_at_ms + 30 * MIN_MS; t <= until; t += 30 * MIN_MS) {
        s.fetched_at_ms = s.last_reported_ms = t;
        apply(st, &s, t);
    }
}

static void
test_stuck_needs_open_renting_fresh_and_unchanged(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 4, 6, T0);
    int64_t                   t7 = T0 + 7 * HOUR_MS;

    apply(st, &s, T0);
    heartbeats(st, s, t7);
    assert_false(derive(st, "x", "1", T0 + 5 * HOUR_MS).stuck);
    assert_true(derive(st, "x", "1", t7).stuck);
    /* Stale data: we cannot tell, so not stuck. */
    assert_false(derive(st, "x", "1", t7 + HOUR_MS).stuck);

    s = t_snap("x", "2", 4, 6, T0); /* closed: not expected to move */
    s.status = T_CLOSED;
    apply(st, &s, T0);
    heartbeats(st, s, t7);
    assert_false(derive(st, "x", "2", t7).stuck);

    s = t_snap("x", "3", 4, 6, T0); /* not renting */
    s.is_renting = false;
    apply(st, &s, T0);
    heartbeats(st, s, t7);
    assert_false(derive(st, "x", "3", t7).stuck);

    s = t_snap("x", "4", 4, 6, T0); /* bikes moved 3 h in */
    apply(st, &s, T0);
    s.bikes_available = 5;
    s.fetched_at_ms = s.last_reported_ms = T0 + 3 * HOUR_MS;
    apply(st, &s, T0 + 3 * HOUR_MS);
    heartbeats(st, s, t7);
    assert_false(derive(st, "x", "4", t7).stuck);
}

static void
test_bad_ids_are_refused(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s = t_snap("x", "1", 1, 1, T0);
    enum stream_apply         res;

    s.station_id = NULL;
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL),
                     VELO_EINVAL);
    s = t_snap("a/b", "1", 1, 1, T0); /* "a/b/1" would be ambiguous */
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL),
                     VELO_EINVAL);
    s = t_snap("", "1", 1, 1, T0);
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL),
                     VELO_EINVAL);
    assert_int_equal(stream_state_count(st), 0);
}

static void
test_key_cmp_is_numeric_aware_and_total(void **state)
{
    (void)state;
    assert_true(stream_key_cmp("a", "2", "a", "10") < 0);
    assert_true(stream_key_cmp("a", "10", "a", "2") > 0);
    assert_true(stream_key_cmp("a", "st2x", "a", "st10x") < 0);
    assert_true(stream_key_cmp("a", "b", "a", "a") > 0);
    assert_true(stream_key_cmp("a", "1", "a", "1a") < 0);
    assert_true(stream_key_cmp("a", "99", "b", "1") < 0);
    assert_true(stream_key_cmp("sys2", "9", "sys10", "1") < 0);
    /* Equal numbers, different text: still ordered, both ways. */
    assert_true(stream_key_cmp("a", "01", "a", "1") != 0);
    assert_true((stream_key_cmp("a", "01", "a", "1") < 0) ==
                (stream_key_cmp("a", "1", "a", "01") > 0));
    assert_int_equal(stream_key_cmp("a", "12", "a", "12"), 0);
}

static void
test_index_is_sorted_and_map_grows(void **state)
{
    stream_state              *st = *state;
    Velo__V1__StationSnapshot  s;
    char                       id[16];
    size_t                     i;
    const struct stream_entry *prev, *cur;

    /* 1000 stations in a scrambled order over two systems. */
    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "%zu", (i * 7919) % 1000);
        s = t_snap(i % 2 ? "b" : "a", id, 1, 1, T0);
        apply(st, &s, T0);
    }
    assert_int_equal(stream_state_count(st), 1000);
    for (i = 1; i < 1000; i++) {
        prev = stream_state_at(st, i - 1);
        cur = stream_state_at(st, i);
        assert_true(stream_key_cmp(prev->snap->system_id,
                                   prev->snap->station_id, cur->snap->system_id,
                                   cur->snap->station_id) < 0);
    }
    assert_string_equal(stream_state_at(st, 0)->key, "a/0");
    assert_null(stream_state_at(st, 1000));
    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "%zu", (i * 7919) % 1000);
        assert_non_null(stream_state_find(st, i % 2 ? "b" : "a", id));
    }
}

struct sums {
    struct stream_system sys[4];
    char                 ids[4][32], fmt[4][32];
    int                  n;
};

static void
collect(void *ctx, const struct stream_system *sys)
{
    struct sums *s = ctx;

    assert_true(s->n < 4);
    s->sys[s->n] = *sys;
    /* Borrowed strings: copy them, as a handler would. */
    snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", sys->system_id);
    snprintf(s->fmt[s->n], sizeof(s->fmt[0]), "%s",
             sys->source_format ? sys->source_format : "-");
    s->n++;
}

static void
test_system_summaries(void **state)
{
    stream_state             *st = *state;
    Velo__V1__StationSnapshot s;
    struct sums               got = {0};

    s = t_snap("gbfs:oslo", "1", 3, 7, T0);
    s.source_format = (char *)"gbfs-2.3";
    apply(st, &s, T0);
    s = t_snap("gbfs:oslo", "2", 4, 1, T0 + 500);
    s.source_format = (char *)"gbfs-3.0";
    apply(st, &s, T0);
    s = t_snap("demo:x", "1", 2, 2, T0 - 5);
    s.has_bikes_available = false;
    s.has_simulated = s.simulated = true;
    apply(st, &s, T0);
    stream_state_systems(st, collect, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.ids[0], "demo:x");
    assert_int_equal(got.sys[0].stations, 1);
    assert_int_equal(got.sys[0].bikes, 0); /* not reported: not counted */
    assert_int_equal(got.sys[0].docks, 2);
    assert_true(got.sys[0].simulated);
    assert_string_equal(got.ids[1], "gbfs:oslo");
    assert_int_equal(got.sys[1].stations, 2);
    assert_int_equal(got.sys[1].bikes, 7);
    assert_int_equal(got.sys[1].docks, 8);
    assert_int_equal(got.sys[1].last_fetched_ms, T0 + 500);
    assert_false(got.sys[1].simulated);
    assert_string_equal(got.fmt[1], "gbfs-3.0");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_new_then_find, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_older_snapshot_is_ignored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_and_changed_and_changed_at,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_trend_compares_with_15_minutes_ago,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_trend_survives_many_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_trend_without_bikes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_age_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_stuck_needs_open_renting_fresh_and_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids_are_refused, setup,
                                        teardown),
        cmocka_unit_test(test_key_cmp_is_numeric_aware_and_total),
        cmocka_unit_test_setup_teardown(test_index_is_sorted_and_map_grows,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_summaries, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
