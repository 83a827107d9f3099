/* consumer.h: the thread that keeps the state current.
 *
 * It assigns every partition of the topic (each replica reads everything)
 * from now - rebuild_ms, so the state is rebuilt from the last heartbeat
 * interval; then, record by record: decode (record_decode.h), dead-letter what
 * does not decode, apply to the state, publish every visible change on
 * PUB ("system_id/station_id" + StationState). Every tick it updates the
 * progress (lag, rebuilt) and about once per commit_interval_ms commits
 * what it has applied (never before: DESIGN §4), so group stream-consumer
 * shows the lag of each replica.
 *
 *   stream_consumer_new -> _start -> (signal) -> _stop -> _free
 *
 * Thread: _new/_start/_stop/_free from one thread (main); the consumer
 * thread is the state's only writer. */
#ifndef STREAM_CONSUMER_H
#define STREAM_CONSUMER_H

#include <stdint.h>

#include "progress.h"
#include "state.h"
#include "velo/err.h"
#include "velo/metrics.h"
#include "velo/rpc.h"

struct stream_consumer_cfg {
    const char *brokers;
    const char *topic;
    const char *dlq_topic;
    const char *group_id;
    const char *client_id;
    int64_t     rebuild_ms;         /* start this far back */
    uint32_t    max_record_bytes;   /* larger values are dead letters */
    uint32_t    commit_interval_ms; /* 0: 1000 */
    uint32_t    flush_timeout_ms;   /* DLQ producer, at _free */
};

typedef struct stream_consumer stream_consumer;

/* Makes the Kafka consumer and the DLQ producer (no broker contact yet).
 * cfg strings, st, progress, pub (NULL: publish nothing) and m are
 * borrowed and must outlive the object. VELO_EINVAL (bad cfg, logged),
 * VELO_ENOMEM. */
VELO_MUST_CHECK int stream_consumer_new(stream_consumer                 **out,
                                        const struct stream_consumer_cfg *cfg,
                                        stream_state                     *st,
                                        struct stream_progress *progress,
                                        velo_pub *pub, velo_metrics *m);

/* Starts the thread. Until the topic can be assigned it retries with
 * backoff (progress says "waiting for the topic"). */
VELO_MUST_CHECK int stream_consumer_start(stream_consumer *c);

/* Stops taking records, waits for the thread, commits what was applied.
 * The result of that last commit (VELO_OK when nothing was pending). */
VELO_MUST_CHECK int stream_consumer_stop(stream_consumer *c);

/* Stops if needed, closes the consumer, flushes the DLQ producer, frees.
 * NULL is a no-op. */
void stream_consumer_free(stream_consumer *c);

#endif
