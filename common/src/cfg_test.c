/* cfg_test.c: precedence, parsing, error reporting, help and the dump. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "velo/cfg.h"

struct tcfg {
    struct velo_common_cfg common;
    uint32_t               interval_ms;
    bool                   once;
    double                 ratio;
    const char            *token;
    struct velo_strlist    sources;
    const char            *label;
    uint32_t               pin;
};

#define CFG(f) .off = offsetof(struct tcfg, f)
static const struct velo_opt topts[] = {
    VELO_COMMON_OPTS(struct tcfg, common),
    {"interval-ms", "VELO_T_INTERVAL_MS", "5000", VELO_OPT_U32,
     CFG(interval_ms), .help = "poll interval", .min = 100, .max = 60000},
    {"once", "VELO_T_ONCE", "false", VELO_OPT_BOOL, CFG(once),
     .help = "run once"},
    {"ratio", "VELO_T_RATIO", "0.5", VELO_OPT_DBL, CFG(ratio),
     .help = "a | ratio"},
    {"api-token", "VELO_T_API_TOKEN", "s3cr3t-default", VELO_OPT_STR,
     CFG(token), .help = "token", .secret = true},
    {"source", "VELO_T_SOURCES", NULL, VELO_OPT_LIST, CFG(sources),
     .help = "where to poll"},
    {"label", "VELO_T_LABEL", NULL, VELO_OPT_STR, CFG(label),
     .help = "free text", .optional = true},
    {"pin", "VELO_T_PIN", "97531", VELO_OPT_U32, CFG(pin), .help = "a pin",
     .secret = true},
};

static int check_calls;

/* Cross-field rule: --once needs an interval of at least 1 s. */
static int
tcheck(const void *cfg, char *errs, size_t size)
{
    const struct tcfg *c = cfg;

    check_calls++;
    if (c->once && c->interval_ms < 1000) {
        snprintf(errs, size, "--once needs --interval-ms >= 1000\n");
        return 1;
    }
    return 0;
}

static const struct velo_cfg_spec tspec = {
    .svc = "test",
    .summary = "a test service",
    .opts = topts,
    .nopts = sizeof(topts) / sizeof(topts[0]),
    .admin_port_default = "9101",
    .check = tcheck,
};

static const char *const envs[] = {
    "VELO_READY_FILE",    "VELO_ADMIN_PORT",    "VELO_ADMIN_BIND",
    "VELO_LOG_LEVEL",     "VELO_KAFKA_BROKERS", "VELO_SHUTDOWN_TIMEOUT_MS",
    "VELO_T_INTERVAL_MS", "VELO_T_ONCE",        "VELO_T_RATIO",
    "VELO_T_API_TOKEN",   "VELO_T_SOURCES",     "VELO_T_LABEL",
    "VELO_T_PIN",
};

static int
clear_env(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
        unsetenv(envs[i]);
    check_calls = 0;
    return 0;
}

/* Redirects fd (1 or 2) into an unlinked temp file until cap_end. */
struct capture {
    int target, saved, file;
};

static void
cap_begin(struct capture *c, int target)
{
    char tmpl[] = "/tmp/velo-cfg-test-XXXXXX";

    fflush(stdout);
    fflush(stderr);
    c->target = target;
    c->file = mkstemp(tmpl);
    assert_true(c->file >= 0);
    unlink(tmpl);
    c->saved = dup(target);
    assert_true(dup2(c->file, target) >= 0);
}

/* Restores the fd and returns what was written (caller frees). */
static char *
cap_end(struct capture *c)
{
    off_t len;
    char *s;

    assert_true(dup2(c->saved, c->target) >= 0);
    close(c->saved);
    len = lseek(c->file, 0, SEEK_END);
    s = calloc(1, (size_t)len + 1);
    assert_non_null(s);
    assert_int_equal(pread(c->file, s, (size_t)len, 0), len);
    close(c->file);
    return s;
}

/* Loads with argv {"velo-test", args..., NULL}. */
static int
load_spec(const struct velo_cfg_spec *spec, struct tcfg *c, ...)
{
    char   *argv[32];
    int     argc = 0;
    va_list ap;

    memset(c, 0, sizeof(*c));
    argv[argc++] = "velo-test";
    va_start(ap, c);
    while ((argv[argc] = va_arg(ap, char *)) != NULL)
        argc++;
    va_end(ap);
    return velo_cfg_load(spec, c, argc, argv);
}

#define LOAD(c, ...) load_spec(&tspec, c, ##__VA_ARGS__, (char *)NULL)

/* Loads expecting failure and returns the stderr text (caller frees). */
#define LOAD_ERR(c, ...)                                                       \
    ({                                                                         \
        struct capture cap_;                                                   \
        cap_begin(&cap_, STDERR_FILENO);                                       \
        assert_int_equal(LOAD(c, ##__VA_ARGS__), VELO_EINVAL);                 \
        cap_end(&cap_);                                                        \
    })

static void
test_cfg_defaults_apply_when_nothing_else_is_given(void **state)
{
    struct tcfg c;

    (void)state;
    assert_int_equal(LOAD(&c, "--source=a"), VELO_OK);
    assert_int_equal(c.interval_ms, 5000);
    assert_false(c.once);
    assert_true(c.ratio == 0.5);
    assert_string_equal(c.token, "s3cr3t-default");
    assert_int_equal(c.common.admin_port, 9101);
    assert_string_equal(c.common.admin_bind, "127.0.0.1");
    assert_int_equal(c.common.log_level, VELO_LOG_INFO);
    assert_string_equal(c.common.kafka_brokers, "127.0.0.1:9092");
    assert_int_equal(c.common.shutdown_timeout_ms, 10000);
    assert_null(c.common.ready_file);
    assert_null(c.label);
    assert_int_equal(c.pin, 97531);
    assert_int_equal(check_calls, 1);
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_env_overrides_default(void **state)
{
    struct tcfg c;

    (void)state;
    setenv("VELO_LOG_LEVEL", "debug", 1);
    setenv("VELO_ADMIN_PORT", "0", 1);
    setenv("VELO_T_ONCE", "yes", 1);
    setenv("VELO_T_INTERVAL_MS", "2500", 1);
    assert_int_equal(LOAD(&c, "--source=a"), VELO_OK);
    assert_int_equal(c.interval_ms, 2500);
    assert_int_equal(c.common.log_level, VELO_LOG_DEBUG);
    assert_int_equal(c.common.admin_port, 0);
    assert_true(c.once);
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_flag_overrides_env(void **state)
{
    struct tcfg c;

    (void)state;
    setenv("VELO_T_INTERVAL_MS", "250", 1);
    setenv("VELO_KAFKA_BROKERS", "env:1", 1);
    assert_int_equal(LOAD(&c, "--source=a", "--interval-ms=300",
                          "--kafka-brokers", "flag:2"),
                     VELO_OK);
    assert_int_equal(c.interval_ms, 300);
    assert_string_equal(c.common.kafka_brokers, "flag:2");
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_last_flag_wins_in_both_forms(void **state)
{
    struct tcfg c;

    (void)state;
    assert_int_equal(
        LOAD(&c, "--source=a", "--interval-ms=300", "--interval-ms", "400"),
        VELO_OK);
    assert_int_equal(c.interval_ms, 400);
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_empty_env_counts_as_unset(void **state)
{
    struct tcfg c;

    (void)state;
    setenv("VELO_T_INTERVAL_MS", "", 1);
    assert_int_equal(LOAD(&c, "--source=a"), VELO_OK);
    assert_int_equal(c.interval_ms, 5000);
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_bare_bool_flag_is_true_and_takes_no_value(void **state)
{
    struct tcfg c;

    (void)state;
    /* "--once --source x": x belongs to --source, not to --once. */
    assert_int_equal(LOAD(&c, "--interval-ms=1000", "--once", "--source", "x"),
                     VELO_OK);
    assert_true(c.once);
    assert_int_equal(c.sources.len, 1);
    assert_string_equal(c.sources.items[0], "x");
    velo_cfg_fini(&tspec, &c);

    setenv("VELO_T_ONCE", "true", 1);
    assert_int_equal(LOAD(&c, "--source=a", "--once=false"), VELO_OK);
    assert_false(c.once);
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_list_env_splits_on_whitespace(void **state)
{
    struct tcfg c;

    (void)state;
    setenv("VELO_T_SOURCES", "  a=gbfs:x\tb=simulate:y   c ", 1);
    assert_int_equal(LOAD(&c), VELO_OK);
    assert_int_equal(c.sources.len, 3);
    assert_string_equal(c.sources.items[0], "a=gbfs:x");
    assert_string_equal(c.sources.items[1], "b=simulate:y");
    assert_string_equal(c.sources.items[2], "c");
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_list_flags_repeat_and_replace_env(void **state)
{
    struct tcfg c;

    (void)state;
    setenv("VELO_T_SOURCES", "envA envB envC", 1);
    assert_int_equal(
        LOAD(&c, "--source", "x y", "--interval-ms=200", "--source=z"),
        VELO_OK);
    /* A flag value is one item even with a space inside. */
    assert_int_equal(c.sources.len, 2);
    assert_string_equal(c.sources.items[0], "x y");
    assert_string_equal(c.sources.items[1], "z");
    velo_cfg_fini(&tspec, &c);
    assert_null(c.sources.items);
    assert_int_equal(c.sources.len, 0);
    velo_cfg_fini(&tspec, &c); /* twice is harmless */
}

static void
test_cfg_flag_value_may_be_empty(void **state)
{
    struct tcfg c;

    (void)state;
    assert_int_equal(LOAD(&c, "--source=a", "--label="), VELO_OK);
    assert_non_null(c.label);
    assert_string_equal(c.label, "");
    velo_cfg_fini(&tspec, &c);
}

static void
test_cfg_reports_every_error_at_once(void **state)
{
    struct tcfg c;
    char       *err;

    (void)state;
    err = LOAD_ERR(&c, "--bogus=1", "--interval-ms=abc", "--admin-port=70000",
                   "--ratio=nan", "--log-level=loud", "stray", "--once=maybe");
    assert_non_null(strstr(err, "velo-test: invalid configuration"));
    assert_non_null(strstr(err, "(8 problems)"));
    assert_non_null(strstr(err, "unknown flag --bogus"));
    assert_non_null(strstr(err, "--interval-ms=\"abc\""));
    assert_non_null(strstr(err, "--admin-port=\"70000\""));
    assert_non_null(strstr(err, "out of range 0..65535"));
    assert_non_null(strstr(err, "--ratio=\"nan\""));
    assert_non_null(strstr(err, "--log-level=\"loud\""));
    assert_non_null(strstr(err, "unexpected argument \"stray\""));
    assert_non_null(strstr(err, "--once=\"maybe\""));
    assert_non_null(
        strstr(err, "--source is required (or set VELO_T_SOURCES)"));
    /* A failed load keeps nothing allocated and skips the cross check. */
    assert_null(c.sources.items);
    assert_int_equal(check_calls, 0);
    free(err);
}

static void
test_cfg_error_names_the_env_var_it_came_from(void **state)
{
    struct tcfg c;
    char       *err;

    (void)state;
    setenv("VELO_T_INTERVAL_MS", "99", 1);
    err = LOAD_ERR(&c, "--source=a");
    assert_non_null(strstr(err, "(from VELO_T_INTERVAL_MS)"));
    assert_non_null(strstr(err, "out of range 100..60000"));
    assert_non_null(strstr(err, "(1 problem)"));
    free(err);
}

static void
test_cfg_errors_never_print_secret_values(void **state)
{
    struct tcfg c;
    char       *err;

    (void)state;
    /* A typo in a secret flag, and a malformed secret number. */
    err = LOAD_ERR(&c, "--source=a", "--api-tokn=hunter2", "--pin=98x76");
    assert_non_null(strstr(err, "unknown flag --api-tokn"));
    assert_non_null(strstr(err, "--pin (from command line)"));
    assert_null(strstr(err, "hunter2"));
    assert_null(strstr(err, "98x76"));
    free(err);
}

static void
test_cfg_missing_value_of_last_flag_is_an_error(void **state)
{
    struct tcfg c;
    char       *err;

    (void)state;
    err = LOAD_ERR(&c, "--source=a", "--interval-ms");
    assert_non_null(strstr(err, "--interval-ms needs a value"));
    free(err);
}

static void
test_cfg_admin_port_without_service_default_is_required(void **state)
{
    struct velo_cfg_spec spec = tspec;
    struct capture       cap;
    struct tcfg          c;
    char                *err;

    (void)state;
    spec.admin_port_default = NULL;
    cap_begin(&cap, STDERR_FILENO);
    assert_int_equal(load_spec(&spec, &c, "--source=a", (char *)NULL),
                     VELO_EINVAL);
    err = cap_end(&cap);
    assert_non_null(strstr(err, "--admin-port is required"));
    free(err);
    /* The flag alone satisfies it. */
    assert_int_equal(
        load_spec(&spec, &c, "--source=a", "--admin-port=7", (char *)NULL),
        VELO_OK);
    assert_int_equal(c.common.admin_port, 7);
    velo_cfg_fini(&spec, &c);
}

static void
test_cfg_check_runs_after_parsing_and_fails_the_load(void **state)
{
    struct tcfg c;
    char       *err;

    (void)state;
    err = LOAD_ERR(&c, "--source=a", "--once", "--interval-ms=500");
    assert_int_equal(check_calls, 1);
    assert_non_null(strstr(err, "  --once needs --interval-ms >= 1000\n"));
    assert_non_null(strstr(err, "(1 problem)"));
    free(err);
}

static void
test_cfg_help_prints_usage_and_wins_over_errors(void **state)
{
    struct capture cap;
    struct tcfg    c;
    char          *out;

    (void)state;
    cap_begin(&cap, STDOUT_FILENO);
    /* No required --source and a bad flag: --help still answers. */
    assert_int_equal(LOAD(&c, "--bogus", "--help"), VELO_CFG_HELP);
    out = cap_end(&cap);
    assert_non_null(strstr(out, "usage: velo-test"));
    assert_non_null(strstr(out, "a test service"));
    assert_non_null(strstr(out, "--interval-ms=N  env VELO_T_INTERVAL_MS"));
    assert_non_null(strstr(out, "poll interval (100..60000)"));
    assert_non_null(strstr(out, "default: 5000"));
    assert_non_null(strstr(out, "--admin-port=N  env VELO_ADMIN_PORT\n"));
    assert_non_null(strstr(out, "default: 9101"));
    assert_non_null(strstr(out, "--once[=BOOL]"));
    assert_non_null(strstr(out, "--source=ITEM"));
    assert_non_null(strstr(out, "default: (required)"));
    assert_non_null(strstr(out, "default: (hidden)"));
    assert_null(strstr(out, "s3cr3t-default"));
    assert_null(strstr(out, "97531"));
    assert_non_null(strstr(out, "--help-markdown"));
    assert_int_equal(check_calls, 0);
    free(out);
}

/* Counts the '|' that are not escaped as "\|". */
static int
cell_bars(const char *line, size_t n)
{
    size_t i;
    int    bars = 0;

    for (i = 0; i < n; i++)
        bars += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    return bars;
}

static void
test_cfg_help_markdown_prints_one_row_per_setting(void **state)
{
    struct capture cap;
    struct tcfg    c;
    const char    *p, *nl;
    char          *out;
    size_t         rows = 0;

    (void)state;
    cap_begin(&cap, STDOUT_FILENO);
    assert_int_equal(LOAD(&c, "--help-markdown"), VELO_CFG_HELP);
    out = cap_end(&cap);
    assert_memory_equal(out, "## velo-test\n", 13);
    assert_non_null(strstr(out, "| flag | env | default | description |\n"));
    assert_non_null(strstr(out, "| `--interval-ms` | `VELO_T_INTERVAL_MS` | "
                                "`5000` | poll interval (100..60000) |\n"));
    assert_non_null(strstr(out, "| `--admin-port` | `VELO_ADMIN_PORT` | "
                                "`9101` |"));
    assert_non_null(strstr(out, "| `--source` | `VELO_T_SOURCES` | "
                                "(required) |"));
    assert_non_null(strstr(out, "a \\| ratio"));
    assert_null(strstr(out, "s3cr3t-default"));
    for (p = out; *p != '\0'; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl);
        if (*p != '|')
            continue;
        assert_int_equal(cell_bars(p, (size_t)(nl - p)), 5);
        rows++;
    }
    assert_int_equal(rows, 2 + tspec.nopts); /* header, rule, settings */
    free(out);
}

/* The config.value event for key in the captured log lines, or NULL. */
static cJSON *
find_event(cJSON **events, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++) {
        cJSON *k = cJSON_GetObjectItemCaseSensitive(events[i], "key");
        if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
            return cJSON_GetObjectItemCaseSensitive(events[i], "value");
    }
    return NULL;
}

static void
test_cfg_log_dumps_every_setting_with_secrets_redacted(void **state)
{
    struct tcfg c;
    cJSON      *events[32];
    char        buf[16384], *line, *nl;
    ssize_t     n;
    size_t      nev = 0, i;
    int         fds[2];

    (void)state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(LOAD(&c, "--source=a", "--source=b", "--ratio=0.25"),
                     VELO_OK);
    velo_log_init("test", VELO_LOG_INFO, fds[1]);
    velo_cfg_log(&tspec, &c);
    velo_log_init("test", VELO_LOG_INFO, STDOUT_FILENO);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_null(strstr(buf, "s3cr3t-default"));
    assert_null(strstr(buf, "97531"));
    for (line = buf; (nl = strchr(line, '\n')) != NULL && nev < 32;
         line = nl + 1) {
        *nl = '\0';
        events[nev] = cJSON_Parse(line);
        assert_non_null(events[nev]);
        assert_string_equal(
            cJSON_GetObjectItem(events[nev], "event")->valuestring,
            "config.value");
        nev++;
    }
    assert_int_equal(nev, tspec.nopts);
    assert_string_equal(find_event(events, nev, "api-token")->valuestring,
                        "<redacted>");
    assert_string_equal(find_event(events, nev, "pin")->valuestring,
                        "<redacted>");
    assert_true(cJSON_IsNull(find_event(events, nev, "label")));
    assert_true(cJSON_IsNull(find_event(events, nev, "ready-file")));
    assert_true(find_event(events, nev, "interval-ms")->valuedouble == 5000);
    assert_true(find_event(events, nev, "ratio")->valuedouble == 0.25);
    assert_true(cJSON_IsFalse(find_event(events, nev, "once")));
    assert_string_equal(find_event(events, nev, "log-level")->valuestring,
                        "info");
    assert_string_equal(find_event(events, nev, "source")->valuestring, "a b");
    for (i = 0; i < nev; i++)
        cJSON_Delete(events[i]);
    velo_cfg_fini(&tspec, &c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, clear_env)
        T(test_cfg_defaults_apply_when_nothing_else_is_given),
        T(test_cfg_env_overrides_default),
        T(test_cfg_flag_overrides_env),
        T(test_cfg_last_flag_wins_in_both_forms),
        T(test_cfg_empty_env_counts_as_unset),
        T(test_cfg_bare_bool_flag_is_true_and_takes_no_value),
        T(test_cfg_list_env_splits_on_whitespace),
        T(test_cfg_list_flags_repeat_and_replace_env),
        T(test_cfg_flag_value_may_be_empty),
        T(test_cfg_reports_every_error_at_once),
        T(test_cfg_error_names_the_env_var_it_came_from),
        T(test_cfg_errors_never_print_secret_values),
        T(test_cfg_missing_value_of_last_flag_is_an_error),
        T(test_cfg_admin_port_without_service_default_is_required),
        T(test_cfg_check_runs_after_parsing_and_fails_the_load),
        T(test_cfg_help_prints_usage_and_wins_over_errors),
        T(test_cfg_help_markdown_prints_one_row_per_setting),
        T(test_cfg_log_dumps_every_setting_with_secrets_redacted),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
