/* kafka_readahead_test.c: velo_kafka_consumer_cfg.read_ahead_records on
 * librdkafka's mock cluster. A consumer that starts reading only after
 * its fetcher had time to run ahead: unbounded (the control), the whole
 * partition waits in the client; bounded, at most the bound plus one
 * fetch. And the bound costs no stalls: librdkafka 2.0.2 alone would look
 * at it again once a second, some RECORDS / PER_FETCH seconds in all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kafka_consumer_int.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo_test_kafka_mock.h"

#define TOPIC "readahead_topic"
#define RECORDS 40000
#define VAL_BYTES 100
#define BOUND 200
#define BATCH 1000 /* records per producer batch: over 64 KiB */
#define BATCH_S "1000"
/* A fetch returns whole batches, the first one even when larger than
 * asked for: here one batch, more than the bound, so the bound bites after
 * every fetch. */
#define PER_FETCH BATCH
#define HEAD_START_MS 500 /* the fetcher runs alone before reading starts */
/* Read in 20-120 ms here (ASan build); 40 fetches, each stalled until
 * librdkafka's next look: over 10 s. */
#define READ_MS_MAX 2000
#define OPS_SLACK 16 /* librdkafka's own ops (barriers) in the queue */

static const struct velo_test_mock_topic mock_topic = {"kafka_readahead_test",
                                                       TOPIC, 1};

static void
produce(const struct velo_test_mock *m)
{
    static const char *const kv[] = {"batch.num.messages", BATCH_S, NULL};
    rd_kafka_t              *rk = velo_test_mock_producer(m, kv);
    char                     val[VAL_BYTES];
    int                      i;

    for (i = 0; i < RECORDS; i++) {
        memset(val, 'a' + (i % 26), sizeof(val));
        assert_int_equal(
            rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                RD_KAFKA_V_VALUE(val, sizeof(val)),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
        if (i % 1000 == 999)
            (void)rd_kafka_poll(rk, 0);
    }
    assert_int_equal(rd_kafka_flush(rk, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

struct reading {
    int     got;
    int     max_queued; /* records waiting in the client, at most */
    int64_t read_ms;    /* from the first record to the last */
};

static void
read_all(const struct velo_test_mock *m, uint32_t bound, struct reading *r)
{
    struct velo_kafka_consumer_cfg cfg = {.brokers = m->brokers,
                                          .group_id = "readahead",
                                          .read_ahead_records = bound,
                                          .catch_up_partitions = 1,
                                          .fetch_wait_max_ms = 10};
    velo_kafka_consumer           *kc = NULL;
    rd_kafka_queue_t              *q;
    struct velo_kafka_msg          msg;
    int64_t                        t0 = 0, deadline;
    int                            n;

    memset(r, 0, sizeof(*r));
    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    q = rd_kafka_queue_get_consumer(kc->rk);
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    velo_sleep_ms(HEAD_START_MS);
    deadline = velo_mono_ms() + 60000;
    while (r->got < RECORDS && velo_mono_ms() < deadline) {
        n = rd_kafka_queue_length(q);
        if (n > r->max_queued)
            r->max_queued = n;
        if (velo_kafka_consume(kc, &msg, 100) != VELO_OK)
            continue;
        if (r->got++ == 0)
            t0 = velo_mono_ms();
        velo_kafka_msg_release(&msg);
    }
    r->read_ms = velo_mono_ms() - t0;
    rd_kafka_queue_destroy(q);
    velo_kafka_consumer_free(kc);
}

static void
test_bounded_holds_bound_plus_one_fetch_without_stalls(void **state)
{
    struct velo_test_mock *m = *state;
    struct reading         r;

    produce(m);
    read_all(m, BOUND, &r);
    assert_int_equal(r.got, RECORDS);
    print_message("max queued %d (bound %d, a fetch %d), %lld ms\n",
                  r.max_queued, BOUND, PER_FETCH, (long long)r.read_ms);
    assert_true(r.max_queued > 0);
    assert_true(r.max_queued <= BOUND + PER_FETCH + OPS_SLACK);
    assert_true(r.read_ms < READ_MS_MAX);
}

/* The control: librdkafka's own bound lets the fetcher take it all. */
static void
test_unbounded_holds_the_partition(void **state)
{
    struct velo_test_mock *m = *state;
    struct reading         r;

    produce(m);
    read_all(m, 0, &r);
    assert_int_equal(r.got, RECORDS);
    assert_true(r.max_queued > RECORDS / 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(
            test_bounded_holds_bound_plus_one_fetch_without_stalls,
            velo_test_mock_setup, velo_test_mock_teardown, (void *)&mock_topic),
        cmocka_unit_test_prestate_setup_teardown(
            test_unbounded_holds_the_partition, velo_test_mock_setup,
            velo_test_mock_teardown, (void *)&mock_topic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
