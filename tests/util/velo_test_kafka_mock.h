/* velo_test_kafka_mock.h: librdkafka's in-memory mock cluster as a unit
 * test fixture (header only; unit tests get tests/util on their include
 * path from velo_unit_test).
 *
 * For client-level tests only: the mock is not a broker (PLATFORM.md:
 * read_committed sees aborted data, no offsets for times, slow rebalances).
 * Transactions, rebalancing and durability are tested on real Kafka.
 *
 *   struct fixture { struct velo_test_mock m; ... };
 *   velo_test_mock_start(&f->m, "kafka_test");
 *   velo_test_mock_topic(&f->m, "velib_data", 6);
 *   ... f->m.brokers ...
 *   velo_test_mock_stop(&f->m);
 *
 * VELO_TEST_LOG=1 sends the JSON log to stderr instead of a temp file. */
#ifndef VELO_TEST_KAFKA_MOCK_H
#define VELO_TEST_KAFKA_MOCK_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>

#include "velo/log.h"

struct velo_test_mock {
    rd_kafka_t              *host; /* the mock cluster lives in its threads */
    rd_kafka_mock_cluster_t *mc;
    const char              *brokers; /* bootstrap list, owned by mc */
    FILE                    *log;     /* velo_log writes here */
};

/* One-broker cluster; the JSON log of svc goes to m->log. Asserts. */
static inline void
velo_test_mock_start(struct velo_test_mock *m, const char *svc)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char             errstr[256];

    m->log = getenv("VELO_TEST_LOG") != NULL ? stderr : tmpfile();
    assert_non_null(m->log);
    velo_log_init(svc, VELO_LOG_INFO, fileno(m->log));
    /* The host client itself connects nowhere: hide its notice saying so. */
    assert_int_equal(
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr)),
        RD_KAFKA_CONF_OK);
    m->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(m->host);
    m->mc = rd_kafka_mock_cluster_new(m->host, 1);
    assert_non_null(m->mc);
    m->brokers = rd_kafka_mock_cluster_bootstraps(m->mc);
}

/* Creates topic with the given partitions (replication 1). Asserts. */
static inline void
velo_test_mock_topic(struct velo_test_mock *m, const char *topic,
                     int partitions)
{
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, topic, partitions, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
}

static inline void
velo_test_mock_stop(struct velo_test_mock *m)
{
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->host);
    if (m->log != stderr)
        fclose(m->log);
}

/* The cmocka state of a test that needs the mock and one topic only:
 *   static const struct velo_test_mock_topic t = {"svc_test", "t", 3};
 *   cmocka_unit_test_prestate_setup_teardown(test, velo_test_mock_setup,
 *       velo_test_mock_teardown, (void *)&t)
 * gives the test a struct velo_test_mock * as *state. */
struct velo_test_mock_topic {
    const char *svc; /* the log's */
    const char *topic;
    int         partitions;
};

static inline int
velo_test_mock_setup(void **state)
{
    const struct velo_test_mock_topic *t = *state;
    struct velo_test_mock             *m = calloc(1, sizeof(*m));

    assert_non_null(m);
    velo_test_mock_start(m, t->svc);
    velo_test_mock_topic(m, t->topic, t->partitions);
    *state = m;
    return 0;
}

static inline int
velo_test_mock_teardown(void **state)
{
    velo_test_mock_stop(*state);
    free(*state);
    return 0;
}

/* A plain librdkafka producer on the mock (velo_kafka_produce picks
 * partitions by key), with kv: NULL or "name", "value", ..., NULL. The
 * caller flushes and destroys it. Asserts. */
static inline rd_kafka_t *
velo_test_mock_producer(const struct velo_test_mock *m, const char *const *kv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t      *rk;
    char             err[256];

    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", m->brokers,
                                       err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    for (; kv != NULL && kv[0] != NULL; kv += 2)
        assert_int_equal(
            rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof(err)),
            RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    return rk;
}

#endif
