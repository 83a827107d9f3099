/* http_server_conn.c: the whole-request timeout and stream heartbeats.
 *
 * MHD's MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout: a client that
 * sends one header byte every few seconds never trips it, so a thousand
 * such clients hold every connection slot for as long as they like (fault
 * 7). MHD 0.9.75 has no per-request deadline, so the server keeps its own
 * table of connections (MHD_OPTION_NOTIFY_CONNECTION) with the time each
 * request started, and a sweep thread shuts down (shutdown(2), not close)
 * the socket of any connection whose request head is still incomplete
 * after request_timeout_ms. MHD then reads EOF on its own thread and closes
 * and frees the connection as for any departed client.
 *
 * Why shutdown is safe from another thread: MHD calls NOTIFY_CLOSED before
 * it closes the descriptor (MHD_connection_close_, then
 * MHD_cleanup_connections), and NOTIFY_CLOSED takes s->mtx to unlink the
 * entry; the sweep holds s->mtx while it shuts a socket down, so the
 * descriptor it touches is still the connection's own. */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "http_server_int.h"
#include "velo/clock.h"
#include "velo/log.h"

#define SWEEP_MIN_MS 20
#define SWEEP_MAX_MS 1000

static void
conn_link(velo_http_server *s, struct server_conn *c)
{
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
}

static void
conn_unlink(velo_http_server *s, struct server_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
}

/* MHD_OPTION_NOTIFY_CONNECTION: runs on an MHD thread. An allocation
 * failure leaves the connection untracked (served, but without the
 * whole-request bound) rather than failing it. */
void
server_conn_notify(void *cls, struct MHD_Connection *conn,
                   void                              **socket_context,
                   enum MHD_ConnectionNotificationCode code)
{
    velo_http_server               *s = cls;
    struct server_conn             *c = *socket_context;
    const union MHD_ConnectionInfo *info;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = calloc(1, sizeof(*c));
        if (c == NULL || info == NULL) {
            free(c);
            return;
        }
        c->fd = info->connect_fd;
        c->req_start_ms = velo_mono_ms();
        pthread_mutex_lock(&s->mtx);
        conn_link(s, c);
        pthread_mutex_unlock(&s->mtx);
        *socket_context = c;
        return;
    }
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->mtx);
    conn_unlink(s, c);
    pthread_mutex_unlock(&s->mtx);
    free(c);
    *socket_context = NULL;
}

/* Marks the connection's request head complete (busy) or its response done
 * (the next request's clock starts now). Thread: MHD. */
void
server_conn_busy(velo_http_server *s, struct MHD_Connection *conn, bool busy)
{
    const union MHD_ConnectionInfo *info;
    struct server_conn             *c;

    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info == NULL || info->socket_context == NULL)
        return;
    c = info->socket_context;
    pthread_mutex_lock(&s->mtx);
    c->busy = busy;
    if (!busy)
        c->req_start_ms = velo_mono_ms();
    pthread_mutex_unlock(&s->mtx);
}

/* One pass: shut down overdue request heads, feed idle streams. Returns
 * how many connections it shut down. Locks: caller holds s->mtx. */
static unsigned int
sweep_once(velo_http_server *s, int64_t now)
{
    struct server_conn      *c;
    struct velo_http_stream *st;
    unsigned int             n = 0;

    for (c = s->conns; c != NULL; c = c->next) {
        if (c->busy || c->killed ||
            now - c->req_start_ms < (int64_t)s->cfg.request_timeout_ms)
            continue;
        c->killed = true;
        shutdown(c->fd, SHUT_RDWR);
        n++;
    }
    for (st = s->streams; st != NULL; st = st->next)
        server_stream_heartbeat(st, now, s->cfg.stream_heartbeat_ms);
    return n;
}

/* Adds ms to an absolute CLOCK_MONOTONIC deadline. */
static void
sweep_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *
sweep_main(void *arg)
{
    velo_http_server *s = arg;
    struct timespec   ts;
    int64_t           period;
    unsigned int      n;

    /* A quarter of the shorter bound keeps the overshoot small; a
     * wake-up costs microseconds, so even 20 ms is no CPU to speak of. */
    period = s->cfg.request_timeout_ms < s->cfg.stream_heartbeat_ms
                 ? s->cfg.request_timeout_ms / 4
                 : s->cfg.stream_heartbeat_ms / 4;
    period = period < SWEEP_MIN_MS   ? SWEEP_MIN_MS
             : period > SWEEP_MAX_MS ? SWEEP_MAX_MS
                                     : period;
    pthread_mutex_lock(&s->mtx);
    while (!s->stopping) {
        sweep_deadline(&ts, period);
        pthread_cond_timedwait(&s->cv, &s->mtx, &ts);
        if (s->stopping)
            break;
        n = sweep_once(s, velo_mono_ms());
        if (n > 0) {
            if (s->rej_timeout != NULL)
                velo_metric_add(s->rej_timeout, n);
            velo_warn("http.request_timeout", VELO_S("server", s->name),
                      VELO_U("closed", n),
                      VELO_U("timeout_ms", s->cfg.request_timeout_ms));
        }
    }
    pthread_mutex_unlock(&s->mtx);
    return NULL;
}

int
server_sweeper_start(velo_http_server *s)
{
    pthread_condattr_t ca;
    int                rc;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return VELO_ENOMEM;
    if (pthread_create(&s->sweeper, NULL, sweep_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        return VELO_ENOMEM;
    }
    s->sweeper_running = true;
    return VELO_OK;
}

void
server_sweeper_stop(velo_http_server *s)
{
    if (!s->sweeper_running)
        return;
    pthread_mutex_lock(&s->mtx);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mtx);
    pthread_join(s->sweeper, NULL);
    pthread_cond_destroy(&s->cv);
    s->sweeper_running = false;
}
