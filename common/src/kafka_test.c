/* kafka_test.c: the librdkafka adapter against librdkafka's mock cluster.
 *
 * The mock is an in-process broker: good for client behaviour (keys,
 * headers, partitioner, limits, offsets), never evidence about transactions
 * or durability, which the integration tests check on real Kafka. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "velo_test_kafka_mock.h"
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"

#define TOPIC "velo.test"
#define PARTITIONS 6
#define NMSG 12

static int64_t lag_of(velo_kafka_consumer *kc);

struct fixture {
    struct velo_test_mock m;
};

struct deliveries {
    int  ok;
    int  failed;
    char keys[NMSG][32];
};

static void
on_delivery(void *ctx, const void *key, size_t keylen, int err)
{
    struct deliveries *d = ctx;

    if (err != VELO_OK) {
        d->failed++;
        return;
    }
    if (d->ok < NMSG && keylen < sizeof(d->keys[0])) {
        memcpy(d->keys[d->ok], key, keylen);
        d->keys[d->ok][keylen] = '\0';
    }
    d->ok++;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    velo_test_mock_start(&f->m, "kafka_test");
    velo_test_mock_topic(&f->m, TOPIC, PARTITIONS);
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

/* Kafka's Utils.murmur2 (the Java client's partitioner), for checking that
 * keys land where a Java producer would put them. */
static int32_t
java_murmur2(const void *key, size_t len)
{
    const uint32_t m = 0x5bd1e995, seed = 0x9747b28c;
    const uint8_t *p = key;
    uint32_t       h = seed ^ (uint32_t)len, k;
    size_t         i, rem = len & 3;

    for (i = 0; i + 4 <= len; i += 4) {
        k = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
            (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h = h * m ^ k;
    }
    if (rem == 3)
        h ^= (uint32_t)p[len - 1] << 16;
    if (rem >= 2)
        h ^= (uint32_t)p[len - rem + 1] << 8;
    if (rem >= 1) {
        h ^= p[len - rem];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

static void
test_java_murmur2_matches_kafka_vectors(void **state)
{
    (void)state;
    /* From Kafka's UtilsTest.testMurmur2. */
    assert_int_equal(java_murmur2("21", 2), -973932308);
    assert_int_equal(java_murmur2("foobar", 6), -790332482);
    assert_int_equal(java_murmur2("a-little-bit-long-string", 24), -985981536);
    assert_int_equal(java_murmur2("abc", 3), 479470107);
}

static velo_kafka_producer *
producer_new(const struct fixture *f, struct deliveries *d, uint32_t max)
{
    struct velo_kafka_cfg cfg = {
        .brokers = f->m.brokers,
        .client_id = "kafka-test",
        .max_msg_bytes = max,
        .flush_timeout_ms = 5000,
        .on_delivery = on_delivery,
        .ctx = d,
    };
    velo_kafka_producer *kp = NULL;

    assert_int_equal(velo_kafka_producer_new(&kp, &cfg), VELO_OK);
    assert_non_null(kp);
    return kp;
}

static velo_kafka_consumer *
consumer_new_cfg(const struct fixture *f, const char *group, bool rebuild)
{
    struct velo_kafka_consumer_cfg cfg = {
        .brokers = f->m.brokers,
        .group_id = group,
        .client_id = "kafka-test",
        /* The mock holds a first join for 3 s and drops members whose
         * session expires meanwhile (librdkafka 2.0.2). */
        .session_timeout_ms = 6000,
        .time_miss_from_beginning = rebuild,
    };
    velo_kafka_consumer *kc = NULL;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    return kc;
}

static velo_kafka_consumer *
consumer_new(const struct fixture *f, const char *group)
{
    return consumer_new_cfg(f, group, false);
}

/* Produces NMSG records "sys/stN" -> "value-N" with two headers, the
 * event time N * 1000 ms, and waits for every delivery. */
static void
produce_all(velo_kafka_producer *kp, struct deliveries *d)
{
    char                     key[32], val[32], idx[8];
    struct velo_kafka_header hdrs[2];
    int                      i, n;

    for (i = 0; i < NMSG; i++) {
        snprintf(key, sizeof(key), "sys/st%d", i);
        n = snprintf(val, sizeof(val), "value-%d", i);
        snprintf(idx, sizeof(idx), "%d", i);
        hdrs[0] = (struct velo_kafka_header){"content-type", "text/x-test",
                                             strlen("text/x-test")};
        hdrs[1] = (struct velo_kafka_header){"idx", idx, strlen(idx)};
        assert_int_equal(velo_kafka_produce(kp, TOPIC, key, strlen(key), val,
                                            (size_t)n, hdrs, 2,
                                            (int64_t)(i + 1) * 1000),
                         VELO_OK);
    }
    assert_int_equal(velo_kafka_flush(kp, 10000), VELO_OK);
    assert_int_equal(d->ok, NMSG);
    assert_int_equal(d->failed, 0);
    assert_int_equal(velo_kafka_outq_len(kp), 0);
}

/* Walks the headers by index: produce_all's two, in order, then none. */
static void
check_headers_in_order(const struct velo_kafka_msg *m, const char *idx)
{
    const char *name;
    const void *v;
    size_t      n;

    assert_int_equal(velo_kafka_msg_header_at(m, 0, &name, &v, &n), VELO_OK);
    assert_string_equal(name, "content-type");
    assert_int_equal(n, strlen("text/x-test"));
    assert_memory_equal(v, "text/x-test", n);
    assert_int_equal(velo_kafka_msg_header_at(m, 1, &name, &v, &n), VELO_OK);
    assert_string_equal(name, "idx");
    assert_int_equal(n, strlen(idx));
    assert_memory_equal(v, idx, n);
    assert_int_equal(velo_kafka_msg_header_at(m, 2, &name, &v, &n),
                     VELO_ENOTFOUND);
}

/* Checks one consumed record against what produce_all sent; returns N. */
static int
check_record(const struct velo_kafka_msg *m)
{
    char        want[32], idx[8];
    const void *v;
    size_t      n;
    int         i;

    assert_string_equal(m->topic, TOPIC);
    assert_true(m->keylen > 6 && m->keylen < 16);
    assert_memory_equal(m->key, "sys/st", 6);
    assert_int_equal(velo_kafka_msg_header(m, "idx", &v, &n), VELO_OK);
    assert_true(n > 0 && n < sizeof(idx));
    memcpy(idx, v, n);
    idx[n] = '\0';
    i = (int)strtol(idx, NULL, 10);
    snprintf(want, sizeof(want), "sys/st%d", i);
    assert_int_equal(m->keylen, strlen(want));
    assert_memory_equal(m->key, want, m->keylen);
    snprintf(want, sizeof(want), "value-%d", i);
    assert_int_equal(m->len, strlen(want));
    assert_memory_equal(m->value, want, m->len);
    assert_int_equal(m->timestamp_ms, (int64_t)(i + 1) * 1000);
    assert_int_equal(velo_kafka_msg_header(m, "content-type", &v, &n), VELO_OK);
    assert_int_equal(n, strlen("text/x-test"));
    assert_memory_equal(v, "text/x-test", n);
    assert_int_equal(velo_kafka_msg_header(m, "missing", &v, &n),
                     VELO_ENOTFOUND);
    check_headers_in_order(m, idx);
    /* Java-compatible partitioner: the partition Java would pick. */
    assert_int_equal(m->partition,
                     (java_murmur2(m->key, m->keylen) & 0x7fffffff) %
                         PARTITIONS);
    return i;
}

/* Consumes until every one of NMSG records came back once. */
static void
consume_all(velo_kafka_consumer *kc, int64_t deadline_ms)
{
    struct velo_kafka_msg m;
    bool                  seen[NMSG] = {0};
    int                   got = 0, i, rv;

    while (got < NMSG && velo_mono_ms() < deadline_ms) {
        rv = velo_kafka_consume(kc, &m, 200);
        if (rv == VELO_ETIMEDOUT)
            continue;
        assert_int_equal(rv, VELO_OK);
        i = check_record(&m);
        assert_false(seen[i]);
        seen[i] = true;
        got++;
        velo_kafka_msg_release(&m);
    }
    assert_int_equal(got, NMSG);
}

static void
test_produce_then_assign_all_from_beginning_reads_everything(void **state)
{
    struct fixture      *f = *state;
    struct deliveries    d = {0};
    velo_kafka_producer *kp;
    velo_kafka_consumer *kc;
    int                  i;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    for (i = 0; i < NMSG; i++)
        assert_memory_equal(d.keys[i], "sys/st", 6);
    velo_kafka_producer_free(kp);

    kc = consumer_new(f, "g-assign");
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    consume_all(kc, velo_mono_ms() + 15000);
    velo_kafka_consumer_free(kc);
}

static void
test_subscribe_joins_group_and_reads_everything(void **state)
{
    struct fixture      *f = *state;
    struct deliveries    d = {0};
    velo_kafka_producer *kp;
    velo_kafka_consumer *kc;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);

    kc = consumer_new(f, "g-subscribe");
    assert_int_equal(velo_kafka_subscribe(kc, ""), VELO_EINVAL);
    assert_int_equal(velo_kafka_subscribe(kc, TOPIC ",,x"), VELO_EINVAL);
    assert_int_equal(velo_kafka_subscribe(kc, TOPIC), VELO_OK);
    consume_all(kc, velo_mono_ms() + 20000);
    velo_kafka_consumer_free(kc);
}

static void
test_oversize_message_is_etoobig_and_not_queued(void **state)
{
    struct fixture          *f = *state;
    struct deliveries        d = {0};
    velo_kafka_producer     *kp;
    static char              big[4096];
    struct velo_kafka_header h = {"h", big, 100};

    kp = producer_new(f, &d, 2000);
    assert_int_equal(
        velo_kafka_produce(kp, TOPIC, "k", 1, big, sizeof(big), NULL, 0, 0),
        VELO_ETOOBIG);
    /* Key and headers count toward the limit too. */
    assert_int_equal(velo_kafka_produce(kp, TOPIC, "k", 1, big, 1950, &h, 1, 0),
                     VELO_ETOOBIG);
    assert_int_equal(velo_kafka_outq_len(kp), 0);
    /* Just under the limit still goes through. */
    assert_int_equal(
        velo_kafka_produce(kp, TOPIC, "k", 1, big, 1999, NULL, 0, 0), VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 10000), VELO_OK);
    assert_int_equal(d.ok, 1);
    assert_int_equal(d.failed, 0);
    velo_kafka_producer_free(kp);
}

/* The mock resolves every timestamp to the end and auto-creates unknown
 * topics (2.0.2), so which records a timestamp start returns, and
 * ENOTFOUND, are checked on real Kafka (tests/integration/kafka_smoke.sh). */
static void
test_assign_all_checks_start_and_runs_once(void **state)
{
    struct fixture      *f = *state;
    velo_kafka_consumer *kc;

    kc = consumer_new(f, "g-time");
    assert_int_equal(velo_kafka_assign_all(kc, TOPIC, -3, 5000), VELO_EINVAL);
    assert_int_equal(velo_kafka_assign_all(kc, TOPIC, 9000, 5000), VELO_OK);
    /* Once per consumer: librdkafka 2.0.2 may abort on a re-assignment. */
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_END, 5000),
        VELO_EINVAL);
    velo_kafka_consumer_free(kc);
}

/* Fault 9: a restart of velo-stream on the dev broker started at the end
 * (the mock answers "end" to every time) and served an empty state. A
 * time with no offset must start a partition holding records at its
 * beginning, and the rebuild is not caught up until they are read. */
static void
test_assign_by_time_without_answer_starts_at_beginning(void **state)
{
    struct fixture      *f = *state;
    struct deliveries    d = {0};
    velo_kafka_producer *kp;
    velo_kafka_consumer *kc;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);
    /* Strict "at or after" (velo-kdump --start-ms): the mock's "end". */
    kc = consumer_new(f, "g-time-strict");
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, velo_now_ms() - 300000, 5000),
        VELO_OK);
    assert_true(velo_kafka_caught_up(kc));
    assert_int_equal(lag_of(kc), 0);
    velo_kafka_consumer_free(kc);
    /* A rebuild: from the beginning of every partition with records. */
    kc = consumer_new_cfg(f, "g-time-start", true);
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, velo_now_ms() - 300000, 5000),
        VELO_OK);
    assert_false(velo_kafka_caught_up(kc));
    assert_int_equal(lag_of(kc), NMSG);
    consume_all(kc, velo_mono_ms() + 15000);
    assert_true(velo_kafka_caught_up(kc));
    velo_kafka_consumer_free(kc);
}

/* Fault 10's building block: records below the group's committed offset
 * at assign time were handled by an earlier run. */
static void
test_handled_before_follows_the_groups_commit(void **state)
{
    struct fixture       *f = *state;
    struct deliveries     d = {0};
    velo_kafka_producer  *kp;
    velo_kafka_consumer  *kc;
    struct velo_kafka_msg m;
    int32_t               part;
    int64_t               off;
    int                   got = 0, before = 0;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);
    kc = consumer_new(f, "g-handled");
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    while (velo_kafka_consume(kc, &m, 500) != VELO_OK)
        ;
    assert_false(velo_kafka_handled_before(kc, &m)); /* never committed */
    assert_int_equal(velo_kafka_commit(kc, &m), VELO_OK);
    part = m.partition;
    off = m.offset;
    velo_kafka_msg_release(&m);
    velo_kafka_consumer_free(kc);

    kc = consumer_new(f, "g-handled");
    assert_false(velo_kafka_handled_before(kc, &m)); /* not assigned */
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    while (got < NMSG) {
        if (velo_kafka_consume(kc, &m, 500) != VELO_OK)
            continue;
        got++;
        assert_int_equal(velo_kafka_handled_before(kc, &m),
                         m.partition == part && m.offset <= off);
        before += velo_kafka_handled_before(kc, &m);
        velo_kafka_msg_release(&m);
    }
    assert_int_equal(before, off + 1);
    velo_kafka_consumer_free(kc);
}

/* The committed offset, read back through librdkafka itself. */
static int64_t
committed_offset(const struct fixture *f, const char *group, int32_t part)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_conf_t                 *conf;
    rd_kafka_t                      *rk;
    char                             errstr[256];
    int64_t                          off;

    conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", f->m.brokers,
                                       errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)),
        RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, TOPIC, part);
    assert_int_equal(rd_kafka_committed(rk, list, 5000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    off = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return off;
}

/* velo_kafka_committed, from a consumer that never joined: want on part,
 * none on the partition after it; a bad entry leaves offs untouched. */
static void
committed_reads_back(const struct fixture *f, const char *group, int32_t part,
                     int64_t want)
{
    velo_kafka_consumer     *kc = consumer_new(f, group);
    struct velo_kafka_offset offs[2] = {
        {.topic = TOPIC, .partition = part, .offset = 7},
        {.topic = TOPIC, .partition = (part + 1) % PARTITIONS, .offset = 7},
    };

    offs[1].topic = "";
    assert_int_equal(velo_kafka_committed(kc, offs, 2, 5000), VELO_EINVAL);
    assert_int_equal(offs[0].offset, 7);
    offs[1].topic = TOPIC;
    assert_int_equal(velo_kafka_committed(kc, offs, 2, 5000), VELO_OK);
    assert_int_equal(offs[0].offset, want);
    assert_int_equal(offs[1].offset, VELO_KAFKA_OFFSET_NONE);
    velo_kafka_consumer_free(kc);
}

static void
test_commit_stores_next_offset_for_group(void **state)
{
    struct fixture       *f = *state;
    struct deliveries     d = {0};
    velo_kafka_producer  *kp;
    velo_kafka_consumer  *kc;
    struct velo_kafka_msg m;
    int32_t               part;
    int64_t               off;
    int                   rv;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);
    kc = consumer_new(f, "g-commit");
    assert_int_equal(velo_kafka_commit(kc, NULL), VELO_OK); /* nothing yet */
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    do {
        rv = velo_kafka_consume(kc, &m, 500);
    } while (rv == VELO_ETIMEDOUT);
    assert_int_equal(rv, VELO_OK);
    assert_int_equal(velo_kafka_commit(kc, &m), VELO_OK);
    part = m.partition;
    off = m.offset;
    velo_kafka_msg_release(&m);
    velo_kafka_consumer_free(kc);
    assert_int_equal(committed_offset(f, "g-commit", part), off + 1);
    committed_reads_back(f, "g-commit", part, off + 1);
}

/* The next record consume returns on partition part, skipping others. */
static int64_t
next_offset_on(velo_kafka_consumer *kc, int32_t part)
{
    struct velo_kafka_msg m;
    int64_t               deadline = velo_mono_ms() + 15000, off = -1;
    int                   rv;

    while (off < 0 && velo_mono_ms() < deadline) {
        rv = velo_kafka_consume(kc, &m, 500);
        if (rv == VELO_ETIMEDOUT)
            continue;
        assert_int_equal(rv, VELO_OK);
        if (m.partition == part)
            off = m.offset;
        velo_kafka_msg_release(&m);
    }
    return off;
}

static void
test_seek_replays_from_the_given_offset(void **state)
{
    struct fixture          *f = *state;
    struct deliveries        d = {0};
    velo_kafka_producer     *kp;
    velo_kafka_consumer     *kc;
    struct velo_kafka_offset off = {.topic = TOPIC};
    int64_t                  first;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);
    kc = consumer_new(f, "g-seek");
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    /* Partition 0 of a 12-record topic over 6: has records. */
    first = next_offset_on(kc, 0);
    assert_true(first >= 0);
    off.offset = first;
    assert_int_equal(velo_kafka_seek(kc, &off, 1, 5000), VELO_OK);
    assert_int_equal(next_offset_on(kc, 0), first);
    /* NONE (no committed offset) is the beginning. */
    off.offset = VELO_KAFKA_OFFSET_NONE;
    assert_int_equal(velo_kafka_seek(kc, &off, 1, 5000), VELO_OK);
    assert_int_equal(next_offset_on(kc, 0), first);
    off.offset = -3;
    assert_int_equal(velo_kafka_seek(kc, &off, 1, 5000), VELO_EINVAL);
    off.offset = 0;
    assert_int_equal(velo_kafka_seek(kc, &off, 1, 0), VELO_EINVAL);
    off.partition = 99; /* not assigned */
    assert_int_equal(velo_kafka_seek(kc, &off, 1, 5000), VELO_EINVAL);
    velo_kafka_consumer_free(kc);
}

static void
test_commit_async_stores_consumed_positions(void **state)
{
    struct fixture       *f = *state;
    struct deliveries     d = {0};
    velo_kafka_producer  *kp;
    velo_kafka_consumer  *kc;
    struct velo_kafka_msg m;
    int64_t               next[64], deadline;
    int                   got = 0, p;

    for (p = 0; p < 64; p++)
        next[p] = -1;
    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);
    kc = consumer_new(f, "g-async");
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    while (got < NMSG) {
        if (velo_kafka_consume(kc, &m, 500) != VELO_OK)
            continue;
        assert_true(m.partition >= 0 && m.partition < 64);
        next[m.partition] = m.offset + 1;
        got++;
        velo_kafka_msg_release(&m);
    }
    assert_int_equal(velo_kafka_commit_async(kc), VELO_OK);
    /* The commit completes while the consumer keeps polling. */
    deadline = velo_mono_ms() + 2000;
    while (velo_mono_ms() < deadline) {
        if (velo_kafka_consume(kc, &m, 100) == VELO_OK)
            velo_kafka_msg_release(&m);
    }
    velo_kafka_consumer_free(kc);
    for (p = 0; p < 64; p++) {
        if (next[p] >= 0)
            assert_int_equal(committed_offset(f, "g-async", p), next[p]);
    }
}

static int64_t
lag_of(velo_kafka_consumer *kc)
{
    int64_t lag = -1;

    assert_int_equal(velo_kafka_consumer_lag(kc, &lag), VELO_OK);
    return lag;
}

static void
test_lag_and_caught_up_follow_consumption(void **state)
{
    struct fixture       *f = *state;
    struct deliveries     d = {0};
    velo_kafka_producer  *kp;
    velo_kafka_consumer  *kc;
    struct velo_kafka_msg m;
    int64_t               lag;
    int                   got = 0, rv;

    kp = producer_new(f, &d, 0);
    produce_all(kp, &d);
    velo_kafka_producer_free(kp);
    kc = consumer_new(f, "g-lag");
    assert_int_equal(velo_kafka_consumer_lag(kc, &lag), VELO_EINVAL);
    assert_false(velo_kafka_caught_up(kc));
    assert_int_equal(
        velo_kafka_assign_all(kc, TOPIC, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    /* Nothing read yet: every record is lag. */
    assert_int_equal(lag_of(kc), NMSG);
    assert_false(velo_kafka_caught_up(kc));
    while (got < NMSG) {
        rv = velo_kafka_consume(kc, &m, 500);
        if (rv == VELO_ETIMEDOUT)
            continue;
        assert_int_equal(rv, VELO_OK);
        velo_kafka_msg_release(&m);
        got++;
        /* Caught up only with the last record, never before it. */
        assert_int_equal(velo_kafka_caught_up(kc), got == NMSG);
        assert_true(lag_of(kc) <= NMSG - got);
    }
    assert_int_equal(lag_of(kc), 0);
    velo_kafka_consumer_free(kc);
}

static void
test_empty_topic_is_caught_up_at_once(void **state)
{
    struct fixture      *f = *state;
    velo_kafka_consumer *kc;

    assert_int_equal(rd_kafka_mock_topic_create(f->m.mc, "velo.empty", 3, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    kc = consumer_new(f, "g-empty");
    assert_int_equal(velo_kafka_assign_all(kc, "velo.empty",
                                           VELO_KAFKA_OFFSET_BEGINNING, 5000),
                     VELO_OK);
    assert_true(velo_kafka_caught_up(kc));
    assert_int_equal(lag_of(kc), 0);
    velo_kafka_consumer_free(kc);
}

static void
test_ensure_topic_existing_is_ok_without_create(void **state)
{
    struct fixture *f = *state;

    /* The mock hangs on CreateTopics, so OK proves metadata came first. */
    assert_int_equal(
        velo_kafka_ensure_topic(f->m.brokers, TOPIC, PARTITIONS, 5000),
        VELO_OK);
    assert_int_equal(velo_kafka_ensure_topic(f->m.brokers, TOPIC, 0, 5000),
                     VELO_EINVAL);
    assert_int_equal(velo_kafka_ensure_topic(NULL, TOPIC, 1, 5000),
                     VELO_EINVAL);
}

static void
test_ensure_topic_cfg_checks_configs_and_keeps_existing(void **state)
{
    struct fixture                      *f = *state;
    const struct velo_kafka_topic_config compact[] = {
        {"cleanup.policy", "compact"}};
    const struct velo_kafka_topic_config noname[] = {{"", "compact"}};
    const struct velo_kafka_topic_config noval[] = {{"cleanup.policy", NULL}};

    /* Existing topic: OK without CreateTopics (the mock would hang). */
    assert_int_equal(velo_kafka_ensure_topic_cfg(f->m.brokers, TOPIC,
                                                 PARTITIONS, compact, 1, 5000),
                     VELO_OK);
    assert_int_equal(
        velo_kafka_ensure_topic_cfg(f->m.brokers, TOPIC, 1, noname, 1, 5000),
        VELO_EINVAL);
    assert_int_equal(
        velo_kafka_ensure_topic_cfg(f->m.brokers, TOPIC, 1, noval, 1, 5000),
        VELO_EINVAL);
    assert_int_equal(
        velo_kafka_ensure_topic_cfg(f->m.brokers, TOPIC, 1, NULL, 1, 5000),
        VELO_EINVAL);
}

/* Reads everything velo_log wrote so far. */
static void
read_log(FILE *log, char *buf, size_t size)
{
    size_t n;

    fflush(log);
    rewind(log);
    n = fread(buf, 1, size - 1, log);
    buf[n] = '\0';
}

static void
test_unreachable_broker_times_out_and_logs_kafka_error(void **state)
{
    struct fixture       *f = *state;
    struct deliveries     d = {0};
    struct velo_kafka_cfg cfg = {
        .brokers = "127.0.0.1:1", /* nothing listens on port 1 */
        .flush_timeout_ms = 100,
        .on_delivery = on_delivery,
        .ctx = &d,
    };
    velo_kafka_producer *kp = NULL;
    static char          logbuf[1 << 16];
    int64_t              t0;
    int                  rv;

    t0 = velo_mono_ms();
    rv = velo_kafka_ensure_topic(cfg.brokers, TOPIC, 1, 500);
    assert_true(rv == VELO_ETIMEDOUT || rv == VELO_EUNAVAIL);
    assert_true(velo_mono_ms() - t0 < 3000);

    assert_int_equal(velo_kafka_producer_new(&kp, &cfg), VELO_OK);
    assert_int_equal(velo_kafka_produce(kp, TOPIC, "k", 1, "v", 1, NULL, 0, 0),
                     VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 1500), VELO_ETIMEDOUT);
    assert_int_equal(velo_kafka_outq_len(kp), 1);
    velo_kafka_producer_free(kp);
    /* The purged message is reported to its owner, not dropped silently. */
    assert_int_equal(d.failed, 1);
    assert_int_equal(d.ok, 0);

    read_log(f->m.log, logbuf, sizeof(logbuf));
    assert_non_null(strstr(logbuf, "\"event\":\"kafka.error\""));
    assert_non_null(strstr(logbuf, "\"event\":\"kafka.flush.lost\""));
    assert_non_null(strstr(logbuf, "\"event\":\"kafka.log\""));
    assert_non_null(strstr(logbuf, "\"fac\":"));
}

static void
test_bad_config_is_einval(void **state)
{
    struct fixture                *f = *state;
    struct velo_kafka_cfg          bad_codec = {.brokers = f->m.brokers,
                                                .compression = "rot13"};
    struct velo_kafka_cfg          no_brokers = {0};
    struct velo_kafka_consumer_cfg no_group = {.brokers = f->m.brokers};
    velo_kafka_producer           *kp = NULL;
    velo_kafka_consumer           *kc = NULL;

    assert_int_equal(velo_kafka_producer_new(&kp, &bad_codec), VELO_EINVAL);
    assert_int_equal(velo_kafka_producer_new(&kp, &no_brokers), VELO_EINVAL);
    assert_null(kp);
    assert_int_equal(velo_kafka_consumer_new(&kc, &no_group), VELO_EINVAL);
    assert_null(kc);
    velo_kafka_producer_free(NULL);
    velo_kafka_consumer_free(NULL);
    velo_kafka_msg_release(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_murmur2_matches_kafka_vectors),
        cmocka_unit_test_setup_teardown(
            test_produce_then_assign_all_from_beginning_reads_everything, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_subscribe_joins_group_and_reads_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_oversize_message_is_etoobig_and_not_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_assign_all_checks_start_and_runs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_commit_stores_next_offset_for_group, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_lag_and_caught_up_follow_consumption, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_assign_by_time_without_answer_starts_at_beginning, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_handled_before_follows_the_groups_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_topic_is_caught_up_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ensure_topic_existing_is_ok_without_create, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ensure_topic_cfg_checks_configs_and_keeps_existing, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_unreachable_broker_times_out_and_logs_kafka_error, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_commit_async_stores_consumed_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek_replays_from_the_given_offset,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config_is_einval, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
