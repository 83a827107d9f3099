/* kafka_catchup_test.c: velo_kafka_consumer_cfg.catch_up_partitions on
 * librdkafka's mock cluster. Records large enough that one fetch cannot
 * hold a whole partition: with every partition assigned at once the
 * fetches interleave partitions; handed over one at a time, partition k+1
 * starts only after partition k has reached its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo_test_kafka_mock.h"

#define TOPIC "catchup_topic"
#define PARTS 3
#define PER_PART 40
#define VAL_BYTES 65536 /* 40 x 64 KiB: more than one 1 MiB fetch */

static const struct velo_test_mock_topic mock_topic = {"kafka_catchup_test",
                                                       TOPIC, PARTS};

/* PER_PART records into each partition (a plain librdkafka producer:
 * velo_kafka_produce picks partitions by key). */
static void
produce(const struct velo_test_mock *m)
{
    rd_kafka_t *rk = velo_test_mock_producer(m, NULL);
    char       *val = calloc(1, VAL_BYTES);
    int         p, i;

    assert_non_null(val);
    for (p = 0; p < PARTS; p++) {
        for (i = 0; i < PER_PART; i++) {
            memset(val, 'a' + (i % 26), VAL_BYTES);
            assert_int_equal(
                rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(p),
                    RD_KAFKA_V_VALUE(val, VAL_BYTES),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
        }
    }
    assert_int_equal(rd_kafka_flush(rk, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    free(val);
}

/* Reads every record; fills order[] with the partition of each. */
static int
read_all(const struct velo_test_mock *m, uint32_t catch_up, int32_t *order)
{
    struct velo_kafka_consumer_cfg cfg = {.brokers = m->brokers,
                                          .group_id = "catchup",
                                          .catch_up_partitions = catch_up,
                                          .fetch_wait_max_ms = 10};
    velo_kafka_consumer           *kc = NULL;
    struct velo_kafka_msg          msg;
    int64_t                        deadline = velo_mono_ms() + 30000;
    int                            got = 0;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    assert_false(velo_kafka_caught_up(kc));
    while (got < PARTS * PER_PART && velo_mono_ms() < deadline) {
        if (velo_kafka_consume(kc, &msg, 100) != VELO_OK)
            continue;
        order[got++] = msg.partition;
        velo_kafka_msg_release(&msg);
    }
    assert_true(velo_kafka_caught_up(kc));
    velo_kafka_consumer_free(kc);
    return got;
}

/* How many times the partition changes along the order. */
static int
switches(const int32_t *order, int n)
{
    int i, s = 0;

    for (i = 1; i < n; i++)
        s += order[i] != order[i - 1];
    return s;
}

static void
test_one_at_a_time_reads_partitions_in_turn(void **state)
{
    struct velo_test_mock *m = *state;
    int32_t                order[PARTS * PER_PART];
    int                    i;

    produce(m);
    assert_int_equal(read_all(m, 1, order), PARTS * PER_PART);
    for (i = 0; i < PARTS * PER_PART; i++)
        assert_int_equal(order[i], i / PER_PART); /* 0..0 1..1 2..2 */
}

/* The control: all at once, the same records, interleaved. */
static void
test_all_at_once_interleaves(void **state)
{
    struct velo_test_mock *m = *state;
    int32_t                order[PARTS * PER_PART];

    produce(m);
    assert_int_equal(read_all(m, 0, order), PARTS * PER_PART);
    assert_true(switches(order, PARTS * PER_PART) > PARTS - 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(
            test_one_at_a_time_reads_partitions_in_turn, velo_test_mock_setup,
            velo_test_mock_teardown, (void *)&mock_topic),
        cmocka_unit_test_prestate_setup_teardown(
            test_all_at_once_interleaves, velo_test_mock_setup,
            velo_test_mock_teardown, (void *)&mock_topic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
