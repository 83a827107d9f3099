/* consumer.c: velib_data -> decode -> state -> PUB, on one thread (see
 * consumer.h). */
#include "consumer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_decode.h"
#include "velo/backoff.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/kafka_dlq.h"
#include "velo/log.h"

#define CONSUME_WAIT_MS 100 /* how soon a stop request is seen */
#define TICK_MS 200         /* lag and rebuild checks */
#define COMMIT_DEFAULT_MS 1000
#define ASSIGN_TIMEOUT_MS 5000
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000
#define DLQ_FLUSH_MS 1000
/* Partitions of the DLQ topic when velo-stream creates it: velib_data's
 * default. Dead letters are rare and unordered; any count works. */
#define DLQ_PARTITIONS 6

struct cons_metrics {
    velo_metric *lag, *applied, *ignored, *failed, *stations, *freshness;
    velo_metric *published, *pub_failed, *dlq_failed, *dlq_skipped;
    velo_metric *dead[STREAM_DEAD_COUNT];
};

struct stream_consumer {
    struct stream_consumer_cfg cfg; /* immutable */
    stream_state              *st;
    struct stream_progress    *progress;
    velo_pub                  *pub;
    velo_kafka_consumer       *kc;
    velo_kafka_producer       *kp;
    struct cons_metrics        m;
    struct velo_kafka_dlq_cfg  dlq;
    pthread_t                  thr;
    bool                       started; /* main thread only */
    atomic_bool                stop;
    int stop_rv; /* the thread's last commit; read after join */
    /* Consumer thread only. */
    bool     dirty; /* records consumed since the last commit */
    int64_t  next_tick, next_commit, assigned_at;
    int64_t  consumed; /* records read since the assignment */
    unsigned logged;   /* one bit per dead-letter reason already logged */
    bool     pub_warned;
};

/* Milliseconds matter here (bench/freshness measures ~10 ms), and a source
 * that sends old data shows in the upper buckets. */
static const double freshness_bounds[] = {
    0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300, 1800};

static void
metrics_init(struct cons_metrics *cm, velo_metrics *m)
{
    char labels[64];
    int  i;

    cm->lag = velo_metrics_gauge(m, "velo_stream_consumer_lag",
                                 "records on the topic not applied yet", NULL);
    cm->applied = velo_metrics_counter(m, "velo_stream_records_applied_total",
                                       "snapshots applied to the state", NULL);
    cm->ignored = velo_metrics_counter(
        m, "velo_stream_records_ignored_total",
        "snapshots older than the station's current one", NULL);
    cm->failed = velo_metrics_counter(m, "velo_stream_apply_failures_total",
                                      "snapshots lost to out of memory", NULL);
    cm->stations = velo_metrics_gauge(m, "velo_stream_stations",
                                      "stations in the live state", NULL);
    cm->freshness = velo_metrics_histogram(
        m, "velo_stream_freshness_seconds",
        "now - fetched_at when a change becomes visible (after the rebuild)",
        NULL, freshness_bounds,
        sizeof(freshness_bounds) / sizeof(freshness_bounds[0]));
    cm->published = velo_metrics_counter(m, "velo_stream_published_total",
                                         "changes sent on PUB", NULL);
    cm->pub_failed = velo_metrics_counter(
        m, "velo_stream_publish_failures_total", "changes PUB refused", NULL);
    cm->dlq_failed = velo_metrics_counter(
        m, "velo_stream_dlq_failures_total",
        "dead letters the DLQ producer did not take", NULL);
    cm->dlq_skipped = velo_metrics_counter(
        m, "velo_stream_dlq_skipped_total",
        "dead letters not written again: the group had committed past them",
        NULL);
    for (i = 0; i < STREAM_DEAD_COUNT; i++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"",
                 stream_dead_name((enum stream_dead)i));
        cm->dead[i] = velo_metrics_counter(
            m, "velo_stream_dead_letters_total",
            "records sent to the dead-letter topic", labels);
    }
}

/* Sleeps up to ms in short steps; true when a stop was requested. */
static bool
consumer_sleep(stream_consumer *c, int64_t ms)
{
    int64_t end = velo_mono_ms() + ms;

    while (!atomic_load(&c->stop) && velo_mono_ms() < end)
        velo_sleep_ms(CONSUME_WAIT_MS);
    return atomic_load(&c->stop);
}

/* Assigns the topic from now - rebuild_ms, retrying with backoff until it
 * works (the topic may not exist before ingest's first poll). False when
 * stopped first. */
static bool
consumer_assign(stream_consumer *c)
{
    struct velo_backoff bo;
    int64_t             from;
    int                 rv, last = VELO_OK;

    velo_backoff_init(&bo, BACKOFF_MIN_MS, BACKOFF_MAX_MS, 0);
    while (!atomic_load(&c->stop)) {
        from = velo_now_ms() - c->cfg.rebuild_ms;
        rv =
            velo_kafka_assign_all(c->kc, c->cfg.topic, from, ASSIGN_TIMEOUT_MS);
        if (rv == VELO_OK) {
            atomic_store(&c->progress->assigned, true);
            velo_info("stream.assigned", VELO_S("topic", c->cfg.topic),
                      VELO_I("from_ms", from));
            return true;
        }
        if (rv != last) /* once per kind of failure, not per retry */
            velo_warn("stream.assign.retry", VELO_S("topic", c->cfg.topic),
                      VELO_S("cause", velo_strerror(rv)));
        last = rv;
        if (consumer_sleep(c, velo_backoff_next(&bo)))
            break;
    }
    return false;
}

/* Produces the record as it came, with why, to the DLQ: once per record.
 * Every replica reads every partition and every restart re-reads the
 * rebuild window, so a bad record is met many times. Only a reader past
 * the group's committed offset writes it: a record below the offset
 * stream-consumer had committed when this run assigned was already
 * handled (dead-lettered before its offset was committed, see
 * consumer_commit) by an earlier run or another replica. Counted and
 * logged either way, so every replica's metrics show the bad record. */
static void
consumer_dead_letter(stream_consumer *c, const struct velo_kafka_msg *msg,
                     enum stream_dead why, const char *detail)
{
    char                         err[320];
    struct velo_kafka_dlq_letter dl = {
        .key = msg->key,
        .keylen = msg->keylen,
        .value = msg->value,
        .len = msg->len,
        .reason = err,
        .source = "velo-stream",
        .origin_topic = msg->topic != NULL ? msg->topic : c->cfg.topic,
        .origin_partition = msg->partition,
        .origin_offset = msg->offset,
    };
    bool replayed = velo_kafka_handled_before(c->kc, msg);
    int  rv;

    snprintf(err, sizeof(err), "%s: %s", stream_dead_name(why), detail);
    velo_metric_inc(c->m.dead[why]);
    VELO_LOG_(c->logged & 1u << why ? VELO_LOG_DEBUG : VELO_LOG_WARN,
              "stream.dead_letter", VELO_S("reason", stream_dead_name(why)),
              VELO_S("detail", detail), VELO_I("partition", msg->partition),
              VELO_I("offset", msg->offset), VELO_B("replayed", replayed));
    c->logged |= 1u << why; /* later ones of this reason: debug */
    if (replayed) {
        velo_metric_inc(c->m.dlq_skipped);
        return;
    }
    rv = velo_kafka_dlq_write(c->kp, &c->dlq, &dl);
    if (rv != VELO_OK) {
        velo_metric_inc(c->m.dlq_failed);
        velo_warn("stream.dlq.fail", VELO_S("topic", c->cfg.dlq_topic),
                  VELO_S("cause", velo_strerror(rv)));
    }
}

/* A visible change: freshness, then PUB. e is read without the lock:
 * this thread is the state's only writer. */
static void
consumer_publish(stream_consumer *c, const struct stream_entry *e,
                 int64_t now_ms)
{
    Velo__V1__StationState ss = VELO__V1__STATION_STATE__INIT;
    int                    rv;

    /* During the rebuild "fresh" would measure the replay, not the
     * pipeline. */
    if (atomic_load(&c->progress->rebuilt) && e->snap->fetched_at_ms > 0)
        velo_metric_observe(c->m.freshness,
                            (double)(now_ms - e->snap->fetched_at_ms) / 1000.0);
    if (c->pub == NULL)
        return;
    stream_state_derive(c->st, e, now_ms, &ss);
    rv = velo_pub_send(c->pub, e->key, &ss.base);
    if (rv == VELO_OK) {
        velo_metric_inc(c->m.published);
        return;
    }
    velo_metric_inc(c->m.pub_failed);
    if (!c->pub_warned)
        velo_warn("stream.publish.fail", VELO_S("key", e->key),
                  VELO_S("cause", velo_strerror(rv)));
    c->pub_warned = true;
}

static void
consumer_apply(stream_consumer *c, Velo__V1__StationSnapshot *snap)
{
    const struct stream_entry *e = NULL;
    enum stream_apply          res;
    int64_t                    now = velo_now_ms();
    int                        rv;

    rv = stream_state_apply(c->st, snap, now, &res, &e);
    if (rv != VELO_OK) { /* record_decode.c checked the ids: out of memory */
        velo_metric_inc(c->m.failed);
        velo_error("stream.apply.fail", VELO_S("cause", velo_strerror(rv)));
        return;
    }
    if (res == STREAM_APPLY_OLDER) {
        velo_metric_inc(c->m.ignored);
        return;
    }
    velo_metric_inc(c->m.applied);
    if (res == STREAM_APPLY_NEW)
        velo_metric_set(c->m.stations, (double)stream_state_count(c->st));
    if (res != STREAM_APPLY_SAME)
        consumer_publish(c, e, now);
}

static void
consumer_record(stream_consumer *c, const struct velo_kafka_msg *msg)
{
    struct stream_record       r = {msg->key, msg->keylen, msg->value,
                                    msg->len, NULL,        0};
    Velo__V1__StationSnapshot *snap;
    enum stream_dead           why;
    char                       detail[256];

    if (velo_kafka_msg_header(msg, "content-type", &r.content_type,
                              &r.content_type_len) != VELO_OK)
        r.content_type = NULL;
    if (stream_record_decode(&snap, &r, c->cfg.max_record_bytes, &why, detail,
                             sizeof(detail)) != VELO_OK) {
        consumer_dead_letter(c, msg, why, detail);
        return;
    }
    consumer_apply(c, snap);
}

/* Commits every consumed record: all of them are applied by now. Dead
 * letters count as handled only once the DLQ has them: while some are in
 * flight the commit waits (VELO_EFULL), up to wait_ms for them. */
static int
consumer_commit(stream_consumer *c, int wait_ms)
{
    int rv;

    if (velo_kafka_outq_len(c->kp) > 0) {
        if (wait_ms == 0 || velo_kafka_flush(c->kp, wait_ms) != VELO_OK)
            return VELO_EFULL;
    }
    /* Periodic commits are async so the apply loop never waits a broker
     * round trip (it showed in bench/freshness's p99); the last one, at
     * stop, waits. */
    rv = wait_ms == 0 ? velo_kafka_commit_async(c->kc)
                      : velo_kafka_commit(c->kc, NULL);
    if (rv == VELO_OK)
        c->dirty = false;
    return rv;
}

/* Progress (lag, rebuilt), DLQ deliveries and periodic commits. */
static void
consumer_tick(stream_consumer *c)
{
    int64_t now = velo_mono_ms(), lag;

    if (now < c->next_tick)
        return;
    c->next_tick = now + TICK_MS;
    velo_kafka_poll(c->kp, 0);
    if (velo_kafka_consumer_lag(c->kc, &lag) == VELO_OK) {
        atomic_store(&c->progress->lag, lag);
        velo_metric_set(c->m.lag, (double)lag);
    }
    if (!atomic_load(&c->progress->rebuilt) && velo_kafka_caught_up(c->kc)) {
        atomic_store(&c->progress->rebuilt, true);
        velo_info("stream.rebuilt",
                  VELO_U("stations", stream_state_count(c->st)),
                  VELO_I("records", c->consumed),
                  VELO_I("elapsed_ms", now - c->assigned_at));
    }
    /* A commit held back by dead letters in flight is retried next tick;
     * failures are logged by the Kafka adapter and retried later. */
    if (c->dirty && now >= c->next_commit &&
        consumer_commit(c, 0) != VELO_EFULL)
        c->next_commit = now + c->cfg.commit_interval_ms;
}

static void *
consumer_main(void *arg)
{
    stream_consumer      *c = arg;
    struct velo_kafka_msg msg;

    c->stop_rv = VELO_OK;
    /* Made up front, so the first dead letter does not wait for (or
     * race) topic auto-creation, and readers of the DLQ find it. */
    if (velo_kafka_ensure_topic(c->cfg.brokers, c->cfg.dlq_topic,
                                DLQ_PARTITIONS, ASSIGN_TIMEOUT_MS) != VELO_OK)
        velo_warn("stream.dlq.unverified", VELO_S("topic", c->cfg.dlq_topic));
    if (!consumer_assign(c))
        return NULL;
    c->assigned_at = velo_mono_ms();
    while (!atomic_load(&c->stop)) {
        if (velo_kafka_consume(c->kc, &msg, CONSUME_WAIT_MS) == VELO_OK) {
            consumer_record(c, &msg);
            velo_kafka_msg_release(&msg);
            c->dirty = true;
            c->consumed++;
        }
        consumer_tick(c);
    }
    if (c->dirty)
        c->stop_rv = consumer_commit(c, DLQ_FLUSH_MS);
    return NULL;
}

int
stream_consumer_new(stream_consumer                 **out,
                    const struct stream_consumer_cfg *cfg, stream_state *st,
                    struct stream_progress *progress, velo_pub *pub,
                    velo_metrics *m)
{
    struct velo_kafka_consumer_cfg kc = {
        .brokers = cfg->brokers,
        .group_id = cfg->group_id,
        .client_id = cfg->client_id,
        /* Never rebuild from nothing while the topic has data (fault 9). */
        .time_miss_from_beginning = true,
    };
    struct velo_kafka_cfg kp = {
        .brokers = cfg->brokers,
        .client_id = cfg->client_id,
        .flush_timeout_ms = cfg->flush_timeout_ms,
    };
    stream_consumer *c;
    int              rv;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VELO_ENOMEM;
    c->cfg = *cfg;
    c->dlq = (struct velo_kafka_dlq_cfg){.topic = cfg->dlq_topic};
    if (c->cfg.commit_interval_ms == 0)
        c->cfg.commit_interval_ms = COMMIT_DEFAULT_MS;
    c->st = st;
    c->progress = progress;
    c->pub = pub;
    atomic_init(&c->stop, false);
    metrics_init(&c->m, m);
    rv = velo_kafka_consumer_new(&c->kc, &kc);
    if (rv == VELO_OK)
        rv = velo_kafka_producer_new(&c->kp, &kp);
    if (rv != VELO_OK) {
        stream_consumer_free(c);
        return rv;
    }
    *out = c;
    return VELO_OK;
}

int
stream_consumer_start(stream_consumer *c)
{
    if (pthread_create(&c->thr, NULL, consumer_main, c) != 0)
        return VELO_ENOMEM;
    c->started = true;
    return VELO_OK;
}

int
stream_consumer_stop(stream_consumer *c)
{
    if (!c->started)
        return VELO_OK;
    atomic_store(&c->stop, true);
    pthread_join(c->thr, NULL);
    c->started = false;
    return c->stop_rv;
}

void
stream_consumer_free(stream_consumer *c)
{
    if (c == NULL)
        return;
    if (stream_consumer_stop(c) != VELO_OK)
        velo_warn("stream.commit.lost");
    velo_kafka_consumer_free(c->kc);
    velo_kafka_producer_free(c->kp);
    free(c);
}
