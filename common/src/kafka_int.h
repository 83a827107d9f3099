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
#include "velo/kafka.h"

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

/* Asks every KAFKA_LEADER_POLL_MS, until deadline_ms (velo_mono_ms),
 * until every partition of topic has a leader: *list (replaced on each
 * try; the caller destroys it) then holds them. Retries while a partition
 * has no leader, and while the cluster does not know the topic when
 * unknown_ok (just created: its metadata may not have reached the broker
 * asked). Returns the last answer (VELO_ETIMEDOUT when there was no time
 * to ask). */
VELO_MUST_CHECK int
velo_kafka__await_leaders(rd_kafka_t *rk, const char *topic,
                          int64_t deadline_ms, bool unknown_ok,
                          rd_kafka_topic_partition_list_t **list);

/* The producer settings every producer shares (client.id, idempotence,
 * acks, compression, partitioner, linger, queue bound, message size), from
 * cfg; max_msg_bytes is the resolved payload limit. */
VELO_MUST_CHECK int velo_kafka__producer_conf(rd_kafka_conf_t             *conf,
                                              const struct velo_kafka_cfg *cfg,
                                              uint32_t max_msg_bytes);

/* velo_kafka_produce on any producer client rk: checks max_msg_bytes
 * (MSG_SIZE_TOO_LARGE when over), copies key, value and headers, queues.
 * Returns librdkafka's code so the caller can tell transaction states
 * (__STATE, __FATAL) apart before mapping it. */
VELO_MUST_CHECK rd_kafka_resp_err_t velo_kafka__produce(
    rd_kafka_t *rk, uint32_t max_msg_bytes, const char *topic, const void *key,
    size_t keylen, const void *value, size_t len,
    const struct velo_kafka_header *hdrs, size_t nhdrs, int64_t timestamp_ms);

/* The consumer's client, borrowed (the transactional producer needs its
 * group metadata). */
rd_kafka_t *velo_kafka__consumer_rk(velo_kafka_consumer *kc);

/* offs as a new partition list (offsets copied), which the caller
 * destroys. VELO_EINVAL when n is 0 or an entry has an empty topic or a
 * negative partition. */
VELO_MUST_CHECK int
velo_kafka__offsets_list(const struct velo_kafka_offset *offs, size_t n,
                         rd_kafka_topic_partition_list_t **out);

static inline bool
velo_kafka__str_empty(const char *s)
{
    return s == NULL || *s == '\0';
}

#endif
