/* sink.h: where velo-ingest's records go (STYLE §11: injected ops).
 * Production: the Kafka sink (kafka_sink.c); tests: an array.
 *
 * Thread: the ingest loop thread only. */
#ifndef INGEST_SINK_H
#define INGEST_SINK_H

#include <stddef.h>

#include "velo/err.h"
#include "velo/v1/station.pb-c.h"
#include "velo/v1/system.pb-c.h"

struct ingest_dead_letter {
    const char *key; /* "system/station", or the system id */
    const void *raw; /* the bytes that failed */
    size_t      len;
    const char *source; /* system id */
    const char *format; /* source kind or format */
    const char *reason; /* one line */
};

/* Called from poll/flush for each record the sink could not deliver
 * (key: "system/station" for a station or a dead letter, the system id
 * for a SystemInfo or a whole-payload dead letter). */
typedef void (*ingest_lost_fn)(void *owner, const char *key, size_t keylen);

struct ingest_sink {
    /* Queues one snapshot under key. VELO_EFULL: poll and retry. */
    int (*send)(void *ctx, const char *key, const Velo__V1__StationSnapshot *s);
    /* Queues one dead letter. */
    int (*dead_letter)(void *ctx, const struct ingest_dead_letter *dl);
    /* Queues one SystemInfo under key (the system id) on the compacted
     * systems topic. VELO_EFULL: the next poll tries again. NULL: the
     * sink takes none (nothing is sent). */
    int (*send_system)(void *ctx, const char *key,
                       const Velo__V1__SystemInfo *si);
    /* Serves delivery reports for up to timeout_ms. */
    void (*poll)(void *ctx, int timeout_ms, ingest_lost_fn lost, void *owner);
    /* Waits up to timeout_ms for everything queued; VELO_ETIMEDOUT. */
    int (*flush)(void *ctx, int timeout_ms, ingest_lost_fn lost, void *owner);
    void *ctx;
};

/* ---- the Kafka sink ---- */

typedef struct ingest_kafka_sink ingest_kafka_sink;

struct ingest_kafka_sink_cfg {
    const char *brokers;
    const char *topic;
    const char *dlq_topic;
    const char *systems_topic; /* SystemInfo, compacted */
    uint32_t    flush_timeout_ms;
};

/* Creates the producer (idempotent, acks=all, lz4) and fills *ops. */
VELO_MUST_CHECK int
ingest_kafka_sink_new(ingest_kafka_sink                 **out,
                      const struct ingest_kafka_sink_cfg *cfg,
                      struct ingest_sink                 *ops);
/* Flushes for up to the configured timeout and frees. NULL: no-op. */
void ingest_kafka_sink_free(ingest_kafka_sink *ks);

#endif
