/* loader.c: velib_aggregates -> batches -> the warehouse, on one thread
 * (see loader.h). */
#include "loader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "velo/backoff.h"
#include "velo/clock.h"
#include "velo/db.h"
#include "velo/kafka.h"
#include "velo/kafka_dlq.h"
#include "velo/log.h"

#define CONSUME_WAIT_MS 100 /* how soon a stop request is seen */
#define BACKOFF_BASE_MS 200
#define TOPIC_TIMEOUT_MS 5000
/* Partitions of the topic when velo-warehouse starts before velo-batch
 * made it (velib_data's default); velo-batch's records land anywhere. */
#define TOPIC_PARTITIONS 6
#define DLQ_FLUSH_MS 5000 /* dead letters delivered before the offsets */
#define PING_MS 2000      /* an idle loader checks the database this often */

struct loader_metrics {
    velo_metric *rows, *batches, *failures, *commit_failures, *db_up;
    velo_metric *dlq_failed, *fallbacks;
    velo_metric *rejected[WH_REJECT_COUNT];
    velo_metric *batch_seconds;
};

struct wh_loader {
    struct wh_loader_cfg      cfg; /* immutable */
    struct wh_status         *status;
    struct loader_metrics     m;
    velo_kafka_consumer      *kc;
    velo_kafka_producer      *kp; /* dead letters */
    struct velo_kafka_dlq_cfg dlq;
    pthread_t                 thr;
    bool                      started; /* main thread only */
    atomic_bool               stop;
    int                       stop_rv; /* read after join */
    /* Loader thread only. */
    velo_db            *db;
    wh_dims            *dims;
    struct wh_batch     batch;
    struct velo_backoff backoff;
    unsigned            logged; /* one bit per reject reason already warned */
    uint64_t fallbacks_seen;    /* l->db's load_fallbacks already counted */
    int      last_down;         /* error last logged as db.down */
    int64_t  next_ping;         /* velo_mono_ms of the next idle ping */
    bool     caught_up;         /* the last consume found nothing waiting */
};

static const double batch_bounds[] = {0.005, 0.01, 0.05, 0.1, 0.25,
                                      0.5,   1,    2.5,  5,   10};

static void
metrics_init(struct loader_metrics *lm, velo_metrics *m)
{
    char labels[64];
    int  i;

    lm->rows = velo_metrics_counter(m, "velo_warehouse_rows_loaded_total",
                                    "rows committed to the warehouse", NULL);
    lm->batches = velo_metrics_counter(m, "velo_warehouse_batches_total",
                                       "batches committed", NULL);
    lm->failures = velo_metrics_counter(
        m, "velo_warehouse_batch_failures_total",
        "batch transactions rolled back (database away); retried", NULL);
    lm->commit_failures = velo_metrics_counter(
        m, "velo_warehouse_offset_commit_failures_total",
        "Kafka offset commits that failed after a database commit (the "
        "batch is loaded again later, which changes nothing)",
        NULL);
    lm->db_up = velo_metrics_gauge(
        m, "velo_warehouse_db_up",
        "1 while the loader's last database operation worked", NULL);
    lm->dlq_failed = velo_metrics_counter(
        m, "velo_warehouse_dlq_failures_total",
        "dead letters the producer did not take or deliver in time (the "
        "batch's offsets then wait)",
        NULL);
    lm->fallbacks = velo_metrics_counter(
        m, "velo_warehouse_load_fallbacks_total",
        "loads whose facts were partly in the database already (a rerun, "
        "a late correction): merged by the slower path (PostgreSQL)",
        NULL);
    lm->batch_seconds = velo_metrics_histogram(
        m, "velo_warehouse_batch_seconds", "one batch transaction", NULL,
        batch_bounds, sizeof(batch_bounds) / sizeof(batch_bounds[0]));
    for (i = 0; i < WH_REJECT_COUNT; i++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"",
                 wh_reject_name((enum wh_reject)i));
        lm->rejected[i] = velo_metrics_counter(
            m, "velo_warehouse_rejected_total",
            "records not loaded: they do not decode or the database refused "
            "them alone",
            labels);
    }
}

/* Sleeps up to ms in short steps; true when a stop was requested. */
static bool
loader_sleep(wh_loader *l, int64_t ms)
{
    int64_t end = velo_mono_ms() + ms;

    while (!atomic_load(&l->stop) && velo_mono_ms() < end)
        velo_sleep_ms(CONSUME_WAIT_MS);
    return atomic_load(&l->stop);
}

/* The raw record to the dead-letter topic, with why. */
static void
loader_dead_letter(wh_loader *l, const struct velo_kafka_dlq_letter *dl)
{
    int rv = velo_kafka_dlq_write(l->kp, &l->dlq, dl);

    if (rv != VELO_OK) {
        velo_metric_inc(l->m.dlq_failed);
        velo_warn("warehouse.dlq.fail", VELO_S("topic", l->dlq.topic),
                  VELO_S("cause", velo_strerror(rv)));
    }
}

/* A rejected record: counted, logged (warn once per reason, then debug),
 * dead-lettered. */
static void
loader_reject(wh_loader *l, enum wh_reject why, const char *detail,
              struct velo_kafka_dlq_letter *dl)
{
    char reason[320];

    velo_metric_inc(l->m.rejected[why]);
    wh_status_rejected(l->status, 1);
    VELO_LOG_(l->logged & 1u << why ? VELO_LOG_DEBUG : VELO_LOG_WARN,
              "warehouse.rejected", VELO_S("reason", wh_reject_name(why)),
              VELO_S("detail", detail),
              VELO_I("partition", dl->origin_partition),
              VELO_I("offset", dl->origin_offset));
    l->logged |= 1u << why;
    snprintf(reason, sizeof(reason), "%s: %s", wh_reject_name(why), detail);
    dl->reason = reason;
    dl->source = "velo-warehouse";
    dl->origin_topic = l->cfg.topic;
    loader_dead_letter(l, dl);
}

/* The database refused rec alone: its message, packed again, is the
 * dead letter's value. */
static void
on_db_reject(void *ctx, const struct wh_record *rec, int err)
{
    struct velo_kafka_dlq_letter dl = {0};
    char                         detail[320];
    uint8_t                     *buf;
    size_t len = protobuf_c_message_get_packed_size(rec->msg);

    snprintf(detail, sizeof(detail), "%s/%s: %s", rec->row.system_id,
             rec->row.station_id, velo_strerror(err));
    buf = malloc(len ? len : 1);
    dl.key = rec->key;
    dl.keylen = rec->keylen;
    dl.origin_partition = rec->partition;
    dl.origin_offset = rec->offset;
    if (buf != NULL) {
        dl.value = buf;
        dl.len = protobuf_c_message_pack(rec->msg, buf);
    }
    loader_reject(ctx, WH_REJECT_DATABASE, detail, &dl);
    free(buf);
}

static void
loader_db_down(wh_loader *l, int rv)
{
    char why[96];

    snprintf(why, sizeof(why), "%s", velo_strerror(rv));
    wh_status_db_down(l->status, why);
    velo_metric_set(l->m.db_up, 0);
    if (rv != l->last_down) /* once per kind of failure, not per retry */
        velo_warn("warehouse.db.down", VELO_S("cause", why));
    l->last_down = rv;
}

/* Opens the database (migrating) when not open yet. */
static int
loader_db_open(wh_loader *l)
{
    struct velo_db_opts o = {.password = l->cfg.password,
                             .busy_timeout_ms = l->cfg.db_busy_ms};
    int64_t             v = 0;
    int                 rv;

    if (l->db != NULL)
        return VELO_OK;
    rv = velo_db_open(&l->db, l->cfg.db_url, &o);
    if (rv == VELO_OK && velo_db_schema_version(l->db, &v) != VELO_OK)
        v = velo_db_schema_latest(l->db);
    if (rv == VELO_OK) {
        static const char *const kinds[] = {"", "sqlite", "postgresql",
                                            "mssql"};
        enum velo_db_kind        k = velo_db_kind_of(l->db);

        wh_status_db_up(l->status, (unsigned)k < 4 ? kinds[k] : "", v);
        velo_info("warehouse.db.open", VELO_S("backend", kinds[k]),
                  VELO_I("schema_version", v));
    }
    return rv;
}

static void
loader_db_up(wh_loader *l)
{
    if (l->last_down != VELO_OK)
        velo_info("warehouse.db.up");
    l->last_down = VELO_OK;
    velo_metric_set(l->m.db_up, 1);
    velo_backoff_reset(&l->backoff);
}

/* The batch's offsets, partition by partition, after the database commit.
 * A failure (e.g. the partition moved in a rebalance) only means the
 * batch will be loaded again, which changes nothing. */
static void
loader_commit_offsets(wh_loader *l)
{
    struct velo_kafka_msg m;
    size_t                i;

    /* A dead letter not yet delivered would be lost with its offset
     * committed: wait for them, else leave the batch to be re-read. */
    if (velo_kafka_outq_len(l->kp) > 0 &&
        velo_kafka_flush(l->kp, DLQ_FLUSH_MS) != VELO_OK) {
        velo_metric_inc(l->m.dlq_failed);
        velo_warn("warehouse.dlq.pending",
                  VELO_S("cause", "offsets not committed; batch re-read"));
        return;
    }
    for (i = 0; i < l->batch.nparts; i++) {
        memset(&m, 0, sizeof(m));
        m.topic = l->cfg.topic;
        m.partition = l->batch.parts[i].partition;
        m.offset = l->batch.parts[i].next - 1;
        if (velo_kafka_commit(l->kc, &m) != VELO_OK)
            velo_metric_inc(l->m.commit_failures);
    }
}

/* The adapter counts rerun merges since open; the metric gets the new
 * ones (the loader keeps its db open until it stops). */
static void
loader_count_fallbacks(wh_loader *l)
{
    struct velo_db_stats st;

    velo_db_stats_get(l->db, &st);
    if (st.load_fallbacks > l->fallbacks_seen)
        velo_metric_add(l->m.fallbacks,
                        (double)(st.load_fallbacks - l->fallbacks_seen));
    l->fallbacks_seen = st.load_fallbacks;
}

/* One try: open if needed, then the transaction. */
static int
loader_try(wh_loader *l)
{
    int64_t t0 = velo_mono_ms();
    int     rv;

    rv = loader_db_open(l);
    if (rv == VELO_OK) {
        rv = wh_batch_load(&l->batch, l->db, l->dims, on_db_reject, l);
        loader_count_fallbacks(l);
    }
    if (rv == VELO_OK) {
        velo_metric_observe(l->m.batch_seconds,
                            (double)(velo_mono_ms() - t0) / 1000.0);
        velo_metric_add(l->m.rows, (double)l->batch.n);
        velo_metric_inc(l->m.batches);
        wh_status_loaded(l->status, l->batch.n, velo_now_ms());
        loader_db_up(l);
    }
    return rv;
}

/* Loads the held batch until it works (retrying = loading the same
 * records again) or a stop; then commits its offsets. once: a single try
 * (at stop). */
static int
loader_flush(wh_loader *l, bool once)
{
    int rv;

    for (;;) {
        rv = loader_try(l);
        if (rv == VELO_OK)
            break;
        velo_metric_inc(l->m.failures);
        loader_db_down(l, rv);
        if (once || loader_sleep(l, velo_backoff_next(&l->backoff)))
            return rv; /* nothing committed: re-consumed next start */
    }
    loader_commit_offsets(l);
    velo_debug("warehouse.batch", VELO_U("rows", l->batch.n),
               VELO_U("records", l->batch.records));
    wh_batch_clear(&l->batch);
    return VELO_OK;
}

/* Decodes one record into the batch, or rejects it. */
static void
loader_record(wh_loader *l, const struct velo_kafka_msg *msg)
{
    struct wh_record *rec = wh_batch_slot(&l->batch);
    struct wh_raw  raw = {msg->key, msg->keylen, msg->value, msg->len, NULL, 0};
    const void    *ct;
    enum wh_reject why;
    char           detail[160];
    struct velo_kafka_dlq_letter dl = {
        .key = msg->key,
        .keylen = msg->keylen,
        .value = msg->value,
        .len = msg->len,
        .origin_partition = msg->partition,
        .origin_offset = msg->offset,
    };

    if (velo_kafka_msg_header(msg, "content-type", &ct,
                              &raw.content_type_len) == VELO_OK)
        raw.content_type = ct;
    if (wh_record_decode(rec, &raw, &why, detail, sizeof(detail)) != VELO_OK) {
        loader_reject(l, why, detail, &dl);
        return;
    }
    /* The key copy serves only a later dead letter: without memory for
     * it the record still loads (a dead letter would lack its key). */
    if (wh_record_origin(rec, msg->key, msg->keylen, msg->partition,
                         msg->offset) != VELO_OK) {
        rec->partition = msg->partition;
        rec->offset = msg->offset;
    }
    wh_batch_push(&l->batch);
}

/* Takes one record if one comes within CONSUME_WAIT_MS. */
static void
loader_consume(wh_loader *l)
{
    struct velo_kafka_msg msg;
    int                   rv;

    rv = velo_kafka_consume(l->kc, &msg, CONSUME_WAIT_MS);
    l->caught_up = rv == VELO_ETIMEDOUT;
    if (rv == VELO_ETIMEDOUT)
        return;
    if (rv != VELO_OK) { /* logged by the adapter; do not spin */
        loader_sleep(l, CONSUME_WAIT_MS);
        return;
    }
    if (wh_batch_note(&l->batch, msg.partition, msg.offset, velo_mono_ms()) ==
        VELO_OK)
        loader_record(l, &msg);
    else /* more partitions than a batch tracks: never committed, re-read */
        velo_warn("warehouse.batch.partitions",
                  VELO_I("partition", msg.partition));
    velo_kafka_msg_release(&msg);
}

/* Full, or held batch_wait_ms, or nothing more came within
 * CONSUME_WAIT_MS: the input is caught up, and waiting longer would only
 * delay rows nobody is adding to (the end of a backlog, a quiet hour). */
static bool
batch_due(const wh_loader *l)
{
    return l->batch.records > 0 &&
           (wh_batch_full(&l->batch) || l->caught_up ||
            velo_mono_ms() - l->batch.first_mono >= l->cfg.batch_wait_ms);
}

/* The topics are made before the subscription when the broker can make
 * them (librdkafka would otherwise notice a topic created later only at
 * its next metadata refresh, minutes later). A broker that cannot (the
 * dev broker hangs on CreateTopics) gets the subscription anyway. */
static bool
loader_topic(wh_loader *l)
{
    const char *const topics[] = {l->cfg.topic, l->cfg.dlq_topic};
    size_t            i;

    for (i = 0; i < 2 && !atomic_load(&l->stop); i++)
        if (velo_kafka_ensure_topic(l->cfg.brokers, topics[i], TOPIC_PARTITIONS,
                                    TOPIC_TIMEOUT_MS) != VELO_OK)
            velo_warn("warehouse.topic.unverified", VELO_S("topic", topics[i]));
    while (!atomic_load(&l->stop)) {
        if (velo_kafka_subscribe(l->kc, l->cfg.topic) == VELO_OK)
            return true;
        velo_warn("warehouse.subscribe.retry", VELO_S("topic", l->cfg.topic));
        if (loader_sleep(l, velo_backoff_next(&l->backoff)))
            break;
    }
    return false;
}

/* Opens the database before the first record, so /readyz turns green
 * (and queries work) on an idle topic. */
static void
loader_open_first(wh_loader *l)
{
    int rv;

    while (!atomic_load(&l->stop) && (rv = loader_db_open(l)) != VELO_OK) {
        loader_db_down(l, rv);
        if (loader_sleep(l, velo_backoff_next(&l->backoff)))
            return;
    }
    loader_db_up(l);
}

/* With nothing to load, /readyz still follows the database: a cheap round
 * trip every PING_MS (it also reconnects a lost connection). */
static void
loader_idle_ping(wh_loader *l)
{
    int64_t now = velo_mono_ms();
    int     rv;

    if (now < l->next_ping || l->db == NULL)
        return;
    rv = velo_db_ping(l->db);
    l->next_ping = velo_mono_ms() + PING_MS;
    if (rv != VELO_OK) {
        loader_db_down(l, rv);
    } else if (l->last_down != VELO_OK) {
        wh_status_db_ok(l->status);
        loader_db_up(l);
    }
}

static void *
loader_main(void *arg)
{
    wh_loader *l = arg;

    l->stop_rv = VELO_OK;
    loader_open_first(l);
    if (atomic_load(&l->stop) || !loader_topic(l))
        return NULL;
    velo_backoff_reset(&l->backoff);
    velo_info("warehouse.subscribed", VELO_S("topic", l->cfg.topic),
              VELO_S("group", l->cfg.group_id));
    while (!atomic_load(&l->stop)) {
        if (!wh_batch_full(&l->batch))
            loader_consume(l);
        if (batch_due(l))
            (void)loader_flush(l, false);
        else if (l->batch.records == 0)
            loader_idle_ping(l);
    }
    if (l->batch.records > 0 && l->db != NULL)
        l->stop_rv = loader_flush(l, true);
    return NULL;
}

int
wh_loader_new(wh_loader **out, const struct wh_loader_cfg *cfg,
              struct wh_status *status, velo_metrics *m)
{
    struct velo_kafka_consumer_cfg kc = {
        .brokers = cfg->brokers,
        .group_id = cfg->group_id,
        .client_id = "velo-warehouse",
        .read_committed = true,
        .metrics = m, /* velo_kafka_consumer_lag: the load lag */
    };
    struct velo_kafka_cfg kp = {
        .brokers = cfg->brokers,
        .client_id = "velo-warehouse",
        .flush_timeout_ms = DLQ_FLUSH_MS,
    };
    wh_loader *l;
    int        rv;

    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return VELO_ENOMEM;
    l->cfg = *cfg;
    l->status = status;
    atomic_init(&l->stop, false);
    metrics_init(&l->m, m);
    velo_backoff_init(&l->backoff, BACKOFF_BASE_MS, cfg->retry_max_ms, 0);
    rv = wh_batch_init(&l->batch, cfg->batch_size);
    l->batch.crash_after = cfg->crash_after_rows;
    if (rv == VELO_OK)
        rv = wh_dims_new(&l->dims);
    if (rv == VELO_OK)
        rv = velo_kafka_consumer_new(&l->kc, &kc);
    if (rv == VELO_OK)
        rv = velo_kafka_producer_new(&l->kp, &kp);
    l->dlq = (struct velo_kafka_dlq_cfg){.topic = cfg->dlq_topic};
    if (rv != VELO_OK) {
        wh_loader_free(l);
        return rv;
    }
    *out = l;
    return VELO_OK;
}

int
wh_loader_start(wh_loader *l)
{
    if (pthread_create(&l->thr, NULL, loader_main, l) != 0)
        return VELO_ENOMEM;
    l->started = true;
    return VELO_OK;
}

int
wh_loader_stop(wh_loader *l)
{
    if (!l->started)
        return VELO_OK;
    atomic_store(&l->stop, true);
    pthread_join(l->thr, NULL);
    l->started = false;
    return l->stop_rv;
}

void
wh_loader_free(wh_loader *l)
{
    if (l == NULL)
        return;
    if (wh_loader_stop(l) != VELO_OK)
        velo_warn("warehouse.batch.left", VELO_S("cause", "database away at "
                                                          "stop; re-read at "
                                                          "the next start"));
    velo_kafka_consumer_free(l->kc);
    velo_kafka_producer_free(l->kp); /* flushes dead letters */
    velo_db_close(l->db);
    wh_dims_free(l->dims);
    wh_batch_fini(&l->batch);
    free(l);
}
