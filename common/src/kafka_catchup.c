/* kafka_catchup.c: an assign_all consumer catching up on a backlog reads a
 * few partitions at a time (cfg.catch_up_partitions). librdkafka 2.0.2
 * prefetches every assigned partition as fast as the broker answers, and
 * its own limits (queued.min.messages, queued.max.messages.kbytes) stall
 * the fetcher for up to a second each time they bite, so a consumer slower
 * than its fetcher held the whole backlog in memory. Here the partitions
 * are handed to librdkafka in order (incremental assignment, which stops
 * nothing already assigned): the next one when one before it has reached
 * the high watermark seen at assign time. Each partition is still read in
 * order and completely; only the order between partitions changes, which
 * per-partition consumers do not see.
 *
 * The read-ahead bound (cfg.read_ahead_records) limits what librdkafka
 * holds of the partition being read. librdkafka 2.0.2 stops fetching a
 * partition while queued.min.messages records wait in the consumer queue
 * and looks again only when its broker thread wakes: a request for that
 * broker or its one-second tick (librdkafka issue 2879). So once the queue
 * is back under the bound, a watermark query to the leader of the
 * partition just read wakes it: the next fetch then overlaps processing. */
#include <stdlib.h>

#include "kafka_consumer_int.h"
#include "kafka_int.h"
#include "velo/log.h"

/* The wake is the request going out; its answer is not needed and waited
 * for briefly. */
#define READAHEAD_WAKE_MS 100

static bool
part_done(const velo_kafka_consumer *kc, int i)
{
    return kc->parts[i].reached || kc->parts[i].start >= kc->parts[i].target;
}

/* Partitions handed over and still reading. */
static int
busy(const velo_kafka_consumer *kc)
{
    int i, n = 0;

    for (i = 0; i < kc->handed; i++)
        n += !part_done(kc, i);
    return n;
}

/* Hands over the next partitions while fewer than catch_up_max are
 * reading (those with nothing to read go along for free). A refused
 * assignment hands nothing: the next note or idle poll tries again. */
static rd_kafka_resp_err_t
hand_over(velo_kafka_consumer *kc, bool first)
{
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_topic_partition_t      *tp;
    rd_kafka_error_t                *error;
    rd_kafka_resp_err_t              err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int                              n = busy(kc), next = kc->handed;

    list = rd_kafka_topic_partition_list_new(4);
    while (next < kc->pos->cnt &&
           (kc->catch_up_max <= 0 || n < kc->catch_up_max)) {
        tp = &kc->pos->elems[next];
        /* pos holds positions by now: the start is in parts */
        rd_kafka_topic_partition_list_add(list, tp->topic, tp->partition)
            ->offset = kc->parts[next].start;
        n += !part_done(kc, next);
        next++;
    }
    if (first) {
        err = rd_kafka_assign(kc->rk, list);
    } else if (list->cnt > 0) {
        error = rd_kafka_incremental_assign(kc->rk, list);
        if (error != NULL) {
            err = rd_kafka_error_code(error);
            velo_warn("kafka.catchup.assign_fail",
                      VELO_S("cause", rd_kafka_error_string(error)));
            rd_kafka_error_destroy(error);
        }
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        kc->handed = next;
    rd_kafka_topic_partition_list_destroy(list);
    return err;
}

rd_kafka_resp_err_t
velo_kafka__catchup_start(velo_kafka_consumer *kc)
{
    kc->handed = 0;
    return hand_over(kc, true);
}

void
velo_kafka__catchup_note(velo_kafka_consumer *kc, int32_t partition,
                         int64_t offset)
{
    int i;

    if (!kc->assigned || kc->handed >= kc->pos->cnt)
        return; /* everything is assigned already */
    for (i = 0; i < kc->handed; i++) {
        if (kc->pos->elems[i].partition != partition)
            continue;
        if (!kc->parts[i].reached && offset + 1 >= kc->parts[i].target) {
            kc->parts[i].reached = true;
            (void)hand_over(kc, false); /* logged; retried when idle */
        }
        return;
    }
}

static void
wake(velo_kafka_consumer *kc, const char *topic, int32_t partition)
{
    int64_t lo, hi;

    kc->gated = false;
    kc->read_since_wake = false;
    (void)rd_kafka_query_watermark_offsets(kc->rk, topic, partition, &lo, &hi,
                                           READAHEAD_WAKE_MS);
}

void
velo_kafka__catchup_idle(velo_kafka_consumer *kc)
{
    rd_kafka_topic_partition_list_t *now;
    bool hand = kc->assigned && kc->handed < kc->pos->cnt;
    /* The read-ahead's safety net for a bite not seen: the queue ran dry,
     * after records, while a partition handed over is still short of its
     * target. Once per dry spell: an idle consumer asks nothing. */
    bool nudge = kc->assigned && kc->cq != NULL && kc->read_since_wake;
    int  i;

    if (!hand && !nudge)
        return;
    kc->read_since_wake = false;
    now = rd_kafka_topic_partition_list_copy(kc->pos);
    if (rd_kafka_position(kc->rk, now) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (i = 0; i < kc->handed; i++) {
            if (now->elems[i].offset >= kc->parts[i].target) {
                kc->parts[i].reached = true;
            } else if (nudge && kc->parts[i].start < kc->parts[i].target) {
                wake(kc, now->elems[i].topic, now->elems[i].partition);
                nudge = false;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(now);
    if (hand)
        (void)hand_over(kc, false);
}

/* One wake each time the bound bit. The fetcher decides on the queue
 * right after adding a fetch to it, and this consumer may take one record
 * before it looks: a queue of exactly the bound is seen as one less. */
void
velo_kafka__readahead_note(velo_kafka_consumer      *kc,
                           const rd_kafka_message_t *rkm)
{
    int n;

    if (kc->cq == NULL || rkm->rkt == NULL)
        return;
    kc->read_since_wake = true;
    n = rd_kafka_queue_length(kc->cq);
    if (n >= kc->read_ahead - 1)
        kc->gated = true;
    else if (kc->gated)
        wake(kc, rd_kafka_topic_name(rkm->rkt), rkm->partition);
}
