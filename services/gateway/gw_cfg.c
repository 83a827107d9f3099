/* gw_cfg.c: the option table of velo-gateway. */
#include "gw_cfg.h"

#include <stdio.h>
#include <string.h>

#define CFG(f) offsetof(struct gw_cfg, f)

static const struct velo_opt gw_opts[] = {
    VELO_COMMON_OPTS(struct gw_cfg, common),
    {"port", "VELO_GATEWAY_PORT", "8080", VELO_OPT_U32, CFG(port),
     "public HTTP port (REST, SSE, GBFS, dashboard); 0 = any free port",
     .max = 65535},
    {"bind", "VELO_GATEWAY_BIND", "127.0.0.1", VELO_OPT_STR, CFG(bind),
     "address the public HTTP server binds (0.0.0.0 in containers)"},
    {"assets", "VELO_GATEWAY_ASSETS", NULL, VELO_OPT_STR, CFG(assets),
     "directory of the built dashboard (scripts/build-web); unset: API only",
     .optional = true},
    {"stream-rpc", "VELO_STREAM_RPC", "tcp://127.0.0.1:7701", VELO_OPT_STR,
     CFG(stream_rpc),
     "velo-stream StationService address(es), comma-separated: calls fail "
     "over between them"},
    {"stream-pub", "VELO_STREAM_PUB", "tcp://127.0.0.1:7702", VELO_OPT_STR,
     CFG(stream_pub), "velo-stream PUB address the live events come from"},
    {"warehouse-rpc", "VELO_WAREHOUSE_RPC", "tcp://127.0.0.1:7711",
     VELO_OPT_STR, CFG(warehouse_rpc),
     "velo-warehouse HistoryService address(es), comma-separated"},
    {"rpc-timeout-ms", "VELO_GATEWAY_RPC_TIMEOUT_MS", "2000", VELO_OPT_U32,
     CFG(rpc_timeout_ms), "the most one upstream call may take, all tries",
     .min = 50, .max = 60000},
    {"public-url", "VELO_GATEWAY_PUBLIC_URL", NULL, VELO_OPT_STR,
     CFG(public_url),
     "base URL clients reach the gateway at (GBFS feed links); unset: "
     "http:// + the request's Host",
     .optional = true},
    {"tile-url", "VELO_GATEWAY_TILE_URL", NULL, VELO_OPT_STR, CFG(tile_url),
     "map tile URL template for the dashboard ({z}/{x}/{y}); unset: no "
     "tiles",
     .optional = true},
    {"tile-attribution", "VELO_GATEWAY_TILE_ATTRIBUTION",
     "\xc2\xa9 OpenStreetMap contributors", VELO_OPT_STR, CFG(tile_attribution),
     "attribution shown with the tiles"},
    {"cors-origin", "VELO_GATEWAY_CORS_ORIGIN", "*", VELO_OPT_STR,
     CFG(cors_origin),
     "Access-Control-Allow-Origin for GET: *, one origin, or empty for none"},
    {"rate-limit", "VELO_GATEWAY_RATE_LIMIT", "20", VELO_OPT_DBL,
     CFG(rate_per_s), "requests per second per client address (token bucket)"},
    {"rate-burst", "VELO_GATEWAY_RATE_BURST", "60", VELO_OPT_U32,
     CFG(rate_burst), "bucket size: requests a client may make at once",
     .min = 1, .max = 1000000},
    {"rate-clients", "VELO_GATEWAY_RATE_CLIENTS", "16384", VELO_OPT_U32,
     CFG(rate_clients), "client addresses the rate limiter remembers", .min = 8,
     .max = 1048576},
    {"threads", "VELO_GATEWAY_THREADS", "4", VELO_OPT_U32, CFG(threads),
     "HTTP worker threads", .min = 1, .max = 64},
    {"max-conns", "VELO_GATEWAY_MAX_CONNS", "4096", VELO_OPT_U32,
     CFG(max_conns), "open connections in total (SSE clients included)",
     .min = 1, .max = 1000000},
    {"max-conns-per-ip", "VELO_GATEWAY_MAX_CONNS_PER_IP", "0", VELO_OPT_U32,
     CFG(max_conns_per_ip),
     "open connections per client address; 0 = no limit (behind a load "
     "balancer)",
     .max = 1000000},
    {"request-timeout-ms", "VELO_GATEWAY_REQUEST_TIMEOUT_MS", "10000",
     VELO_OPT_U32, CFG(request_timeout_ms),
     "a request head must arrive within this", .min = 100, .max = 600000},
    {"max-url-bytes", "VELO_GATEWAY_MAX_URL_BYTES", "2048", VELO_OPT_U32,
     CFG(max_url_bytes), "longer request targets get 414", .min = 256,
     .max = 65536},
    {"list-max-age-s", "VELO_GATEWAY_LIST_MAX_AGE_S", "5", VELO_OPT_U32,
     CFG(list_max_age_s),
     "Cache-Control max-age of live answers (stations, systems)", .max = 3600},
    {"list-cache-ms", "VELO_GATEWAY_LIST_CACHE_MS", "1000", VELO_OPT_U32,
     CFG(list_cache_ms),
     "serve a rendered station list again for this long while no change "
     "of its system arrived; 0 = off",
     .max = 60000},
    {"sse-ring", "VELO_GATEWAY_SSE_RING", "4096", VELO_OPT_U32, CFG(sse_ring),
     "events kept per system for Last-Event-ID resume", .min = 16,
     .max = 1048576},
    {"sse-heartbeat-ms", "VELO_GATEWAY_SSE_HEARTBEAT_MS", "15000", VELO_OPT_U32,
     CFG(sse_heartbeat_ms), "comment line on idle event streams", .min = 100,
     .max = 600000},
    {"sse-queue-bytes", "VELO_GATEWAY_SSE_QUEUE_BYTES", "8388608", VELO_OPT_U32,
     CFG(sse_queue_bytes),
     "unsent bytes per event stream before a slow client is dropped (holds "
     "a full snapshot)",
     .min = 65536, .max = 268435456},
    {"sse-max-clients", "VELO_GATEWAY_SSE_MAX_CLIENTS", "2000", VELO_OPT_U32,
     CFG(sse_max_clients), "event streams open at once; more get 503", .min = 1,
     .max = 1000000},
    {"gbfs-ttl-s", "VELO_GATEWAY_GBFS_TTL_S", "60", VELO_OPT_U32,
     CFG(gbfs_ttl_s),
     "ttl of GBFS station_status (other feeds: 10 times it, at most 1 h)",
     .max = 86400},
    {"gbfs-contact-email", "VELO_GATEWAY_GBFS_CONTACT_EMAIL",
     "feeds@velopipe.invalid", VELO_OPT_STR, CFG(gbfs_contact_email),
     "feed_contact_email of every system (GBFS 3.0 requires one: set yours)"},
    {"gbfs-opening-hours", "VELO_GATEWAY_GBFS_OPENING_HOURS", "24/7",
     VELO_OPT_STR, CFG(gbfs_opening_hours),
     "OSM opening_hours of every system (GBFS 3.0 requires it)"},
    {"gbfs-ebike-range-m", "VELO_GATEWAY_GBFS_EBIKE_RANGE_M", "0", VELO_OPT_U32,
     CFG(gbfs_ebike_range_m),
     "max_range_meters of e-bikes; 0 = unknown: no vehicle_types feed",
     .max = 1000000},
    {"access-log", "VELO_GATEWAY_ACCESS_LOG", "true", VELO_OPT_BOOL,
     CFG(access_log), "one http.access line per request"},
};

/* The public and admin servers cannot share a fixed port. */
static int
gw_cfg_check(const void *p, char *errs, size_t size)
{
    const struct gw_cfg *cfg = p;

    if (cfg->port != 0 && cfg->port == cfg->common.admin_port) {
        snprintf(errs, size, "--port and --admin-port are both %u", cfg->port);
        return 1;
    }
    if (!(cfg->rate_per_s > 0)) {
        snprintf(errs, size, "--rate-limit must be above 0");
        return 1;
    }
    return 0;
}

const struct velo_cfg_spec gw_cfg_spec = {
    .svc = "gateway",
    .summary = "the public HTTP face of velopipe: REST, Server-Sent Events, "
               "GBFS output and the dashboard",
    .opts = gw_opts,
    .nopts = sizeof(gw_opts) / sizeof(gw_opts[0]),
    .admin_port_default = "9105",
    .check = gw_cfg_check,
};
