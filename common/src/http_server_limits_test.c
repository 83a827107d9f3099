/* http_server_limits_test.c: fault 7, slow clients starving the admin
 * port, on real loopback sockets.
 *
 * Slow-loris clients open a request and send one more header line every
 * second, never finishing: MHD's idle timeout never fires for them. The
 * server must keep answering /healthz to another address, and must cut
 * off every request head still incomplete after request_timeout_ms.
 * Linux routes all of 127/8 to lo, so clients bind distinct source
 * addresses (127.0.1.x) to play distinct peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testsrv_test_util.h"
#include "velo/http_server.h"
#include "velo/log.h"

#define LORIS_MAX 200
#define HEAD_START "GET /healthz HTTP/1.1\r\nHost: t\r\n"

struct loris {
    int fd[LORIS_MAX];
    int n;
    int closed; /* by the server */
};

static void
on_healthz(void *ctx, const struct velo_http_req *req,
           struct velo_http_resp *resp)
{
    (void)ctx;
    (void)req;
    if (velo_buf_puts(&resp->body, "ok\n") != VELO_OK)
        resp->status = 500;
}

static const struct velo_http_route routes[] = {
    {.method = "GET", .path = "/healthz", .fn = on_healthz},
};

/* A TCP socket from source address src to 127.0.0.1:port; -1 on failure. */
static int
connect_from(const char *src, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct sockaddr_in la = {.sin_family = AF_INET};
    int                fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    inet_pton(AF_INET, src, &la.sin_addr);
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&la, sizeof(la)) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* GET /healthz from src; the reply's elapsed ms when it is a 200 within
 * limit_ms, else -1 (refused, reset or too slow). */
static int64_t
healthz_from(const char *src, uint16_t port, int limit_ms)
{
    const char   *req = HEAD_START "Connection: close\r\n\r\n";
    int64_t       t0 = testsrv_now_ms();
    struct pollfd pfd = {.events = POLLIN};
    char          buf[512];
    size_t        n = 0;
    ssize_t       r;

    pfd.fd = connect_from(src, port);
    if (pfd.fd < 0)
        return -1;
    if (send(pfd.fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        close(pfd.fd);
        return -1;
    }
    while (n < sizeof(buf) - 1 && poll(&pfd, 1, limit_ms) > 0) {
        r = recv(pfd.fd, buf + n, sizeof(buf) - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(pfd.fd);
    if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 ||
        testsrv_now_ms() - t0 > limit_ms)
        return -1;
    return testsrv_now_ms() - t0;
}

/* Opens n slow clients, spread over naddr source addresses 127.0.1.x. */
static void
loris_open(struct loris *l, int n, int naddr, uint16_t port)
{
    char src[32];
    int  i;

    memset(l, 0, sizeof(*l));
    for (i = 0; i < n && i < LORIS_MAX; i++) {
        snprintf(src, sizeof(src), "127.0.1.%d", 1 + i % naddr);
        l->fd[i] = connect_from(src, port);
        assert_true(l->fd[i] >= 0);
        if (send(l->fd[i], HEAD_START, strlen(HEAD_START), MSG_NOSIGNAL) < 0) {
            close(l->fd[i]);
            l->fd[i] = -1;
            l->closed++;
        }
        l->n++;
    }
}

/* Notices clients the server has closed (EOF or reset). */
static void
loris_reap(struct loris *l)
{
    char    buf[256];
    ssize_t r;
    int     i;

    for (i = 0; i < l->n; i++) {
        if (l->fd[i] < 0)
            continue;
        r = recv(l->fd[i], buf, sizeof(buf), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(l->fd[i]);
            l->fd[i] = -1;
            l->closed++;
        }
    }
}

/* Every live client sends one more header line: never idle, never done. */
static void
loris_dribble(struct loris *l)
{
    int i;

    for (i = 0; i < l->n; i++) {
        if (l->fd[i] >= 0)
            (void)send(l->fd[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
    }
    loris_reap(l);
}

static void
loris_close(struct loris *l)
{
    int i;

    for (i = 0; i < l->n; i++) {
        if (l->fd[i] >= 0)
            close(l->fd[i]);
    }
}

/* Keeps the clients dribbling once a second for ms. */
static void
loris_run(struct loris *l, int ms)
{
    int64_t end = testsrv_now_ms() + ms;
    int64_t next = testsrv_now_ms() + 1000;

    while (testsrv_now_ms() < end) {
        if (testsrv_now_ms() >= next) {
            loris_dribble(l);
            next += 1000;
        }
        usleep(50 * 1000);
        loris_reap(l);
    }
}

/* 200 slow clients from one address hold at most max_conns_per_ip slots:
 * /healthz from another address answers at once, while they dribble. */
static void
test_slow_clients_of_one_address_do_not_starve_others(void **state)
{
    velo_http_server           *s = NULL;
    velo_metrics               *m = NULL;
    struct velo_buf             text;
    struct loris                l;
    int64_t                     ms;
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .routes = routes,
        .nroutes = 1,
        .max_conns = 100, /* below the 200 slow clients */
        .max_conns_per_ip = 16,
        .request_timeout_ms = 60000, /* only the per-IP limit at work */
    };

    (void)state;
    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    cfg.metrics = m;
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_OK);
    loris_open(&l, LORIS_MAX, 1, velo_http_server_port(s));
    loris_run(&l, 1500);
    /* All but the 16 the limit admits were turned away at accept. */
    assert_int_equal(l.closed, LORIS_MAX - 16);
    ms = healthz_from("127.0.0.2", velo_http_server_port(s), 1000);
    assert_true(ms >= 0);
    loris_run(&l, 1100);
    assert_int_equal(l.closed, LORIS_MAX - 16); /* the 16 still dribble */
    assert_true(healthz_from("127.0.0.2", velo_http_server_port(s), 1000) >= 0);
    loris_close(&l);
    velo_http_server_stop(s);
    /* Every refusal is counted (MHD reports them only in its log). */
    velo_buf_init(&text, 1 << 20);
    assert_int_equal(velo_metrics_render(m, &text), VELO_OK);
    assert_non_null(strstr(text.data, "velo_http_rejected_total{server="
                                      "\"http\",reason=\"connection_limit\"} "
                                      "184\n"));
    velo_buf_fini(&text);
    velo_metrics_free(m);
}

/* Sends a /healthz request from src; the socket, or -1. */
static int
healthz_send(const char *src, uint16_t port)
{
    const char *req = HEAD_START "Connection: close\r\n\r\n";
    int         fd = connect_from(src, port);

    if (fd >= 0 &&
        send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Slow clients from many addresses fill every connection slot (fault 7:
 * 1,100 clients against a limit of 1,024); MHD then leaves new
 * connections in the listen backlog. The whole-request timeout cuts the
 * slow ones off although they never go idle, so a /healthz waiting in the
 * backlog is answered within the timeout, not never. */
static void
test_request_timeout_frees_a_full_server(void **state)
{
    velo_http_server           *s = NULL;
    struct loris                l;
    int64_t                     t0, next, answered = -1;
    char                        reply[64];
    int                         hfd;
    ssize_t                     r;
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .routes = routes,
        .nroutes = 1,
        .max_conns = 100,
        .max_conns_per_ip = 32,
        .request_timeout_ms = 2000,
    };

    (void)state;
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_OK);
    loris_open(&l, 100, 10, velo_http_server_port(s));
    loris_run(&l, 300);
    assert_int_equal(l.closed, 0); /* all 100 slots are held */
    t0 = testsrv_now_ms();
    hfd = healthz_send("127.0.0.2", velo_http_server_port(s));
    assert_true(hfd >= 0);
    next = t0 + 500;
    while (answered < 0 && testsrv_now_ms() - t0 < 5000) {
        if (testsrv_now_ms() >= next) {
            loris_dribble(&l); /* the slow clients never go idle */
            next += 500;
        }
        r = recv(hfd, reply, sizeof(reply) - 1, MSG_DONTWAIT);
        if (r > 0) {
            reply[r] = '\0';
            assert_true(strncmp(reply, "HTTP/1.1 200 ", 13) == 0);
            answered = testsrv_now_ms() - t0;
        }
        usleep(20 * 1000);
    }
    close(hfd);
    print_message("healthz answered after %lld ms\n", (long long)answered);
    /* Waiting before the fix: until a slow client gave up (never). */
    assert_true(answered >= 1000 && answered < 3000);
    loris_run(&l, 1000);             /* the sweep runs every timeout/4 */
    assert_int_equal(l.closed, 100); /* every slow client was cut */
    loris_close(&l);
    velo_http_server_stop(s);
}

/* Reads until the peer closes or ms pass; true when it closed. */
static bool
closed_within(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char          buf[256];

    while (poll(&pfd, 1, ms) > 0) {
        if (recv(fd, buf, sizeof(buf), 0) <= 0)
            return true;
    }
    return false;
}

/* A request dribbled a byte every 200 ms is cut at the 1.5 s timeout;
 * one completed within the timeout is answered. */
static void
test_dribbled_request_is_cut_at_the_timeout(void **state)
{
    velo_http_server           *s = NULL;
    int                         fd, i;
    int64_t                     t0, took;
    char                        reply[512];
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .routes = routes,
        .nroutes = 1,
        .request_timeout_ms = 1500,
    };

    (void)state;
    assert_int_equal(velo_http_server_start(&s, &cfg), VELO_OK);
    fd = connect_from("127.0.0.1", velo_http_server_port(s));
    t0 = testsrv_now_ms();
    assert_true(send(fd, HEAD_START, strlen(HEAD_START), MSG_NOSIGNAL) > 0);
    for (i = 0; i < 20 && !closed_within(fd, 200); i++)
        (void)send(fd, "X", 1, MSG_NOSIGNAL);
    took = testsrv_now_ms() - t0;
    close(fd);
    assert_true(took >= 1400 && took < 2500);

    /* Slow but within the bound: served. */
    fd = connect_from("127.0.0.1", velo_http_server_port(s));
    assert_true(send(fd, HEAD_START, strlen(HEAD_START), MSG_NOSIGNAL) > 0);
    usleep(700 * 1000);
    assert_true(send(fd, "Connection: close\r\n\r\n", 21, MSG_NOSIGNAL) > 0);
    i = (int)recv(fd, reply, sizeof(reply) - 1, 0);
    assert_true(i > 13);
    reply[i] = '\0';
    assert_true(strncmp(reply, "HTTP/1.1 200 ", 13) == 0);
    close(fd);
    velo_http_server_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_clients_of_one_address_do_not_starve_others),
        cmocka_unit_test(test_request_timeout_frees_a_full_server),
        cmocka_unit_test(test_dribbled_request_is_cut_at_the_timeout),
    };

    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
