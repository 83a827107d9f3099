/* consumer_test.c: the consumer thread against librdkafka's mock cluster
 * (the dev broker of `make run`): a restart rebuilds the whole state, and
 * a bad record is dead-lettered once across restarts. Real-broker
 * behaviour is checked by tests/integration/stream_e2e.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo_test_kafka_mock.h"
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "consumer.h"
#include "test_util.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"
#include "velo/snapshot.h"

#define TOPIC "velib_data"
#define DLQ "velib_data.dlq"
#define NSTATIONS 5

struct fixture {
    struct velo_test_mock m;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    velo_test_mock_start(&f->m, "consumer_test");
    velo_test_mock_topic(&f->m, TOPIC, 3);
    velo_test_mock_topic(&f->m, DLQ, 1);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    velo_test_mock_stop(&f->m);
    free(f);
    return 0;
}

/* What ingest would have sent: NSTATIONS snapshots, then one record that
 * is not a StationSnapshot. */
static void
produce_records(const struct fixture *f)
{
    struct velo_kafka_cfg          cfg = {.brokers = f->m.brokers,
                                          .flush_timeout_ms = 5000};
    const struct velo_kafka_header ct = {
        "content-type", VELO_SNAPSHOT_CONTENT_TYPE,
        sizeof(VELO_SNAPSHOT_CONTENT_TYPE) - 1};
    velo_kafka_producer      *kp = NULL;
    Velo__V1__StationSnapshot s;
    uint8_t                   buf[512];
    char                      id[16], key[32];
    size_t                    n;
    int                       i;

    assert_int_equal(velo_kafka_producer_new(&kp, &cfg), VELO_OK);
    for (i = 0; i < NSTATIONS; i++) {
        snprintf(id, sizeof(id), "st%d", i);
        snprintf(key, sizeof(key), "test:sys/%s", id);
        s = t_snap("test:sys", id, 3, 7, velo_now_ms());
        n = velo__v1__station_snapshot__pack(&s, buf);
        assert_int_equal(
            velo_kafka_produce(kp, TOPIC, key, strlen(key), buf, n, &ct, 1, 0),
            VELO_OK);
    }
    assert_int_equal(velo_kafka_produce(kp, TOPIC, "test:sys/bad", 12,
                                        "\xff\xff\xff garbage", 12, NULL, 0, 0),
                     VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 5000), VELO_OK);
    velo_kafka_producer_free(kp);
}

/* Records on the DLQ topic: its high watermark. */
static int64_t
dead_letters(const struct fixture *f)
{
    struct velo_kafka_consumer_cfg cfg = {.brokers = f->m.brokers,
                                          .group_id = "dlq-count"};
    velo_kafka_consumer           *kc = NULL;
    int64_t                        n = -1;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    assert_int_equal(
        velo_kafka_assign_all(kc, DLQ, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    assert_int_equal(velo_kafka_consumer_lag(kc, &n), VELO_OK);
    velo_kafka_consumer_free(kc);
    return n;
}

/* One run of velo-stream's consumer until the rebuild is done; returns
 * the stations it then holds. */
static size_t
run_once(const struct fixture *f)
{
    const struct stream_consumer_cfg cfg = {
        .brokers = f->m.brokers,
        .topic = TOPIC,
        .dlq_topic = DLQ,
        .group_id = "stream-consumer",
        .client_id = "velo-stream",
        .rebuild_ms = 5 * 60 * 1000,
        .max_record_bytes = 100000,
        .flush_timeout_ms = 2000,
    };
    const struct stream_state_cfg sc = {
        .stale_ms = 600000, .stuck_ms = 600000, .trend_ms = 900000};
    struct stream_progress p;
    stream_state          *st = NULL;
    stream_consumer       *c = NULL;
    velo_metrics          *m = NULL;
    int64_t                deadline = velo_mono_ms() + 15000;
    size_t                 n;

    stream_progress_init(&p);
    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    assert_int_equal(stream_state_new(&st, &sc), VELO_OK);
    assert_int_equal(stream_consumer_new(&c, &cfg, st, &p, NULL, m), VELO_OK);
    assert_int_equal(stream_consumer_start(c), VELO_OK);
    while (!stream_progress_serving(&p) && velo_mono_ms() < deadline)
        velo_sleep_ms(50);
    assert_true(stream_progress_serving(&p));
    stream_state_rdlock(st);
    n = stream_state_count(st);
    stream_state_unlock(st);
    assert_int_equal(stream_consumer_stop(c), VELO_OK); /* commits */
    stream_consumer_free(c);
    stream_state_free(st);
    velo_metrics_free(m);
    return n;
}

/* Fault 9: on the dev broker a restarted velo-stream started at the end
 * (no seek by time) and called itself rebuilt with 0 stations. */
static void
test_restart_on_dev_broker_rebuilds_every_station(void **state)
{
    struct fixture *f = *state;

    produce_records(f);
    assert_int_equal(run_once(f), NSTATIONS);
    assert_int_equal(run_once(f), NSTATIONS); /* the restart */
}

/* Fault 10: every run re-reads the rebuild window; the bad record in it
 * is dead-lettered by the first run only. */
static void
test_bad_record_is_dead_lettered_once_across_restarts(void **state)
{
    struct fixture *f = *state;

    produce_records(f);
    (void)run_once(f);
    assert_int_equal(dead_letters(f), 1);
    (void)run_once(f);
    (void)run_once(f);
    assert_int_equal(dead_letters(f), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_restart_on_dev_broker_rebuilds_every_station, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_record_is_dead_lettered_once_across_restarts, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
