/* http_client_test.c: velo_fetcher and velo_http_get against raw loopback
 * servers that misbehave on purpose (testsrv_test_util.h), and against a
 * real velo_http_server for concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testsrv_test_util.h"
#include "velo/http_client.h"
#include "velo/http_server.h"
#include "velo/log.h"

#define BIG 5000 /* body bytes, over the 1000-byte limit used below */

/* Serves canned (len bytes) once, GETs it with the given limits, and
 * returns the error; the caller finis res. head, when not NULL, receives
 * the request head the server saw. */
static int
fetch_canned(const char *canned, size_t len, int hold_ms, uint32_t timeout_ms,
             size_t max_body, struct velo_fetch_result *res, char *head,
             size_t head_size)
{
    struct testsrv        ts;
    char                  url[64];
    const char           *hdrs[] = {"X-Velo-Test: 1"};
    struct velo_fetch_req req = {
        .url = url,
        .timeout_ms = timeout_ms,
        .max_body = max_body,
        .headers = hdrs,
        .nheaders = 1,
    };
    int rv;

    assert_int_equal(testsrv_start(&ts, canned, len, hold_ms), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ts.port);
    rv = velo_http_get(&req, res);
    testsrv_stop(&ts);
    if (head != NULL)
        snprintf(head, head_size, "%s", ts.head);
    return rv;
}

/* A response head plus n bytes of 'a' as the body; caller frees. */
static char *
canned_big(const char *head, size_t n, size_t *len)
{
    size_t hl = strlen(head);
    char  *p = malloc(hl + n);

    assert_non_null(p);
    memcpy(p, head, hl);
    memset(p + hl, 'a', n);
    *len = hl + n;
    return p;
}

static void
test_ok_response_has_status_body_and_request_headers(void **state)
{
    static const char        r[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                   "\r\nhello";
    struct velo_fetch_result res;
    char                     head[4096];

    (void)state;
    assert_int_equal(
        fetch_canned(r, strlen(r), 0, 5000, 0, &res, head, sizeof(head)),
        VELO_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.body.len, 5);
    assert_string_equal(res.body.data, "hello");
    assert_int_equal(res.retry_after_ms, -1);
    assert_string_equal(res.cause, "");
    assert_true(res.elapsed_ms >= 0);
    assert_non_null(strstr(head, "GET /x HTTP/1.1\r\n"));
    assert_non_null(strstr(head, "User-Agent: velopipe/0.1\r\n"));
    assert_non_null(strstr(head, "X-Velo-Test: 1\r\n"));
    velo_fetch_result_fini(&res);
}

static void
test_body_at_exactly_max_is_accepted(void **state)
{
    struct velo_fetch_result res;
    size_t                   len;
    char *r = canned_big("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
                         1000, &len);

    (void)state;
    assert_int_equal(fetch_canned(r, len, 0, 5000, 1000, &res, NULL, 0),
                     VELO_OK);
    assert_int_equal(res.body.len, 1000);
    velo_fetch_result_fini(&res);
    free(r);
}

static void
test_content_length_over_max_is_etoobig_before_the_body(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
    struct velo_fetch_result res;

    (void)state;
    /* The server announces 5000 bytes but sends none and holds the line:
     * only a check of Content-Length can fail this fast. */
    assert_int_equal(
        fetch_canned(r, strlen(r), 5000, 4000, 1000, &res, NULL, 0),
        VELO_ETOOBIG);
    assert_int_equal(res.err, VELO_ETOOBIG);
    assert_true(res.elapsed_ms < 2000);
    assert_int_equal(res.body.len, 0);
    assert_string_not_equal(res.cause, "");
    velo_fetch_result_fini(&res);
}

static void
test_unannounced_body_over_max_is_etoobig(void **state)
{
    struct velo_fetch_result res;
    size_t                   len;
    char                    *r =
        canned_big("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", BIG, &len);

    (void)state;
    assert_int_equal(fetch_canned(r, len, 0, 5000, 1000, &res, NULL, 0),
                     VELO_ETOOBIG);
    assert_true(res.body.len <= 1000);
    assert_non_null(strstr(res.cause, "max_body"));
    velo_fetch_result_fini(&res);
    free(r);
}

static void
test_truncated_body_is_eproto(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                            "only ten b";
    struct velo_fetch_result res;

    (void)state;
    assert_int_equal(fetch_canned(r, strlen(r), 0, 5000, 0, &res, NULL, 0),
                     VELO_EPROTO);
    assert_int_equal(res.status, 200);
    assert_string_not_equal(res.cause, "");
    velo_fetch_result_fini(&res);
}

static void
test_stalled_body_is_etimedout(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    struct velo_fetch_result res;

    (void)state;
    /* The server holds the connection 5 s; the 300 ms timeout wins. */
    assert_int_equal(fetch_canned(r, strlen(r), 5000, 300, 0, &res, NULL, 0),
                     VELO_ETIMEDOUT);
    assert_true(res.elapsed_ms >= 250 && res.elapsed_ms < 3000);
    velo_fetch_result_fini(&res);
}

static void
test_429_retry_after_seconds(void **state)
{
    static const char        r[] = "HTTP/1.1 429 Too Many Requests\r\n"
                                   "Retry-After: 7\r\nContent-Length: 0\r\n\r\n";
    struct velo_fetch_result res;

    (void)state;
    assert_int_equal(fetch_canned(r, strlen(r), 0, 5000, 0, &res, NULL, 0),
                     VELO_OK);
    assert_int_equal(res.status, 429);
    assert_int_equal(res.retry_after_ms, 7000);
    velo_fetch_result_fini(&res);
}

static void
test_503_retry_after_http_date(void **state)
{
    struct velo_fetch_result res;
    char                     r[256], date[64];
    time_t                   t = time(NULL) + 60;
    struct tm                tm;

    (void)state;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(r, sizeof(r),
             "HTTP/1.1 503 Service Unavailable\r\nretry-after:  %s \r\n"
             "Content-Length: 0\r\n\r\n",
             date);
    assert_int_equal(fetch_canned(r, strlen(r), 0, 5000, 0, &res, NULL, 0),
                     VELO_OK);
    assert_int_equal(res.status, 503);
    assert_true(res.retry_after_ms > 55000 && res.retry_after_ms <= 61000);
    velo_fetch_result_fini(&res);
}

static void
test_garbage_retry_after_is_ignored(void **state)
{
    static const char        r[] = "HTTP/1.1 429 Too Many Requests\r\n"
                                   "Retry-After: soon\r\nContent-Length: 0\r\n\r\n";
    struct velo_fetch_result res;

    (void)state;
    assert_int_equal(fetch_canned(r, strlen(r), 0, 5000, 0, &res, NULL, 0),
                     VELO_OK);
    assert_int_equal(res.retry_after_ms, -1);
    velo_fetch_result_fini(&res);
}

/* gzip of "velo " x 200 (made with Python's gzip.compress, mtime 0). */
static const unsigned char velo_gz[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x2b,
    0x4b, 0xcd, 0xc9, 0x57, 0x28, 0x1b, 0x25, 0x46, 0x89, 0x51, 0x62,
    0x38, 0x13, 0x00, 0xaa, 0x3d, 0x3a, 0x81, 0xe8, 0x03, 0x00, 0x00};

/* A gzip response carrying velo_gz; caller frees. */
static char *
canned_gzip(size_t *len)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                               "Content-Length: 33\r\n\r\n";
    char             *p = malloc(sizeof(head) - 1 + sizeof(velo_gz));

    assert_non_null(p);
    memcpy(p, head, sizeof(head) - 1);
    memcpy(p + sizeof(head) - 1, velo_gz, sizeof(velo_gz));
    *len = sizeof(head) - 1 + sizeof(velo_gz);
    return p;
}

static void
test_gzip_body_is_decoded(void **state)
{
    struct velo_fetch_result res;
    char                     head[4096], want[1001];
    size_t                   len, i;
    char                    *r;

    (void)state;
    if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_LIBZ))
        skip(); /* this libcurl cannot decode gzip */
    for (i = 0; i < 200; i++)
        memcpy(want + i * 5, "velo ", 5);
    want[1000] = '\0';
    r = canned_gzip(&len);
    assert_int_equal(fetch_canned(r, len, 0, 5000, 0, &res, head, sizeof(head)),
                     VELO_OK);
    assert_non_null(strstr(head, "Accept-Encoding: "));
    assert_non_null(strstr(strstr(head, "Accept-Encoding: "), "gzip"));
    assert_int_equal(res.body.len, 1000);
    assert_string_equal(res.body.data, want);
    velo_fetch_result_fini(&res);
    /* 33 bytes on the wire, 1000 decoded: the limit applies to the
     * decoded body (no gzip bombs). */
    assert_int_equal(fetch_canned(r, len, 0, 5000, 500, &res, NULL, 0),
                     VELO_ETOOBIG);
    velo_fetch_result_fini(&res);
    free(r);
}

static void
test_broken_gzip_is_eproto(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                            "Content-Length: 12\r\n\r\nnot gzip at!";
    struct velo_fetch_result res;

    (void)state;
    if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_LIBZ))
        skip();
    assert_int_equal(fetch_canned(r, strlen(r), 0, 5000, 0, &res, NULL, 0),
                     VELO_EPROTO);
    velo_fetch_result_fini(&res);
}

static void
test_connection_refused_is_eunavail(void **state)
{
    struct velo_fetch_result res;
    struct velo_fetch_req    req = {.timeout_ms = 5000};
    char                     url[64];
    uint16_t                 port = 0;
    int                      fd;

    (void)state;
    /* Bound but not listening: the port stays ours and refuses. */
    fd = testsrv_bind(&port);
    assert_true(fd >= 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
    req.url = url;
    assert_int_equal(velo_http_get(&req, &res), VELO_EUNAVAIL);
    assert_int_equal(res.status, 0);
    assert_string_not_equal(res.cause, "");
    velo_fetch_result_fini(&res);
    close(fd);
}

static void
test_redirect_is_followed_and_resets_retry_after(void **state)
{
    struct testsrv           final;
    struct velo_fetch_result res;
    char                     r[256];
    static const char        ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
                                    "\r\ndone";

    (void)state;
    assert_int_equal(testsrv_start(&final, ok, strlen(ok), 0), 0);
    snprintf(r, sizeof(r),
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%u/y\r\n"
             "Retry-After: 9\r\nContent-Length: 0\r\n\r\n",
             (unsigned) final.port);
    assert_int_equal(fetch_canned(r, strlen(r), 0, 5000, 0, &res, NULL, 0),
                     VELO_OK);
    testsrv_stop(&final);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body.data, "done");
    assert_int_equal(res.retry_after_ms, -1);
    assert_non_null(strstr(final.head, "GET /y HTTP/1.1\r\n"));
    velo_fetch_result_fini(&res);
}

static void
test_bad_request_is_einval(void **state)
{
    struct velo_fetch_result res;
    struct velo_fetch_req    req = {.url = NULL};

    (void)state;
    assert_int_equal(velo_http_get(&req, &res), VELO_EINVAL);
    velo_fetch_result_fini(&res);
    req.url = "ftp://127.0.0.1/x"; /* only http and https */
    assert_int_equal(velo_http_get(&req, &res), VELO_EINVAL);
    velo_fetch_result_fini(&res);
}

/* One fetch's outcome, filled by on_fetch. */
struct slot {
    int    calls;
    int    err;
    long   status;
    char  *body; /* stolen from the result */
    size_t len;
};

static void
on_fetch(void *ctx, struct velo_fetch_result *res)
{
    struct slot *sl = ctx;

    sl->calls++;
    sl->err = res->err;
    sl->status = res->status;
    sl->body = velo_buf_steal(&res->body, &sl->len);
}

/* Echoes the query parameter "i" (runs on an MHD thread: no asserts). */
static void
on_n(void *ctx, const struct velo_http_req *req, struct velo_http_resp *resp)
{
    const char *i = velo_http_query(req, "i");

    (void)ctx;
    if (i == NULL || velo_buf_printf(&resp->body, "n=%s", i) != VELO_OK)
        resp->status = 500;
}

#define NFETCH 8

static void
test_concurrent_fetches_get_their_own_callbacks(void **state)
{
    const struct velo_http_route route = {
        .method = "GET", .path = "/n", .fn = on_n};
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1", .routes = &route, .nroutes = 1};
    velo_http_server *s;
    velo_fetcher     *f;
    struct slot       slots[NFETCH];
    char              url[NFETCH][64], want[32];
    int64_t           deadline;
    int               i;

    (void)state;
    memset(slots, 0, sizeof(slots));
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_OK);
    assert_int_equal(velo_fetcher_new(&f), VELO_OK);
    for (i = 0; i < NFETCH; i++) {
        struct velo_fetch_req req = {.url = url[i], .timeout_ms = 5000};

        snprintf(url[i], sizeof(url[i]), "http://127.0.0.1:%u/n?i=%d",
                 (unsigned)velo_http_server_port(s), i);
        assert_int_equal(velo_fetcher_add(f, &req, on_fetch, &slots[i]),
                         VELO_OK);
    }
    assert_int_equal(velo_fetcher_pending(f), NFETCH);
    deadline = testsrv_now_ms() + 10000;
    while (velo_fetcher_pending(f) > 0 && testsrv_now_ms() < deadline)
        assert_int_equal(velo_fetcher_run(f, 200), VELO_OK);
    assert_int_equal(velo_fetcher_pending(f), 0);
    for (i = 0; i < NFETCH; i++) {
        snprintf(want, sizeof(want), "n=%d", i);
        assert_int_equal(slots[i].calls, 1);
        assert_int_equal(slots[i].err, VELO_OK);
        assert_int_equal(slots[i].status, 200);
        assert_non_null(slots[i].body);
        assert_string_equal(slots[i].body, want);
        free(slots[i].body);
    }
    velo_fetcher_free(f);
    velo_http_server_stop(s);
}

static void
test_free_cancels_in_flight_with_eclosed(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    struct testsrv    ts;
    velo_fetcher     *f;
    struct slot       sl = {0};
    char              url[64];
    struct velo_fetch_req req = {.url = url};

    (void)state;
    assert_int_equal(testsrv_start(&ts, r, strlen(r), 5000), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)ts.port);
    assert_int_equal(velo_fetcher_new(&f), VELO_OK);
    assert_int_equal(velo_fetcher_add(f, &req, on_fetch, &sl), VELO_OK);
    assert_int_equal(velo_fetcher_run(f, 50), VELO_OK);
    assert_int_equal(sl.calls, 0); /* the body is still 100 bytes short */
    velo_fetcher_free(f);
    assert_int_equal(sl.calls, 1);
    assert_int_equal(sl.err, VELO_ECLOSED);
    free(sl.body);
    testsrv_stop(&ts); /* returns once it sees the client gone */
}

static void *
wake_main(void *arg)
{
    velo_fetcher_wakeup(arg);
    return NULL;
}

static void
test_wakeup_from_another_thread_ends_run_early(void **state)
{
    velo_fetcher *f;
    pthread_t     th;
    int64_t       t0;

    (void)state;
    assert_int_equal(velo_fetcher_new(&f), VELO_OK);
    /* A wakeup that lands before run starts still counts: curl keeps it
     * pending until the next poll. */
    assert_int_equal(pthread_create(&th, NULL, wake_main, f), 0);
    t0 = testsrv_now_ms();
    assert_int_equal(velo_fetcher_run(f, 10000), VELO_OK);
    assert_true(testsrv_now_ms() - t0 < 5000);
    pthread_join(th, NULL);
    velo_fetcher_free(f);
    velo_fetcher_free(NULL); /* a no-op */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_response_has_status_body_and_request_headers),
        cmocka_unit_test(test_body_at_exactly_max_is_accepted),
        cmocka_unit_test(
            test_content_length_over_max_is_etoobig_before_the_body),
        cmocka_unit_test(test_unannounced_body_over_max_is_etoobig),
        cmocka_unit_test(test_truncated_body_is_eproto),
        cmocka_unit_test(test_stalled_body_is_etimedout),
        cmocka_unit_test(test_429_retry_after_seconds),
        cmocka_unit_test(test_503_retry_after_http_date),
        cmocka_unit_test(test_garbage_retry_after_is_ignored),
        cmocka_unit_test(test_gzip_body_is_decoded),
        cmocka_unit_test(test_broken_gzip_is_eproto),
        cmocka_unit_test(test_connection_refused_is_eunavail),
        cmocka_unit_test(test_redirect_is_followed_and_resets_retry_after),
        cmocka_unit_test(test_bad_request_is_einval),
        cmocka_unit_test(test_concurrent_fetches_get_their_own_callbacks),
        cmocka_unit_test(test_free_cancels_in_flight_with_eclosed),
        cmocka_unit_test(test_wakeup_from_another_thread_ends_run_early),
    };

    return cmocka_run_group_tests(tests, testsrv_curl_setup,
                                  testsrv_curl_teardown);
}
