/* list_test.c: `veloctl stations` against a fake StationService that
 * pages FS_PAGE stations at a time: one page, --all following cursors,
 * --cursor, distances with --near, a service that repeats its cursor and
 * one that rejects the request; plus the request built from options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fakestream_test_util.h"
#include "list.h"
#include "velo/json.h"

static struct fs fake;

static int
setup(void **state)
{
    (void)state;
    return fs_start(&fake) == VELO_OK ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    fs_stop(&fake);
    return 0;
}

/* Runs `veloctl --rpc URL stations SYSTEM <extra...>`. */
static void
run_stations(struct fs_run *r, const char *const *extra)
{
    const char *argv[16] = {"veloctl", "--rpc", fs_url(&fake), "stations",
                            FS_SYSTEM};
    size_t      n = 5;

    while (*extra != NULL && n < 15)
        argv[n++] = *extra++;
    argv[n] = NULL;
    atomic_store(&fake.list_calls, 0);
    fs_run(r, argv);
}

static cJSON *
parse_out(const struct fs_run *r)
{
    cJSON *j = NULL;

    assert_int_equal(r->exit, 0);
    assert_int_equal(velo_json_parse(r->out, r->out_len, &j), VELO_OK);
    return j;
}

static void
test_all_follows_every_cursor(void **state)
{
    struct fs_run r;
    cJSON        *j, *arr;
    const char   *id;
    uint32_t      total;
    int           i;

    (void)state;
    run_stations(&r, (const char *const[]){"--all", "--json", NULL});
    j = parse_out(&r);
    assert_int_equal(atomic_load(&fake.list_calls), 3); /* 2 + 2 + 1 */
    arr = cJSON_GetObjectItemCaseSensitive(j, "stations");
    assert_int_equal(cJSON_GetArraySize(arr), FS_N);
    for (i = 0; i < FS_N; i++) {
        assert_int_equal(
            velo_json_str(cJSON_GetArrayItem(arr, i), "station_id", &id),
            VELO_OK);
        assert_int_equal(id[0], '1' + i); /* in order, none twice */
    }
    assert_int_equal(velo_json_u32(j, "total", &total), VELO_OK);
    assert_int_equal(total, FS_N);
    assert_true(
        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "next_cursor")));
    cJSON_Delete(j);
    fs_run_free(&r);
}

static void
test_one_page_gives_the_next_cursor(void **state)
{
    struct fs_run r;
    cJSON        *j;
    const char   *cur;

    (void)state;
    run_stations(&r, (const char *const[]){"--json", NULL});
    j = parse_out(&r);
    assert_int_equal(atomic_load(&fake.list_calls), 1);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "stations")),
        FS_PAGE);
    assert_int_equal(velo_json_str(j, "next_cursor", &cur), VELO_OK);
    assert_string_equal(cur, "2");
    cJSON_Delete(j);
    fs_run_free(&r);

    /* Handing the cursor back gives the next page. */
    run_stations(&r, (const char *const[]){"--cursor", "4", "--json", NULL});
    j = parse_out(&r);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "stations")), 1);
    cJSON_Delete(j);
    fs_run_free(&r);
}

static void
test_table_has_header_rows_and_footer(void **state)
{
    struct fs_run r;

    (void)state;
    run_stations(&r, (const char *const[]){NULL});
    assert_int_equal(r.exit, 0);
    assert_int_equal(r.err_len, 0);
    assert_memory_equal(r.out, "SYSTEM      STATION  NAME", 25);
    assert_null(strstr(r.out, "DIST"));
    assert_non_null(strstr(r.out, "\n" FS_SYSTEM "  1  "));
    assert_non_null(strstr(r.out, "\n" FS_SYSTEM "  2  "));
    assert_null(strstr(r.out, "\n" FS_SYSTEM "  3  "));
    assert_non_null(strstr(r.out, "\n2 of 5 stations; --all for every page\n"));
    fs_run_free(&r);
}

static void
test_near_adds_distances(void **state)
{
    struct fs_run r;
    cJSON        *j, *arr;
    double        d;

    (void)state;
    run_stations(&r, (const char *const[]){"--near", "48.87,2.35", "--all",
                                           "--json", NULL});
    j = parse_out(&r);
    arr = cJSON_GetObjectItemCaseSensitive(j, "stations");
    assert_int_equal(
        velo_json_dbl(cJSON_GetArrayItem(arr, 4), "distance_m", &d), VELO_OK);
    assert_true(d == 400.0);
    cJSON_Delete(j);
    fs_run_free(&r);

    run_stations(&r, (const char *const[]){"--near", "48.87,2.35", NULL});
    assert_int_equal(r.exit, 0);
    assert_non_null(strstr(r.out, "  DIST\n"));
    assert_non_null(strstr(r.out, "  100m\n"));
    fs_run_free(&r);
}

static void
test_repeated_cursor_stops_with_exit_1(void **state)
{
    struct fs_run r;

    (void)state;
    atomic_store(&fake.loop, true);
    run_stations(&r, (const char *const[]){"--all", NULL});
    atomic_store(&fake.loop, false);
    assert_int_equal(r.exit, 1);
    assert_non_null(strstr(r.err, "returned the same cursor twice"));
    assert_true(atomic_load(&fake.list_calls) <= 3);
    assert_int_equal(r.out_len, 0);
    fs_run_free(&r);
}

static void
test_service_error_is_exit_1_with_its_text(void **state)
{
    struct fs_run r;

    (void)state;
    run_stations(&r, (const char *const[]){"--cursor", "zz", NULL});
    assert_int_equal(r.exit, 1);
    assert_string_equal(r.err,
                        "veloctl: velo-stream answered INVALID_ARGUMENT: bad "
                        "cursor\n");
    fs_run_free(&r);
}

/* Fault 12: `veloctl stations nosuch:sys` printed "no stations match"
 * and exited 0. */
static void
test_unknown_system_is_exit_1(void **state)
{
    const char   *argv[] = {"veloctl",  "--rpc",      fs_url(&fake),
                            "stations", "nosuch:sys", NULL};
    struct fs_run r;

    (void)state;
    fs_run(&r, argv);
    assert_int_equal(r.exit, 1);
    assert_string_equal(r.err, "veloctl: unknown system nosuch:sys\n");
    assert_int_equal(r.out_len, 0);
    fs_run_free(&r);
}

static void
test_request_carries_only_given_options(void **state)
{
    static struct veloctl_args    a;
    Velo__V1__ListStationsRequest rq;
    char                          err[256];
    char *argv[] = {"veloctl", "stations", "s",        "--min-docks", "3",
                    "--q",     "gare",     "--status", "open"};

    (void)state;
    assert_int_equal(
        veloctl_args_parse(&a, 9, argv, NULL, NULL, err, sizeof(err)), VELO_OK);
    veloctl_list_request(&rq, &a);
    assert_string_equal(rq.system_id, "s");
    assert_true(rq.has_min_docks && rq.min_docks == 3);
    assert_false(rq.has_min_bikes);
    assert_false(rq.has_near_lat || rq.has_near_lon || rq.has_radius_m);
    assert_false(rq.has_limit); /* the service's default page */
    assert_true(rq.has_status);
    assert_int_equal(rq.status, VELO__V1__STATION_STATUS__STATION_STATUS_OPEN);
    assert_string_equal(rq.q, "gare");
    assert_null(rq.cursor);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_follows_every_cursor),
        cmocka_unit_test(test_one_page_gives_the_next_cursor),
        cmocka_unit_test(test_table_has_header_rows_and_footer),
        cmocka_unit_test(test_near_adds_distances),
        cmocka_unit_test(test_repeated_cursor_stops_with_exit_1),
        cmocka_unit_test(test_service_error_is_exit_1_with_its_text),
        cmocka_unit_test(test_unknown_system_is_exit_1),
        cmocka_unit_test(test_request_carries_only_given_options),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
