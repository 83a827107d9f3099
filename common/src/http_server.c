/* http_server.c: velo_http_server on libmicrohttpd 0.9.75: requests.
 *
 * One MHD daemon with an internal epoll thread pool. Every request is
 * answered on the first call of the access handler, before any request
 * body is read: this server only serves GET/HEAD routes, so a body is never
 * wanted (MHD closes such a connection after the reply instead of reading
 * the body). Handlers fill a velo_buf; its data is handed to MHD with
 * MHD_RESPMEM_MUST_FREE, so no copy is made and MHD frees it.
 *
 * Per request, the URI log callback (called when the request line arrives,
 * with the raw target) allocates a server_req that MHD hands back as
 * con_cls; MHD_OPTION_NOTIFY_COMPLETED records metrics, writes the access
 * log and frees it. Daemon start and stop are in http_server_start.c. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server_int.h"
#include "velo/clock.h"
#include "velo/log.h"

/* A NULL conn (a handler driven by a unit test without sockets) has no
 * query parameters. */
const char *
velo_http_query(const struct velo_http_req *req, const char *key)
{
    if (req->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
                                       MHD_GET_ARGUMENT_KIND, key);
}

const char *
velo_http_header(const struct velo_http_req *req, const char *name)
{
    if (req->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
                                       MHD_HEADER_KIND, name);
}

static void server_peer(struct MHD_Connection *conn, char *buf, size_t size);

static bool
server_path_matches(const struct velo_http_route *r, const char *path)
{
    if (r->prefix)
        return strncmp(path, r->path, strlen(r->path)) == 0;
    return strcmp(path, r->path) == 0;
}

static bool
server_method_matches(const struct velo_http_route *r, const char *method)
{
    if (strcmp(r->method, method) == 0)
        return true;
    return strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 &&
           strcmp(r->method, MHD_HTTP_METHOD_GET) == 0;
}

/* The first route matching path and method, or NULL; *known is the first
 * route with this path at all (a 405 rather than a 404), or NULL. */
static const struct server_route *
server_route(const velo_http_server *s, const char *method, const char *path,
             const struct server_route **known)
{
    size_t i;

    *known = NULL;
    for (i = 0; i < s->nroutes; i++) {
        if (!server_path_matches(&s->routes[i].r, path))
            continue;
        if (*known == NULL)
            *known = &s->routes[i];
        if (server_method_matches(&s->routes[i].r, method))
            return &s->routes[i];
    }
    return NULL;
}

/* True when the request announces a body (Content-Length > 0 or chunked). */
static bool
server_has_body(struct MHD_Connection *conn)
{
    const char *cl, *te;

    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te != NULL)
        return true;
    return cl != NULL && strspn(cl, "0") != strlen(cl);
}

/* Writes the methods of every route serving path into allow, as the
 * Allow header of a 405 wants them ("GET, HEAD"). */
static void
server_allow(const velo_http_server *s, const char *path, char *allow,
             size_t size)
{
    size_t i, n = 0;

    allow[0] = '\0';
    for (i = 0; i < s->nroutes; i++) {
        const char *m = s->routes[i].r.method;

        if (!server_path_matches(&s->routes[i].r, path) || strstr(allow, m))
            continue;
        n += (size_t)snprintf(allow + n, size - n, "%s%s", n ? ", " : "", m);
        if (n < size && strcmp(m, MHD_HTTP_METHOD_GET) == 0)
            n += (size_t)snprintf(allow + n, size - n, ", HEAD");
        if (n >= size) {
            allow[size - 1] = '\0'; /* cut: still a valid header value */
            return;
        }
    }
}

/* Routes one request and runs its handler; fills resp, and allow for a
 * 405 (left "" otherwise). */
static void
server_dispatch(velo_http_server *s, struct MHD_Connection *conn,
                struct server_req *rq, const char *method, const char *url,
                struct velo_http_resp *resp, char *allow, size_t allow_size)
{
    const struct server_route *r, *known;
    struct velo_http_req       req;

    if (rq->uri_len > s->cfg.max_url_bytes) {
        if (s->rej_uri != NULL)
            velo_metric_inc(s->rej_uri);
        velo_http_resp_error(resp, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                             "request target too long");
        return;
    }
    r = server_route(s, method, url, &known);
    rq->route = r ? r : known;
    if (known == NULL) {
        velo_http_resp_error(resp, MHD_HTTP_NOT_FOUND, "not_found",
                             "no such resource");
        return;
    }
    if (r == NULL) {
        velo_http_resp_error(resp, MHD_HTTP_METHOD_NOT_ALLOWED,
                             "method_not_allowed",
                             "method not allowed on this resource");
        server_allow(s, url, allow, allow_size);
        return;
    }
    if (server_has_body(conn)) {
        velo_http_resp_error(resp, MHD_HTTP_CONTENT_TOO_LARGE,
                             "body_not_allowed",
                             "request bodies are not accepted");
        return;
    }
    req.method = method;
    req.path = url;
    req.conn = conn;
    r->r.fn(r->r.ctx, &req, resp);
}

/* Builds the MHD response for resp (a stream or a buffer); NULL on
 * failure. A stream's server reference moves to the MHD response. */
static struct MHD_Response *
server_response(velo_http_server *s, struct MHD_Connection *conn,
                struct velo_http_resp *resp, const char *allow, size_t *bytes)
{
    struct MHD_Response *mr;

    *bytes = 0;
    if (resp->stream == NULL)
        return server_build_response(s, conn, resp, allow, bytes);
    mr = server_stream_response(s, conn, resp->stream);
    if (mr == NULL) {
        server_stream_abandon(resp->stream); /* the server's reference */
        return NULL;
    }
    /* The MHD response now holds the server's reference; once queued, a
     * failure below is handled by MHD destroying it (stream_done). */
    if (velo_http_resp_header(resp, "Cache-Control", "no-cache") != VELO_OK ||
        server_add_headers(s, conn, mr, resp, allow) != VELO_OK) {
        MHD_destroy_response(mr);
        return NULL;
    }
    return mr;
}

/* Runs the request and queues its response. Thread: MHD. */
static enum MHD_Result
server_answer(velo_http_server *s, struct MHD_Connection *conn,
              struct server_req *rq, const char *url, const char *method)
{
    struct velo_http_resp resp;
    struct MHD_Response  *mr;
    enum MHD_Result       ret = MHD_NO;
    char                  allow[128];

    velo_http_resp_init(&resp);
    allow[0] = '\0';
    server_dispatch(s, conn, rq, method, url, &resp, allow, sizeof(allow));
    if (resp.content_type == NULL)
        resp.content_type = "text/plain; charset=utf-8";
    rq->stream = resp.stream != NULL;
    mr = server_response(s, conn, &resp, allow, &rq->bytes);
    rq->status = resp.status;
    if (mr != NULL) {
        ret = MHD_queue_response(conn, resp.status, mr);
        MHD_destroy_response(mr); /* MHD keeps its own reference */
    }
    resp.stream = NULL; /* the handler holds the caller's reference */
    velo_http_resp_fini(&resp);
    return ret;
}

/* MHD access handler: runs on an MHD pool thread. */
static enum MHD_Result
server_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                  const char *method, const char *version,
                  const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
{
    velo_http_server  *s = cls;
    struct server_req *rq = *con_cls;

    (void)version;
    (void)upload_data;
    if (rq == NULL)
        return MHD_NO; /* the URI log callback ran out of memory */
    if (rq->answered) {
        /* Already answered: discard any body MHD still hands us. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    rq->answered = true;
    server_conn_busy(s, conn, true);
    snprintf(rq->method, sizeof(rq->method), "%s", method);
    snprintf(rq->path, sizeof(rq->path), "%s", url);
    return server_answer(s, conn, rq, url, method);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line has arrived. */
static void *
server_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct server_req *rq;

    (void)cls;
    (void)conn;
    rq = calloc(1, sizeof(*rq));
    if (rq == NULL)
        return NULL;
    rq->start_ns = velo_mono_ns();
    rq->uri_len = strlen(uri);
    return rq;
}

void
velo_http_peer(const struct velo_http_req *req, char *buf, size_t size)
{
    buf[0] = '\0';
    if (req->conn != NULL)
        server_peer((struct MHD_Connection *)req->conn, buf, size);
}

/* Writes the client's address into buf ("" when unknown). */
static void
server_peer(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info;
    const struct sockaddr          *sa;

    buf[0] = '\0';
    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL)
        return;
    sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                  (socklen_t)size);
}

/* Counts the request and writes the access log line. */
static void
server_observe(velo_http_server *s, struct MHD_Connection *conn,
               const struct server_req *rq, enum MHD_RequestTerminationCode toe)
{
    double secs = (double)(velo_mono_ns() - rq->start_ns) / 1e9;
    char   peer[INET6_ADDRSTRLEN];

    server_metrics_count(s, rq, secs);
    if (!s->cfg.access_log)
        return;
    server_peer(conn, peer, sizeof(peer));
    velo_info("http.access", VELO_S("server", s->name),
              VELO_S("method", rq->method), VELO_S("path", rq->path),
              VELO_U("status", rq->status), VELO_U("bytes", rq->bytes),
              VELO_D("ms", secs * 1e3), VELO_S("peer", peer),
              VELO_B("complete", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
}

/* MHD_OPTION_NOTIFY_COMPLETED: the response is sent (or the client left). */
static void
server_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    velo_http_server  *s = cls;
    struct server_req *rq = *con_cls;

    if (rq == NULL)
        return;
    if (rq->answered) {
        server_observe(s, conn, rq, toe);
        server_conn_busy(s, conn, false);
    }
    free(rq);
    *con_cls = NULL;
}

/* The MHD callbacks, for http_server_start.c. */
const struct server_callbacks server_callbacks = {
    .on_request = server_on_request,
    .on_uri = server_on_uri,
    .on_completed = server_on_completed,
};
