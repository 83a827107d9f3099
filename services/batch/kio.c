/* kio.c: batch_io on Kafka (see kio.h). */
#include "kio.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "velo/clock.h"
#include "velo/kafka_dlq.h"
#include "velo/kafka_txn.h"
#include "velo/log.h"
#include "velo/v1/system.pb-c.h"

#define OUT_PARTITIONS 6 /* velib_aggregates when batch creates it */
#define PROBE_POLL_MS 100
/* A probe reads one record: librdkafka's prefetch (100000 records, 1 MiB
 * fetches by default) would pull in the rest of the partition meanwhile.
 * Not 1 record: the version barrier librdkafka queues at the start counts
 * too, and a fetcher held back by it waits for its one-second tick. */
#define PROBE_QUEUED_MIN "16"
#define PROBE_FETCH_BYTES "16384"
#define SYSTEMS_RETRY_MS 30000 /* a missing systems topic, looked up again */

struct zone_entry {
    char          *system_id;
    char          *tz;   /* NULL until a record had one */
    char          *name; /* likewise */
    UT_hash_handle hh;
};

struct batch_kio {
    struct batch_kio_cfg  cfg;
    velo_kafka_txn       *kt;
    velo_kafka_consumer  *kc; /* velib_data, the group's */
    bool                  assigned;
    velo_kafka_consumer  *ks;          /* velib_systems */
    int64_t               ks_retry_at; /* mono ms: next try when missing */
    velo_kafka_producer  *dlq;
    rd_kafka_t           *probe; /* metadata and timestamp look-ups */
    struct velo_kafka_msg cur;
    struct zone_entry    *zones;
};

static int
consumer(const batch_kio *k, const char *group, velo_kafka_consumer **out)
{
    return velo_kafka_consumer_new(
        out, &(struct velo_kafka_consumer_cfg){
                 .brokers = k->cfg.brokers,
                 .group_id = group,
                 .client_id = "velo-batch",
                 .read_committed = true,
                 .metrics = k->cfg.metrics,
                 .catch_up_partitions = k->cfg.catch_up_partitions,
                 .read_ahead_records = k->cfg.read_ahead_records,
                 .fetch_wait_max_ms = k->cfg.fetch_wait_max_ms});
}

static int
probe_new(batch_kio *k)
{
    char             err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", k->cfg.brokers, err,
                          sizeof(err)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "queued.min.messages", PROBE_QUEUED_MIN, err,
                          sizeof(err)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "max.partition.fetch.bytes", PROBE_FETCH_BYTES,
                          err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        velo_error("batch.probe.fail", VELO_S("cause", err));
        return VELO_EINVAL;
    }
    k->probe = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (k->probe == NULL) {
        rd_kafka_conf_destroy(conf); /* not taken on failure */
        velo_error("batch.probe.fail", VELO_S("cause", err));
        return VELO_EUNAVAIL;
    }
    return VELO_OK;
}

int
batch_kio_new(batch_kio **out, const struct batch_kio_cfg *cfg)
{
    batch_kio *k = calloc(1, sizeof(*k));
    int        rv;

    if (k == NULL)
        return VELO_ENOMEM;
    k->cfg = *cfg;
    rv = velo_kafka_ensure_topic(cfg->brokers, cfg->out_topic, OUT_PARTITIONS,
                                 (int)cfg->timeout_ms);
    if (rv == VELO_OK)
        rv = velo_kafka_txn_new(&k->kt,
                                &(struct velo_kafka_txn_cfg){
                                    .brokers = cfg->brokers,
                                    .client_id = "velo-batch",
                                    .transactional_id = cfg->transactional_id,
                                    .timeout_ms = cfg->timeout_ms});
    if (rv == VELO_OK && velo_kafka_txn_warm(k->kt, cfg->out_topic,
                                             (int)cfg->timeout_ms) != VELO_OK)
        velo_warn("batch.out.no_leader", VELO_S("topic", cfg->out_topic));
    if (rv == VELO_OK)
        rv = velo_kafka_producer_new(
            &k->dlq, &(struct velo_kafka_cfg){.brokers = cfg->brokers,
                                              .client_id = "velo-batch",
                                              .flush_timeout_ms = 5000});
    if (rv == VELO_OK)
        rv = probe_new(k);
    if (rv != VELO_OK) {
        batch_kio_free(k);
        return rv;
    }
    *out = k;
    return VELO_OK;
}

/* ---- zones from velib_systems ---- */

/* True when v is given and differs from what *known holds. */
static bool
differs(const char *known, const char *v)
{
    return v != NULL && (known == NULL || strcmp(known, v) != 0);
}

/* Remembers what si says of its system's zone and name (an absent field
 * keeps what was known). *tz and *name get the values that are new or
 * changed (else NULL); false when nothing is (or out of memory: the
 * record is then skipped). */
static bool
zone_note(batch_kio *k, const Velo__V1__SystemInfo *si, const char **tz,
          const char **name)
{
    struct zone_entry *z = NULL;
    char              *t = NULL, *n = NULL;
    bool               new_tz, new_name;

    HASH_FIND_STR(k->zones, si->system_id, z);
    new_tz = differs(z != NULL ? z->tz : NULL, si->timezone);
    new_name = differs(z != NULL ? z->name : NULL, si->name);
    if (!new_tz && !new_name)
        return false;
    if ((new_tz && (t = strdup(si->timezone)) == NULL) ||
        (new_name && (n = strdup(si->name)) == NULL))
        goto fail;
    if (z == NULL) {
        z = calloc(1, sizeof(*z));
        if (z == NULL || (z->system_id = strdup(si->system_id)) == NULL) {
            free(z);
            goto fail;
        }
        HASH_ADD_KEYPTR(hh, k->zones, z->system_id, strlen(z->system_id), z);
    }
    if (new_tz) {
        free(z->tz);
        z->tz = t;
    }
    if (new_name) {
        free(z->name);
        z->name = n;
    }
    *tz = t;
    *name = n;
    return true;
fail:
    free(t);
    free(n);
    return false;
}

/* Reads what velib_systems has now; calls fn for new or changed zones and
 * names. */
static int
zones_read(batch_kio *k, int wait_ms, batch_zone_fn fn, void *arg)
{
    struct velo_kafka_msg msg;
    int64_t               until = velo_mono_ms() + wait_ms;
    int                   rv = VELO_OK;

    while (rv == VELO_OK) {
        Velo__V1__SystemInfo *si;
        const char           *tz = NULL, *name = NULL;

        if (wait_ms > 0 && velo_kafka_caught_up(k->ks))
            break;
        if (velo_kafka_consume(k->ks, &msg, wait_ms > 0 ? 100 : 0) != VELO_OK) {
            if (wait_ms == 0 || velo_mono_ms() > until)
                break;
            continue;
        }
        si = msg.value == NULL ? NULL
                               : velo__v1__system_info__unpack(
                                     NULL, msg.len, (const uint8_t *)msg.value);
        if (si != NULL && si->system_id != NULL && zone_note(k, si, &tz, &name))
            rv = fn(arg, si->system_id, tz, name);
        else if (si == NULL && msg.value != NULL)
            velo_warn("batch.systems.undecodable",
                      VELO_I("offset", msg.offset));
        velo__v1__system_info__free_unpacked(si, NULL);
        velo_kafka_msg_release(&msg);
    }
    return rv;
}

static int
k_zones(void *ctx, bool wait, batch_zone_fn fn, void *arg)
{
    batch_kio         *k = ctx;
    struct zone_entry *z, *tmp;
    int                rv;

    if (k->ks == NULL && !wait && velo_mono_ms() < k->ks_retry_at)
        return VELO_OK;
    if (k->ks == NULL) {
        k->ks_retry_at = velo_mono_ms() + SYSTEMS_RETRY_MS;
        rv = consumer(k, "batch-consumer.systems", &k->ks);
        if (rv == VELO_OK)
            rv = velo_kafka_assign_all(k->ks, k->cfg.systems_topic,
                                       VELO_KAFKA_OFFSET_BEGINNING,
                                       (int)k->cfg.timeout_ms);
        if (rv != VELO_OK) {
            velo_kafka_consumer_free(k->ks);
            k->ks = NULL;
            if (rv != VELO_ENOTFOUND)
                return rv;
            /* No systems topic yet: every daily window is held. */
            velo_warn("batch.systems.missing",
                      VELO_S("topic", k->cfg.systems_topic));
            return VELO_OK;
        }
    }
    if (!wait)
        return zones_read(k, 0, fn, arg);
    /* A new engine: every zone and name known so far, then what arrived
     * since. */
    HASH_ITER(hh, k->zones, z, tmp)
    {
        rv = fn(arg, z->system_id, z->tz, z->name);
        if (rv != VELO_OK)
            return rv;
    }
    return zones_read(k, (int)k->cfg.timeout_ms, fn, arg);
}

/* ---- probes ---- */

static int
k_partitions(void *ctx, int32_t *n)
{
    batch_kio                      *k = ctx;
    rd_kafka_topic_t               *rkt;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t             err;
    int                             rv = VELO_OK;

    rkt = rd_kafka_topic_new(k->probe, k->cfg.topic, NULL);
    if (rkt == NULL)
        return VELO_ENOMEM;
    err = rd_kafka_metadata(k->probe, 0, rkt, &md, (int)k->cfg.timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        (md->topic_cnt != 1 || md->topics[0].err != 0 ||
         md->topics[0].partition_cnt <= 0))
        rv = VELO_ENOTFOUND;
    else if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        rv = err == RD_KAFKA_RESP_ERR__TIMED_OUT ? VELO_ETIMEDOUT
                                                 : VELO_EUNAVAIL;
    if (rv == VELO_OK)
        *n = md->topics[0].partition_cnt;
    else
        velo_warn("batch.metadata.fail", VELO_S("topic", k->cfg.topic),
                  VELO_S("cause", velo_strerror(rv)));
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rv;
}

/* Reads one record at or after offset on partition p (the legacy simple
 * consumer: no group, no assignment to undo). */
static int
probe_read(batch_kio *k, rd_kafka_topic_t *rkt, int32_t p, int64_t offset,
           int64_t *ts)
{
    rd_kafka_message_t *m = NULL;
    int64_t             until = velo_mono_ms() + k->cfg.timeout_ms;
    int                 rv = VELO_ETIMEDOUT;

    if (rd_kafka_consume_start(rkt, p, offset) != 0)
        return VELO_EUNAVAIL;
    while (velo_mono_ms() < until) {
        m = rd_kafka_consume(rkt, p, PROBE_POLL_MS);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            *ts = rd_kafka_message_timestamp(m, NULL);
            rv = VELO_OK;
        } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rv = VELO_ENOTFOUND;
        } else {
            rv = VELO_EUNAVAIL;
        }
        rd_kafka_message_destroy(m);
        break;
    }
    rd_kafka_consume_stop(rkt, p);
    return rv;
}

static int
k_timestamp_at(void *ctx, int32_t p, int64_t offset, int64_t *ts)
{
    batch_kio        *k = ctx;
    rd_kafka_topic_t *rkt;
    int64_t           lo = 0, hi = 0;
    int               rv;

    if (rd_kafka_query_watermark_offsets(k->probe, k->cfg.topic, p, &lo, &hi,
                                         (int)k->cfg.timeout_ms) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        return VELO_EUNAVAIL;
    if (offset >= hi)
        return VELO_ENOTFOUND;
    rkt = rd_kafka_topic_new(k->probe, k->cfg.topic, NULL);
    if (rkt == NULL)
        return VELO_ENOMEM;
    rv = probe_read(k, rkt, p, offset < lo ? lo : offset, ts);
    rd_kafka_topic_destroy(rkt);
    return rv;
}

/* ---- input ---- */

static int
k_committed(void *ctx, int64_t *offs, int32_t n)
{
    batch_kio                *k = ctx;
    struct velo_kafka_offset *o = calloc((size_t)n, sizeof(*o));
    int32_t                   p;
    int                       rv = VELO_OK;

    if (o == NULL)
        return VELO_ENOMEM;
    if (k->kc == NULL)
        rv = consumer(k, k->cfg.group_id, &k->kc);
    for (p = 0; p < n; p++)
        o[p] = (struct velo_kafka_offset){k->cfg.topic, p, 0};
    if (rv == VELO_OK)
        rv = velo_kafka_committed(k->kc, o, (size_t)n, (int)k->cfg.timeout_ms);
    for (p = 0; rv == VELO_OK && p < n; p++)
        offs[p] = o[p].offset;
    free(o);
    return rv;
}

static int
k_seek(void *ctx, int64_t start_ms)
{
    batch_kio *k = ctx;
    int        rv = VELO_OK;

    /* A consumer is assigned once (velo/kafka.h): start a fresh one. */
    if (k->assigned) {
        velo_kafka_consumer_free(k->kc);
        k->kc = NULL;
        k->assigned = false;
    }
    if (k->kc == NULL)
        rv = consumer(k, k->cfg.group_id, &k->kc);
    if (rv == VELO_OK)
        rv = velo_kafka_assign_all(k->kc, k->cfg.topic, start_ms,
                                   (int)k->cfg.timeout_ms);
    k->assigned = rv == VELO_OK;
    return rv;
}

static int
k_next(void *ctx, struct batch_in *in, int timeout_ms)
{
    batch_kio *k = ctx;
    int        rv;

    if (!k->assigned)
        return VELO_EINVAL;
    rv = velo_kafka_consume(k->kc, &k->cur, timeout_ms);
    if (rv != VELO_OK)
        return rv;
    *in = (struct batch_in){.partition = k->cur.partition,
                            .offset = k->cur.offset,
                            .timestamp_ms = k->cur.timestamp_ms,
                            .key = k->cur.key,
                            .keylen = k->cur.keylen,
                            .value = k->cur.value,
                            .len = k->cur.len};
    /* Over the limit: never decoded, a dead letter. */
    if (in->len > k->cfg.max_record_bytes) {
        in->too_big = true;
        in->value = NULL;
        in->len = 0;
    }
    return VELO_OK;
}

static void
k_release(void *ctx, struct batch_in *in)
{
    batch_kio *k = ctx;

    (void)in;
    velo_kafka_msg_release(&k->cur);
}

static bool
k_caught_up(void *ctx)
{
    batch_kio *k = ctx;

    return k->assigned && velo_kafka_caught_up(k->kc);
}

/* The shared dead-letter shape (velo/kafka_dlq.h): raw bytes (cut),
 * velo-error, velo-source, and where the record was read. */
static int
k_dead_letter(void *ctx, const struct batch_in *in, const char *why)
{
    batch_kio *k = ctx;
    int        rv;

    velo_warn("batch.dead_letter", VELO_S("reason", why),
              VELO_I("partition", in->partition), VELO_I("offset", in->offset));
    rv = velo_kafka_dlq_write(
        k->dlq, &(struct velo_kafka_dlq_cfg){.topic = k->cfg.dlq_topic},
        &(struct velo_kafka_dlq_letter){.key = in->key,
                                        .keylen = in->keylen,
                                        .value = k->cur.value,
                                        .len = k->cur.len,
                                        .reason = why,
                                        .source = "velo-batch",
                                        .origin_topic = k->cfg.topic,
                                        .origin_partition = in->partition,
                                        .origin_offset = in->offset});
    (void)velo_kafka_poll(k->dlq, 0);
    return rv;
}

/* ---- output ---- */

static int
k_begin(void *ctx)
{
    batch_kio *k = ctx;

    return velo_kafka_txn_begin(k->kt);
}

static int
k_produce(void *ctx, const struct batch_out *o)
{
    batch_kio                     *k = ctx;
    const struct velo_kafka_header h = {"content-type", o->content_type,
                                        strlen(o->content_type)};

    return velo_kafka_txn_produce(k->kt, k->cfg.out_topic, o->key, o->keylen,
                                  o->value, o->len, &h, 1, 0);
}

static int
k_commit(void *ctx, const struct velo_kafka_offset *offs, size_t n)
{
    batch_kio *k = ctx;
    int        rv;

    rv = velo_kafka_txn_send_offsets(k->kt, k->kc, offs, n);
    if (rv == VELO_OK)
        rv = velo_kafka_txn_commit(k->kt);
    return rv;
}

static int
k_abort(void *ctx)
{
    batch_kio *k = ctx;
    int        rv, i;

    for (i = 0; i < 5; i++) {
        rv = velo_kafka_txn_abort(k->kt);
        if (rv != VELO_ETIMEDOUT && rv != VELO_EUNAVAIL)
            break;
    }
    return rv;
}

void
batch_kio_ops(batch_kio *k, struct batch_io *io)
{
    *io = (struct batch_io){.zones = k_zones,
                            .partitions = k_partitions,
                            .committed = k_committed,
                            .timestamp_at = k_timestamp_at,
                            .seek = k_seek,
                            .next = k_next,
                            .release = k_release,
                            .caught_up = k_caught_up,
                            .dead_letter = k_dead_letter,
                            .begin = k_begin,
                            .produce = k_produce,
                            .commit = k_commit,
                            .abort = k_abort,
                            .ctx = k};
}

void
batch_kio_free(batch_kio *k)
{
    struct zone_entry *z, *tmp;

    if (k == NULL)
        return;
    velo_kafka_txn_free(k->kt);
    velo_kafka_consumer_free(k->kc);
    velo_kafka_consumer_free(k->ks);
    velo_kafka_producer_free(k->dlq);
    if (k->probe != NULL)
        rd_kafka_destroy(k->probe);
    HASH_ITER(hh, k->zones, z, tmp)
    {
        HASH_DEL(k->zones, z);
        free(z->system_id);
        free(z->tz);
        free(z->name);
        free(z);
    }
    free(k);
}
