/* warehouse_cfg.c: the option table of velo-warehouse. */
#include "warehouse_cfg.h"

#include <stdio.h>
#include <string.h>

#include "velo/db.h"

#define CFG(f) offsetof(struct warehouse_cfg, f)

static const struct velo_opt warehouse_opts[] = {
    VELO_COMMON_OPTS(struct warehouse_cfg, common),
    {"db", "VELO_WAREHOUSE_URL", "sqlite://run/warehouse.db", VELO_OPT_STR,
     CFG(db_url),
     "warehouse database: sqlite://PATH (relative) or sqlite:///PATH, "
     "postgresql://USER@HOST:PORT/DB, mssql://USER@HOST:PORT/DB; default "
     "sqlite://run/warehouse.db. The password comes from "
     "VELO_WAREHOUSE_PASSWORD or the file VELO_WAREHOUSE_PASSWORD_FILE, never "
     "the URL",
     .secret = true},
    {"topic", "VELO_AGGREGATES_TOPIC", "velib_aggregates", VELO_OPT_STR,
     CFG(topic), "topic of hourly and daily aggregates (velo-batch's)"},
    {"group", "VELO_WAREHOUSE_GROUP", "warehouse-loader", VELO_OPT_STR,
     CFG(group_id),
     "consumer group; offsets are committed only after the database commit"},
    {"dlq-topic", "VELO_AGGREGATES_DLQ_TOPIC", "velib_aggregates.dlq",
     VELO_OPT_STR, CFG(dlq_topic),
     "dead-letter topic for records that do not decode or that the database "
     "refuses"},
    {"rpc-url", "VELO_WAREHOUSE_RPC_URL", "tcp://127.0.0.1:7711", VELO_OPT_STR,
     CFG(rpc_url), "nng REP listen URL of HistoryService (port 0: any)"},
    {"batch-size", "VELO_WAREHOUSE_BATCH_SIZE", "10000", VELO_OPT_U32,
     CFG(batch_size), "records per database transaction (at most)", .min = 1,
     .max = 20000},
    {"batch-wait-ms", "VELO_WAREHOUSE_BATCH_WAIT_MS", "1000", VELO_OPT_U32,
     CFG(batch_wait_ms),
     "a batch is loaded this long after its first record at the latest",
     .min = 1, .max = 600000},
    {"retry-max-ms", "VELO_WAREHOUSE_RETRY_MAX_MS", "30000", VELO_OPT_U32,
     CFG(retry_max_ms),
     "longest wait between tries while the database is down (jittered "
     "backoff from 200 ms)",
     .min = 200, .max = 3600000},
    {"rpc-workers", "VELO_WAREHOUSE_RPC_WORKERS", "4", VELO_OPT_U32,
     CFG(rpc_workers), "RPC calls served at once", .min = 1, .max = 256},
    {"query-conns", "VELO_WAREHOUSE_QUERY_CONNS", "2", VELO_OPT_U32,
     CFG(query_conns),
     "database connections for history queries (the loader has its own)",
     .min = 1, .max = 64},
    {"max-frame-bytes", "VELO_WAREHOUSE_MAX_FRAME_BYTES", "4194304",
     VELO_OPT_U32, CFG(max_frame_bytes), "largest RPC request or reply",
     .min = 4096, .max = 268435456},
    {"crash-after-rows", "VELO_WAREHOUSE_CRASH_AFTER_ROWS", "0", VELO_OPT_U32,
     CFG(crash_after_rows),
     "tests only: kill the process (SIGKILL) once this many rows were "
     "upserted, inside the open transaction before its commit (0: never)"},
    {"instance", "VELO_WAREHOUSE_INSTANCE", NULL, VELO_OPT_STR, CFG(instance),
     "name in Health replies (default: hostname:pid)", .optional = true},
};

/* The URL is checked at load time, so a typo exits 78 rather than
 * retrying forever; the reason never quotes the URL (it is secret). */
static int
warehouse_cfg_check(const void *p, char *errs, size_t size)
{
    const struct warehouse_cfg *cfg = p;
    struct velo_db_url          u;
    char                        why[128];

    if (velo_db_url_parse(&u, cfg->db_url, why, sizeof(why)) != VELO_OK) {
        snprintf(errs, size, "--db: %s", why);
        return 1;
    }
    return 0;
}

/* The default instance name: hostname:pid. */
static void
warehouse_cfg_derive(void *p)
{
    struct warehouse_cfg *cfg = p;

    velo_cfg_instance_default(&cfg->instance, cfg->instance_buf,
                              sizeof(cfg->instance_buf));
}

const struct velo_cfg_spec warehouse_cfg_spec = {
    .svc = "warehouse",
    .summary = "loads hourly and daily aggregates from Kafka into the "
               "warehouse database and serves them over RPC (HistoryService)",
    .opts = warehouse_opts,
    .nopts = sizeof(warehouse_opts) / sizeof(warehouse_opts[0]),
    .admin_port_default = "9104",
    .check = warehouse_cfg_check,
    .derive = warehouse_cfg_derive,
};
