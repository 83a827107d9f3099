/* http_server_stream_test.c: streaming responses (SSE) on real loopback
 * sockets: events written from another thread reach the client, idle
 * streams cost no CPU, departed and too-slow clients are cut and freed,
 * 200 streams at once, and stopping the server with streams open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "testsrv_test_util.h"
#include "velo/http_server.h"
#include "velo/log.h"

#define FX_MAX 256

struct fixture {
    velo_http_server *s;
    velo_metrics     *m;
    pthread_mutex_t   mtx;
    velo_http_stream *st[FX_MAX]; /* mtx */
    int               n;          /* mtx */
};

/* GET /events: opens a stream, greets with the Last-Event-ID it got. */
static void
on_events(void *ctx, const struct velo_http_req *req,
          struct velo_http_resp *resp)
{
    struct fixture   *fx = ctx;
    velo_http_stream *st;
    const char       *last = velo_http_header(req, "Last-Event-ID");
    char              hello[64];

    if (velo_http_stream_open(resp, &st) != VELO_OK) {
        resp->status = 500;
        return;
    }
    snprintf(hello, sizeof(hello), ": open last=%s\n\n", last ? last : "-");
    if (velo_http_stream_write(st, hello, strlen(hello)) != VELO_OK)
        resp->status = 500;
    pthread_mutex_lock(&fx->mtx);
    if (fx->n < FX_MAX)
        fx->st[fx->n++] = st;
    else
        velo_http_stream_close(st);
    pthread_mutex_unlock(&fx->mtx);
}

static void
fx_start(struct fixture *fx, uint32_t heartbeat_ms, uint32_t queue_bytes)
{
    const struct velo_http_route routes[] = {
        {.method = "GET", .path = "/events", .fn = on_events, .ctx = fx},
    };
    struct velo_http_server_cfg cfg = {
        .bind = "127.0.0.1",
        .routes = routes,
        .nroutes = 1,
        .max_conns_per_ip = VELO_HTTP_UNLIMITED,
        .stream_heartbeat_ms = heartbeat_ms,
        .stream_queue_bytes = queue_bytes,
    };

    memset(fx, 0, sizeof(*fx));
    pthread_mutex_init(&fx->mtx, NULL);
    assert_int_equal(velo_metrics_new(&fx->m), VELO_OK);
    cfg.metrics = fx->m;
    assert_int_equal(velo_http_server_start(&fx->s, &cfg), VELO_OK);
}

/* Stops the server with whatever streams are open, then drops ours. */
static void
fx_stop(struct fixture *fx)
{
    int i;

    velo_http_server_stop(fx->s);
    for (i = 0; i < fx->n; i++) {
        assert_false(velo_http_stream_alive(fx->st[i]));
        assert_int_equal(velo_http_stream_write(fx->st[i], "x", 1),
                         VELO_ECLOSED);
        velo_http_stream_close(fx->st[i]);
    }
    velo_metrics_free(fx->m);
    pthread_mutex_destroy(&fx->mtx);
}

static int
fx_count(struct fixture *fx)
{
    int n;

    pthread_mutex_lock(&fx->mtx);
    n = fx->n;
    pthread_mutex_unlock(&fx->mtx);
    return n;
}

/* Opens GET /events; rcvbuf > 0 shrinks the client's receive buffer. */
static int
sse_connect(uint16_t port, int rcvbuf)
{
    const char        *req = "GET /events HTTP/1.1\r\nHost: t\r\n"
                             "Last-Event-ID: 7\r\n\r\n";
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int                fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
                     (ssize_t)strlen(req));
    return fd;
}

/* Reads into buf (appending at *len) until it holds want or ms pass. */
static bool
sse_read_until(int fd, char *buf, size_t size, size_t *len, const char *want,
               int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int64_t       end = testsrv_now_ms() + ms;
    ssize_t       r;

    buf[*len] = '\0';
    while (strstr(buf, want) == NULL) {
        int left = (int)(end - testsrv_now_ms());

        if (left <= 0 || poll(&pfd, 1, left) <= 0 || *len >= size - 1)
            return false;
        r = recv(fd, buf + *len, size - 1 - *len, 0);
        if (r <= 0)
            return false;
        *len += (size_t)r;
        buf[*len] = '\0';
    }
    return true;
}

/* Waits up to ms for cond(fx) to hold. */
static bool
wait_for(struct fixture *fx, int want, size_t (*get)(struct fixture *), int ms)
{
    int64_t end = testsrv_now_ms() + ms;

    while (testsrv_now_ms() < end) {
        if ((int)get(fx) == want)
            return true;
        usleep(10 * 1000);
    }
    return (int)get(fx) == want;
}

static size_t
get_open(struct fixture *fx)
{
    return velo_http_server_streams(fx->s);
}

static size_t
get_registered(struct fixture *fx)
{
    return (size_t)fx_count(fx);
}

/* Writes data to stream i from this (a non-MHD) thread. */
static int
fx_write(struct fixture *fx, int i, const char *data)
{
    velo_http_stream *st;

    pthread_mutex_lock(&fx->mtx);
    st = fx->st[i];
    pthread_mutex_unlock(&fx->mtx);
    return velo_http_stream_write(st, data, strlen(data));
}

static void
test_events_written_from_another_thread_arrive(void **state)
{
    struct fixture fx;
    char           buf[4096];
    size_t         len = 0;
    int            fd;

    (void)state;
    fx_start(&fx, 0, 0);
    fd = sse_connect(velo_http_server_port(fx.s), 0);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len, "last=7", 2000));
    assert_non_null(strstr(buf, "HTTP/1.1 200 "));
    assert_non_null(strstr(buf, "Content-Type: text/event-stream\r\n"));
    assert_non_null(strstr(buf, "Cache-Control: no-cache\r\n"));
    assert_true(wait_for(&fx, 1, get_open, 1000));
    /* The connection is suspended now; a write resumes it. */
    usleep(100 * 1000);
    assert_int_equal(fx_write(&fx, 0, "event: a\ndata: one\n\n"), VELO_OK);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len, "data: one", 2000));
    usleep(100 * 1000);
    assert_int_equal(fx_write(&fx, 0, "data: two\n\n"), VELO_OK);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len, "data: two", 2000));
    /* Closing ends the body: the chunked terminator follows. */
    pthread_mutex_lock(&fx.mtx);
    velo_http_stream_close(fx.st[0]);
    fx.n = 0;
    pthread_mutex_unlock(&fx.mtx);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len, "\r\n0\r\n", 2000));
    assert_true(wait_for(&fx, 0, get_open, 1000));
    close(fd);
    fx_stop(&fx);
}

/* Process CPU time (all threads) in ms. */
static int64_t
cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
           (int64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

static void
test_idle_streams_use_no_cpu(void **state)
{
    struct fixture fx;
    char           buf[1024];
    int            fd[5], i;
    int64_t        c0, used;

    (void)state;
    fx_start(&fx, 0, 0);
    for (i = 0; i < 5; i++) {
        size_t len = 0;

        fd[i] = sse_connect(velo_http_server_port(fx.s), 0);
        assert_true(
            sse_read_until(fd[i], buf, sizeof(buf), &len, "last=", 2000));
    }
    assert_true(wait_for(&fx, 5, get_open, 1000));
    c0 = cpu_ms();
    usleep(2000 * 1000);
    used = cpu_ms() - c0;
    print_message("5 idle streams: %lld ms CPU in 2 s\n", (long long)used);
    assert_true(used < 20); /* 1% of one core over 2 s */
    for (i = 0; i < 5; i++)
        close(fd[i]);
    fx_stop(&fx); /* with suspended streams: must not trip MHD */
}

static void
test_departed_client_is_detected_and_freed(void **state)
{
    struct fixture fx;
    char           buf[1024];
    size_t         len = 0;
    int            fd;

    (void)state;
    fx_start(&fx, 100, 0); /* heartbeats find the departed client */
    fd = sse_connect(velo_http_server_port(fx.s), 0);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len, "last=", 2000));
    assert_true(wait_for(&fx, 1, get_open, 1000));
    close(fd);
    assert_true(wait_for(&fx, 0, get_open, 3000));
    assert_false(velo_http_stream_alive(fx.st[0]));
    assert_int_equal(fx_write(&fx, 0, "data: late\n\n"), VELO_ECLOSED);
    fx_stop(&fx);
}

/* Asserts the registry's exposition contains text. */
static void
render_has(velo_metrics *m, const char *text)
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
test_slow_client_is_cut_and_counted(void **state)
{
    struct fixture fx;
    char           chunk[1024], out[4096];
    size_t         len = 0;
    int            fd, i, rv = VELO_OK;

    (void)state;
    fx_start(&fx, 0, 16384);
    fd = sse_connect(velo_http_server_port(fx.s), 4096);
    assert_true(sse_read_until(fd, out, sizeof(out), &len, "last=", 2000));
    assert_true(wait_for(&fx, 1, get_open, 1000));
    memset(chunk, 'x', sizeof(chunk) - 3);
    memcpy(chunk, "data: ", 6);
    chunk[sizeof(chunk) - 3] = '\n';
    chunk[sizeof(chunk) - 2] = '\n';
    chunk[sizeof(chunk) - 1] = '\0';
    /* The client reads nothing: socket buffers fill, then the queue. */
    for (i = 0; i < 64 * 1024 && rv == VELO_OK; i++) {
        rv = fx_write(&fx, 0, chunk);
        if (i % 64 == 0)
            usleep(1000); /* let MHD drain into the socket */
    }
    assert_int_equal(rv, VELO_EFULL);
    assert_int_equal(fx_write(&fx, 0, "data: more\n\n"), VELO_ECLOSED);
    assert_true(wait_for(&fx, 0, get_open, 2000));
    render_has(fx.m, "reason=\"stream_overflow\"} 1");
    close(fd);
    fx_stop(&fx);
}

static void
test_two_hundred_streams_at_once(void **state)
{
    struct fixture fx;
    static char    buf[200][512];
    size_t         len[200];
    int            fd[200], i;

    (void)state;
    fx_start(&fx, 0, 0);
    for (i = 0; i < 200; i++) {
        fd[i] = sse_connect(velo_http_server_port(fx.s), 0);
        len[i] = 0;
    }
    assert_true(wait_for(&fx, 200, get_registered, 5000));
    assert_true(wait_for(&fx, 200, get_open, 5000));
    for (i = 0; i < 200; i++)
        assert_int_equal(fx_write(&fx, i, "data: all\n\n"), VELO_OK);
    for (i = 0; i < 200; i++) {
        assert_true(sse_read_until(fd[i], buf[i], sizeof(buf[i]), &len[i],
                                   "data: all", 3000));
    }
    for (i = 0; i < 200; i++)
        close(fd[i]);
    fx_stop(&fx);
}

/* A handler's unit test: a stream opened without a server queues, then
 * ends when the response is released. */
static void
test_stream_opened_without_a_server(void **state)
{
    struct fixture        fx;
    struct velo_http_req  req = {.method = "GET", .path = "/events"};
    struct velo_http_resp resp;

    (void)state;
    memset(&fx, 0, sizeof(fx));
    pthread_mutex_init(&fx.mtx, NULL);
    velo_http_resp_init(&resp);
    on_events(&fx, &req, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/event-stream");
    assert_int_equal(fx.n, 1);
    assert_true(velo_http_stream_alive(fx.st[0]));
    assert_int_equal(velo_http_stream_event(fx.st[0], "1", "x", "a"), VELO_OK);
    velo_http_resp_fini(&resp);
    assert_false(velo_http_stream_alive(fx.st[0]));
    assert_int_equal(velo_http_stream_event(fx.st[0], "2", NULL, "b"),
                     VELO_ECLOSED);
    velo_http_stream_close(fx.st[0]);
    pthread_mutex_destroy(&fx.mtx);
}

static void
test_sse_event_framing(void **state)
{
    struct fixture fx;
    char           buf[4096];
    size_t         len = 0;
    int            fd;

    (void)state;
    fx_start(&fx, 0, 0);
    fd = sse_connect(velo_http_server_port(fx.s), 0);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len, "last=7", 2000));
    assert_true(wait_for(&fx, 1, get_registered, 1000));
    assert_int_equal(velo_http_stream_event(fx.st[0], "42", "station",
                                            "line1\nline2\r\nline3"),
                     VELO_OK);
    assert_true(sse_read_until(fd, buf, sizeof(buf), &len,
                               "id: 42\nevent: station\ndata: line1\n"
                               "data: line2\ndata: line3\n\n",
                               2000));
    assert_int_equal(velo_http_stream_event(fx.st[0], "a\nb", NULL, "x"),
                     VELO_EINVAL);
    close(fd);
    fx_stop(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_written_from_another_thread_arrive),
        cmocka_unit_test(test_idle_streams_use_no_cpu),
        cmocka_unit_test(test_departed_client_is_detected_and_freed),
        cmocka_unit_test(test_slow_client_is_cut_and_counted),
        cmocka_unit_test(test_two_hundred_streams_at_once),
        cmocka_unit_test(test_stream_opened_without_a_server),
        cmocka_unit_test(test_sse_event_framing),
    };

    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
