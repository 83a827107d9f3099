/* http_server_test.c: velo_http_server on a real loopback port, fetched
 * with velo_http_get and with raw sockets (HEAD, POST, bodies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "testsrv_test_util.h"
#include "velo/http_client.h"
#include "velo/http_server.h"
#include "velo/log.h"

struct fixture {
    velo_http_server *s;
    atomic_int        hello_calls;
};

/* Handlers run on MHD threads, where a failing cmocka assert cannot
 * unwind: they report problems through the response (500) instead. */
static void
reply(struct velo_http_resp *resp, const char *text)
{
    if (velo_buf_puts(&resp->body, text) != VELO_OK)
        resp->status = 500;
}

static void
on_hello(void *ctx, const struct velo_http_req *req,
         struct velo_http_resp *resp)
{
    struct fixture *fx = ctx;

    atomic_fetch_add(&fx->hello_calls, 1);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        resp->status = 500;
    reply(resp, "hello world\n");
}

/* Echoes the query parameter "name", or "(none)". */
static void
on_echo(void *ctx, const struct velo_http_req *req, struct velo_http_resp *resp)
{
    const char *name = velo_http_query(req, "name");

    (void)ctx;
    resp->content_type = "application/json";
    reply(resp, name ? name : "(none)");
}

/* Echoes the path, for the prefix route. */
static void
on_item(void *ctx, const struct velo_http_req *req, struct velo_http_resp *resp)
{
    (void)ctx;
    resp->status = 202;
    reply(resp, req->path);
}

static int
setup(void **state)
{
    static struct fixture        fx;
    const struct velo_http_route routes[] = {
        {.method = "GET", .path = "/hello", .fn = on_hello, .ctx = &fx},
        {.method = "GET", .path = "/echo", .fn = on_echo},
        {.method = "GET", .path = "/items/", .prefix = true, .fn = on_item},
    };
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .port = 0,
        .routes = routes,
        .nroutes = 3,
    };

    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    memset(&fx, 0, sizeof(fx));
    if (velo_http_server_start(&fx.s, &cfg) != VELO_OK)
        return -1;
    *state = &fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    velo_http_server_stop(fx->s);
    curl_global_cleanup();
    return 0;
}

/* GETs path on the fixture server; the caller finis res. */
static int
get(struct fixture *fx, const char *path, struct velo_fetch_result *res)
{
    char                  url[256];
    struct velo_fetch_req req = {.url = url, .timeout_ms = 5000};

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
             (unsigned)velo_http_server_port(fx->s), path);
    return velo_http_get(&req, res);
}

static void
test_port_zero_binds_a_real_port(void **state)
{
    struct fixture *fx = *state;

    assert_int_not_equal(velo_http_server_port(fx->s), 0);
}

static void
test_get_route_returns_its_body(void **state)
{
    struct fixture          *fx = *state;
    struct velo_fetch_result res;
    int                      before = atomic_load(&fx->hello_calls);

    assert_int_equal(get(fx, "/hello", &res), VELO_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body.data, "hello world\n");
    assert_int_equal(atomic_load(&fx->hello_calls), before + 1);
    velo_fetch_result_fini(&res);
}

/* Asserts body is {"error":{"code":code,"message":<string>}}. */
static void
assert_json_error(const char *body, const char *code)
{
    cJSON *root, *err, *c, *m;

    root = cJSON_Parse(body);
    assert_non_null(root);
    err = cJSON_GetObjectItemCaseSensitive(root, "error");
    c = cJSON_GetObjectItemCaseSensitive(err, "code");
    m = cJSON_GetObjectItemCaseSensitive(err, "message");
    assert_true(cJSON_IsString(c) && cJSON_IsString(m));
    assert_string_equal(c->valuestring, code);
    cJSON_Delete(root);
}

static void
test_unknown_path_is_404_json(void **state)
{
    struct velo_fetch_result res;

    assert_int_equal(get(*state, "/nope", &res), VELO_OK);
    assert_int_equal(res.status, 404);
    assert_json_error(res.body.data, "not_found");
    velo_fetch_result_fini(&res);
}

static void
test_post_to_get_route_is_405_with_allow(void **state)
{
    struct fixture *fx = *state;
    char            reply[4096];

    assert_true(
        testcli_request(velo_http_server_port(fx->s),
                        "POST /hello HTTP/1.1\r\nHost: t\r\n"
                        "Content-Length: 0\r\nConnection: close\r\n\r\n",
                        reply, sizeof(reply)) > 0);
    assert_true(strncmp(reply, "HTTP/1.1 405 ", 13) == 0);
    assert_non_null(strstr(reply, "Allow: GET, HEAD\r\n"));
    assert_non_null(strstr(reply, "application/json"));
    assert_json_error(strstr(reply, "\r\n\r\n") + 4, "method_not_allowed");
}

static void
test_head_is_served_by_get_route_without_body(void **state)
{
    struct fixture *fx = *state;
    char            reply[4096];
    int             before = atomic_load(&fx->hello_calls);

    assert_true(testcli_request(velo_http_server_port(fx->s),
                                "HEAD /hello HTTP/1.1\r\nHost: t\r\n"
                                "Connection: close\r\n\r\n",
                                reply, sizeof(reply)) > 0);
    assert_true(strncmp(reply, "HTTP/1.1 200 ", 13) == 0);
    /* Content-Length announces the GET body; none follows the head. */
    assert_non_null(strstr(reply, "Content-Length: 12\r\n"));
    assert_string_equal(strstr(reply, "\r\n\r\n"), "\r\n\r\n");
    assert_int_equal(atomic_load(&fx->hello_calls), before + 1);
}

static void
test_default_content_type_is_text_plain(void **state)
{
    struct fixture *fx = *state;
    char            reply[4096];

    assert_true(testcli_request(velo_http_server_port(fx->s),
                                "GET /hello HTTP/1.1\r\nHost: t\r\n"
                                "Connection: close\r\n\r\n",
                                reply, sizeof(reply)) > 0);
    assert_non_null(
        strstr(reply, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(reply, "\r\n\r\nhello world\n"));
}

static void
test_get_with_body_is_rejected(void **state)
{
    struct fixture *fx = *state;
    char            reply[4096];
    int             before = atomic_load(&fx->hello_calls);

    assert_true(testcli_request(velo_http_server_port(fx->s),
                                "GET /hello HTTP/1.1\r\nHost: t\r\n"
                                "Content-Length: 3\r\nConnection: close\r\n"
                                "\r\nabc",
                                reply, sizeof(reply)) > 0);
    assert_true(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);
    assert_int_equal(atomic_load(&fx->hello_calls), before);
}

static void
test_query_parameter_is_decoded(void **state)
{
    struct velo_fetch_result res;

    assert_int_equal(get(*state, "/echo?x=1&name=a%20b", &res), VELO_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body.data, "a b");
    velo_fetch_result_fini(&res);
    assert_int_equal(get(*state, "/echo?other=1", &res), VELO_OK);
    assert_string_equal(res.body.data, "(none)");
    velo_fetch_result_fini(&res);
}

static void
test_prefix_route_matches_below_its_path(void **state)
{
    struct velo_fetch_result res;

    assert_int_equal(get(*state, "/items/42/x?q=1", &res), VELO_OK);
    assert_int_equal(res.status, 202);
    assert_string_equal(res.body.data, "/items/42/x");
    velo_fetch_result_fini(&res);
    assert_int_equal(get(*state, "/items", &res), VELO_OK);
    assert_int_equal(res.status, 404);
    velo_fetch_result_fini(&res);
    /* An exact route does not match longer paths. */
    assert_int_equal(get(*state, "/hello/more", &res), VELO_OK);
    assert_int_equal(res.status, 404);
    velo_fetch_result_fini(&res);
}

static void
test_port_in_use_is_eunavail(void **state)
{
    struct fixture             *fx = *state;
    velo_http_server           *s2 = NULL;
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .port = velo_http_server_port(fx->s),
    };

    assert_int_equal(velo_http_server_start(&s2, &cfg), VELO_EUNAVAIL);
    assert_null(s2);
}

static void
test_bad_config_is_einval(void **state)
{
    velo_http_server            *s = NULL;
    const struct velo_http_route bad[] = {{.method = "GET", .path = "/x"}};
    struct velo_http_server_cfg  cfg = {.bind = "not an address"};

    (void)state;
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_EINVAL);
    cfg.bind = "127.0.0.1";
    cfg.routes = bad; /* no handler */
    cfg.nroutes = 1;
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_EINVAL);
    assert_null(s);
    velo_http_server_stop(NULL); /* a no-op */
}

static void
test_resp_error_escapes_json(void **state)
{
    struct velo_http_resp resp = {.status = 200};
    const char           *msg = "bad \"q\" \\ \n\x01 é";
    cJSON                *root, *m;

    (void)state;
    velo_buf_init(&resp.body, 1024);
    assert_int_equal(velo_buf_puts(&resp.body, "stale"), VELO_OK);
    velo_http_resp_error(&resp, 400, "bad_request", msg);
    assert_int_equal(resp.status, 400);
    assert_string_equal(resp.content_type, "application/json");
    root = cJSON_Parse(resp.body.data);
    assert_non_null(root);
    m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "error"), "message");
    assert_true(cJSON_IsString(m));
    assert_string_equal(m->valuestring, msg);
    cJSON_Delete(root);
    velo_buf_fini(&resp.body);
}

static void
test_handler_runs_without_a_connection(void **state)
{
    struct velo_http_req  req = {.method = "GET", .path = "/echo"};
    struct velo_http_resp resp = {.status = 200};

    (void)state;
    velo_buf_init(&resp.body, 64);
    on_echo(NULL, &req, &resp); /* as a service's unit test would */
    assert_string_equal(resp.body.data, "(none)");
    velo_buf_fini(&resp.body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_zero_binds_a_real_port),
        cmocka_unit_test(test_get_route_returns_its_body),
        cmocka_unit_test(test_unknown_path_is_404_json),
        cmocka_unit_test(test_post_to_get_route_is_405_with_allow),
        cmocka_unit_test(test_head_is_served_by_get_route_without_body),
        cmocka_unit_test(test_default_content_type_is_text_plain),
        cmocka_unit_test(test_get_with_body_is_rejected),
        cmocka_unit_test(test_query_parameter_is_decoded),
        cmocka_unit_test(test_prefix_route_matches_below_its_path),
        cmocka_unit_test(test_port_in_use_is_eunavail),
        cmocka_unit_test(test_bad_config_is_einval),
        cmocka_unit_test(test_resp_error_escapes_json),
        cmocka_unit_test(test_handler_runs_without_a_connection),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
