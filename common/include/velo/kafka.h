/* velo/kafka.h: the one adapter between velopipe and librdkafka.
 *
 * It owns client setup (idempotence, acks, compression, partitioner,
 * timeouts), routes librdkafka's log into the JSON log (kafka.log events),
 * and maps rd_kafka_resp_err_t to velo_err. Services never call rd_kafka_*
 * for work another service also does.
 *
 * Producer: idempotent, acks=all, lz4, linger 5 ms, Java-compatible
 * murmur2_random partitioner (keys land where Java clients put them).
 * Thread: produce from any thread; delivery callbacks run inside
 * velo_kafka_poll/flush on the calling thread. */
#ifndef VELO_KAFKA_H
#define VELO_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/metrics.h"

typedef struct velo_kafka_producer velo_kafka_producer;
typedef struct velo_kafka_consumer velo_kafka_consumer;

struct velo_kafka_header {
    const char *name;
    const void *value;
    size_t      len;
};

/* Delivery outcome of one message: err is VELO_OK or the mapped error.
 * key is borrowed for the call. Runs inside velo_kafka_poll/flush. */
typedef void (*velo_kafka_delivery_fn)(void *ctx, const void *key,
                                       size_t keylen, int err);

struct velo_kafka_cfg {
    const char *brokers;
    const char *client_id;              /* "velo-ingest" */
    uint32_t    max_msg_bytes;          /* 0: 1000000; larger: ETOOBIG */
    uint32_t    flush_timeout_ms;       /* the most _free() waits */
    uint32_t    linger_ms;              /* 0: 5 */
    uint32_t    queue_max_kbytes;       /* local queue bound, 0: 32768
                                           (32 MiB); past it: EFULL */
    const char *compression;            /* NULL: "lz4" */
    bool        transactional;          /* always EINVAL: transactions
                                           are velo/kafka_txn.h */
    velo_kafka_delivery_fn on_delivery; /* may be NULL */
    void                  *ctx;
};

/* Creates a producer. Errors: VELO_EINVAL (bad cfg, cause logged). */
VELO_MUST_CHECK int velo_kafka_producer_new(velo_kafka_producer        **out,
                                            const struct velo_kafka_cfg *cfg);

/* Copies key, value and headers and queues the message; returns before
 * delivery. timestamp_ms 0 means now. VELO_EFULL: local queue full, call
 * velo_kafka_poll and retry. VELO_ETOOBIG: over max_msg_bytes. */
VELO_MUST_CHECK int velo_kafka_produce(velo_kafka_producer *kp,
                                       const char *topic, const void *key,
                                       size_t keylen, const void *value,
                                       size_t                          len,
                                       const struct velo_kafka_header *hdrs,
                                       size_t nhdrs, int64_t timestamp_ms);

/* Serves delivery callbacks for up to timeout_ms. Returns how many ran. */
int velo_kafka_poll(velo_kafka_producer *kp, int timeout_ms);

/* Waits up to timeout_ms for every queued message. VELO_ETIMEDOUT when some
 * remain (their number is logged as kafka.flush.lost). */
VELO_MUST_CHECK int velo_kafka_flush(velo_kafka_producer *kp, int timeout_ms);

/* Messages queued or in flight. */
size_t velo_kafka_outq_len(velo_kafka_producer *kp);

/* Flushes for up to cfg.flush_timeout_ms, logs what was lost, frees.
 * NULL is a no-op. */
void velo_kafka_producer_free(velo_kafka_producer *kp);

/* Creates the topic with n partitions if the cluster does not have it
 * (metadata first, so brokers without CreateTopics are fine when the
 * topic exists), then waits until every partition has a leader, so
 * offsets can be asked for at once. VELO_ETIMEDOUT / VELO_EUNAVAIL when
 * the cluster does not answer (or elect leaders) within timeout_ms. */
VELO_MUST_CHECK int velo_kafka_ensure_topic(const char *brokers,
                                            const char *topic, int partitions,
                                            int timeout_ms);

/* One topic configuration entry, e.g. {"cleanup.policy", "compact"}. */
struct velo_kafka_topic_config {
    const char *name;
    const char *value;
};

/* velo_kafka_ensure_topic, with nconfigs topic configurations applied when
 * the topic is created here (configs may be NULL when nconfigs is 0). An
 * existing topic is left as it is: its configuration is not checked or
 * altered (that is an operator's decision). VELO_EINVAL also for an entry
 * with a NULL or empty name or a NULL value. */
VELO_MUST_CHECK int
velo_kafka_ensure_topic_cfg(const char *brokers, const char *topic,
                            int                                   partitions,
                            const struct velo_kafka_topic_config *configs,
                            size_t nconfigs, int timeout_ms);

/* ---- consumer ---- */

struct velo_kafka_consumer_cfg {
    const char *brokers;
    const char *group_id; /* required: committed offsets live here */
    const char *client_id;
    uint32_t    session_timeout_ms; /* 0: 10000 */
    bool        read_committed;
    /* For rebuilds (velo-stream): when velo_kafka_assign_all finds no
     * offset for its time on a partition that holds records, start that
     * partition at its beginning instead of its end. A rebuild then never
     * reads nothing while there is data: librdkafka 2.0.2's mock cluster
     * (the dev broker) answers "end" to every time, and on a real broker
     * "no record that recent" means the newest state is older than the
     * window, which beats no state. Off: strictly "at or after the time"
     * (velo-kdump --start-ms). */
    bool time_miss_from_beginning;
    /* For catching up (velo-batch): velo_kafka_assign_all hands at most
     * this many partitions with records to read to the client at once,
     * the next one each time one of them has reached the high watermark
     * of assign time; 0: all at once. librdkafka prefetches an assigned
     * partition as fast as the broker answers, so a consumer slower than
     * its fetcher holds the backlog of every assigned partition in memory;
     * with 1 it holds one partition's. Records of each partition still
     * come in order; between partitions, one after the other. */
    uint32_t catch_up_partitions;
    /* Bounds librdkafka's read-ahead (0: librdkafka's own, 100000
     * records and 1 MiB fetches per partition): fetches of at most
     * VELO_KAFKA_READ_AHEAD_FETCH_BYTES per partition, no new fetch while
     * this many records wait in the client. A consumer slower than its
     * fetcher otherwise holds a partition's whole backlog: some 350 bytes
     * of librdkafka state per record on top of the decompressed batches
     * (velo-batch catching up). librdkafka 2.0.2 looks at the bound again
     * only when its broker thread wakes, up to a second later (librdkafka
     * issue 2879; later versions have fetch.queue.backoff.ms):
     * velo_kafka_consume wakes it as soon as the queue is back under the
     * bound, with a watermark query to the leader of the partition just
     * read. */
    uint32_t read_ahead_records;
    /* fetch.wait.max.ms (0: librdkafka's 500): how long the broker holds
     * a fetch with nothing to return. A partition assigned meanwhile
     * (catch_up_partitions) waits for that answer; a short wait makes the
     * switch quick and an idle consumer ask often (a --once run). */
    uint32_t fetch_wait_max_ms;
    /* Optional (NULL: none): exports velo_kafka_consumer_lag{group} there,
     * the records behind the high watermarks over the current assignment
     * (group or assign_all), refreshed by velo_kafka_consume at most once
     * a second from librdkafka's cached watermarks (no broker round trip).
     * A partition without a position yet counts 0. Borrowed: it must
     * outlive the consumer. */
    velo_metrics *metrics;
};

#define VELO_KAFKA_READ_AHEAD_FETCH_BYTES 65536u

/* One record; borrowed from the consumer until velo_kafka_msg_release. */
struct velo_kafka_msg {
    const char *topic;
    int32_t     partition;
    int64_t     offset;
    const void *key;
    size_t      keylen;
    const void *value;
    size_t      len;
    int64_t     timestamp_ms;
    void       *raw_; /* rd_kafka_message_t *, private */
};

#define VELO_KAFKA_OFFSET_BEGINNING (-2)
#define VELO_KAFKA_OFFSET_END (-1)
/* No offset: a group that never committed on the partition. */
#define VELO_KAFKA_OFFSET_NONE (-1001)

/* A position on one partition: offset is the NEXT record to read (the
 * last processed offset + 1), as Kafka stores committed offsets. */
struct velo_kafka_offset {
    const char *topic;
    int32_t     partition;
    int64_t     offset;
};

VELO_MUST_CHECK int
velo_kafka_consumer_new(velo_kafka_consumer                 **out,
                        const struct velo_kafka_consumer_cfg *cfg);

/* Joins the group on topics (comma-separated). */
VELO_MUST_CHECK int velo_kafka_subscribe(velo_kafka_consumer *kc,
                                         const char          *topics);

/* Assigns every partition of topic to this consumer, no group balancing
 * (each replica reads everything). Once per consumer: a second call is
 * VELO_EINVAL (re-assigning crashes librdkafka 2.0.2); after a failed call
 * (e.g. VELO_ENOTFOUND, topic unknown) it may be retried. Each partition
 * starts at the first offset whose timestamp >= start_ms, or at
 * VELO_KAFKA_OFFSET_BEGINNING / _END when start_ms is one of those. When
 * the broker finds no offset for start_ms (no record that recent, or
 * librdkafka 2.0.2's mock cluster, which answers "end" to every time) a
 * partition starts at its end, or with cfg.time_miss_from_beginning and
 * records in it, at its beginning (kafka.assign.time_not_found). It
 * also records each partition's high watermark at this moment, for
 * velo_kafka_caught_up, and the group's committed offsets, for
 * velo_kafka_handled_before (which may take up to another timeout_ms). */
VELO_MUST_CHECK int velo_kafka_assign_all(velo_kafka_consumer *kc,
                                          const char *topic, int64_t start_ms,
                                          int timeout_ms);

/* True once the consumer has read, on every assigned partition, up to the
 * high watermark recorded by velo_kafka_assign_all (a partition with
 * nothing to read then counts as caught up at once). False before a
 * successful assign_all. Asks no broker. Thread: the consumer's thread. */
bool velo_kafka_caught_up(velo_kafka_consumer *kc);

/* True when, at velo_kafka_assign_all, the group had already committed an
 * offset past msg: an earlier run of this consumer, or another replica
 * committing to the same group, handled it. Use it for side effects that
 * must happen once per record (dead letters) while the state is rebuilt
 * from records read again. False before a successful assign_all, or when
 * the committed offsets could not be read (kafka.committed.fail).
 * Asks no broker. Thread: the consumer's thread. */
bool velo_kafka_handled_before(velo_kafka_consumer         *kc,
                               const struct velo_kafka_msg *msg);

/* Records not yet consumed: the sum over assigned partitions of the high
 * watermark (as cached from the latest fetch, or as recorded at assign
 * time before one) minus the position (the start offset before the first
 * record). Asks no broker. VELO_EINVAL before a successful assign_all.
 * Thread: the consumer's thread. */
VELO_MUST_CHECK int velo_kafka_consumer_lag(velo_kafka_consumer *kc,
                                            int64_t             *lag);

/* Waits up to timeout_ms for one record. VELO_OK and *msg filled;
 * VELO_ETIMEDOUT when none came; partition EOF is not reported. */
VELO_MUST_CHECK int velo_kafka_consume(velo_kafka_consumer   *kc,
                                       struct velo_kafka_msg *msg,
                                       int                    timeout_ms);

/* Looks a header up on msg. Returns VELO_OK with a borrowed value, or
 * VELO_ENOTFOUND. */
VELO_MUST_CHECK int velo_kafka_msg_header(const struct velo_kafka_msg *msg,
                                          const char *name, const void **val,
                                          size_t *len);

/* The i-th header of msg (0-based, in record order), all borrowed like the
 * record; *val is NULL for a header with a null value. VELO_ENOTFOUND past
 * the last header. */
VELO_MUST_CHECK int velo_kafka_msg_header_at(const struct velo_kafka_msg *msg,
                                             size_t i, const char **name,
                                             const void **val, size_t *len);

void velo_kafka_msg_release(struct velo_kafka_msg *msg);

/* Commits msg's offset + 1 (or everything consumed when msg is NULL),
 * synchronously. */
VELO_MUST_CHECK int velo_kafka_commit(velo_kafka_consumer         *kc,
                                      const struct velo_kafka_msg *msg);

/* Commits everything consumed so far without waiting for the broker (a
 * synchronous commit stalls the consume loop for a round trip). The result
 * arrives during later velo_kafka_consume calls; a failure is logged there
 * (kafka.commit.fail) and the next commit covers the same offsets. */
VELO_MUST_CHECK int velo_kafka_commit_async(velo_kafka_consumer *kc);

/* Reads the consumer group's committed offsets: for each offs[i] (topic,
 * partition) it asks the group coordinator, waiting up to timeout_ms, and
 * on success writes offs[i].offset (the next to read, or
 * VELO_KAFKA_OFFSET_NONE); on failure offs is untouched. Offsets sent in
 * a transaction (velo/kafka_txn.h) appear here once it commits, never
 * after an abort: this is where a transactional consumer resumes.
 * Errors: VELO_EINVAL (n 0 or a bad entry), VELO_ETIMEDOUT, VELO_EUNAVAIL.
 * Thread: the consumer's thread. */
VELO_MUST_CHECK int velo_kafka_committed(velo_kafka_consumer      *kc,
                                         struct velo_kafka_offset *offs,
                                         size_t n, int timeout_ms);

/* Moves the consumer's position on each offs[i] partition, which must be
 * assigned to it, to offs[i].offset: the next velo_kafka_consume there
 * returns that record, and records fetched before are dropped. The offset
 * may also be VELO_KAFKA_OFFSET_BEGINNING, _END, or _NONE, which means
 * the beginning (where a group without committed offsets starts). Waits up
 * to timeout_ms (> 0). For replaying a batch after an aborted
 * transaction, from velo_kafka_committed's offsets. Errors: VELO_EINVAL
 * (n 0, a bad entry, or a partition not assigned), VELO_ETIMEDOUT.
 * Thread: the consumer's thread. */
VELO_MUST_CHECK int velo_kafka_seek(velo_kafka_consumer            *kc,
                                    const struct velo_kafka_offset *offs,
                                    size_t n, int timeout_ms);

/* Closes (leaves the group) and frees. It does not commit: offsets are
 * committed only with velo_kafka_commit, after the effect is durable.
 * NULL is a no-op. */
void velo_kafka_consumer_free(velo_kafka_consumer *kc);

#endif
