/* velo-devbroker: the embedded Kafka stand-in for `make run`.
 *
 * librdkafka's in-memory mock cluster in one small process, with the
 * pipeline's topics created at start and a fixed bootstrap port. For a
 * developer's machine only: no durability, no real transactions, see
 * README.md. Exit 0 on SIGTERM or SIGINT. */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "devbroker.h"
#include "velo/cfg.h"
#include "velo/log.h"
#include "velo/ready.h"
#include "velo/sig.h"

struct devbroker_cfg {
    const char         *ready_file;
    uint32_t            port;
    const char         *topics;
    enum velo_log_level log_level;
};

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
     .def = "velib_data:6,velib_data.dlq:1,velib_aggregates:6",
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

static const struct velo_cfg_spec devbroker_spec = {
    .svc = "devbroker",
    .summary = "in-memory Kafka stand-in (librdkafka mock cluster) for "
               "local runs; never for production",
    .opts = devbroker_opts,
    .nopts = sizeof(devbroker_opts) / sizeof(devbroker_opts[0]),
    .check = devbroker_cfg_check,
};

/* Serves until SIGTERM/SIGINT. */
static int
devbroker_run(const struct devbroker_cfg *cfg)
{
    struct devbroker_opts o = {.port = (uint16_t)cfg->port,
                               .topics = cfg->topics};
    devbroker            *db = NULL;
    const char           *addr;
    int                   rv, sig;

    rv = devbroker_new(&db, &o);
    if (rv != VELO_OK)
        return rv;
    addr = devbroker_addr(db);
    rv = velo_ready_write(cfg->ready_file, &addr, 1);
    if (rv == VELO_OK) {
        velo_info("svc.ready", VELO_S("bootstrap", addr));
        sig = velo_sig_wait(-1);
        velo_info("svc.stopping", VELO_I("signal", sig));
    } else {
        velo_error("svc.ready_file_fail", VELO_S("path", cfg->ready_file));
    }
    devbroker_free(db);
    return rv;
}

int
main(int argc, char **argv)
{
    struct devbroker_cfg cfg = {0};
    int                  rv;

    /* First, so the mock's threads inherit the blocked INT/TERM. */
    if (velo_sig_block() != VELO_OK)
        return EXIT_FAILURE;
    rv = velo_cfg_load(&devbroker_spec, &cfg, argc, argv);
    if (rv != VELO_OK)
        return rv == VELO_CFG_HELP ? EXIT_SUCCESS : VELO_EXIT_CONFIG;
    velo_log_init("devbroker", cfg.log_level, STDOUT_FILENO);
    velo_cfg_log(&devbroker_spec, &cfg);
    velo_warn("devbroker.in_memory",
              VELO_S("note", "librdkafka mock cluster: data lives in memory "
                             "only; for local use, never production"));
    rv = devbroker_run(&cfg);
    velo_info("svc.stopped", VELO_S("result", velo_strerror(rv)));
    velo_cfg_fini(&devbroker_spec, &cfg);
    return rv == VELO_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
