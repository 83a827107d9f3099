/* fmt_test.c: the text people read, from fixed StationState values: "-"
 * for absent fields (never 0), NAME cut UTF-8-safely, columns aligned,
 * DIST only with --near, and the small value formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <time.h>

#include "fmt.h"

static Velo__V1__StationState    st[2];
static Velo__V1__StationSnapshot snap[2];

/* Station 0: a GBFS station with every field. Station 1: a JCDecaux v1
 * station: no e-bike split, no capacity, no trend, a long accented name. */
static int
setup(void **state)
{
    (void)state;
    velo__v1__station_state__init(&st[0]);
    velo__v1__station_snapshot__init(&snap[0]);
    snap[0].system_id = "gbfs:lyon";
    snap[0].station_id = "10021";
    snap[0].name = "Part-Dieu";
    snap[0].has_bikes_available = snap[0].has_docks_available = true;
    snap[0].bikes_available = 12;
    snap[0].docks_available = 8;
    snap[0].has_mechanical_bikes = snap[0].has_electric_bikes = true;
    snap[0].mechanical_bikes = 9;
    snap[0].electric_bikes = 3;
    snap[0].has_capacity = true;
    snap[0].capacity = 20;
    snap[0].has_status = true;
    snap[0].status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    st[0].snapshot = &snap[0];
    st[0].has_age_s = true;
    st[0].age_s = 42;
    st[0].has_trend_15m = true;
    st[0].trend_15m = 2;

    velo__v1__station_state__init(&st[1]);
    velo__v1__station_snapshot__init(&snap[1]);
    snap[1].system_id = "jcdecaux:paris";
    snap[1].station_id = "7";
    /* 43 columns: cut to 31, the space before the cut dropped, "…". */
    snap[1].name = "Éléphant de la Bastille — côté Rue Roquette";
    snap[1].has_bikes_available = snap[1].has_docks_available = true;
    snap[1].bikes_available = 0;
    snap[1].docks_available = 25;
    snap[1].has_status = true;
    snap[1].status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    st[1].snapshot = &snap[1];
    st[1].has_age_s = true;
    st[1].age_s = 7300;
    st[1].has_stale = true;
    st[1].stale = true;
    return 0;
}

/* Renders the table into a heap string (caller frees). */
static char *
table(const double *dist)
{
    Velo__V1__StationState *const sts[2] = {&st[0], &st[1]};
    struct velo_buf               b;
    char                         *s;

    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_fmt_stations(&b, sts, dist, 2), VELO_OK);
    s = velo_buf_steal(&b, NULL);
    velo_buf_fini(&b);
    return s;
}

static void
test_stations_table_exact(void **state)
{
    char *s;

    (void)state;
    s = table(NULL);
    assert_string_equal(
        s, "SYSTEM          STATION  NAME                             BIKES  "
           "MECH  ELEC  DOCKS  CAP  STATUS        AGE  TREND\n"
           "gbfs:lyon       10021    Part-Dieu                           12  "
           "   9     3      8   20  OPEN          42s     +2\n"
           "jcdecaux:paris  7        Éléphant de la Bastille — côté…      0  "
           "   -     -     25    -  CLOSED stale   2h      -\n");
    free(s);
}

static void
test_absent_is_dash_and_zero_is_zero(void **state)
{
    char *s, *row;

    (void)state;
    s = table(NULL);
    row = strstr(s, "jcdecaux:paris");
    assert_non_null(row);
    /* 0 bikes is a real 0; the missing split and capacity are "-". */
    assert_non_null(strstr(row, "…      0     -     -     25    -  "));
    free(s);
}

static void
test_dist_column_only_with_near(void **state)
{
    const double dist[2] = {850.0, NAN};
    char        *s;

    (void)state;
    s = table(NULL);
    assert_null(strstr(s, "DIST"));
    free(s);
    s = table(dist);
    assert_non_null(strstr(s, "TREND  DIST\n"));
    assert_non_null(strstr(s, "+2  850m\n"));
    assert_non_null(strstr(s, "-     -\n")); /* no distance: "-" */
    free(s);
}

/* Columns of one line (code points; every cell here is one column each). */
static size_t
line_cols(const char *line, const char *end)
{
    size_t n = 0;

    for (; line < end; line++)
        n += ((unsigned char)*line & 0xc0) != 0x80;
    return n;
}

static void
test_lines_have_equal_width_in_columns(void **state)
{
    char  *s, *line, *nl;
    size_t w[3], i;

    (void)state;
    s = table(NULL);
    /* The last column is right-aligned: every line ends at one column,
     * even though the cut name holds multi-byte characters. */
    for (i = 0, line = s; i < 3; i++, line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        w[i] = line_cols(line, nl);
    }
    assert_int_equal(w[0], w[1]);
    assert_int_equal(w[1], w[2]);
    free(s);
}

static void
test_small_formats(void **state)
{
    char b[32];

    (void)state;
    veloctl_fmt_age(b, sizeof(b), 59);
    assert_string_equal(b, "59s");
    veloctl_fmt_age(b, sizeof(b), 60);
    assert_string_equal(b, "1m");
    veloctl_fmt_age(b, sizeof(b), 86400 * 3 + 5);
    assert_string_equal(b, "3d");
    veloctl_fmt_age(b, sizeof(b), -5);
    assert_string_equal(b, "0s");
    veloctl_fmt_dist(b, sizeof(b), 999.4);
    assert_string_equal(b, "999m");
    veloctl_fmt_dist(b, sizeof(b), 1234.0);
    assert_string_equal(b, "1.2km");
    veloctl_fmt_dist(b, sizeof(b), 15400.0);
    assert_string_equal(b, "15km");
    veloctl_fmt_dist(b, sizeof(b), NAN);
    assert_string_equal(b, "-");
}

static void
test_status_flags(void **state)
{
    Velo__V1__StationState s = VELO__V1__STATION_STATE__INIT;
    char                   b[48];

    (void)state;
    veloctl_fmt_status(b, sizeof(b), &s);
    assert_string_equal(b, "-");
    s.has_stuck = s.stuck = true;
    veloctl_fmt_status(b, sizeof(b), &s);
    assert_string_equal(b, "- stuck");
    veloctl_fmt_status(b, sizeof(b), &st[1]);
    assert_string_equal(b, "CLOSED stale");
}

static void
test_station_detail(void **state)
{
    struct velo_buf b;

    (void)state;
    snap[1].has_last_reported_ms = true;
    snap[1].last_reported_ms = 1764072000000; /* 2025-11-25T12:00:00Z */
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_fmt_station(&b, &st[1], 1764072090000), VELO_OK);
    assert_non_null(strstr(b.data, "station         jcdecaux:paris/7\n"));
    assert_non_null(strstr(b.data, "bikes           0\n"));
    assert_non_null(strstr(b.data, "electric        -\n"));
    assert_non_null(strstr(b.data, "capacity        -\n"));
    assert_non_null(strstr(b.data, "stale           yes\n"));
    assert_non_null(strstr(b.data, "last reported   2025-11-25T12:00:00.000Z "
                                   "(1m ago)\n"));
    /* Detail lines keep the long name whole. */
    assert_non_null(strstr(b.data, "côté Rue Roquette\n"));
    velo_buf_fini(&b);
    snap[1].has_last_reported_ms = false;
}

static void
test_systems_and_health_tables(void **state)
{
    Velo__V1__SystemSummary    s = VELO__V1__SYSTEM_SUMMARY__INIT, *sp = &s;
    Velo__V1__ListSystemsReply r = VELO__V1__LIST_SYSTEMS_REPLY__INIT;
    Velo__V1__HealthReply      h = VELO__V1__HEALTH_REPLY__INIT;
    struct veloctl_health      rows[2] = {
             {"tcp://a:1", &h, NULL, NULL},
             {"tcp://b:2", NULL, "UNAVAILABLE", "no instance reachable"}};
    struct velo_buf b;

    (void)state;
    s.system_id = "demo:dublin";
    s.has_stations = s.has_simulated = s.simulated = true;
    s.stations = 100;
    s.has_last_fetched_ms = true;
    s.last_fetched_ms = 1000;
    r.systems = &sp;
    r.n_systems = 1;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_fmt_systems(&b, &r, 31000), VELO_OK);
    assert_string_equal(b.data,
                        "SYSTEM       STATIONS  BIKES  DOCKS  FORMAT  AGE  "
                        "NOTE\n"
                        "demo:dublin       100      -      -  -       30s  "
                        "simulated\n");
    velo_buf_reset(&b);
    h.has_ready = h.ready = true;
    assert_int_equal(veloctl_fmt_health(&b, rows, 2), VELO_OK);
    assert_string_equal(b.data, "RPC        READY  STATIONS  LAG  INSTANCE  "
                                "REASON\n"
                                "tcp://a:1  yes           -    -  -         -\n"
                                "tcp://b:2  error         -    -  -         "
                                "no instance reachable\n");
    velo_buf_fini(&b);
}

static void
test_watch_lines_line_up(void **state)
{
    struct velo_buf b;
    char           *l1, *l2, *l3;

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(veloctl_fmt_watch_header(&b), VELO_OK);
    assert_int_equal(veloctl_fmt_watch_line(&b, &st[0], 1764072005000),
                     VELO_OK);
    assert_int_equal(veloctl_fmt_watch_line(&b, &st[1], 1764072006000),
                     VELO_OK);
    l1 = b.data;
    l2 = strchr(l1, '\n') + 1;
    l3 = strchr(l2, '\n') + 1;
    assert_memory_equal(l2, "12:00:05  gbfs:lyon", 19);
    assert_memory_equal(l3, "12:00:06  jcdecaux:paris", 24);
    /* Fixed widths: BIKES ends at the same byte offset on both lines
     * (the names differ in bytes per column, so compare up to NAME). */
    assert_int_equal(strstr(l1, "NAME") - l1, strstr(l2, "Part-Dieu") - l2);
    assert_int_equal(strstr(l1, "NAME") - l1, strstr(l3, "Éléphant") - l3);
    velo_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stations_table_exact),
        cmocka_unit_test(test_absent_is_dash_and_zero_is_zero),
        cmocka_unit_test(test_dist_column_only_with_near),
        cmocka_unit_test(test_lines_have_equal_width_in_columns),
        cmocka_unit_test(test_small_formats),
        cmocka_unit_test(test_status_flags),
        cmocka_unit_test(test_station_detail),
        cmocka_unit_test(test_systems_and_health_tables),
        cmocka_unit_test(test_watch_lines_line_up),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
