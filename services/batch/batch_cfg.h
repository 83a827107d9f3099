/* batch_cfg.h: velo-batch's configuration (one table, DESIGN §10). */
#ifndef BATCH_CFG_H
#define BATCH_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/cfg.h"

struct batch_cfg {
    struct velo_common_cfg common;
    const char            *topic;
    const char            *systems_topic;
    const char            *out_topic;
    const char            *dlq_topic;
    const char            *group_id;
    const char            *transactional_id;
    uint32_t               heartbeat_s;
    uint32_t               lateness_s;
    uint32_t               horizon_h;
    uint32_t               seek_margin_s;
    uint32_t               max_samples;
    uint32_t               txn_max_records;
    uint32_t               txn_interval_ms;
    uint32_t               txn_timeout_ms;
    uint32_t               max_record_bytes;
    uint32_t               catch_up_partitions;
    uint32_t               read_ahead;
    bool                   once;
    const char            *schedule;    /* cron, UTC; NULL: continuous */
    uint32_t               crash_after; /* tests: SIGKILL after N records */
};

extern const struct velo_cfg_spec batch_cfg_spec;

#endif
