/* batch.h: the normalised stations of one poll of one source.
 *
 * A batch is all-or-nothing: a parser fills it completely or returns an
 * error, and the caller then discards it (ingest_batch_fini), so a poll
 * never emits a partial batch. Stations that fail validation do not stop
 * the batch: they become rejects, each with its raw JSON and the reason,
 * and go to the dead-letter topic.
 *
 * Ownership: the batch owns every item and every string they point to
 * (system_id, station_id, name, address, source_format are strdup'd by
 * ingest_batch_strdup and freed by ingest_batch_fini). Caller-allocated. */
#ifndef INGEST_BATCH_H
#define INGEST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/v1/station.pb-c.h"

struct ingest_reject {
    char  *raw; /* the record's raw JSON (owned), may be NULL */
    size_t len;
    char   station_id[64]; /* "" when the id itself was unusable */
    char   reason[160];    /* "bikes_available: negative" */
};

struct ingest_batch_id; /* a station id seen in this batch (uthash) */

struct ingest_batch {
    Velo__V1__StationSnapshot *items;
    size_t                     len, cap;
    struct ingest_reject      *rejects;
    size_t                     nrejects, rejcap;
    size_t                     max; /* items + rejects; ETOOBIG past it */
    struct ingest_batch_id    *ids; /* every id claimed, for duplicates */
    size_t repaired;                /* strings whose bad bytes became U+FFFD */
};

/* Empty batch holding at most max records (valid and rejected). */
void ingest_batch_init(struct ingest_batch *b, size_t max);

/* Appends a slot initialised with velo__v1__station_snapshot__init and
 * returns it in *out (valid until the next add). VELO_ETOOBIG past max,
 * VELO_ENOMEM. */
VELO_MUST_CHECK int ingest_batch_add(struct ingest_batch        *b,
                                     Velo__V1__StationSnapshot **out);

/* Claims station id for this payload: *dup is set when an earlier record
 * of the same payload already claimed it (the later one is then a
 * duplicate, dead-lettered rather than silently winning). VELO_ENOMEM. */
VELO_MUST_CHECK int ingest_batch_claim_id(struct ingest_batch *b,
                                          const char *id, bool *dup);

/* Drops the last added item (used when validation fails after add). */
void ingest_batch_pop(struct ingest_batch *b);

/* Records a rejected station: copies raw (may be NULL) and the reason. */
VELO_MUST_CHECK int ingest_batch_reject(struct ingest_batch *b, const char *raw,
                                        size_t len, const char *station_id,
                                        const char *reason);

/* strdup whose result the caller stores in an item of this batch (freed by
 * ingest_batch_fini). NULL in, NULL out. Aborts on out-of-memory (small,
 * bounded by the body size already accepted). */
char *ingest_batch_strdup(struct ingest_batch *b, const char *s);

/* Frees every item, string and reject; the batch is empty afterwards. */
void ingest_batch_fini(struct ingest_batch *b);

/* Checks the invariants every emitted snapshot must hold (DESIGN §3):
 * system_id and station_id present, lat in [-90,90] and lon in [-180,180]
 * when present (and not both 0), counts not above 100000, and
 * mechanical + electric not above bikes_available when all three are sent.
 * Returns VELO_OK or VELO_EPROTO with the reason written to why. */
VELO_MUST_CHECK int ingest_snapshot_validate(const Velo__V1__StationSnapshot *s,
                                             char *why, size_t why_size);

#endif
