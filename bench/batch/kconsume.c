/* velo-bench-kconsume: the floor of bench/batch. Reads every record of a
 * topic once, through the same velo_kafka consumer velo-batch uses, and
 * does nothing with it (or, with --decode, only unpacks it as a
 * StationSnapshot): no windows, no output, no transactions.
 *
 *   velo-bench-kconsume --brokers B --topic T [--decode 1]
 *                       [--catch-up N] [--json]
 *
 * --catch-up: partitions read at once, as velo-batch --once reads them
 * (its --catch-up-partitions, default 1, with a 10 ms fetch wait); 0: all
 * at once, librdkafka's way.
 *
 * Assigns every partition from its beginning and stops once it has read up
 * to the high watermarks seen at assignment (velo_kafka_caught_up). The
 * time counted runs from the assignment to the last record; the process's
 * start-up is left to the caller's wall clock. Exit status: 0 done, 1
 * Kafka failed or a record did not decode, 78 bad flags. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bench_util.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"
#include "velo/v1/station.pb-c.h"

struct kc_opts {
    const char *brokers, *topic;
    uint32_t    decode;
    uint32_t    catch_up;
    bool        json;
};

struct kc_count {
    uint64_t records, bytes, undecodable;
};

/* Unpacks one value as a StationSnapshot; false when it does not decode. */
static bool
kc_decode(const struct velo_kafka_msg *m)
{
    Velo__V1__StationSnapshot *s;

    s = velo__v1__station_snapshot__unpack(NULL, m->len, m->value);
    if (s == NULL)
        return false;
    velo__v1__station_snapshot__free_unpacked(s, NULL);
    return true;
}

/* Consumes until caught up (or 30 s without a record: a stalled broker). */
static int
kc_loop(velo_kafka_consumer *kc, const struct kc_opts *o, struct kc_count *c)
{
    struct velo_kafka_msg m;
    int64_t               idle_since = velo_mono_ms();
    int                   rv;

    while (!velo_kafka_caught_up(kc)) {
        rv = velo_kafka_consume(kc, &m, 100);
        if (rv == VELO_ETIMEDOUT) {
            if (velo_mono_ms() - idle_since > 30000)
                return VELO_ETIMEDOUT;
            continue;
        }
        if (rv != VELO_OK)
            return rv;
        idle_since = velo_mono_ms();
        c->records++;
        c->bytes += m.len + m.keylen;
        if (o->decode && !kc_decode(&m))
            c->undecodable++;
        velo_kafka_msg_release(&m);
    }
    return VELO_OK;
}

int
main(int argc, char **argv)
{
    struct kc_opts          o = {.brokers = "127.0.0.1:9092", .catch_up = 1};
    const struct bench_flag flags[] = {{"--brokers", &o.brokers, NULL},
                                       {"--topic", &o.topic, NULL},
                                       {"--decode", NULL, &o.decode},
                                       {"--catch-up", NULL, &o.catch_up}};
    struct velo_kafka_consumer_cfg cfg = {0};
    velo_kafka_consumer           *kc = NULL;
    struct kc_count                c = {0};
    int64_t                        t0, t1;
    int                            rv;

    if (bench_parse(argc, argv, flags, 4, &o.json) != 0 || o.topic == NULL) {
        fprintf(stderr, "usage: velo-bench-kconsume --brokers B --topic T "
                        "[--decode 0|1] [--catch-up N] [--json]\n");
        return 78;
    }
    velo_log_init("bench-kconsume", VELO_LOG_WARN, 2);
    cfg.brokers = o.brokers;
    cfg.group_id = "velo-bench-kconsume"; /* never commits */
    cfg.catch_up_partitions = o.catch_up;
    cfg.fetch_wait_max_ms = o.catch_up > 0 ? 10 : 0;
    rv = velo_kafka_consumer_new(&kc, &cfg);
    t0 = velo_mono_ms();
    if (rv == VELO_OK)
        rv = velo_kafka_assign_all(kc, o.topic, VELO_KAFKA_OFFSET_BEGINNING,
                                   10000);
    if (rv == VELO_OK)
        rv = kc_loop(kc, &o, &c);
    t1 = velo_mono_ms();
    velo_kafka_consumer_free(kc);
    if (rv != VELO_OK || c.undecodable > 0) {
        fprintf(stderr, "velo-bench-kconsume: %s (%llu undecodable)\n",
                velo_strerror(rv), (unsigned long long)c.undecodable);
        return 1;
    }
    if (o.json)
        printf("{\"bench\":\"kconsume\",\"records\":%llu,\"bytes\":%llu,"
               "\"decode\":%s,\"seconds\":%.3f}\n",
               (unsigned long long)c.records, (unsigned long long)c.bytes,
               o.decode ? "true" : "false", (double)(t1 - t0) / 1000.0);
    else
        printf("%llu records, %llu bytes in %.3f s\n",
               (unsigned long long)c.records, (unsigned long long)c.bytes,
               (double)(t1 - t0) / 1000.0);
    return 0;
}
