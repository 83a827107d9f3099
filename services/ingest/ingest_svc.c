/* ingest_svc.c: velo-ingest's hooks for the service host. */
#include <curl/curl.h>
#include <stdlib.h>

#include "ingest.h"
#include "ingest_cfg.h"
#include "ingest_svc.h"
#include "leader.h"
#include "sink.h"
#include "velo/kafka.h"
#include "velo/log.h"

/* Topic creation waits this long at most; a broker that does not answer
 * is not fatal here (the producer retries), only worth a warning. */
#define ENSURE_TOPIC_MS 10000

struct ingest_svc {
    const struct ingest_cfg *cfg;
    ingest_kafka_sink       *ks;
    ingest                  *p;
    ingest_leader           *leader; /* one active replica (Consul) */
    velo_metrics            *m;
    struct ingest_sink       sink;
};

static int
svc_load(void *cfg, int argc, char **argv)
{
    return ingest_cfg_load(cfg, argc, argv);
}

static void
svc_fini(void *cfg)
{
    ingest_cfg_fini(cfg);
}

static void
svc_destroy(void *ctx)
{
    struct ingest_svc *is = ctx;

    if (is == NULL)
        return;
    ingest_free(is->p);
    ingest_leader_free(is->leader);
    ingest_kafka_sink_free(is->ks);
    free(is);
}

/* velib_data with its partitions, and velib_systems compacted with one
 * partition (a handful of keys; consumers read all of it at start). */
static void
ensure_topics(const struct ingest_cfg *cfg)
{
    static const struct velo_kafka_topic_config compact[] = {
        {"cleanup.policy", "compact"}};

    if (velo_kafka_ensure_topic(cfg->common.kafka_brokers, cfg->topic,
                                (int)cfg->partitions,
                                ENSURE_TOPIC_MS) != VELO_OK)
        velo_warn("kafka.topic_unverified", VELO_S("topic", cfg->topic));
    if (velo_kafka_ensure_topic_cfg(cfg->common.kafka_brokers,
                                    cfg->systems_topic, 1, compact, 1,
                                    ENSURE_TOPIC_MS) != VELO_OK)
        velo_warn("kafka.topic_unverified",
                  VELO_S("topic", cfg->systems_topic));
}

static int
svc_create(void **out, const void *cfgp, velo_metrics *m)
{
    const struct ingest_cfg     *cfg = cfgp;
    struct ingest_kafka_sink_cfg kc = {.brokers = cfg->common.kafka_brokers,
                                       .topic = cfg->topic,
                                       .dlq_topic = cfg->dlq_topic,
                                       .systems_topic = cfg->systems_topic,
                                       .flush_timeout_ms =
                                           cfg->common.shutdown_timeout_ms};
    struct ingest_svc           *is;
    int                          rv;

    is = calloc(1, sizeof(*is));
    if (is == NULL)
        return VELO_ENOMEM;
    is->cfg = cfg;
    is->m = m;
    ensure_topics(cfg);
    rv = ingest_kafka_sink_new(&is->ks, &kc, &is->sink);
    if (rv == VELO_OK)
        rv = ingest_new(&is->p, cfg, &is->sink, m);
    if (rv != VELO_OK) {
        svc_destroy(is);
        return rv;
    }
    *out = is;
    return VELO_OK;
}

static int
svc_start(void *ctx)
{
    struct ingest_svc *is = ctx;
    int                rv;

    /* Contend for the lock first: polls start once it is held. */
    rv = ingest_leader_new(&is->leader, is->cfg, is->m);
    if (rv != VELO_OK) {
        velo_error("ingest.leader.failed", VELO_S("cause", velo_strerror(rv)));
        return rv;
    }
    ingest_set_gate(is->p, ingest_leader_active, is->leader);
    return ingest_start(is->p);
}

static bool
svc_ready(void *ctx, char *why, size_t why_size)
{
    struct ingest_svc *is = ctx;

    /* A standby is ready: it does its job, which is to wait. */
    if (is->leader != NULL && ingest_leader_standby(is->leader, why, why_size))
        return true;
    return ingest_ready(is->p, why, why_size);
}

/* --exit-after-polls reached: a clean exit. */
static bool
svc_done(void *ctx, int *status)
{
    struct ingest_svc *is = ctx;

    *status = EXIT_SUCCESS;
    return ingest_done(is->p);
}

static int
svc_stop(void *ctx, uint32_t timeout_ms)
{
    struct ingest_svc *is = ctx;

    /* Release first: the standby takes over while this one drains (the
     * idempotent producer and change capture make the overlap harmless). */
    ingest_leader_stop(is->leader);
    return ingest_stop(is->p, timeout_ms);
}

const struct velo_svc_ops ingest_svc_ops = {
    .load = svc_load,
    .fini = svc_fini,
    .create = svc_create,
    .start = svc_start,
    .ready = svc_ready,
    .done = svc_done,
    .stop = svc_stop,
    .destroy = svc_destroy,
};

int
ingest_svc_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? VELO_OK
                                                             : VELO_ENOMEM;
}

void
ingest_svc_global_fini(void)
{
    curl_global_cleanup();
}
