/* stream.h: the velo-stream service object.
 *
 * Owns the state, the consumer thread, the PUB socket and the RPC server:
 *
 *   stream_new    state, PUB and RPC listeners (bound, serving
 *                 "state rebuilding" until the consumer catches up)
 *   stream_start  the consumer thread
 *   stream_stop   stops taking records, commits, stops serving RPC
 *   stream_free
 *
 * Thread: _new/_start/_stop/_free and the URL getters from main;
 * stream_ready from any thread. */
#ifndef STREAM_STREAM_H
#define STREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "stream_cfg.h"
#include "velo/err.h"
#include "velo/metrics.h"

typedef struct stream stream;

/* cfg and m are borrowed and must outlive the object. VELO_EUNAVAIL: a
 * listener could not bind; VELO_EINVAL: bad URL or Kafka config. */
VELO_MUST_CHECK int stream_new(stream **out, const struct stream_cfg *cfg,
                               velo_metrics *m);
VELO_MUST_CHECK int stream_start(stream *s);
/* The result of the final commit. */
VELO_MUST_CHECK int stream_stop(stream *s);
/* NULL is a no-op. */
void stream_free(stream *s);

/* The bound URLs, real ports filled in. Borrowed. */
const char *stream_rpc_url(const stream *s);
const char *stream_pub_url(const stream *s);

/* velo_ready_fn: rebuilt and lag under --max-ready-lag. */
bool stream_ready(void *ctx, char *why, size_t why_size);

#endif
