/* kafka_txn.c: the transactional producer (see velo/kafka_txn.h).
 *
 * A thin layer over librdkafka's transaction calls. Its one job besides
 * bookkeeping is the error contract: librdkafka reports transaction
 * failures as rd_kafka_error_t with three flags, checked in this order
 * (a fatal error may also carry the others):
 *   is_fatal            -> VELO_EFENCED  (the producer is dead: stop)
 *   txn_requires_abort  -> VELO_EABORTED (abort, then redo the batch)
 *   is_retriable        -> VELO_ETIMEDOUT / VELO_EUNAVAIL (call again)
 * and anything else (__STATE: a call out of order) through the usual
 * mapping. Client setup is shared with kafka.c through kafka_int.h. */
#include "velo/kafka_txn.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdlib.h>

#include "kafka_int.h"
#include "velo/clock.h"
#include "velo/log.h"

#define TXN_DEFAULT_MAX_MSG 1000000u
#define TXN_DEFAULT_TIMEOUT 60000u

/* Thread: one caller at a time. rk, max_msg_bytes and timeout_ms are set
 * by _new; open tracks begin .. commit/abort. */
struct velo_kafka_txn {
    rd_kafka_t *rk;
    uint32_t    max_msg_bytes;
    int         timeout_ms;
    bool        open; /* begun and not yet committed or aborted */
};

/* True once the client hit a fatal error: librdkafka then fails every
 * call, and so do we, with VELO_EFENCED. */
static bool
txn_fatal(const velo_kafka_txn *kt)
{
    char errstr[16];

    return rd_kafka_fatal_error(kt->rk, errstr, sizeof(errstr)) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Maps a transaction error (which it destroys) for the call op, and logs
 * it once here with librdkafka's text as cause. */
static int
txn_err(const char *op, rd_kafka_error_t *error)
{
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    const char         *name = rd_kafka_error_name(error);
    const char         *cause = rd_kafka_error_string(error);
    int                 rv;

    if (rd_kafka_error_is_fatal(error)) {
        velo_error("kafka.txn.fatal", VELO_S("op", op), VELO_S("code", name),
                   VELO_S("cause", cause));
        rv = VELO_EFENCED;
    } else if (rd_kafka_error_txn_requires_abort(error)) {
        velo_warn("kafka.txn.abortable", VELO_S("op", op), VELO_S("code", name),
                  VELO_S("cause", cause));
        rv = VELO_EABORTED;
    } else if (rd_kafka_error_is_retriable(error)) {
        velo_warn("kafka.txn.retriable", VELO_S("op", op), VELO_S("code", name),
                  VELO_S("cause", cause));
        rv = velo_kafka__err_map(code) == VELO_ETIMEDOUT ? VELO_ETIMEDOUT
                                                         : VELO_EUNAVAIL;
    } else {
        velo_warn("kafka.txn.fail", VELO_S("op", op), VELO_S("code", name),
                  VELO_S("cause", cause));
        rv = code == RD_KAFKA_RESP_ERR__STATE ? VELO_EINVAL
                                              : velo_kafka__err_map(code);
    }
    rd_kafka_error_destroy(error);
    return rv;
}

/* The producer settings of velo_kafka_producer plus the transactional
 * ones. message.timeout.ms follows transaction.timeout.ms (librdkafka
 * derives it when unset, so a record never outlives its transaction). */
static int
txn_conf(rd_kafka_conf_t *conf, const struct velo_kafka_txn_cfg *cfg,
         const velo_kafka_txn *kt)
{
    struct velo_kafka_cfg pc = {
        .brokers = cfg->brokers,
        .client_id = cfg->client_id,
        .max_msg_bytes = kt->max_msg_bytes,
    };
    int rv;

    rv = velo_kafka__producer_conf(conf, &pc, kt->max_msg_bytes);
    if (rv == VELO_OK)
        rv = velo_kafka__conf_set(conf, "transactional.id",
                                  cfg->transactional_id);
    if (rv == VELO_OK)
        rv = velo_kafka__conf_set_u32(conf, "transaction.timeout.ms",
                                      (uint32_t)kt->timeout_ms);
    return rv;
}

int
velo_kafka_txn_new(velo_kafka_txn **out, const struct velo_kafka_txn_cfg *cfg)
{
    velo_kafka_txn   *kt;
    rd_kafka_conf_t  *conf;
    rd_kafka_error_t *error;
    int               rv;

    if (velo_kafka__str_empty(cfg->brokers) ||
        velo_kafka__str_empty(cfg->transactional_id) ||
        cfg->timeout_ms > INT32_MAX) {
        velo_error("kafka.config.invalid",
                   VELO_S("cause", "transactional producer needs brokers, "
                                   "transactional_id and a timeout_ms that "
                                   "fits an int"));
        return VELO_EINVAL;
    }
    kt = calloc(1, sizeof(*kt));
    if (kt == NULL)
        return VELO_ENOMEM;
    kt->max_msg_bytes =
        cfg->max_msg_bytes ? cfg->max_msg_bytes : TXN_DEFAULT_MAX_MSG;
    kt->timeout_ms =
        (int)(cfg->timeout_ms ? cfg->timeout_ms : TXN_DEFAULT_TIMEOUT);
    rv = VELO_EINVAL;
    conf = velo_kafka__conf_base(cfg->brokers);
    if (conf == NULL)
        goto fail;
    rv = txn_conf(conf, cfg, kt);
    if (rv != VELO_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rv = velo_kafka__client_new(&kt->rk, RD_KAFKA_PRODUCER, conf);
    if (rv != VELO_OK)
        goto fail;
    error = rd_kafka_init_transactions(kt->rk, kt->timeout_ms);
    if (error != NULL) {
        rv = txn_err("init", error);
        goto fail;
    }
    velo_info("kafka.txn.ready",
              VELO_S("transactional_id", cfg->transactional_id));
    *out = kt;
    return VELO_OK;

fail:
    if (kt->rk != NULL)
        rd_kafka_destroy(kt->rk);
    free(kt);
    return rv;
}

int
velo_kafka_txn_begin(velo_kafka_txn *kt)
{
    rd_kafka_error_t *error;

    if (txn_fatal(kt))
        return VELO_EFENCED;
    if (kt->open)
        return VELO_EINVAL;
    error = rd_kafka_begin_transaction(kt->rk);
    if (error != NULL)
        return txn_err("begin", error);
    kt->open = true;
    return VELO_OK;
}

int
velo_kafka_txn_produce(velo_kafka_txn *kt, const char *topic, const void *key,
                       size_t keylen, const void *value, size_t len,
                       const struct velo_kafka_header *hdrs, size_t nhdrs,
                       int64_t timestamp_ms)
{
    rd_kafka_resp_err_t err;

    if (txn_fatal(kt))
        return VELO_EFENCED;
    if (!kt->open || velo_kafka__str_empty(topic))
        return VELO_EINVAL;
    err = velo_kafka__produce(kt->rk, kt->max_msg_bytes, topic, key, keylen,
                              value, len, hdrs, nhdrs, timestamp_ms);
    /* Serves the error callback; there are no delivery reports to run
     * (commit settles delivery). */
    (void)rd_kafka_poll(kt->rk, 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_OK;
    if (txn_fatal(kt))
        return VELO_EFENCED;
    /* Inside an open transaction, librdkafka refuses records with __STATE
     * only once the transaction has failed and must be aborted. */
    if (err == RD_KAFKA_RESP_ERR__STATE)
        return VELO_EABORTED;
    return velo_kafka__err_map(err);
}

int
velo_kafka_txn_send_offsets(velo_kafka_txn *kt, velo_kafka_consumer *kc,
                            const struct velo_kafka_offset *offs, size_t n)
{
    rd_kafka_consumer_group_metadata_t *cgmd;
    rd_kafka_topic_partition_list_t    *list;
    rd_kafka_error_t                   *error;
    size_t                              i;
    int                                 rv;

    if (txn_fatal(kt))
        return VELO_EFENCED;
    if (!kt->open)
        return VELO_EINVAL;
    if (n == 0)
        return VELO_OK;
    for (i = 0; i < n; i++) {
        if (offs[i].offset < 0)
            return VELO_EINVAL;
    }
    cgmd = rd_kafka_consumer_group_metadata(velo_kafka__consumer_rk(kc));
    if (cgmd == NULL)
        return VELO_EINVAL;
    rv = velo_kafka__offsets_list(offs, n, &list);
    if (rv == VELO_OK) {
        error = rd_kafka_send_offsets_to_transaction(kt->rk, list, cgmd,
                                                     kt->timeout_ms);
        rv = error != NULL ? txn_err("send_offsets", error) : VELO_OK;
        rd_kafka_topic_partition_list_destroy(list);
    }
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    return rv;
}

int
velo_kafka_txn_warm(velo_kafka_txn *kt, const char *topic, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list;
    int                              rv;

    if (velo_kafka__str_empty(topic) || timeout_ms < 0)
        return VELO_EINVAL;
    /* Each answer also updates the producer's own view of topic, which is
     * the point. */
    list = rd_kafka_topic_partition_list_new(8);
    rv = velo_kafka__await_leaders(kt->rk, topic, velo_mono_ms() + timeout_ms,
                                   true, &list);
    rd_kafka_topic_partition_list_destroy(list);
    return rv == VELO_OK ? VELO_OK : VELO_ETIMEDOUT;
}

int
velo_kafka_txn_commit(velo_kafka_txn *kt)
{
    rd_kafka_error_t *error;

    if (txn_fatal(kt))
        return VELO_EFENCED;
    if (!kt->open)
        return VELO_EINVAL;
    error = rd_kafka_commit_transaction(kt->rk, kt->timeout_ms);
    if (error != NULL)
        return txn_err("commit", error);
    kt->open = false;
    return VELO_OK;
}

int
velo_kafka_txn_abort(velo_kafka_txn *kt)
{
    rd_kafka_error_t *error;

    if (txn_fatal(kt))
        return VELO_EFENCED;
    if (!kt->open)
        return VELO_OK;
    error = rd_kafka_abort_transaction(kt->rk, kt->timeout_ms);
    if (error != NULL)
        return txn_err("abort", error);
    kt->open = false;
    return VELO_OK;
}

void
velo_kafka_txn_free(velo_kafka_txn *kt)
{
    int rv;

    if (kt == NULL)
        return;
    rv = velo_kafka_txn_abort(kt);
    if (rv != VELO_OK) {
        /* A fenced or unreachable producer cannot deliver what it holds;
         * the broker aborts the transaction when it times out. Fencing was
         * logged where it was found. */
        if (rv != VELO_EFENCED)
            velo_warn("kafka.txn.free_abort_fail",
                      VELO_S("cause", velo_strerror(rv)));
        (void)rd_kafka_purge(kt->rk, RD_KAFKA_PURGE_F_QUEUE |
                                         RD_KAFKA_PURGE_F_INFLIGHT);
    }
    rd_kafka_destroy(kt->rk);
    free(kt);
}
