/* stream_svc.c: velo-stream's hooks for the service host. */
#include "stream_svc.h"
#include "stream.h"
#include "stream_cfg.h"

static int
svc_create(void **out, const void *cfg, velo_metrics *m)
{
    stream *s = NULL;
    int     rv;

    rv = stream_new(&s, cfg, m);
    if (rv == VELO_OK)
        *out = s;
    return rv;
}

static int
svc_start(void *ctx)
{
    return stream_start(ctx);
}

static size_t
svc_ready_lines(void *ctx, const char **lines, size_t max)
{
    const stream *s = ctx;

    if (max < 2)
        return 0;
    lines[0] = stream_rpc_url(s);
    lines[1] = stream_pub_url(s);
    return 2;
}

/* Registered in Consul by the host: the RPC port, the proto and where
 * station updates are published. */
static void
svc_consul(void *ctx, struct velo_svc_consul *reg)
{
    const stream *s = ctx;

    reg->url = stream_rpc_url(s);
    reg->proto = "velo.v1.StationService";
    reg->meta[0] = "pub";
    reg->meta[1] = stream_pub_url(s);
    reg->nmeta = 1;
}

/* Stops intake and commits what was applied, then closes. */
static int
svc_stop(void *ctx, uint32_t timeout_ms)
{
    (void)timeout_ms; /* stream_stop is bounded by its own commit timeout */
    return stream_stop(ctx);
}

static void
svc_destroy(void *ctx)
{
    stream_free(ctx);
}

const struct velo_svc_ops stream_svc_ops = {
    .create = svc_create,
    .start = svc_start,
    .ready = stream_ready,
    .ready_lines = svc_ready_lines,
    .stop = svc_stop,
    .destroy = svc_destroy,
    .consul = svc_consul,
};
