/* velo/cfg.h: one configuration table per service (Redis standardConfig).
 *
 * Each setting is resolved as: built-in default, then its environment
 * variable, then its --flag (--name=value or --name value). The same table
 * generates --help, the Markdown reference (--help-markdown, checked
 * against docs/configuration.md by a test), validation and the startup
 * dump (one config.value event per setting, secrets as "<redacted>").
 *
 * Invalid configuration: every problem is reported at once on stderr and
 * velo_cfg_load returns VELO_EINVAL; main exits VELO_EXIT_CONFIG (78).
 * After loading the struct is immutable and passed down as const.
 *
 *   #define CFG(f) .off = offsetof(struct ingest_cfg, f)
 *   static const struct velo_opt ingest_opts[] = {
 *       VELO_COMMON_OPTS(struct ingest_cfg, common),
 *       {"heartbeat-s", "VELO_HEARTBEAT_S", "300", VELO_OPT_U32,
 *        CFG(heartbeat_s), .help = "...", .min = 1, .max = 86400},
 *   };
 */
#ifndef VELO_CFG_H
#define VELO_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/log.h"

enum velo_opt_type {
    VELO_OPT_STR,   /* const char * (points into argv/environ/default) */
    VELO_OPT_U32,   /* uint32_t, range-checked with .min/.max if max != 0 */
    VELO_OPT_BOOL,  /* bool; a bare --flag means true */
    VELO_OPT_DBL,   /* double */
    VELO_OPT_LEVEL, /* enum velo_log_level */
    VELO_OPT_LIST,  /* struct velo_strlist: repeatable flag; the env var
                       holds items separated by spaces */
};

/* A repeatable setting. Items point into argv/environ/default storage that
 * the loader keeps alive until velo_cfg_fini. */
struct velo_strlist {
    const char **items;
    size_t       len;
};

struct velo_opt {
    const char        *name; /* flag without "--" */
    const char        *env;  /* environment variable, or NULL */
    const char        *def;  /* default; NULL means required */
    enum velo_opt_type type;
    size_t             off; /* offsetof the field in the cfg struct */
    const char        *help;
    uint32_t           min, max; /* U32 range when max != 0 */
    bool               secret;   /* never printed, logged as <redacted> */
    bool               optional; /* NULL default means "unset", not required */
};

/* Settings every service shares (DESIGN §10). Embed as a member. */
struct velo_common_cfg {
    const char         *ready_file;
    uint32_t            admin_port;
    const char         *admin_bind;
    enum velo_log_level log_level;
    const char         *kafka_brokers;
    uint32_t            shutdown_timeout_ms;
    /* Consul (DESIGN §6; docs/operations.md). No address: not used. */
    const char *consul_addr;
    const char *consul_token, *consul_token_file, *consul_cacert;
    const char *consul_check; /* "http" or "ttl" */
    uint32_t    consul_interval_ms, consul_deregister_s;
    const char *consul_advertise;
};

#define VELO_COMMON_OPTS(type, m)                                              \
    {"ready-file",                                                             \
     "VELO_READY_FILE",                                                        \
     NULL,                                                                     \
     VELO_OPT_STR,                                                             \
     offsetof(type, m.ready_file),                                             \
     "write the bound addresses here (atomically) once serving",               \
     .optional = true},                                                        \
        {"admin-port",                                                         \
         "VELO_ADMIN_PORT",                                                    \
         NULL,                                                                 \
         VELO_OPT_U32,                                                         \
         offsetof(type, m.admin_port),                                         \
         "admin HTTP port (/healthz /readyz /metrics); 0 = any free port",     \
         .max = 65535},                                                        \
        {"admin-bind",                                                         \
         "VELO_ADMIN_BIND",                                                    \
         "127.0.0.1",                                                          \
         VELO_OPT_STR,                                                         \
         offsetof(type, m.admin_bind),                                         \
         "address the admin HTTP server binds (0.0.0.0 in containers)"},       \
        {"log-level",                                                          \
         "VELO_LOG_LEVEL",                                                     \
         "info",                                                               \
         VELO_OPT_LEVEL,                                                       \
         offsetof(type, m.log_level),                                          \
         "debug, info, warn, error or off"},                                   \
        {"kafka-brokers",                                                      \
         "VELO_KAFKA_BROKERS",                                                 \
         "127.0.0.1:9092",                                                     \
         VELO_OPT_STR,                                                         \
         offsetof(type, m.kafka_brokers),                                      \
         "Kafka bootstrap servers, host:port[,host:port]"},                    \
        {"shutdown-timeout-ms",                                                \
         "VELO_SHUTDOWN_TIMEOUT_MS",                                           \
         "10000",                                                              \
         VELO_OPT_U32,                                                         \
         offsetof(type, m.shutdown_timeout_ms),                                \
         "the most a graceful shutdown may take",                              \
         .min = 100,                                                           \
         .max = 600000},                                                       \
        VELO_CONSUL_OPTS(type, m)

/* Consul settings, part of VELO_COMMON_OPTS. The CONSUL_* variables are
 * Consul's own, so one environment serves velopipe and the consul CLI. */
#define VELO_CONSUL_OPTS(type, m)                                              \
    {"consul-addr",                                                            \
     "VELO_CONSUL_ADDR",                                                       \
     NULL,                                                                     \
     VELO_OPT_STR,                                                             \
     offsetof(type, m.consul_addr),                                            \
     "Consul agent HTTP API (http[s]://host:port); unset: CONSUL_HTTP_ADDR, "  \
     "else no Consul (static addresses)",                                      \
     .optional = true},                                                        \
        {"consul-token",                                                       \
         "CONSUL_HTTP_TOKEN",                                                  \
         NULL,                                                                 \
         VELO_OPT_STR,                                                         \
         offsetof(type, m.consul_token),                                       \
         "Consul ACL token",                                                   \
         .secret = true,                                                       \
         .optional = true},                                                    \
        {"consul-token-file",                                                  \
         "CONSUL_HTTP_TOKEN_FILE",                                             \
         NULL,                                                                 \
         VELO_OPT_STR,                                                         \
         offsetof(type, m.consul_token_file),                                  \
         "file holding the Consul ACL token (when no token is given)",         \
         .optional = true},                                                    \
        {"consul-cacert",                                                      \
         "CONSUL_CACERT",                                                      \
         NULL,                                                                 \
         VELO_OPT_STR,                                                         \
         offsetof(type, m.consul_cacert),                                      \
         "CA bundle (PEM) to verify an https Consul address",                  \
         .optional = true},                                                    \
        {"consul-check",                                                       \
         "VELO_CONSUL_CHECK",                                                  \
         "http",                                                               \
         VELO_OPT_STR,                                                         \
         offsetof(type, m.consul_check),                                       \
         "http (Consul polls /readyz) or ttl (the service reports it)"},       \
        {"consul-check-interval-ms",                                           \
         "VELO_CONSUL_CHECK_INTERVAL_MS",                                      \
         "2000",                                                               \
         VELO_OPT_U32,                                                         \
         offsetof(type, m.consul_interval_ms),                                 \
         "check interval (ttl: renewal; TTL is 3x); registration re-checked "  \
         "as often",                                                           \
         .min = 100,                                                           \
         .max = 600000},                                                       \
        {"consul-deregister-after-s",                                          \
         "VELO_CONSUL_DEREGISTER_AFTER_S",                                     \
         "60",                                                                 \
         VELO_OPT_U32,                                                         \
         offsetof(type, m.consul_deregister_s),                                \
         "Consul removes an instance critical this long (its minimum: 60)",    \
         .min = 60,                                                            \
         .max = 86400},                                                        \
    {                                                                          \
        "consul-advertise", "VELO_CONSUL_ADVERTISE", NULL, VELO_OPT_STR,       \
            offsetof(type, m.consul_advertise),                                \
            "address registered in Consul; unset: --admin-bind, or the host "  \
            "name when that is a wildcard",                                    \
            .optional = true                                                   \
    }

/* A service's whole configuration description. admin_port has no common
 * default because each service has its own (DESIGN §7): the service sets
 * it with admin_port_default. */
struct velo_cfg_spec {
    const char            *svc;     /* "ingest": program is velo-<svc> */
    const char            *summary; /* one line for --help */
    const struct velo_opt *opts;
    size_t                 nopts;
    const char            *admin_port_default; /* e.g. "9101" */
    /* Cross-field validation after every value is parsed: append problems
     * to errs (one per line) and return their count. May be NULL. */
    int (*check)(const void *cfg, char *errs, size_t errs_size);
    /* After a successful load: fills values no table default can give
     * (velo_cfg_instance_default's hostname:pid). May be NULL. */
    void (*derive)(void *cfg);
};

/* Fills cfg (a zeroed struct of the service's type) from defaults, the
 * environment and argv. Returns VELO_OK, VELO_CFG_HELP (usage printed on
 * stdout for --help, Markdown for --help-markdown) or VELO_EINVAL (every
 * problem printed on stderr). List storage is owned by cfg and released by
 * velo_cfg_fini. */
VELO_MUST_CHECK int velo_cfg_load(const struct velo_cfg_spec *spec, void *cfg,
                                  int argc, char **argv);

/* Logs one config.value event per setting (secrets redacted). */
void velo_cfg_log(const struct velo_cfg_spec *spec, const void *cfg);

/* The default instance name (Health replies, logs): when *name is NULL
 * or empty, writes "hostname:pid" into buf (size bytes; "localhost" when
 * the host name is unknown) and points *name at it. */
void velo_cfg_instance_default(const char **name, char *buf, size_t size);

/* Frees list storage made by velo_cfg_load. */
void velo_cfg_fini(const struct velo_cfg_spec *spec, void *cfg);

#endif
