/* kio.h: batch_io (run.h) on Kafka: the transactional producer
 * (velo/kafka_txn.h), the group consumer of velib_data (assigned by time,
 * offsets committed only inside transactions), a reader of velib_systems,
 * and two read-only probes librdkafka answers directly (partition count,
 * the time of the record at an offset) that only batch needs.
 * Thread: one (the loop's). */
#ifndef BATCH_KIO_H
#define BATCH_KIO_H

#include "run.h"
#include "velo/err.h"

typedef struct batch_kio batch_kio;

struct batch_kio_cfg {
    const char   *brokers;
    const char   *topic;
    const char   *systems_topic;
    const char   *out_topic;
    const char   *dlq_topic;
    const char   *group_id;
    const char   *transactional_id;
    uint32_t      timeout_ms;
    uint32_t      max_record_bytes;
    velo_metrics *metrics; /* borrowed, may be NULL: the group's lag */
    uint32_t      catch_up_partitions; /* see velo_kafka_consumer_cfg */
    uint32_t      read_ahead_records;  /* same */
    uint32_t      fetch_wait_max_ms;   /* same; 0: librdkafka's */
};

/* Connects the transactional producer (fencing an older instance) and
 * makes sure out_topic exists. Strings are borrowed and must outlive kio.
 * Errors: those of velo_kafka_txn_new, VELO_ENOMEM. */
VELO_MUST_CHECK int batch_kio_new(batch_kio                 **out,
                                  const struct batch_kio_cfg *cfg);

/* The ops on k (k outlives their use). */
void batch_kio_ops(batch_kio *k, struct batch_io *io);

/* NULL is a no-op. */
void batch_kio_free(batch_kio *k);

#endif
