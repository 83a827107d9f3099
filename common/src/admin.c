/* admin.c: /healthz, /readyz and /metrics on a velo_http_server. */
#include "velo/admin.h"

#include <stdlib.h>

#include "velo/http_server.h"
#include "velo/log.h"

#define ADMIN_THREADS 1u /* probes and scrapes are rare and cheap */
#define ADMIN_TEXT "text/plain; charset=utf-8"
#define ADMIN_PROM "text/plain; version=0.0.4; charset=utf-8"

/* Immutable after start; handlers read it from MHD threads. */
struct velo_admin {
    velo_http_server *srv;
    velo_metrics     *metrics; /* borrowed; NULL renders nothing */
    velo_ready_fn     ready;   /* NULL: always ready */
    void             *ctx;
    velo_metric      *ready_gauge; /* velo_ready; NULL without metrics */
};

/* A body append failed (out of memory or the 16 MiB cap): say 500 rather
 * than serve a partial answer. */
static void
admin_fail(struct velo_http_resp *resp, int rv)
{
    velo_warn("admin.reply_failed", VELO_S("err", velo_strerror(rv)));
    velo_http_resp_error(resp, 500, "internal", velo_strerror(rv));
}

/* GET /healthz: the process is up and its HTTP thread answers. */
static void
admin_healthz(void *ctx, const struct velo_http_req *req,
              struct velo_http_resp *resp)
{
    int rv;

    (void)ctx;
    (void)req;
    resp->content_type = ADMIN_TEXT;
    rv = velo_buf_puts(&resp->body, "ok\n");
    if (rv != VELO_OK)
        admin_fail(resp, rv);
}

/* GET /readyz: 200 "ready" ("ready: detail" when the probe adds one), or
 * 503 with the probe's reason. */
static void
admin_readyz(void *ctx, const struct velo_http_req *req,
             struct velo_http_resp *resp)
{
    velo_admin *a = ctx;
    char        why[256];
    int         rv;

    (void)req;
    resp->content_type = ADMIN_TEXT;
    why[0] = '\0';
    if (a->ready == NULL || a->ready(a->ctx, why, sizeof(why))) {
        why[sizeof(why) - 1] = '\0';
        /* A ready probe may add detail ("standby", the Consul state). */
        rv = why[0] == '\0' ? velo_buf_puts(&resp->body, "ready\n")
                            : velo_buf_printf(&resp->body, "ready: %s\n", why);
    } else {
        why[sizeof(why) - 1] = '\0'; /* in case the probe forgot */
        resp->status = 503;
        rv = velo_buf_printf(&resp->body, "not ready: %s\n",
                             why[0] != '\0' ? why : "unspecified");
    }
    if (rv != VELO_OK)
        admin_fail(resp, rv);
}

/* GET /metrics: the Prometheus text exposition of the registry. */
static void
admin_metrics(void *ctx, const struct velo_http_req *req,
              struct velo_http_resp *resp)
{
    velo_admin *a = ctx;
    int         rv = VELO_OK;

    (void)req;
    resp->content_type = ADMIN_PROM;
    /* Readiness as a series, evaluated at scrape time: alerts see what the
     * orchestrator's probe sees. */
    if (a->ready_gauge != NULL) {
        char why[256];

        velo_metric_set(
            a->ready_gauge,
            a->ready == NULL || a->ready(a->ctx, why, sizeof(why)) ? 1 : 0);
    }
    if (a->metrics != NULL)
        rv = velo_metrics_render(a->metrics, &resp->body);
    if (rv != VELO_OK)
        admin_fail(resp, rv);
}

/* Starts the HTTP server with the three admin routes, all bound to a. */
static int
admin_serve(velo_admin *a, const struct velo_admin_cfg *cfg)
{
    /* The server copies the table, so it may live on the stack. */
    const struct velo_http_route routes[] = {
        {.method = "GET", .path = "/healthz", .fn = admin_healthz, .ctx = a},
        {.method = "GET", .path = "/readyz", .fn = admin_readyz, .ctx = a},
        {.method = "GET", .path = "/metrics", .fn = admin_metrics, .ctx = a},
    };
    const struct velo_http_server_cfg hc = {
        .bind = cfg->bind,
        .port = cfg->port,
        .routes = routes,
        .nroutes = sizeof(routes) / sizeof(routes[0]),
        .threads = ADMIN_THREADS,
        .name = "admin",
        .metrics = cfg->metrics, /* velo_http_* series for the admin port */
    };

    return velo_http_server_start(&a->srv, &hc);
}

int
velo_admin_start(velo_admin **out, const struct velo_admin_cfg *cfg)
{
    velo_admin *a;
    int         rv;

    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return VELO_ENOMEM;
    a->metrics = cfg->metrics;
    a->ready = cfg->ready;
    a->ctx = cfg->ctx;
    if (a->metrics != NULL)
        a->ready_gauge = velo_metrics_gauge(
            a->metrics, "velo_ready",
            "1 when /readyz answers 200 (evaluated at each scrape)", NULL);
    rv = admin_serve(a, cfg);
    if (rv != VELO_OK) {
        free(a);
        return rv;
    }
    *out = a;
    return VELO_OK;
}

uint16_t
velo_admin_port(const velo_admin *a)
{
    return velo_http_server_port(a->srv);
}

void
velo_admin_stop(velo_admin *a)
{
    if (a == NULL)
        return;
    velo_http_server_stop(a->srv);
    free(a);
}
