/* stream_cfg.c: the option table of velo-stream. */
#include "stream_cfg.h"

#include <stdio.h>
#include <string.h>

#define CFG(f) offsetof(struct stream_cfg, f)

static const struct velo_opt stream_opts[] = {
    VELO_COMMON_OPTS(struct stream_cfg, common),
    {"topic", "VELO_TOPIC", "velib_data", VELO_OPT_STR, CFG(topic),
     "topic of station snapshots"},
    {"dlq-topic", "VELO_DLQ_TOPIC", "velib_data.dlq", VELO_OPT_STR,
     CFG(dlq_topic), "dead-letter topic for records that do not decode"},
    {"systems-topic", "VELO_SYSTEMS_TOPIC", "velib_systems", VELO_OPT_STR,
     CFG(systems_topic),
     "compacted topic of SystemInfo (one per system), returned in "
     "ListSystems"},
    {"group", "VELO_STREAM_GROUP", "stream-consumer", VELO_OPT_STR,
     CFG(group_id),
     "consumer group the applied offsets are committed to (lag visibility; "
     "every replica still reads every partition)"},
    {"rpc-url", "VELO_STREAM_RPC_URL", "tcp://127.0.0.1:7701", VELO_OPT_STR,
     CFG(rpc_url), "nng REP listen URL of StationService (port 0: any)"},
    {"pub-url", "VELO_STREAM_PUB_URL", "tcp://127.0.0.1:7702", VELO_OPT_STR,
     CFG(pub_url), "nng PUB listen URL of station changes (port 0: any)"},
    {"heartbeat-s", "VELO_HEARTBEAT_S", "300", VELO_OPT_U32, CFG(heartbeat_s),
     "ingest's heartbeat: at start the state is rebuilt from this far back",
     .min = 1, .max = 86400},
    {"rebuild-margin-s", "VELO_STREAM_REBUILD_MARGIN_S", "60", VELO_OPT_U32,
     CFG(rebuild_margin_s), "read this much further back than the heartbeat",
     .max = 86400},
    {"stale-s", "VELO_STREAM_STALE_S", "900", VELO_OPT_U32, CFG(stale_s),
     "a station not reported for longer is stale", .min = 1, .max = 604800},
    {"stuck-s", "VELO_STREAM_STUCK_S", "21600", VELO_OPT_U32, CFG(stuck_s),
     "an open station whose bikes did not change for longer is stuck", .min = 1,
     .max = 2592000},
    {"rpc-workers", "VELO_STREAM_RPC_WORKERS", "8", VELO_OPT_U32,
     CFG(rpc_workers), "RPC calls served at once", .min = 1, .max = 256},
    {"max-ready-lag", "VELO_STREAM_MAX_READY_LAG", "10000", VELO_OPT_U32,
     CFG(max_ready_lag), "/readyz fails at this many records of lag", .min = 1,
     .max = 2000000000},
    {"max-record-bytes", "VELO_STREAM_MAX_RECORD_BYTES", "1000000",
     VELO_OPT_U32, CFG(max_record_bytes),
     "larger records are dead letters, never decoded", .min = 64,
     .max = 67108864},
    {"max-frame-bytes", "VELO_STREAM_MAX_FRAME_BYTES", "4194304", VELO_OPT_U32,
     CFG(max_frame_bytes), "largest RPC request or reply", .min = 4096,
     .max = 268435456},
    {"instance", "VELO_STREAM_INSTANCE", NULL, VELO_OPT_STR, CFG(instance),
     "name in Health replies (default: hostname:pid)", .optional = true},
};

/* Two listeners cannot share a fixed address. */
static int
stream_cfg_check(const void *p, char *errs, size_t size)
{
    const struct stream_cfg *cfg = p;
    size_t                   n = strlen(cfg->rpc_url);

    if (strcmp(cfg->rpc_url, cfg->pub_url) == 0 &&
        !(n >= 2 && strcmp(cfg->rpc_url + n - 2, ":0") == 0)) {
        snprintf(errs, size, "--rpc-url and --pub-url are both %s",
                 cfg->rpc_url);
        return 1;
    }
    return 0;
}

/* The default instance name: hostname:pid. */
static void
stream_cfg_derive(void *p)
{
    struct stream_cfg *cfg = p;

    velo_cfg_instance_default(&cfg->instance, cfg->instance_buf,
                              sizeof(cfg->instance_buf));
}

const struct velo_cfg_spec stream_cfg_spec = {
    .svc = "stream",
    .summary = "keeps the live state of every station from Kafka and serves "
               "it over RPC and PUB",
    .opts = stream_opts,
    .nopts = sizeof(stream_opts) / sizeof(stream_opts[0]),
    .admin_port_default = "9102",
    .check = stream_cfg_check,
    .derive = stream_cfg_derive,
};
