/* kafka_dlq_test.c: dead letters on librdkafka's mock cluster: the headers
 * a reader finds, the size caps, and the bounded retry on a full queue. */
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

#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/kafka_dlq.h"
#include "velo/log.h"

#define DLQ "velo.test.dlq"

struct fixture {
    struct velo_test_mock m;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    velo_test_mock_start(&f->m, "kafka_dlq_test");
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

static velo_kafka_producer *
producer_new(const struct fixture *f, uint32_t queue_kbytes)
{
    struct velo_kafka_cfg cfg = {
        .brokers = f->m.brokers,
        .client_id = "dlq-test",
        .flush_timeout_ms = 5000,
        .queue_max_kbytes = queue_kbytes,
        .linger_ms = 50, /* keeps a message queued long enough to see EFULL */
    };
    velo_kafka_producer *kp = NULL;

    assert_int_equal(velo_kafka_producer_new(&kp, &cfg), VELO_OK);
    return kp;
}

/* Reads the one-partition DLQ from the start until n records came. The
 * records are borrowed from the returned consumer: release them first. */
static velo_kafka_consumer *
read_letters(const struct fixture *f, struct velo_kafka_msg *out, int n)
{
    struct velo_kafka_consumer_cfg cfg = {
        .brokers = f->m.brokers,
        .group_id = "dlq-reader",
        .session_timeout_ms = 6000,
    };
    velo_kafka_consumer *kc = NULL;
    int64_t              deadline = velo_mono_ms() + 15000;
    int                  got = 0;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    assert_int_equal(
        velo_kafka_assign_all(kc, DLQ, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    while (got < n && velo_mono_ms() < deadline) {
        if (velo_kafka_consume(kc, &out[got], 200) == VELO_OK)
            got++;
    }
    assert_int_equal(got, n);
    return kc;
}

static void
assert_header(const struct velo_kafka_msg *m, const char *name,
              const char *want)
{
    const void *v;
    size_t      n;

    assert_int_equal(velo_kafka_msg_header(m, name, &v, &n), VELO_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(v, want, n);
}

static void
test_letter_carries_reason_source_and_origin(void **state)
{
    struct fixture                    *f = *state;
    velo_kafka_producer               *kp = producer_new(f, 0);
    const struct velo_kafka_dlq_cfg    cfg = {.topic = DLQ};
    const struct velo_kafka_header     fmt = {"velo-format", "gbfs-2.3", 8};
    const struct velo_kafka_dlq_letter dl = {
        .key = "sys/st1",
        .keylen = 7,
        .value = "\xff\x00garbage",
        .len = 9,
        .reason = "undecodable: not a StationSnapshot",
        .source = "velo-stream",
        .origin_topic = "velib_data",
        .origin_partition = 3,
        .origin_offset = 123456789012,
        .extra = &fmt,
        .nextra = 1,
    };
    struct velo_kafka_msg m[1];
    velo_kafka_consumer  *kc;
    const void           *v;
    size_t                n;

    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 5000), VELO_OK);
    velo_kafka_producer_free(kp);
    kc = read_letters(f, m, 1);
    assert_int_equal(m[0].len, 9);
    assert_memory_equal(m[0].value, "\xff\x00garbage", 9);
    assert_int_equal(m[0].keylen, 7);
    assert_header(&m[0], "velo-error", "undecodable: not a StationSnapshot");
    assert_header(&m[0], "velo-source", "velo-stream");
    assert_header(&m[0], "velo-origin-topic", "velib_data");
    assert_header(&m[0], "velo-origin-partition", "3");
    assert_header(&m[0], "velo-origin-offset", "123456789012");
    assert_header(&m[0], "velo-format", "gbfs-2.3");
    assert_int_equal(velo_kafka_msg_header(&m[0], "velo-truncated", &v, &n),
                     VELO_ENOTFOUND);
    velo_kafka_msg_release(&m[0]);
    velo_kafka_consumer_free(kc);
}

static void
test_big_value_and_long_reason_are_cut(void **state)
{
    struct fixture                 *f = *state;
    velo_kafka_producer            *kp = producer_new(f, 0);
    const struct velo_kafka_dlq_cfg cfg = {.topic = DLQ, .max_bytes = 100};
    static char                     big[1000], reason[1000];
    struct velo_kafka_dlq_letter    dl = {
           .value = big,
           .len = sizeof(big),
           .reason = reason,
           .source = "jcdecaux:dublin",
    };
    struct velo_kafka_msg m[1];
    velo_kafka_consumer  *kc;
    const void           *v;
    size_t                n;

    memset(big, 'b', sizeof(big));
    memset(reason, 'r', sizeof(reason) - 1);
    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 5000), VELO_OK);
    velo_kafka_producer_free(kp);
    kc = read_letters(f, m, 1);
    assert_int_equal(m[0].len, 100);
    assert_header(&m[0], "velo-truncated", "true");
    assert_int_equal(velo_kafka_msg_header(&m[0], "velo-error", &v, &n),
                     VELO_OK);
    assert_int_equal(n, VELO_KAFKA_DLQ_HEADER_MAX);
    /* Not read from Kafka: no origin headers. */
    assert_int_equal(velo_kafka_msg_header(&m[0], "velo-origin-offset", &v, &n),
                     VELO_ENOTFOUND);
    velo_kafka_msg_release(&m[0]);
    velo_kafka_consumer_free(kc);
}

/* A 1 KiB queue holds one 900-byte letter: the next one finds it full.
 * With one try that is EFULL at once; with retries the poll between them
 * lets the first be delivered and the second goes through. */
static void
test_full_queue_polls_and_retries_bounded(void **state)
{
    struct fixture              *f = *state;
    velo_kafka_producer         *kp = producer_new(f, 1);
    struct velo_kafka_dlq_cfg    cfg = {.topic = DLQ, .full_tries = 1};
    static char                  val[900];
    struct velo_kafka_dlq_letter dl = {
        .value = val, .len = sizeof(val), .reason = "r", .source = "s"};

    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_OK);
    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_EFULL);
    cfg.full_tries = 50;
    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 5000), VELO_OK);
    velo_kafka_producer_free(kp);
}

static void
test_missing_fields_are_einval(void **state)
{
    struct fixture              *f = *state;
    velo_kafka_producer         *kp = producer_new(f, 0);
    struct velo_kafka_dlq_cfg    cfg = {.topic = NULL};
    struct velo_kafka_dlq_letter dl = {.reason = "r", .source = "s"};

    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_EINVAL);
    cfg.topic = DLQ;
    dl.source = NULL;
    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_EINVAL);
    dl.source = "s";
    dl.nextra = VELO_KAFKA_DLQ_EXTRA_MAX + 1;
    assert_int_equal(velo_kafka_dlq_write(kp, &cfg, &dl), VELO_EINVAL);
    assert_int_equal(velo_kafka_outq_len(kp), 0);
    velo_kafka_producer_free(kp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_letter_carries_reason_source_and_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_value_and_long_reason_are_cut,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_full_queue_polls_and_retries_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_fields_are_einval, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
