/* velo/svc.h: the common service host (every velo-* binary's main()).
 *
 * A service is a library plus a table: its main.c fills a velo_svc_def and
 * calls velo_svc_main(). The host does, in this fixed order:
 *   1. block SIGINT/SIGTERM (before any library thread exists);
 *   2. load the option table (defaults < env < flags; --help; exit 78 on
 *      invalid configuration, every problem at once);
 *   3. start the JSON log, log the configuration (secrets redacted), run
 *      the service's global_init (e.g. curl_global_init);
 *   4. create the metrics registry (with velo_build_info), create the
 *      service, start the admin server (/healthz /readyz /metrics) unless
 *      the service has none, start the service's threads;
 *   5. write the ready file: the admin address first (or the service's
 *      first line when it has no admin port), then the service's lines
 *      (VELO_SVC_READY_SERVICE_FIRST: the service's lines, then admin);
 *      then, when Consul is configured (--consul-addr / VELO_CONSUL_ADDR /
 *      CONSUL_HTTP_ADDR), register velo-<svc> there and keep it
 *      registered on a background thread (velo/consul.h; never blocks);
 *   6. wait for SIGINT/SIGTERM or for ops->done(); a second signal during
 *      the stop forces exit (status 1, "svc.forced");
 *   7. deregister from Consul first, so that no client is sent to an
 *      instance that is stopping; then stop the service (intake first,
 *      then drain and flush, within shutdown_timeout_ms), stop the admin
 *      server, free everything.
 * /readyz adds the Consul state as detail ("ready: consul: registered");
 * Consul being down never makes a service unready.
 * Exit status: 0 after a clean stop (or the status done() gives), 78 for
 * configuration errors, 1 when creating, starting or stopping failed.
 *
 *   static const struct velo_svc_ops ops = {
 *       .create = stream_svc_create, .start = stream_svc_start,
 *       .ready = stream_ready, .ready_lines = stream_ready_lines,
 *       .stop = stream_svc_stop, .destroy = stream_svc_destroy};
 *   int main(int argc, char **argv) {
 *       return velo_svc_main(&(struct velo_svc_def){
 *           .spec = &stream_cfg_spec, .cfg_size = sizeof(struct stream_cfg),
 *           .common_off = offsetof(struct stream_cfg, common), .ops = &ops},
 *           argc, argv);
 *   }
 */
#ifndef VELO_SVC_H
#define VELO_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/admin.h"
#include "velo/cfg.h"
#include "velo/consul.h"
#include "velo/err.h"
#include "velo/metrics.h"

/* What an instance registers in Consul beyond its name (velo-<svc>),
 * address and admin port. Strings are borrowed until destroy. */
struct velo_svc_consul {
    uint16_t    port;    /* the main port (nng REP); 0: url's, else admin */
    const char *url;     /* or the main URL ("tcp://0.0.0.0:7701"): its port */
    const char *proto;   /* meta "proto" ("velo.v1.StationService"), or NULL */
    const char *meta[8]; /* extra meta: key, value, key, value ... */
    size_t      nmeta;   /* pairs, at most 4 */
};

/* The service's side of the contract. cfg is the loaded, immutable config
 * (the service's own struct); svc is the service object create() made.
 * Every hook runs on the main thread except ready (MHD threads). */
struct velo_svc_ops {
    /* Loads cfg (a zeroed struct of cfg_size bytes). NULL: velo_cfg_load
     * with def->spec. Returns VELO_OK, VELO_CFG_HELP or VELO_EINVAL. */
    int (*load)(void *cfg, int argc, char **argv);
    /* Releases what load() kept. NULL: velo_cfg_fini with def->spec. */
    void (*fini)(void *cfg);
    /* Builds the service; m is borrowed and outlives it. Required. */
    int (*create)(void **svc, const void *cfg, velo_metrics *m);
    /* Starts its threads (after the admin server is up). Required. */
    int (*start)(void *svc);
    /* /readyz: thread-safe; NULL means always ready. */
    velo_ready_fn ready;
    /* Fills up to max ready-file lines after the admin address (borrowed
     * strings, valid until destroy); returns how many. NULL: none. */
    size_t (*ready_lines)(void *svc, const char **lines, size_t max);
    /* Polled every 100 ms, and at once after velo_sig_wake() (velo/sig.h;
     * a service calls it when it finishes): true when the service has
     * finished by itself (--once, --exit-after-polls); *status is then the
     * exit status. NULL: runs until a signal. */
    bool (*done)(void *svc, int *status);
    /* Stops intake, drains and flushes within timeout_ms. Required. */
    int (*stop)(void *svc, uint32_t timeout_ms);
    /* Frees. NULL-safe. Required. */
    void (*destroy)(void *svc);
    /* Fills what the host registers in Consul (after start). NULL: the
     * admin port only. */
    void (*consul)(void *svc, struct velo_svc_consul *reg);
};

enum velo_svc_flags {
    VELO_SVC_NO_ADMIN = 1u << 0, /* no admin server (velo-devbroker) */
    /* The ready file lists the service's lines first, then the admin
     * address (velo-gateway: its public address is what callers want). */
    VELO_SVC_READY_SERVICE_FIRST = 1u << 1,
};

struct velo_svc_def {
    const struct velo_cfg_spec *spec;
    size_t                      cfg_size;
    /* offsetof the struct velo_common_cfg member; ignored with
     * VELO_SVC_NO_ADMIN, whose service reads its own log level etc. */
    size_t                     common_off;
    const struct velo_svc_ops *ops;
    unsigned                   flags;
    /* With VELO_SVC_NO_ADMIN: where the host finds the ready file path and
     * log level inside cfg. */
    size_t ready_file_off, log_level_off;
    /* One-time library setup before create() and its undoing after
     * destroy() (curl_global_init / curl_global_cleanup). May be NULL. */
    int (*global_init)(void);
    void (*global_fini)(void);
};

/* A Consul client from the common settings, for a service that uses
 * Consul itself (discovery, the ingest lock). VELO_ENOTFOUND when no
 * address is configured; VELO_EINVAL for a bad address or token file. */
VELO_MUST_CHECK int velo_svc_consul_new(velo_consul                 **out,
                                        const struct velo_common_cfg *cc);

/* Runs the whole life of a service; returns the process exit status. */
int velo_svc_main(const struct velo_svc_def *def, int argc, char **argv);

#endif
