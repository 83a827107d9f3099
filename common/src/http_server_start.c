/* http_server_start.c: velo_http_server configuration, metrics, daemon
 * start and stop.
 *
 * MHD options: MHD_OPTION_THREAD_POOL_SIZE is passed only for two or more
 * threads. MHD 0.9.75 warns "Warning: value "1", specified as the thread
 * pool size, is ignored" for a pool of one (the admin server asked for one
 * thread), and runs the single internal polling thread anyway; omitting
 * the option gives that thread without the warning. */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_server_int.h"
#include "velo/clock.h"
#include "velo/log.h"

#define DEF_THREADS 2u
#define DEF_MAX_CONNS 1024u
#define DEF_PER_IP 64u
#define DEF_REQUEST_TIMEOUT_MS 10000u
#define DEF_IDLE_TIMEOUT_S 30u
#define DEF_MAX_URL 2048u
#define DEF_CONN_MEMORY 32768u
#define DEF_STREAM_QUEUE (256u << 10)
#define DEF_HEARTBEAT_MS 15000u
#define MIN_CONN_MEMORY 4096u /* MHD needs room for its own buffers */
#define OPT_MAX 16
#define LOG_PER_S 5 /* http.mhd lines a second, the rest counted */

/* True when a message may be logged now: at most LOG_PER_S a second, so
 * a flood of rejected clients cannot flood the log. *suppressed gets the
 * count dropped since the last logged line. Uses its own lock: MHD may
 * log while holding its internal locks, which s->mtx holders can wait
 * for. */
static bool
start_log_allowed(velo_http_server *s, uint64_t *suppressed)
{
    int64_t now = velo_mono_ms() / 1000;
    bool    ok;

    pthread_mutex_lock(&s->log_mtx);
    if (now != s->log_second) {
        s->log_second = now;
        s->log_count = 0;
    }
    ok = s->log_count++ < LOG_PER_S;
    *suppressed = ok ? s->log_suppressed : 0;
    if (ok)
        s->log_suppressed = 0;
    else
        s->log_suppressed++;
    pthread_mutex_unlock(&s->log_mtx);
    return ok;
}

/* MHD_OPTION_EXTERNAL_LOGGER: MHD's own diagnostics into the JSON log.
 * MHD reports a connection refused by a connection limit only here, so
 * that message is also counted. */
static void
start_mhd_log(void *cls, const char *fmt, va_list ap)
{
    velo_http_server *s = cls;
    char              msg[512];
    size_t            n;
    uint64_t          suppressed;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (s->rej_limit != NULL && strstr(msg, "connection limit") != NULL)
        velo_metric_inc(s->rej_limit);
    if (start_log_allowed(s, &suppressed))
        velo_warn("http.mhd", VELO_S("server", s->name), VELO_S("msg", msg),
                  VELO_U("suppressed", suppressed));
}

static uint32_t
or_default(uint32_t v, uint32_t def)
{
    return v != 0 ? v : def;
}

/* Copies cfg with every default applied. The heartbeat stays below MHD's
 * idle timeout, which would otherwise close a quiet stream. */
static void
start_defaults(struct velo_http_server_cfg *c)
{
    c->threads = c->threads != 0 ? c->threads : DEF_THREADS;
    c->max_conns = or_default(c->max_conns, DEF_MAX_CONNS);
    c->max_conns_per_ip = or_default(c->max_conns_per_ip, DEF_PER_IP);
    c->request_timeout_ms =
        or_default(c->request_timeout_ms, DEF_REQUEST_TIMEOUT_MS);
    c->idle_timeout_s = or_default(c->idle_timeout_s, DEF_IDLE_TIMEOUT_S);
    c->max_url_bytes = or_default(c->max_url_bytes, DEF_MAX_URL);
    c->conn_memory_bytes = or_default(c->conn_memory_bytes, DEF_CONN_MEMORY);
    if (c->conn_memory_bytes < MIN_CONN_MEMORY)
        c->conn_memory_bytes = MIN_CONN_MEMORY;
    c->stream_queue_bytes = or_default(c->stream_queue_bytes, DEF_STREAM_QUEUE);
    c->stream_heartbeat_ms =
        or_default(c->stream_heartbeat_ms, DEF_HEARTBEAT_MS);
    if (c->stream_heartbeat_ms >= c->idle_timeout_s * 1000u)
        c->stream_heartbeat_ms = c->idle_timeout_s * 500u;
}

/* Deep-copies the route table (the caller's strings may be temporary). */
static int
start_copy_routes(velo_http_server *s, const struct velo_http_server_cfg *cfg)
{
    size_t i;

    s->routes = calloc(cfg->nroutes ? cfg->nroutes : 1, sizeof(*s->routes));
    if (s->routes == NULL)
        return VELO_ENOMEM;
    s->nroutes = cfg->nroutes;
    for (i = 0; i < cfg->nroutes; i++) {
        const struct velo_http_route *r = &cfg->routes[i];

        if (r->method == NULL || r->path == NULL || r->fn == NULL)
            return VELO_EINVAL;
        s->routes[i].r = *r;
        s->routes[i].r.method = strdup(r->method);
        s->routes[i].r.path = strdup(r->path);
        if (s->routes[i].r.method == NULL || s->routes[i].r.path == NULL)
            return VELO_ENOMEM;
    }
    return VELO_OK;
}

#define LATENCY_HELP "HTTP request latency until the response is sent"

/* Looks up the series that do not depend on a request's status. */
static void
start_metrics(velo_http_server *s)
{
    velo_metrics *m = s->cfg.metrics;
    char          labels[384];
    size_t        i;

    if (m == NULL)
        return;
    for (i = 0; i < s->nroutes; i++) {
        snprintf(labels, sizeof(labels), "server=\"%s\",route=\"%s\"", s->name,
                 s->routes[i].r.path);
        s->routes[i].latency = velo_metrics_histogram(
            m, "velo_http_request_duration_seconds", LATENCY_HELP, labels,
            velo_metrics_latency_bounds, velo_metrics_latency_nbounds);
    }
    snprintf(labels, sizeof(labels), "server=\"%s\",route=\"unmatched\"",
             s->name);
    s->unmatched_latency = velo_metrics_histogram(
        m, "velo_http_request_duration_seconds", LATENCY_HELP, labels,
        velo_metrics_latency_bounds, velo_metrics_latency_nbounds);
#define REJ(field, reason)                                                     \
    snprintf(labels, sizeof(labels), "server=\"%s\",reason=\"%s\"", s->name,   \
             reason);                                                          \
    s->field = velo_metrics_counter(                                           \
        m, "velo_http_rejected_total",                                         \
        "HTTP connections or requests cut off by a server limit", labels)
    REJ(rej_timeout, "request_timeout");
    REJ(rej_limit, "connection_limit");
    REJ(rej_uri, "uri_too_long");
    REJ(rej_overflow, "stream_overflow");
#undef REJ
    snprintf(labels, sizeof(labels), "server=\"%s\"", s->name);
    s->streams_open = velo_metrics_gauge(m, "velo_http_streams_open",
                                         "Open streaming responses", labels);
}

void
server_metrics_count(velo_http_server *s, const struct server_req *rq,
                     double secs)
{
    velo_metric *lat;
    char         labels[384];

    if (s->cfg.metrics == NULL)
        return;
    snprintf(labels, sizeof(labels), "server=\"%s\",route=\"%s\",status=\"%u\"",
             s->name, rq->route ? rq->route->r.path : "unmatched", rq->status);
    velo_metric_inc(velo_metrics_counter(s->cfg.metrics,
                                         "velo_http_requests_total",
                                         "HTTP requests answered", labels));
    lat = rq->route ? rq->route->latency : s->unmatched_latency;
    if (!rq->stream && lat != NULL)
        velo_metric_observe(lat, secs);
}

/* Resolves a numeric bind address ("127.0.0.1", "::1", "0.0.0.0"). */
static int
start_sockaddr(const char *bind, uint16_t port, struct sockaddr_storage *ss,
               bool *ipv6)
{
    struct addrinfo hints, *ai = NULL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    if (getaddrinfo(bind, NULL, &hints, &ai) != 0 || ai == NULL)
        return VELO_EINVAL;
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *ipv6 = ai->ai_family == AF_INET6;
    if (*ipv6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    freeaddrinfo(ai);
    return VELO_OK;
}

/* Appends one MHD option to the array. */
static void
opt(struct MHD_OptionItem *o, size_t *n, enum MHD_OPTION k, intptr_t v, void *p)
{
    o[*n].option = k;
    o[*n].value = v;
    o[*n].ptr_value = p;
    (*n)++;
}

/* Fills the MHD option array from s->cfg. */
static void
start_options(velo_http_server *s, const struct sockaddr_storage *ss,
              struct MHD_OptionItem *o)
{
    const struct velo_http_server_cfg *c = &s->cfg;
    size_t                             n = 0;

    opt(o, &n, MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)start_mhd_log, s);
    opt(o, &n, MHD_OPTION_SOCK_ADDR, 0, (void *)ss);
    if (c->threads > 1)
        opt(o, &n, MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL);
    opt(o, &n, MHD_OPTION_CONNECTION_LIMIT, c->max_conns, NULL);
    if (c->max_conns_per_ip != VELO_HTTP_UNLIMITED)
        opt(o, &n, MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_conns_per_ip,
            NULL);
    opt(o, &n, MHD_OPTION_CONNECTION_TIMEOUT, c->idle_timeout_s, NULL);
    opt(o, &n, MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->conn_memory_bytes, NULL);
    opt(o, &n, MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)server_conn_notify, s);
    opt(o, &n, MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)server_callbacks.on_uri,
        s);
    opt(o, &n, MHD_OPTION_NOTIFY_COMPLETED,
        (intptr_t)server_callbacks.on_completed, s);
    opt(o, &n, MHD_OPTION_END, 0, NULL);
}

/* Starts the MHD daemon on addr and records the bound port. */
static int
start_daemon(velo_http_server *s, const struct sockaddr_storage *ss, bool ipv6)
{
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem       o[OPT_MAX];
    unsigned int                flags;

    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
            MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    start_options(s, ss, o);
    s->d = MHD_start_daemon(flags, s->cfg.port, NULL, NULL,
                            server_callbacks.on_request, s, MHD_OPTION_ARRAY, o,
                            MHD_OPTION_END);
    if (s->d == NULL) {
        velo_error("http.start_failed", VELO_S("server", s->name),
                   VELO_S("bind", s->cfg.bind), VELO_U("port", s->cfg.port));
        return VELO_EUNAVAIL;
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL && info->port != 0 ? info->port : s->cfg.port;
    return VELO_OK;
}

static void
start_free(velo_http_server *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nroutes && s->routes != NULL; i++) {
        free((char *)s->routes[i].r.method);
        free((char *)s->routes[i].r.path);
    }
    free(s->routes);
    free(s->name);
    free(s->cors_origin);
    pthread_mutex_destroy(&s->mtx);
    pthread_mutex_destroy(&s->log_mtx);
    free(s);
}

/* Allocates s with cfg copied (defaults applied) and routes and metrics
 * set up. */
static int
start_new(velo_http_server **out, const struct velo_http_server_cfg *cfg)
{
    velo_http_server *s;
    int               rv;

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    pthread_mutex_init(&s->mtx, NULL);
    pthread_mutex_init(&s->log_mtx, NULL);
    s->cfg = *cfg;
    start_defaults(&s->cfg);
    s->name = strdup(cfg->name ? cfg->name : "http");
    s->cors_origin = cfg->cors_origin ? strdup(cfg->cors_origin) : NULL;
    s->cfg.name = s->name;
    s->cfg.cors_origin = s->cors_origin;
    s->cfg.routes = NULL; /* copied below; the caller's may be temporary */
    rv = s->name == NULL || (cfg->cors_origin && s->cors_origin == NULL)
             ? VELO_ENOMEM
             : start_copy_routes(s, cfg);
    if (rv != VELO_OK) {
        start_free(s);
        return rv;
    }
    start_metrics(s);
    *out = s;
    return VELO_OK;
}

int
velo_http_server_start(velo_http_server                 **out,
                       const struct velo_http_server_cfg *cfg)
{
    velo_http_server       *s = NULL;
    struct sockaddr_storage ss;
    bool                    ipv6 = false;
    int                     rv;

    if (cfg->bind == NULL || (cfg->nroutes > 0 && cfg->routes == NULL))
        return VELO_EINVAL;
    rv = start_new(&s, cfg);
    if (rv != VELO_OK)
        return rv;
    rv = start_sockaddr(cfg->bind, cfg->port, &ss, &ipv6);
    if (rv == VELO_OK)
        rv = start_daemon(s, &ss, ipv6);
    if (rv == VELO_OK)
        rv = server_sweeper_start(s);
    if (rv != VELO_OK)
        goto fail;
    velo_info("http.listening", VELO_S("server", s->name),
              VELO_S("bind", cfg->bind), VELO_U("port", s->port),
              VELO_U("max_conns", s->cfg.max_conns),
              VELO_U("max_conns_per_ip", s->cfg.max_conns_per_ip),
              VELO_U("request_timeout_ms", s->cfg.request_timeout_ms));
    *out = s;
    return VELO_OK;

fail:
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    start_free(s);
    return rv;
}

uint16_t
velo_http_server_port(const velo_http_server *s)
{
    return s->port;
}

void
velo_http_server_stop(velo_http_server *s)
{
    MHD_socket lfd;

    if (s == NULL)
        return;
    server_sweeper_stop(s);
    /* No connection may stay suspended into MHD_stop_daemon: end every
     * stream first, which resumes the waiting ones. */
    server_streams_end(s);
    /* Stop accepting first, so no new request starts while in-flight ones
     * finish; the returned listen socket is ours to close, but only after
     * MHD's threads are gone. */
    lfd = MHD_quiesce_daemon(s->d);
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    velo_info("http.stopped", VELO_S("server", s->name),
              VELO_U("port", s->port));
    start_free(s);
}
