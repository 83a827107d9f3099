/* batch_cfg.c: the option table of velo-batch. */
#include "batch_cfg.h"

#include <stdio.h>

#include "cron.h"

#define CFG(f) offsetof(struct batch_cfg, f)

static const struct velo_opt batch_opts[] = {
    VELO_COMMON_OPTS(struct batch_cfg, common),
    {"topic", "VELO_TOPIC", "velib_data", VELO_OPT_STR, CFG(topic),
     "topic of station snapshots (the input)"},
    {"systems-topic", "VELO_SYSTEMS_TOPIC", "velib_systems", VELO_OPT_STR,
     CFG(systems_topic), "compacted topic of SystemInfo (time zones)"},
    {"out-topic", "VELO_BATCH_OUT_TOPIC", "velib_aggregates", VELO_OPT_STR,
     CFG(out_topic), "topic the hourly and daily rows go to"},
    {"dlq-topic", "VELO_DLQ_TOPIC", "velib_data.dlq", VELO_OPT_STR,
     CFG(dlq_topic), "dead-letter topic for records that cannot be used"},
    {"group", "VELO_BATCH_GROUP", "batch-consumer", VELO_OPT_STR, CFG(group_id),
     "consumer group whose offsets commit with each transaction"},
    {"transactional-id", "VELO_BATCH_TRANSACTIONAL_ID", "velo-batch",
     VELO_OPT_STR, CFG(transactional_id),
     "Kafka transactional id: a new instance fences the previous one"},
    {"heartbeat-s", "VELO_HEARTBEAT_S", "300", VELO_OPT_U32, CFG(heartbeat_s),
     "ingest's heartbeat: a sample's state holds at most this long", .min = 1,
     .max = 86400},
    {"lateness-s", "VELO_BATCH_LATENESS_S", "120", VELO_OPT_U32,
     CFG(lateness_s),
     "a window closes this long after its end (on the input's time)",
     .max = 3600},
    {"horizon-h", "VELO_BATCH_HORIZON_H", "26", VELO_OPT_U32, CFG(horizon_h),
     "late records correct windows up to this far back; samples kept per "
     "station and the replay at start cover it (at least 26)",
     .min = 26, .max = 168},
    {"seek-margin-s", "VELO_BATCH_SEEK_MARGIN_S", "600", VELO_OPT_U32,
     CFG(seek_margin_s),
     "extra read-back at start for records produced after their fetch time",
     .max = 86400},
    {"max-samples", "VELO_BATCH_MAX_SAMPLES", "16384", VELO_OPT_U32,
     CFG(max_samples), "samples kept per station (oldest dropped, counted)",
     .min = 16, .max = 1048576},
    {"txn-max-records", "VELO_BATCH_TXN_MAX_RECORDS", "100000", VELO_OPT_U32,
     CFG(txn_max_records), "input records per transaction at most", .min = 1,
     .max = 1000000},
    {"txn-interval-ms", "VELO_BATCH_TXN_INTERVAL_MS", "1000", VELO_OPT_U32,
     CFG(txn_interval_ms), "a transaction commits at least this often",
     .min = 10, .max = 600000},
    {"txn-timeout-ms", "VELO_BATCH_TXN_TIMEOUT_MS", "60000", VELO_OPT_U32,
     CFG(txn_timeout_ms),
     "transaction.timeout.ms and the bound of each Kafka call", .min = 1000,
     .max = 900000},
    {"max-record-bytes", "VELO_BATCH_MAX_RECORD_BYTES", "1000000", VELO_OPT_U32,
     CFG(max_record_bytes), "larger records are dead letters, never decoded",
     .min = 64, .max = 67108864},
    {"catch-up-partitions", "VELO_BATCH_CATCH_UP_PARTITIONS", "1", VELO_OPT_U32,
     CFG(catch_up_partitions),
     "input partitions read at once while catching up on a backlog (0: "
     "all); each holds its prefetched records in memory",
     .max = 1024},
    {"read-ahead", "VELO_BATCH_READ_AHEAD", "2000", VELO_OPT_U32,
     CFG(read_ahead),
     "input records fetched ahead of processing at most (plus one 64 KiB "
     "fetch); 0: librdkafka's own bound, a whole backlog of small records",
     .max = 10000000},
    {"once", "VELO_BATCH_ONCE", "false", VELO_OPT_BOOL, CFG(once),
     "process everything up to the ends of the partitions at start, emit "
     "every complete window, commit and exit 0 (the CronJob form)"},
    {"schedule", "VELO_BATCH_SCHEDULE", NULL, VELO_OPT_STR, CFG(schedule),
     "cron schedule in UTC (\"0 5 * * *\"): run one --once pass at each "
     "firing and stay up between them; unset: continuous",
     .optional = true},
    {"crash-after-records", "VELO_BATCH_CRASH_AFTER_RECORDS", "0", VELO_OPT_U32,
     CFG(crash_after),
     "tests only: kill the process (SIGKILL) after handling this many "
     "records, inside an open transaction (0: never)"},
};

/* --once and --schedule exclude each other; the schedule must parse. */
static int
batch_cfg_check(const void *p, char *errs, size_t size)
{
    const struct batch_cfg *cfg = p;
    struct batch_cron       c;

    if (cfg->schedule == NULL)
        return 0;
    if (cfg->once) {
        snprintf(errs, size, "--once and --schedule exclude each other");
        return 1;
    }
    if (batch_cron_parse(&c, cfg->schedule) != VELO_OK) {
        snprintf(errs, size,
                 "--schedule: \"%s\" is not a five-field cron schedule",
                 cfg->schedule);
        return 1;
    }
    return 0;
}

const struct velo_cfg_spec batch_cfg_spec = {
    .svc = "batch",
    .summary = "hourly and daily station aggregates from Kafka, exactly once",
    .opts = batch_opts,
    .nopts = sizeof(batch_opts) / sizeof(batch_opts[0]),
    .admin_port_default = "9103",
    .check = batch_cfg_check,
};
