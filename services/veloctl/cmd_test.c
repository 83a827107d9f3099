/* cmd_test.c: the commands end to end over real sockets: an address where
 * nothing listens (exit 3 naming the URLs tried), and a fake
 * StationService for systems, station and health (exit 0 / 1, output
 * shape, failover). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fakestream_test_util.h"
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

/* "tcp://127.0.0.1:<a port nothing listens on>" */
static void
dead_url(char *buf, size_t size)
{
    int port = fs_free_port();

    assert_true(port > 0);
    snprintf(buf, size, "tcp://127.0.0.1:%d", port);
}

static void
test_unreachable_service_is_exit_3_naming_the_url(void **state)
{
    static const char *const cmds[][4] = {{"systems", NULL},
                                          {"stations", "x", NULL},
                                          {"station", "x", "1", NULL},
                                          {"health", NULL},
                                          {"watch", "x", NULL}};
    const char              *argv[10];
    char                     url[64];
    struct fs_run            r;
    size_t                   i, k;

    (void)state;
    dead_url(url, sizeof(url));
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        argv[0] = "veloctl";
        argv[1] = "--rpc";
        argv[2] = url;
        argv[3] = "--timeout-ms";
        argv[4] = "200";
        for (k = 0; cmds[i][k] != NULL; k++)
            argv[5 + k] = cmds[i][k];
        argv[5 + k] = NULL;
        fs_run(&r, argv);
        assert_int_equal(r.exit, 3);
        assert_non_null(strstr(r.err, "cannot reach velo-stream RPC at"));
        assert_non_null(strstr(r.err, url));
        if (strcmp(cmds[i][0], "health") != 0)
            assert_int_equal(r.out_len, 0); /* nothing half-printed */
        fs_run_free(&r);
    }
}

static void
test_unreachable_lists_every_failover_url(void **state)
{
    char          a[64], b[64];
    const char   *argv[] = {"veloctl",      "--rpc", a,         "--rpc", b,
                            "--timeout-ms", "300",   "systems", NULL};
    struct fs_run r;

    (void)state;
    dead_url(a, sizeof(a));
    snprintf(b, sizeof(b), "tcp://127.0.0.1:1");
    fs_run(&r, argv);
    assert_int_equal(r.exit, 3);
    assert_non_null(strstr(r.err, a));
    assert_non_null(strstr(r.err, b));
    fs_run_free(&r);
}

static void
test_failover_reaches_the_live_instance(void **state)
{
    char          dead[64];
    const char   *argv[] = {"veloctl", "--rpc",       dead,
                            "--rpc",   fs_url(&fake), "--timeout-ms",
                            "2000",    "systems",     NULL};
    struct fs_run r;

    (void)state;
    dead_url(dead, sizeof(dead));
    fs_run(&r, argv);
    assert_int_equal(r.exit, 0);
    assert_non_null(strstr(r.out, FS_SYSTEM));
    fs_run_free(&r);
}

static void
test_station_not_found_is_exit_1_with_message(void **state)
{
    const char   *argv[] = {"veloctl", "--rpc", fs_url(&fake), "station",
                            FS_SYSTEM, "nope",  NULL};
    struct fs_run r;

    (void)state;
    fs_run(&r, argv);
    assert_int_equal(r.exit, 1);
    assert_string_equal(r.err, "veloctl: no station demo:paris/nope\n");
    assert_int_equal(r.out_len, 0);
    fs_run_free(&r);
}

static void
test_station_json_is_the_station_object(void **state)
{
    const char   *argv[] = {"veloctl", "--rpc", fs_url(&fake), "station",
                            FS_SYSTEM, "2",     "--json",      NULL};
    struct fs_run r;
    cJSON        *j = NULL;
    const char   *s;
    uint32_t      u;
    int64_t       age;

    (void)state;
    fs_run(&r, argv);
    assert_int_equal(r.exit, 0);
    assert_int_equal(r.err_len, 0);
    assert_int_equal(r.out[r.out_len - 1], '\n');
    assert_int_equal(velo_json_parse(r.out, r.out_len, &j), VELO_OK);
    assert_int_equal(velo_json_str(j, "station_id", &s), VELO_OK);
    assert_string_equal(s, "2");
    assert_int_equal(velo_json_u32(j, "bikes_available", &u), VELO_OK);
    assert_int_equal(u, 4);
    assert_int_equal(velo_json_i64(j, "age_s", &age), VELO_OK);
    assert_int_equal(age, 30);
    /* A v1-like station: no split, so no made-up zeros. */
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "electric_bikes"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "capacity"));
    cJSON_Delete(j);
    fs_run_free(&r);
}

static void
test_station_text_shows_dash_for_absent(void **state)
{
    const char   *argv[] = {"veloctl", "--rpc", fs_url(&fake), "station",
                            FS_SYSTEM, "3",     NULL};
    struct fs_run r;

    (void)state;
    fs_run(&r, argv);
    assert_int_equal(r.exit, 0);
    assert_non_null(strstr(r.out, "station         demo:paris/3\n"));
    assert_non_null(strstr(r.out, "bikes           5\n"));
    assert_non_null(strstr(r.out, "electric        -\n"));
    assert_non_null(strstr(r.out, "status          OPEN\n"));
    fs_run_free(&r);
}

static void
test_systems_json_shape(void **state)
{
    const char   *argv[] = {"veloctl",     "--json",  "--rpc",
                            fs_url(&fake), "systems", NULL};
    struct fs_run r;
    cJSON        *j = NULL, *arr, *sys;
    const char   *s;
    uint32_t      u;

    (void)state;
    fs_run(&r, argv);
    assert_int_equal(r.exit, 0);
    assert_int_equal(velo_json_parse(r.out, r.out_len, &j), VELO_OK);
    arr = cJSON_GetObjectItemCaseSensitive(j, "systems");
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), 1);
    sys = cJSON_GetArrayItem(arr, 0);
    assert_int_equal(velo_json_str(sys, "system_id", &s), VELO_OK);
    assert_string_equal(s, FS_SYSTEM);
    assert_int_equal(velo_json_u32(sys, "stations", &u), VELO_OK);
    assert_int_equal(u, FS_N);
    assert_null(cJSON_GetObjectItemCaseSensitive(sys, "bikes_available"));
    cJSON_Delete(j);
    fs_run_free(&r);
}

static void
test_health_ready_and_not_ready(void **state)
{
    const char   *argv[] = {"veloctl", "--rpc",  fs_url(&fake),
                            "health",  "--json", NULL};
    struct fs_run r;
    cJSON        *j = NULL, *inst;
    bool          b;

    (void)state;
    fs_run(&r, argv);
    assert_int_equal(r.exit, 0);
    assert_int_equal(velo_json_parse(r.out, r.out_len, &j), VELO_OK);
    assert_int_equal(velo_json_bool(j, "ready", &b), VELO_OK);
    assert_true(b);
    inst =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "instances"), 0);
    assert_non_null(inst);
    assert_int_equal(velo_json_bool(inst, "ready", &b), VELO_OK);
    assert_true(b);
    cJSON_Delete(j);
    fs_run_free(&r);

    atomic_store(&fake.not_ready, true);
    argv[4] = NULL; /* the table this time */
    fs_run(&r, argv);
    atomic_store(&fake.not_ready, false);
    assert_int_equal(r.exit, 1);
    assert_non_null(strstr(r.out, "READY"));
    assert_non_null(strstr(r.out, "consumer lag 9000"));
    fs_run_free(&r);
}

static void
test_health_one_dead_instance_is_exit_1(void **state)
{
    char        dead[64];
    const char *argv[] = {
        "veloctl",      "--rpc", fs_url(&fake), "--rpc",  dead,
        "--timeout-ms", "200",   "health",      "--json", NULL};
    struct fs_run r;
    cJSON        *j = NULL, *arr;
    const char   *code;

    (void)state;
    dead_url(dead, sizeof(dead));
    fs_run(&r, argv);
    assert_int_equal(r.exit, 1);
    assert_int_equal(velo_json_parse(r.out, r.out_len, &j), VELO_OK);
    arr = cJSON_GetObjectItemCaseSensitive(j, "instances");
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    assert_true(cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "ready")));
    assert_int_equal(velo_json_str(cJSON_GetObjectItemCaseSensitive(
                                       cJSON_GetArrayItem(arr, 1), "error"),
                                   "code", &code),
                     VELO_OK);
    assert_string_equal(code, "UNAVAILABLE");
    cJSON_Delete(j);
    fs_run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable_service_is_exit_3_naming_the_url),
        cmocka_unit_test(test_unreachable_lists_every_failover_url),
        cmocka_unit_test(test_failover_reaches_the_live_instance),
        cmocka_unit_test(test_station_not_found_is_exit_1_with_message),
        cmocka_unit_test(test_station_json_is_the_station_object),
        cmocka_unit_test(test_station_text_shows_dash_for_absent),
        cmocka_unit_test(test_systems_json_shape),
        cmocka_unit_test(test_health_ready_and_not_ready),
        cmocka_unit_test(test_health_one_dead_instance_is_exit_1),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
