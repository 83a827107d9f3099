/* forward.c: the poll()-based TCP relay (see forward.h). */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "velo/log.h"

/* Two pollfds per pair, plus the wake pipe and the listener. */
#define FWD_NFDS (2 + 2 * DEVBROKER_FWD_MAX_CONNS)

/* Bytes read from fd[i] that still have to be written to fd[1 - i]. */
struct fwd_dir {
    char   buf[DEVBROKER_FWD_BUF];
    size_t len;
};

/* One relayed connection: fd[0] the client, fd[1] the mock. */
struct fwd_pair {
    int            fd[2];
    struct fwd_dir dir[2];
};

/* Thread: pairs and lfd belong to the relay thread once it runs; _free
 * touches them only after joining it. */
struct devbroker_fwd {
    int              lfd;
    int              wake[2]; /* a byte on wake[1] stops the thread */
    uint16_t         port;
    uint16_t         target;
    bool             started;
    pthread_t        thr;
    struct fwd_pair *pairs[DEVBROKER_FWD_MAX_CONNS]; /* NULL: free slot */
};

static struct sockaddr_in
fwd_loopback(uint16_t port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    return sa;
}

static int
fwd_nonblock(int fd)
{
    int fl;

    fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
fwd_pair_close(devbroker_fwd *f, int slot)
{
    struct fwd_pair *p = f->pairs[slot];

    close(p->fd[0]);
    close(p->fd[1]);
    free(p);
    f->pairs[slot] = NULL;
    velo_debug("devbroker.fwd.closed", VELO_I("slot", slot));
}

/* A blocking connect is fine here: the target is a listener on this
 * machine, which answers (or refuses) at once. */
static int
fwd_connect_target(uint16_t port)
{
    struct sockaddr_in sa = fwd_loopback(port);
    int                fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        fwd_nonblock(fd) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
fwd_accept(devbroker_fwd *f)
{
    struct fwd_pair *p;
    int              cfd, slot;

    cfd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return; /* EAGAIN, or the client gave up meanwhile */
    for (slot = 0; slot < DEVBROKER_FWD_MAX_CONNS; slot++)
        if (f->pairs[slot] == NULL)
            break;
    p = slot < DEVBROKER_FWD_MAX_CONNS ? malloc(sizeof(*p)) : NULL;
    if (p == NULL) {
        velo_warn("devbroker.fwd.full",
                  VELO_I("max_conns", DEVBROKER_FWD_MAX_CONNS));
        close(cfd);
        return;
    }
    p->fd[0] = cfd;
    p->fd[1] = fwd_connect_target(f->target);
    p->dir[0].len = p->dir[1].len = 0;
    if (p->fd[1] < 0) {
        velo_warn("devbroker.fwd.target_fail", VELO_I("port", f->target),
                  VELO_S("cause", strerror(errno)));
        close(cfd);
        free(p);
        return;
    }
    f->pairs[slot] = p;
    velo_debug("devbroker.fwd.accepted", VELO_I("slot", slot));
}

/* Reads what fd[side] sent into dir[side]. false: close the pair. */
static bool
fwd_read(struct fwd_pair *p, int side)
{
    struct fwd_dir *d = &p->dir[side];
    ssize_t         n;

    n = read(p->fd[side], d->buf + d->len, sizeof(d->buf) - d->len);
    if (n > 0) {
        d->len += (size_t)n;
        return true;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
}

/* Writes what is waiting for fd[side] (dir[1 - side]). false: close. */
static bool
fwd_write(struct fwd_pair *p, int side)
{
    struct fwd_dir *d = &p->dir[1 - side];
    ssize_t         n;

    n = write(p->fd[side], d->buf, d->len);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    d->len -= (size_t)n;
    memmove(d->buf, d->buf + n, d->len);
    return true;
}

/* Serves one end of a pair after poll(). false: close the pair. */
static bool
fwd_serve(struct fwd_pair *p, int side, short re)
{
    if (re & (POLLERR | POLLNVAL))
        return false;
    if ((re & POLLOUT) && !fwd_write(p, side))
        return false;
    if (re & POLLIN)
        return fwd_read(p, side);
    /* Hung up with nothing left to read. */
    return !(re & POLLHUP);
}

/* Fills pfd: [0] wake pipe, [1] listener, then two per live pair.
 * Each end wants input while its buffer has room, output while the other
 * direction has bytes for it. Returns the count; slots[] maps back. */
static nfds_t
fwd_build(devbroker_fwd *f, struct pollfd *pfd, int *slots)
{
    struct fwd_pair *p;
    nfds_t           n = 2;
    int              i, s;

    pfd[0] = (struct pollfd){.fd = f->wake[0], .events = POLLIN};
    pfd[1] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
    for (i = 0; i < DEVBROKER_FWD_MAX_CONNS; i++) {
        p = f->pairs[i];
        if (p == NULL)
            continue;
        for (s = 0; s < 2; s++) {
            pfd[n].fd = p->fd[s];
            pfd[n].events = 0;
            pfd[n].revents = 0;
            if (p->dir[s].len < sizeof(p->dir[s].buf))
                pfd[n].events |= POLLIN;
            if (p->dir[1 - s].len > 0)
                pfd[n].events |= POLLOUT;
            slots[n++] = i;
        }
    }
    return n;
}

static void *
fwd_main(void *arg)
{
    devbroker_fwd *f = arg;
    struct pollfd  pfd[FWD_NFDS];
    int            slots[FWD_NFDS];
    nfds_t         n, i;
    int            slot;

    for (;;) {
        n = fwd_build(f, pfd, slots);
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            velo_error("devbroker.fwd.poll_fail",
                       VELO_S("cause", strerror(errno)));
            return NULL;
        }
        if (pfd[0].revents != 0)
            return NULL;
        /* Pairs first: the slots map is only valid before an accept. */
        for (i = 2; i < n; i += 2) {
            slot = slots[i];
            if (!fwd_serve(f->pairs[slot], 0, pfd[i].revents) ||
                !fwd_serve(f->pairs[slot], 1, pfd[i + 1].revents))
                fwd_pair_close(f, slot);
        }
        if (pfd[1].revents & POLLIN)
            fwd_accept(f);
    }
}

static int
fwd_listen(devbroker_fwd *f, uint16_t port)
{
    struct sockaddr_in sa = fwd_loopback(port);
    socklen_t          len = sizeof(sa);
    int                one = 1;

    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->lfd < 0)
        return -1;
    /* A restart right after a stop must not wait out TIME_WAIT. */
    (void)setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(f->lfd, 64) != 0 ||
        getsockname(f->lfd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    f->port = ntohs(sa.sin_port);
    return 0;
}

int
devbroker_fwd_new(devbroker_fwd **out, uint16_t listen_port,
                  uint16_t target_port)
{
    devbroker_fwd *f;

    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return VELO_ENOMEM;
    f->lfd = f->wake[0] = f->wake[1] = -1;
    f->target = target_port;
    if (pipe2(f->wake, O_CLOEXEC) != 0 || fwd_listen(f, listen_port) != 0) {
        velo_error("devbroker.fwd.listen_fail", VELO_I("port", listen_port),
                   VELO_S("cause", strerror(errno)));
        devbroker_fwd_free(f);
        return VELO_EIO;
    }
    if (pthread_create(&f->thr, NULL, fwd_main, f) != 0) {
        devbroker_fwd_free(f);
        return VELO_ENOMEM;
    }
    f->started = true;
    *out = f;
    return VELO_OK;
}

uint16_t
devbroker_fwd_port(const devbroker_fwd *f)
{
    return f->port;
}

void
devbroker_fwd_free(devbroker_fwd *f)
{
    char one = 1;
    int  i;

    if (f == NULL)
        return;
    if (f->started) {
        while (write(f->wake[1], &one, 1) < 0 && errno == EINTR)
            ;
        pthread_join(f->thr, NULL);
    }
    for (i = 0; i < DEVBROKER_FWD_MAX_CONNS; i++)
        if (f->pairs[i] != NULL)
            fwd_pair_close(f, i);
    if (f->lfd >= 0)
        close(f->lfd);
    if (f->wake[0] >= 0)
        close(f->wake[0]);
    if (f->wake[1] >= 0)
        close(f->wake[1]);
    free(f);
}
