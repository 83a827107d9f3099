/* metrics_test.c: series identity, atomic updates, Prometheus text. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/metrics.h"

static int
setup(void **state)
{
    velo_metrics *m = NULL;

    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    *state = m;
    return 0;
}

static int
teardown(void **state)
{
    velo_metrics_free(*state);
    return 0;
}

/* Renders the registry into a fresh string (caller frees). */
static char *
render(velo_metrics *m)
{
    struct velo_buf b;
    char           *s;

    velo_buf_init(&b, 1 << 20);
    assert_int_equal(velo_metrics_render(m, &b), VELO_OK);
    s = velo_buf_steal(&b, NULL);
    return s != NULL ? s : calloc(1, 1);
}

/* Number of times needle occurs in hay. */
static int
count(const char *hay, const char *needle)
{
    int n = 0;

    for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

static void
test_metrics_same_name_and_labels_is_same_series(void **state)
{
    velo_metrics *m = *state;
    velo_metric  *a, *b, *c;

    a = velo_metrics_counter(m, "x_total", "x", "k=\"1\"");
    b = velo_metrics_counter(m, "x_total", "x", "k=\"1\"");
    c = velo_metrics_counter(m, "x_total", "x", "k=\"2\"");
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    /* NULL and "" both mean "no labels". */
    assert_ptr_equal(velo_metrics_gauge(m, "g", "g", NULL),
                     velo_metrics_gauge(m, "g", "g", ""));
}

static void
test_metrics_counter_only_goes_up(void **state)
{
    velo_metric *c = velo_metrics_counter(*state, "c_total", "c", NULL);

    velo_metric_inc(c);
    velo_metric_add(c, 2.5);
    velo_metric_add(c, -10); /* ignored: a counter never decreases */
    assert_true(velo_metric_value(c) == 3.5);
}

static void
test_metrics_gauge_sets_and_adds(void **state)
{
    velo_metric *g = velo_metrics_gauge(*state, "lag", "lag", NULL);

    velo_metric_set(g, 10);
    velo_metric_add(g, -3.25);
    assert_true(velo_metric_value(g) == 6.75);
    velo_metric_set(g, -1);
    assert_true(velo_metric_value(g) == -1);
}

static void
test_metrics_render_counter_and_gauge(void **state)
{
    velo_metrics *m = *state;
    char         *out;

    velo_metric_add(velo_metrics_counter(m, "polls_total", "Polls done.",
                                         "source=\"a\",outcome=\"ok\""),
                    3);
    velo_metric_inc(velo_metrics_counter(m, "polls_total", "Polls done.",
                                         "source=\"b\",outcome=\"ok\""));
    velo_metric_set(velo_metrics_gauge(m, "up", "Up.", NULL), 1);
    velo_metric_set(velo_metrics_gauge(m, "ratio", "R.", NULL), 0.1);
    out = render(m);
    assert_string_equal(out, "# HELP polls_total Polls done.\n"
                             "# TYPE polls_total counter\n"
                             "polls_total{source=\"a\",outcome=\"ok\"} 3\n"
                             "polls_total{source=\"b\",outcome=\"ok\"} 1\n"
                             "# HELP up Up.\n"
                             "# TYPE up gauge\n"
                             "up 1\n"
                             "# HELP ratio R.\n"
                             "# TYPE ratio gauge\n"
                             "ratio 0.1\n");
    free(out);
}

static void
test_metrics_render_histogram(void **state)
{
    static const double bounds[] = {0.1, 1, 5};
    velo_metrics       *m = *state;
    velo_metric        *h;
    char               *out;

    h = velo_metrics_histogram(m, "lat_seconds", "Latency.", "op=\"get\"",
                               bounds, 3);
    velo_metric_observe(h, 0.05);
    velo_metric_observe(h, 0.1); /* le is inclusive */
    velo_metric_observe(h, 0.5);
    velo_metric_observe(h, 7);
    assert_true(velo_metric_value(h) == 4);
    /* Unlabelled series of the same family: no stray comma before le. */
    velo_metric_observe(
        velo_metrics_histogram(m, "lat_seconds", "Latency.", NULL, bounds, 3),
        2);
    out = render(m);
    assert_string_equal(out, "# HELP lat_seconds Latency.\n"
                             "# TYPE lat_seconds histogram\n"
                             "lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
                             "lat_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
                             "lat_seconds_bucket{op=\"get\",le=\"5\"} 3\n"
                             "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
                             "lat_seconds_sum{op=\"get\"} 7.65\n"
                             "lat_seconds_count{op=\"get\"} 4\n"
                             "lat_seconds_bucket{le=\"0.1\"} 0\n"
                             "lat_seconds_bucket{le=\"1\"} 0\n"
                             "lat_seconds_bucket{le=\"5\"} 1\n"
                             "lat_seconds_bucket{le=\"+Inf\"} 1\n"
                             "lat_seconds_sum 2\n"
                             "lat_seconds_count 1\n");
    free(out);
}

static void
test_metrics_help_and_type_once_per_family(void **state)
{
    velo_metrics *m = *state;
    char         *out;
    int           i;
    char          labels[32];

    for (i = 0; i < 5; i++) {
        snprintf(labels, sizeof(labels), "n=\"%d\"", i);
        velo_metric_inc(velo_metrics_counter(m, "f_total", "F.", labels));
    }
    out = render(m);
    assert_int_equal(count(out, "# HELP f_total"), 1);
    assert_int_equal(count(out, "# TYPE f_total counter"), 1);
    assert_int_equal(count(out, "\nf_total{n="), 5);
    free(out);
}

static void
test_metrics_help_text_is_escaped(void **state)
{
    velo_metrics *m = *state;
    char         *out;

    velo_metric_inc(velo_metrics_counter(m, "e_total", "a\\b\nc", NULL));
    out = render(m);
    assert_non_null(strstr(out, "# HELP e_total a\\\\b\\nc\n"));
    free(out);
}

static void
test_metrics_special_values_render_as_prometheus_floats(void **state)
{
    velo_metrics *m = *state;
    char         *out;

    velo_metric_set(velo_metrics_gauge(m, "a", "a", NULL), 1.0 / 0.0);
    velo_metric_set(velo_metrics_gauge(m, "b", "b", NULL), -1.0 / 0.0);
    velo_metric_set(velo_metrics_gauge(m, "c", "c", NULL), 0.0 / 0.0);
    velo_metric_set(velo_metrics_gauge(m, "d", "d", NULL), 1e21);
    out = render(m);
    assert_non_null(strstr(out, "\na +Inf\n"));
    assert_non_null(strstr(out, "\nb -Inf\n"));
    assert_non_null(strstr(out, "\nc NaN\n"));
    assert_non_null(strstr(out, "\nd 1e+21\n"));
    free(out);
}

static void
test_metrics_render_over_limit_appends_nothing(void **state)
{
    velo_metrics   *m = *state;
    struct velo_buf b;

    velo_metric_inc(
        velo_metrics_counter(m, "long_total", "Long help text.", "a=\"b\""));
    velo_buf_init(&b, 40);
    assert_int_equal(velo_buf_puts(&b, "keep"), VELO_OK);
    assert_int_equal(velo_metrics_render(m, &b), VELO_ETOOBIG);
    assert_string_equal(b.data, "keep");
    velo_buf_fini(&b);
}

static void
test_metrics_latency_bounds_ascend_from_half_ms_to_30s(void **state)
{
    size_t i;

    (void)state;
    assert_true(velo_metrics_latency_nbounds >= 2);
    assert_true(velo_metrics_latency_bounds[0] == 0.0005);
    assert_true(velo_metrics_latency_bounds[velo_metrics_latency_nbounds - 1] ==
                30.0);
    for (i = 1; i < velo_metrics_latency_nbounds; i++)
        assert_true(velo_metrics_latency_bounds[i] >
                    velo_metrics_latency_bounds[i - 1]);
}

/* A system id or group id with quotes, backslashes or newlines must not
 * break the exposition; an over-long one is cut but stays well formed. */
static void
test_metrics_label_escapes_and_bounds(void **state)
{
    char buf[24];

    (void)state;
    velo_metrics_label(buf, sizeof(buf), "system", "gbfs:oslo");
    assert_string_equal(buf, "system=\"gbfs:oslo\"");
    velo_metrics_label(buf, sizeof(buf), "g", "a\"b\\c\nd");
    assert_string_equal(buf, "g=\"a\\\"b\\\\c\\nd\"");
    velo_metrics_label(buf, sizeof(buf), "system", "0123456789abcdefghij");
    assert_string_equal(buf, "system=\"0123456789abc\"");
    velo_metrics_label(buf, sizeof(buf), "system", "\"\"\"\"\"\"\"\"");
    assert_string_equal(buf, "system=\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\"");
    velo_metrics_label(buf, 4, "system", "x");
    assert_string_equal(buf, "");
}

#define THREADS 4
#define ROUNDS 20000

struct hammer {
    velo_metrics *m;
};

static void *
hammer_run(void *arg)
{
    struct hammer *h = arg;
    velo_metric   *c, *g, *hist;
    int            i;

    /* Each thread looks the series up itself: lookups race too. */
    c = velo_metrics_counter(h->m, "hits_total", "Hits.", NULL);
    g = velo_metrics_gauge(h->m, "level", "Level.", NULL);
    hist = velo_metrics_histogram(h->m, "obs_seconds", "Obs.", NULL,
                                  velo_metrics_latency_bounds,
                                  velo_metrics_latency_nbounds);
    for (i = 0; i < ROUNDS; i++) {
        velo_metric_inc(c);
        velo_metric_add(g, 0.5);
        velo_metric_observe(hist, 0.25);
    }
    return NULL;
}

static void
test_metrics_concurrent_updates_lose_nothing(void **state)
{
    struct hammer h = {*state};
    pthread_t     t[THREADS];
    velo_metric  *hist;
    char         *out;
    int           i;

    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_true(velo_metric_value(velo_metrics_counter(
                    h.m, "hits_total", "Hits.", NULL)) == THREADS * ROUNDS);
    assert_true(velo_metric_value(velo_metrics_gauge(
                    h.m, "level", "Level.", NULL)) == THREADS * ROUNDS * 0.5);
    hist = velo_metrics_histogram(h.m, "obs_seconds", "Obs.", NULL, NULL, 0);
    assert_true(velo_metric_value(hist) == THREADS * ROUNDS);
    out = render(h.m);
    assert_non_null(strstr(out, "obs_seconds_sum 20000\n"));
    assert_non_null(strstr(out, "obs_seconds_count 80000\n"));
    assert_non_null(strstr(out, "obs_seconds_bucket{le=\"0.1\"} 0\n"));
    assert_non_null(strstr(out, "obs_seconds_bucket{le=\"0.25\"} 80000\n"));
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_metrics_same_name_and_labels_is_same_series),
        T(test_metrics_counter_only_goes_up),
        T(test_metrics_gauge_sets_and_adds),
        T(test_metrics_render_counter_and_gauge),
        T(test_metrics_render_histogram),
        T(test_metrics_help_and_type_once_per_family),
        T(test_metrics_help_text_is_escaped),
        T(test_metrics_special_values_render_as_prometheus_floats),
        T(test_metrics_render_over_limit_appends_nothing),
        T(test_metrics_latency_bounds_ascend_from_half_ms_to_30s),
        T(test_metrics_concurrent_updates_lose_nothing),
        T(test_metrics_label_escapes_and_bounds),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
