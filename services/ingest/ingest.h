/* ingest.h: the velo-ingest service object.
 *
 * Owns the sources, the HTTP fetcher and the change capture, and runs the
 * poll loop on its own thread. Records go to an injected sink (sink.h).
 *
 *   ingest_new -> ingest_start -> (signal) -> ingest_stop -> ingest_free
 *
 * Thread: _new/_start/_stop/_free from one thread (main); ingest_ready and
 * ingest_done from any thread. */
#ifndef INGEST_INGEST_H
#define INGEST_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest_cfg.h"
#include "sink.h"
#include "velo/err.h"
#include "velo/metrics.h"

typedef struct ingest ingest;

/* Opens every source (every failure logged; VELO_EINVAL if any failed).
 * cfg, sink->ctx and m are borrowed and must outlive the object. */
VELO_MUST_CHECK int ingest_new(ingest **out, const struct ingest_cfg *cfg,
                               const struct ingest_sink *sink, velo_metrics *m);

/* Starts the poll thread. */
VELO_MUST_CHECK int ingest_start(ingest *p);

/* Before ingest_start: polls start only while active(ctx) says so (the
 * leader lock, leader.h); a poll in flight is finished. NULL: always. */
void ingest_set_gate(ingest *p, bool (*active)(void *ctx), void *ctx);

/* Stops polling, lets running fetches end, flushes the sink for up to
 * timeout_ms. VELO_ETIMEDOUT when records were left undelivered. */
VELO_MUST_CHECK int ingest_stop(ingest *p, uint32_t timeout_ms);

/* Frees (stopping first if needed). NULL is a no-op. */
void ingest_free(ingest *p);

/* velo_ready_fn: true when a source succeeded recently. */
bool ingest_ready(void *ctx, char *why, size_t why_size);

/* True once the poll loop ended because every source is finished (a
 * replay without loop=, a simulated day's polls=N) or reached
 * --exit-after-polls; the process then exits 0. */
bool ingest_done(const ingest *p);

#endif
