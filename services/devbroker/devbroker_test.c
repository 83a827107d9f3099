/* devbroker_test.c: the dev broker serves its topics, directly and through
 * its fixed port, to real librdkafka clients. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "devbroker.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"

static void
test_topics_check_reports_every_bad_item(void **state)
{
    char errs[1024] = "";

    (void)state;
    assert_int_equal(
        devbroker_topics_check("velib_data:6,velib_data.dlq:1,a-b_C.9:1000",
                               errs, sizeof(errs)),
        0);
    assert_int_equal(devbroker_topics_check("", errs, sizeof(errs)), 0);
    assert_string_equal(errs, "");
    assert_int_equal(devbroker_topics_check("a:0,b,:3,bad name:1,c:1001,d:x",
                                            errs, sizeof(errs)),
                     6);
    assert_non_null(strstr(errs, "\"a:0\""));
    assert_non_null(strstr(errs, "\"bad name:1\""));
    assert_non_null(strstr(errs, "\"d:x\""));
    errs[0] = '\0';
    assert_int_equal(devbroker_topics_check("a:1,", errs, sizeof(errs)), 1);
}

/* Partition count of topic in the cluster at brokers, -1 if absent. */
static int
partitions_of(const char *brokers, const char *topic)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_conf_t                *conf = rd_kafka_conf_new();
    rd_kafka_t                     *rk;
    char                            errstr[256];
    int                             i, n = -1;

    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers,
                                       errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    assert_int_equal(rd_kafka_metadata(rk, 1, NULL, &md, 5000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    for (i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0)
            n = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return n;
}

static void
test_serves_its_topics_on_the_mock_port(void **state)
{
    struct devbroker_opts o = {.port = 0, .topics = "t.six:6,t.one:1"};
    devbroker            *db = NULL;

    (void)state;
    assert_int_equal(devbroker_new(&db, &o), VELO_OK);
    assert_memory_equal(devbroker_addr(db), "127.0.0.1:", 10);
    assert_int_equal(partitions_of(devbroker_addr(db), "t.six"), 6);
    assert_int_equal(partitions_of(devbroker_addr(db), "t.one"), 1);
    devbroker_free(db);
}

/* A port that was free a moment ago (the kernel's pick). */
static uint16_t
free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t          len = sizeof(sa);
    int                fd;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Produces one record and reads it back through brokers. */
static void
round_trip(const char *brokers, const char *topic)
{
    struct velo_kafka_cfg pc = {.brokers = brokers, .flush_timeout_ms = 5000};
    struct velo_kafka_consumer_cfg cc = {.brokers = brokers,
                                         .group_id = "devbroker-test"};
    velo_kafka_producer           *kp = NULL;
    velo_kafka_consumer           *kc = NULL;
    struct velo_kafka_msg          m;
    int64_t                        deadline;
    int                            rv;

    assert_int_equal(velo_kafka_producer_new(&kp, &pc), VELO_OK);
    assert_int_equal(
        velo_kafka_produce(kp, topic, "k", 1, "hello", 5, NULL, 0, 0), VELO_OK);
    assert_int_equal(velo_kafka_flush(kp, 5000), VELO_OK);
    velo_kafka_producer_free(kp);
    assert_int_equal(velo_kafka_consumer_new(&kc, &cc), VELO_OK);
    assert_int_equal(
        velo_kafka_assign_all(kc, topic, VELO_KAFKA_OFFSET_BEGINNING, 5000),
        VELO_OK);
    deadline = velo_mono_ms() + 10000;
    do {
        rv = velo_kafka_consume(kc, &m, 200);
    } while (rv == VELO_ETIMEDOUT && velo_mono_ms() < deadline);
    assert_int_equal(rv, VELO_OK);
    assert_int_equal(m.len, 5);
    assert_memory_equal(m.value, "hello", 5);
    velo_kafka_msg_release(&m);
    velo_kafka_consumer_free(kc);
}

static void
test_fixed_port_relays_to_the_mock(void **state)
{
    struct devbroker_opts o = {.topics = "velib_data:6"};
    devbroker            *db = NULL;
    char                  want[32];

    (void)state;
    o.port = free_port();
    assert_int_equal(devbroker_new(&db, &o), VELO_OK);
    snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)o.port);
    assert_string_equal(devbroker_addr(db), want);
    assert_int_equal(partitions_of(want, "velib_data"), 6);
    round_trip(want, "velib_data");
    devbroker_free(db);
}

static void
test_busy_port_and_bad_topics_fail(void **state)
{
    struct devbroker_opts o = {.topics = "t:1"};
    struct sockaddr_in    sa = {.sin_family = AF_INET};
    socklen_t             len = sizeof(sa);
    devbroker            *db = NULL;
    int                   fd;

    (void)state;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    o.port = ntohs(sa.sin_port);
    assert_int_equal(devbroker_new(&db, &o), VELO_EIO);
    assert_null(db);
    close(fd);
    o.port = 0;
    o.topics = "t:0";
    assert_int_equal(devbroker_new(&db, &o), VELO_EINVAL);
    assert_null(db);
    devbroker_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics_check_reports_every_bad_item),
        cmocka_unit_test(test_serves_its_topics_on_the_mock_port),
        cmocka_unit_test(test_fixed_port_relays_to_the_mock),
        cmocka_unit_test(test_busy_port_and_bad_topics_fail),
    };

    velo_log_init("devbroker_test", VELO_LOG_OFF, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
