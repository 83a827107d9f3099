/* kafka_dlq.c: dead letters in one shape for every service (see
 * velo/kafka_dlq.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "velo/kafka_dlq.h"
#include "velo/utf8.h"

#define DLQ_TRIES_DEFAULT 4
#define DLQ_WAIT_DEFAULT 100
#define DLQ_FIXED 6 /* headers of our own, at most */

/* A header whose text value is cut to VELO_KAFKA_DLQ_HEADER_MAX bytes on a
 * character boundary. */
static struct velo_kafka_header
dlq_text(const char *name, const char *value)
{
    size_t n = strlen(value);

    return (struct velo_kafka_header){
        name, value, velo_utf8_cut(value, n, VELO_KAFKA_DLQ_HEADER_MAX)};
}

/* Fills h with the letter's headers; returns how many. part and off are
 * the caller's buffers for the decimal origin. */
static size_t
dlq_headers(struct velo_kafka_header *h, const struct velo_kafka_dlq_letter *dl,
            bool truncated, char (*part)[16], char (*off)[24])
{
    size_t n = 0, i;

    h[n++] = dlq_text("velo-error", dl->reason);
    h[n++] = dlq_text("velo-source", dl->source);
    if (dl->origin_topic != NULL) {
        h[n++] = dlq_text("velo-origin-topic", dl->origin_topic);
        h[n++] = (struct velo_kafka_header){
            "velo-origin-partition", *part,
            (size_t)snprintf(*part, sizeof(*part), "%" PRId32,
                             dl->origin_partition)};
        h[n++] = (struct velo_kafka_header){
            "velo-origin-offset", *off,
            (size_t)snprintf(*off, sizeof(*off), "%" PRId64,
                             dl->origin_offset)};
    }
    if (truncated)
        h[n++] = (struct velo_kafka_header){"velo-truncated", "true", 4};
    for (i = 0; i < dl->nextra; i++)
        h[n++] = dl->extra[i];
    return n;
}

int
velo_kafka_dlq_write(velo_kafka_producer                *kp,
                     const struct velo_kafka_dlq_cfg    *cfg,
                     const struct velo_kafka_dlq_letter *dl)
{
    struct velo_kafka_header h[DLQ_FIXED + VELO_KAFKA_DLQ_EXTRA_MAX];
    char                     part[16], off[24];
    size_t max = cfg->max_bytes ? cfg->max_bytes : VELO_KAFKA_DLQ_MAX_DEFAULT;
    size_t len = dl->len > max ? max : dl->len, nh;
    int    tries = cfg->full_tries > 0 ? cfg->full_tries : DLQ_TRIES_DEFAULT;
    int    wait = cfg->full_wait_ms > 0 ? cfg->full_wait_ms : DLQ_WAIT_DEFAULT;
    int    rv;

    if (cfg->topic == NULL || dl->reason == NULL || dl->source == NULL ||
        dl->nextra > VELO_KAFKA_DLQ_EXTRA_MAX)
        return VELO_EINVAL;
    nh = dlq_headers(h, dl, len < dl->len, &part, &off);
    /* A full queue drains as deliveries are served: poll, then try again,
     * a bounded number of times (a dead letter never blocks for long). */
    for (;;) {
        rv = velo_kafka_produce(kp, cfg->topic, dl->key, dl->keylen, dl->value,
                                len, h, nh, 0);
        if (rv != VELO_EFULL || --tries <= 0)
            return rv;
        velo_kafka_poll(kp, wait);
    }
}
