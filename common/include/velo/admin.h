/* velo/admin.h: every service's admin HTTP port (DESIGN §2).
 *
 *   GET /healthz  200 "ok" while the process runs
 *   GET /readyz   200 "ready" (or "ready: <detail>" when ready() wrote
 *                 one, e.g. "standby"), or 503 with the reason from ready()
 *   GET /metrics  Prometheus text format of the registry, with velo_ready
 *                 (1/0: what /readyz would answer, asked at each scrape)
 */
#ifndef VELO_ADMIN_H
#define VELO_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/metrics.h"

typedef struct velo_admin velo_admin;

/* Readiness probe: true when the service does its job (it may still write
 * a short detail into why); otherwise writes a short reason into why. Called on
 * MHD threads: must be thread-safe. */
typedef bool (*velo_ready_fn)(void *ctx, char *why, size_t why_size);

struct velo_admin_cfg {
    const char   *bind;
    uint16_t      port;    /* 0: any free port */
    velo_metrics *metrics; /* borrowed; outlives the admin server */
    velo_ready_fn ready;   /* NULL: always ready */
    void         *ctx;
};

VELO_MUST_CHECK int velo_admin_start(velo_admin                 **out,
                                     const struct velo_admin_cfg *cfg);
uint16_t            velo_admin_port(const velo_admin *a);
/* Stops serving and frees. NULL is a no-op. */
void velo_admin_stop(velo_admin *a);

#endif
