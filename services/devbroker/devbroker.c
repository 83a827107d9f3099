/* devbroker.c: the mock cluster, its topics and its fixed port. */
#include "devbroker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "velo/log.h"
#include "velo/parse.h"

#define TOPIC_NAME_MAX 249 /* Kafka's own limit */
#define TOPIC_PARTS_MAX 1000
#define TOPIC_REPLICATION 1

struct devbroker {
    rd_kafka_t              *host; /* the mock's threads belong to it */
    rd_kafka_mock_cluster_t *mc;
    devbroker_fwd           *fwd; /* NULL when serving the mock's port */
    char                     addr[32];
};

#define TOPIC_NAME_CHARS                                                       \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* Called on each "name:partitions" item with its parts, or with
 * name == NULL for an item that does not parse. */
typedef void (*topic_fn)(void *ctx, const char *item, const char *name,
                         uint32_t parts);

/* Splits item (modified) into a legal Kafka topic name and a count. */
static const char *
topic_item_parse(char *item, uint32_t *parts)
{
    char  *colon;
    size_t len;

    colon = strchr(item, ':');
    if (colon == NULL)
        return NULL;
    len = (size_t)(colon - item);
    if (len == 0 || len > TOPIC_NAME_MAX ||
        strspn(item, TOPIC_NAME_CHARS) != len ||
        velo_parse_u32(colon + 1, parts) != VELO_OK || *parts < 1 ||
        *parts > TOPIC_PARTS_MAX)
        return NULL;
    *colon = '\0';
    return item;
}

/* An empty list is valid and creates nothing. */
static void
topics_each(const char *topics, topic_fn fn, void *ctx)
{
    char        item[TOPIC_NAME_MAX + 16], copy[sizeof(item)];
    const char *comma, *name;
    uint32_t    parts = 0;
    size_t      n;

    while (*topics != '\0') {
        comma = strchr(topics, ',');
        n = comma != NULL ? (size_t)(comma - topics) : strlen(topics);
        snprintf(item, sizeof(item), "%.*s", (int)n, topics);
        memcpy(copy, item, sizeof(item));
        name = n < sizeof(item) ? topic_item_parse(item, &parts) : NULL;
        fn(ctx, copy, name, parts);
        if (comma == NULL)
            return;
        topics = comma + 1;
        if (*topics == '\0')
            fn(ctx, "", NULL, 0); /* a trailing comma */
    }
}

struct check_ctx {
    char  *errs;
    size_t size;
    int    problems;
};

static void
topic_check(void *ctx, const char *item, const char *name, uint32_t parts)
{
    struct check_ctx *c = ctx;
    size_t            used;

    (void)parts;
    if (name != NULL)
        return;
    c->problems++;
    used = strnlen(c->errs, c->size);
    if (used < c->size)
        snprintf(c->errs + used, c->size - used,
                 "--topics: \"%s\" is not NAME:PARTITIONS (1..%d)\n", item,
                 TOPIC_PARTS_MAX);
}

int
devbroker_topics_check(const char *topics, char *errs, size_t errs_size)
{
    struct check_ctx c = {errs, errs_size, 0};

    topics_each(topics, topic_check, &c);
    return c.problems;
}

static void
topic_create(void *ctx, const char *item, const char *name, uint32_t parts)
{
    rd_kafka_resp_err_t err;

    (void)item;
    if (name == NULL)
        return; /* devbroker_topics_check reported it */
    /* The mock hangs on CreateTopics, so topics are made from here. */
    err = rd_kafka_mock_topic_create(ctx, name, (int)parts, TOPIC_REPLICATION);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        velo_warn("devbroker.topic.create_fail", VELO_S("topic", name),
                  VELO_S("cause", rd_kafka_err2str(err)));
    else
        velo_info("devbroker.topic.created", VELO_S("topic", name),
                  VELO_U("partitions", parts));
}

/* The mock's own log lines, at our levels (same mapping as kafka.c). */
static void
host_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum velo_log_level lvl;

    (void)rk;
    lvl = level <= 2   ? VELO_LOG_ERROR
          : level <= 4 ? VELO_LOG_WARN
          : level <= 6 ? VELO_LOG_INFO
                       : VELO_LOG_DEBUG;
    VELO_LOG_(lvl, "kafka.log", VELO_S("fac", fac), VELO_S("msg", buf));
}

/* The mock needs a client to live in; this one connects nowhere. */
static int
mock_start(devbroker *db)
{
    rd_kafka_conf_t *conf;
    char             errstr[256];
    const char      *boot;

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, host_log_cb);
    /* Its only notice would be "no bootstrap.servers", true by design. */
    (void)rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
    db->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (db->host == NULL) {
        rd_kafka_conf_destroy(conf);
        velo_error("devbroker.mock_fail", VELO_S("cause", errstr));
        return VELO_EUNAVAIL;
    }
    db->mc = rd_kafka_mock_cluster_new(db->host, 1);
    boot = db->mc != NULL ? rd_kafka_mock_cluster_bootstraps(db->mc) : NULL;
    if (boot == NULL || strrchr(boot, ':') == NULL) {
        velo_error("devbroker.mock_fail",
                   VELO_S("cause", "mock cluster did not start"));
        return VELO_EUNAVAIL;
    }
    snprintf(db->addr, sizeof(db->addr), "127.0.0.1:%s",
             strrchr(boot, ':') + 1);
    return VELO_OK;
}

int
devbroker_new(devbroker **out, const struct devbroker_opts *o)
{
    devbroker *db;
    char       errs[512] = "";
    uint32_t   mock_port;
    int        rv;

    if (devbroker_topics_check(o->topics, errs, sizeof(errs)) != 0)
        return VELO_EINVAL;
    db = calloc(1, sizeof(*db));
    if (db == NULL)
        return VELO_ENOMEM;
    rv = mock_start(db);
    if (rv != VELO_OK)
        goto fail;
    topics_each(o->topics, topic_create, db->mc);
    if (o->port != 0) {
        rv = velo_parse_u32(strchr(db->addr, ':') + 1, &mock_port);
        if (rv == VELO_OK)
            rv = devbroker_fwd_new(&db->fwd, o->port, (uint16_t)mock_port);
        if (rv != VELO_OK)
            goto fail;
        snprintf(db->addr, sizeof(db->addr), "127.0.0.1:%u",
                 (unsigned)devbroker_fwd_port(db->fwd));
    }
    *out = db;
    return VELO_OK;

fail:
    devbroker_free(db);
    return rv;
}

const char *
devbroker_addr(const devbroker *db)
{
    return db->addr;
}

void
devbroker_free(devbroker *db)
{
    if (db == NULL)
        return;
    devbroker_fwd_free(db->fwd); /* first: it relays into the mock */
    if (db->mc != NULL)
        rd_kafka_mock_cluster_destroy(db->mc);
    if (db->host != NULL)
        rd_kafka_destroy(db->host);
    free(db);
}
