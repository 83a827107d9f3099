/* velo/kafka_dlq.h: the one way velopipe writes a dead letter.
 *
 * Every service that meets a record it cannot use (ingest: a payload that
 * does not parse; stream: a velib_data record that does not decode; later
 * batch) produces it here, so the dead-letter topic reads the same
 * whoever wrote to it:
 *
 *   key      the record's key (may be empty)
 *   value    the raw bytes, cut to cfg.max_bytes
 *   headers  velo-error        the reason, one line ("undecodable: ...")
 *            velo-source       who wrote it ("velo-stream", a system id)
 *            velo-origin-topic, velo-origin-partition, velo-origin-offset
 *                              where the record came from, when it came
 *                              from Kafka (decimal text)
 *            velo-truncated    "true", only when the value was cut
 *            then the caller's extra headers (ingest: velo-format)
 *
 * Header values are bounded (VELO_KAFKA_DLQ_HEADER_MAX, cut on a UTF-8
 * boundary) so a peer's long text cannot grow a dead letter. Counting and
 * log-once policy stay with the caller: only it knows its reasons.
 * Thread: like velo_kafka_produce (any); with full_tries > 1 it also
 * serves delivery callbacks (velo_kafka_poll) on the calling thread. */
#ifndef VELO_KAFKA_DLQ_H
#define VELO_KAFKA_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "velo/kafka.h"

#define VELO_KAFKA_DLQ_MAX_DEFAULT (900 * 1024) /* under 1 MB with headers */
#define VELO_KAFKA_DLQ_HEADER_MAX 256 /* bytes of velo-error / velo-source */
#define VELO_KAFKA_DLQ_EXTRA_MAX 4    /* caller headers per letter */

struct velo_kafka_dlq_cfg {
    const char *topic;      /* required */
    size_t      max_bytes;  /* value bytes kept; 0: default above */
    int         full_tries; /* produce attempts while the queue is full;
                               0: 4; 1: never poll (the caller retries) */
    int full_wait_ms;       /* velo_kafka_poll between tries; 0: 100 */
};

/* One dead letter; everything borrowed for the call. */
struct velo_kafka_dlq_letter {
    const void *key;
    size_t      keylen;
    const void *value;
    size_t      len;
    const char *reason; /* required */
    const char *source; /* required */
    /* Where the record was read, or origin_topic NULL when it was not
     * read from Kafka (ingest's payloads). */
    const char                     *origin_topic;
    int32_t                         origin_partition;
    int64_t                         origin_offset;
    const struct velo_kafka_header *extra; /* up to _EXTRA_MAX; may be NULL */
    size_t                          nextra;
};

/* Queues dl on cfg->topic with the headers above; returns before
 * delivery (its outcome reaches kp's delivery callback). While the local
 * queue is full it polls and retries, up to cfg->full_tries attempts.
 * Errors: VELO_EINVAL (no topic, reason or source; too many extras),
 * VELO_EFULL (still full after the tries), others of velo_kafka_produce. */
VELO_MUST_CHECK int
velo_kafka_dlq_write(velo_kafka_producer                *kp,
                     const struct velo_kafka_dlq_cfg    *cfg,
                     const struct velo_kafka_dlq_letter *dl);

#endif
