/* stream_cfg.h: velo-stream's configuration (one table, DESIGN §10). */
#ifndef STREAM_CFG_H
#define STREAM_CFG_H

#include <stdint.h>

#include "velo/cfg.h"

struct stream_cfg {
    struct velo_common_cfg common;
    const char            *topic;
    const char            *dlq_topic;
    const char            *systems_topic;
    const char            *group_id;
    const char            *rpc_url; /* listen URL, port 0 ok */
    const char            *pub_url;
    uint32_t               heartbeat_s;      /* ingest's: rebuild window */
    uint32_t               rebuild_margin_s; /* read back this much more */
    uint32_t               stale_s;
    uint32_t               stuck_s;
    uint32_t               rpc_workers;
    uint32_t               max_ready_lag;
    uint32_t               max_record_bytes;
    uint32_t               max_frame_bytes;
    const char            *instance; /* NULL in the table: hostname:pid */
    char                   instance_buf[128];
};

/* Loaded by the service host (velo_cfg_load, which also fills in the
 * default instance name through .derive), released with velo_cfg_fini. */
extern const struct velo_cfg_spec stream_cfg_spec;

#endif
