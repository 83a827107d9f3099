/* systems.h: SystemInfo of every system, from the compacted velib_systems
 * topic (ingest writes one record per system, keyed by system_id), for
 * ListSystems replies (and through them the gateway's GBFS output).
 *
 * Its own Kafka consumer reads the topic from the beginning on its own
 * thread and keeps the latest SystemInfo per system_id; no offsets are
 * committed (a compacted topic is small and re-read at every start). A
 * missing topic is looked up again every retry_ms.
 *
 *   stream_systems_new -> _start -> _stop -> _free
 *
 * Thread: _new/_start/_stop/_free from main; _apply from the systems
 * thread (or a test); _get from any thread (RPC workers); a mutex guards
 * the map. */
#ifndef STREAM_SYSTEMS_H
#define STREAM_SYSTEMS_H

#include <stddef.h>
#include <stdint.h>

#include "velo/arena.h"
#include "velo/err.h"
#include "velo/v1/system.pb-c.h"

struct stream_systems_cfg {
    const char *brokers;  /* NULL: no consumer (tests feed _apply) */
    const char *topic;    /* "velib_systems" */
    const char *group_id; /* names the consumer; nothing is committed */
    uint32_t    max_record_bytes;
    uint32_t    retry_ms; /* 0: 5000 */
};

typedef struct stream_systems stream_systems;

/* cfg strings are borrowed and must outlive the object. VELO_EINVAL (bad
 * Kafka config, logged), VELO_ENOMEM. */
VELO_MUST_CHECK int stream_systems_new(stream_systems                 **out,
                                       const struct stream_systems_cfg *cfg);
/* Starts the reader thread (a no-op without brokers). */
VELO_MUST_CHECK int stream_systems_start(stream_systems *ss);
/* Stops and joins the thread. Safe to call twice. */
void stream_systems_stop(stream_systems *ss);
/* Stops if needed and frees. NULL is a no-op. */
void stream_systems_free(stream_systems *ss);

/* Applies one record of the topic: a SystemInfo replaces the one known
 * for its system_id; a tombstone (value NULL) with key forgets key.
 * VELO_EPROTO when the value does not decode or has no system_id,
 * VELO_ETOOBIG over max_record_bytes (both leave the map unchanged). */
VELO_MUST_CHECK int stream_systems_apply(stream_systems *ss, const void *key,
                                         size_t keylen, const void *value,
                                         size_t len);

/* A copy in a of system_id's SystemInfo, or NULL when none is known (or
 * memory ran out: *oom is then set). */
Velo__V1__SystemInfo *stream_systems_get(stream_systems *ss,
                                         const char *system_id, velo_arena *a,
                                         bool *oom);

/* Systems known. */
size_t stream_systems_count(stream_systems *ss);

#endif
