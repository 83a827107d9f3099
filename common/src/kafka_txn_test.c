/* kafka_txn_test.c: the transactional producer's arguments, call order and
 * error mapping, against librdkafka's mock cluster with injected errors.
 *
 * The mock is no evidence that transactions work (its read_committed
 * consumers see aborted records): commit, abort, offsets and fencing on
 * real Kafka are in tests/integration/kafka_txn_it.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/clock.h"
#include "velo_test_kafka_mock.h"
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "velo/kafka.h"
#include "velo/kafka_txn.h"
#include "velo/log.h"

#define TOPIC "velo.txn"
#define TOPIC2 "velo.txn2"
/* Kafka API keys (rdkafka_protocol.h, not installed): what the mock fails. */
#define API_PRODUCE 0
#define API_END_TXN 26

struct fixture {
    struct velo_test_mock m;
    velo_kafka_txn       *kt;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    velo_test_mock_start(&f->m, "kafka_txn_test");
    velo_test_mock_topic(&f->m, TOPIC, 1);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    velo_kafka_txn_free(f->kt);
    velo_test_mock_stop(&f->m);
    free(f);
    return 0;
}

static struct velo_kafka_txn_cfg
cfg_of(const struct fixture *f)
{
    return (struct velo_kafka_txn_cfg){
        .brokers = f->m.brokers,
        .client_id = "kafka_txn_test",
        .transactional_id = "velo.txn.test",
        .max_msg_bytes = 1000,
        .timeout_ms = 5000,
    };
}

static velo_kafka_txn *
txn_new(struct fixture *f)
{
    struct velo_kafka_txn_cfg cfg = cfg_of(f);

    assert_int_equal(velo_kafka_txn_new(&f->kt, &cfg), VELO_OK);
    return f->kt;
}

static int
put(velo_kafka_txn *kt, const char *value)
{
    return velo_kafka_txn_produce(kt, TOPIC, "k", 1, value, strlen(value), NULL,
                                  0, 0);
}

static void
test_new_rejects_bad_cfg_and_leaves_out(void **state)
{
    struct fixture           *f = *state;
    struct velo_kafka_txn_cfg cfg;
    velo_kafka_txn           *kt = (velo_kafka_txn *)f; /* sentinel */

    cfg = cfg_of(f);
    cfg.transactional_id = "";
    assert_int_equal(velo_kafka_txn_new(&kt, &cfg), VELO_EINVAL);
    cfg = cfg_of(f);
    cfg.brokers = NULL;
    assert_int_equal(velo_kafka_txn_new(&kt, &cfg), VELO_EINVAL);
    /* librdkafka's floor for transaction.timeout.ms is 1000. */
    cfg = cfg_of(f);
    cfg.timeout_ms = 999;
    assert_int_equal(velo_kafka_txn_new(&kt, &cfg), VELO_EINVAL);
    assert_ptr_equal(kt, (velo_kafka_txn *)f);
    velo_kafka_txn_free(NULL);
}

static void
test_calls_out_of_order_are_einval(void **state)
{
    struct fixture          *f = *state;
    velo_kafka_txn          *kt = txn_new(f);
    struct velo_kafka_offset off = {.topic = TOPIC, .partition = 0};

    assert_int_equal(put(kt, "v"), VELO_EINVAL);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_EINVAL);
    assert_int_equal(velo_kafka_txn_send_offsets(kt, NULL, &off, 1),
                     VELO_EINVAL);
    /* Nothing open: nothing to abort. */
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_OK);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_EINVAL);
    assert_int_equal(put(kt, "v"), VELO_OK);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_OK);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_EINVAL);
}

static void
test_produce_checks_size_and_topic(void **state)
{
    struct fixture *f = *state;
    velo_kafka_txn *kt = txn_new(f);
    char            big[1001];

    memset(big, 'x', sizeof(big));
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    assert_int_equal(velo_kafka_txn_produce(kt, TOPIC, NULL, 0, big,
                                            sizeof(big), NULL, 0, 0),
                     VELO_ETOOBIG);
    assert_int_equal(
        velo_kafka_txn_produce(kt, "", NULL, 0, "v", 1, NULL, 0, 0),
        VELO_EINVAL);
    assert_int_equal(
        velo_kafka_txn_produce(kt, TOPIC, NULL, 0, big, 1000, NULL, 0, 0),
        VELO_OK);
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_OK);
}

static void
test_send_offsets_checks_entries(void **state)
{
    struct fixture                *f = *state;
    velo_kafka_txn                *kt = txn_new(f);
    velo_kafka_consumer           *kc = NULL;
    struct velo_kafka_consumer_cfg ccfg = {
        .brokers = f->m.brokers,
        .group_id = "velo.txn.group",
        .read_committed = true,
    };
    struct velo_kafka_offset bad[] = {
        {.topic = TOPIC, .partition = 0, .offset = -1},
        {.topic = "", .partition = 0, .offset = 1},
        {.topic = TOPIC, .partition = -1, .offset = 1},
    };
    size_t i;

    assert_int_equal(velo_kafka_consumer_new(&kc, &ccfg), VELO_OK);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(velo_kafka_txn_send_offsets(kt, kc, &bad[i], 1),
                         VELO_EINVAL);
    assert_int_equal(velo_kafka_txn_send_offsets(kt, kc, bad, 0), VELO_OK);
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_OK);
    assert_int_equal(velo_kafka_committed(kc, bad, 0, 1000), VELO_EINVAL);
    velo_kafka_consumer_free(kc);
}

/* A record the broker refuses leaves the transaction abortable: commit is
 * VELO_EABORTED, abort clears it and the next transaction commits. */
static void
test_failed_record_makes_commit_eaborted(void **state)
{
    struct fixture *f = *state;
    velo_kafka_txn *kt = txn_new(f);

    rd_kafka_mock_push_request_errors(
        f->m.mc, API_PRODUCE, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    assert_int_equal(put(kt, "refused"), VELO_OK);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_EABORTED);
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_OK);
    /* Another topic: the client now holds TOPIC's authorization error
     * until its next metadata refresh. */
    assert_int_equal(rd_kafka_mock_topic_create(f->m.mc, TOPIC2, 1, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    assert_int_equal(
        velo_kafka_txn_produce(kt, TOPIC2, NULL, 0, "ok", 2, NULL, 0, 0),
        VELO_OK);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_OK);
}

/* warm waits for a leader of every partition, and says when none came. */
static void
test_warm_waits_for_leaders(void **state)
{
    struct fixture *f = *state;
    velo_kafka_txn *kt = txn_new(f);
    int64_t         t0;

    assert_int_equal(velo_kafka_txn_warm(kt, "", 100), VELO_EINVAL);
    assert_int_equal(velo_kafka_txn_warm(kt, TOPIC, -1), VELO_EINVAL);
    assert_int_equal(rd_kafka_mock_partition_set_leader(f->m.mc, TOPIC, 0, -1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    t0 = velo_mono_ms();
    assert_int_equal(velo_kafka_txn_warm(kt, TOPIC, 300), VELO_ETIMEDOUT);
    assert_true(velo_mono_ms() - t0 < 3000); /* bounded by its timeout */
    assert_int_equal(rd_kafka_mock_partition_set_leader(f->m.mc, TOPIC, 0, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(velo_kafka_txn_warm(kt, TOPIC, 5000), VELO_OK);
}

/* The coordinator saying "fenced" is fatal: VELO_EFENCED now and on every
 * later call. */
static void
test_fenced_commit_is_efenced_for_good(void **state)
{
    struct fixture *f = *state;
    velo_kafka_txn *kt = txn_new(f);

    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    assert_int_equal(put(kt, "v"), VELO_OK);
    rd_kafka_mock_push_request_errors(f->m.mc, API_END_TXN, 1,
                                      RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_EFENCED);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_EFENCED);
    assert_int_equal(put(kt, "v"), VELO_EFENCED);
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_EFENCED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_rejects_bad_cfg_and_leaves_out,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_out_of_order_are_einval,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_checks_size_and_topic,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_offsets_checks_entries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_failed_record_makes_commit_eaborted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warm_waits_for_leaders, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fenced_commit_is_efenced_for_good,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
