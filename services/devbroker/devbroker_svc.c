/* devbroker_svc.c: velo-devbroker's option table and service-host hooks.
 *
 * librdkafka's in-memory mock cluster in one small process, with the
 * pipeline's topics created at start and a fixed bootstrap port. For a
 * developer's machine only: no durability, no real transactions, see
 * README.md. */
#include <stddef.h>

#include "devbroker.h"
#include "devbroker_svc.h"

#define CFG(f) .off = offsetof(struct devbroker_cfg, f)
static const struct velo_opt devbroker_opts[] = {
    {.name = "port",
     .env = "VELO_DEVBROKER_PORT",
     .def = "9092",
     .type = VELO_OPT_U32,
     CFG(port),
     .help = "bootstrap port on 127.0.0.1 (relayed to the mock); 0 = the "
             "mock's own ephemeral port",
     .max = 65535},
    {.name = "ready-file",
     .env = "VELO_READY_FILE",
     .type = VELO_OPT_STR,
     CFG(ready_file),
     .help = "write the bootstrap address here (atomically) once serving",
     .optional = true},
    {.name = "topics",
     .env = "VELO_DEVBROKER_TOPICS",
     .def = "velib_data:6,velib_data.dlq:1,velib_systems:1,velib_aggregates:6",
     .type = VELO_OPT_STR,
     CFG(topics),
     .help = "topics created at start, NAME:PARTITIONS[,...]"},
    {.name = "log-level",
     .env = "VELO_LOG_LEVEL",
     .def = "info",
     .type = VELO_OPT_LEVEL,
     CFG(log_level),
     .help = "debug, info, warn, error or off"},
};

static int
devbroker_cfg_check(const void *cfg, char *errs, size_t errs_size)
{
    const struct devbroker_cfg *c = cfg;

    return devbroker_topics_check(c->topics, errs, errs_size);
}

const struct velo_cfg_spec devbroker_cfg_spec = {
    .svc = "devbroker",
    .summary = "in-memory Kafka stand-in (librdkafka mock cluster) for "
               "local runs; never for production",
    .opts = devbroker_opts,
    .nopts = sizeof(devbroker_opts) / sizeof(devbroker_opts[0]),
    .check = devbroker_cfg_check,
};

static int
svc_create(void **out, const void *cfgp, velo_metrics *m)
{
    const struct devbroker_cfg *cfg = cfgp;
    struct devbroker_opts       o = {.port = (uint16_t)cfg->port,
                                     .topics = cfg->topics};
    devbroker                  *db = NULL;
    int                         rv;

    (void)m;
    velo_warn("devbroker.in_memory",
              VELO_S("note", "librdkafka mock cluster: data lives in memory "
                             "only; for local use, never production"));
    rv = devbroker_new(&db, &o);
    if (rv == VELO_OK)
        *out = db;
    return rv;
}

/* The mock cluster serves from its own threads once created. */
static int
svc_start(void *ctx)
{
    (void)ctx;
    return VELO_OK;
}

static size_t
svc_ready_lines(void *ctx, const char **lines, size_t max)
{
    if (max < 1)
        return 0;
    lines[0] = devbroker_addr(ctx);
    return 1;
}

static int
svc_stop(void *ctx, uint32_t timeout_ms)
{
    (void)ctx;
    (void)timeout_ms;
    return VELO_OK;
}

static void
svc_destroy(void *ctx)
{
    devbroker_free(ctx);
}

const struct velo_svc_ops devbroker_svc_ops = {
    .create = svc_create,
    .start = svc_start,
    .ready_lines = svc_ready_lines,
    .stop = svc_stop,
    .destroy = svc_destroy,
};
