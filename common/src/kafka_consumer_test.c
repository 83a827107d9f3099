/* kafka_consumer_test.c: velo_kafka_consumer_lag{group}, the lag series
 * every service's consumer exports when its cfg names a registry, on
 * librdkafka's mock cluster (group subscription and assign_all). The
 * consumer's records, commits and rebuild progress: kafka_test.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/metrics.h"
#include "velo_test_kafka_mock.h"

#define TOPIC "lag_topic"
#define NMSG 10
#define REFRESH_MS 1100 /* past the consumer's once-a-second refresh */

struct fixture {
    struct velo_test_mock m;
    velo_metrics         *reg;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    velo_test_mock_start(&f->m, "kafka_consumer_test");
    /* One partition: every record read gives the consumer a position, so
     * the expected lag is exact. */
    velo_test_mock_topic(&f->m, TOPIC, 1);
    assert_int_equal(velo_metrics_new(&f->reg), VELO_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    velo_metrics_free(f->reg);
    velo_test_mock_stop(&f->m);
    free(f);
    return 0;
}

static void
produce(const struct fixture *f)
{
    struct velo_kafka_cfg cfg = {.brokers = f->m.brokers,
                                 .flush_timeout_ms = 5000};
    velo_kafka_producer  *kp = NULL;
    char                  val[16];
    int                   i, n;

    assert_int_equal(velo_kafka_producer_new(&kp, &cfg), VELO_OK);
    for (i = 0; i < NMSG; i++) {
        n = snprintf(val, sizeof(val), "v%d", i);
        assert_int_equal(
            velo_kafka_produce(kp, TOPIC, "k", 1, val, (size_t)n, NULL, 0, 0),
            VELO_OK);
    }
    assert_int_equal(velo_kafka_flush(kp, 10000), VELO_OK);
    velo_kafka_producer_free(kp);
}

static velo_kafka_consumer *
consumer(const struct fixture *f, const char *group)
{
    struct velo_kafka_consumer_cfg cfg = {
        .brokers = f->m.brokers,
        .group_id = group,
        .session_timeout_ms = 6000, /* the mock's slow first join */
        .metrics = f->reg,
    };
    velo_kafka_consumer *kc = NULL;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    return kc;
}

static double
gauge(const struct fixture *f, const char *group)
{
    char labels[64];

    snprintf(labels, sizeof(labels), "group=\"%s\"", group);
    return velo_metric_value(
        velo_metrics_gauge(f->reg, "velo_kafka_consumer_lag", "", labels));
}

/* Reads until *got records have come, up to 20 s. */
static void
read_until(velo_kafka_consumer *kc, int *got, int want)
{
    struct velo_kafka_msg m;
    int64_t               deadline = velo_mono_ms() + 20000;

    while (*got < want && velo_mono_ms() < deadline) {
        if (velo_kafka_consume(kc, &m, 200) != VELO_OK)
            continue;
        velo_kafka_msg_release(&m);
        (*got)++;
    }
    assert_int_equal(*got, want);
}

/* After REFRESH_MS, one consume refreshes the gauge with the lag as it
 * was before the call; a record it returns is counted in *got. */
static double
refreshed(const struct fixture *f, velo_kafka_consumer *kc, const char *group,
          int *got, int *before)
{
    struct velo_kafka_msg m;

    velo_sleep_ms(REFRESH_MS);
    *before = *got;
    if (velo_kafka_consume(kc, &m, 0) == VELO_OK) {
        velo_kafka_msg_release(&m);
        (*got)++;
    }
    return gauge(f, group);
}

/* velo-batch and velo-warehouse subscribe: their lag comes from the
 * group's assignment, positions against the cached high watermark. */
static void
test_group_member_lag_follows_consumption(void **state)
{
    struct fixture      *f = *state;
    velo_kafka_consumer *kc;
    int                  got = 0, before;

    produce(f);
    kc = consumer(f, "g-lag");
    assert_true(gauge(f, "g-lag") == 0); /* the series exists at once */
    assert_int_equal(velo_kafka_subscribe(kc, TOPIC), VELO_OK);
    read_until(kc, &got, NMSG / 2);
    assert_true(refreshed(f, kc, "g-lag", &got, &before) == NMSG - before);
    read_until(kc, &got, NMSG);
    assert_true(refreshed(f, kc, "g-lag", &got, &before) == 0);
    velo_kafka_consumer_free(kc);
}

/* velo-stream assigns every partition: the same series from the
 * assignment it made. */
static void
test_assign_all_lag_is_exported_too(void **state)
{
    struct fixture      *f = *state;
    velo_kafka_consumer *kc;
    int                  got = 0, before;

    produce(f);
    kc = consumer(f, "g-assign");
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    read_until(kc, &got, 3);
    assert_true(refreshed(f, kc, "g-assign", &got, &before) == NMSG - before);
    velo_kafka_consumer_free(kc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_group_member_lag_follows_consumption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign_all_lag_is_exported_too,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
