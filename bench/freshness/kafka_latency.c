/* velo-bench-kafka-latency: bare Kafka produce-to-consume latency with the
 * producer settings velo-ingest uses (velo_kafka: idempotent, acks=all,
 * lz4, linger 5 ms) and a consumer like velo-stream's (assign all
 * partitions), in one process so one monotonic clock times both ends.
 * The baseline of bench/freshness.
 *
 * With --burst N, each tick produces N records at once (as a velo-ingest
 * poll produces a whole batch), and every record's latency is counted.
 *
 *   velo-bench-kafka-latency --brokers B --topic T [--count 2000]
 *                            [--rate 50] [--burst 1] [--size 160] [--json]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench_util.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"
#include "velo/parse.h"

struct opts {
    const char *brokers, *topic;
    uint32_t    count, rate, size, burst;
    bool        json;
};

struct consumer {
    velo_kafka_consumer *kc;
    const struct opts   *o;
    struct bench_lat     lat;
    atomic_bool          stop;
};

static int
parse_args(int argc, char **argv, struct opts *o)
{
    const struct bench_flag flags[] = {
        {"--brokers", &o->brokers, NULL}, {"--topic", &o->topic, NULL},
        {"--count", NULL, &o->count},     {"--rate", NULL, &o->rate},
        {"--size", NULL, &o->size},       {"--burst", NULL, &o->burst},
    };

    *o = (struct opts){NULL, NULL, 2000, 50, 160, 1, false};
    if (bench_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]),
                    &o->json) != 0)
        return -1;
    return o->brokers && o->topic && o->rate > 0 && o->size >= 8 && o->burst > 0
               ? 0
               : -1;
}

static void *
consume(void *arg)
{
    struct consumer      *c = arg;
    struct velo_kafka_msg m;
    int64_t               sent;
    int64_t               deadline = velo_mono_ms() + 120000;

    while (c->lat.calls < c->o->count && !atomic_load(&c->stop) &&
           velo_mono_ms() < deadline) {
        if (velo_kafka_consume(c->kc, &m, 100) != VELO_OK)
            continue;
        if (m.len >= sizeof(sent)) {
            memcpy(&sent, m.value, sizeof(sent));
            bench_lat_add(&c->lat, velo_mono_ns() - sent);
        }
        velo_kafka_msg_release(&m);
    }
    return NULL;
}

static int
produce_all(const struct opts *o, velo_kafka_producer *kp)
{
    char     key[32], *val = calloc(1, o->size);
    int64_t  t0 = velo_mono_ns(), now;
    uint32_t i;

    if (val == NULL)
        return -1;
    memset(val, 'x', o->size);
    for (i = 0; i < o->count; i++) {
        /* Paced: burst i / burst leaves at t0 + (i / burst) / rate. */
        while ((now = velo_mono_ns()) <
               t0 + (int64_t)(i / o->burst) * 1000000000 / o->rate)
            velo_kafka_poll(kp, 1);
        memcpy(val, &now, sizeof(now));
        snprintf(key, sizeof(key), "bench:x/%u", 100000 + i % o->burst);
        if (velo_kafka_produce(kp, o->topic, key, strlen(key), val, o->size,
                               NULL, 0, 0) != VELO_OK)
            fprintf(stderr, "produce failed\n");
        velo_kafka_poll(kp, 0);
    }
    free(val);
    return velo_kafka_flush(kp, 10000);
}

int
main(int argc, char **argv)
{
    struct opts                    o;
    struct consumer                c = {0};
    struct velo_kafka_cfg          pc = {0};
    struct velo_kafka_consumer_cfg cc = {0};
    velo_kafka_producer           *kp = NULL;
    struct bench_lat               all;
    pthread_t                      thr;
    int64_t                        t0;

    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: velo-bench-kafka-latency --brokers B --topic "
                        "T [--count N] [--rate PER_S] [--burst N] "
                        "[--size BYTES] [--json]\n");
        return 2;
    }
    velo_log_init("bench", VELO_LOG_WARN, STDERR_FILENO);
    cc = (struct velo_kafka_consumer_cfg){o.brokers, "bench-latency",
                                          "bench-latency", 0, false};
    pc = (struct velo_kafka_cfg){.brokers = o.brokers,
                                 .client_id = "bench-latency",
                                 .flush_timeout_ms = 10000};
    if (velo_kafka_ensure_topic(o.brokers, o.topic, 6, 20000) != VELO_OK ||
        velo_kafka_consumer_new(&c.kc, &cc) != VELO_OK ||
        velo_kafka_assign_all(c.kc, o.topic, VELO_KAFKA_OFFSET_BEGINNING,
                              20000) != VELO_OK ||
        velo_kafka_producer_new(&kp, &pc) != VELO_OK) {
        fprintf(stderr, "velo-bench-kafka-latency: cannot reach %s\n",
                o.brokers);
        return 1;
    }
    c.o = &o;
    t0 = velo_mono_ns();
    pthread_create(&thr, NULL, consume, &c);
    if (produce_all(&o, kp) != VELO_OK)
        fprintf(stderr, "flush incomplete\n");
    pthread_join(thr, NULL);
    bench_lat_merge(&c.lat, 1, &all);
    bench_report("kafka_produce_to_consume", &all,
                 (double)(velo_mono_ns() - t0) / 1e9, 1, "message", o.size,
                 o.json);
    free(all.us);
    free(c.lat.us);
    velo_kafka_producer_free(kp);
    velo_kafka_consumer_free(c.kc);
    return all.calls == o.count ? 0 : 1;
}
