/* admin_test.c: the admin endpoints on a real loopback port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "testsrv_test_util.h"
#include "velo/admin.h"
#include "velo/http_client.h"
#include "velo/log.h"

/* What the readiness probe answers; flipped by the tests. */
struct probe {
    atomic_bool ready;
    atomic_int  calls;
};

static bool
probe_ready(void *ctx, char *why, size_t why_size)
{
    struct probe *p = ctx;

    atomic_fetch_add(&p->calls, 1);
    if (atomic_load(&p->ready))
        return true;
    snprintf(why, why_size, "no poll yet");
    return false;
}

/* GETs path on a; the caller finis res. */
static int
admin_get(velo_admin *a, const char *path, struct velo_fetch_result *res)
{
    char                  url[128];
    struct velo_fetch_req req = {.url = url, .timeout_ms = 5000};

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
             (unsigned)velo_admin_port(a), path);
    return velo_http_get(&req, res);
}

static void
test_healthz_is_ok(void **state)
{
    struct velo_admin_cfg    cfg = {.bind = "127.0.0.1"};
    struct velo_fetch_result res;
    velo_admin              *a;

    (void)state;
    assert_int_equal(velo_admin_start(&a, &cfg), VELO_OK);
    assert_int_not_equal(velo_admin_port(a), 0);
    assert_int_equal(admin_get(a, "/healthz", &res), VELO_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body.data, "ok\n");
    velo_fetch_result_fini(&res);
    assert_int_equal(admin_get(a, "/nope", &res), VELO_OK);
    assert_int_equal(res.status, 404);
    velo_fetch_result_fini(&res);
    velo_admin_stop(a);
    velo_admin_stop(NULL); /* a no-op */
}

static void
test_readyz_flips_from_503_to_200(void **state)
{
    struct probe          p;
    struct velo_admin_cfg cfg = {
        .bind = "127.0.0.1", .ready = probe_ready, .ctx = &p};
    struct velo_fetch_result res;
    velo_admin              *a;

    (void)state;
    atomic_init(&p.ready, false);
    atomic_init(&p.calls, 0);
    assert_int_equal(velo_admin_start(&a, &cfg), VELO_OK);
    assert_int_equal(admin_get(a, "/readyz", &res), VELO_OK);
    assert_int_equal(res.status, 503);
    assert_non_null(strstr(res.body.data, "no poll yet"));
    velo_fetch_result_fini(&res);
    atomic_store(&p.ready, true);
    assert_int_equal(admin_get(a, "/readyz", &res), VELO_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body.data, "ready\n");
    velo_fetch_result_fini(&res);
    assert_int_equal(atomic_load(&p.calls), 2);
    velo_admin_stop(a);
}

static void
test_readyz_without_probe_is_ready(void **state)
{
    struct velo_admin_cfg    cfg = {.bind = "127.0.0.1"};
    struct velo_fetch_result res;
    velo_admin              *a;

    (void)state;
    assert_int_equal(velo_admin_start(&a, &cfg), VELO_OK);
    assert_int_equal(admin_get(a, "/readyz", &res), VELO_OK);
    assert_int_equal(res.status, 200);
    velo_fetch_result_fini(&res);
    velo_admin_stop(a);
}

static void
test_metrics_renders_registered_counter(void **state)
{
    struct velo_admin_cfg    cfg = {.bind = "127.0.0.1"};
    struct velo_fetch_result res;
    velo_metrics            *m;
    velo_metric             *c;
    velo_admin              *a;
    char                     reply[8192];

    (void)state;
    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    c = velo_metrics_counter(m, "velo_test_polls_total", "Polls done.",
                             "source=\"demo\"");
    velo_metric_inc(c);
    velo_metric_add(c, 2);
    cfg.metrics = m;
    assert_int_equal(velo_admin_start(&a, &cfg), VELO_OK);
    assert_int_equal(admin_get(a, "/metrics", &res), VELO_OK);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body.data, "# TYPE velo_test_polls_total"));
    assert_non_null(
        strstr(res.body.data, "velo_test_polls_total{source=\"demo\"} 3\n"));
    velo_fetch_result_fini(&res);
    /* Prometheus picks the parser from the content type. */
    assert_true(testcli_request(velo_admin_port(a),
                                "GET /metrics HTTP/1.1\r\nHost: t\r\n"
                                "Connection: close\r\n\r\n",
                                reply, sizeof(reply)) > 0);
    assert_non_null(strstr(reply, "Content-Type: text/plain; version=0.0.4"));
    velo_admin_stop(a);
    velo_metrics_free(m);
}

/* Alerts on "not ready" read velo_ready: it follows the probe at each
 * scrape. */
static void
test_metrics_velo_ready_follows_probe(void **state)
{
    struct probe          p;
    struct velo_admin_cfg cfg = {
        .bind = "127.0.0.1", .ready = probe_ready, .ctx = &p};
    struct velo_fetch_result res;
    velo_metrics            *m;
    velo_admin              *a;

    (void)state;
    atomic_init(&p.ready, false);
    atomic_init(&p.calls, 0);
    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    cfg.metrics = m;
    assert_int_equal(velo_admin_start(&a, &cfg), VELO_OK);
    assert_int_equal(admin_get(a, "/metrics", &res), VELO_OK);
    assert_non_null(strstr(res.body.data, "\nvelo_ready 0\n"));
    velo_fetch_result_fini(&res);
    atomic_store(&p.ready, true);
    assert_int_equal(admin_get(a, "/metrics", &res), VELO_OK);
    assert_non_null(strstr(res.body.data, "\nvelo_ready 1\n"));
    velo_fetch_result_fini(&res);
    velo_admin_stop(a);
    velo_metrics_free(m);
}

static void
test_post_to_admin_route_is_405(void **state)
{
    struct velo_admin_cfg cfg = {.bind = "127.0.0.1"};
    velo_admin           *a;
    char                  reply[4096];

    (void)state;
    assert_int_equal(velo_admin_start(&a, &cfg), VELO_OK);
    assert_true(testcli_request(velo_admin_port(a),
                                "POST /readyz HTTP/1.1\r\nHost: t\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n"
                                "\r\n",
                                reply, sizeof(reply)) > 0);
    assert_true(strncmp(reply, "HTTP/1.1 405 ", 13) == 0);
    velo_admin_stop(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz_is_ok),
        cmocka_unit_test(test_readyz_flips_from_503_to_200),
        cmocka_unit_test(test_readyz_without_probe_is_ready),
        cmocka_unit_test(test_metrics_renders_registered_counter),
        cmocka_unit_test(test_metrics_velo_ready_follows_probe),
        cmocka_unit_test(test_post_to_admin_route_is_405),
    };

    return cmocka_run_group_tests(tests, testsrv_curl_setup,
                                  testsrv_curl_teardown);
}
