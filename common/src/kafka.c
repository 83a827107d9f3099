/* kafka.c: the librdkafka adapter (see velo/kafka.h): client setup,
 * errors and logging, the producer and topics. The consumer is in
 * kafka_consumer.c; what both share is declared in kafka_int.h.
 *
 * Every client made here shares one setup: librdkafka's own log goes to the
 * JSON log as kafka.log events, client errors as kafka.error, and every
 * rd_kafka_resp_err_t is mapped to a velo_err in velo_kafka__err_map(),
 * with the original text logged as `cause` where the error is handled. */
#include "velo/kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_int.h"
#include "velo/clock.h"
#include "velo/log.h"

#define KAFKA_LEADER_POLL_MS 20 /* velo_kafka__await_leaders */

#define KAFKA_DEFAULT_MAX_MSG 1000000u
#define KAFKA_DEFAULT_QUEUE_KB 32768
#define KAFKA_DEFAULT_LINGER 5u
/* librdkafka counts the record framing against message.max.bytes; our own
 * limit counts payload bytes only, so leave room for the framing. */
#define KAFKA_FRAMING_HEADROOM 1024u

/* Thread: produce from any thread; callbacks run in velo_kafka_poll/flush.
 * Every field is set by _new and never changes. */
struct velo_kafka_producer {
    rd_kafka_t            *rk;
    uint32_t               max_msg_bytes;
    uint32_t               flush_timeout_ms;
    velo_kafka_delivery_fn on_delivery;
    void                  *ctx;
};

/* ---- errors and logging ---- */

int
velo_kafka__err_map(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return VELO_OK;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return VELO_EFULL;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        return VELO_ETOOBIG;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return VELO_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__NOENT:
        return VELO_ENOTFOUND;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return VELO_EINVAL;
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__BAD_COMPRESSION:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
        return VELO_EPROTO;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__FATAL:
        return VELO_ECLOSED;
    case RD_KAFKA_RESP_ERR__FS:
        return VELO_EIO;
    default:
        /* Transport, leader and coordinator errors: the cluster is (for
         * now) not serving us, which is what EUNAVAIL means. */
        return VELO_EUNAVAIL;
    }
}

/* Syslog levels to ours. librdkafka logs a refused connection at LOG_ERR
 * (3), but it retries on its own: degraded and recovering is a warn. */
static enum velo_log_level
kafka_level_map(int level)
{
    if (level <= 2)
        return VELO_LOG_ERROR;
    if (level <= 4)
        return VELO_LOG_WARN;
    if (level <= 6)
        return VELO_LOG_INFO;
    return VELO_LOG_DEBUG;
}

/* Thread: any librdkafka thread; velo_log is safe from all of them. */
static void
kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    VELO_LOG_(kafka_level_map(level), "kafka.log",
              VELO_S("client", rd_kafka_name(rk)), VELO_S("fac", fac),
              VELO_S("msg", buf));
}

/* Thread: whichever thread serves the client's queue (poll/consume). */
static void
kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    char                fatal[512];
    rd_kafka_resp_err_t orig;

    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        velo_error("kafka.fatal", VELO_S("client", rd_kafka_name(rk)),
                   VELO_S("code", rd_kafka_err2name(orig)),
                   VELO_S("cause", fatal));
        return;
    }
    velo_warn("kafka.error", VELO_S("client", rd_kafka_name(rk)),
              VELO_S("code", rd_kafka_err2name((rd_kafka_resp_err_t)err)),
              VELO_S("cause", reason));
}

/* ---- client setup shared by producer, consumer and admin ---- */

int
velo_kafka__conf_set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        velo_error("kafka.config.invalid", VELO_S("key", key),
                   VELO_S("value", val), VELO_S("cause", errstr));
        return VELO_EINVAL;
    }
    return VELO_OK;
}

int
velo_kafka__conf_set_u32(rd_kafka_conf_t *conf, const char *key, uint32_t val)
{
    char num[16];

    snprintf(num, sizeof(num), "%u", val);
    return velo_kafka__conf_set(conf, key, num);
}

/* Sets n key/value pairs; stops at the first bad one. */
int
velo_kafka__conf_set_all(rd_kafka_conf_t *conf, const char *const (*kv)[2],
                         size_t           n)
{
    size_t i;
    int    rv;

    for (i = 0; i < n; i++) {
        rv = velo_kafka__conf_set(conf, kv[i][0], kv[i][1]);
        if (rv != VELO_OK)
            return rv;
    }
    return VELO_OK;
}

/* A conf with the log routing every client shares. An idle broker
 * connection that the broker closes is not worth a log line. */
rd_kafka_conf_t *
velo_kafka__conf_base(const char *brokers)
{
    rd_kafka_conf_t *conf;

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    if (velo_kafka__conf_set(conf, "bootstrap.servers", brokers) != VELO_OK ||
        velo_kafka__conf_set(conf, "log.connection.close", "false") !=
            VELO_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* Takes ownership of conf in every case. */
int
velo_kafka__client_new(rd_kafka_t **out, rd_kafka_type_t type,
                       rd_kafka_conf_t *conf)
{
    char        errstr[512];
    rd_kafka_t *rk;

    rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        velo_error("kafka.client.fail", VELO_S("cause", errstr));
        return VELO_EINVAL;
    }
    *out = rk;
    return VELO_OK;
}

/* ---- producer ---- */

/* Thread: the one in velo_kafka_poll/flush. opaque is the producer. */
static void
kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    velo_kafka_producer *kp = opaque;

    (void)rk;
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR)
        velo_warn("kafka.delivery.fail",
                  VELO_S("topic", rd_kafka_topic_name(rkm->rkt)),
                  VELO_S("code", rd_kafka_err2name(rkm->err)),
                  VELO_S("cause", rd_kafka_err2str(rkm->err)));
    if (kp->on_delivery != NULL)
        kp->on_delivery(kp->ctx, rkm->key, rkm->key_len,
                        velo_kafka__err_map(rkm->err));
}

/* Shared by the plain and the transactional producer (kafka_txn.c). */
int
velo_kafka__producer_conf(rd_kafka_conf_t             *conf,
                          const struct velo_kafka_cfg *cfg,
                          uint32_t                     max_msg_bytes)
{
    const char *const kv[][2] = {
        {"client.id",
         velo_kafka__str_empty(cfg->client_id) ? "velo" : cfg->client_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.codec",
         velo_kafka__str_empty(cfg->compression) ? "lz4" : cfg->compression},
        /* Java-compatible: keys land where Java clients put them. */
        {"partitioner", "murmur2_random"},
    };
    int rv;

    rv = velo_kafka__conf_set_all(conf, kv, sizeof(kv) / sizeof(kv[0]));
    if (rv == VELO_OK)
        rv = velo_kafka__conf_set_u32(conf, "linger.ms",
                                      cfg->linger_ms ? cfg->linger_ms
                                                     : KAFKA_DEFAULT_LINGER);
    /* librdkafka's default would let the queue grow to 1 GiB. */
    if (rv == VELO_OK)
        rv = velo_kafka__conf_set_u32(conf, "queue.buffering.max.kbytes",
                                      cfg->queue_max_kbytes
                                          ? cfg->queue_max_kbytes
                                          : KAFKA_DEFAULT_QUEUE_KB);
    if (rv == VELO_OK)
        rv = velo_kafka__conf_set_u32(conf, "message.max.bytes",
                                      max_msg_bytes + KAFKA_FRAMING_HEADROOM);
    return rv;
}

int
velo_kafka_producer_new(velo_kafka_producer        **out,
                        const struct velo_kafka_cfg *cfg)
{
    velo_kafka_producer *kp;
    rd_kafka_conf_t     *conf;
    int                  rv;

    if (velo_kafka__str_empty(cfg->brokers) || cfg->transactional) {
        /* Transactions need their own calls (velo/kafka_txn.h); refuse
         * rather than silently produce without them. */
        velo_error("kafka.config.invalid",
                   VELO_S("cause", cfg->transactional
                                       ? "transactional: use velo_kafka_txn"
                                       : "no brokers"));
        return VELO_EINVAL;
    }
    kp = calloc(1, sizeof(*kp));
    if (kp == NULL)
        return VELO_ENOMEM;
    kp->max_msg_bytes =
        cfg->max_msg_bytes ? cfg->max_msg_bytes : KAFKA_DEFAULT_MAX_MSG;
    kp->flush_timeout_ms = cfg->flush_timeout_ms;
    kp->on_delivery = cfg->on_delivery;
    kp->ctx = cfg->ctx;
    rv = VELO_EINVAL;
    conf = velo_kafka__conf_base(cfg->brokers);
    if (conf == NULL)
        goto fail;
    rv = velo_kafka__producer_conf(conf, cfg, kp->max_msg_bytes);
    if (rv != VELO_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
    rd_kafka_conf_set_opaque(conf, kp);
    rv = velo_kafka__client_new(&kp->rk, RD_KAFKA_PRODUCER, conf);
    if (rv != VELO_OK)
        goto fail;
    *out = kp;
    return VELO_OK;

fail:
    free(kp);
    return rv;
}

/* Shared by the plain and the transactional producer (kafka_txn.c). */
rd_kafka_resp_err_t
velo_kafka__produce(rd_kafka_t *rk, uint32_t max_msg_bytes, const char *topic,
                    const void *key, size_t keylen, const void *value,
                    size_t len, const struct velo_kafka_header *hdrs,
                    size_t nhdrs, int64_t timestamp_ms)
{
    rd_kafka_headers_t *rh;
    rd_kafka_resp_err_t err;
    size_t              total, i;

    total = keylen + len;
    for (i = 0; i < nhdrs; i++)
        total += strlen(hdrs[i].name) + hdrs[i].len;
    if (total > max_msg_bytes)
        return RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
    rh = rd_kafka_headers_new(nhdrs);
    for (i = 0; i < nhdrs; i++)
        (void)rd_kafka_header_add(rh, hdrs[i].name, -1, hdrs[i].value,
                                  (ssize_t)hdrs[i].len);
    /* On success the message owns rh; on failure we still do. */
    err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
        RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(rh),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(rh);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            velo_debug("kafka.produce.fail", VELO_S("topic", topic),
                       VELO_S("code", rd_kafka_err2name(err)),
                       VELO_S("cause", rd_kafka_err2str(err)));
    }
    return err;
}

int
velo_kafka_produce(velo_kafka_producer *kp, const char *topic, const void *key,
                   size_t keylen, const void *value, size_t len,
                   const struct velo_kafka_header *hdrs, size_t nhdrs,
                   int64_t timestamp_ms)
{
    return velo_kafka__err_map(
        velo_kafka__produce(kp->rk, kp->max_msg_bytes, topic, key, keylen,
                            value, len, hdrs, nhdrs, timestamp_ms));
}

int
velo_kafka_poll(velo_kafka_producer *kp, int timeout_ms)
{
    return rd_kafka_poll(kp->rk, timeout_ms);
}

int
velo_kafka_flush(velo_kafka_producer *kp, int timeout_ms)
{
    if (rd_kafka_flush(kp->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_OK;
    velo_warn("kafka.flush.lost", VELO_I("messages", rd_kafka_outq_len(kp->rk)),
              VELO_I("timeout_ms", timeout_ms));
    return VELO_ETIMEDOUT;
}

size_t
velo_kafka_outq_len(velo_kafka_producer *kp)
{
    int n;

    n = rd_kafka_outq_len(kp->rk);
    return n > 0 ? (size_t)n : 0;
}

void
velo_kafka_producer_free(velo_kafka_producer *kp)
{
    if (kp == NULL)
        return;
    if (velo_kafka_flush(kp, (int)kp->flush_timeout_ms) != VELO_OK) {
        /* Purged messages get their delivery callback (VELO_ECLOSED) on
         * the next poll, so the owner learns exactly which were lost. */
        (void)rd_kafka_purge(kp->rk, RD_KAFKA_PURGE_F_QUEUE |
                                         RD_KAFKA_PURGE_F_INFLIGHT);
        (void)rd_kafka_poll(kp->rk, 0);
    }
    rd_kafka_destroy(kp->rk);
    free(kp);
}

/* ---- topics ---- */

/* Adds every partition of topic to list (offsets unset). VELO_ENOTFOUND
 * when the cluster does not know the topic. */
int
velo_kafka__topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                             rd_kafka_topic_partition_list_t *list)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t               *rkt;
    rd_kafka_resp_err_t             err;
    int                             i, rv;

    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL)
        return VELO_EINVAL;
    err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        velo_warn("kafka.metadata.fail", VELO_S("topic", topic),
                  VELO_S("code", rd_kafka_err2name(err)),
                  VELO_S("cause", rd_kafka_err2str(err)));
        return velo_kafka__err_map(err);
    }
    if (md->topic_cnt != 1)
        rv = VELO_EPROTO;
    else if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
        rv = velo_kafka__err_map(md->topics[0].err);
    else if (md->topics[0].partition_cnt < 1)
        rv = VELO_ENOTFOUND;
    else
        rv = VELO_OK;
    for (i = 0; rv == VELO_OK && i < md->topics[0].partition_cnt; i++) {
        /* A new topic's partitions have no leader for a moment: asking
         * them for offsets then fails with NOT_LEADER_FOR_PARTITION. */
        if (md->topics[0].partitions[i].leader < 0)
            rv = VELO_EUNAVAIL;
        else
            rd_kafka_topic_partition_list_add(list, topic,
                                              md->topics[0].partitions[i].id);
    }
    rd_kafka_metadata_destroy(md);
    return rv;
}

int
velo_kafka__await_leaders(rd_kafka_t *rk, const char *topic,
                          int64_t deadline_ms, bool unknown_ok,
                          rd_kafka_topic_partition_list_t **list)
{
    int64_t left;
    int     rv = VELO_ETIMEDOUT;

    while ((left = deadline_ms - velo_mono_ms()) > 0) {
        rd_kafka_topic_partition_list_destroy(*list);
        *list = rd_kafka_topic_partition_list_new(8);
        rv = velo_kafka__topic_partitions(rk, topic, (int)left, *list);
        if (rv != VELO_EUNAVAIL && !(unknown_ok && rv == VELO_ENOTFOUND))
            break;
        left = deadline_ms - velo_mono_ms();
        velo_sleep_ms(left < KAFKA_LEADER_POLL_MS ? left
                                                  : KAFKA_LEADER_POLL_MS);
    }
    return rv;
}

/* Reads the one CreateTopics result out of ev (NULL: no answer). */
static int
kafka_create_result(rd_kafka_event_t *ev, const char *topic)
{
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t       **tr;
    rd_kafka_resp_err_t                   err;
    size_t                                cnt = 0;
    const char                           *cause;

    if (ev == NULL)
        return VELO_ETIMEDOUT;
    err = rd_kafka_event_error(ev);
    cause = rd_kafka_event_error_string(ev);
    res = rd_kafka_event_CreateTopics_result(ev);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && res != NULL) {
        tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        err = cnt == 1 ? rd_kafka_topic_result_error(tr[0])
                       : RD_KAFKA_RESP_ERR__BAD_MSG;
        cause = cnt == 1 ? rd_kafka_topic_result_error_string(tr[0]) : NULL;
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        velo_info("kafka.topic.created", VELO_S("topic", topic));
        return VELO_OK;
    }
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        return VELO_OK;
    velo_warn("kafka.topic.create_fail", VELO_S("topic", topic),
              VELO_S("code", rd_kafka_err2name(err)),
              VELO_S("cause", cause != NULL ? cause : rd_kafka_err2str(err)));
    return velo_kafka__err_map(err);
}

/* Replication factor -1 is the broker's default.replication.factor
 * (brokers >= 2.4), so production clusters get their own policy. */
static int
kafka_topic_create(rd_kafka_t *rk, const char *topic, int partitions,
                   const struct velo_kafka_topic_config *configs,
                   size_t nconfigs, int timeout_ms)
{
    char                     errstr[512];
    rd_kafka_NewTopic_t     *nt;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t        *q;
    rd_kafka_event_t        *ev;
    size_t                   i;
    int                      rv;

    nt = rd_kafka_NewTopic_new(topic, partitions, -1, errstr, sizeof(errstr));
    if (nt == NULL) {
        velo_error("kafka.topic.create_fail", VELO_S("topic", topic),
                   VELO_S("cause", errstr));
        return VELO_EINVAL;
    }
    for (i = 0; i < nconfigs; i++) {
        if (rd_kafka_NewTopic_set_config(nt, configs[i].name,
                                         configs[i].value) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            velo_error("kafka.topic.create_fail", VELO_S("topic", topic),
                       VELO_S("config", configs[i].name));
            rd_kafka_NewTopic_destroy(nt);
            return VELO_EINVAL;
        }
    }
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    (void)rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr,
                                                    sizeof(errstr));
    (void)rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr,
                                                      sizeof(errstr));
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    /* The request timeout answers first; the margin only guards it. */
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    rv = kafka_create_result(ev, topic);
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return rv;
}

int
velo_kafka_ensure_topic(const char *brokers, const char *topic, int partitions,
                        int timeout_ms)
{
    return velo_kafka_ensure_topic_cfg(brokers, topic, partitions, NULL, 0,
                                       timeout_ms);
}

static bool
topic_configs_ok(const struct velo_kafka_topic_config *configs, size_t nconfigs)
{
    size_t i;

    if (nconfigs > 0 && configs == NULL)
        return false;
    for (i = 0; i < nconfigs; i++) {
        if (velo_kafka__str_empty(configs[i].name) || configs[i].value == NULL)
            return false;
    }
    return true;
}

int
velo_kafka_ensure_topic_cfg(const char *brokers, const char *topic,
                            int                                   partitions,
                            const struct velo_kafka_topic_config *configs,
                            size_t nconfigs, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_conf_t                 *conf;
    rd_kafka_t                      *rk = NULL;
    int64_t                          deadline;
    bool                             created = false;
    int                              rv, left;

    if (velo_kafka__str_empty(brokers) || velo_kafka__str_empty(topic) ||
        partitions < 1 || !topic_configs_ok(configs, nconfigs))
        return VELO_EINVAL;
    deadline = velo_mono_ms() + timeout_ms;
    conf = velo_kafka__conf_base(brokers);
    /* Else our own metadata request would create the topic with the
     * broker's default partition count. */
    if (conf == NULL || velo_kafka__conf_set(conf, "allow.auto.create.topics",
                                             "false") != VELO_OK) {
        if (conf != NULL)
            rd_kafka_conf_destroy(conf);
        return VELO_EINVAL;
    }
    rv = velo_kafka__client_new(&rk, RD_KAFKA_PRODUCER, conf);
    if (rv != VELO_OK)
        return rv;
    list = rd_kafka_topic_partition_list_new(partitions);
    rv = velo_kafka__topic_partitions(rk, topic, timeout_ms, list);
    if (rv == VELO_ENOTFOUND) {
        left = (int)(deadline - velo_mono_ms());
        rv = left > 0 ? kafka_topic_create(rk, topic, partitions, configs,
                                           nconfigs, left)
                      : VELO_ETIMEDOUT;
        created = rv == VELO_OK;
        if (created)
            rv = VELO_EUNAVAIL; /* now wait for its leaders */
    }
    /* Just created, a broker may still answer "unknown topic" until the
     * controller's metadata reaches it (KRaft, under load): not yet, not
     * missing. */
    if (rv == VELO_EUNAVAIL)
        rv = velo_kafka__await_leaders(rk, topic, deadline, created, &list);
    if (rv == VELO_OK && list->cnt != partitions) {
        velo_info("kafka.topic.exists", VELO_S("topic", topic),
                  VELO_I("partitions", list->cnt),
                  VELO_I("wanted", partitions));
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return rv;
}
