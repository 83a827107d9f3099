/* args_test.c: veloctl's command line: what is accepted, what each option
 * sets, and a clear message for everything that is not accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "velo/cursor.h"

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

/* Keyset cursors of velo-stream can be up to VELO_CURSOR_TEXT_MAX long: a
 * long one (a long station id in the sort key) must be accepted. */
static void
test_long_cursor_is_accepted(void **state)
{
    static char cur[VELO_CURSOR_TEXT_MAX + 2];

    (void)state;
    memset(cur, 'A', VELO_CURSOR_TEXT_MAX);
    cur[VELO_CURSOR_TEXT_MAX] = '\0';
    assert_int_equal(PARSE("stations", "s", "--cursor", cur), VELO_OK);
    assert_int_equal(strlen(a.cursor), VELO_CURSOR_TEXT_MAX);
    cur[VELO_CURSOR_TEXT_MAX] = 'A';
    assert_rejected(PARSE("stations", "s", "--cursor", cur), "--cursor");
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
    assert_int_equal(PARSE("systems", "--help"), VELO_CFG_HELP);
}

/* What fn writes, in a buffer the caller frees. */
static char *
capture(void (*fn)(FILE *))
{
    char  *buf = NULL;
    size_t len = 0;
    FILE  *f = open_memstream(&buf, &len);

    assert_non_null(f);
    fn(f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* The line of text that starts with want (after its indent). */
static const char *
line_of(const char *text, const char *want)
{
    const char *p = text;

    while ((p = strstr(p, want)) != NULL) {
        if (p == text || p[-1] == ' ' || p[-1] == '\n')
            return p;
        p++;
    }
    fail_msg("usage lacks \"%s\"", want);
    return NULL;
}

static void
test_usage_is_generated_from_the_tables(void **state)
{
    char       *u = capture(veloctl_usage);
    const char *p, *nl, *watch, *health, *global;
    size_t      c;

    (void)state;
    /* Every command, in enum order, each with its arguments. */
    for (c = 0, p = u; c < VELOCTL_NCMDS; c++) {
        assert_non_null(veloctl_cmd_name((enum veloctl_cmd)c));
        p = strstr(p, veloctl_cmd_name((enum veloctl_cmd)c));
        assert_non_null(p);
    }
    assert_null(veloctl_cmd_name(VELOCTL_NCMDS));
    line_of(u, "station SYSTEM ID       one station in detail");
    line_of(u, "stations [SYSTEM]       stations of SYSTEM");
    /* A command's options sit under it, the global ones at the end. */
    watch = line_of(u, "watch SYSTEM");
    health = line_of(u, "health ");
    global = line_of(u, "global options:");
    p = line_of(u, "--count N");
    assert_true(p > watch && p < health);
    p = line_of(u, "--near LAT,LON      sort by distance");
    assert_true(p < watch);
    p = line_of(u, "--rpc URL               velo-stream RPC address");
    assert_true(p > global);
    /* Wrapped help continues at the help column. */
    line_of(u,
            "(env\n                          VELO_STREAM_RPC, space-separated");
    p = line_of(u, "--help                  this text");
    assert_true(p > global);
    line_of(u, "exit status: 0 ok");
    /* 80 columns. */
    for (p = u; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        if (nl - p > 80)
            fail_msg("line over 80 columns: %.*s", (int)(nl - p), p);
    free(u);
}

static void
test_usage_short_names_every_command(void **state)
{
    char  *u = capture(veloctl_usage_short);
    size_t c;

    (void)state;
    assert_non_null(strstr(u, "usage: veloctl [OPTIONS] COMMAND"));
    for (c = 0; c < VELOCTL_NCMDS; c++)
        assert_non_null(strstr(u, veloctl_cmd_name((enum veloctl_cmd)c)));
    assert_non_null(strstr(u, "| station SYSTEM ID |"));
    assert_non_null(strstr(u, "veloctl --help"));
    free(u);
}

/* getopt_long would take a unique prefix; veloctl does not, so adding an
 * option never breaks a script that relied on a prefix. */
static void
test_abbreviated_options_are_refused(void **state)
{
    (void)state;
    assert_rejected(PARSE("systems", "--js"),
                    "unknown option --js (did you mean --json?)");
    assert_rejected(PARSE("stations", "--lim=5"),
                    "unknown option --lim=5 (did you mean --limit?)");
    assert_rejected(PARSE("stations", "--lim", "5"), "did you mean --limit?");
    assert_rejected(PARSE("stations", "--min", "5"), "unknown option --min");
    assert_rejected(PARSE("watch", "s", "--timeout", "5"),
                    "unknown option --timeout");
}

/* Scanning never stops at the command, even under POSIXLY_CORRECT, and
 * never reorders the caller's argv. */
static void
test_options_after_the_command_in_any_environment(void **state)
{
    char *argv[] = {"veloctl", "stations", "demo:x", "--all",
                    "--limit", "7",        "--",     NULL};

    (void)state;
    assert_int_equal(setenv("POSIXLY_CORRECT", "1", 1), 0);
    assert_int_equal(
        veloctl_args_parse(&a, 7, argv, NULL, NULL, err, sizeof(err)), VELO_OK);
    assert_int_equal(unsetenv("POSIXLY_CORRECT"), 0);
    assert_true(a.all && a.has_limit && a.limit == 7);
    assert_string_equal(a.system, "demo:x");
    assert_string_equal(argv[1], "stations");
    assert_string_equal(argv[2], "demo:x");
    assert_string_equal(argv[3], "--all");
    /* A second parse starts afresh. */
    assert_int_equal(PARSE("watch", "s", "--count", "2"), VELO_OK);
    assert_true(a.has_count && !a.all);
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
    assert_rejected(PARSE("--json", "-yz", "systems"), "unknown option -y");
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
        cmocka_unit_test(test_long_cursor_is_accepted),
        cmocka_unit_test(test_stations_without_system_means_every_system),
        cmocka_unit_test(test_station_and_watch_positionals),
        cmocka_unit_test(test_rpc_flags_replace_env_and_repeat),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_is_generated_from_the_tables),
        cmocka_unit_test(test_usage_short_names_every_command),
        cmocka_unit_test(test_abbreviated_options_are_refused),
        cmocka_unit_test(test_options_after_the_command_in_any_environment),
        cmocka_unit_test(test_near_rejects_bad_values),
        cmocka_unit_test(test_numbers_are_strict),
        cmocka_unit_test(test_unknown_and_misplaced_options),
        cmocka_unit_test(test_commands_and_arguments),
        cmocka_unit_test(test_addresses_are_checked),
        cmocka_unit_test(test_log_level),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
