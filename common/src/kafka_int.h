/* kafka_int.h: what kafka.c (producer, topics, client setup) and
 * kafka_consumer.c share and nobody else needs. Not installed: it lives
 * beside the sources, outside include/. The double underscore marks the
 * symbols internal (libuv's uv__). */
#ifndef VELO_KAFKA_INT_H
#define VELO_KAFKA_INT_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

/* Maps a librdkafka error to a velo_err. The caller logs the original
 * text (rd_kafka_err2str) as `cause` where it handles the error. */
int velo_kafka__err_map(rd_kafka_resp_err_t err);

/* Sets one property; a bad one is logged (kafka.config.invalid) and is
 * VELO_EINVAL. */
VELO_MUST_CHECK int velo_kafka__conf_set(rd_kafka_conf_t *conf, const char *key,
                                         const char *val);
VELO_MUST_CHECK int velo_kafka__conf_set_u32(rd_kafka_conf_t *conf,
                                             const char *key, uint32_t val);
/* Sets n key/value pairs; stops at the first bad one. */
VELO_MUST_CHECK int velo_kafka__conf_set_all(rd_kafka_conf_t *conf,
                                             const char *const (*kv)[2],
                                             size_t n);

/* A new conf with bootstrap.servers and the log/error routing every client
 * shares; NULL when brokers is rejected (logged). The caller owns it. */
rd_kafka_conf_t *velo_kafka__conf_base(const char *brokers);

/* rd_kafka_new that takes ownership of conf in every case. VELO_EINVAL
 * (cause logged) when the client cannot be made. */
VELO_MUST_CHECK int velo_kafka__client_new(rd_kafka_t     **out,
                                           rd_kafka_type_t  type,
                                           rd_kafka_conf_t *conf);

/* Adds every partition of topic to list (offsets unset). VELO_ENOTFOUND
 * when the cluster does not know the topic; other errors mapped. */
VELO_MUST_CHECK int
velo_kafka__topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                             rd_kafka_topic_partition_list_t *list);

static inline bool
velo_kafka__str_empty(const char *s)
{
    return s == NULL || *s == '\0';
}

#endif
