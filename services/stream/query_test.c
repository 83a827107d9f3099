/* query_test.c: ListStations filters, order, paging and validation over a
 * real state, without sockets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"
#include "test_util.h"

#define T0 1700000000000LL
#define GRID 10 /* system "a": GRID x GRID stations */

static const struct stream_state_cfg cfg = {
    .stale_ms = 900000, .stuck_ms = 21600000, .trend_ms = 900000};

/* System "a": stations "0".."99" on a grid around Dublin, bikes = i % 10,
 * docks = 9 - i % 10, every 5th closed, names "Street i" with every 7th
 * "Gare i". System "b": three stations, one without a position and one
 * without counts. */
static int
setup(void **state)
{
    stream_state             *st = NULL;
    Velo__V1__StationSnapshot s;
    enum stream_apply         res;
    char                      id[16], name[32];
    int                       i;

    assert_int_equal(stream_state_new(&st, &cfg), VELO_OK);
    for (i = 0; i < GRID * GRID; i++) {
        snprintf(id, sizeof(id), "%d", i);
        snprintf(name, sizeof(name),
                 i % 7 ? "Street %d" : "Place de la GARE %d", i);
        s = t_snap("a", id, (uint32_t)(i % 10), (uint32_t)(9 - i % 10), T0);
        s.name = name;
        s.lat = 53.30 + (i / GRID) * 0.01;
        s.lon = -6.30 + (i % GRID) * 0.01;
        if (i % 5 == 0)
            s.status = T_CLOSED;
        assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL),
                         VELO_OK);
    }
    s = t_snap("b", "x1", 50, 50, T0);
    s.lat = -33.9;
    s.lon = 151.2;
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL), 0);
    s = t_snap("b", "x2", 50, 50, T0);
    s.has_lat = s.has_lon = false;
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL), 0);
    s = t_snap("b", "x3", 0, 0, T0);
    s.has_bikes_available = s.has_docks_available = false;
    s.lat = 10;
    s.lon = 179.5;
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL), 0);
    *state = st;
    return 0;
}

static int
teardown(void **state)
{
    stream_state_free(*state);
    return 0;
}

/* Parses and runs rq; hits must hold STREAM_LIMIT_MAX. */
static struct stream_query_page
run(stream_state *st, const Velo__V1__ListStationsRequest *rq,
    struct stream_query_hit *hits)
{
    struct stream_query      q;
    struct stream_query_page page;
    char                     err[256] = "";

    assert_int_equal(stream_query_parse(&q, rq, err, sizeof(err)), VELO_OK);
    assert_string_equal(err, "");
    assert_int_equal(stream_query_run(st, &q, hits, &page), VELO_OK);
    assert_true(page.n <= q.limit);
    return page;
}

static struct stream_query_hit hits[STREAM_LIMIT_MAX];

static void
test_no_filter_lists_all_in_key_order(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct stream_query_page      p;

    rq.has_limit = true;
    rq.limit = 1000;
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, 103);
    assert_int_equal(p.n, 103);
    assert_false(p.has_next);
    /* Numbers as numbers: "a/2" before "a/10", and "a" before "b". */
    assert_string_equal(hits[2].e->key, "a/2");
    assert_string_equal(hits[10].e->key, "a/10");
    assert_string_equal(hits[99].e->key, "a/99");
    assert_string_equal(hits[100].e->key, "b/x1");
    rq.has_limit = false; /* default page */
    p = run(*state, &rq, hits);
    assert_int_equal(p.n, STREAM_LIMIT_DEFAULT);
    assert_true(p.has_next);
    rq.has_limit = true;
    rq.limit = 0; /* 0 means the default too */
    assert_int_equal(run(*state, &rq, hits).n, STREAM_LIMIT_DEFAULT);
}

static void
test_system_counts_and_status_filters(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct stream_query_page      p;
    size_t                        i;

    rq.system_id = (char *)"b";
    assert_int_equal(run(*state, &rq, hits).total, 3);
    rq.system_id = (char *)"";
    assert_int_equal(run(*state, &rq, hits).total, 103);
    rq.system_id = (char *)"a";
    rq.has_min_bikes = true;
    rq.min_bikes = 8; /* i % 10 in {8, 9}: 20 stations */
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, 20);
    for (i = 0; i < p.n; i++)
        assert_true(hits[i].e->snap->bikes_available >= 8);
    rq.min_bikes = 0;
    rq.has_min_docks = true;
    rq.min_docks = 9; /* i % 10 == 0 */
    assert_int_equal(run(*state, &rq, hits).total, 10);
    rq.has_min_docks = false;
    rq.has_min_bikes = false;
    rq.has_status = true;
    rq.status = T_CLOSED;
    assert_int_equal(run(*state, &rq, hits).total, 20);
    rq.system_id = NULL;
    rq.has_status = false;
    rq.has_min_bikes = true;
    rq.min_bikes = 0; /* a station without counts never matches */
    assert_int_equal(run(*state, &rq, hits).total, 102);
}

static void
test_text_search_is_case_insensitive(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct stream_query_page      p;
    size_t                        i;

    rq.q = (char *)"gare";
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, 15); /* 0, 7, ..., 98 */
    for (i = 0; i < p.n; i++)
        assert_non_null(strstr(hits[i].e->snap->name, "GARE"));
    rq.q = (char *)"street 4";
    assert_int_equal(run(*state, &rq, hits).total, 11 - 2); /* 4, 40..49 */
    rq.q = (char *)"nowhere";
    assert_int_equal(run(*state, &rq, hits).total, 0);
}

static void
test_bbox_and_antimeridian(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct stream_query_page      p;
    size_t                        i;

    rq.has_min_lat = rq.has_min_lon = rq.has_max_lat = rq.has_max_lon = true;
    rq.min_lat = 53.295; /* rows 0..2, columns 0..3: 12 stations */
    rq.max_lat = 53.325;
    rq.min_lon = -6.305;
    rq.max_lon = -6.265;
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, 12);
    for (i = 0; i < p.n; i++) {
        assert_true(hits[i].e->snap->lat <= rq.max_lat);
        assert_true(hits[i].e->snap->lon >= rq.min_lon);
    }
    /* 170E .. 170W crosses 180: only b/x3 at 179.5. */
    rq.min_lat = -90;
    rq.max_lat = 90;
    rq.min_lon = 170;
    rq.max_lon = -170;
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, 1);
    assert_string_equal(hits[0].e->key, "b/x3");
}

static void
test_near_sorts_by_distance_and_radius_cuts(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct stream_query_page      p;
    size_t                        i, within = 0;
    double                        d;

    rq.has_near_lat = rq.has_near_lon = true;
    rq.near_lat = 53.3449; /* near station a/45 (53.34, -6.25) */
    rq.near_lon = -6.2501;
    rq.has_limit = true;
    rq.limit = 200;
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, 102); /* b/x2 has no position */
    assert_string_equal(hits[0].e->key, "a/45");
    for (i = 0; i < p.n; i++) {
        d = stream_distance_m(rq.near_lat, rq.near_lon, hits[i].e->snap->lat,
                              hits[i].e->snap->lon);
        assert_true(fabs(hits[i].dist_m - d) < 1e-6);
        if (i > 0)
            assert_true(hits[i].dist_m >= hits[i - 1].dist_m);
        within += d <= 1500;
    }
    rq.has_radius_m = true;
    rq.radius_m = 1500;
    p = run(*state, &rq, hits);
    assert_int_equal(p.total, within);
    assert_true(within > 4 && within < 100);
    for (i = 0; i < p.n; i++)
        assert_true(hits[i].dist_m <= 1500);
}

static void
test_distance_paris_london(void **state)
{
    double d = stream_distance_m(48.8566, 2.3522, 51.5074, -0.1278);

    (void)state;
    assert_true(d > 343000 && d < 344500);
    assert_true(stream_distance_m(10, 20, 10, 20) == 0);
}

/* The next_cursor of page p of rq, as the service writes it. */
static void
next_cursor(const Velo__V1__ListStationsRequest *rq,
            const struct stream_query_hit       *page_hits,
            const struct stream_query_page *p, char *out)
{
    struct stream_query q;
    char                err[256];

    assert_true(p->n > 0);
    assert_int_equal(stream_query_parse(&q, rq, err, sizeof(err)), VELO_OK);
    assert_int_equal(stream_query_cursor(&q, &page_hits[p->n - 1], out,
                                         VELO_CURSOR_TEXT_MAX),
                     VELO_OK);
}

/* Follows next_cursor from the start; every match exactly once. */
static void
page_through(stream_state *st, Velo__V1__ListStationsRequest *rq, uint32_t want)
{
    static struct stream_query_hit page_hits[STREAM_LIMIT_MAX];
    static char                    cursor[2][VELO_CURSOR_TEXT_MAX];
    struct stream_query_page       p;
    char                           seen[GRID * GRID + 3][32];
    uint32_t                       n = 0, pages = 0, i, j;

    rq->cursor = NULL;
    do {
        p = run(st, rq, page_hits);
        assert_int_equal(p.total, want);
        for (i = 0; i < p.n; i++) {
            for (j = 0; j < n; j++)
                assert_string_not_equal(seen[j], page_hits[i].e->key);
            snprintf(seen[n++], sizeof(seen[0]), "%s", page_hits[i].e->key);
        }
        if (p.has_next) { /* rq->cursor is read while the next is made */
            next_cursor(rq, page_hits, &p, cursor[pages % 2]);
            rq->cursor = cursor[pages % 2];
        }
        pages++;
    } while (p.has_next);
    assert_int_equal(n, want);
    assert_int_equal(pages, (want + rq->limit - 1) / rq->limit);
}

static void
test_paging_covers_all_exactly_once(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    const struct velo_cursor      end = {.nparts = 2, .parts = {"zz", "1"}};
    char                          cursor[VELO_CURSOR_TEXT_MAX];

    rq.has_limit = true;
    rq.limit = 7;
    page_through(*state, &rq, 103);
    rq.has_near_lat = rq.has_near_lon = true; /* distance order too */
    rq.near_lat = 53.33;
    rq.near_lon = -6.27;
    page_through(*state, &rq, 102);
    rq.has_near_lat = rq.has_near_lon = false;
    rq.system_id = (char *)"a";
    rq.limit = 10; /* pages end exactly at the last match */
    page_through(*state, &rq, 100);
    /* A cursor past the end: an empty last page. */
    assert_int_equal(velo_cursor_encode(&end, cursor, sizeof(cursor)), VELO_OK);
    rq.cursor = cursor;
    assert_int_equal(run(*state, &rq, hits).n, 0);
    assert_false(run(*state, &rq, hits).has_next);
}

/* Adds station (sys, id) at lat/lon to st. */
static void
add_station(stream_state *st, const char *sys, const char *id, double lat,
            double lon)
{
    Velo__V1__StationSnapshot s = t_snap(sys, id, 1, 1, T0);
    enum stream_apply         res;

    s.lat = lat;
    s.lon = lon;
    assert_int_equal(stream_state_apply(st, t_heap(&s), T0, &res, NULL),
                     VELO_OK);
}

/* Fault 11: with an offset cursor, a station arriving before the cursor
 * between two pages shifted the next page back by one (its first row
 * repeated the previous page's last). A keyset cursor starts right after
 * the last row seen, whatever arrived meanwhile. */
static void
test_next_page_does_not_shift_when_stations_arrive(void **state)
{
    static struct stream_query_hit page_hits[STREAM_LIMIT_MAX];
    Velo__V1__ListStationsRequest  rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    char                           cursor[VELO_CURSOR_TEXT_MAX];
    char                           last[32];
    struct stream_query_page       p;

    rq.has_limit = true;
    rq.limit = 7;
    p = run(*state, &rq, page_hits); /* "a/0".."a/6" */
    snprintf(last, sizeof(last), "%s", page_hits[6].e->key);
    next_cursor(&rq, page_hits, &p, cursor);
    add_station(*state, "a", "1a", 53.31, -6.29); /* sorts before "a/6" */
    add_station(*state, "0", "1", 53.31, -6.29);  /* before everything */
    rq.cursor = cursor;
    p = run(*state, &rq, page_hits);
    assert_string_equal(last, "a/6");
    assert_string_equal(page_hits[0].e->key, "a/7");
    assert_int_equal(p.total, 105);

    /* The same in distance order: the page after a cursor starts past its
     * row, though a closer station arrived. */
    rq.cursor = NULL;
    rq.has_near_lat = rq.has_near_lon = true;
    rq.near_lat = 53.30;
    rq.near_lon = -6.30;
    p = run(*state, &rq, page_hits);
    snprintf(last, sizeof(last), "%s", page_hits[p.n - 1].e->key);
    next_cursor(&rq, page_hits, &p, cursor);
    rq.cursor = cursor;
    add_station(*state, "c", "new", 53.30, -6.30); /* distance 0 */
    p = run(*state, &rq, page_hits);
    assert_true(strcmp(page_hits[0].e->key, last) != 0);
    assert_true(page_hits[0].dist_m >= 0);
}

/* rq must be refused with a message containing `want`. */
static void
refused(const Velo__V1__ListStationsRequest *rq, const char *want)
{
    struct stream_query q;
    char                err[256] = "";

    assert_int_equal(stream_query_parse(&q, rq, err, sizeof(err)), VELO_EINVAL);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_bad_arguments_are_refused(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsRequest base = rq;
    char                          longq[STREAM_QUERY_TEXT_MAX + 2];
    char                          near_cursor[VELO_CURSOR_TEXT_MAX];
    const struct velo_cursor      nc = {
             .has_num = true, .num = 5, .nparts = 2, .parts = {"a", "1"}};

    (void)state;
    assert_int_equal(velo_cursor_encode(&nc, near_cursor, sizeof(near_cursor)),
                     VELO_OK);
    rq.has_near_lat = true;
    rq.near_lat = 1;
    refused(&rq, "near_lat and near_lon");
    rq.has_near_lon = true;
    rq.near_lat = 91;
    refused(&rq, "out of range");
    rq.near_lat = 0;
    rq.near_lon = -180.5;
    refused(&rq, "out of range");
    rq.near_lon = NAN;
    refused(&rq, "out of range");
    rq = base;
    rq.has_radius_m = true;
    rq.radius_m = 100;
    refused(&rq, "radius_m needs near_lat and near_lon");
    rq = base;
    rq.has_min_lat = rq.has_max_lat = rq.has_min_lon = true;
    refused(&rq, "bounding box needs");
    rq.has_max_lon = true;
    rq.min_lat = 10;
    rq.max_lat = 5;
    refused(&rq, "min_lat is over max_lat");
    rq = base;
    rq.has_limit = true;
    rq.limit = STREAM_LIMIT_MAX + 1;
    refused(&rq, "limit");
    rq = base;
    rq.cursor = (char *)"abc";
    refused(&rq, "bad cursor");
    rq.cursor = (char *)"-1";
    refused(&rq, "bad cursor");
    rq.cursor = (char *)"12x";
    refused(&rq, "bad cursor");
    rq.cursor = (char *)"7"; /* an offset cursor of old */
    refused(&rq, "bad cursor");
    rq.cursor = near_cursor; /* a near cursor without near */
    refused(&rq, "bad cursor");
    rq = base;
    memset(longq, 'x', sizeof(longq) - 1);
    longq[sizeof(longq) - 1] = '\0';
    rq.q = longq;
    refused(&rq, "q is longer");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_filter_lists_all_in_key_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_counts_and_status_filters,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_search_is_case_insensitive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bbox_and_antimeridian, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_near_sorts_by_distance_and_radius_cuts, setup, teardown),
        cmocka_unit_test(test_distance_paris_london),
        cmocka_unit_test_setup_teardown(test_paging_covers_all_exactly_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_next_page_does_not_shift_when_stations_arrive, setup,
            teardown),
        cmocka_unit_test(test_bad_arguments_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
