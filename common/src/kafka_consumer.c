/* kafka_consumer.c: the consumer half of the librdkafka adapter (see
 * velo/kafka.h): group or whole-topic assignment, records, headers,
 * commits, and the progress a rebuilding consumer needs (lag, caught up to
 * the high watermarks seen at assign time). Client setup, error mapping and
 * logging are shared with kafka.c through kafka_int.h. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_consumer_int.h"
#include "kafka_int.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"

#define KAFKA_DEFAULT_SESSION 10000u
#define KAFKA_TOPIC_NAME_MAX 256 /* Kafka allows 249 characters */
#define KAFKA_LAG_EVERY_MS 1000  /* velo_kafka_consumer_lag refresh */

static int
kafka_consumer_conf(rd_kafka_conf_t                      *conf,
                    const struct velo_kafka_consumer_cfg *cfg)
{
    const char *const kv[][2] = {
        {"group.id", cfg->group_id},
        {"client.id",
         velo_kafka__str_empty(cfg->client_id) ? "velo" : cfg->client_id},
        /* Offsets are committed only after the effect is durable. */
        {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"},
        {"heartbeat.interval.ms", "500"},
        {"isolation.level",
         cfg->read_committed ? "read_committed" : "read_uncommitted"},
        {"enable.partition.eof", "false"},
    };
    int rv;

    rv = velo_kafka__conf_set_all(conf, kv, sizeof(kv) / sizeof(kv[0]));
    if (rv == VELO_OK && cfg->read_ahead_records > 0) {
        rv = velo_kafka__conf_set_u32(conf, "queued.min.messages",
                                      cfg->read_ahead_records);
        if (rv == VELO_OK)
            rv = velo_kafka__conf_set_u32(conf, "max.partition.fetch.bytes",
                                          VELO_KAFKA_READ_AHEAD_FETCH_BYTES);
    }
    if (rv == VELO_OK && cfg->fetch_wait_max_ms > 0)
        rv = velo_kafka__conf_set_u32(conf, "fetch.wait.max.ms",
                                      cfg->fetch_wait_max_ms);
    if (rv == VELO_OK)
        rv = velo_kafka__conf_set_u32(conf, "session.timeout.ms",
                                      cfg->session_timeout_ms
                                          ? cfg->session_timeout_ms
                                          : KAFKA_DEFAULT_SESSION);
    return rv;
}

/* The group id comes from configuration: one bounded label. */
static void
kafka_lag_gauge(velo_kafka_consumer *kc, velo_metrics *m, const char *group)
{
    char labels[300];

    velo_metrics_label(labels, sizeof(labels), "group", group);
    kc->lag_gauge = velo_metrics_gauge(
        m, "velo_kafka_consumer_lag",
        "records behind the high watermarks of the assigned partitions",
        labels);
}

int
velo_kafka_consumer_new(velo_kafka_consumer                 **out,
                        const struct velo_kafka_consumer_cfg *cfg)
{
    velo_kafka_consumer *kc;
    rd_kafka_conf_t     *conf;
    int                  rv;

    if (velo_kafka__str_empty(cfg->brokers) ||
        velo_kafka__str_empty(cfg->group_id)) {
        velo_error("kafka.config.invalid",
                   VELO_S("cause", "consumer needs brokers and group_id"));
        return VELO_EINVAL;
    }
    kc = calloc(1, sizeof(*kc));
    if (kc == NULL)
        return VELO_ENOMEM;
    rv = VELO_EINVAL;
    conf = velo_kafka__conf_base(cfg->brokers);
    if (conf == NULL)
        goto fail;
    rv = kafka_consumer_conf(conf, cfg);
    if (rv != VELO_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rv = velo_kafka__client_new(&kc->rk, RD_KAFKA_CONSUMER, conf);
    if (rv != VELO_OK)
        goto fail;
    kc->time_miss_from_beginning = cfg->time_miss_from_beginning;
    kc->catch_up_max =
        (int)(cfg->catch_up_partitions > INT32_MAX ? INT32_MAX
                                                   : cfg->catch_up_partitions);
    kc->read_ahead =
        (int)(cfg->read_ahead_records > INT32_MAX ? INT32_MAX
                                                  : cfg->read_ahead_records);
    if (kc->read_ahead > 0)
        kc->cq = rd_kafka_queue_get_consumer(kc->rk);
    if (cfg->metrics != NULL)
        kafka_lag_gauge(kc, cfg->metrics, cfg->group_id);
    /* One queue: errors and rebalances are served by consumer_poll. */
    (void)rd_kafka_poll_set_consumer(kc->rk);
    *out = kc;
    return VELO_OK;

fail:
    free(kc);
    return rv;
}

/* Splits "a,b,c" into list. Empty or over-long names are VELO_EINVAL. */
static int
kafka_topics_parse(rd_kafka_topic_partition_list_t *list, const char *s)
{
    char        name[KAFKA_TOPIC_NAME_MAX];
    const char *comma;
    size_t      n;

    for (;;) {
        comma = strchr(s, ',');
        n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        if (n == 0 || n >= sizeof(name))
            return VELO_EINVAL;
        memcpy(name, s, n);
        name[n] = '\0';
        rd_kafka_topic_partition_list_add(list, name, RD_KAFKA_PARTITION_UA);
        if (comma == NULL)
            return VELO_OK;
        s = comma + 1;
    }
}

int
velo_kafka_subscribe(velo_kafka_consumer *kc, const char *topics)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t              err;
    int                              rv;

    list = rd_kafka_topic_partition_list_new(4);
    rv = kafka_topics_parse(list, topics);
    if (rv == VELO_OK) {
        err = rd_kafka_subscribe(kc->rk, list);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            velo_warn("kafka.subscribe.fail", VELO_S("topics", topics),
                      VELO_S("cause", rd_kafka_err2str(err)));
            rv = velo_kafka__err_map(err);
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rv;
}

/* Replaces each partition's timestamp with the first offset at or after
 * it (-1, the end, when there is none). */
static int
kafka_offsets_for_times(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                        int timeout_ms)
{
    rd_kafka_resp_err_t err;
    int                 i;

    err = rd_kafka_offsets_for_times(rk, list, timeout_ms);
    for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; i++)
        err = list->elems[i].err;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        velo_warn("kafka.offsets_for_times.fail",
                  VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
        return velo_kafka__err_map(err);
    }
    return VELO_OK;
}

/* Forgets what kafka_marks_capture recorded. */
static void
kafka_marks_clear(velo_kafka_consumer *kc)
{
    if (kc->pos != NULL)
        rd_kafka_topic_partition_list_destroy(kc->pos);
    kc->pos = NULL;
    free(kc->parts);
    kc->parts = NULL;
}

/* The start of one partition, given its watermarks. A time lookup that
 * found no record at or after the time answers END (-1; librdkafka
 * 2.0.2's mock cluster answers that to every time, and may give the high
 * watermark itself). For a rebuild (by_time is then true only with
 * time_miss_from_beginning), while the partition holds records, start
 * from its beginning instead: on a real broker every record is older
 * than the rebuild window (ingest was down longer than a heartbeat) and
 * the last known state beats an empty one; on the dev broker, which keeps
 * little, it is the only way to rebuild at all. */
static int64_t
kafka_part_start(rd_kafka_topic_partition_t *tp, bool by_time, int64_t lo,
                 int64_t hi)
{
    if (by_time && (tp->offset < 0 || tp->offset >= hi) && lo < hi) {
        velo_info("kafka.assign.time_not_found", VELO_S("topic", tp->topic),
                  VELO_I("partition", tp->partition), VELO_I("from", lo),
                  VELO_I("records", hi - lo));
        tp->offset = lo;
    }
    /* BEGINNING and END become real offsets, and are assigned as such: a
     * logical END would be resolved later, when fetching starts, and skip
     * records produced in between (a topic that was empty at assign time
     * and is written right after never showed them). */
    tp->offset = tp->offset == RD_KAFKA_OFFSET_BEGINNING ? lo
                 : tp->offset < 0                        ? hi
                                                         : tp->offset;
    return tp->offset;
}

/* Records, for every partition of list, the absolute start offset and the
 * high watermark now: the end of what a rebuild has to read. by_time: the
 * offsets came from a time lookup (kafka_part_start may move them). */
static int
kafka_marks_capture(velo_kafka_consumer             *kc,
                    rd_kafka_topic_partition_list_t *list, bool by_time,
                    int64_t deadline_ms)
{
    rd_kafka_topic_partition_t *tp = &list->elems[0];
    rd_kafka_resp_err_t         err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t                     lo = -1, hi = -1;
    int                         i, left;

    kc->parts = calloc((size_t)list->cnt, sizeof(*kc->parts));
    if (kc->parts == NULL)
        return VELO_ENOMEM;
    for (i = 0; i < list->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        tp = &list->elems[i];
        left = (int)(deadline_ms - velo_mono_ms());
        err = left > 0 ? rd_kafka_query_watermark_offsets(
                             kc->rk, tp->topic, tp->partition, &lo, &hi, left)
                       : RD_KAFKA_RESP_ERR__TIMED_OUT;
        kc->parts[i].target = hi;
        kc->parts[i].start = kafka_part_start(tp, by_time, lo, hi);
    }
    kc->pos = rd_kafka_topic_partition_list_copy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        velo_warn("kafka.watermarks.fail", VELO_S("topic", tp->topic),
                  VELO_I("partition", tp->partition),
                  VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
        return velo_kafka__err_map(err);
    }
    return VELO_OK;
}

/* Records the group's committed offset of every assigned partition (for
 * velo_kafka_handled_before), with a time budget of its own: a group
 * coordinator still loading must not cost the watermarks theirs. A
 * failure only loses that knowledge: logged, and every partition counts
 * as never committed. */
static void
kafka_committed_capture(velo_kafka_consumer *kc, int64_t deadline_ms)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t              err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    int                              i, left;

    for (i = 0; i < kc->pos->cnt; i++)
        kc->parts[i].committed = -1;
    list = rd_kafka_topic_partition_list_copy(kc->pos);
    left = (int)(deadline_ms - velo_mono_ms());
    if (left > 0)
        err = rd_kafka_committed(kc->rk, list, left);
    for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; i++)
        kc->parts[i].committed =
            list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR
                ? list->elems[i].offset
                : -1;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        velo_warn("kafka.committed.fail",
                  VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
    rd_kafka_topic_partition_list_destroy(list);
}

/* Once per consumer: replacing a live assignment can trip an assertion
 * inside librdkafka 2.0.2 (a racing FETCH_STOP), which aborts the process.
 * A caller that needs a new assignment makes a new consumer. */
int
velo_kafka_assign_all(velo_kafka_consumer *kc, const char *topic,
                      int64_t start_ms, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t              err;
    int64_t                          deadline = velo_mono_ms() + timeout_ms;
    int                              i, rv;

    if (start_ms < VELO_KAFKA_OFFSET_BEGINNING || kc->assigned)
        return VELO_EINVAL;
    list = rd_kafka_topic_partition_list_new(8);
    rv = velo_kafka__topic_partitions(kc->rk, topic, timeout_ms, list);
    /* BEGINNING and END are librdkafka's own logical offsets (-2, -1);
     * a timestamp is resolved to an offset first. */
    for (i = 0; rv == VELO_OK && i < list->cnt; i++)
        list->elems[i].offset = start_ms;
    if (rv == VELO_OK && start_ms >= 0)
        rv = kafka_offsets_for_times(kc->rk, list, timeout_ms);
    if (rv == VELO_OK)
        rv = kafka_marks_capture(
            kc, list, start_ms >= 0 && kc->time_miss_from_beginning, deadline);
    if (rv == VELO_OK)
        kafka_committed_capture(kc, velo_mono_ms() + timeout_ms);
    if (rv == VELO_OK) {
        err = velo_kafka__catchup_start(kc);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            velo_warn("kafka.assign.fail", VELO_S("topic", topic),
                      VELO_S("cause", rd_kafka_err2str(err)));
            rv = velo_kafka__err_map(err);
        }
    }
    if (rv != VELO_OK)
        kafka_marks_clear(kc);
    kc->assigned = rv == VELO_OK;
    rd_kafka_topic_partition_list_destroy(list);
    return rv;
}

/* Fills kc->pos with the position (next offset to read) of every assigned
 * partition: RD_KAFKA_OFFSET_INVALID until a record of it was consumed. */
static int
kafka_positions(velo_kafka_consumer *kc)
{
    rd_kafka_resp_err_t err;

    if (!kc->assigned)
        return VELO_EINVAL;
    err = rd_kafka_position(kc->rk, kc->pos);
    return velo_kafka__err_map(err);
}

bool
velo_kafka_caught_up(velo_kafka_consumer *kc)
{
    int64_t off;
    int     i;

    if (kafka_positions(kc) != VELO_OK)
        return false;
    for (i = 0; i < kc->pos->cnt; i++) {
        if (kc->parts[i].start >= kc->parts[i].target)
            continue; /* nothing to read there at assign time */
        off = kc->pos->elems[i].offset;
        if (off < 0 || off < kc->parts[i].target)
            return false;
    }
    return true;
}

bool
velo_kafka_handled_before(velo_kafka_consumer         *kc,
                          const struct velo_kafka_msg *msg)
{
    int i;

    for (i = 0; kc->assigned && i < kc->pos->cnt; i++) {
        if (kc->pos->elems[i].partition == msg->partition)
            return msg->offset < kc->parts[i].committed;
    }
    return false;
}

int
velo_kafka_consumer_lag(velo_kafka_consumer *kc, int64_t *lag)
{
    const rd_kafka_topic_partition_t *tp;
    int64_t                           lo, hi, pos, sum = 0;
    int                               i, rv;

    rv = kafka_positions(kc);
    if (rv != VELO_OK)
        return rv;
    for (i = 0; i < kc->pos->cnt; i++) {
        tp = &kc->pos->elems[i];
        pos = tp->offset >= 0 ? tp->offset : kc->parts[i].start;
        /* The watermark cached from the latest fetch: no broker round
         * trip. Before the first fetch, the one seen at assign time. */
        if (rd_kafka_get_watermark_offsets(kc->rk, tp->topic, tp->partition,
                                           &lo,
                                           &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0)
            hi = kc->parts[i].target;
        if (hi > pos)
            sum += hi - pos;
    }
    *lag = sum;
    return VELO_OK;
}

/* Lag of a group member: its assignment's positions against the cached
 * high watermarks. */
static int
kafka_group_lag(velo_kafka_consumer *kc, int64_t *lag)
{
    rd_kafka_topic_partition_list_t  *a = NULL;
    const rd_kafka_topic_partition_t *tp;
    int64_t                           lo, hi, sum = 0;
    int                               i;

    if (rd_kafka_assignment(kc->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_EUNAVAIL;
    (void)rd_kafka_position(kc->rk, a); /* per-partition errors: skipped */
    for (i = 0; i < a->cnt; i++) {
        tp = &a->elems[i];
        if (tp->offset < 0 || rd_kafka_get_watermark_offsets(
                                  kc->rk, tp->topic, tp->partition, &lo, &hi) !=
                                  RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        if (hi > tp->offset)
            sum += hi - tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(a);
    *lag = sum;
    return VELO_OK;
}

/* Refreshes velo_kafka_consumer_lag at most every KAFKA_LAG_EVERY_MS. */
static void
kafka_lag_refresh(velo_kafka_consumer *kc)
{
    int64_t now = velo_mono_ms(), lag;
    int     rv;

    if (kc->lag_gauge == NULL || now < kc->lag_next_ms)
        return;
    kc->lag_next_ms = now + KAFKA_LAG_EVERY_MS;
    rv = kc->assigned ? velo_kafka_consumer_lag(kc, &lag)
                      : kafka_group_lag(kc, &lag);
    if (rv == VELO_OK)
        velo_metric_set(kc->lag_gauge, (double)lag);
}

int
velo_kafka_consume(velo_kafka_consumer *kc, struct velo_kafka_msg *msg,
                   int timeout_ms)
{
    rd_kafka_message_t *rkm;
    int                 rv;

    kafka_lag_refresh(kc);
    rkm = rd_kafka_consumer_poll(kc->rk, timeout_ms);
    if (rkm == NULL) {
        velo_kafka__catchup_idle(kc);
        return VELO_ETIMEDOUT;
    }
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rv = velo_kafka__err_map(rkm->err);
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            rv = VELO_ETIMEDOUT; /* not reported, as promised */
        else
            velo_warn("kafka.consume.error",
                      VELO_S("code", rd_kafka_err2name(rkm->err)),
                      VELO_S("cause", rd_kafka_message_errstr(rkm)));
        rd_kafka_message_destroy(rkm);
        return rv;
    }
    msg->topic = rkm->rkt != NULL ? rd_kafka_topic_name(rkm->rkt) : NULL;
    msg->partition = rkm->partition;
    msg->offset = rkm->offset;
    msg->key = rkm->key;
    msg->keylen = rkm->key_len;
    msg->value = rkm->payload;
    msg->len = rkm->len;
    msg->timestamp_ms = rd_kafka_message_timestamp(rkm, NULL);
    msg->raw_ = rkm;
    velo_kafka__catchup_note(kc, rkm->partition, rkm->offset);
    velo_kafka__readahead_note(kc, rkm);
    return VELO_OK;
}

int
velo_kafka_msg_header(const struct velo_kafka_msg *msg, const char *name,
                      const void **val, size_t *len)
{
    rd_kafka_headers_t *rh;
    const void         *v;
    size_t              n;

    if (rd_kafka_message_headers(msg->raw_, &rh) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_ENOTFOUND;
    if (rd_kafka_header_get_last(rh, name, &v, &n) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_ENOTFOUND;
    *val = v;
    *len = n;
    return VELO_OK;
}

int
velo_kafka_msg_header_at(const struct velo_kafka_msg *msg, size_t i,
                         const char **name, const void **val, size_t *len)
{
    rd_kafka_headers_t *rh;
    const char         *n;
    const void         *v;
    size_t              l;

    if (rd_kafka_message_headers(msg->raw_, &rh) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_ENOTFOUND;
    if (rd_kafka_header_get_all(rh, i, &n, &v, &l) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_ENOTFOUND;
    *name = n;
    *val = v;
    *len = l;
    return VELO_OK;
}

void
velo_kafka_msg_release(struct velo_kafka_msg *msg)
{
    if (msg == NULL || msg->raw_ == NULL)
        return;
    rd_kafka_message_destroy(msg->raw_);
    msg->raw_ = NULL;
}

/* What a commit of "everything consumed" sends for an assign-all consumer:
 * per partition the position, but never below the group's committed
 * offset read at assign time. Why: a replica rebuilding by time reads
 * from before that offset; committing its position would move the
 * group back, and the next replica would dead-letter again what was
 * already handled (velo_kafka_handled_before). NULL for a group member
 * (librdkafka commits its positions) or when nothing is known yet; the
 * caller destroys the list. */
static rd_kafka_topic_partition_list_t *
kafka_commit_list(velo_kafka_consumer *kc)
{
    rd_kafka_topic_partition_list_t *list;
    int64_t                          off;
    int                              i;

    if (!kc->assigned || kafka_positions(kc) != VELO_OK)
        return NULL;
    list = rd_kafka_topic_partition_list_new(kc->pos->cnt);
    for (i = 0; i < kc->pos->cnt; i++) {
        off = kc->pos->elems[i].offset;
        if (off < kc->parts[i].committed)
            off = kc->parts[i].committed;
        if (off < 0)
            continue; /* nothing read, nothing committed: leave it */
        rd_kafka_topic_partition_list_add(list, kc->pos->elems[i].topic,
                                          kc->pos->elems[i].partition)
            ->offset = off;
    }
    return list;
}

int
velo_kafka_commit(velo_kafka_consumer *kc, const struct velo_kafka_msg *msg)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t              err;

    if (msg != NULL) {
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, msg->topic, msg->partition)
            ->offset = msg->offset + 1;
    } else {
        list = kafka_commit_list(kc);
    }
    if (list != NULL && list->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(list);
        return VELO_OK; /* nothing read yet */
    }
    err = rd_kafka_commit(kc->rk, list, 0);
    if (list != NULL)
        rd_kafka_topic_partition_list_destroy(list);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
        err == RD_KAFKA_RESP_ERR__NO_OFFSET) /* nothing new to commit */
        return VELO_OK;
    velo_warn("kafka.commit.fail", VELO_S("code", rd_kafka_err2name(err)),
              VELO_S("cause", rd_kafka_err2str(err)));
    return velo_kafka__err_map(err);
}

/* Result of an async commit, served by rd_kafka_consumer_poll. */
static void
commit_done(rd_kafka_t *rk, rd_kafka_resp_err_t err,
            rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk, (void)offsets, (void)opaque;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        velo_warn("kafka.commit.fail", VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
}

int
velo_kafka_commit_async(velo_kafka_consumer *kc)
{
    rd_kafka_queue_t                *q;
    rd_kafka_topic_partition_list_t *list = kafka_commit_list(kc);
    rd_kafka_resp_err_t              err;

    if (list != NULL && list->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(list);
        return VELO_OK; /* nothing read yet */
    }
    q = rd_kafka_queue_get_consumer(kc->rk);
    if (q == NULL) {
        if (list != NULL)
            rd_kafka_topic_partition_list_destroy(list);
        return VELO_EINVAL;
    }
    err = rd_kafka_commit_queue(kc->rk, list, q, commit_done, kc);
    rd_kafka_queue_destroy(q);
    if (list != NULL)
        rd_kafka_topic_partition_list_destroy(list);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_OK;
    velo_warn("kafka.commit.fail", VELO_S("code", rd_kafka_err2name(err)),
              VELO_S("cause", rd_kafka_err2str(err)));
    return velo_kafka__err_map(err);
}

rd_kafka_t *
velo_kafka__consumer_rk(velo_kafka_consumer *kc)
{
    return kc->rk;
}

/* Also used by velo_kafka_txn_send_offsets. */
int
velo_kafka__offsets_list(const struct velo_kafka_offset *offs, size_t n,
                         rd_kafka_topic_partition_list_t **out)
{
    rd_kafka_topic_partition_list_t *list;
    size_t                           i;

    if (n == 0 || n > INT32_MAX)
        return VELO_EINVAL;
    list = rd_kafka_topic_partition_list_new((int)n);
    for (i = 0; i < n; i++) {
        if (velo_kafka__str_empty(offs[i].topic) || offs[i].partition < 0) {
            rd_kafka_topic_partition_list_destroy(list);
            return VELO_EINVAL;
        }
        rd_kafka_topic_partition_list_add(list, offs[i].topic,
                                          offs[i].partition)
            ->offset = offs[i].offset;
    }
    *out = list;
    return VELO_OK;
}

int
velo_kafka_committed(velo_kafka_consumer *kc, struct velo_kafka_offset *offs,
                     size_t n, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t              err;
    size_t                           i;
    int                              rv;

    rv = velo_kafka__offsets_list(offs, n, &list);
    if (rv != VELO_OK)
        return rv;
    err = rd_kafka_committed(kc->rk, list, timeout_ms);
    for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < n; i++)
        err = list->elems[i].err;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        velo_warn("kafka.committed.fail",
                  VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
        rv = velo_kafka__err_map(err);
    }
    /* rd_kafka_committed keeps the list's order. */
    for (i = 0; rv == VELO_OK && i < n; i++)
        offs[i].offset = list->elems[i].offset < 0 ? VELO_KAFKA_OFFSET_NONE
                                                   : list->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(list);
    return rv;
}

int
velo_kafka_seek(velo_kafka_consumer *kc, const struct velo_kafka_offset *offs,
                size_t n, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_error_t                *error;
    rd_kafka_resp_err_t              err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int                              i, rv;

    if (timeout_ms <= 0)
        return VELO_EINVAL;
    rv = velo_kafka__offsets_list(offs, n, &list);
    if (rv != VELO_OK)
        return rv;
    for (i = 0; i < list->cnt; i++) {
        if (list->elems[i].offset == VELO_KAFKA_OFFSET_NONE)
            list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        else if (list->elems[i].offset < VELO_KAFKA_OFFSET_BEGINNING)
            rv = VELO_EINVAL;
    }
    if (rv != VELO_OK) {
        rd_kafka_topic_partition_list_destroy(list);
        return rv;
    }
    error = rd_kafka_seek_partitions(kc->rk, list, timeout_ms);
    if (error != NULL) {
        err = rd_kafka_error_code(error);
        rd_kafka_error_destroy(error);
    }
    for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; i++)
        err = list->elems[i].err;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        velo_warn("kafka.seek.fail", VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
        /* librdkafka says __STATE for a partition it does not have. */
        rv = err == RD_KAFKA_RESP_ERR__STATE ? VELO_EINVAL
                                             : velo_kafka__err_map(err);
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rv;
}

void
velo_kafka_consumer_free(velo_kafka_consumer *kc)
{
    rd_kafka_resp_err_t err;

    if (kc == NULL)
        return;
    err = rd_kafka_consumer_close(kc->rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        velo_warn("kafka.close.fail", VELO_S("cause", rd_kafka_err2str(err)));
    if (kc->cq != NULL)
        rd_kafka_queue_destroy(kc->cq);
    rd_kafka_destroy(kc->rk);
    kafka_marks_clear(kc);
    free(kc);
}
