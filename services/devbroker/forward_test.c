/* forward_test.c: the relay over real loopback sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "forward.h"
#include "velo/log.h"

#define WAIT_MS 3000

static struct sockaddr_in
loopback(uint16_t port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    return sa;
}

/* A listener on a free port, standing in for the mock cluster. */
static int
listener(uint16_t *port)
{
    struct sockaddr_in sa = loopback(0);
    socklen_t          len = sizeof(sa);
    int                fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int
dial(uint16_t port)
{
    struct sockaddr_in sa = loopback(port);
    int                fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void
wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
}

static int
accept_one(int lfd)
{
    int fd;

    wait_readable(lfd);
    fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

/* True when the peer closed fd (read returns 0) within WAIT_MS. */
static bool
sees_eof(int fd)
{
    char    c;
    ssize_t n;

    wait_readable(fd);
    n = read(fd, &c, 1);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Sends n bytes into `from` and reads them out of `to`, interleaved so
 * that neither side blocks while the relay's buffers fill and drain. */
static void
pump(int from, int to, const unsigned char *data, size_t n)
{
    unsigned char *got = malloc(n);
    size_t         sent = 0, recvd = 0;
    struct pollfd  p[2];
    ssize_t        k;

    assert_non_null(got);
    while (recvd < n) {
        p[0] = (struct pollfd){.fd = from, .events = sent < n ? POLLOUT : 0};
        p[1] = (struct pollfd){.fd = to, .events = POLLIN};
        assert_true(poll(p, 2, WAIT_MS) > 0);
        if (p[0].revents & POLLOUT) {
            k = send(from, data + sent, n - sent, MSG_DONTWAIT);
            assert_true(k > 0);
            sent += (size_t)k;
        }
        if (p[1].revents & POLLIN) {
            k = recv(to, got + recvd, n - recvd, MSG_DONTWAIT);
            assert_true(k > 0);
            recvd += (size_t)k;
        }
    }
    assert_memory_equal(got, data, n);
    free(got);
}

static void
test_relays_both_directions_and_more_than_a_buffer(void **state)
{
    devbroker_fwd *f = NULL;
    unsigned char *big;
    uint16_t       tport;
    int            lfd, cfd, ufd;
    size_t         i, n = 5 * DEVBROKER_FWD_BUF + 123;

    (void)state;
    lfd = listener(&tport);
    assert_int_equal(devbroker_fwd_new(&f, 0, tport), VELO_OK);
    assert_true(devbroker_fwd_port(f) != 0);
    assert_true(devbroker_fwd_port(f) != tport);
    cfd = dial(devbroker_fwd_port(f));
    ufd = accept_one(lfd);
    pump(cfd, ufd, (const unsigned char *)"ping", 4);
    pump(ufd, cfd, (const unsigned char *)"pong", 4);
    big = malloc(n);
    assert_non_null(big);
    for (i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 7 + i / 251);
    pump(ufd, cfd, big, n);
    pump(cfd, ufd, big, n);
    free(big);
    /* The mock side closing ends the client's connection too. */
    close(ufd);
    assert_true(sees_eof(cfd));
    close(cfd);
    devbroker_fwd_free(f);
    close(lfd);
}

static void
test_client_closing_closes_target_side(void **state)
{
    devbroker_fwd *f = NULL;
    uint16_t       tport;
    int            lfd, cfd, ufd;

    (void)state;
    lfd = listener(&tport);
    assert_int_equal(devbroker_fwd_new(&f, 0, tport), VELO_OK);
    cfd = dial(devbroker_fwd_port(f));
    ufd = accept_one(lfd);
    close(cfd);
    assert_true(sees_eof(ufd));
    close(ufd);
    devbroker_fwd_free(f);
    close(lfd);
}

static void
test_target_down_closes_client(void **state)
{
    devbroker_fwd *f = NULL;
    uint16_t       tport;
    int            lfd, cfd;

    (void)state;
    lfd = listener(&tport);
    close(lfd); /* nothing listens on tport any more */
    assert_int_equal(devbroker_fwd_new(&f, 0, tport), VELO_OK);
    cfd = dial(devbroker_fwd_port(f));
    assert_true(sees_eof(cfd));
    close(cfd);
    devbroker_fwd_free(f);
}

static void
test_connections_over_limit_are_closed(void **state)
{
    devbroker_fwd *f = NULL;
    uint16_t       tport;
    int            lfd, i, cfd[DEVBROKER_FWD_MAX_CONNS + 1];
    int            ufd[DEVBROKER_FWD_MAX_CONNS];

    (void)state;
    lfd = listener(&tport);
    assert_int_equal(devbroker_fwd_new(&f, 0, tport), VELO_OK);
    for (i = 0; i < DEVBROKER_FWD_MAX_CONNS; i++) {
        cfd[i] = dial(devbroker_fwd_port(f));
        ufd[i] = accept_one(lfd); /* the relay took this one on */
    }
    cfd[i] = dial(devbroker_fwd_port(f));
    assert_true(sees_eof(cfd[i]));
    close(cfd[i]);
    /* The earlier ones still relay. */
    pump(cfd[0], ufd[0], (const unsigned char *)"still", 5);
    /* Freed with live connections: every socket closes, nothing leaks. */
    devbroker_fwd_free(f);
    for (i = 0; i < DEVBROKER_FWD_MAX_CONNS; i++) {
        assert_true(sees_eof(cfd[i]));
        close(cfd[i]);
        close(ufd[i]);
    }
    close(lfd);
}

static void
test_port_in_use_is_eio(void **state)
{
    devbroker_fwd *f = NULL, *g = NULL;

    (void)state;
    assert_int_equal(devbroker_fwd_new(&f, 0, 1), VELO_OK);
    assert_int_equal(devbroker_fwd_new(&g, devbroker_fwd_port(f), 1), VELO_EIO);
    assert_null(g);
    devbroker_fwd_free(f);
    devbroker_fwd_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relays_both_directions_and_more_than_a_buffer),
        cmocka_unit_test(test_client_closing_closes_target_side),
        cmocka_unit_test(test_target_down_closes_client),
        cmocka_unit_test(test_connections_over_limit_are_closed),
        cmocka_unit_test(test_port_in_use_is_eio),
    };

    velo_log_init("forward_test", VELO_LOG_OFF, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
