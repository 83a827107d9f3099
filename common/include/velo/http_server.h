/* velo/http_server.h: a small HTTP server on libmicrohttpd.
 *
 * Routes are matched on method and exact path (or prefix when .prefix is
 * set). Handlers run on MHD's internal threads (a thread per connection
 * pool, epoll) and fill a velo_http_resp; the server sends it and frees
 * the body. MHD's own log goes into the JSON log (http.mhd events).
 * Unknown path: 404; known path, wrong method: 405; both as JSON errors.
 *
 * Shutdown: velo_http_server_stop quiesces the listener, then stops and
 * frees. */
#ifndef VELO_HTTP_SERVER_H
#define VELO_HTTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"

typedef struct velo_http_server velo_http_server;

struct velo_http_req {
    const char *method; /* "GET" */
    const char *path;   /* "/api/v1/systems", without the query */
    void       *conn;   /* struct MHD_Connection *, for velo_http_query */
};

struct velo_http_resp {
    unsigned int    status;       /* default 200 */
    const char     *content_type; /* default "text/plain; charset=utf-8" */
    struct velo_buf body;         /* owned by the server; max 16 MiB */
};

/* Returns a query parameter's value (borrowed for the request), or NULL. */
const char *velo_http_query(const struct velo_http_req *req, const char *key);

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
    unsigned int                  threads; /* 0: 2 */
};

/* Binds and starts serving. VELO_EUNAVAIL when the port cannot be bound. */
VELO_MUST_CHECK int
velo_http_server_start(velo_http_server                 **out,
                       const struct velo_http_server_cfg *cfg);
/* The bound port (the real one when cfg.port was 0). */
uint16_t velo_http_server_port(const velo_http_server *s);
/* Quiesce, stop, free. NULL is a no-op. */
void velo_http_server_stop(velo_http_server *s);

/* Fills resp with {"error":{"code":code,"message":msg}} as JSON. */
void velo_http_resp_error(struct velo_http_resp *resp, unsigned int status,
                          const char *code, const char *msg);

#endif
