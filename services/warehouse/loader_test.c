/* loader_test.c: the loader thread on librdkafka's mock cluster and SQLite
 * in a temp dir: records load in batches, a record that does not decode
 * is dead-lettered, and while another writer holds the database nothing
 * is committed to Kafka (the group has no offset), /readyz says why, and
 * once the lock is gone the same records load and the offsets reach the
 * end by themselves. (Rebalances, transactions and kill -9 are tested on
 * real Kafka: integration.warehouse_e2e.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo_test_kafka_mock.h"
#include "wh_test_util.h"

#define TOPIC "aggs"
#define DLQ "aggs.dlq"
#define GROUP "g-loader"
#define HOURS 10

struct fixture {
    struct velo_test_mock m;
    char                  dir[64], url[128];
    velo_metrics         *metrics;
    struct wh_status      status;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    velo_test_mock_start(&f->m, "loader_test");
    velo_test_mock_topic(&f->m, TOPIC, 2);
    velo_test_mock_topic(&f->m, DLQ, 1);
    snprintf(f->dir, sizeof(f->dir), "/tmp/wh_loader_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->url, sizeof(f->url), "sqlite://%s/w.db", f->dir);
    assert_int_equal(velo_metrics_new(&f->metrics), VELO_OK);
    wh_status_init(&f->status);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char            cmd[128];

    wh_status_fini(&f->status);
    velo_metrics_free(f->metrics);
    velo_test_mock_stop(&f->m);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* HOURS hourly records of station 1, then one that does not decode. */
static void
produce(struct fixture *f)
{
    struct velo_kafka_cfg        cfg = {.brokers = f->m.brokers};
    Velo__V1__HourlyStationStats m;
    velo_kafka_producer         *kp;
    char                         key[128];
    uint8_t                     *buf;
    size_t                       len;
    int                          h;

    assert_int_equal(velo_kafka_producer_new(&kp, &cfg), VELO_OK);
    for (h = 0; h < HOURS; h++) {
        m = t_hourly("gbfs:t", "1", h);
        t_hourly_key(key, sizeof(key), "gbfs:t", "1", h);
        buf = t_pack(&m.base, &len);
        assert_int_equal(velo_kafka_produce(kp, TOPIC, key, strlen(key), buf,
                                            len, NULL, 0, 0),
                         VELO_OK);
        free(buf);
    }
    assert_int_equal(velo_kafka_produce(kp, TOPIC, "gbfs:t/1/hourly/x", 17,
                                        "\xff\xff", 2, NULL, 0, 0),
                     VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 5000), VELO_OK);
    velo_kafka_producer_free(kp);
}

/* The group's committed offsets, summed (NONE counts 0). */
static int64_t
committed(struct fixture *f)
{
    struct velo_kafka_consumer_cfg cc = {.brokers = f->m.brokers,
                                         .group_id = GROUP};
    struct velo_kafka_offset       offs[2] = {{TOPIC, 0, 0}, {TOPIC, 1, 0}};
    velo_kafka_consumer           *kc;
    int64_t                        sum = 0;
    int                            i;

    assert_int_equal(velo_kafka_consumer_new(&kc, &cc), VELO_OK);
    assert_int_equal(velo_kafka_committed(kc, offs, 2, 5000), VELO_OK);
    for (i = 0; i < 2; i++)
        sum += offs[i].offset == VELO_KAFKA_OFFSET_NONE ? 0 : offs[i].offset;
    velo_kafka_consumer_free(kc);
    return sum;
}

static int
count_cb(void *ctx, const struct velo_db_row *row)
{
    (void)row;
    (*(int *)ctx)++;
    return VELO_OK;
}

static int
rows_in_db(struct fixture *f)
{
    struct velo_db_history_q q = {VELO_DB_HOUR, "gbfs:t", "1", 0,
                                  INT64_MAX,    100};
    velo_db                 *db;
    int                      n = 0;

    assert_int_equal(velo_db_connect(&db, f->url, NULL), VELO_OK);
    assert_int_equal(velo_db_history(db, &q, count_cb, &n), VELO_OK);
    velo_db_close(db);
    return n;
}

/* Polls cond for up to ms; true when it held. */
#define WAIT_FOR(cond, ms)                                                     \
    ({                                                                         \
        int64_t end_ = velo_mono_ms() + (ms);                                  \
        while (!(cond) && velo_mono_ms() < end_)                               \
            velo_sleep_ms(50);                                                 \
        (cond);                                                                \
    })

/* A started loader on the fixture's topic and database, once ready. */
static wh_loader *
loader_up(struct fixture *f, uint32_t batch_size, uint32_t batch_wait_ms)
{
    struct wh_loader_cfg cfg = {
        .brokers = f->m.brokers,
        .topic = TOPIC,
        .group_id = GROUP,
        .dlq_topic = DLQ,
        .db_url = f->url,
        .batch_size = batch_size,
        .batch_wait_ms = batch_wait_ms,
        .retry_max_ms = 300,
        .db_busy_ms = 100,
    };
    wh_loader *l;
    char       why[256];

    assert_int_equal(wh_loader_new(&l, &cfg, &f->status, f->metrics), VELO_OK);
    assert_int_equal(wh_loader_start(l), VELO_OK);
    assert_true(WAIT_FOR(wh_status_ready(&f->status, why, sizeof(why)), 10000));
    return l;
}

static void
test_offsets_wait_for_the_database(void **state)
{
    struct fixture       *f = *state;
    wh_loader            *l = loader_up(f, 4, 100);
    struct wh_status_view v;
    velo_db              *other;
    char                  why[256];

    /* Another writer holds the database before any record arrives. */
    assert_int_equal(velo_db_connect(&other, f->url, NULL), VELO_OK);
    assert_int_equal(velo_db_begin(other), VELO_OK);
    produce(f);
    assert_true(
        WAIT_FOR(!wh_status_ready(&f->status, why, sizeof(why)), 20000));
    assert_non_null(strstr(why, "database unavailable"));
    velo_sleep_ms(500); /* several failed tries */
    assert_int_equal(committed(f), 0);
    assert_int_equal(rows_in_db(f), 0);
    /* The lock goes: the held records load and the offsets follow. */
    velo_db_rollback(other);
    velo_db_close(other);
    assert_true(WAIT_FOR(rows_in_db(f) == HOURS, 10000));
    assert_true(WAIT_FOR(committed(f) == HOURS + 1, 10000));
    assert_true(wh_status_ready(&f->status, why, sizeof(why)));
    wh_status_get(&f->status, &v);
    assert_int_equal(v.rows_loaded, HOURS);
    assert_int_equal(v.rejected, 1); /* the garbage record */
    assert_int_equal(wh_loader_stop(l), VELO_OK);
    wh_loader_free(l);
}

/* A partial batch loads once the input is quiet, not batch_wait_ms
 * after its first record. */
static void
test_partial_batch_loads_when_caught_up(void **state)
{
    struct fixture *f = *state;
    wh_loader      *l = loader_up(f, 1000, 60000);

    produce(f);
    assert_true(WAIT_FOR(rows_in_db(f) == HOURS, 15000));
    assert_int_equal(wh_loader_stop(l), VELO_OK);
    wh_loader_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_offsets_wait_for_the_database,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_batch_loads_when_caught_up,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
