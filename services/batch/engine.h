/* engine.h: velo-batch's windowing engine, pure (no Kafka, no clock).
 *
 * Records go in per partition, in the partition's order; rows come out
 * through a sink. Everything the engine emits is a function of each
 * partition's record sequence (and the zones known), which is what makes
 * recovery by recomputation exact (docs/architecture.md, velo-batch):
 * - watermark: per partition, the largest fetched_at_ms seen (ingest's
 *   heartbeats advance it, so a quiet system still closes its windows);
 * - an hourly window [S, S+1h) closes when S+1h + lateness <= watermark, a
 *   daily window (local day of the system's zone) likewise; on closing,
 *   every station of the partition with information in it gets one row;
 * - a record for a window that has already closed is late: it is counted,
 *   stored, and every closed window it changes is emitted again
 *   (correction), as long as that window starts no earlier than
 *   watermark - horizon; older windows are counted as dropped;
 * - per station the samples of the last horizon + heartbeat are kept
 *   (older ones can change no window that may still be emitted), and at
 *   most max_samples of them (the oldest go first, counted);
 * - replay: emissions caused by a record whose offset is below the
 *   partition's replay_until are suppressed (they were committed before).
 * Daily windows of a system whose zone is unknown are held (not closed)
 * until batch_engine_set_zone names it. A system's name
 * (batch_engine_set_name) only labels the rows emitted after it.
 *
 * Thread: one thread at a time (the service's consume loop). */
#ifndef BATCH_ENGINE_H
#define BATCH_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/err.h"
#include "window.h"

typedef struct batch_engine batch_engine;

enum batch_gran { BATCH_HOURLY, BATCH_DAILY };

/* One output row; every pointer is borrowed for the sink call. */
/* A station's dimension values, as its latest snapshot carried them
 * (the warehouse's dim_station). */
#define BATCH_NAME_MAX 257 /* bytes of a name, NUL included */
struct batch_dims {
    char   name[BATCH_NAME_MAX];
    double lat, lon;
    bool   has_name, has_pos;
};

struct batch_row {
    enum batch_gran gran;
    const char     *system_id;
    const char     *station_id;
    int64_t         start_ms, end_ms;
    /* The window's start in the system's zone: daily rows always, hourly
     * rows once the zone is known (else timezone and local_date NULL). */
    const char *local_date; /* "YYYY-MM-DD" */
    const char *timezone;   /* IANA name */
    int32_t     local_hour; /* hourly: 0-23 */
    int32_t     local_dow;  /* hourly: 0 = Sunday */
    /* The station's latest dimension values read before the row (NULL:
     * none yet); borrowed for the emit call. */
    const struct batch_dims *dims;
    /* The system's name as the systems topic last gave it before the row
     * (NULL: none yet), cut to BATCH_NAME_MAX - 1 bytes; borrowed. */
    const char               *system_name;
    bool                      correction; /* re-emitted for a late record */
    int32_t                   partition;
    const struct batch_stats *stats;
};

/* Where rows go. emit returns VELO_OK or an error that the engine hands
 * back to its caller at once (the batch is then redone). */
struct batch_sink {
    int (*emit)(void *ctx, const struct batch_row *row);
    void *ctx;
};

/* Resolves a zone name to a loaded zone (production: velo_tz_load; tests
 * may point elsewhere). NULL: velo_tz_load. */
struct velo_tz;
typedef int (*batch_tz_loader)(struct velo_tz **out, const char *name);

struct batch_engine_cfg {
    int64_t         heartbeat_ms; /* ingest's heartbeat interval */
    int64_t         lateness_ms;  /* allowed lateness, default 2 min */
    int64_t         horizon_ms;   /* corrections reach this far back */
    uint32_t        max_samples;  /* per station */
    batch_tz_loader tz_load;
};

/* Counters, read with batch_engine_stats. */
struct batch_engine_stats {
    uint64_t records;         /* samples accepted */
    uint64_t late_records;    /* arrived after their window closed */
    uint64_t late_dropped;    /* windows too old to correct */
    uint64_t rows;            /* rows emitted */
    uint64_t corrections;     /* of which re-emitted for late records */
    uint64_t suppressed;      /* rows not emitted during replay */
    uint64_t samples_dropped; /* over max_samples */
    uint64_t held_systems;    /* systems whose daily windows wait for a
                                 zone (a gauge) */
    uint64_t stations;        /* a gauge */
};

/* Creates an engine; *out is the caller's, freed with batch_engine_free.
 * The sink is copied. Errors: VELO_EINVAL (a zero heartbeat or horizon, a
 * horizon shorter than 25 h + lateness), VELO_ENOMEM. */
VELO_MUST_CHECK int batch_engine_new(batch_engine                 **out,
                                     const struct batch_engine_cfg *cfg,
                                     const struct batch_sink       *sink);

/* Names system_id's zone. Later daily windows use it; held ones close on
 * the next record of each partition. Errors: those of velo_tz_load
 * (VELO_ENOTFOUND for an unknown zone: the system stays held), ENOMEM. */
VELO_MUST_CHECK int batch_engine_set_zone(batch_engine *e,
                                          const char   *system_id,
                                          const char   *tz_name);

/* Names system_id (SystemInfo.name): later rows carry name, cut on a
 * character boundary to BATCH_NAME_MAX - 1 bytes and repaired. Independent
 * of the zone (a system may have either); changes no window. Errors:
 * VELO_ENOMEM. */
VELO_MUST_CHECK int
batch_engine_set_name(batch_engine *e, const char *system_id, const char *name);

/* Suppresses the rows caused by records of partition below offset. */
VELO_MUST_CHECK int
batch_engine_replay_until(batch_engine *e, int32_t partition, int64_t offset);

/* Adds one sample of system_id/station_id read at offset of partition,
 * then emits corrections and every window the watermark closes. Errors:
 * VELO_ENOMEM, or the sink's error (the engine's state then includes the
 * record: the caller must rebuild the engine before redoing, see
 * docs). */
VELO_MUST_CHECK int batch_engine_add(batch_engine *e, int32_t partition,
                                     int64_t offset, const char *system_id,
                                     const char                *station_id,
                                     const struct batch_sample *s);

/* batch_engine_add, with the record's dimension values (NULL: none): they
 * replace the station's before any row is emitted, so the rows this record
 * closes carry them. Same errors. */
VELO_MUST_CHECK int batch_engine_add_dims(batch_engine *e, int32_t partition,
                                          int64_t offset, const char *system_id,
                                          const char                *station_id,
                                          const struct batch_sample *s,
                                          const struct batch_dims   *d);

/* The partition's watermark; false when it has seen no record. */
bool batch_engine_watermark(const batch_engine *e, int32_t partition,
                            int64_t *wm);

void batch_engine_stats(const batch_engine *e, struct batch_engine_stats *st);

/* NULL is a no-op. */
void batch_engine_free(batch_engine *e);

#endif
