/* args_test.c: veloctl's command line: what is accepted, what each option
 * sets, and a clear message for everything that is not accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

static struct veloctl_args a;
static char                err[512];

/* Parses a NULL-terminated argv (program name added) with the given
 * environment values. */
static int
parse_env(const char *env_rpc, const char *env_pub, const char *const *args)
{
    char *argv[32];
    int   argc = 1;

    argv[0] = "veloctl";
    while (args[argc - 1] != NULL) {
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    return veloctl_args_parse(&a, argc, argv, env_rpc, env_pub, err,
                              sizeof(err));
}

#define PARSE(...)                                                             \
    parse_env(NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})

/* The parse fails and the message contains want. */
static void
assert_rejected(int rv, const char *want)
{
    assert_int_equal(rv, VELO_EINVAL);
    if (strstr(err, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, want);
}

static void
test_defaults(void **state)
{
    (void)state;
    assert_int_equal(PARSE("systems"), VELO_OK);
    assert_int_equal(a.cmd, VELOCTL_SYSTEMS);
    assert_int_equal(a.nrpc, 1);
    assert_string_equal(a.rpc[0], "tcp://127.0.0.1:7701");
    assert_string_equal(a.pub, "tcp://127.0.0.1:7702");
    assert_int_equal(a.timeout_ms, 2000);
    assert_false(a.json);
    assert_int_equal(a.log_level, VELO_LOG_OFF);
}

static void
test_stations_every_option(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--json", "stations", "gbfs:lyon", "--near",
                           "45.76,-4.83", "--radius=500", "--min-bikes", "2",
                           "--min-docks", "0", "--status", "CLOSED", "--q",
                           "gare", "--limit", "5000", "--all", "--cursor",
                           "abc"),
                     VELO_OK);
    assert_int_equal(a.cmd, VELOCTL_STATIONS);
    assert_string_equal(a.system, "gbfs:lyon");
    assert_true(a.json && a.has_near && a.all);
    assert_true(a.near_lat == 45.76 && a.near_lon == -4.83);
    assert_true(a.has_radius && a.radius_m == 500);
    assert_true(a.has_min_bikes && a.min_bikes == 2);
    assert_true(a.has_min_docks && a.min_docks == 0);
    assert_true(a.has_status);
    assert_int_equal(a.status, VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED);
    assert_string_equal(a.q, "gare");
    assert_true(a.has_limit && a.limit == 5000);
    assert_string_equal(a.cursor, "abc");
}

static void
test_stations_without_system_means_every_system(void **state)
{
    (void)state;
    assert_int_equal(PARSE("stations", "--near", "-33.86,151.2"), VELO_OK);
    assert_null(a.system);
    assert_true(a.near_lat == -33.86); /* a negative value is a value */
}

static void
test_station_and_watch_positionals(void **state)
{
    (void)state;
    assert_int_equal(PARSE("station", "jcdecaux:dublin", "42"), VELO_OK);
    assert_int_equal(a.cmd, VELOCTL_STATION);
    assert_string_equal(a.system, "jcdecaux:dublin");
    assert_string_equal(a.station, "42");
    assert_int_equal(
        PARSE("watch", "demo:x", "--count", "3", "--timeout-s", "10", "--json"),
        VELO_OK);
    assert_int_equal(a.cmd, VELOCTL_WATCH);
    assert_true(a.has_count && a.count == 3);
    assert_true(a.has_timeout_s && a.timeout_s == 10);
    /* "--" lets an id start with a dash. */
    assert_int_equal(PARSE("station", "s", "--", "-7"), VELO_OK);
    assert_string_equal(a.station, "-7");
}

static void
test_rpc_flags_replace_env_and_repeat(void **state)
{
    (void)state;
    assert_int_equal(parse_env(" tcp://a:1, tcp://b:2 ", "tcp://p:3",
                               (const char *const[]){"health", NULL}),
                     VELO_OK);
    assert_int_equal(a.nrpc, 2);
    assert_string_equal(a.rpc[0], "tcp://a:1");
    assert_string_equal(a.rpc[1], "tcp://b:2");
    assert_string_equal(a.pub, "tcp://p:3");
    assert_int_equal(
        parse_env("tcp://a:1", NULL,
                  (const char *const[]){"--rpc", "tcp://c:3", "health",
                                        "--rpc=ipc:///tmp/s", NULL}),
        VELO_OK);
    assert_int_equal(a.nrpc, 2);
    assert_string_equal(a.rpc[0], "tcp://c:3");
    assert_string_equal(a.rpc[1], "ipc:///tmp/s");
}

static void
test_help(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--help"), VELO_CFG_HELP);
    assert_int_equal(PARSE("stations", "--near", "x", "-h"), VELO_CFG_HELP);
    assert_int_equal(PARSE("help"), VELO_CFG_HELP);
    assert_non_null(strstr(veloctl_usage(), "--near LAT,LON"));
}

static void
test_near_rejects_bad_values(void **state)
{
    (void)state;
    assert_rejected(PARSE("stations", "--near", "91,0"),
                    "--near: latitude 91 is outside -90..90");
    assert_rejected(PARSE("stations", "--near", "0,180.5"),
                    "--near: longitude 180.5 is outside -180..180");
    assert_rejected(PARSE("stations", "--near", "x"),
                    "--near: expected LAT,LON in decimal degrees");
    assert_rejected(PARSE("stations", "--near", "x"), "got \"x\"");
    assert_rejected(PARSE("stations", "--near", "1,2,3"), "expected LAT,LON");
    assert_rejected(PARSE("stations", "--near", "1,"), "expected LAT,LON");
    assert_rejected(PARSE("stations", "--near", "nan,1"), "expected LAT,LON");
    assert_rejected(PARSE("stations", "--near"), "--near needs a value");
}

static void
test_numbers_are_strict(void **state)
{
    (void)state;
    assert_rejected(PARSE("stations", "--limit", "0"),
                    "--limit: expected a whole number from 1 to 5000");
    assert_rejected(PARSE("stations", "--limit", "5001"), "--limit");
    assert_rejected(PARSE("stations", "--limit", "12abc"), "\"12abc\"");
    assert_rejected(PARSE("stations", "--min-bikes", "-1"), "--min-bikes");
    assert_rejected(PARSE("--timeout-ms", "0", "systems"), "--timeout-ms");
    assert_rejected(PARSE("watch", "s", "--count", "0"), "--count");
    assert_rejected(PARSE("stations", "--near", "1,2", "--radius", "1e3"),
                    "--radius");
}

static void
test_unknown_and_misplaced_options(void **state)
{
    (void)state;
    assert_rejected(PARSE("systems", "--frobnicate"),
                    "unknown option --frobnicate");
    assert_rejected(PARSE("systems", "-x"), "unknown option -x");
    assert_rejected(PARSE("systems", "--near", "1,2"),
                    "--near does not apply to systems");
    assert_rejected(PARSE("station", "s", "1", "--count", "2"),
                    "--count does not apply to station");
    assert_rejected(PARSE("stations", "--radius", "100"),
                    "--radius needs --near");
    assert_rejected(PARSE("systems", "--json=yes"), "--json takes no value");
    assert_rejected(PARSE("stations", "--status", "broken"),
                    "--status: expected open or closed");
    assert_rejected(PARSE("stations", "--q", ""), "--q");
}

static void
test_commands_and_arguments(void **state)
{
    (void)state;
    assert_rejected(PARSE("--json"), "missing command");
    assert_rejected(PARSE("stats"), "unknown command \"stats\"");
    assert_rejected(PARSE("station", "s"), "station needs SYSTEM and ID");
    assert_rejected(PARSE("watch"), "watch needs SYSTEM");
    assert_rejected(PARSE("systems", "extra"),
                    "unexpected argument \"extra\" after systems");
    assert_rejected(PARSE("station", "s", "1", "2"),
                    "unexpected argument \"2\"");
    assert_rejected(PARSE("station", "", "1"), "1 to 256 bytes");
}

static void
test_addresses_are_checked(void **state)
{
    (void)state;
    assert_rejected(PARSE("--rpc", "localhost:7701", "systems"),
                    "--rpc: \"localhost:7701\" is not an address");
    assert_rejected(PARSE("--rpc", "tcp://host", "systems"), "--rpc");
    assert_rejected(PARSE("--rpc", "tcp://host:99999", "systems"), "--rpc");
    assert_rejected(PARSE("--rpc", "tcp://:7701", "systems"), "--rpc");
    assert_rejected(PARSE("--pub", "http://x:1", "watch", "s"), "--pub");
    assert_rejected(parse_env("tcp://ok:1 bogus", NULL,
                              (const char *const[]){"systems", NULL}),
                    "VELO_STREAM_RPC: \"bogus\"");
    assert_rejected(
        parse_env(NULL, "nope", (const char *const[]){"systems", NULL}),
        "VELO_STREAM_PUB");
    assert_int_equal(PARSE("--rpc", "tcp://[::1]:7701", "systems"), VELO_OK);
}

static void
test_log_level(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--log-level", "warn", "systems"), VELO_OK);
    assert_int_equal(a.log_level, VELO_LOG_WARN);
    assert_rejected(PARSE("--log-level", "loud", "systems"), "--log-level");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_stations_every_option),
        cmocka_unit_test(test_stations_without_system_means_every_system),
        cmocka_unit_test(test_station_and_watch_positionals),
        cmocka_unit_test(test_rpc_flags_replace_env_and_repeat),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_near_rejects_bad_values),
        cmocka_unit_test(test_numbers_are_strict),
        cmocka_unit_test(test_unknown_and_misplaced_options),
        cmocka_unit_test(test_commands_and_arguments),
        cmocka_unit_test(test_addresses_are_checked),
        cmocka_unit_test(test_log_level),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
