/* warehouse_cfg.h: velo-warehouse's configuration (one table, DESIGN
 * §10). The database URL is marked secret in the table (the startup dump
 * shows <redacted>): it is logged only through velo_db_url_redact. */
#ifndef WAREHOUSE_CFG_H
#define WAREHOUSE_CFG_H

#include <stdint.h>

#include "velo/cfg.h"

struct warehouse_cfg {
    struct velo_common_cfg common;
    const char            *db_url;
    const char            *topic;
    const char            *group_id;
    const char            *dlq_topic;
    const char            *rpc_url; /* listen URL, port 0 ok */
    uint32_t               batch_size;
    uint32_t               batch_wait_ms;
    uint32_t               retry_max_ms;
    uint32_t               rpc_workers;
    uint32_t               query_conns;
    uint32_t               crash_after_rows; /* tests: SIGKILL mid-load */
    uint32_t               max_frame_bytes;
    const char            *instance; /* NULL in the table: hostname:pid */
    char                   instance_buf[128];
};

/* Loaded by the service host (velo_cfg_load, which also fills in the
 * default instance name through .derive), released with velo_cfg_fini. */
extern const struct velo_cfg_spec warehouse_cfg_spec;

#endif
