/* rpc_server.c: velo_rpc_server, an nng REP socket served by a fixed set
 * of workers. Each worker is an nng context plus an aio driven as a small
 * state machine (nng's demo/async/server.c):
 *
 *   RECV --frame--> velo_rpc_dispatch --reply--> SEND --done--> RECV
 *
 * so at most `workers` calls run at once, on nng's callback threads, with
 * no thread of our own. NNG_OPT_RECVMAXSZ makes nng drop a frame over
 * max_frame_bytes together with its connection; such a frame cannot be
 * answered, so it is counted when the connection goes away
 * (velo_rpc_server_dropped_total; rpc_server_pipes.c tells it from a
 * client's close). */
#include "velo/rpc.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"
#include "velo/clock.h"
#include "velo/log.h"

enum rpc_worker_state { W_IDLE, W_RECV, W_SEND };

/* Touched only from its own aio callback (nng runs one at a time), and
 * by _stop after nng_aio_free has waited that callback out. */
struct rpc_worker {
    velo_rpc_server      *s;
    nng_aio              *aio;
    nng_ctx               ctx;
    enum rpc_worker_state state;
    struct velo_buf       out; /* reply frame, max = max_frame_bytes */
};

struct velo_rpc_server {
    nng_socket               sock;
    bool                     sock_open;
    nng_listener             l;
    char                     url[RPC_URL_MAX];
    struct velo_rpc_service *svcs; /* owned copy of the array */
    size_t                   nsvcs;
    struct velo_rpc_stats    stats;
    velo_metric             *dropped;
    atomic_bool              closing;
    struct rpc_pipes         pipes; /* which connections sent requests */
    struct rpc_worker       *w;
    unsigned int             nw;
};

static void
rpc_worker_recv(struct rpc_worker *w)
{
    w->state = W_RECV;
    nng_ctx_recv(w->ctx, w->aio);
}

/* A frame arrived: dispatch it and send the reply on the same context. */
static void
rpc_worker_serve(struct rpc_worker *w, nng_msg *msg)
{
    velo_rpc_server *s = w->s;
    int              rv;

    if (s->dropped != NULL)
        rpc_pipes_served(&s->pipes, nng_pipe_id(nng_msg_get_pipe(msg)));
    rv = velo_rpc_dispatch(s->svcs, s->nsvcs, nng_msg_body(msg),
                           nng_msg_len(msg), velo_now_ms(), &s->stats, &w->out);
    if (rv == VELO_OK) {
        nng_msg_clear(msg);
        rv = nng_msg_append(msg, w->out.data, w->out.len) == 0 ? VELO_OK
                                                               : VELO_ENOMEM;
    }
    if (rv != VELO_OK) {
        /* Unanswerable: REQ will time out, which is all we can offer. */
        velo_error("rpc.server.reply_failed",
                   VELO_S("cause", velo_strerror(rv)));
        nng_msg_free(msg);
        rpc_worker_recv(w);
        return;
    }
    nng_aio_set_msg(w->aio, msg);
    w->state = W_SEND;
    nng_ctx_send(w->ctx, w->aio);
}

static void
rpc_worker_cb(void *arg)
{
    struct rpc_worker *w = arg;
    int                rv = nng_aio_result(w->aio);

    if (w->state == W_SEND && rv != 0)
        nng_msg_free(nng_aio_get_msg(w->aio)); /* not sent: still ours */
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return; /* stopping: the worker ends here */
    if (w->state == W_RECV && rv == 0) {
        rpc_worker_serve(w, nng_aio_get_msg(w->aio));
        return;
    }
    if (rv != 0)
        velo_warn("rpc.server.io_failed",
                  VELO_S("op", w->state == W_SEND ? "send" : "recv"),
                  VELO_S("cause", nng_strerror(rv)));
    rpc_worker_recv(w);
}

/* NNG_PIPE_EV_REM_POST: a connection went away. nng closes a connection
 * that sent a frame over NNG_OPT_RECVMAXSZ and counts it among the
 * listener's "other" errors, with clean closes (rpc_server_pipes.c). Runs
 * on nng's reaper thread, which holds no socket lock. */
static void
rpc_server_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    velo_rpc_server *s = arg;
    nng_stat        *root, *st;
    uint64_t         v;

    (void)ev;
    if (atomic_load(&s->closing) || nng_stats_get(&root) != 0)
        return;
    st = nng_stat_find_listener(root, s->l);
    st = st != NULL ? nng_stat_find(st, "other") : NULL;
    v = st != NULL ? nng_stat_value(st) : 0;
    nng_stats_free(root);
    if (rpc_pipes_removed(&s->pipes, (uint32_t)nng_pipe_id(p), v)) {
        velo_metric_add(s->dropped, 1.0);
        velo_warn("rpc.server.frame_dropped",
                  VELO_S("cause", "a connection closed on an error before "
                                  "any request: a frame over "
                                  "max_frame_bytes"));
    }
}

int
velo_rpc__bound_url(char *buf, size_t size, const char *cfg_url, nng_listener l)
{
    const char *colon = strrchr(cfg_url, ':');
    int         port, n;

    if (strncmp(cfg_url, "tcp", 3) != 0 || colon == NULL ||
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0)
        n = snprintf(buf, size, "%s", cfg_url);
    else
        n = snprintf(buf, size, "%.*s:%d", (int)(colon - cfg_url), cfg_url,
                     port);
    return n >= 0 && (size_t)n < size ? VELO_OK : VELO_EINVAL;
}

static void
rpc_server_metrics(velo_rpc_server *s, velo_metrics *m)
{
    s->stats.calls = velo_metrics_counter(m, "velo_rpc_server_calls_total",
                                          "RPC frames handled", NULL);
    s->stats.errors =
        velo_metrics_counter(m, "velo_rpc_server_errors_total",
                             "RPC replies with a non-OK status", NULL);
    s->stats.malformed = velo_metrics_counter(
        m, "velo_rpc_server_malformed_total",
        "RPC frames or payloads that did not decode", NULL);
    s->stats.latency = velo_metrics_histogram(
        m, "velo_rpc_server_latency_seconds", "RPC dispatch time", NULL,
        velo_metrics_latency_bounds, velo_metrics_latency_nbounds);
    s->stats.per_method = m;
    s->dropped = velo_metrics_counter(
        m, "velo_rpc_server_dropped_total",
        "RPC frames nng dropped unanswered (over max_frame_bytes)", NULL);
}

static bool
rpc_server_cfg_ok(const struct velo_rpc_server_cfg *cfg)
{
    size_t i;

    if (cfg->url == NULL || cfg->svcs == NULL || cfg->nsvcs == 0 ||
        cfg->max_frame_bytes > INT32_MAX)
        return false;
    for (i = 0; i < cfg->nsvcs; i++)
        if (cfg->svcs[i].desc == NULL || cfg->svcs[i].handlers == NULL)
            return false;
    return true;
}

/* Opens the socket and the workers' contexts; posts nothing yet. */
static int
rpc_server_open(velo_rpc_server *s, size_t max)
{
    unsigned int i;
    int          rv;

    rv = nng_rep0_open(&s->sock);
    if (rv != 0)
        return rv;
    s->sock_open = true;
    rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, max);
    if (rv == 0 && s->dropped != NULL)
        rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, rpc_server_pipe_cb,
                             s);
    for (i = 0; rv == 0 && i < s->nw; i++) {
        s->w[i].s = s;
        velo_buf_init(&s->w[i].out, max);
        rv = nng_aio_alloc(&s->w[i].aio, rpc_worker_cb, &s->w[i]);
        if (rv == 0)
            rv = nng_ctx_open(&s->w[i].ctx, s->sock);
    }
    return rv;
}

int
velo_rpc_server_start(velo_rpc_server                 **out,
                      const struct velo_rpc_server_cfg *cfg)
{
    velo_rpc_server *s;
    size_t           max;
    unsigned int     i;
    int              rv;

    if (!rpc_server_cfg_ok(cfg))
        return VELO_EINVAL;
    max = cfg->max_frame_bytes ? cfg->max_frame_bytes : RPC_MAX_FRAME_DEFAULT;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    rpc_pipes_init(&s->pipes);
    s->nw = cfg->workers ? cfg->workers : 8;
    s->w = calloc(s->nw, sizeof(*s->w));
    s->svcs = malloc(cfg->nsvcs * sizeof(*s->svcs));
    if (s->w == NULL || s->svcs == NULL) {
        velo_rpc_server_stop(s);
        return VELO_ENOMEM;
    }
    memcpy(s->svcs, cfg->svcs, cfg->nsvcs * sizeof(*s->svcs));
    s->nsvcs = cfg->nsvcs;
    if (cfg->metrics != NULL)
        rpc_server_metrics(s, cfg->metrics);
    rv = rpc_server_open(s, max);
    if (rv == 0)
        rv = nng_listen(s->sock, cfg->url, &s->l, 0);
    if (rv != 0) {
        velo_error("rpc.server.listen_failed", VELO_S("url", cfg->url),
                   VELO_S("cause", nng_strerror(rv)));
        velo_rpc_server_stop(s);
        rv = rpc_err_from_nng(rv); /* a bad URL is config, not "down" */
        return rv == VELO_EINVAL || rv == VELO_ENOMEM ? rv : VELO_EUNAVAIL;
    }
    if (velo_rpc__bound_url(s->url, sizeof(s->url), cfg->url, s->l) != 0) {
        velo_rpc_server_stop(s);
        return VELO_EINVAL;
    }
    for (i = 0; i < s->nw; i++)
        rpc_worker_recv(&s->w[i]);
    velo_info("rpc.server.started", VELO_S("url", s->url),
              VELO_U("workers", s->nw), VELO_U("max_frame_bytes", max));
    *out = s;
    return VELO_OK;
}

const char *
velo_rpc_server_url(const velo_rpc_server *s)
{
    return s->url;
}

void
velo_rpc_server_stop(velo_rpc_server *s)
{
    unsigned int i;

    if (s == NULL)
        return;
    atomic_store(&s->closing, true);
    /* Closing fails every pending aio with NNG_ECLOSED; nng_aio_free then
     * waits for each worker's last callback. */
    if (s->sock_open)
        nng_close(s->sock);
    for (i = 0; s->w != NULL && i < s->nw; i++) {
        if (s->w[i].aio != NULL)
            nng_aio_free(s->w[i].aio);
        velo_buf_fini(&s->w[i].out);
    }
    free(s->w);
    free(s->svcs);
    rpc_pipes_fini(&s->pipes);
    free(s);
}
