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
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "testsrv_test_util.h"
#include "velo/http_client.h"
#include "velo/http_server.h"
#include "velo/log.h"

struct fixture {
    velo_http_server *s;
    velo_metrics     *m;
    atomic_int        hello_calls;
};

#define DOC_LEN 4096

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

/* A 4 KiB compressible document with ETag and gzip on. */
static void
on_doc(void *ctx, const struct velo_http_req *req, struct velo_http_resp *resp)
{
    int i;

    (void)ctx;
    (void)req;
    resp->content_type = "application/json";
    resp->etag = true;
    resp->gzip = true;
    if (velo_http_resp_header(resp, "Cache-Control", "max-age=5") != VELO_OK)
        resp->status = 500;
    for (i = 0; i < DOC_LEN / 16; i++) {
        if (velo_buf_puts(&resp->body, "{\"station\":1234}") != VELO_OK)
            resp->status = 500;
    }
}

/* Small body with gzip on: never compressed. */
static void
on_small(void *ctx, const struct velo_http_req *req,
         struct velo_http_resp *resp)
{
    (void)ctx;
    (void)req;
    resp->gzip = true;
    reply(resp, "tiny");
}

/* Echoes request header X-Echo; answers 503 with Retry-After; refuses a
 * header that would split the response. */
static void
on_hdr(void *ctx, const struct velo_http_req *req, struct velo_http_resp *resp)
{
    const char *v = velo_http_header(req, "x-echo"); /* any case */

    (void)ctx;
    resp->status = 503;
    if (velo_http_resp_header(resp, "Retry-After", "30") != VELO_OK ||
        velo_http_resp_header(resp, "X-Bad", "a\r\nSet-Cookie: x") !=
            VELO_EINVAL ||
        velo_http_resp_header(resp, "Bad Name", "v") != VELO_EINVAL)
        resp->status = 500;
    reply(resp, v ? v : "(none)");
}

static int
setup(void **state)
{
    static struct fixture        fx;
    const struct velo_http_route routes[] = {
        {.method = "GET", .path = "/hello", .fn = on_hello, .ctx = &fx},
        {.method = "GET", .path = "/echo", .fn = on_echo},
        {.method = "GET", .path = "/items/", .prefix = true, .fn = on_item},
        {.method = "GET", .path = "/doc", .fn = on_doc},
        {.method = "GET", .path = "/small", .fn = on_small},
        {.method = "GET", .path = "/hdr", .fn = on_hdr},
    };
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .port = 0,
        .routes = routes,
        .nroutes = sizeof(routes) / sizeof(routes[0]),
        .name = "t",
        .cors_origin = "https://dash.example",
        .access_log = true,
    };

    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    memset(&fx, 0, sizeof(fx));
    if (velo_metrics_new(&fx.m) != VELO_OK)
        return -1;
    cfg.metrics = fx.m;
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
    velo_metrics_free(fx->m);
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

/* Sends the raw request head (after "GET "), "Connection: close" added;
 * the reply goes into a static buffer. */
static const char *
raw_get(struct fixture *fx, const char *target_and_headers)
{
    static char reply[65536];
    char        req[60000];

    snprintf(req, sizeof(req), "GET %s\r\nConnection: close\r\n\r\n",
             target_and_headers);
    assert_true(testcli_request(velo_http_server_port(fx->s), req, reply,
                                sizeof(reply)) > 0);
    return reply;
}

/* Copies the value of header name in reply into out ("" when absent). */
static void
header_of(const char *reply, const char *name, char *out, size_t size)
{
    char        key[64];
    const char *p, *end;

    snprintf(key, sizeof(key), "\r\n%s: ", name);
    out[0] = '\0';
    p = strstr(reply, key);
    if (p == NULL)
        return;
    p += strlen(key);
    end = strstr(p, "\r\n");
    snprintf(out, size, "%.*s", (int)(end - p), p);
}

static void
test_request_and_response_headers(void **state)
{
    const char *r = raw_get(*state, "/hdr HTTP/1.1\r\nHost: t\r\nX-Echo: abc");
    char        v[64];

    assert_true(strncmp(r, "HTTP/1.1 503 ", 13) == 0);
    header_of(r, "Retry-After", v, sizeof(v));
    assert_string_equal(v, "30");
    assert_null(strstr(r, "Set-Cookie"));
    assert_string_equal(strstr(r, "\r\n\r\n") + 4, "abc");
}

static void
test_etag_and_if_none_match_304(void **state)
{
    struct fixture *fx = *state;
    const char     *r = raw_get(fx, "/doc HTTP/1.1\r\nHost: t");
    char            etag[64], cc[64], head[256];

    assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
    header_of(r, "ETag", etag, sizeof(etag));
    assert_int_equal(strlen(etag), 18); /* "<16 hex>" */
    header_of(r, "Cache-Control", cc, sizeof(cc));
    assert_string_equal(cc, "max-age=5");
    snprintf(head, sizeof(head),
             "/doc HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\", %s", etag);
    r = raw_get(fx, head);
    assert_true(strncmp(r, "HTTP/1.1 304 ", 13) == 0);
    assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\n"); /* no body */
    header_of(r, "ETag", head, sizeof(head));
    assert_string_equal(head, etag);
    r = raw_get(fx, "/doc HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\"");
    assert_true(strncmp(r, "HTTP/1.1 200 ", 13) == 0);
}

/* Inflates a gzip body; returns its length. */
static size_t
gunzip(const char *in, size_t len, char *out, size_t size)
{
    z_stream zs;

    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 15 + 32), Z_OK);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)size;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    inflateEnd(&zs);
    return zs.total_out;
}

static void
test_gzip_when_accepted_with_vary(void **state)
{
    struct fixture *fx = *state;
    const char     *r;
    char            v[64], cl[32], plain[DOC_LEN + 64];
    size_t          n;

    r = raw_get(fx, "/doc HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br, gzip");
    header_of(r, "Content-Encoding", v, sizeof(v));
    assert_string_equal(v, "gzip");
    header_of(r, "Vary", v, sizeof(v));
    assert_string_equal(v, "Accept-Encoding");
    header_of(r, "ETag", v, sizeof(v));
    assert_non_null(strstr(v, "-gz\""));
    header_of(r, "Content-Length", cl, sizeof(cl));
    assert_true(strtoul(cl, NULL, 10) < DOC_LEN / 4);
    n = gunzip(strstr(r, "\r\n\r\n") + 4, strtoul(cl, NULL, 10), plain,
               sizeof(plain));
    assert_int_equal(n, DOC_LEN);
    assert_true(strncmp(plain, "{\"station\":1234}", 16) == 0);

    /* Refused (q=0) or not asked for: identity, still Vary. */
    r = raw_get(fx, "/doc HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip;q=0");
    assert_null(strstr(r, "Content-Encoding"));
    header_of(r, "Vary", v, sizeof(v));
    assert_string_equal(v, "Accept-Encoding");
    r = raw_get(fx, "/doc HTTP/1.1\r\nHost: t");
    header_of(r, "Content-Length", cl, sizeof(cl));
    assert_string_equal(cl, "4096");
    /* Small bodies are not worth it. */
    r = raw_get(fx, "/small HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip");
    assert_null(strstr(r, "Content-Encoding"));
    assert_null(strstr(r, "Vary: Accept"));
}

static void
test_cors_origin_echoed_only_when_allowed(void **state)
{
    struct fixture *fx = *state;
    const char     *r;
    char            v[64];

    r = raw_get(fx, "/hello HTTP/1.1\r\nHost: t\r\n"
                    "Origin: https://dash.example");
    header_of(r, "Access-Control-Allow-Origin", v, sizeof(v));
    assert_string_equal(v, "https://dash.example");
    header_of(r, "Vary", v, sizeof(v));
    assert_string_equal(v, "Origin");
    r = raw_get(fx, "/hello HTTP/1.1\r\nHost: t\r\nOrigin: https://evil");
    assert_null(strstr(r, "Access-Control-Allow-Origin"));
}

static void
test_long_url_is_414_and_huge_head_is_refused(void **state)
{
    struct fixture *fx = *state;
    static char     target[40000];
    const char     *r;

    memset(target, 'a', 3000);
    memcpy(target, "/hello?q=", 9);
    snprintf(target + 3000, sizeof(target) - 3000, " HTTP/1.1\r\nHost: t");
    r = raw_get(fx, target);
    assert_true(strncmp(r, "HTTP/1.1 414 ", 13) == 0);
    assert_json_error(strstr(r, "\r\n\r\n") + 4, "uri_too_long");
    /* A head past the per-connection memory: MHD answers 431 itself. */
    snprintf(target, sizeof(target), "/hello HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(target + strlen(target), 'b', 36000);
    target[33 + 36000] = '\0';
    r = raw_get(fx, target);
    assert_true(strncmp(r, "HTTP/1.1 431 ", 13) == 0);
}

/* Asserts the registry's exposition contains text. */
static void
metrics_have(velo_metrics *m, const char *text)
{
    struct velo_buf b;

    velo_buf_init(&b, 1 << 20);
    assert_int_equal(velo_metrics_render(m, &b), VELO_OK);
    if (strstr(b.data, text) == NULL)
        print_error("metrics lack %s:\n%s\n", text, b.data);
    assert_non_null(strstr(b.data, text));
    velo_buf_fini(&b);
}

static void
test_requests_are_counted_by_route_and_status(void **state)
{
    struct fixture *fx = *state;

    raw_get(fx, "/hello HTTP/1.1\r\nHost: t");
    raw_get(fx, "/nowhere HTTP/1.1\r\nHost: t");
    usleep(100 * 1000); /* counted when MHD reports completion */
    metrics_have(fx->m, "velo_http_requests_total{server=\"t\","
                        "route=\"/hello\",status=\"200\"}");
    metrics_have(fx->m, "velo_http_requests_total{server=\"t\","
                        "route=\"unmatched\",status=\"404\"}");
    metrics_have(fx->m, "velo_http_request_duration_seconds_count{server="
                        "\"t\",route=\"/hello\"}");
}

/* Reads the file at fd from the start into buf. */
static void
slurp(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);

    buf[n > 0 ? n : 0] = '\0';
}

static void
test_access_log_is_a_json_line(void **state)
{
    struct fixture *fx = *state;
    char            path[] = "/tmp/velo_http_logXXXXXX";
    static char     log[8192];
    int             fd = mkstemp(path), i;
    cJSON          *line;

    assert_true(fd >= 0);
    unlink(path);
    velo_log_init("test", VELO_LOG_INFO, fd);
    raw_get(fx, "/echo?name=x HTTP/1.1\r\nHost: t");
    for (i = 0; i < 100 && strstr(log, "http.access") == NULL; i++) {
        usleep(10 * 1000);
        slurp(fd, log, sizeof(log));
    }
    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    close(fd);
    line = cJSON_Parse(strstr(log, "{\"ts\""));
    assert_non_null(line);
    assert_string_equal(cJSON_GetObjectItem(line, "event")->valuestring,
                        "http.access");
    assert_string_equal(cJSON_GetObjectItem(line, "path")->valuestring,
                        "/echo");
    assert_int_equal(cJSON_GetObjectItem(line, "status")->valueint, 200);
    assert_string_equal(cJSON_GetObjectItem(line, "peer")->valuestring,
                        "127.0.0.1");
    cJSON_Delete(line);
}

/* MHD 0.9.75 warned "value 1 ... thread pool size ... ignored" at every
 * admin server start (threads = 1). */
static void
test_single_thread_starts_without_mhd_warning(void **state)
{
    velo_http_server           *s = NULL;
    char                        path[] = "/tmp/velo_http_logXXXXXX";
    char                        log[8192];
    int                         fd = mkstemp(path);
    struct velo_http_server_cfg cfg = {.bind = "127.0.0.1", .threads = 1};

    (void)state;
    assert_true(fd >= 0);
    unlink(path);
    velo_log_init("test", VELO_LOG_WARN, fd);
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_OK);
    velo_http_server_stop(s);
    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    slurp(fd, log, sizeof(log));
    close(fd);
    assert_null(strstr(log, "http.mhd"));
}

static void
test_etag_match_and_accept_encoding_rules(void **state)
{
    char e[32], e2[32];

    (void)state;
    velo_http_etag("abc", 3, e, sizeof(e));
    velo_http_etag("abd", 3, e2, sizeof(e2));
    assert_int_equal(strlen(e), 18);
    assert_string_not_equal(e, e2);
    assert_true(velo_http_etag_match(e, e));
    assert_true(velo_http_etag_match("*", e));
    assert_false(velo_http_etag_match(NULL, e));
    assert_false(velo_http_etag_match(e2, e));
    snprintf(e2, sizeof(e2), "\"a\", W/%s", e);
    assert_true(velo_http_etag_match(e2, e));
    assert_true(velo_http_accepts_gzip("gzip"));
    assert_true(velo_http_accepts_gzip("deflate, GZIP;q=0.5"));
    assert_true(velo_http_accepts_gzip("*"));
    assert_false(velo_http_accepts_gzip(NULL));
    assert_false(velo_http_accepts_gzip("br"));
    assert_false(velo_http_accepts_gzip("gzip;q=0"));
    assert_false(velo_http_accepts_gzip("gzip; q=0.000, br"));
    assert_false(velo_http_accepts_gzip("x-gzip2"));
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
        cmocka_unit_test(test_request_and_response_headers),
        cmocka_unit_test(test_etag_and_if_none_match_304),
        cmocka_unit_test(test_gzip_when_accepted_with_vary),
        cmocka_unit_test(test_cors_origin_echoed_only_when_allowed),
        cmocka_unit_test(test_long_url_is_414_and_huge_head_is_refused),
        cmocka_unit_test(test_requests_are_counted_by_route_and_status),
        cmocka_unit_test(test_access_log_is_a_json_line),
        cmocka_unit_test(test_single_thread_starts_without_mhd_warning),
        cmocka_unit_test(test_etag_match_and_accept_encoding_rules),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
