/* gw_cfg.h: velo-gateway's configuration (one table, DESIGN §10). */
#ifndef GW_CFG_H
#define GW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/cfg.h"

struct gw_cfg {
    struct velo_common_cfg common;
    uint32_t               port; /* public HTTP; 0: any free port */
    const char            *bind;
    const char            *assets;     /* built dashboard; NULL: API only */
    const char            *stream_rpc; /* comma-separated, failover order */
    const char            *stream_pub;
    const char            *warehouse_rpc; /* comma-separated */
    uint32_t               rpc_timeout_ms;
    const char            *public_url; /* NULL: from the request's Host */
    const char            *tile_url;   /* NULL: no tiles (offline map) */
    const char            *tile_attribution;
    const char            *cors_origin; /* "" : no CORS */
    double                 rate_per_s;
    uint32_t               rate_burst;
    uint32_t               rate_clients;
    uint32_t               threads;
    uint32_t               max_conns;
    uint32_t               max_conns_per_ip; /* 0: unlimited */
    uint32_t               request_timeout_ms;
    uint32_t               max_url_bytes;
    uint32_t               list_max_age_s;
    uint32_t               list_cache_ms;
    uint32_t               sse_ring;
    uint32_t               sse_heartbeat_ms;
    uint32_t               sse_queue_bytes;
    uint32_t               sse_max_clients;
    uint32_t               gbfs_ttl_s;
    const char            *gbfs_contact_email;
    const char            *gbfs_opening_hours;
    uint32_t               gbfs_ebike_range_m;
    bool                   access_log;
};

extern const struct velo_cfg_spec gw_cfg_spec;

#endif
