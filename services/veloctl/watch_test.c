/* watch_test.c: `veloctl watch` against a real publisher (velo_pub on
 * tcp://127.0.0.1:0) and the fake StationService: JSON lines for the
 * watched system only, --count, --timeout-s, the text layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>

#include "fakestream_test_util.h"
#include "velo/clock.h"
#include "velo/json.h"

static struct fs fake;
static velo_pub *pub;

static int
setup(void **state)
{
    (void)state;
    if (fs_start(&fake) != VELO_OK)
        return -1;
    return velo_pub_start(&pub, "tcp://127.0.0.1:0") == VELO_OK ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    velo_pub_stop(pub);
    fs_stop(&fake);
    return 0;
}

/* One watch run on its own thread, while the test publishes. */
struct watch_run {
    const char *const *argv;
    struct fs_run      r;
    atomic_bool        done;
};

static void *
watch_thread(void *arg)
{
    struct watch_run *w = arg;

    fs_run(&w->r, w->argv);
    atomic_store(&w->done, true);
    return NULL;
}

/* Publishes a change of station 1 of FS_SYSTEM and of another system
 * every 20 ms until the watch ends (it needs a moment to subscribe, and a
 * SUB socket only sees what is sent after it connected). */
static void
publish_until_done(struct watch_run *w)
{
    Velo__V1__StationState    other = VELO__V1__STATION_STATE__INIT;
    Velo__V1__StationSnapshot osnap = VELO__V1__STATION_SNAPSHOT__INIT;
    int64_t                   end = velo_mono_ms() + 20000;

    osnap.system_id = "demo:parisian"; /* shares the prefix "demo:paris" */
    osnap.station_id = "9";
    other.snapshot = &osnap;
    while (!atomic_load(&w->done) && velo_mono_ms() < end) {
        assert_int_equal(velo_pub_send(pub, "demo:parisian/9", &other.base),
                         VELO_OK);
        assert_int_equal(velo_pub_send(pub, FS_SYSTEM "/1", &fake.st[0].base),
                         VELO_OK);
        velo_sleep_ms(20);
    }
}

static void
watch(struct watch_run *w, const char *const *argv, bool publish)
{
    pthread_t th;

    w->argv = argv;
    atomic_store(&w->done, false);
    assert_int_equal(pthread_create(&th, NULL, watch_thread, w), 0);
    if (publish)
        publish_until_done(w);
    assert_int_equal(pthread_join(th, NULL), 0);
}

static void
test_json_lines_of_the_watched_system_only(void **state)
{
    const char *argv[] = {
        "veloctl",     "--rpc",   fs_url(&fake), "--pub",   velo_pub_url(pub),
        "watch",       FS_SYSTEM, "--json",      "--count", "3",
        "--timeout-s", "15",      NULL};
    struct watch_run w;
    char            *line, *nl;
    cJSON           *j;
    const char      *sys;
    int              n = 0;

    (void)state;
    watch(&w, argv, true);
    assert_int_equal(w.r.exit, 0);
    assert_int_equal(w.r.err_len, 0);
    for (line = w.r.out; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        j = NULL;
        assert_int_equal(velo_json_parse(line, (size_t)(nl - line), &j),
                         VELO_OK);
        assert_int_equal(velo_json_str(j, "system_id", &sys), VELO_OK);
        assert_string_equal(sys, FS_SYSTEM); /* never demo:parisian */
        cJSON_Delete(j);
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(*line, '\0'); /* nothing after the last line */
    fs_run_free(&w.r);
}

static void
test_text_has_header_then_lines(void **state)
{
    const char *argv[] = {
        "veloctl", "--rpc",   fs_url(&fake), "--pub", velo_pub_url(pub),
        "watch",   FS_SYSTEM, "--count",     "1",     "--timeout-s",
        "15",      NULL};
    struct watch_run w;
    char            *l2;

    (void)state;
    watch(&w, argv, true);
    assert_int_equal(w.r.exit, 0);
    assert_memory_equal(w.r.out, "TIME      SYSTEM", 16);
    l2 = strchr(w.r.out, '\n');
    assert_non_null(l2);
    assert_non_null(strstr(l2, "  " FS_SYSTEM "        1  "));
    assert_non_null(strstr(l2, "  OPEN"));
    fs_run_free(&w.r);
}

static void
test_timeout_before_count_is_exit_1(void **state)
{
    const char *argv[] = {
        "veloctl",     "--rpc",   fs_url(&fake), "--pub",   velo_pub_url(pub),
        "watch",       FS_SYSTEM, "--json",      "--count", "1",
        "--timeout-s", "1",       NULL};
    struct watch_run w;
    int64_t          t0 = velo_mono_ms();

    (void)state;
    watch(&w, argv, false);
    assert_int_equal(w.r.exit, 1);
    assert_non_null(strstr(w.r.err, "watch: 0 of 1 changes within 1 s"));
    assert_int_equal(w.r.out_len, 0);
    assert_true(velo_mono_ms() - t0 >= 900);
    fs_run_free(&w.r);
}

static void
test_timeout_without_count_is_exit_0_and_unknown_system_noted(void **state)
{
    const char *argv[] = {
        "veloctl", "--rpc",      fs_url(&fake), "--pub", velo_pub_url(pub),
        "watch",   "nosuch:sys", "--timeout-s", "1",     NULL};
    struct watch_run w;

    (void)state;
    watch(&w, argv, true); /* changes of other systems are filtered out */
    assert_int_equal(w.r.exit, 0);
    assert_non_null(strstr(w.r.err, "no station of system nosuch:sys yet"));
    assert_null(strchr(strchr(w.r.out, '\n') + 1, '\n')); /* header only */
    fs_run_free(&w.r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines_of_the_watched_system_only),
        cmocka_unit_test(test_text_has_header_then_lines),
        cmocka_unit_test(test_timeout_before_count_is_exit_1),
        cmocka_unit_test(
            test_timeout_without_count_is_exit_0_and_unknown_system_noted),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
