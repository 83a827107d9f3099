/* run.h: velo-batch's loop: recovery, records through the engine, rows
 * and input offsets in one transaction. Kafka stays behind struct
 * batch_io (production: kio.c; tests: an in-memory log), so exactly-once
 * is tested without a broker (run_test.c).
 *
 * Recovery (docs/architecture.md, velo-batch): read the zones, read the
 * group's committed offsets C[p], find for each partition the time of
 * record C[p]-1 (or of its first record when nothing was committed), go
 * back lookback_ms before the earliest of those, and replay from there
 * with the rows of records below C[p] suppressed: they were committed
 * with C[p]. The engine's output is a function of each partition's record
 * sequence, so the replay rebuilds the state exactly and then emits what
 * the crashed run had not committed. Any failure inside a transaction
 * (aborted, a produce that fails) aborts it and recovers again. */
#ifndef BATCH_RUN_H
#define BATCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "velo/err.h"
#include "velo/kafka.h"
#include "velo/metrics.h"

/* One input record, borrowed until io->release. */
struct batch_in {
    int32_t     partition;
    int64_t     offset;
    int64_t     timestamp_ms; /* the record's (produce) time */
    const void *key;
    size_t      keylen;
    const void *value;
    size_t      len;
    bool        too_big; /* over the size limit: value not given */
};

/* One output record, borrowed for the call. */
struct batch_out {
    const void *key;
    size_t      keylen;
    const void *value;
    size_t      len;
    const char *content_type;
};

/* What a SystemInfo says of system_id: its zone and its name, each NULL
 * when the record lacks it (what was known before is then kept). */
typedef int (*batch_zone_fn)(void *arg, const char *system_id,
                             const char *tz_name, const char *name);

/* What the loop needs from Kafka. Every call is on the loop's thread.
 * Errors as velo/kafka.h and velo/kafka_txn.h say. */
struct batch_io {
    /* Calls fn for each system's zone and name on the systems topic: all
     * of them (wait true, at recovery), or only those that arrived or
     * changed since. */
    int (*zones)(void *ctx, bool wait, batch_zone_fn fn, void *arg);
    /* Partition count of the input topic. */
    int (*partitions)(void *ctx, int32_t *n);
    /* The group's committed offsets (next to read) or
     * VELO_KAFKA_OFFSET_NONE, for partitions 0..n-1. */
    int (*committed)(void *ctx, int64_t *offs, int32_t n);
    /* Time of the first record at or after offset; VELO_ENOTFOUND when
     * there is none. */
    int (*timestamp_at)(void *ctx, int32_t partition, int64_t offset,
                        int64_t *ts);
    /* (Re)starts reading every partition at the first record whose time is
     * >= start_ms (VELO_KAFKA_OFFSET_BEGINNING: from the start), noting the
     * end of each partition now for caught_up. */
    int (*seek)(void *ctx, int64_t start_ms);
    int (*next)(void *ctx, struct batch_in *in, int timeout_ms);
    void (*release)(void *ctx, struct batch_in *in);
    /* Read up to the ends noted at seek. */
    bool (*caught_up)(void *ctx);
    /* Sends a record that cannot be used to the dead-letter topic. */
    int (*dead_letter)(void *ctx, const struct batch_in *in, const char *why);
    int (*begin)(void *ctx);
    int (*produce)(void *ctx, const struct batch_out *out);
    /* Adds offs (next to read) to the open transaction and commits it. */
    int (*commit)(void *ctx, const struct velo_kafka_offset *offs, size_t n);
    int (*abort)(void *ctx);
    void *ctx;
};

/* A snapshot whose fetched_at_ms is this far past its record's (produce)
 * time is refused: one absurd event time would otherwise close every
 * window of its partition at once. */
#define BATCH_MAX_FUTURE_MS (3600 * 1000LL)

struct batch_run_cfg {
    struct batch_engine_cfg engine;
    const char             *topic;          /* input, for the offsets */
    int64_t                 seek_margin_ms; /* produce delay allowance */
    uint32_t                txn_max_records;
    uint32_t                txn_interval_ms;
    bool                    once;
};

typedef struct batch_run batch_run;

/* Creates the loop; io is copied, m borrowed (may be NULL). */
VELO_MUST_CHECK int batch_run_new(batch_run                 **out,
                                  const struct batch_run_cfg *cfg,
                                  const struct batch_io *io, velo_metrics *m);

/* One turn: recovers when needed, handles up to one record (waiting up to
 * wait_ms for it), commits when due (txn_max_records, txn_interval_ms, or
 * with --once when caught up). *done becomes true with --once once
 * everything up to the ends noted at start is committed. Errors: the
 * io's recovery errors (retry later), VELO_EFENCED (fatal: stop). */
VELO_MUST_CHECK int batch_run_step(batch_run *r, int64_t now_ms, int wait_ms,
                                   bool *done);

/* After *done (--once), makes the next step start a new pass: recover
 * from the committed offsets and read up to the partitions' ends then
 * (--schedule runs one pass per firing). */
void batch_run_rearm(batch_run *r);

/* Commits what is pending (on stop). */
VELO_MUST_CHECK int batch_run_flush(batch_run *r);

/* True once recovery has finished and the replay reached the committed
 * offsets. Thread-safe. */
bool batch_run_ready(const batch_run *r);

void batch_run_stats(const batch_run *r, struct batch_engine_stats *st);

/* Records handled since this run started, replays not counted. */
uint64_t batch_run_records(const batch_run *r);

/* Aborts an open transaction and frees. NULL is a no-op. */
void batch_run_free(batch_run *r);

#endif
