/* cdc.h: change-data-capture decisions for velo-ingest.
 *
 * A station is emitted when its observed state differs from the last one
 * emitted, or when it was last emitted a heartbeat ago (so any consumer can
 * rebuild the full state from the last heartbeat interval of the topic).
 * The observed state is every field except fetched_at_ms and
 * last_reported_ms: a source re-stamping an unchanged station is not a
 * change, and the heartbeat bounds how old a consumer's copy can get.
 *
 * Single-threaded: owned by the ingest loop thread. */
#ifndef INGEST_CDC_H
#define INGEST_CDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/v1/station.pb-c.h"

typedef struct ingest_cdc ingest_cdc;

VELO_MUST_CHECK int ingest_cdc_new(ingest_cdc **out, int64_t heartbeat_ms);
void                ingest_cdc_free(ingest_cdc *c);

/* The hash of a snapshot's observed state (see above). */
uint64_t ingest_cdc_hash(const Velo__V1__StationSnapshot *s);

/* True when key must be emitted now. slack_ms lets a station due within
 * the next poll go out in this one, so the gap between emissions never
 * exceeds the heartbeat. Does not record anything: call _mark once the
 * record is queued. */
bool ingest_cdc_due(const ingest_cdc *c, const char *key, uint64_t hash,
                    int64_t now_ms, int64_t slack_ms);

/* Records that key was emitted with hash at now_ms. VELO_ENOMEM. */
VELO_MUST_CHECK int ingest_cdc_mark(ingest_cdc *c, const char *key,
                                    uint64_t hash, int64_t now_ms);

/* Forgets key (its delivery failed): the next poll emits it again. */
void ingest_cdc_forget(ingest_cdc *c, const char *key);

/* Number of stations tracked. */
size_t ingest_cdc_size(const ingest_cdc *c);

#endif
