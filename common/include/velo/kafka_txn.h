/* velo/kafka_txn.h: the transactional Kafka producer, for exactly-once
 * output (velo-batch): records produced and the input consumer's offsets
 * committed in one transaction, so a read_committed reader sees all of a
 * batch or none of it, and the input resumes exactly after it.
 *
 *   rv = velo_kafka_txn_begin(kt);
 *   ... velo_kafka_txn_produce(kt, ...) for each record ...
 *   rv = velo_kafka_txn_send_offsets(kt, kc, offs, n);  (next to read)
 *   rv = velo_kafka_txn_commit(kt);
 *
 * Errors of every call below, besides those named there:
 * - VELO_EFENCED: fatal. Another instance with the same transactional_id
 *   has started (it fenced this one and aborted its open transaction), or
 *   the client hit another fatal error (logged as kafka.txn.fatal). Every
 *   later call fails the same way: stop, free the producer; the newer
 *   instance carries on.
 * - VELO_EABORTED: the transaction cannot commit (a record failed, the
 *   group rebalanced, the transaction timed out on the broker). Call
 *   velo_kafka_txn_abort, rewind the input to the group's committed
 *   offsets (velo_kafka_committed, then velo_kafka_seek) and redo the
 *   batch.
 * - VELO_ETIMEDOUT / VELO_EUNAVAIL: retriable; call the same function
 *   again (commit and abort may be repeated until they succeed).
 * - VELO_EINVAL: a call out of order (produce before begin, begin twice)
 *   or a bad argument.
 *
 * The consumer whose offsets are sent must have read with read_committed
 * when its input is itself transactional, and commits nothing on its own
 * (velo_kafka_consumer never auto-commits).
 *
 * Thread: one thread at a time for every call on one producer. */
#ifndef VELO_KAFKA_TXN_H
#define VELO_KAFKA_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/kafka.h"

typedef struct velo_kafka_txn velo_kafka_txn;

struct velo_kafka_txn_cfg {
    const char *brokers;
    const char *client_id;        /* NULL: "velo" */
    const char *transactional_id; /* required; stable per logical producer:
                                     a new instance fences older ones */
    uint32_t max_msg_bytes;       /* 0: 1000000; larger: ETOOBIG */
    uint32_t timeout_ms;          /* transaction.timeout.ms (>= 1000) and
                                     the bound of init, send_offsets, commit
                                     and abort; 0: 60000 */
};

/* Creates the producer (the settings of velo_kafka_producer: acks=all,
 * idempotent, lz4, murmur2_random) and runs init_transactions, which
 * fences any older instance with the same transactional_id and aborts its
 * open transaction. On success *out holds it; the caller frees it with
 * velo_kafka_txn_free. Errors: VELO_EINVAL (bad cfg, cause logged),
 * VELO_ETIMEDOUT / VELO_EUNAVAIL (no coordinator within timeout_ms: retry),
 * VELO_EFENCED. */
VELO_MUST_CHECK int velo_kafka_txn_new(velo_kafka_txn                 **out,
                                       const struct velo_kafka_txn_cfg *cfg);

/* Starts a transaction (local: no broker round trip). VELO_EINVAL when one
 * is already open. */
VELO_MUST_CHECK int velo_kafka_txn_begin(velo_kafka_txn *kt);

/* Queues one record in the open transaction, as velo_kafka_produce does
 * (copies everything; timestamp_ms 0 means now). Delivery is settled by
 * velo_kafka_txn_commit. VELO_EFULL: the local queue is full; wait a
 * little (it drains in the background) and retry, or commit. VELO_ETOOBIG:
 * over max_msg_bytes. VELO_EINVAL: no open transaction. */
VELO_MUST_CHECK int velo_kafka_txn_produce(velo_kafka_txn *kt,
                                           const char *topic, const void *key,
                                           size_t keylen, const void *value,
                                           size_t                          len,
                                           const struct velo_kafka_header *hdrs,
                                           size_t nhdrs, int64_t timestamp_ms);

/* Adds the consumer's offsets to the open transaction: for each entry the
 * NEXT offset to read (last processed + 1), committed for kc's group when
 * the transaction commits and discarded when it aborts. kc is borrowed for
 * the call. n == 0 does nothing. VELO_EINVAL: no open transaction, kc has
 * no group, or an entry has an empty topic or a negative partition or
 * offset. VELO_EABORTED also when kc's group rebalanced since kc got its
 * partitions (its generation is stale). */
VELO_MUST_CHECK int
velo_kafka_txn_send_offsets(velo_kafka_txn *kt, velo_kafka_consumer *kc,
                            const struct velo_kafka_offset *offs, size_t n);

/* Delivers every queued record and commits the transaction, waiting up to
 * cfg.timeout_ms. On VELO_OK the records are visible to read_committed
 * readers and the offsets are the group's committed offsets. On
 * VELO_ETIMEDOUT / VELO_EUNAVAIL the transaction stays open: call commit
 * again (or abort). VELO_EINVAL: no open transaction. */
VELO_MUST_CHECK int velo_kafka_txn_commit(velo_kafka_txn *kt);

/* Waits until this producer knows a leader for every partition of topic,
 * asking the cluster every 20 ms, at most timeout_ms. Call it once after
 * velo_kafka_txn_new for each output topic: librdkafka 2.0.2 otherwise
 * learns a just-created topic's leaders on its once-a-second refresh, and
 * the first commit waits for it (about 0.6 s of a short --once run).
 * VELO_ETIMEDOUT: still no leader (the records would wait; not fatal). */
VELO_MUST_CHECK int velo_kafka_txn_warm(velo_kafka_txn *kt, const char *topic,
                                        int timeout_ms);

/* Aborts the open transaction, waiting up to cfg.timeout_ms: its records
 * are never visible to read_committed readers and its offsets are
 * dropped. VELO_OK also when no transaction is open. On VELO_ETIMEDOUT /
 * VELO_EUNAVAIL call abort again. */
VELO_MUST_CHECK int velo_kafka_txn_abort(velo_kafka_txn *kt);

/* Aborts an open transaction (up to cfg.timeout_ms; a failure is logged),
 * then frees. NULL is a no-op. */
void velo_kafka_txn_free(velo_kafka_txn *kt);

#endif
