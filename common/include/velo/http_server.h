/* velo/http_server.h: a small HTTP server on libmicrohttpd.
 *
 * Routes are matched on method and exact path (or prefix when .prefix is
 * set). Handlers run on MHD's internal threads (a thread pool, epoll) and
 * fill a velo_http_resp; the server sends it and frees the body. MHD's own
 * log goes into the JSON log (http.mhd events). Unknown path: 404; known
 * path, wrong method: 405 with Allow; both as JSON errors. Request bodies
 * are refused (413): the server serves GET/HEAD-style resources only.
 *
 * Limits (every one has a default; see docs/operations.md):
 * - max_conns in total and max_conns_per_ip per client address; a
 *   connection over a limit is closed at accept;
 * - request_timeout_ms: a request head that has not fully arrived this long
 *   after the connection opened (or after the previous response on a
 *   keep-alive connection) is closed, however busily it dribbles;
 * - idle_timeout_s: MHD's idle timeout for a connection with no traffic;
 * - max_url_bytes: a longer request target (path and query) gets 414;
 * - conn_memory_bytes: MHD's per-connection pool, which bounds the request
 *   head (headers, query); MHD answers 431/413 past it.
 *
 * Streams (Server-Sent Events): a handler opens a velo_http_stream instead
 * of filling the body; any thread then writes to it. A waiting stream holds
 * its connection suspended (MHD_suspend_connection): no thread, no CPU.
 *
 * Metrics (cfg.metrics): velo_http_requests_total{server,route,status},
 * velo_http_request_duration_seconds{server,route},
 * velo_http_rejected_total{server,reason}, velo_http_streams_open{server}.
 * The route label is the route's configured path ("unmatched" for 404s),
 * so label cardinality is bounded by the route table.
 *
 * Shutdown: velo_http_server_stop ends every stream, quiesces the listener,
 * then stops and frees. */
#ifndef VELO_HTTP_SERVER_H
#define VELO_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/metrics.h"

typedef struct velo_http_server velo_http_server;
typedef struct velo_http_stream velo_http_stream;

/* max_conns_per_ip value that turns the per-address limit off (a gateway
 * behind a load balancer sees one address). */
#define VELO_HTTP_UNLIMITED UINT32_MAX
/* Bodies smaller than this are never compressed. */
#define VELO_HTTP_GZIP_MIN 1024u

struct velo_http_req {
    const char *method; /* "GET" */
    const char *path;   /* "/api/v1/systems", without the query */
    void       *conn;   /* struct MHD_Connection *; NULL in unit tests */
};

struct velo_http_resp {
    unsigned int status;       /* default 200 */
    const char  *content_type; /* default "text/plain; charset=utf-8";
                                  borrowed: a literal or longer-lived */
    struct velo_buf body;      /* owned by the server; max 16 MiB */
    bool            etag; /* strong ETag from the body; If-None-Match: 304 */
    /* With etag: the body's tag when the handler already knows it (from
     * velo_http_etag over the same bytes, e.g. a cached answer), so the
     * server does not hash the body again; "" : hash it. */
    char etag_value[24];
    bool gzip;                /* gzip when the client accepts it and the body
                                 is at least VELO_HTTP_GZIP_MIN bytes */
    struct velo_buf headers;  /* extra headers ("name\0value\0" pairs), via
                                 velo_http_resp_header; max 8 KiB */
    velo_http_stream *stream; /* set by velo_http_stream_open */
};

/* Returns a query parameter's value (borrowed for the request), or NULL. */
const char *velo_http_query(const struct velo_http_req *req, const char *key);
/* Returns a request header's value, name case-insensitive (borrowed for
 * the request), or NULL. */
const char *velo_http_header(const struct velo_http_req *req, const char *name);

/* Writes the client's IP address ("192.0.2.1", "::1") into buf, at least
 * 46 bytes (INET6_ADDRSTRLEN); "" when unknown (unit tests). */
void velo_http_peer(const struct velo_http_req *req, char *buf, size_t size);

/* Prepares resp as the server does before calling a handler (for unit
 * tests of handlers); release with velo_http_resp_fini, which also ends a
 * stream the handler opened (its writes then return VELO_ECLOSED; the
 * handler's reference still needs velo_http_stream_close). */
void velo_http_resp_init(struct velo_http_resp *resp);
void velo_http_resp_fini(struct velo_http_resp *resp);

/* Adds a response header (copied), e.g. ("Cache-Control", "max-age=5"),
 * ("Retry-After", "30"). VELO_EINVAL when name or value holds CR, LF or
 * NUL, or name is empty or holds ':'; VELO_ETOOBIG past 8 KiB in all. */
VELO_MUST_CHECK int velo_http_resp_header(struct velo_http_resp *resp,
                                          const char *name, const char *value);

/* Fills resp with {"error":{"code":code,"message":msg}} as JSON. */
void velo_http_resp_error(struct velo_http_resp *resp, unsigned int status,
                          const char *code, const char *msg);

/* Writes the strong ETag of len bytes at data ("\"<16 hex>\"", a 64-bit
 * FNV-1a hash) into buf (at least 19 bytes). */
void velo_http_etag(const void *data, size_t len, char *buf, size_t size);
/* True when an If-None-Match value (a list, W/ prefixes or "*") matches
 * etag by weak comparison, as RFC 9110 §13.1.2 wants for GET. */
bool velo_http_etag_match(const char *if_none_match, const char *etag);
/* True when an Accept-Encoding value accepts gzip (gzip or *, q > 0). */
bool velo_http_accepts_gzip(const char *accept_encoding);

typedef void (*velo_http_handler)(void *ctx, const struct velo_http_req *req,
                                  struct velo_http_resp *resp);

struct velo_http_route {
    const char       *method; /* "GET"; HEAD is served by GET routes */
    const char       *path;
    bool              prefix;
    velo_http_handler fn;
    void             *ctx; /* borrowed; must outlive the server */
};

struct velo_http_server_cfg {
    const char                   *bind;   /* "127.0.0.1" */
    uint16_t                      port;   /* 0: any free port */
    const struct velo_http_route *routes; /* copied */
    size_t                        nroutes;
    unsigned int                  threads; /* 0: 2; 1: no pool */
    const char *name;   /* "admin", "gateway": metrics label and log field;
                           NULL: "http" */
    uint32_t max_conns; /* 0: 1024 */
    uint32_t max_conns_per_ip;    /* 0: 64; VELO_HTTP_UNLIMITED: none */
    uint32_t request_timeout_ms;  /* 0: 10000 */
    uint32_t idle_timeout_s;      /* 0: 30 */
    uint32_t max_url_bytes;       /* 0: 2048 */
    uint32_t conn_memory_bytes;   /* 0: 32768 */
    uint32_t stream_queue_bytes;  /* 0: 262144; a stream further behind
                                     is closed */
    uint32_t stream_heartbeat_ms; /* 0: 15000; ": \n\n" on idle streams,
                                     which also finds departed clients */
    const char *cors_origin;      /* NULL: no CORS header; "*"; or one origin,
                                     echoed when the request's Origin equals it */
    velo_metrics *metrics;    /* borrowed; outlives the server; NULL: none */
    bool          access_log; /* one http.access info line per request */
};

/* Binds and starts serving. VELO_EUNAVAIL when the port cannot be bound,
 * VELO_EINVAL for a bad bind address or route. */
VELO_MUST_CHECK int
velo_http_server_start(velo_http_server                 **out,
                       const struct velo_http_server_cfg *cfg);
/* The bound port (the real one when cfg.port was 0). */
uint16_t velo_http_server_port(const velo_http_server *s);
/* Streams currently open (for tests and readiness). Thread: any. */
size_t velo_http_server_streams(velo_http_server *s);
/* Ends every stream, quiesces, stops, frees. NULL is a no-op. Streams the
 * caller still holds stay valid (writes return VELO_ECLOSED) until closed. */
void velo_http_server_stop(velo_http_server *s);

/* Turns resp into an event stream: status 200, Content-Type
 * text/event-stream, Cache-Control no-cache; the body is ignored. On
 * success *out is the caller's (release with velo_http_stream_close);
 * the server holds its own reference until the client is gone. Call from a
 * handler only. VELO_ENOMEM on failure. */
VELO_MUST_CHECK int velo_http_stream_open(struct velo_http_resp *resp,
                                          velo_http_stream     **out);
/* Queues len bytes (copied; the caller formats SSE "data: ...\n\n") and
 * wakes the connection. VELO_ECLOSED when the client is gone or the server
 * stopped; VELO_EFULL when the queue would pass cfg.stream_queue_bytes: the
 * stream is then closed (counted as reason="stream_overflow"). Thread: any. */
VELO_MUST_CHECK int velo_http_stream_write(velo_http_stream *st,
                                           const void *data, size_t len);
/* Writes one SSE event: "id: <id>\n" (id may be NULL), "event: <event>\n"
 * (NULL: none), one "data: " line per line of data, then a blank line.
 * VELO_EINVAL when id or event holds CR or LF; otherwise as
 * velo_http_stream_write. Thread: any. */
VELO_MUST_CHECK int velo_http_stream_event(velo_http_stream *st, const char *id,
                                           const char *event, const char *data);
/* True while a write may still succeed. Thread: any. */
bool velo_http_stream_alive(velo_http_stream *st);
/* Ends the stream after the queued bytes and drops the caller's reference.
 * NULL is a no-op. Thread: any. */
void velo_http_stream_close(velo_http_stream *st);

#endif
