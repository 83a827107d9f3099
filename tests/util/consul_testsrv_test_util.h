/* consul_testsrv_test_util.h: a small scripted HTTP server standing in for
 * a Consul agent in the consul*_test.c unit tests, so they can send what a
 * real agent never does (malformed JSON, 500s, a blocking query that hangs
 * past its wait, an empty list).
 *
 * Test-only, header-only. One thread on 127.0.0.1:0 serves one request per
 * connection (Connection: close): it reads the head and a Content-Length
 * body, asks the test's handler for the answer (under mtx, which also
 * guards whatever the handler counts), and writes it after delay_ms. A
 * handler that sets hang_ms holds the connection that long without an
 * answer, then closes it. */
#ifndef CONSUL_TESTSRV_TEST_UTIL_H
#define CONSUL_TESTSRV_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctsrv_req {
    char method[16];
    char path[1024]; /* with the query */
    char head[4096];
    char body[8192];
};

struct ctsrv_resp {
    int         status;       /* 0: 200 */
    char        headers[256]; /* extra "Name: v\r\n" lines */
    const char *body;         /* borrowed until written */
    int         delay_ms;
    int         hang_ms; /* > 0: no answer, close after that long */
};

typedef void (*ctsrv_fn)(void *ctx, const struct ctsrv_req *rq,
                         struct ctsrv_resp *rs);

struct ctsrv {
    int             lfd;
    uint16_t        port;
    char            addr[64]; /* "http://127.0.0.1:PORT" */
    pthread_t       th;
    atomic_bool     stop;
    pthread_mutex_t mtx;
    ctsrv_fn        fn;
    void           *ctx;
};

static inline void
ctsrv_sleep(int ms)
{
    struct pollfd none;

    (void)poll(&none, 0, ms);
}

/* Reads a request (head, then Content-Length bytes of body). */
static inline bool
ctsrv_read(int fd, struct ctsrv_req *rq)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char          buf[16384];
    size_t        n = 0, want = 0, hlen;
    const char   *eoh, *cl;
    ssize_t       r;

    memset(rq, 0, sizeof(*rq));
    for (;;) {
        buf[n] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
        if (eoh != NULL) {
            hlen = (size_t)(eoh - buf) + 4;
            cl = strcasestr(buf, "content-length:");
            want =
                cl != NULL && cl < eoh ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
            if (n >= hlen + want)
                break;
        }
        if (n >= sizeof(buf) - 1 || poll(&pfd, 1, 5000) <= 0)
            return false;
        r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
        if (r <= 0)
            return false;
        n += (size_t)r;
    }
    snprintf(rq->head, sizeof(rq->head), "%.*s", (int)hlen, buf);
    snprintf(rq->body, sizeof(rq->body), "%.*s", (int)want, buf + hlen);
    if (sscanf(buf, "%15s %1023s", rq->method, rq->path) != 2)
        return false;
    return true;
}

static inline void
ctsrv_serve_one(struct ctsrv *s, int fd)
{
    struct ctsrv_req  rq;
    struct ctsrv_resp rs = {0};
    char              head[512];
    const char       *body;
    int               n;

    if (!ctsrv_read(fd, &rq))
        return;
    pthread_mutex_lock(&s->mtx);
    s->fn(s->ctx, &rq, &rs);
    pthread_mutex_unlock(&s->mtx);
    if (rs.hang_ms > 0) {
        ctsrv_sleep(rs.hang_ms);
        return;
    }
    if (rs.delay_ms > 0)
        ctsrv_sleep(rs.delay_ms);
    body = rs.body != NULL ? rs.body : "";
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                 rs.status ? rs.status : 200, strlen(body), rs.headers);
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
        (void)send(fd, body, strlen(body), MSG_NOSIGNAL);
}

static inline void *
ctsrv_main(void *arg)
{
    struct ctsrv *s = arg;
    struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
    int           fd;

    while (!atomic_load(&s->stop)) {
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        ctsrv_serve_one(s, fd);
        close(fd);
    }
    return NULL;
}

/* Binds and listens (the address is known from here on) without serving
 * yet: a test that forks does so before any thread exists. 0 on success. */
static inline int
ctsrv_listen(struct ctsrv *s, ctsrv_fn fn, void *ctx)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t          slen = sizeof(sa);

    memset(s, 0, sizeof(*s));
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_init(&s->mtx, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&sa, &slen) != 0 ||
        listen(s->lfd, 16) != 0)
        return -1;
    s->port = ntohs(sa.sin_port);
    snprintf(s->addr, sizeof(s->addr), "http://127.0.0.1:%u",
             (unsigned)s->port);
    return 0;
}

/* Starts serving on the thread. 0 on success. */
static inline int
ctsrv_serve(struct ctsrv *s)
{
    return pthread_create(&s->th, NULL, ctsrv_main, s) == 0 ? 0 : -1;
}

/* ctsrv_listen, then ctsrv_serve. */
static inline int
ctsrv_start(struct ctsrv *s, ctsrv_fn fn, void *ctx)
{
    return ctsrv_listen(s, fn, ctx) == 0 ? ctsrv_serve(s) : -1;
}

static inline void
ctsrv_stop(struct ctsrv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->mtx);
}

#endif
