/* http_client_policy_test.c: the internal-address classifier, host
 * matching, and the policy enforced by velo_http_get on loopback peers:
 * refused before connecting, on redirects too, with nothing of the body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "testsrv_test_util.h"
#include "velo/http_client.h"

static void
expect_class(const char *ip, const char *want)
{
    const char *got = velo_addr_internal_str(ip);

    if (want == NULL && got != NULL)
        fail_msg("%s: classified %s, want public", ip, got);
    if (want != NULL && (got == NULL || strcmp(got, want) != 0))
        fail_msg("%s: classified %s, want %s", ip, got ? got : "public", want);
}

static void
test_classifier_ipv4(void **state)
{
    (void)state;
    expect_class("0.0.0.0", "unspecified");
    expect_class("127.0.0.1", "loopback");
    expect_class("127.255.0.9", "loopback");
    expect_class("10.2.3.4", "private");
    expect_class("172.16.0.1", "private");
    expect_class("172.31.255.254", "private");
    expect_class("192.168.1.1", "private");
    expect_class("169.254.169.254", "link-local");
    expect_class("100.64.0.1", "cgnat");
    expect_class("100.127.255.255", "cgnat");
    expect_class("224.0.0.1", "multicast");
    expect_class("255.255.255.255", "broadcast");
    expect_class("8.8.8.8", NULL);
    expect_class("172.15.255.255", NULL);
    expect_class("172.32.0.0", NULL);
    expect_class("100.63.255.255", NULL);
    expect_class("100.128.0.0", NULL);
    expect_class("192.169.0.1", NULL);
    expect_class("not an address", "unparsable");
}

static void
test_classifier_ipv6(void **state)
{
    (void)state;
    expect_class("::", "unspecified");
    expect_class("::1", "loopback");
    expect_class("fe80::1", "link-local");
    expect_class("fc00::1", "unique-local");
    expect_class("fd12:3456::1", "unique-local");
    expect_class("ff02::1", "multicast");
    expect_class("::ffff:127.0.0.1", "loopback");
    expect_class("::ffff:10.0.0.1", "private");
    expect_class("::ffff:169.254.169.254", "link-local");
    expect_class("64:ff9b::192.168.0.1", "private");
    expect_class("::ffff:8.8.8.8", NULL);
    expect_class("2001:4860:4860::8888", NULL);
    expect_class("2a00:1450::1", NULL);
}

static void
test_classifier_on_sockaddr(void **state)
{
    struct sockaddr_in  a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};

    (void)state;
    assert_int_equal(inet_pton(AF_INET, "192.168.0.7", &a4.sin_addr), 1);
    assert_string_equal(velo_addr_internal((struct sockaddr *)&a4), "private");
    assert_int_equal(inet_pton(AF_INET, "1.1.1.1", &a4.sin_addr), 1);
    assert_null(velo_addr_internal((struct sockaddr *)&a4));
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.2", &a6.sin6_addr), 1);
    assert_string_equal(velo_addr_internal((struct sockaddr *)&a6), "loopback");
}

static void
test_policy_host_matching(void **state)
{
    static const char *const ok[] = {"Feeds.Example", "127.0.0.1:8080",
                                     "[::1]:9000"};
    struct velo_fetch_policy pol = {ok, 3};

    (void)state;
    assert_true(velo_fetch_policy_allows(&pol, "feeds.example", "443"));
    assert_true(velo_fetch_policy_allows(&pol, "feeds.example", "8443"));
    assert_false(velo_fetch_policy_allows(&pol, "feeds.example.evil", "443"));
    assert_false(velo_fetch_policy_allows(&pol, "feeds.exampl", "443"));
    assert_true(velo_fetch_policy_allows(&pol, "127.0.0.1", "8080"));
    assert_false(velo_fetch_policy_allows(&pol, "127.0.0.1", "8081"));
    assert_false(velo_fetch_policy_allows(&pol, "127.0.0.1", "80"));
    assert_true(velo_fetch_policy_allows(&pol, "[::1]", "9000"));
    assert_false(velo_fetch_policy_allows(&pol, "[::1]", "90"));
}

static const char ok_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                              "\r\nsecret";

static void
test_loopback_without_allow_is_refused(void **state)
{
    struct velo_fetch_policy pol = {NULL, 0};
    struct velo_fetch_result res;
    struct velo_fetch_req    req = {.timeout_ms = 5000, .policy = &pol};
    char                     url[64];
    uint16_t                 port = 0;
    int                      fd;

    (void)state;
    /* Bound, not listening: without the policy this is "connection
     * refused" (EUNAVAIL); with it, nothing is even tried. */
    fd = testsrv_bind(&port);
    assert_true(fd >= 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", (unsigned)port);
    req.url = url;
    assert_int_equal(velo_http_get(&req, &res), VELO_EINVAL);
    assert_true(res.refused);
    assert_int_equal(res.body.len, 0);
    assert_non_null(strstr(res.cause, "loopback"));
    velo_fetch_result_fini(&res);
    close(fd);
}

static void
test_allowed_host_and_port_is_fetched(void **state)
{
    struct testsrv           ts;
    char                     url[64], entry[32];
    const char              *ok[1] = {entry};
    struct velo_fetch_policy pol = {ok, 1};
    struct velo_fetch_result res;
    struct velo_fetch_req    req = {
           .url = url, .timeout_ms = 5000, .policy = &pol};

    (void)state;
    assert_int_equal(testsrv_start(&ts, ok_resp, strlen(ok_resp), 0), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ts.port);
    snprintf(entry, sizeof(entry), "127.0.0.1:%u", (unsigned)ts.port);
    assert_int_equal(velo_http_get(&req, &res), VELO_OK);
    testsrv_stop(&ts);
    assert_false(res.refused);
    assert_int_equal(res.status, 200);
    velo_fetch_result_fini(&res);
}

static void
test_redirect_to_other_loopback_port_is_refused(void **state)
{
    struct testsrv           ts;
    char                     url[64], entry[32], r[256];
    const char              *ok[1] = {entry};
    struct velo_fetch_policy pol = {ok, 1};
    struct velo_fetch_result res;
    struct velo_fetch_req    req = {
           .url = url, .timeout_ms = 5000, .policy = &pol};
    uint16_t port = 0;
    int      fd;

    (void)state;
    fd = testsrv_bind(&port); /* the "admin port" the redirect aims at */
    assert_true(fd >= 0);
    snprintf(r, sizeof(r),
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%u/metrics\r\n"
             "Content-Length: 6\r\n\r\nbodyXX",
             (unsigned)port);
    assert_int_equal(testsrv_start(&ts, r, strlen(r), 0), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ts.port);
    snprintf(entry, sizeof(entry), "127.0.0.1:%u", (unsigned)ts.port);
    assert_int_equal(velo_http_get(&req, &res), VELO_EINVAL);
    testsrv_stop(&ts);
    assert_true(res.refused);
    assert_int_equal(res.body.len, 0);
    assert_int_equal(res.status, 0);
    velo_fetch_result_fini(&res);
    close(fd);
}

static void
test_redirect_to_other_scheme_is_refused(void **state)
{
    struct testsrv           ts;
    char                     url[64];
    struct velo_fetch_result res;
    struct velo_fetch_req    req = {.url = url, .timeout_ms = 5000};
    static const char        r[] = "HTTP/1.1 302 Found\r\n"
                                   "Location: file:///etc/passwd\r\n"
                                   "Content-Length: 0\r\n\r\n";

    (void)state;
    assert_int_equal(testsrv_start(&ts, r, strlen(r), 0), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ts.port);
    assert_int_not_equal(velo_http_get(&req, &res), VELO_OK);
    testsrv_stop(&ts);
    assert_int_equal(res.body.len, 0);
    velo_fetch_result_fini(&res);
}

struct outcome {
    int  calls, err;
    bool refused;
};

static void
on_done(void *ctx, struct velo_fetch_result *res)
{
    struct outcome *o = ctx;

    o->calls++;
    o->err = res->err;
    o->refused = res->refused;
}

static void
run_until_done(velo_fetcher *f, const struct outcome *o)
{
    int i;

    for (i = 0; i < 100 && o->calls == 0; i++)
        assert_int_equal(velo_fetcher_run(f, 100), VELO_OK);
    assert_int_equal(o->calls, 1);
}

/* A kept-alive connection is reused without opening a socket: the check
 * before the request is sent must still judge it under the new request's
 * policy. (Without it the second request would go out and time out.) */
static void
test_reused_connection_is_judged_again(void **state)
{
    static const char        keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                      "\r\nok";
    struct testsrv           ts;
    char                     url[64], entry[32];
    const char              *ok[1] = {entry};
    struct velo_fetch_policy allow = {ok, 1}, deny = {NULL, 0};
    struct velo_fetch_req    req = {.url = url, .timeout_ms = 1500};
    struct outcome           first = {0}, second = {0};
    velo_fetcher            *f = NULL;

    (void)state;
    assert_int_equal(testsrv_start(&ts, keep, strlen(keep), 4000), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ts.port);
    snprintf(entry, sizeof(entry), "127.0.0.1:%u", (unsigned)ts.port);
    assert_int_equal(velo_fetcher_new(&f), VELO_OK);
    req.policy = &allow;
    assert_int_equal(velo_fetcher_add(f, &req, on_done, &first), VELO_OK);
    run_until_done(f, &first);
    assert_int_equal(first.err, VELO_OK);
    req.policy = &deny;
    assert_int_equal(velo_fetcher_add(f, &req, on_done, &second), VELO_OK);
    run_until_done(f, &second);
    assert_true(second.refused);
    assert_int_equal(second.err, VELO_EINVAL);
    velo_fetcher_free(f); /* closes the kept connection: the server ends */
    testsrv_stop(&ts);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier_ipv4),
        cmocka_unit_test(test_classifier_ipv6),
        cmocka_unit_test(test_classifier_on_sockaddr),
        cmocka_unit_test(test_policy_host_matching),
        cmocka_unit_test(test_loopback_without_allow_is_refused),
        cmocka_unit_test(test_allowed_host_and_port_is_fetched),
        cmocka_unit_test(test_redirect_to_other_loopback_port_is_refused),
        cmocka_unit_test(test_redirect_to_other_scheme_is_refused),
        cmocka_unit_test(test_reused_connection_is_judged_again),
    };

    return cmocka_run_group_tests(tests, testsrv_curl_setup,
                                  testsrv_curl_teardown);
}
