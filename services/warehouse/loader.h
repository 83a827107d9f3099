/* loader.h: the thread that loads velib_aggregates into the warehouse.
 *
 * It joins consumer group `group_id` (read_committed: velo-batch writes in
 * Kafka transactions, aborted ones are never loaded) and gathers records
 * into batches of at most batch_size, closed batch_wait_ms after their
 * first record. Each batch is one database transaction (velo_db_begin,
 * velo_db_upsert, velo_db_commit); only after that commit are the batch's
 * offsets committed to Kafka (synchronously, exactly the batch's: the last
 * offset + 1 of each partition in it). Upserts are keyed by (system,
 * station, granularity, window), so a batch loaded twice (a crash between
 * the two commits, a rebalance) leaves identical tables.
 *
 * Records that do not decode (record.h) are counted
 * (velo_warehouse_rejected_total{reason}) and written to the dead-letter
 * topic (velo/kafka_dlq.h: raw key and value, velo-error, velo-source
 * "velo-warehouse", origin topic/partition/offset); the batch's offsets
 * are committed only once the dead letters are delivered, so a crash
 * never loses one (it may write one twice: the batch is re-read).
 *
 * The database down or restarting: the transaction is rolled back, the
 * status says why (/readyz 503), the loader waits (jittered backoff up to
 * retry_max_ms) and loads the same held batch again; nothing is committed
 * to Kafka meanwhile, so a crash then loses nothing either. A batch the
 * database refuses for its content (not for being down) is loaded row by
 * row, and a row refused alone is rejected (reason "database").
 *
 *   wh_loader_new -> _start -> (signal) -> _stop -> _free
 *
 * Thread: _new/_start/_stop/_free from one thread (main). */
#ifndef WAREHOUSE_LOADER_H
#define WAREHOUSE_LOADER_H

#include <stdint.h>

#include "status.h"
#include "velo/err.h"
#include "velo/metrics.h"

struct wh_loader_cfg {
    const char *brokers;
    const char *topic;
    const char *group_id;
    const char *dlq_topic;
    const char *db_url;
    const char *password; /* NULL: none */
    uint32_t    batch_size;
    uint32_t    batch_wait_ms;
    uint32_t    retry_max_ms;
    uint32_t    db_busy_ms;       /* SQLite lock wait; 0: velo_db's default */
    uint32_t    crash_after_rows; /* tests: SIGKILL mid-load, 0: never */
};

typedef struct wh_loader wh_loader;

/* Makes the Kafka consumer (no broker contact yet); the database is opened
 * by the thread. cfg's strings, status and m are borrowed and outlive the
 * loader. VELO_EINVAL (bad cfg, logged), VELO_ENOMEM. */
VELO_MUST_CHECK int wh_loader_new(wh_loader                 **out,
                                  const struct wh_loader_cfg *cfg,
                                  struct wh_status *status, velo_metrics *m);

VELO_MUST_CHECK int wh_loader_start(wh_loader *l);

/* Stops taking records; a gathered batch is loaded once more if the
 * database is up (else left for the next start: its offsets are not
 * committed). Waits for the thread. VELO_OK, or the error of that last
 * load. */
VELO_MUST_CHECK int wh_loader_stop(wh_loader *l);

/* Stops if needed, leaves the group, closes the database. NULL: no-op. */
void wh_loader_free(wh_loader *l);

#endif
