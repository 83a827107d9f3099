/* engine_test.c: window closing on the watermark, late and out-of-order
 * records, daylight-saving days, zones that arrive late, and replay after
 * a restart giving exactly the rows not yet committed. M = one minute;
 * T0 = 2026-03-29T10:00Z. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"

#define M 60000LL
#define H (60 * M)
#define T0 1774778400000LL

struct got {
    struct batch_row   row;
    struct batch_stats stats;
    char               station[32], date[11], name[32]; /* name: dims */
    char               sysname[BATCH_NAME_MAX];         /* "" when NULL */
    int64_t            offset; /* the record that caused it */
};

struct sink {
    struct got *rows;
    size_t      n, cap;
    int64_t     offset;
};

static int
collect(void *ctx, const struct batch_row *row)
{
    struct sink *k = ctx;
    struct got  *g;

    if (k->n == k->cap) {
        k->cap = k->cap == 0 ? 64 : k->cap * 2;
        k->rows = realloc(k->rows, k->cap * sizeof(*k->rows));
        assert_non_null(k->rows);
    }
    g = &k->rows[k->n++];
    g->row = *row;
    g->stats = *row->stats;
    snprintf(g->station, sizeof(g->station), "%s", row->station_id);
    snprintf(g->date, sizeof(g->date), "%s",
             row->local_date != NULL ? row->local_date : "");
    snprintf(g->name, sizeof(g->name), "%s",
             row->dims != NULL ? row->dims->name : "");
    snprintf(g->sysname, sizeof(g->sysname), "%s",
             row->system_name != NULL ? row->system_name : "");
    g->row.dims = NULL; /* borrowed for the call only */
    g->row.system_name = NULL;
    g->offset = k->offset;
    return VELO_OK;
}

static batch_engine *
engine(struct sink *k, int64_t hb)
{
    batch_engine *e = NULL;

    memset(k, 0, sizeof(*k));
    assert_int_equal(
        batch_engine_new(&e,
                         &(struct batch_engine_cfg){.heartbeat_ms = hb,
                                                    .lateness_ms = 2 * M,
                                                    .horizon_ms = 26 * H,
                                                    .max_samples = 16384},
                         &(struct batch_sink){collect, k}),
        VELO_OK);
    return e;
}

static void
add(batch_engine *e, struct sink *k, const char *station, int64_t t,
    uint32_t bikes)
{
    struct batch_sample s = {.t_ms = t,
                             .bikes = bikes,
                             .docks = 20 - bikes,
                             .capacity = 20,
                             .status = 1};

    assert_int_equal(batch_engine_add(e, 0, k->offset, "sys", station, &s),
                     VELO_OK);
    k->offset++;
}

/* The row of station/gran starting at start, the last one emitted. */
static const struct got *
find(const struct sink *k, enum batch_gran gran, int64_t start)
{
    size_t i;

    for (i = k->n; i-- > 0;)
        if (k->rows[i].row.gran == gran && k->rows[i].row.start_ms == start)
            return &k->rows[i];
    return NULL;
}

/* 7 bikes all day (UTC), heartbeats every 5 min from T0-10h to the next
 * day. Each hour: 12 samples, avg 7, reliable. The day [D, D+24h) with D =
 * 2026-03-29T00:00Z closes once the watermark passes D+24h+2 min: not at
 * the D+24h record, at the D+24h+5M one; it has 288 samples, 1440 min. */
static void
test_never_changes_all_day(void **state)
{
    struct sink       k;
    batch_engine     *e = engine(&k, 5 * M);
    int64_t           d = T0 - 10 * H, t;
    const struct got *g;
    int               hours = 0;
    size_t            i;

    (void)state;
    assert_int_equal(batch_engine_set_zone(e, "sys", "UTC"), VELO_OK);
    for (t = d - 10 * M; t <= d + 24 * H; t += 5 * M)
        add(e, &k, "a", t, 7);
    assert_null(find(&k, BATCH_DAILY, d));
    add(e, &k, "a", d + 24 * H + 5 * M, 7);
    g = find(&k, BATCH_DAILY, d);
    assert_non_null(g);
    assert_string_equal(g->date, "2026-03-29");
    assert_int_equal(g->stats.samples, 288);
    assert_int_equal(g->stats.known_ms, 24 * H);
    assert_true(g->stats.bikes_avg == 7.0);
    assert_true(g->stats.flow_reliable);
    for (i = 0; i < k.n; i++) {
        const struct got *h = &k.rows[i];
        if (h->row.gran != BATCH_HOURLY || h->row.start_ms < d ||
            h->row.start_ms >= d + 24 * H)
            continue;
        hours++;
        assert_int_equal(h->stats.samples, 12);
        assert_true(h->stats.bikes_avg == 7.0);
        assert_true(h->stats.flow_reliable);
        assert_false(h->row.correction);
    }
    assert_int_equal(hours, 24);
    batch_engine_free(e);
    free(k.rows);
}

/* hb 30 min. 5 bikes at T0, +20M, +40M, +60M, +70M: the hour [T0, T0+60M)
 * closes at the +70M record (70 >= 60 + 2): avg 5. Then a late record at
 * T0+30M with 2 bikes: the hour is recomputed and emitted again:
 * 5 bikes for 20+10+20 min, 2 for 10 min: (50*5 + 10*2)/60 = 4.5;
 * out 3 (5->2) and in 3 (2->5). Only that hour: the sample's effect ends
 * at the +40M sample. */
static void
test_late_record_reemits_corrected_row(void **state)
{
    struct sink               k;
    batch_engine             *e = engine(&k, 30 * M);
    struct batch_engine_stats st;
    const struct got         *g;
    size_t                    before;

    (void)state;
    add(e, &k, "a", T0, 5);
    add(e, &k, "a", T0 + 20 * M, 5);
    add(e, &k, "a", T0 + 40 * M, 5);
    add(e, &k, "a", T0 + 60 * M, 5);
    assert_null(find(&k, BATCH_HOURLY, T0));
    add(e, &k, "a", T0 + 70 * M, 5);
    g = find(&k, BATCH_HOURLY, T0);
    assert_non_null(g);
    assert_true(g->stats.bikes_avg == 5.0);
    before = k.n;
    add(e, &k, "a", T0 + 30 * M, 2);
    assert_int_equal(k.n, before + 1);
    g = find(&k, BATCH_HOURLY, T0);
    assert_true(g->row.correction);
    assert_true(g->stats.bikes_avg == 4.5);
    assert_int_equal(g->stats.bikes_out, 3);
    assert_int_equal(g->stats.bikes_in, 3);
    assert_int_equal(g->stats.samples, 4);
    batch_engine_stats(e, &st);
    assert_int_equal(st.late_records, 1);
    assert_int_equal(st.corrections, 1);
    batch_engine_free(e);
    free(k.rows);
}

/* hb 30 min. 1 bike at T0, +20M, +40M; 9 at +45M; 4 at +50M, +60M.
 * avg = (45*1 + 5*9 + 10*4)/60 = 130/60; in 8, out 5. The +45M record
 * arriving after the +50M one (within lateness) gives the same row, and
 * no late record. */
static void
test_out_of_order_within_lateness(void **state)
{
    static const int64_t at_min[] = {0, 20, 40, 45, 50, 60, 70};
    static const int     bikes_at[] = {1, 1, 1, 9, 4, 4, 4};
    static const int     shuffled[] = {0, 1, 2, 4, 3, 5, 6};
    struct sink          k1, k2;
    batch_engine        *e1 = engine(&k1, 30 * M), *e2 = engine(&k2, 30 * M);
    const struct got    *a, *b;
    struct batch_engine_stats st;
    int                       i, j;

    (void)state;
    for (i = 0; i < 7; i++) {
        j = shuffled[i];
        add(e1, &k1, "a", T0 + at_min[i] * M, (uint32_t)bikes_at[i]);
        add(e2, &k2, "a", T0 + at_min[j] * M, (uint32_t)bikes_at[j]);
    }
    a = find(&k1, BATCH_HOURLY, T0);
    b = find(&k2, BATCH_HOURLY, T0);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->stats.bikes_avg == 130.0 / 60.0);
    assert_int_equal(a->stats.bikes_in, 8);
    assert_int_equal(a->stats.bikes_out, 5);
    assert_memory_equal(&a->stats, &b->stats, sizeof(a->stats));
    batch_engine_stats(e2, &st);
    assert_int_equal(st.late_records, 0);
    batch_engine_free(e1);
    batch_engine_free(e2);
    free(k1.rows);
    free(k2.rows);
}

/* Europe/Brussels, 2026-10-25: 25 hours from 2026-10-24T22:00Z
 * (1792879200) to 2026-10-25T23:00Z. An empty station with 5 min
 * heartbeats: 25*12 = 300 samples, 1500 minutes empty. */
static void
test_daylight_saving_day_in_brussels(void **state)
{
    struct sink       k;
    batch_engine     *e = engine(&k, 5 * M);
    int64_t           d = 1792879200000LL, t;
    const struct got *g;

    (void)state;
    assert_int_equal(batch_engine_set_zone(e, "sys", "Europe/Brussels"),
                     VELO_OK);
    for (t = d - H; t <= d + 26 * H; t += 5 * M)
        add(e, &k, "a", t, 0);
    g = find(&k, BATCH_DAILY, d);
    assert_non_null(g);
    assert_string_equal(g->date, "2026-10-25");
    assert_int_equal(g->row.end_ms, d + 25 * H);
    assert_int_equal(g->stats.samples, 300);
    assert_int_equal(g->stats.empty_ms, 1500 * M);
    assert_string_equal(g->row.timezone, "Europe/Brussels");
    batch_engine_free(e);
    free(k.rows);
}

/* Hourly rows carry their hour in the system's zone (the warehouse's
 * dim_time): 2026-03-29 in Brussels starts at 23:00Z and goes from 01:00
 * CET (00:00Z) straight to 03:00 CEST (01:00Z); without a zone an hour has
 * no local calendar. */
static void
test_hourly_rows_carry_the_local_hour(void **state)
{
    struct sink       k;
    batch_engine     *e = engine(&k, 5 * M);
    int64_t           h22 = 1774735200000LL, t; /* 2026-03-28T22:00Z */
    const struct got *g;

    (void)state;
    for (t = h22; t <= h22 + H + 5 * M; t += 5 * M)
        add(e, &k, "a", t, 1);
    g = find(&k, BATCH_HOURLY, h22);
    assert_non_null(g);
    assert_null(g->row.timezone);
    assert_string_equal(g->date, "");
    assert_int_equal(batch_engine_set_zone(e, "sys", "Europe/Brussels"),
                     VELO_OK);
    for (; t <= h22 + 5 * H; t += 5 * M)
        add(e, &k, "a", t, 1);
    g = find(&k, BATCH_HOURLY, h22 + H);
    assert_non_null(g);
    assert_string_equal(g->row.timezone, "Europe/Brussels");
    assert_string_equal(g->date, "2026-03-29"); /* 23:00Z is midnight */
    assert_int_equal(g->row.local_hour, 0);
    assert_int_equal(g->row.local_dow, 0); /* Sunday */
    g = find(&k, BATCH_HOURLY, h22 + 2 * H);
    assert_non_null(g);
    assert_string_equal(g->date, "2026-03-29");
    assert_int_equal(g->row.local_hour, 1);
    g = find(&k, BATCH_HOURLY, h22 + 3 * H);
    assert_non_null(g);
    assert_int_equal(g->row.local_hour, 3); /* 02:00 never happened */
    batch_engine_free(e);
    free(k.rows);
}

/* Rows carry the station's dimension values of the latest record read
 * before them (a rename shows from the rows closed after it); a record
 * without any keeps them. */
static void
test_rows_carry_the_latest_dims(void **state)
{
    struct sink         k;
    batch_engine       *e = engine(&k, 5 * M);
    int64_t             h = 1774735200000LL, t;
    struct batch_sample s = {.docks = 20, .capacity = 20, .status = 1};
    struct batch_dims   d = {.name = "Old", .has_name = true};
    const struct got   *g;

    (void)state;
    for (t = h; t <= h + 3 * H + 5 * M; t += 5 * M) {
        if (t == h + H + 30 * M)
            snprintf(d.name, sizeof(d.name), "New");
        s.t_ms = t;
        assert_int_equal(batch_engine_add_dims(e, 0, k.offset++, "sys", "a", &s,
                                               t < h + 2 * H ? &d : NULL),
                         VELO_OK);
    }
    g = find(&k, BATCH_HOURLY, h);
    assert_non_null(g);
    assert_string_equal(g->name, "Old");
    g = find(&k, BATCH_HOURLY, h + H);
    assert_non_null(g);
    assert_string_equal(g->name, "New"); /* closed at h + 2 h + 2 min */
    g = find(&k, BATCH_HOURLY, h + 2 * H);
    assert_non_null(g);
    assert_string_equal(g->name, "New");
    batch_engine_free(e);
    free(k.rows);
}

/* The system's name labels the rows emitted after it, with or without a
 * zone: rows before it have none, a later name renames later rows only,
 * and a name releases no held day. The rows themselves are those of an
 * engine never given a name. */
static void
test_system_name_labels_later_rows(void **state)
{
    struct sink               k, k2;
    batch_engine             *e = engine(&k, 5 * M), *e2 = engine(&k2, 5 * M);
    int64_t                   d = T0 - 10 * H, t;
    struct batch_engine_stats st;
    const struct got         *g;
    size_t                    i;

    (void)state;
    for (t = d; t <= d + 25 * H; t += 5 * M) {
        if (t == d + 2 * H)
            assert_int_equal(batch_engine_set_name(e, "sys", "Old Bikes"),
                             VELO_OK);
        if (t == d + 5 * H)
            assert_int_equal(batch_engine_set_name(e, "sys", "New Bikes"),
                             VELO_OK);
        add(e, &k, "a", t, 3);
        add(e2, &k2, "a", t, 3);
    }
    g = find(&k, BATCH_HOURLY, d); /* closed at d + 1 h + 5 min */
    assert_non_null(g);
    assert_string_equal(g->sysname, "");
    g = find(&k, BATCH_HOURLY, d + 2 * H);
    assert_non_null(g);
    assert_string_equal(g->sysname, "Old Bikes");
    assert_null(g->row.timezone); /* a name is no zone */
    g = find(&k, BATCH_HOURLY, d + 5 * H);
    assert_non_null(g);
    assert_string_equal(g->sysname, "New Bikes");
    assert_string_equal(find(&k, BATCH_HOURLY, d + 3 * H)->sysname,
                        "Old Bikes");
    batch_engine_stats(e, &st);
    assert_int_equal(st.held_systems, 1); /* still no zone */
    assert_null(find(&k, BATCH_DAILY, d));
    assert_int_equal(batch_engine_set_zone(e, "sys", "UTC"), VELO_OK);
    assert_int_equal(batch_engine_set_zone(e2, "sys", "UTC"), VELO_OK);
    add(e, &k, "a", t, 3);
    add(e2, &k2, "a", t, 3);
    g = find(&k, BATCH_DAILY, d);
    assert_non_null(g);
    assert_string_equal(g->sysname, "New Bikes");
    assert_string_equal(g->row.timezone, "UTC");
    assert_int_equal(k.n, k2.n);
    for (i = 0; i < k.n; i++) {
        assert_int_equal(k.rows[i].row.start_ms, k2.rows[i].row.start_ms);
        assert_int_equal(k.rows[i].row.gran, k2.rows[i].row.gran);
        assert_memory_equal(&k.rows[i].stats, &k2.rows[i].stats,
                            sizeof(k.rows[i].stats));
    }
    batch_engine_free(e);
    batch_engine_free(e2);
    free(k.rows);
    free(k2.rows);
}

/* A long name is cut to BATCH_NAME_MAX - 1 bytes on a character boundary,
 * and invalid bytes are repaired. */
static void
test_system_name_is_cut_on_a_character(void **state)
{
    struct sink       k;
    batch_engine     *e = engine(&k, 5 * M);
    char              name[400] = "x";
    const struct got *g;
    int64_t           t;
    size_t            i;

    (void)state;
    for (i = 1; i + 2 < sizeof(name); i += 2)
        memcpy(name + i, "\xc3\xa9", 2); /* é: 1 + 2n never hits 256 */
    name[i] = '\0';
    assert_int_equal(batch_engine_set_name(e, "sys", name), VELO_OK);
    for (t = T0; t <= T0 + H + 5 * M; t += 5 * M)
        add(e, &k, "a", t, 3);
    g = find(&k, BATCH_HOURLY, T0);
    assert_non_null(g);
    assert_int_equal(strlen(g->sysname), BATCH_NAME_MAX - 2); /* 255 */
    assert_memory_equal(g->sysname, name, BATCH_NAME_MAX - 2);
    assert_int_equal(batch_engine_set_name(e, "sys", "Bad \xff"), VELO_OK);
    for (; t <= T0 + 2 * H + 5 * M; t += 5 * M)
        add(e, &k, "a", t, 3);
    g = find(&k, BATCH_HOURLY, T0 + H);
    assert_non_null(g);
    assert_string_equal(g->sysname, "Bad \xef\xbf\xbd");
    batch_engine_free(e);
    free(k.rows);
}

/* Without a zone the day is held (counted); once the zone is known the
 * next record closes it, with the same values. */
static void
test_daily_windows_wait_for_the_zone(void **state)
{
    struct sink               k;
    batch_engine             *e = engine(&k, 5 * M);
    int64_t                   d = T0 - 10 * H, t;
    struct batch_engine_stats st;
    const struct got         *g;

    (void)state;
    for (t = d; t <= d + 25 * H; t += 5 * M)
        add(e, &k, "a", t, 3);
    assert_null(find(&k, BATCH_DAILY, d));
    batch_engine_stats(e, &st);
    assert_int_equal(st.held_systems, 1);
    assert_int_equal(batch_engine_set_zone(e, "sys", "Nowhere/Land"),
                     VELO_ENOTFOUND);
    assert_int_equal(batch_engine_set_zone(e, "sys", "UTC"), VELO_OK);
    add(e, &k, "a", t, 3);
    g = find(&k, BATCH_DAILY, d);
    assert_non_null(g);
    assert_int_equal(g->stats.samples, 288);
    batch_engine_stats(e, &st);
    assert_int_equal(st.held_systems, 0);
    batch_engine_free(e);
    free(k.rows);
}

/* 60 hours of two stations (bikes from a fixed pseudo-random walk, some
 * records late by 10 to 90 minutes). Run 1 sees every record. Run 2
 * starts like a restart after a commit at offset K: it reads from the
 * first record within the documented look-back (horizon + heartbeat +
 * lateness + 10 min) of record K-1 and suppresses rows caused by records
 * below K. Run 2 must emit exactly the rows run 1 emitted at offsets >= K,
 * in the same order. */
#define NREC 1500
static void
test_replay_after_restart_emits_exactly_the_rest(void **state)
{
    static int64_t ts[NREC];
    static int     bk[NREC];
    struct sink    k1, k2;
    batch_engine  *e1 = engine(&k1, 5 * M), *e2 = engine(&k2, 5 * M);
    uint32_t       x = 12345;
    int64_t        K = 1100, back = 26 * H + 5 * M + 2 * M + 10 * M;
    size_t         i, j, first = 0;
    int            n;

    (void)state;
    for (n = 0; n < NREC; n++) {
        x = x * 1103515245u + 12345u;
        ts[n] = T0 + (int64_t)(n / 2) * 5 * M + (n % 2) * M;
        if (n % 97 == 50) /* late: arrives 10-90 min after its time */
            ts[n] -= (int64_t)(10 + x % 80) * M;
        bk[n] = (int)(x >> 16) % 15;
    }
    assert_int_equal(batch_engine_set_zone(e1, "sys", "Europe/Brussels"), 0);
    assert_int_equal(batch_engine_set_zone(e2, "sys", "Europe/Brussels"), 0);
    for (n = 0; n < NREC; n++)
        add(e1, &k1, n % 2 ? "b" : "a", ts[n], (uint32_t)bk[n]);
    while (ts[first] < ts[K - 1] - back)
        first++;
    assert_true(first > 0);
    assert_int_equal(batch_engine_replay_until(e2, 0, K), VELO_OK);
    k2.offset = (int64_t)first;
    for (n = (int)first; n < NREC; n++)
        add(e2, &k2, n % 2 ? "b" : "a", ts[n], (uint32_t)bk[n]);
    for (i = 0; i < k1.n && k1.rows[i].offset < K; i++)
        ;
    assert_true(k1.n - i > 20); /* the test has rows to compare */
    assert_int_equal(k2.n, k1.n - i);
    for (j = 0; j < k2.n; j++, i++) {
        assert_int_equal(k2.rows[j].offset, k1.rows[i].offset);
        assert_int_equal(k2.rows[j].row.gran, k1.rows[i].row.gran);
        assert_int_equal(k2.rows[j].row.start_ms, k1.rows[i].row.start_ms);
        assert_string_equal(k2.rows[j].station, k1.rows[i].station);
        assert_memory_equal(&k2.rows[j].stats, &k1.rows[i].stats,
                            sizeof(k2.rows[j].stats));
    }
    batch_engine_free(e1);
    batch_engine_free(e2);
    free(k1.rows);
    free(k2.rows);
}

/* hb 5 min. Station a at T0-2h, then (after a silence) at T0+61M: the
 * jump closes the hours before T0 and skips those without information,
 * but not [T0, T0+60M), still open (T0+60M + 2M > T0+61M). Station b's
 * record at T0+30M is then in time, not late, and its hour is emitted
 * once, as a normal row, when the watermark passes T0+62M. */
static void
test_skipping_empty_hours_stops_at_the_open_one(void **state)
{
    struct sink               k;
    batch_engine             *e = engine(&k, 5 * M);
    struct batch_engine_stats st;
    const struct got         *g;
    size_t                    i, n = 0;

    (void)state;
    add(e, &k, "a", T0 - 120 * M, 3);
    add(e, &k, "a", T0 + 61 * M, 3);
    add(e, &k, "b", T0 + 30 * M, 6);
    batch_engine_stats(e, &st);
    assert_int_equal(st.late_records, 0);
    add(e, &k, "a", T0 + 63 * M, 3);
    g = find(&k, BATCH_HOURLY, T0);
    assert_non_null(g);
    assert_string_equal(g->station, "b");
    assert_false(g->row.correction);
    assert_int_equal(g->stats.known_ms, 5 * M);
    for (i = 0; i < k.n; i++)
        n += k.rows[i].row.start_ms == T0;
    assert_int_equal(n, 1);
    batch_engine_free(e);
    free(k.rows);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_changes_all_day),
        cmocka_unit_test(test_late_record_reemits_corrected_row),
        cmocka_unit_test(test_out_of_order_within_lateness),
        cmocka_unit_test(test_daylight_saving_day_in_brussels),
        cmocka_unit_test(test_hourly_rows_carry_the_local_hour),
        cmocka_unit_test(test_rows_carry_the_latest_dims),
        cmocka_unit_test(test_daily_windows_wait_for_the_zone),
        cmocka_unit_test(test_system_name_labels_later_rows),
        cmocka_unit_test(test_system_name_is_cut_on_a_character),
        cmocka_unit_test(test_replay_after_restart_emits_exactly_the_rest),
        cmocka_unit_test(test_skipping_empty_hours_stops_at_the_open_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
