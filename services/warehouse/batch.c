/* batch.c: one batch, one transaction (see batch.h). */
#include "batch.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

int
wh_batch_init(struct wh_batch *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->recs = calloc(cap, sizeof(*b->recs));
    b->rows = calloc(cap, sizeof(*b->rows));
    if (b->recs == NULL || b->rows == NULL) {
        wh_batch_fini(b);
        return VELO_ENOMEM;
    }
    b->cap = cap;
    return VELO_OK;
}

void
wh_batch_fini(struct wh_batch *b)
{
    if (b->recs != NULL)
        wh_batch_clear(b);
    free(b->recs);
    free(b->rows);
    memset(b, 0, sizeof(*b));
}

int
wh_batch_note(struct wh_batch *b, int32_t partition, int64_t offset,
              int64_t now_mono)
{
    size_t i;

    if (b->records++ == 0)
        b->first_mono = now_mono;
    for (i = 0; i < b->nparts; i++) {
        if (b->parts[i].partition == partition) {
            if (offset + 1 > b->parts[i].next)
                b->parts[i].next = offset + 1;
            return VELO_OK;
        }
    }
    if (b->nparts == WH_BATCH_PARTS_MAX)
        return VELO_ETOOBIG;
    b->parts[b->nparts].partition = partition;
    b->parts[b->nparts++].next = offset + 1;
    return VELO_OK;
}

struct wh_record *
wh_batch_slot(struct wh_batch *b)
{
    return b->n < b->cap ? &b->recs[b->n] : NULL;
}

void
wh_batch_push(struct wh_batch *b)
{
    b->n++;
}

bool
wh_batch_full(const struct wh_batch *b)
{
    return b->records >= b->cap;
}

void
wh_batch_clear(struct wh_batch *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        wh_record_fini(&b->recs[i]);
    b->n = 0;
    b->nparts = 0;
    b->records = 0;
}

static bool
db_away(int rv)
{
    return rv == VELO_EUNAVAIL || rv == VELO_ETIMEDOUT || rv == VELO_ENOMEM;
}

/* Fault injection for tests (--crash-after-rows): kill -9 once
 * b->crash_after rows were upserted, inside the open transaction. */
static void
crash_point(struct wh_batch *b, size_t n)
{
    b->upserted += n;
    if (b->crash_after > 0 && b->upserted >= b->crash_after)
        raise(SIGKILL);
}

/* One transaction: every row or none. */
static int
txn(struct wh_batch *b, velo_db *db, const struct velo_db_row *rows, size_t n)
{
    int rv;

    b->txns++;
    rv = velo_db_begin(db);
    if (rv == VELO_OK)
        rv = velo_db_upsert(db, rows, n);
    if (rv == VELO_OK)
        crash_point(b, n);
    if (rv == VELO_OK)
        rv = velo_db_commit(db);
    if (rv != VELO_OK)
        velo_db_rollback(db);
    return rv;
}

/* Rows [lo, hi) in one transaction; refused for their content, each half
 * in its own, down to the rows refused alone: one bad row in n costs about
 * 2 log2(n) transactions, not n. Halves loaded stay loaded if the
 * database goes away midway: loading them again later changes nothing. */
static int
load_range(struct wh_batch *b, velo_db *db, size_t lo, size_t hi,
           wh_reject_fn on_reject, void *ctx)
{
    size_t mid;
    int    rv = txn(b, db, &b->rows[lo], hi - lo);

    if (rv == VELO_OK || db_away(rv))
        return rv;
    if (hi - lo == 1) {
        if (on_reject != NULL)
            on_reject(ctx, &b->recs[lo], rv);
        return VELO_OK;
    }
    mid = lo + (hi - lo) / 2;
    rv = load_range(b, db, lo, mid, on_reject, ctx);
    if (rv == VELO_OK)
        rv = load_range(b, db, mid, hi, on_reject, ctx);
    return rv;
}

int
wh_batch_load(struct wh_batch *b, velo_db *db, wh_dims *dims,
              wh_reject_fn on_reject, void *ctx)
{
    size_t i;
    int    rv;

    for (i = 0; i < b->n; i++) {
        rv = wh_dims_learn(dims, &b->recs[i]);
        if (rv != VELO_OK)
            return rv;
    }
    for (i = 0; i < b->n; i++) {
        wh_dims_fill(dims, &b->recs[i]);
        wh_record_row(&b->recs[i], &b->rows[i]);
    }
    b->txns = 0;
    if (b->n == 0)
        return VELO_OK;
    return load_range(b, db, 0, b->n, on_reject, ctx);
}
