/* kafka_consumer_int.h: the consumer's state, shared by kafka_consumer.c
 * (records, assignment, progress) and kafka_catchup.c (handing the
 * partitions of an assignment to librdkafka a few at a time, bounding its
 * read-ahead). Not a public header. */
#ifndef VELO_KAFKA_CONSUMER_INT_H
#define VELO_KAFKA_CONSUMER_INT_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "velo/kafka.h"
#include "velo/metrics.h"

/* What velo_kafka_assign_all resolved for one partition. */
struct kafka_part {
    int64_t start;     /* absolute offset reading starts at */
    int64_t target;    /* high watermark when the assignment was made */
    int64_t committed; /* the group's committed offset then; -1: none */
    bool    reached;   /* read up to target (catch-up bookkeeping) */
};

/* Thread: one thread at a time (librdkafka's consumer rules). The
 * assignment fields are set once by velo_kafka_assign_all. */
struct velo_kafka_consumer {
    rd_kafka_t                      *rk;
    bool                             assigned;  /* assign_all succeeded */
    rd_kafka_topic_partition_list_t *pos;       /* assigned partitions */
    struct kafka_part               *parts;     /* parallel to pos->elems */
    bool              time_miss_from_beginning; /* from the cfg */
    int               catch_up_max; /* cfg.catch_up_partitions; 0: all */
    int               handed; /* pos->elems[0..handed) given to librdkafka */
    int               read_ahead; /* cfg.read_ahead_records; 0: librdkafka's */
    bool              gated;      /* queue seen at read_ahead since the wake */
    bool              read_since_wake; /* a record consumed since the wake */
    rd_kafka_queue_t *cq;          /* the consumer queue; NULL: no read_ahead */
    velo_metric      *lag_gauge;   /* NULL: no metrics */
    int64_t           lag_next_ms; /* next refresh (mono) */
};

/* Assigns the first partitions of kc->pos (all of them unless
 * catch_up_max limits how many with records to read go at once). */
rd_kafka_resp_err_t velo_kafka__catchup_start(velo_kafka_consumer *kc);

/* A record of partition at offset was consumed: when that partition has
 * now reached its target, the next one is assigned. */
void velo_kafka__catchup_note(velo_kafka_consumer *kc, int32_t partition,
                              int64_t offset);

/* Nothing to consume: positions past records that never arrive (control
 * records, compacted offsets) also count as reaching the target; with a
 * bounded read-ahead, wakes the fetcher of the first partition handed over
 * and short of its target (once after records: a bite not seen). */
void velo_kafka__catchup_idle(velo_kafka_consumer *kc);

/* A record was consumed: with a bounded read-ahead, wakes librdkafka's
 * fetcher for that record's partition once the queue is back under it. */
void velo_kafka__readahead_note(velo_kafka_consumer      *kc,
                                const rd_kafka_message_t *rkm);

#endif
