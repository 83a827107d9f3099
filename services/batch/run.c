/* run.c: the loop of velo-batch (see run.h). Thread: one (the loop's),
 * except batch_run_ready. */
#include "run.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "velo/clock.h"
#include "velo/log.h"

#define KEY_MAX 1024
#define VAL_MAX 4096
#define FULL_TRIES 20 /* produce attempts while the local queue is full */
#define FULL_WAIT_MS 50

struct run_metrics {
    velo_metric *records, *replayed, *dead, *rows_h, *rows_d, *corrections;
    velo_metric *late, *late_dropped, *commits, *aborts, *recoveries, *held;
    velo_metric *stations;
};

struct batch_run {
    struct batch_run_cfg cfg;
    struct batch_io      io;
    struct run_metrics   m;
    batch_engine        *e; /* NULL: recover first */
    int32_t              nparts;
    int64_t             *committed; /* per partition, next to read */
    int64_t             *next;      /* per partition, after what we read */
    bool                 txn_open;
    uint32_t             pending; /* records read since the last commit */
    uint64_t             handled; /* records handled, replays not counted */
    int64_t              txn_since;
    atomic_bool          ready;
    struct velo_buf      key, val;
    struct batch_engine_stats last; /* engine counters already reported */
};

static velo_metric *
counter(velo_metrics *m, const char *name, const char *help, const char *labels)
{
    return velo_metrics_counter(m, name, help, labels);
}

static void
metrics_init(struct run_metrics *rm, velo_metrics *m)
{
    rm->records = counter(m, "velo_batch_records_total",
                          "velib_data records aggregated", NULL);
    rm->replayed =
        counter(m, "velo_batch_replayed_total",
                "records read again at recovery (rows suppressed)", NULL);
    rm->dead = counter(m, "velo_batch_dead_letters_total",
                       "records that could not be used", NULL);
    rm->rows_h = counter(m, "velo_batch_rows_total", "rows produced",
                         "granularity=\"hourly\"");
    rm->rows_d = counter(m, "velo_batch_rows_total", "rows produced",
                         "granularity=\"daily\"");
    rm->corrections = counter(m, "velo_batch_corrections_total",
                              "rows produced again for a late record", NULL);
    rm->late = counter(m, "velo_batch_late_records_total",
                       "records whose window had already closed", NULL);
    rm->late_dropped =
        counter(m, "velo_batch_late_dropped_total",
                "windows a late record changed that were too old to "
                "correct",
                NULL);
    rm->commits = counter(m, "velo_batch_txn_commits_total",
                          "transactions committed", NULL);
    rm->aborts = counter(m, "velo_batch_txn_aborts_total",
                         "transactions aborted (then recovered)", NULL);
    rm->recoveries = counter(m, "velo_batch_recoveries_total",
                             "recoveries from the committed offsets", NULL);
    rm->held = velo_metrics_gauge(m, "velo_batch_held_systems",
                                  "systems whose daily windows wait for "
                                  "their zone",
                                  NULL);
    rm->stations = velo_metrics_gauge(m, "velo_batch_stations",
                                      "stations in memory", NULL);
}

static void
bump(velo_metric *c, double v)
{
    if (c != NULL && v > 0)
        velo_metric_add(c, v);
}

/* The engine's sink: one row into the open transaction. */
static int
run_emit(void *ctx, const struct batch_row *row)
{
    batch_run       *r = ctx;
    struct batch_out out;
    int              rv, i;

    velo_buf_reset(&r->key);
    velo_buf_reset(&r->val);
    rv = batch_row_key(row, &r->key);
    if (rv == VELO_OK)
        rv = batch_row_encode(row, &r->val, &out.content_type);
    if (rv == VELO_OK && !r->txn_open) {
        rv = r->io.begin(r->io.ctx);
        r->txn_open = rv == VELO_OK;
    }
    if (rv != VELO_OK)
        return rv;
    out.key = r->key.data;
    out.keylen = r->key.len;
    out.value = r->val.data;
    out.len = r->val.len;
    for (i = 0; i < FULL_TRIES; i++) {
        rv = r->io.produce(r->io.ctx, &out);
        if (rv != VELO_EFULL)
            break;
        velo_sleep_ms(FULL_WAIT_MS); /* the queue drains in the background */
    }
    if (rv == VELO_OK) {
        bump(row->gran == BATCH_HOURLY ? r->m.rows_h : r->m.rows_d, 1);
        bump(r->m.corrections, row->correction ? 1 : 0);
    }
    return rv;
}

int
batch_run_new(batch_run **out, const struct batch_run_cfg *cfg,
              const struct batch_io *io, velo_metrics *m)
{
    batch_run *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return VELO_ENOMEM;
    r->cfg = *cfg;
    r->io = *io;
    if (m != NULL)
        metrics_init(&r->m, m);
    velo_buf_init(&r->key, KEY_MAX);
    velo_buf_init(&r->val, VAL_MAX);
    atomic_init(&r->ready, false);
    *out = r;
    return VELO_OK;
}

static int
set_zone(void *arg, const char *system_id, const char *tz_name,
         const char *name)
{
    batch_run *r = arg;
    int        rv = VELO_OK;

    if (name != NULL)
        rv = batch_engine_set_name(r->e, system_id, name);
    if (rv != VELO_OK || tz_name == NULL)
        return rv;
    rv = batch_engine_set_zone(r->e, system_id, tz_name);
    if (rv == VELO_ENOTFOUND || rv == VELO_EINVAL || rv == VELO_EPROTO) {
        /* Its daily windows stay held (velo_batch_held_systems). */
        velo_warn("batch.zone.unknown", VELO_S("system", system_id),
                  VELO_S("zone", tz_name), VELO_S("cause", velo_strerror(rv)));
        return VELO_OK;
    }
    return rv;
}

/* Where the replay starts: lookback before the earliest committed
 * position (or the first record of a partition never committed). */
static int
seek_time(batch_run *r, int64_t *start)
{
    const struct batch_engine_cfg *ec = &r->cfg.engine;
    int64_t back = ec->horizon_ms + ec->heartbeat_ms + ec->lateness_ms +
                   r->cfg.seek_margin_ms;
    int64_t s = INT64_MAX, ts;
    int32_t p;
    int     rv;

    for (p = 0; p < r->nparts; p++) {
        int64_t c = r->committed[p];

        rv = r->io.timestamp_at(r->io.ctx, p, c > 0 ? c - 1 : 0, &ts);
        if (rv == VELO_ENOTFOUND)
            continue; /* nothing there (yet): later records come later */
        if (rv != VELO_OK)
            return rv;
        if (c <= 0) {
            *start = VELO_KAFKA_OFFSET_BEGINNING;
            return VELO_OK;
        }
        if (ts - back < s)
            s = ts - back;
    }
    *start = s == INT64_MAX ? VELO_KAFKA_OFFSET_BEGINNING : (s < 0 ? 0 : s);
    return VELO_OK;
}

static int
alloc_parts(batch_run *r, int32_t n)
{
    int64_t *c = calloc((size_t)n + 1, sizeof(*c));
    int64_t *x = calloc((size_t)n + 1, sizeof(*x));

    if (c == NULL || x == NULL) {
        free(c);
        free(x);
        return VELO_ENOMEM;
    }
    free(r->committed);
    free(r->next);
    r->committed = c;
    r->next = x;
    r->nparts = n;
    return VELO_OK;
}

/* Rebuilds the engine from the committed offsets (see run.h). */
static int
recover(batch_run *r)
{
    struct batch_sink sink = {run_emit, r};
    int64_t           start = 0;
    int32_t           n = 0, p;
    int               rv;

    batch_engine_free(r->e);
    r->e = NULL;
    memset(&r->last, 0, sizeof(r->last));
    r->pending = 0;
    rv = r->io.partitions(r->io.ctx, &n);
    if (rv == VELO_OK)
        rv = alloc_parts(r, n);
    if (rv == VELO_OK)
        rv = r->io.committed(r->io.ctx, r->committed, n);
    if (rv == VELO_OK)
        rv = seek_time(r, &start);
    if (rv == VELO_OK)
        rv = batch_engine_new(&r->e, &r->cfg.engine, &sink);
    for (p = 0; rv == VELO_OK && p < n; p++) {
        if (r->committed[p] < 0)
            r->committed[p] = 0;
        r->next[p] = r->committed[p];
        rv = batch_engine_replay_until(r->e, p, r->committed[p]);
    }
    if (rv == VELO_OK)
        rv = r->io.zones(r->io.ctx, true, set_zone, r);
    if (rv == VELO_OK)
        rv = r->io.seek(r->io.ctx, start);
    if (rv != VELO_OK) {
        batch_engine_free(r->e);
        r->e = NULL;
        return rv;
    }
    bump(r->m.recoveries, 1);
    velo_info("batch.recovered", VELO_I("partitions", n),
              VELO_I("seek_ms", start));
    atomic_store(&r->ready, true);
    return VELO_OK;
}

/* Reports what the engine counted for a record that was not replayed. */
static void
report(batch_run *r)
{
    struct batch_engine_stats st;

    batch_engine_stats(r->e, &st);
    bump(r->m.late, (double)(st.late_records - r->last.late_records));
    bump(r->m.late_dropped, (double)(st.late_dropped - r->last.late_dropped));
    if (r->m.held != NULL) {
        velo_metric_set(r->m.held, (double)st.held_systems);
        velo_metric_set(r->m.stations, (double)st.stations);
    }
    r->last = st;
}

/* The record's offset goes into the next commit. */
static void
consumed(batch_run *r, const struct batch_in *in)
{
    r->next[in->partition] = in->offset + 1;
    r->pending++;
}

static int
handle(batch_run *r, const struct batch_in *in)
{
    struct batch_rec rec;
    const char      *why = NULL;
    bool             replay = in->offset < r->committed[in->partition];
    int              rv;

    if (in->too_big) {
        why = "too big";
        rv = VELO_ETOOBIG;
    } else {
        rv = batch_rec_decode(in->value, in->len, &rec, &why);
    }
    if (rv == VELO_OK && in->timestamp_ms > 0 &&
        rec.s.t_ms > in->timestamp_ms + BATCH_MAX_FUTURE_MS) {
        why = "fetched_at_ms after the record's time";
        rv = VELO_EPROTO;
    }
    if (rv != VELO_OK) {
        if (replay)
            return VELO_OK; /* dead-lettered by the run that committed it */
        bump(r->m.dead, 1);
        /* At least once, outside the transaction: a failure is logged and
         * the record is still passed over (a redo would loop on it). */
        if (r->io.dead_letter(r->io.ctx, in, why) != VELO_OK)
            velo_warn("batch.dead_letter.fail", VELO_I("offset", in->offset));
        consumed(r, in);
        return VELO_OK;
    }
    rv = batch_engine_add_dims(r->e, in->partition, in->offset, rec.system_id,
                               rec.station_id, &rec.s, &rec.dims);
    if (rv != VELO_OK)
        return rv;
    if (replay) {
        /* Its late counts were reported by the run that committed it. */
        bump(r->m.replayed, 1);
        batch_engine_stats(r->e, &r->last);
        return VELO_OK;
    }
    bump(r->m.records, 1);
    r->handled++;
    report(r);
    consumed(r, in);
    return VELO_OK;
}

/* Aborts the open transaction and forgets the engine: the next step
 * recovers from the committed offsets. */
static void
fail_txn(batch_run *r, int cause)
{
    int rv = VELO_OK;

    if (r->txn_open)
        rv = r->io.abort(r->io.ctx);
    r->txn_open = false;
    bump(r->m.aborts, 1);
    velo_warn("batch.txn.abort", VELO_S("cause", velo_strerror(cause)),
              VELO_S("abort", velo_strerror(rv)));
    batch_engine_free(r->e);
    r->e = NULL;
}

static int
commit(batch_run *r, int64_t now_ms)
{
    struct velo_kafka_offset *offs;
    size_t                    n = 0;
    int32_t                   p;
    int                       rv = VELO_OK;

    offs = calloc((size_t)r->nparts + 1, sizeof(*offs));
    if (offs == NULL)
        return VELO_ENOMEM;
    for (p = 0; p < r->nparts; p++)
        if (r->next[p] > r->committed[p])
            offs[n++] = (struct velo_kafka_offset){r->cfg.topic, p, r->next[p]};
    if (!r->txn_open) {
        rv = r->io.begin(r->io.ctx);
        r->txn_open = rv == VELO_OK;
    }
    if (rv == VELO_OK)
        rv = r->io.commit(r->io.ctx, offs, n);
    free(offs);
    if (rv == VELO_ETIMEDOUT || rv == VELO_EUNAVAIL)
        return VELO_OK; /* still open: the next step commits again */
    if (rv != VELO_OK) {
        if (rv == VELO_EFENCED)
            return rv;
        fail_txn(r, rv);
        return VELO_OK;
    }
    r->txn_open = false;
    for (p = 0; p < r->nparts; p++)
        r->committed[p] = r->next[p];
    r->pending = 0;
    r->txn_since = now_ms;
    bump(r->m.commits, 1);
    return VELO_OK;
}

static bool
commit_due(const batch_run *r, int64_t now_ms, bool caught_up)
{
    if (r->pending == 0)
        return false;
    return r->pending >= r->cfg.txn_max_records || caught_up ||
           now_ms - r->txn_since >= r->cfg.txn_interval_ms;
}

int
batch_run_step(batch_run *r, int64_t now_ms, int wait_ms, bool *done)
{
    struct batch_in in;
    bool            caught_up;
    int             rv;

    if (r->e == NULL) {
        rv = recover(r);
        if (rv != VELO_OK)
            return rv;
        r->txn_since = now_ms;
    }
    rv = r->io.zones(r->io.ctx, false, set_zone, r);
    if (rv != VELO_OK)
        return rv;
    rv = r->io.next(r->io.ctx, &in, wait_ms);
    if (rv == VELO_OK) {
        if (in.partition < 0 || in.partition >= r->nparts) {
            rv = VELO_EPROTO; /* the topic grew: recover with the new count */
        } else {
            rv = handle(r, &in);
        }
        r->io.release(r->io.ctx, &in);
        if (rv == VELO_EFENCED)
            return rv;
        if (rv != VELO_OK) {
            fail_txn(r, rv);
            return VELO_OK;
        }
    } else if (rv != VELO_ETIMEDOUT) {
        return rv;
    }
    caught_up = r->io.caught_up(r->io.ctx);
    if (commit_due(r, now_ms, r->cfg.once && caught_up)) {
        rv = commit(r, now_ms);
        if (rv != VELO_OK || r->e == NULL)
            return rv;
    }
    if (r->cfg.once && caught_up && r->pending == 0 && !r->txn_open)
        *done = true;
    return VELO_OK;
}

void
batch_run_rearm(batch_run *r)
{
    if (r->txn_open || r->pending > 0)
        return; /* not done: the pass goes on */
    batch_engine_free(r->e);
    r->e = NULL;
}

int
batch_run_flush(batch_run *r)
{
    if (r->e == NULL || r->pending == 0)
        return VELO_OK;
    return commit(r, velo_mono_ms());
}

bool
batch_run_ready(const batch_run *r)
{
    return atomic_load(&((batch_run *)r)->ready);
}

void
batch_run_stats(const batch_run *r, struct batch_engine_stats *st)
{
    if (r->e == NULL) {
        memset(st, 0, sizeof(*st));
        return;
    }
    batch_engine_stats(r->e, st);
}

uint64_t
batch_run_records(const batch_run *r)
{
    return r->handled;
}

void
batch_run_free(batch_run *r)
{
    if (r == NULL)
        return;
    if (r->txn_open && r->io.abort(r->io.ctx) != VELO_OK)
        velo_warn("batch.txn.abort_fail");
    batch_engine_free(r->e);
    free(r->committed);
    free(r->next);
    velo_buf_fini(&r->key);
    velo_buf_fini(&r->val);
    free(r);
}
