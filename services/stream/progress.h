/* progress.h: how far the consumer got, shared between the consumer
 * thread (the only writer) and whoever asks: RPC workers (Health, and the
 * "state rebuilding" answer), the admin server's /readyz. Lock-free:
 * every field is an atomic. */
#ifndef STREAM_PROGRESS_H
#define STREAM_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream_progress {
    atomic_bool     assigned; /* the topic's partitions are assigned */
    atomic_bool     rebuilt;  /* read up to the start high watermarks */
    _Atomic int64_t lag;      /* records behind; -1 before the first look */
};

/* Zeroed and lag unknown. */
void stream_progress_init(struct stream_progress *p);

/* The readiness decision: rebuilt and lag under max_lag. Otherwise false
 * with a short reason in why ("state rebuilding", "consumer lag ...").
 * Thread: any. */
bool stream_progress_ready(struct stream_progress *p, uint32_t max_lag,
                           char *why, size_t why_size);

/* True once the state may be served: rebuilt, whatever the lag now. */
bool stream_progress_serving(struct stream_progress *p);

#endif
