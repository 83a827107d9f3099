/* gw_svc.c: velo-gateway's hooks for the service host (velo/svc.h). */
#include "gw_svc.h"

#include "gateway.h"

static int
svc_create(void **out, const void *cfg, velo_metrics *m)
{
    gateway *gw = NULL;
    int      rv;

    rv = gateway_new(&gw, cfg, m);
    if (rv == VELO_OK)
        *out = gw;
    return rv;
}

static int
svc_start(void *ctx)
{
    return gateway_start(ctx);
}

/* The public address: first in the ready file (VELO_SVC_READY_SERVICE_FIRST).
 */
static size_t
svc_ready_lines(void *ctx, const char **lines, size_t max)
{
    if (max < 1)
        return 0;
    lines[0] = gateway_addr(ctx);
    return 1;
}

static int
svc_stop(void *ctx, uint32_t timeout_ms)
{
    (void)timeout_ms; /* MHD's quiesce and stop are bounded by themselves */
    return gateway_stop(ctx);
}

static void
svc_destroy(void *ctx)
{
    gateway_free(ctx);
}

const struct velo_svc_ops gw_svc_ops = {
    .create = svc_create,
    .start = svc_start,
    .ready_lines = svc_ready_lines,
    .stop = svc_stop,
    .destroy = svc_destroy,
};
