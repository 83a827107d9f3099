/* log_test.c: every line the logger writes is one valid JSON object. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "velo/clock.h"
#include "velo/log.h"
#include "velo/utf8.h"

/* The log goes to an unlinked temp file; *state holds its fd. */
static int
setup(void **state)
{
    char tmpl[] = "/tmp/velo-log-test-XXXXXX";
    int  fd = mkstemp(tmpl);

    if (fd < 0)
        return -1;
    unlink(tmpl);
    *state = (void *)(intptr_t)fd;
    return 0;
}

static int
teardown(void **state)
{
    velo_log_init("velo", VELO_LOG_INFO, STDOUT_FILENO);
    close((int)(intptr_t)*state);
    return 0;
}

static int
log_fd(void **state)
{
    return (int)(intptr_t)*state;
}

/* Everything logged so far (caller frees). */
static char *
read_log(void **state)
{
    off_t len = lseek(log_fd(state), 0, SEEK_END);
    char *s = calloc(1, (size_t)len + 1);

    assert_non_null(s);
    assert_int_equal(pread(log_fd(state), s, (size_t)len, 0), len);
    return s;
}

/* Parses the only line in the log; it must end in exactly one newline. */
static cJSON *
only_line(void **state, size_t *len)
{
    char  *s = read_log(state);
    cJSON *j;

    *len = strlen(s);
    assert_true(*len > 0);
    assert_int_equal(s[*len - 1], '\n');
    assert_null(memchr(s, '\n', *len - 1));
    j = cJSON_Parse(s);
    if (j == NULL)
        fail_msg("not JSON: %s", s);
    free(s);
    return j;
}

static const char *
str_of(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void
test_log_writes_one_json_line_with_typed_fields(void **state)
{
    int64_t before = velo_now_ms(), ts = 0;
    size_t  len;
    cJSON  *j;

    velo_log_init("ingest", VELO_LOG_INFO, log_fd(state));
    velo_info("poll.done", VELO_S("url", "https://a.example/x"),
              VELO_I("status", -200), VELO_U("bytes", 18446744073709551615ULL),
              VELO_D("elapsed_ms", 41.7), VELO_B("changed", true));
    j = only_line(state, &len);
    assert_string_equal(str_of(j, "level"), "info");
    assert_string_equal(str_of(j, "svc"), "ingest");
    assert_string_equal(str_of(j, "event"), "poll.done");
    assert_string_equal(str_of(j, "url"), "https://a.example/x");
    assert_true(cJSON_GetObjectItem(j, "status")->valuedouble == -200);
    assert_true(cJSON_GetObjectItem(j, "bytes")->valuedouble ==
                18446744073709551615.0);
    assert_true(cJSON_GetObjectItem(j, "elapsed_ms")->valuedouble == 41.7);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "changed")));
    assert_int_equal(velo_time_parse_iso(str_of(j, "ts"), &ts), 0);
    assert_true(ts >= before && ts <= velo_now_ms());
    cJSON_Delete(j);
}

static void
test_log_doubles_print_shortest_exact_form(void **state)
{
    cJSON *j;
    char  *s;

    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    velo_info("d", VELO_D("a", 41.7), VELO_D("b", 0.1), VELO_D("c", 1e300),
              VELO_D("d", 1.0 / 3));
    s = read_log(state);
    /* As in the example in log.h: 41.7, not 41.700000000000003. */
    assert_non_null(strstr(s, "\"a\":41.7,"));
    assert_non_null(strstr(s, "\"b\":0.1,"));
    assert_non_null(strstr(s, "\"c\":1e+300,"));
    assert_non_null(strstr(s, "\"d\":0.3333333333333333}"));
    /* Short, but still exact. */
    j = cJSON_Parse(s);
    assert_non_null(j);
    assert_true(cJSON_GetObjectItem(j, "d")->valuedouble == 1.0 / 3);
    assert_true(cJSON_GetObjectItem(j, "a")->valuedouble == 41.7);
    cJSON_Delete(j);
    free(s);
}

static void
test_log_nonfinite_double_and_null_string_are_null(void **state)
{
    size_t len;
    cJSON *j;

    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    velo_warn("odd", VELO_D("nan", 0.0 / 0.0), VELO_D("inf", 1.0 / 0.0),
              VELO_S("s", NULL));
    j = only_line(state, &len);
    assert_string_equal(str_of(j, "level"), "warn");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "nan")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "inf")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "s")));
    cJSON_Delete(j);
}

static void
test_log_escapes_strings_and_keeps_one_line(void **state)
{
    const char *nasty = "a\"b\\c\nd\re\tf\x01g \xc3\xa9";
    size_t      len;
    cJSON      *j;

    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    velo_error("bad.input", VELO_S("cause", nasty), VELO_S("k\"ey", "v"));
    j = only_line(state, &len);
    assert_string_equal(str_of(j, "cause"), nasty);
    assert_string_equal(str_of(j, "k\"ey"), "v");
    assert_string_equal(str_of(j, "level"), "error");
    cJSON_Delete(j);
}

static void
test_log_event_without_fields(void **state)
{
    size_t len;
    cJSON *j;

    velo_log_init("t", VELO_LOG_DEBUG, log_fd(state));
    velo_debug("svc.started");
    j = only_line(state, &len);
    assert_string_equal(str_of(j, "event"), "svc.started");
    assert_string_equal(str_of(j, "level"), "debug");
    assert_int_equal(cJSON_GetArraySize(j), 4);
    cJSON_Delete(j);
}

static int formatted;

static int64_t
count_call(void)
{
    formatted++;
    return 1;
}

static void
test_log_level_filter_runs_before_formatting(void **state)
{
    char *s;

    velo_log_init("t", VELO_LOG_WARN, log_fd(state));
    formatted = 0;
    velo_info("dropped", VELO_I("n", count_call()));
    velo_debug("dropped");
    assert_int_equal(formatted, 0);
    assert_false(velo_log_enabled(VELO_LOG_INFO));
    assert_true(velo_log_enabled(VELO_LOG_ERROR));
    velo_warn("kept", VELO_I("n", count_call()));
    assert_int_equal(formatted, 1);
    s = read_log(state);
    assert_null(strstr(s, "dropped"));
    assert_non_null(strstr(s, "\"event\":\"kept\""));
    free(s);
    /* off silences even errors. */
    velo_log_init("t", VELO_LOG_OFF, log_fd(state));
    assert_false(velo_log_enabled(VELO_LOG_ERROR));
    assert_false(velo_log_enabled(VELO_LOG_OFF));
}

static void
test_log_truncates_long_line_as_valid_json(void **state)
{
    char   big[6000];
    size_t len;
    cJSON *j;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    velo_info("big", VELO_I("before", 1), VELO_S("body", big),
              VELO_I("after", 2));
    j = only_line(state, &len);
    assert_true(len <= 4096);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
    assert_true(cJSON_GetObjectItem(j, "before")->valuedouble == 1);
    /* The string that did not fit keeps its start; what follows is
     * dropped. */
    assert_true(strlen(str_of(j, "body")) > 3900);
    assert_memory_equal(str_of(j, "body"), big, 3900);
    assert_null(cJSON_GetObjectItem(j, "after"));
    assert_string_equal(str_of(j, "event"), "big");
    cJSON_Delete(j);
}

static void
test_log_truncates_many_fields_at_a_field_boundary(void **state)
{
    char   key[16];
    size_t len, i;
    cJSON *j;

    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    {
        struct velo_log_field f[401];
        char                  keys[400][16];

        f[0] = (struct velo_log_field){0};
        for (i = 0; i < 400; i++) {
            snprintf(keys[i], sizeof(keys[i]), "field_%zu", i);
            f[i + 1] = VELO_S(keys[i], "\"quoted\\value\"");
        }
        velo_log_emit(VELO_LOG_INFO, "many", f, 401);
    }
    j = only_line(state, &len);
    assert_true(len <= 4096);
    assert_true(len > 3900); /* it filled the line before cutting */
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
    assert_string_equal(str_of(j, "field_0"), "\"quoted\\value\"");
    snprintf(key, sizeof(key), "field_%d", 399);
    assert_null(cJSON_GetObjectItem(j, key));
    cJSON_Delete(j);
}

static void
test_log_long_service_name_is_cut_not_overflowed(void **state)
{
    size_t len;
    cJSON *j;

    velo_log_init("a-service-name-that-is-far-too-long-for-the-field",
                  VELO_LOG_INFO, log_fd(state));
    velo_info("x");
    j = only_line(state, &len);
    assert_true(strlen(str_of(j, "svc")) < 32);
    assert_memory_equal(str_of(j, "svc"), "a-service-name", 14);
    cJSON_Delete(j);
}

/* Raw invalid bytes and a 4-byte character straddling the 4 KiB cap:
 * for every alignment, the line is valid UTF-8 and valid JSON, and the
 * cut never splits a character or an escape. */
static void
test_log_cut_at_cap_keeps_utf8_and_json_valid(void **state)
{
    char   big[5000];
    size_t len, i, pad;
    char  *line;
    cJSON *j;

    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    for (pad = 0; pad < 8; pad++) {
        assert_int_equal(ftruncate(log_fd(state), 0), 0);
        assert_int_equal(lseek(log_fd(state), 0, SEEK_SET), 0);
        memset(big, 'x', pad);
        for (i = pad; i + 5 < sizeof(big); i += 5)
            memcpy(big + i, "\xf0\x9f\x9a\xb2\xff", 5); /* bike, bad */
        big[i] = '\0';
        velo_info("utf8", VELO_S("name", big), VELO_I("after", 1));
        line = read_log(state);
        len = strlen(line);
        assert_true(len <= 4096);
        assert_true(velo_utf8_valid(line, len));
        j = cJSON_Parse(line);
        if (j == NULL)
            fail_msg("not JSON: %s", line);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
        assert_true(strlen(str_of(j, "name")) > 3800);
        /* Every bad byte became U+FFFD; the bike survived whole. */
        assert_non_null(
            strstr(str_of(j, "name"), "\xf0\x9f\x9a\xb2\xef\xbf\xbd"));
        assert_true(
            velo_utf8_valid(str_of(j, "name"), strlen(str_of(j, "name"))));
        cJSON_Delete(j);
        free(line);
    }
}

/* Invalid bytes in keys, values, the event and the service name (which a
 * snprintf cut used to split mid-character) never reach the line. */
static void
test_log_repairs_invalid_utf8_everywhere(void **state)
{
    size_t len;
    char  *line;
    cJSON *j;

    /* 30 bytes of 'a' then a 2-byte character over the 31-byte field. */
    velo_log_init("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", VELO_LOG_INFO,
                  log_fd(state));
    velo_info("ev\xfe", VELO_S("k\xc0", "v\xed\xa0\x80"));
    line = read_log(state);
    len = strlen(line);
    assert_true(velo_utf8_valid(line, len));
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(str_of(j, "svc"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_string_equal(str_of(j, "event"), "ev\xef\xbf\xbd");
    assert_string_equal(str_of(j, "k\xef\xbf\xbd"),
                        "v\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    cJSON_Delete(j);
    free(line);
}

static void
test_log_level_names_round_trip(void **state)
{
    enum velo_log_level lvl, out;

    (void)state;
    for (lvl = VELO_LOG_DEBUG; lvl <= VELO_LOG_OFF; lvl++) {
        out = VELO_LOG_ERROR + 1;
        assert_int_equal(velo_log_level_parse(velo_log_level_name(lvl), &out),
                         0);
        assert_int_equal(out, lvl);
    }
    out = VELO_LOG_WARN;
    assert_int_not_equal(velo_log_level_parse("verbose", &out), 0);
    assert_int_not_equal(velo_log_level_parse("", &out), 0);
    assert_int_not_equal(velo_log_level_parse(NULL, &out), 0);
    assert_int_equal(out, VELO_LOG_WARN);
}

#define THREADS 4
#define LINES 250

static void *
spam(void *arg)
{
    int i;

    for (i = 0; i < LINES; i++)
        velo_info("spam", VELO_I("thread", (intptr_t)arg), VELO_I("i", i),
                  VELO_S("pad",
                         "................................................"
                         "................................................"));
    return NULL;
}

static void
test_log_lines_from_threads_never_interleave(void **state)
{
    pthread_t t[THREADS];
    char     *s, *line, *nl;
    intptr_t  k;
    int       lines = 0;
    cJSON    *j;

    velo_log_init("t", VELO_LOG_INFO, log_fd(state));
    for (k = 0; k < THREADS; k++)
        assert_int_equal(pthread_create(&t[k], NULL, spam, (void *)k), 0);
    for (k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    s = read_log(state);
    for (line = s; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        j = cJSON_Parse(line);
        if (j == NULL)
            fail_msg("mangled line: %s", line);
        cJSON_Delete(j);
        lines++;
    }
    assert_int_equal(*line, '\0');
    assert_int_equal(lines, THREADS * LINES);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_log_writes_one_json_line_with_typed_fields),
        T(test_log_doubles_print_shortest_exact_form),
        T(test_log_nonfinite_double_and_null_string_are_null),
        T(test_log_escapes_strings_and_keeps_one_line),
        T(test_log_event_without_fields),
        T(test_log_level_filter_runs_before_formatting),
        T(test_log_truncates_long_line_as_valid_json),
        T(test_log_truncates_many_fields_at_a_field_boundary),
        T(test_log_long_service_name_is_cut_not_overflowed),
        T(test_log_cut_at_cap_keeps_utf8_and_json_valid),
        T(test_log_repairs_invalid_utf8_everywhere),
        T(test_log_level_names_round_trip),
        T(test_log_lines_from_threads_never_interleave),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
