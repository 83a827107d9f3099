/* consul_test.c: the agent client without an agent: configuration, token,
 * request shapes (PUT with a body, X-Consul-Token, X-Consul-Index), the
 * registration body, and parsing of /v1/health answers, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consul_testsrv_test_util.h"
#include "testsrv_test_util.h"
#include "velo/consul.h"

/* Two instances, as a 1.16 agent answers (fields trimmed). */
static const char HEALTH2[] =
    "[{\"Node\":{\"Node\":\"n1\",\"Address\":\"10.0.0.9\"},"
    "\"Service\":{\"ID\":\"velo-stream-h-7701\",\"Service\":\"velo-stream\","
    "\"Address\":\"127.0.0.1\",\"Port\":7701,\"Meta\":{\"proto\":\"x\"}},"
    "\"Checks\":[{\"Name\":\"Serf Health Status\",\"Status\":\"passing\","
    "\"Output\":\"Agent alive\"},{\"Name\":\"velopipe readiness (/readyz)\","
    "\"Status\":\"passing\",\"Output\":\"HTTP GET ...: 200 OK\"}]},"
    "{\"Node\":{\"Node\":\"n1\",\"Address\":\"10.0.0.9\"},"
    "\"Service\":{\"ID\":\"velo-stream-h-7703\",\"Service\":\"velo-stream\","
    "\"Address\":\"\",\"Port\":7703},\"Checks\":[]}]";

static void
test_parse_health_reads_instances_and_falls_back_to_node_address(void **st)
{
    struct velo_consul_instance in[4];
    size_t                      n = 99;

    (void)st;
    assert_int_equal(
        velo_consul_parse_health(HEALTH2, strlen(HEALTH2), in, 4, &n), VELO_OK);
    assert_int_equal(n, 2);
    assert_string_equal(in[0].url, "tcp://127.0.0.1:7701");
    assert_string_equal(in[0].id, "velo-stream-h-7701");
    assert_string_equal(in[1].url, "tcp://10.0.0.9:7703");
}

static void
test_parse_health_bad_answers_are_eproto_or_skipped(void **st)
{
    static const char *bad[] = {"[{\"Service\":", "{\"Service\":{}}", "",
                                "null", "\"x\""};
    static const char  skip[] =
        "[{\"Service\":{\"Address\":\"a\",\"Port\":0}},"
        "{\"Service\":{\"Address\":\"a\",\"Port\":\"80\"}},"
        "{\"Service\":{\"Address\":\"a b\",\"Port\":80}},"
        "{\"Service\":{\"Port\":80}}, 7, {\"Service\":[]},"
        "{\"Service\":{\"Address\":\"::1\",\"Port\":99999}},"
        "{\"Service\":{\"Address\":\"::1\",\"Port\":80}}]";
    struct velo_consul_instance in[8];
    size_t                      i, n = 99;

    (void)st;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        assert_int_equal(
            velo_consul_parse_health(bad[i], strlen(bad[i]), in, 8, &n),
            VELO_EPROTO);
        assert_int_equal(n, 99); /* untouched */
    }
    assert_int_equal(velo_consul_parse_health(skip, strlen(skip), in, 8, &n),
                     VELO_OK);
    assert_int_equal(n, 1);
    assert_string_equal(in[0].url, "tcp://[::1]:80");
    assert_int_equal(velo_consul_parse_health("[]", 2, in, 8, &n), VELO_OK);
    assert_int_equal(n, 0);
}

/* Meta.pub: a wildcard host becomes the instance's address; anything that
 * is not tcp://host:port is no pub. */
static void
test_parse_health_reads_pub_from_meta(void **st)
{
    static const char *const cases[][3] = {
        /* address, Meta.pub as JSON, pub */
        {"10.1.2.3", "\"tcp://0.0.0.0:7702\"", "tcp://10.1.2.3:7702"},
        {"10.1.2.3", "\"tcp://10.9.9.9:7702\"", "tcp://10.9.9.9:7702"},
        {"fd00::7", "\"tcp://[::]:7702\"", "tcp://[fd00::7]:7702"},
        {"10.1.2.3", "\"ipc:///tmp/x\"", ""},
        {"10.1.2.3", "\"tcp://0.0.0.0\"", ""},
        {"10.1.2.3", "\"tcp://h:7x\"", ""},
        {"10.1.2.3", "7702", ""},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    struct velo_consul_instance in[N];
    char                        body[2048];
    size_t                      i, n = 0, len = 0;

    (void)st;
    for (i = 0; i < N; i++)
        len +=
            (size_t)snprintf(body + len, sizeof(body) - len,
                             "%s{\"Service\":{\"Address\":\"%s\",\"Port\":7701,"
                             "\"Meta\":{\"pub\":%s}}}",
                             i == 0 ? "[" : ",", cases[i][0], cases[i][1]);
    len += (size_t)snprintf(body + len, sizeof(body) - len, "]");
    assert_true(len < sizeof(body));
    assert_int_equal(velo_consul_parse_health(body, len, in, N, &n), VELO_OK);
    assert_int_equal(n, N);
    for (i = 0; i < N; i++)
        assert_string_equal(in[i].pub, cases[i][2]);
    assert_string_equal(in[0].url, "tcp://10.1.2.3:7701");
}

static void
test_parse_health_keeps_at_most_max(void **st)
{
    struct velo_consul_instance in[1];
    size_t                      n = 0;

    (void)st;
    assert_int_equal(
        velo_consul_parse_health(HEALTH2, strlen(HEALTH2), in, 1, &n), VELO_OK);
    assert_int_equal(n, 1);
}

static void
test_parse_checks_gives_one_row_per_check(void **st)
{
    struct velo_consul_check_row rows[8];
    size_t                       n = 0;

    (void)st;
    assert_int_equal(
        velo_consul_parse_checks(HEALTH2, strlen(HEALTH2), rows, 8, &n),
        VELO_OK);
    assert_int_equal(n, 2); /* the second instance has no checks */
    assert_string_equal(rows[1].service, "velo-stream");
    assert_string_equal(rows[1].address, "127.0.0.1:7701");
    assert_string_equal(rows[1].status, "passing");
    assert_string_equal(rows[1].output, "HTTP GET ...: 200 OK");
    assert_int_equal(velo_consul_parse_checks("{", 1, rows, 8, &n),
                     VELO_EPROTO);
}

static void
test_service_json_has_check_and_deregister_after(void **st)
{
    const char                *tags[] = {"velopipe"};
    const char                *meta[] = {"proto", "velo.v1.StationService"};
    struct velo_consul_service s = {.name = "velo-stream",
                                    .id = "velo-stream-h-7701",
                                    .address = "127.0.0.1",
                                    .port = 7701,
                                    .tags = tags,
                                    .ntags = 1,
                                    .meta = meta,
                                    .nmeta = 1,
                                    .check_url = "http://127.0.0.1:9/readyz",
                                    .interval_ms = 1500,
                                    .deregister_after_s = 5};
    struct velo_buf            b;

    (void)st;
    velo_buf_init(&b, 4096);
    assert_int_equal(velo_consul_service_json(&s, &b), VELO_OK);
    assert_int_equal(velo_buf_append(&b, "", 1), VELO_OK);
    assert_non_null(strstr(b.data, "\"ID\":\"velo-stream-h-7701\""));
    assert_non_null(strstr(b.data, "\"Port\":7701"));
    assert_non_null(
        strstr(b.data, "\"Meta\":{\"proto\":\"velo.v1.StationService\"}"));
    assert_non_null(strstr(b.data, "\"HTTP\":\"http://127.0.0.1:9/readyz\""));
    assert_non_null(strstr(b.data, "\"Interval\":\"1500ms\""));
    assert_non_null(
        strstr(b.data, "\"DeregisterCriticalServiceAfter\":\"5000ms\""));
    velo_buf_reset(&b);
    s.check = VELO_CONSUL_CHECK_TTL;
    assert_int_equal(velo_consul_service_json(&s, &b), VELO_OK);
    assert_int_equal(velo_buf_append(&b, "", 1), VELO_OK);
    assert_non_null(strstr(b.data, "\"TTL\":\"4500ms\""));
    assert_null(strstr(b.data, "\"HTTP\""));
    s.id = NULL;
    assert_int_equal(velo_consul_service_json(&s, &b), VELO_EINVAL);
    velo_buf_fini(&b);
}

static void
test_new_needs_an_http_address(void **st)
{
    velo_consul *c = NULL;

    (void)st;
    unsetenv("CONSUL_HTTP_ADDR");
    assert_int_equal(velo_consul_new(&c, &(struct velo_consul_cfg){0}),
                     VELO_ENOTFOUND);
    assert_int_equal(
        velo_consul_new(&c, &(struct velo_consul_cfg){.addr = "ftp://x:1"}),
        VELO_EINVAL);
    assert_null(c);
    setenv("CONSUL_HTTP_ADDR", "127.0.0.1:8500/", 1);
    assert_int_equal(velo_consul_new(&c, &(struct velo_consul_cfg){0}),
                     VELO_OK);
    assert_string_equal(velo_consul_addr(c), "http://127.0.0.1:8500");
    velo_consul_free(c);
    unsetenv("CONSUL_HTTP_ADDR");
    assert_int_equal(
        velo_consul_new(
            &c, &(struct velo_consul_cfg){.addr = "x:1",
                                          .token_file = "/nonexistent/t"}),
        VELO_EINVAL);
}

/* Records the last request; answers with an index header. */
struct echo {
    struct ctsrv_req last;
};

static void
echo_fn(void *ctx, const struct ctsrv_req *rq, struct ctsrv_resp *rs)
{
    struct echo *e = ctx;

    e->last = *rq;
    snprintf(rs->headers, sizeof(rs->headers), "X-Consul-Index: 42\r\n");
    rs->body = "true";
}

static void
test_request_sends_put_body_token_from_file_and_reads_index(void **st)
{
    struct ctsrv             srv;
    struct echo              e;
    struct velo_fetch_result res;
    velo_consul             *c = NULL;
    char                     tf[] = "/tmp/consul_test_tokenXXXXXX";
    int                      fd;

    (void)st;
    fd = mkstemp(tf);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    assert_int_equal(ctsrv_start(&srv, echo_fn, &e), 0);
    assert_int_equal(
        velo_consul_new(
            &c, &(struct velo_consul_cfg){.addr = srv.addr, .token_file = tf}),
        VELO_OK);
    assert_int_equal(velo_consul_request(c, "PUT", "/v1/kv/a?acquire=s",
                                         "holder-1", 0, &res),
                     VELO_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.header, "42");
    assert_string_equal(e.last.method, "PUT");
    assert_string_equal(e.last.path, "/v1/kv/a?acquire=s");
    assert_string_equal(e.last.body, "holder-1");
    assert_non_null(strcasestr(e.last.head, "X-Consul-Token: s3cret\r\n"));
    velo_fetch_result_fini(&res);
    velo_consul_free(c);
    ctsrv_stop(&srv);
    unlink(tf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_parse_health_reads_instances_and_falls_back_to_node_address),
        cmocka_unit_test(test_parse_health_bad_answers_are_eproto_or_skipped),
        cmocka_unit_test(test_parse_health_reads_pub_from_meta),
        cmocka_unit_test(test_parse_health_keeps_at_most_max),
        cmocka_unit_test(test_parse_checks_gives_one_row_per_check),
        cmocka_unit_test(test_service_json_has_check_and_deregister_after),
        cmocka_unit_test(test_new_needs_an_http_address),
        cmocka_unit_test(
            test_request_sends_put_body_token_from_file_and_reads_index),
    };

    return cmocka_run_group_tests(tests, testsrv_curl_setup,
                                  testsrv_curl_teardown);
}
