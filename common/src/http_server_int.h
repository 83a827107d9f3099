/* http_server_int.h: state shared by http_server*.c (not installed).
 *
 * Threads: MHD's pool threads run the callbacks; one sweep thread enforces
 * the whole-request timeout and sends stream heartbeats; any thread writes
 * to streams. s->mtx guards the conns and streams lists and the entries'
 * timing fields; each stream's own mtx guards its queue and flags. Lock
 * order: s->mtx before st->mtx; MHD's locks (taken inside
 * MHD_suspend/resume_connection) come last. */
#ifndef VELO_HTTP_SERVER_INT_H
#define VELO_HTTP_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "velo/http_server.h"
#include "velo/metrics.h"

/* One per TCP connection (MHD_OPTION_NOTIFY_CONNECTION). */
struct server_conn {
    struct server_conn *prev, *next;  /* s->conns; s->mtx */
    int                 fd;           /* valid until NOTIFY_CLOSED */
    int64_t             req_start_ms; /* connect or last response; s->mtx */
    bool                busy;   /* head complete, being answered; s->mtx */
    bool                killed; /* timed out, shut down; s->mtx */
};

struct velo_http_stream {
    pthread_mutex_t          mtx;
    struct velo_http_stream *prev, *next; /* s->streams; s->mtx */
    velo_http_server        *s;           /* NULL once the server let go */
    struct MHD_Connection   *conn;        /* set when the response starts */
    struct velo_buf          q;           /* bytes not yet handed to MHD */
    size_t                   qoff;        /* of q, already handed over */
    int64_t                  last_write_ms;
    int                      refs;      /* caller + server */
    bool                     suspended; /* we suspended conn; only the
                                           thread clearing it resumes */
    bool         ending;                /* caller closed: end after q */
    bool         dead;                  /* client gone, overflow, stop */
    velo_metric *overflows;             /* borrowed from the registry */
};

struct server_route {
    struct velo_http_route r;       /* deep copy */
    velo_metric           *latency; /* NULL without metrics */
};

/* Immutable after start except where a lock is named. */
struct velo_http_server {
    struct MHD_Daemon          *d;
    struct server_route        *routes;
    size_t                      nroutes;
    uint16_t                    port;
    struct velo_http_server_cfg cfg; /* defaults applied; strings below */
    char                       *name;
    char                       *cors_origin;
    pthread_mutex_t             mtx;
    struct server_conn         *conns;    /* s->mtx */
    struct velo_http_stream    *streams;  /* s->mtx */
    size_t                      nstreams; /* s->mtx */
    pthread_t                   sweeper;
    pthread_cond_t              cv;       /* wakes the sweeper to stop */
    bool                        stopping; /* s->mtx */
    bool                        sweeper_running;
    velo_metric                *unmatched_latency;
    velo_metric                *rej_timeout;  /* request_timeout */
    velo_metric                *rej_uri;      /* uri_too_long */
    velo_metric                *rej_overflow; /* stream_overflow */
    velo_metric                *rej_limit;    /* connection_limit */
    pthread_mutex_t             log_mtx;      /* the three log_ fields */
    int64_t                     log_second;
    unsigned int                log_count;
    uint64_t                    log_suppressed;
    velo_metric                *streams_open;
};

/* Per request: returned by the URI log callback as MHD's con_cls. */
struct server_req {
    int64_t                    start_ns;
    size_t                     uri_len;
    bool                       answered;
    const struct server_route *route; /* NULL: unmatched */
    unsigned int               status;
    size_t                     bytes;
    bool                       stream;     /* its latency is not a request's */
    char                       method[16]; /* for the access log, cut */
    char                       path[256];
};

/* http_server.c: MHD's request callbacks. */
struct server_callbacks {
    MHD_AccessHandlerCallback on_request;
    void *(*on_uri)(void *cls, const char *uri, struct MHD_Connection *conn);
    MHD_RequestCompletedCallback on_completed;
};
extern const struct server_callbacks server_callbacks;

/* http_server_start.c: counts a finished request (no-op without metrics). */
void server_metrics_count(velo_http_server *s, const struct server_req *rq,
                          double secs);

/* http_server_conn.c: connection table and the sweep thread. */
void server_conn_notify(void *cls, struct MHD_Connection *conn,
                        void                              **socket_context,
                        enum MHD_ConnectionNotificationCode code);
void server_conn_busy(velo_http_server *s, struct MHD_Connection *conn,
                      bool busy);
int  server_sweeper_start(velo_http_server *s);
void server_sweeper_stop(velo_http_server *s);

/* http_server_stream.c */
struct MHD_Response *server_stream_response(velo_http_server      *s,
                                            struct MHD_Connection *conn,
                                            velo_http_stream      *st);
void server_stream_heartbeat(velo_http_stream *st, int64_t now_ms,
                             int64_t every_ms);
void server_streams_end(velo_http_server *s);
void server_stream_release(velo_http_stream *st);
void server_stream_abandon(velo_http_stream *st);

/* http_server_resp.c */
struct MHD_Response *server_build_response(velo_http_server      *s,
                                           struct MHD_Connection *conn,
                                           struct velo_http_resp *resp,
                                           const char *allow, size_t *bytes);
int server_add_headers(velo_http_server *s, struct MHD_Connection *conn,
                       struct MHD_Response *mr, struct velo_http_resp *resp,
                       const char *allow);

#endif
