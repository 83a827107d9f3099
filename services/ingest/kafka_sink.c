/* kafka_sink.c: velo-ingest's records onto Kafka through velo_kafka.
 *
 * Station records: key "system/station", value the packed StationSnapshot,
 * header content-type; the record timestamp is the produce time (event
 * time travels in last_reported_ms), so consumers can seek by time.
 * Dead letters: the raw bytes (cut to DLQ_MAX with velo-truncated: true)
 * with headers velo-error, velo-source, velo-format.
 * SystemInfo: key the system id, value the packed SystemInfo, header
 * content-type, on the compacted systems topic. */
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "velo/kafka.h"
#include "velo/kafka_dlq.h"
#include "velo/log.h"
#include "velo/snapshot.h"

#define DLQ_MAX (900 * 1024)

struct ingest_kafka_sink {
    velo_kafka_producer *kp;
    const char          *topic, *dlq_topic, *systems_topic;
    uint8_t             *pack; /* reusable pack buffer */
    size_t               packcap;
    ingest_lost_fn       lost; /* set only while poll/flush runs */
    void                *owner;
};

static void
on_delivery(void *ctx, const void *key, size_t keylen, int err)
{
    ingest_kafka_sink *ks = ctx;

    if (err != VELO_OK && ks->lost != NULL)
        ks->lost(ks->owner, key, keylen);
}

static int
ks_send(void *ctx, const char *key, const Velo__V1__StationSnapshot *s)
{
    ingest_kafka_sink *ks = ctx;
    size_t n = protobuf_c_message_get_packed_size((const ProtobufCMessage *)s);
    const struct velo_kafka_header h = {"content-type",
                                        VELO_SNAPSHOT_CONTENT_TYPE,
                                        sizeof(VELO_SNAPSHOT_CONTENT_TYPE) - 1};

    if (n > ks->packcap) {
        uint8_t *p = realloc(ks->pack, n * 2);
        if (p == NULL)
            return VELO_ENOMEM;
        ks->pack = p;
        ks->packcap = n * 2;
    }
    protobuf_c_message_pack((const ProtobufCMessage *)s, ks->pack);
    return velo_kafka_produce(ks->kp, ks->topic, key, strlen(key), ks->pack, n,
                              &h, 1, 0);
}

/* The common dead-letter shape (velo/kafka_dlq.h) plus velo-format. One
 * try: emit.c retries EFULL itself, polling with its lost callback (a poll
 * in here would drop those reports). */
static int
ks_dead_letter(void *ctx, const struct ingest_dead_letter *dl)
{
    ingest_kafka_sink              *ks = ctx;
    const struct velo_kafka_dlq_cfg cfg = {
        .topic = ks->dlq_topic, .max_bytes = DLQ_MAX, .full_tries = 1};
    const struct velo_kafka_header     fmt = {"velo-format", dl->format,
                                              strlen(dl->format)};
    const struct velo_kafka_dlq_letter letter = {
        .key = dl->key,
        .keylen = strlen(dl->key),
        .value = dl->raw,
        .len = dl->len,
        .reason = dl->reason,
        .source = dl->source,
        .extra = &fmt,
        .nextra = 1,
    };

    return velo_kafka_dlq_write(ks->kp, &cfg, &letter);
}

static void
ks_poll(void *ctx, int timeout_ms, ingest_lost_fn lost, void *owner)
{
    ingest_kafka_sink *ks = ctx;

    ks->lost = lost;
    ks->owner = owner;
    velo_kafka_poll(ks->kp, timeout_ms);
    ks->lost = NULL;
}

static int
ks_flush(void *ctx, int timeout_ms, ingest_lost_fn lost, void *owner)
{
    ingest_kafka_sink *ks = ctx;
    int                rv;

    ks->lost = lost;
    ks->owner = owner;
    rv = velo_kafka_flush(ks->kp, timeout_ms);
    ks->lost = NULL;
    return rv;
}

/* SystemInfo: rare (a source's first poll, then only changes), so it
 * packs into a buffer of its own rather than sharing ks_send's. */
static int
ks_send_system(void *ctx, const char *key, const Velo__V1__SystemInfo *si)
{
    ingest_kafka_sink *ks = ctx;
    size_t             n = velo__v1__system_info__get_packed_size(si);
    const struct velo_kafka_header h = {"content-type",
                                        VELO_SYSINFO_CONTENT_TYPE,
                                        sizeof(VELO_SYSINFO_CONTENT_TYPE) - 1};
    uint8_t                       *buf = malloc(n > 0 ? n : 1);
    int                            rv;

    if (buf == NULL)
        return VELO_ENOMEM;
    velo__v1__system_info__pack(si, buf);
    rv = velo_kafka_produce(ks->kp, ks->systems_topic, key, strlen(key), buf, n,
                            &h, 1, 0);
    free(buf);
    return rv;
}

int
ingest_kafka_sink_new(ingest_kafka_sink                 **out,
                      const struct ingest_kafka_sink_cfg *cfg,
                      struct ingest_sink                 *ops)
{
    ingest_kafka_sink    *ks = calloc(1, sizeof(*ks));
    struct velo_kafka_cfg kc = {
        .brokers = cfg->brokers,
        .client_id = "velo-ingest",
        .flush_timeout_ms = cfg->flush_timeout_ms,
        .on_delivery = on_delivery,
    };
    int rv;

    if (ks == NULL)
        return VELO_ENOMEM;
    kc.ctx = ks;
    rv = velo_kafka_producer_new(&ks->kp, &kc);
    if (rv != VELO_OK) {
        free(ks);
        return rv;
    }
    ks->topic = cfg->topic;
    ks->dlq_topic = cfg->dlq_topic;
    ks->systems_topic = cfg->systems_topic;
    *ops = (struct ingest_sink){.send = ks_send,
                                .dead_letter = ks_dead_letter,
                                .send_system = ks_send_system,
                                .poll = ks_poll,
                                .flush = ks_flush,
                                .ctx = ks};
    *out = ks;
    return VELO_OK;
}

void
ingest_kafka_sink_free(ingest_kafka_sink *ks)
{
    if (ks == NULL)
        return;
    velo_kafka_producer_free(ks->kp);
    free(ks->pack);
    free(ks);
}
