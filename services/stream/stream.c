/* stream.c: wires state, consumer, PUB and RPC together (see stream.h). */
#include "stream.h"

#include <stdlib.h>

#include "consumer.h"
#include "progress.h"
#include "service.h"
#include "state.h"
#include "systems.h"
#include "velo/log.h"
#include "velo/rpc.h"

#define TREND_MS (15 * 60 * 1000)

struct stream {
    const struct stream_cfg *cfg;
    stream_state            *st;
    struct stream_progress   progress;
    struct stream_service    svc; /* the handlers' view */
    struct velo_rpc_service  rpc_svc;
    stream_consumer         *cons;
    stream_systems          *systems;
    velo_pub                *pub;
    velo_rpc_server         *rpc;
};

static int
stream_consumer_make(stream *s, velo_metrics *m)
{
    const struct stream_cfg   *cfg = s->cfg;
    struct stream_consumer_cfg cc = {
        .brokers = cfg->common.kafka_brokers,
        .topic = cfg->topic,
        .dlq_topic = cfg->dlq_topic,
        .group_id = cfg->group_id,
        .client_id = "velo-stream",
        .rebuild_ms =
            ((int64_t)cfg->heartbeat_s + cfg->rebuild_margin_s) * 1000,
        .max_record_bytes = cfg->max_record_bytes,
        .flush_timeout_ms = cfg->common.shutdown_timeout_ms / 2,
    };

    return stream_consumer_new(&s->cons, &cc, s->st, &s->progress, s->pub, m);
}

static int
stream_rpc_make(stream *s, velo_metrics *m)
{
    struct velo_rpc_server_cfg rc = {
        .url = s->cfg->rpc_url,
        .svcs = &s->rpc_svc,
        .nsvcs = 1,
        .workers = s->cfg->rpc_workers,
        .max_frame_bytes = s->cfg->max_frame_bytes,
        .metrics = m,
    };

    s->svc = (struct stream_service){
        .st = s->st,
        .progress = &s->progress,
        .instance = s->cfg->instance,
        .max_ready_lag = s->cfg->max_ready_lag,
        .systems = s->systems,
    };
    s->rpc_svc = stream_service_rpc(&s->svc);
    return velo_rpc_server_start(&s->rpc, &rc);
}

int
stream_new(stream **out, const struct stream_cfg *cfg, velo_metrics *m)
{
    struct stream_state_cfg sc = {
        .stale_ms = (int64_t)cfg->stale_s * 1000,
        .stuck_ms = (int64_t)cfg->stuck_s * 1000,
        .trend_ms = TREND_MS,
    };
    stream *s;
    int     rv;

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    s->cfg = cfg;
    stream_progress_init(&s->progress);
    rv = stream_state_new(&s->st, &sc);
    if (rv == VELO_OK)
        rv = velo_pub_start(&s->pub, cfg->pub_url);
    if (rv == VELO_OK)
        rv = stream_consumer_make(s, m);
    if (rv == VELO_OK)
        rv = stream_systems_new(&s->systems,
                                &(struct stream_systems_cfg){
                                    .brokers = cfg->common.kafka_brokers,
                                    .topic = cfg->systems_topic,
                                    .group_id = "stream-consumer.systems",
                                    .max_record_bytes = cfg->max_record_bytes});
    if (rv == VELO_OK)
        rv = stream_rpc_make(s, m);
    if (rv != VELO_OK) {
        stream_free(s);
        return rv;
    }
    *out = s;
    return VELO_OK;
}

int
stream_start(stream *s)
{
    int rv;

    rv = stream_systems_start(s->systems);
    if (rv == VELO_OK)
        rv = stream_consumer_start(s->cons);
    return rv;
}

int
stream_stop(stream *s)
{
    int rv;

    rv = stream_consumer_stop(s->cons);
    stream_systems_stop(s->systems);
    velo_rpc_server_stop(s->rpc);
    s->rpc = NULL;
    return rv;
}

void
stream_free(stream *s)
{
    if (s == NULL)
        return;
    /* Readers first: the RPC workers hold pointers into the state. */
    velo_rpc_server_stop(s->rpc);
    stream_consumer_free(s->cons);
    stream_systems_free(s->systems);
    velo_pub_stop(s->pub);
    stream_state_free(s->st);
    free(s);
}

const char *
stream_rpc_url(const stream *s)
{
    return velo_rpc_server_url(s->rpc);
}

const char *
stream_pub_url(const stream *s)
{
    return velo_pub_url(s->pub);
}

bool
stream_ready(void *ctx, char *why, size_t why_size)
{
    stream *s = ctx;

    return stream_progress_ready(&s->progress, s->cfg->max_ready_lag, why,
                                 why_size);
}
