/* http_server.c: velo_http_server on libmicrohttpd 0.9.75.
 *
 * One MHD daemon with an internal epoll thread pool. Every request is
 * answered on the first call of the access handler, before any request
 * body is read: this server only serves GET/HEAD routes, so a body is never
 * wanted (MHD closes such a connection after the reply instead of reading
 * the body). Handlers fill a velo_buf; its data is handed to MHD with
 * MHD_RESPMEM_MUST_FREE, so no copy is made and MHD frees it. */
#include "velo/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "velo/log.h"

#define SERVER_BODY_MAX ((size_t)16 << 20)    /* velo_http_resp.body max */
#define SERVER_CONN_LIMIT 1024u               /* across the whole pool */
#define SERVER_CONN_TIMEOUT_S 30u             /* idle keep-alive connection */
#define SERVER_CONN_MEMORY ((size_t)64 << 10) /* per-connection header pool */
#define SERVER_DEFAULT_CT "text/plain; charset=utf-8"

/* Immutable after start: MHD threads only read it. */
struct velo_http_server {
    struct MHD_Daemon      *d;
    struct velo_http_route *routes; /* deep copy of cfg.routes */
    size_t                  nroutes;
    uint16_t                port;
};

/* Marks a connection whose request was already answered. */
static char server_answered;

/* MHD_OPTION_EXTERNAL_LOGGER: MHD's own diagnostics into the JSON log. */
static void
server_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char   msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    velo_warn("http.mhd", VELO_S("msg", msg));
}

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

/* Appends s as a JSON string body (quotes included). Control characters
 * become \u00XX; bytes >= 0x80 pass through (UTF-8 is valid JSON). */
static int
server_json_str(struct velo_buf *b, const char *s)
{
    int rv;

    rv = velo_buf_puts(b, "\"");
    for (; rv == VELO_OK && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            rv = velo_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            rv = velo_buf_printf(b, "\\u%04x", c);
        else
            rv = velo_buf_append(b, s, 1);
    }
    if (rv == VELO_OK)
        rv = velo_buf_puts(b, "\"");
    return rv;
}

void
velo_http_resp_error(struct velo_http_resp *resp, unsigned int status,
                     const char *code, const char *msg)
{
    int rv;

    resp->status = status;
    resp->content_type = "application/json";
    velo_buf_reset(&resp->body);
    rv = velo_buf_puts(&resp->body, "{\"error\":{\"code\":");
    if (rv == VELO_OK)
        rv = server_json_str(&resp->body, code);
    if (rv == VELO_OK)
        rv = velo_buf_puts(&resp->body, ",\"message\":");
    if (rv == VELO_OK)
        rv = server_json_str(&resp->body, msg);
    if (rv == VELO_OK)
        rv = velo_buf_puts(&resp->body, "}}\n");
    if (rv != VELO_OK)
        velo_buf_reset(&resp->body); /* an empty body beats a broken one */
}

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

/* The first route matching path and method, or NULL; *path_known tells a
 * 405 (some route has this path) from a 404. */
static const struct velo_http_route *
server_route(const velo_http_server *s, const char *method, const char *path,
             bool *path_known)
{
    size_t i;

    *path_known = false;
    for (i = 0; i < s->nroutes; i++) {
        if (!server_path_matches(&s->routes[i], path))
            continue;
        *path_known = true;
        if (server_method_matches(&s->routes[i], method))
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
        const char *m = s->routes[i].method;

        if (!server_path_matches(&s->routes[i], path) || strstr(allow, m))
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

/* Hands resp to MHD (the body's data moves into the MHD response). allow,
 * when not "", becomes the Allow header. */
static enum MHD_Result
server_send(struct MHD_Connection *conn, struct velo_http_resp *resp,
            const char *allow)
{
    struct MHD_Response *mr;
    enum MHD_Result      ret;
    size_t               len;
    char                *data;

    data = velo_buf_steal(&resp->body, &len);
    if (data != NULL)
        mr = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    else
        mr = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (mr == NULL) {
        free(data);
        return MHD_NO; /* MHD closes the connection */
    }
    if (MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type) != MHD_YES ||
        (allow[0] != '\0' && MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW,
                                                     allow) != MHD_YES)) {
        MHD_destroy_response(mr);
        return MHD_NO;
    }
    ret = MHD_queue_response(conn, resp->status, mr);
    MHD_destroy_response(mr); /* MHD keeps its own reference */
    return ret;
}

/* Routes one request and runs its handler; fills resp, and allow for a
 * 405 (left "" otherwise). */
static void
server_dispatch(velo_http_server *s, struct MHD_Connection *conn,
                const char *method, const char *url,
                struct velo_http_resp *resp, char *allow, size_t allow_size)
{
    const struct velo_http_route *r;
    struct velo_http_req          req;
    bool                          path_known;

    r = server_route(s, method, url, &path_known);
    if (r == NULL && !path_known) {
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
    r->fn(r->ctx, &req, resp);
}

/* MHD access handler: runs on an MHD pool thread. */
static enum MHD_Result
server_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                  const char *method, const char *version,
                  const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
{
    struct velo_http_resp resp;
    enum MHD_Result       ret;
    char                  allow[128];

    (void)version;
    (void)upload_data;
    if (*con_cls == &server_answered) {
        /* Already answered: discard any body MHD still hands us. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    *con_cls = &server_answered;
    resp.status = MHD_HTTP_OK;
    resp.content_type = SERVER_DEFAULT_CT;
    velo_buf_init(&resp.body, SERVER_BODY_MAX);
    allow[0] = '\0';
    server_dispatch(cls, conn, method, url, &resp, allow, sizeof(allow));
    if (resp.content_type == NULL)
        resp.content_type = SERVER_DEFAULT_CT;
    velo_debug("http.request", VELO_S("method", method), VELO_S("path", url),
               VELO_U("status", resp.status));
    ret = server_send(conn, &resp, allow);
    velo_buf_fini(&resp.body);
    return ret;
}

static void
server_free(velo_http_server *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nroutes && s->routes != NULL; i++) {
        free((char *)s->routes[i].method);
        free((char *)s->routes[i].path);
    }
    free(s->routes);
    free(s);
}

/* Deep-copies the route table (the caller's strings may be temporary). */
static int
server_copy_routes(velo_http_server *s, const struct velo_http_server_cfg *cfg)
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
        s->routes[i] = *r;
        s->routes[i].method = strdup(r->method);
        s->routes[i].path = strdup(r->path);
        if (s->routes[i].method == NULL || s->routes[i].path == NULL)
            return VELO_ENOMEM;
    }
    return VELO_OK;
}

/* Resolves a numeric bind address ("127.0.0.1", "::1", "0.0.0.0"). */
static int
server_sockaddr(const char *bind, uint16_t port, struct sockaddr_storage *ss,
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

/* Starts the MHD daemon on addr and records the bound port. */
static int
server_start_daemon(velo_http_server *s, const struct velo_http_server_cfg *cfg,
                    const struct sockaddr_storage *ss, bool ipv6)
{
    const union MHD_DaemonInfo *info;
    unsigned int                flags;

    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
            MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, server_on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, server_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)ss, MHD_OPTION_THREAD_POOL_SIZE,
        cfg->threads ? cfg->threads : 2u, MHD_OPTION_CONNECTION_LIMIT,
        SERVER_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, SERVER_CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, SERVER_CONN_MEMORY, MHD_OPTION_END);
    if (s->d == NULL) {
        velo_error("http.start_failed", VELO_S("bind", cfg->bind),
                   VELO_U("port", cfg->port));
        return VELO_EUNAVAIL;
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL && info->port != 0 ? info->port : cfg->port;
    return VELO_OK;
}

int
velo_http_server_start(velo_http_server                 **out,
                       const struct velo_http_server_cfg *cfg)
{
    velo_http_server       *s;
    struct sockaddr_storage ss;
    bool                    ipv6 = false;
    int                     rv;

    if (cfg->bind == NULL || (cfg->nroutes > 0 && cfg->routes == NULL))
        return VELO_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    rv = server_copy_routes(s, cfg);
    if (rv == VELO_OK)
        rv = server_sockaddr(cfg->bind, cfg->port, &ss, &ipv6);
    if (rv == VELO_OK)
        rv = server_start_daemon(s, cfg, &ss, ipv6);
    if (rv != VELO_OK)
        goto fail;
    velo_info("http.listening", VELO_S("bind", cfg->bind),
              VELO_U("port", s->port));
    *out = s;
    return VELO_OK;

fail:
    server_free(s);
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
    /* Stop accepting first, so no new request starts while in-flight ones
     * finish; the returned listen socket is ours to close, but only after
     * MHD's threads are gone. */
    lfd = MHD_quiesce_daemon(s->d);
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    velo_info("http.stopped", VELO_U("port", s->port));
    server_free(s);
}
