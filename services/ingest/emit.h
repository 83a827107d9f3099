/* emit.h: from a poll's batch to sink records, through change capture.
 * Thread: the ingest loop thread. */
#ifndef INGEST_EMIT_H
#define INGEST_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "cdc.h"
#include "sink.h"

struct ingest_emit_stats {
    size_t emitted;   /* stations queued */
    size_t unchanged; /* suppressed by change capture */
    size_t rejected;  /* dead-lettered stations */
    size_t failed;    /* could not be queued (counted, CDC forgotten) */
};

struct ingest_emit_ctx {
    const struct ingest_sink *sink;
    ingest_cdc               *cdc;
    ingest_lost_fn            lost; /* delivery failures, see sink.h */
    void                     *owner;
    const char               *source; /* system id */
    const char               *format; /* for dead letters */
};

/* Queues every station of b that changed or is due for its heartbeat, and
 * dead-letters b's rejects. A full local queue is waited out (sink poll)
 * for up to 10 s per record. Heartbeats follow each record's event time,
 * fetched_at_ms (wall time for live sources, the virtual instant for a
 * simulated day); now_ms stands in for a record without one. slack_ms
 * (in event time: the source's period) as in ingest_cdc_due. Adds to
 * *st. */
void ingest_emit_batch(const struct ingest_emit_ctx *ec,
                       const struct ingest_batch *b, int64_t now_ms,
                       int64_t slack_ms, struct ingest_emit_stats *st);

/* Dead-letters one whole payload that could not be parsed. */
void ingest_emit_payload_dlq(const struct ingest_emit_ctx *ec, const void *raw,
                             size_t len, const char *reason,
                             struct ingest_emit_stats *st);

#endif
