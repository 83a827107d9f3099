/* kafka_txn_it.c: the transactional producer (velo/kafka_txn.h) on a real
 * Apache Kafka broker. librdkafka's mock cluster cannot prove any of this:
 * its read_committed consumers see aborted records.
 *
 * - a committed transaction is visible to a read_committed consumer, an
 *   aborted one is not (also when a later commit follows it);
 * - offsets sent in a committed transaction become the group's committed
 *   offsets, those sent in an aborted one do not, and the consumer can
 *   seek back to them to redo the batch;
 * - a second producer with the same transactional_id fences the first:
 *   VELO_EFENCED on its next calls, and its open records never appear.
 *
 * The broker address comes from VELO_KAFKA_BROKERS, else from
 * $VELO_RUN_DIR/kafka.addr (tests/harness/kafka.sh); without either the
 * test exits 77 (skipped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/kafka_txn.h"
#include "velo/log.h"

#define TXN_TIMEOUT_MS 30000u
#define READ_TIMEOUT_MS 30000
#define NAME_MAX_ 128

static char g_brokers[256];

/* Unique per run and per use, so reruns on one broker never collide. */
static void
unique(char *buf, size_t size, const char *what)
{
    static unsigned n;

    snprintf(buf, size, "velo.txn_it.%s.%ld.%lld.%u", what, (long)getpid(),
             (long long)velo_mono_ms(), n++);
}

static velo_kafka_txn *
txn_new(const char *tid)
{
    struct velo_kafka_txn_cfg cfg = {
        .brokers = g_brokers,
        .client_id = "velo-txn-it",
        .transactional_id = tid,
        .timeout_ms = TXN_TIMEOUT_MS,
    };
    velo_kafka_txn *kt = NULL;

    assert_int_equal(velo_kafka_txn_new(&kt, &cfg), VELO_OK);
    return kt;
}

static void
topic_new(char *topic, size_t size, const char *what)
{
    unique(topic, size, what);
    assert_int_equal(velo_kafka_ensure_topic(g_brokers, topic, 1, 30000),
                     VELO_OK);
}

static velo_kafka_consumer *
consumer_new(const char *group, bool committed)
{
    struct velo_kafka_consumer_cfg cfg = {
        .brokers = g_brokers,
        .group_id = group,
        .client_id = "velo-txn-it",
        .session_timeout_ms = 6000,
        .read_committed = committed,
    };
    velo_kafka_consumer *kc = NULL;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cfg), VELO_OK);
    return kc;
}

static void
txn_put(velo_kafka_txn *kt, const char *topic, const char *value)
{
    assert_int_equal(velo_kafka_txn_produce(kt, topic, value, strlen(value),
                                            value, strlen(value), NULL, 0, 0),
                     VELO_OK);
}

/* Reads topic (read_committed or not) from the beginning until a record
 * with value `last` arrives, and writes every value seen, comma-separated,
 * into out. Everything before `last` in the log has then been passed. */
static void
read_until(const char *topic, bool committed, const char *last, char *out,
           size_t size)
{
    velo_kafka_consumer  *kc;
    struct velo_kafka_msg msg;
    char                  group[NAME_MAX_];
    int64_t               deadline = velo_mono_ms() + READ_TIMEOUT_MS;
    size_t                used = 0;
    int                   rv, done = 0;

    unique(group, sizeof(group), "reader");
    kc = consumer_new(group, committed);
    assert_int_equal(
        velo_kafka_assign_all(kc, topic, VELO_KAFKA_OFFSET_BEGINNING, 10000),
        VELO_OK);
    out[0] = '\0';
    while (!done && velo_mono_ms() < deadline) {
        rv = velo_kafka_consume(kc, &msg, 500);
        if (rv == VELO_ETIMEDOUT)
            continue;
        assert_int_equal(rv, VELO_OK);
        used +=
            (size_t)snprintf(out + used, size - used, "%s%.*s", used ? "," : "",
                             (int)msg.len, (const char *)msg.value);
        assert_true(used < size);
        done = msg.len == strlen(last) && memcmp(msg.value, last, msg.len) == 0;
        velo_kafka_msg_release(&msg);
    }
    velo_kafka_consumer_free(kc);
    if (!done)
        fail_msg("'%s' never arrived on %s; read: %s", last, topic, out);
}

static void
test_committed_is_visible_aborted_is_not(void **state)
{
    velo_kafka_txn *kt;
    char            topic[NAME_MAX_], tid[NAME_MAX_], seen[256];

    (void)state;
    topic_new(topic, sizeof(topic), "out");
    unique(tid, sizeof(tid), "tid");
    kt = txn_new(tid);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    txn_put(kt, topic, "a1");
    txn_put(kt, topic, "a2");
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_OK);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    txn_put(kt, topic, "b1");
    /* Wait until b1 is in the log (abort would purge it if still queued),
     * so the read_committed reader below has to skip it, not merely never
     * get it. */
    read_until(topic, false, "b1", seen, sizeof(seen));
    assert_string_equal(seen, "a1,a2,b1");
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_OK);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    txn_put(kt, topic, "c1");
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_OK);
    velo_kafka_txn_free(kt);
    read_until(topic, true, "c1", seen, sizeof(seen));
    assert_string_equal(seen, "a1,a2,c1");
}

/* Consumes n records, expecting offsets 0 .. n-1 (of one partition). */
static void
consume_n(velo_kafka_consumer *kc, int n)
{
    struct velo_kafka_msg msg;
    int64_t               deadline = velo_mono_ms() + READ_TIMEOUT_MS;
    int                   got = 0, rv;

    while (got < n && velo_mono_ms() < deadline) {
        rv = velo_kafka_consume(kc, &msg, 500);
        if (rv == VELO_ETIMEDOUT)
            continue;
        assert_int_equal(rv, VELO_OK);
        assert_int_equal(msg.offset, got);
        velo_kafka_msg_release(&msg);
        got++;
    }
    assert_int_equal(got, n);
}

/* The group's committed offset of topic/0, read by a consumer that has
 * not joined the group: what the broker stored. */
static int64_t
group_committed(const char *group, const char *topic)
{
    velo_kafka_consumer     *kc = consumer_new(group, true);
    struct velo_kafka_offset off = {.topic = topic, .partition = 0};

    assert_int_equal(velo_kafka_committed(kc, &off, 1, 10000), VELO_OK);
    velo_kafka_consumer_free(kc);
    return off.offset;
}

static void
test_offsets_commit_with_the_txn_only(void **state)
{
    velo_kafka_consumer     *kc;
    velo_kafka_txn          *kt;
    struct velo_kafka_offset off;
    char in[NAME_MAX_], out[NAME_MAX_], tid[NAME_MAX_], group[NAME_MAX_];
    char seen[256];

    (void)state;
    topic_new(in, sizeof(in), "in");
    topic_new(out, sizeof(out), "out");
    unique(tid, sizeof(tid), "tid");
    unique(group, sizeof(group), "group");
    kt = txn_new(tid);
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    txn_put(kt, in, "r0");
    txn_put(kt, in, "r1");
    txn_put(kt, in, "r2");
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_OK);

    kc = consumer_new(group, true);
    /* The group's partition assignment comes with the first record. */
    assert_int_equal(velo_kafka_subscribe(kc, in), VELO_OK);
    consume_n(kc, 3);
    off = (struct velo_kafka_offset){.topic = in, .partition = 0, .offset = 3};
    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    txn_put(kt, out, "sum-aborted");
    assert_int_equal(velo_kafka_txn_send_offsets(kt, kc, &off, 1), VELO_OK);
    assert_int_equal(velo_kafka_txn_abort(kt), VELO_OK);
    assert_int_equal(group_committed(group, in), VELO_KAFKA_OFFSET_NONE);
    /* What velo-batch does after an abort: back to the committed offsets
     * (none: the beginning) and the same records again. */
    off.offset = 0;
    assert_int_equal(velo_kafka_committed(kc, &off, 1, 10000), VELO_OK);
    assert_int_equal(off.offset, VELO_KAFKA_OFFSET_NONE);
    assert_int_equal(velo_kafka_seek(kc, &off, 1, 10000), VELO_OK);
    consume_n(kc, 3);
    off.offset = 3;

    assert_int_equal(velo_kafka_txn_begin(kt), VELO_OK);
    txn_put(kt, out, "sum");
    assert_int_equal(velo_kafka_txn_send_offsets(kt, kc, &off, 1), VELO_OK);
    assert_int_equal(velo_kafka_txn_commit(kt), VELO_OK);
    assert_int_equal(group_committed(group, in), 3);
    /* The consumer itself sees the same, through its own call. */
    off.offset = 0;
    assert_int_equal(velo_kafka_committed(kc, &off, 1, 10000), VELO_OK);
    assert_int_equal(off.offset, 3);
    velo_kafka_consumer_free(kc);
    velo_kafka_txn_free(kt);
    read_until(out, true, "sum", seen, sizeof(seen));
    assert_string_equal(seen, "sum");
}

static void
test_second_instance_fences_the_first(void **state)
{
    velo_kafka_txn *old, *cur;
    char            topic[NAME_MAX_], tid[NAME_MAX_], seen[256];
    int             rv;

    (void)state;
    topic_new(topic, sizeof(topic), "out");
    unique(tid, sizeof(tid), "tid");
    old = txn_new(tid);
    assert_int_equal(velo_kafka_txn_begin(old), VELO_OK);
    txn_put(old, topic, "zombie");
    /* Its init fences `old` and aborts the transaction it has open. */
    cur = txn_new(tid);
    rv = velo_kafka_txn_commit(old);
    assert_int_equal(rv, VELO_EFENCED);
    /* Fatal: every later call says so, and free still works. */
    assert_int_equal(velo_kafka_txn_begin(old), VELO_EFENCED);
    assert_int_equal(velo_kafka_txn_abort(old), VELO_EFENCED);
    velo_kafka_txn_free(old);

    assert_int_equal(velo_kafka_txn_begin(cur), VELO_OK);
    txn_put(cur, topic, "live");
    assert_int_equal(velo_kafka_txn_commit(cur), VELO_OK);
    velo_kafka_txn_free(cur);
    read_until(topic, true, "live", seen, sizeof(seen));
    assert_string_equal(seen, "live");
}

/* An instance fenced while idle finds out on its next transaction. */
static void
test_fenced_while_idle_fails_its_next_txn(void **state)
{
    velo_kafka_txn *old, *cur;
    char            topic[NAME_MAX_], tid[NAME_MAX_];
    int             rv;

    (void)state;
    topic_new(topic, sizeof(topic), "out");
    unique(tid, sizeof(tid), "tid");
    old = txn_new(tid);
    cur = txn_new(tid);
    /* begin and produce are local; the broker refuses at the latest when
     * the records or the commit reach it. */
    rv = velo_kafka_txn_begin(old);
    if (rv == VELO_OK)
        rv = velo_kafka_txn_produce(old, topic, "k", 1, "v", 1, NULL, 0, 0);
    if (rv == VELO_OK)
        rv = velo_kafka_txn_commit(old);
    assert_int_equal(rv, VELO_EFENCED);
    velo_kafka_txn_free(old);
    velo_kafka_txn_free(cur);
}

static int
brokers_load(void)
{
    const char *env = getenv("VELO_KAFKA_BROKERS");
    const char *run = getenv("VELO_RUN_DIR");
    char        path[512];
    FILE       *f;
    size_t      n;

    if (env != NULL && *env != '\0') {
        snprintf(g_brokers, sizeof(g_brokers), "%s", env);
        return 0;
    }
    if (run == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/kafka.addr", run);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(g_brokers, 1, sizeof(g_brokers) - 1, f);
    fclose(f);
    while (n > 0 && (g_brokers[n - 1] == '\n' || g_brokers[n - 1] == ' '))
        n--;
    g_brokers[n] = '\0';
    return n > 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed_is_visible_aborted_is_not),
        cmocka_unit_test(test_offsets_commit_with_the_txn_only),
        cmocka_unit_test(test_second_instance_fences_the_first),
        cmocka_unit_test(test_fenced_while_idle_fails_its_next_txn),
    };

    if (brokers_load() != 0) {
        fprintf(stderr, "SKIP: no Kafka broker (VELO_KAFKA_BROKERS or "
                        "$VELO_RUN_DIR/kafka.addr)\n");
        return 77;
    }
    velo_log_init("kafka_txn_it", VELO_LOG_WARN, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
