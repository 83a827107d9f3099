/* batch.h: the records of one load, their Kafka positions, and the one
 * database transaction that loads them (see loader.h for the policy).
 *
 * Pure of Kafka: the loader consumes into it, tests fill it by hand.
 * Thread: one owner. */
#ifndef WAREHOUSE_BATCH_H
#define WAREHOUSE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dims.h"
#include "record.h"
#include "velo/db.h"

#define WH_BATCH_PARTS_MAX 1024 /* partitions one batch may span */

struct wh_part {
    int32_t partition;
    int64_t next; /* last offset in the batch + 1 */
};

struct wh_batch {
    struct wh_record   *recs; /* decoded, n of cap */
    size_t              n, cap;
    struct velo_db_row *rows; /* built by wh_batch_load, cap of them */
    struct wh_part      parts[WH_BATCH_PARTS_MAX];
    size_t              nparts;
    size_t              records;     /* records seen, rejected ones included */
    int64_t             first_mono;  /* velo_mono_ms of the first record */
    uint64_t            crash_after; /* tests: SIGKILL at this many rows */
    uint64_t            upserted;    /* rows upserted by this process */
    size_t              txns; /* transactions the last wh_batch_load tried */
};

VELO_MUST_CHECK int wh_batch_init(struct wh_batch *b, size_t cap);
void                wh_batch_fini(struct wh_batch *b);

/* Notes a consumed record's position (every record, decoded or not).
 * VELO_ETOOBIG past WH_BATCH_PARTS_MAX partitions. */
VELO_MUST_CHECK int wh_batch_note(struct wh_batch *b, int32_t partition,
                                  int64_t offset, int64_t now_mono);

/* The slot to decode the next record into (n < cap), and keeping it. */
struct wh_record *wh_batch_slot(struct wh_batch *b);
void              wh_batch_push(struct wh_batch *b);

/* True when the batch holds cap records. */
bool wh_batch_full(const struct wh_batch *b);

/* Frees the records and forgets the positions. */
void wh_batch_clear(struct wh_batch *b);

/* Called for each record the database refuses alone; may be NULL. */
typedef void (*wh_reject_fn)(void *ctx, const struct wh_record *rec, int err);

/* Fills absent dimension values (dims.h: learn from the whole batch
 * first), then loads every record in one transaction. When the database
 * refuses the batch for its content (VELO_EINVAL, ETOOBIG, EPROTO) it loads
 * each half in its own transaction, halving again what is refused, and
 * passes the records refused alone to on_reject. Returns VELO_OK (everything
 * loaded or rejected), or the error that says the database is away
 * (VELO_EUNAVAIL, ETIMEDOUT: nothing of the failed transaction stays; loading
 * the batch again is safe), or VELO_ENOMEM. */
VELO_MUST_CHECK int wh_batch_load(struct wh_batch *b, velo_db *db,
                                  wh_dims *dims, wh_reject_fn on_reject,
                                  void *ctx);

#endif
