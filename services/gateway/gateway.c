/* gateway.c: the velo-gateway object and its route table (gateway.h). */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/svc.h"
#include "velo/v1/history.pb-c.h"
#include "velo/v1/stream.pb-c.h"

/* Order matters: the first route whose path matches decides (and gives
 * 405 + Allow for other methods); "/api/" catches unknown API paths as
 * JSON 404s before the dashboard's "/" prefix. */
static const struct velo_http_route route_tmpl[] = {
    {"GET", "/api/v1/systems", false, gw_h_systems, NULL},
    {"GET", "/api/v1/stations", false, gw_h_stations, NULL},
    {"GET", "/api/v1/stations/", true, gw_h_station, NULL},
    {"GET", "/api/v1/top", false, gw_h_top, NULL},
    {"GET", "/api/v1/events", false, gw_h_events, NULL},
    {"GET", "/api/v1/config", false, gw_h_config, NULL},
    {"GET", "/api/v1/openapi.json", false, gw_h_openapi, NULL},
    {"GET", "/api/", true, gw_h_api_unknown, NULL},
    {"GET", "/gbfs/", true, gw_h_gbfs, NULL},
    {"GET", "/", true, gw_h_assets, NULL},
};
#define NROUTES (sizeof(route_tmpl) / sizeof(route_tmpl[0]))

void
gw_h_events(void *ctx, const struct velo_http_req *req,
            struct velo_http_resp *resp)
{
    struct gateway   *gw = ctx;
    const char       *sys = velo_http_query(req, "system");
    velo_http_stream *st = NULL;
    struct gw_perr    e;
    int               rv;

    if (!gw_admit(gw, req, resp))
        return;
    if (gw_params_system(sys, "system", &e) != VELO_OK) {
        gw_error_param(resp, &e);
        return;
    }
    if (gw_events_clients(gw->events) >= gw->cfg->sse_max_clients) {
        gw_error(resp, 503, "unavailable", "too many event streams open");
        return;
    }
    if (velo_http_stream_open(resp, &st) != VELO_OK) {
        gw_error(resp, 500, "internal", "out of memory");
        return;
    }
    rv = gw_events_attach(gw->events, sys,
                          velo_http_header(req, "Last-Event-ID"), st);
    if (rv != VELO_OK) {
        velo_http_stream_close(st);
        gw_error(resp, 503, "unavailable", "too many event streams open");
    }
}

/* With Consul configured: watches of velo-stream and velo-warehouse whose
 * cached lists the upstreams' clients follow (the static addresses serve
 * until Consul names an instance). */
static int
gw_discover(gateway *gw, struct velo_rpc_resolver *rs,
            struct velo_rpc_resolver *rw)
{
    int rv;

    rv = velo_svc_consul_new(&gw->consul, &gw->cfg->common);
    if (rv == VELO_ENOTFOUND)
        return VELO_OK;
    if (rv == VELO_OK)
        rv = velo_consul_watch_start(&gw->w_stream, gw->consul, "velo-stream",
                                     0, gw->m);
    if (rv == VELO_OK)
        rv = velo_consul_watch_start(&gw->w_warehouse, gw->consul,
                                     "velo-warehouse", 0, gw->m);
    if (rv != VELO_OK)
        return rv;
    *rs = (struct velo_rpc_resolver){velo_consul_watch_refresh, gw->w_stream};
    *rw =
        (struct velo_rpc_resolver){velo_consul_watch_refresh, gw->w_warehouse};
    return VELO_OK;
}

/* The PUB URLs of the velo-stream instances Consul names (gw_pubs_fn). */
static size_t
gw_pubs(void *ctx, char (*urls)[VELO_CONSUL_URL_MAX], size_t max)
{
    return velo_consul_watch_pubs(ctx, urls, max);
}

static int
gw_make(gateway *gw)
{
    const struct gw_cfg     *cfg = gw->cfg;
    const char              *pub[8];
    struct velo_rpc_resolver rs = {0}, rw = {0};
    int                      rv;

    rv = gw_discover(gw, &rs, &rw);
    if (rv == VELO_OK)
        rv = gw_upstream_new_discovered(&gw->stream, "stream", cfg->stream_rpc,
                                        cfg->threads + 2, cfg->rpc_timeout_ms,
                                        &velo__v1__station_service__descriptor,
                                        gw->m, rs.refresh != NULL ? &rs : NULL);
    if (rv == VELO_OK)
        rv = gw_upstream_new_discovered(
            &gw->warehouse, "warehouse", cfg->warehouse_rpc, cfg->threads,
            cfg->rpc_timeout_ms, &velo__v1__history_service__descriptor, gw->m,
            rw.refresh != NULL ? &rw : NULL);
    if (rv == VELO_OK)
        rv = velo_ratelimit_new(
            &gw->rl, &(struct velo_ratelimit_cfg){
                         cfg->rate_per_s, cfg->rate_burst, cfg->rate_clients});
    if (rv == VELO_OK && cfg->list_cache_ms > 0)
        rv = gw_cache_new(&gw->lists, 16, cfg->list_cache_ms, 8u << 20);
    /* One PUB address: two replicas would deliver every change twice. A
     * list (as for --stream-rpc) uses its first item; with Consul, the
     * subscriber follows the instances it names (events.h). */
    if (rv == VELO_OK && gw_split_urls(cfg->stream_pub, gw->pub_buf,
                                       sizeof(gw->pub_buf), pub, 8) == 0)
        rv = VELO_EINVAL;
    if (rv == VELO_OK)
        rv = gw_events_new(&gw->events,
                           &(struct gw_events_cfg){
                               .pub_url = pub[0],
                               .pubs = gw->w_stream != NULL ? gw_pubs : NULL,
                               .pubs_ctx = gw->w_stream,
                               .ring = cfg->sse_ring,
                               .max_clients = cfg->sse_max_clients,
                               .run_id = velo_now_ms(),
                               .snapshot = gw_snapshot_json,
                               .snapshot_ctx = gw,
                               .metrics = gw->m});
    return rv;
}

int
gateway_new(gateway **out, const struct gw_cfg *cfg, velo_metrics *m)
{
    gateway *gw = calloc(1, sizeof(*gw));
    int      rv;

    if (gw == NULL)
        return VELO_ENOMEM;
    gw->cfg = cfg;
    gw->m = m;
    gw->rate_limited = velo_metrics_counter(
        m, "velo_gateway_rate_limited_total",
        "requests refused with 429 by the per-client rate limit", "");
    rv = gw_make(gw);
    if (rv != VELO_OK) {
        velo_error("gateway.config", VELO_S("cause", velo_strerror(rv)));
        gateway_free(gw);
        return rv;
    }
    *out = gw;
    return VELO_OK;
}

int
gateway_start(gateway *gw)
{
    const struct gw_cfg   *cfg = gw->cfg;
    struct velo_http_route routes[NROUTES];
    size_t                 i;
    int                    rv;

    for (i = 0; i < NROUTES; i++) {
        routes[i] = route_tmpl[i];
        routes[i].ctx = gw;
    }
    rv = velo_http_server_start(
        &gw->http,
        &(struct velo_http_server_cfg){
            .bind = cfg->bind,
            .port = (uint16_t)cfg->port,
            .routes = routes,
            .nroutes = NROUTES,
            .threads = cfg->threads,
            .name = "gateway",
            .max_conns = cfg->max_conns,
            .max_conns_per_ip = cfg->max_conns_per_ip == 0
                                    ? VELO_HTTP_UNLIMITED
                                    : cfg->max_conns_per_ip,
            .request_timeout_ms = cfg->request_timeout_ms,
            .max_url_bytes = cfg->max_url_bytes,
            .stream_queue_bytes = cfg->sse_queue_bytes,
            .stream_heartbeat_ms = cfg->sse_heartbeat_ms,
            .cors_origin =
                cfg->cors_origin[0] != '\0' ? cfg->cors_origin : NULL,
            .metrics = gw->m,
            .access_log = cfg->access_log});
    if (rv != VELO_OK)
        return rv;
    snprintf(gw->addr, sizeof(gw->addr), "%s:%u", cfg->bind,
             velo_http_server_port(gw->http));
    return gw_events_start(gw->events);
}

int
gateway_stop(gateway *gw)
{
    /* Streams first: the server's stop ends them, then the hub lets go. */
    velo_http_server_stop(gw->http);
    gw->http = NULL;
    gw_events_stop(gw->events);
    return VELO_OK;
}

void
gateway_free(gateway *gw)
{
    if (gw == NULL)
        return;
    velo_http_server_stop(gw->http);
    gw_events_free(gw->events);
    velo_ratelimit_free(gw->rl);
    gw_cache_free(gw->lists);
    gw_upstream_free(gw->stream);
    gw_upstream_free(gw->warehouse);
    velo_consul_watch_stop(gw->w_stream);
    velo_consul_watch_stop(gw->w_warehouse);
    velo_consul_free(gw->consul);
    free(gw);
}

const char *
gateway_addr(const gateway *gw)
{
    return gw->addr;
}
