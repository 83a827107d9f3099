/* warehouse_svc.c: velo-warehouse's hooks for the service host. */
#include "warehouse_svc.h"
#include "warehouse.h"
#include "warehouse_cfg.h"

static int
svc_create(void **out, const void *cfg, velo_metrics *m)
{
    warehouse *w = NULL;
    int        rv;

    rv = warehouse_new(&w, cfg, m);
    if (rv == VELO_OK)
        *out = w;
    return rv;
}

static int
svc_start(void *ctx)
{
    return warehouse_start(ctx);
}

static size_t
svc_ready_lines(void *ctx, const char **lines, size_t max)
{
    if (max < 1)
        return 0;
    lines[0] = warehouse_rpc_url(ctx);
    return 1;
}

/* Registered in Consul by the host: the HistoryService port and proto. */
static void
svc_consul(void *ctx, struct velo_svc_consul *reg)
{
    reg->url = warehouse_rpc_url(ctx);
    reg->proto = "velo.v1.HistoryService";
}

/* Stops loading (offsets stay committed only for committed batches). */
static int
svc_stop(void *ctx, uint32_t timeout_ms)
{
    (void)timeout_ms; /* one bounded try of the gathered batch */
    return warehouse_stop(ctx);
}

static void
svc_destroy(void *ctx)
{
    warehouse_free(ctx);
}

const struct velo_svc_ops warehouse_svc_ops = {
    .create = svc_create,
    .start = svc_start,
    .ready = warehouse_ready,
    .ready_lines = svc_ready_lines,
    .stop = svc_stop,
    .destroy = svc_destroy,
    .consul = svc_consul,
};
