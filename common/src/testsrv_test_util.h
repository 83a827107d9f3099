/* testsrv_test_util.h: raw loopback HTTP peers for the HTTP unit tests.
 *
 * Test-only, header-only (every *_test.c is its own executable, so shared
 * helpers live here as static inline functions):
 * - testsrv: a one-shot server thread on 127.0.0.1:0 that reads a request
 *   head, writes canned bytes, then holds the connection open for hold_ms
 *   (or until the client closes) before closing it. It lets tests produce
 *   what a well-behaved server never sends: truncated bodies, stalls, huge
 *   bodies, odd headers.
 * - testcli_request: sends raw request bytes and reads the reply until the
 *   server closes, for what velo_http_get cannot send (HEAD, POST). */
#ifndef TESTSRV_TEST_UTIL_H
#define TESTSRV_TEST_UTIL_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "velo/log.h"

#define TESTSRV_ACCEPT_MS 10000 /* give up when no client comes */
#define TESTSRV_IO_MS 5000

struct testsrv {
    int         lfd;
    uint16_t    port;
    pthread_t   th;
    const char *resp; /* borrowed until testsrv_stop */
    size_t      len;
    int         hold_ms;
    char        head[4096]; /* the request head received, NUL-terminated */
};

static inline int64_t
testsrv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads into ts->head until the blank line ending the request head. */
static inline void
testsrv_read_head(struct testsrv *ts, int cfd)
{
    struct pollfd pfd = {.fd = cfd, .events = POLLIN};
    size_t        n = 0;
    ssize_t       r;

    while (n < sizeof(ts->head) - 1 && strstr(ts->head, "\r\n\r\n") == NULL) {
        if (poll(&pfd, 1, TESTSRV_IO_MS) <= 0)
            return;
        r = recv(cfd, ts->head + n, sizeof(ts->head) - 1 - n, 0);
        if (r <= 0)
            return;
        n += (size_t)r;
        ts->head[n] = '\0';
    }
}

/* Keeps cfd open for up to hold_ms, returning early when the peer closes. */
static inline void
testsrv_hold(int cfd, int hold_ms)
{
    struct pollfd pfd = {.fd = cfd, .events = POLLIN};
    int64_t       end = testsrv_now_ms() + hold_ms;
    char          sink[512];
    int64_t       left;

    while ((left = end - testsrv_now_ms()) > 0) {
        if (poll(&pfd, 1, (int)left) <= 0)
            return;
        if (recv(cfd, sink, sizeof(sink), 0) <= 0)
            return;
    }
}

static inline void *
testsrv_main(void *arg)
{
    struct testsrv *ts = arg;
    struct pollfd   pfd = {.fd = ts->lfd, .events = POLLIN};
    size_t          off = 0;
    ssize_t         w;
    int             cfd;

    if (poll(&pfd, 1, TESTSRV_ACCEPT_MS) <= 0)
        return NULL;
    cfd = accept(ts->lfd, NULL, NULL);
    if (cfd < 0)
        return NULL;
    testsrv_read_head(ts, cfd);
    /* The client may abort early (too large a body): MSG_NOSIGNAL turns the
     * resulting EPIPE into a plain error instead of a SIGPIPE. */
    while (off < ts->len) {
        w = send(cfd, ts->resp + off, ts->len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    testsrv_hold(cfd, ts->hold_ms);
    close(cfd);
    return NULL;
}

/* A socket bound to 127.0.0.1:0; *port gets the real port. -1 on failure. */
static inline int
testsrv_bind(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t          slen = sizeof(sa);
    int                fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &slen) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Starts a one-connection server writing resp (len bytes). 0 on success. */
static inline int
testsrv_start(struct testsrv *ts, const char *resp, size_t len, int hold_ms)
{
    memset(ts, 0, sizeof(*ts));
    ts->resp = resp;
    ts->len = len;
    ts->hold_ms = hold_ms;
    ts->lfd = testsrv_bind(&ts->port);
    if (ts->lfd < 0)
        return -1;
    if (listen(ts->lfd, 4) != 0 ||
        pthread_create(&ts->th, NULL, testsrv_main, ts) != 0) {
        close(ts->lfd);
        return -1;
    }
    return 0;
}

/* Waits for the server thread (it ends once its one client is served). */
static inline void
testsrv_stop(struct testsrv *ts)
{
    pthread_join(ts->th, NULL);
    close(ts->lfd);
}

/* Sends req to 127.0.0.1:port and reads the reply into out until the server
 * closes. Returns the reply length, or -1. */
static inline ssize_t
testcli_request(uint16_t port, const char *req, char *out, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct pollfd      pfd = {.events = POLLIN};
    size_t             n = 0;
    ssize_t            r;

    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pfd.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (pfd.fd < 0)
        return -1;
    if (connect(pfd.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(pfd.fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        close(pfd.fd);
        return -1;
    }
    while (n < size - 1 && poll(&pfd, 1, TESTSRV_IO_MS) > 0) {
        r = recv(pfd.fd, out + n, size - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    out[n] = '\0';
    close(pfd.fd);
    return (ssize_t)n;
}

/* cmocka group setup/teardown for tests that use libcurl: main calls
 * curl_global_init once (http_client.h), so tests do it here. */
static inline int
testsrv_curl_setup(void **state)
{
    (void)state;
    velo_log_init("test", VELO_LOG_ERROR, STDERR_FILENO);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static inline int
testsrv_curl_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

#endif
