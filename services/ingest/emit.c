/* emit.c: change capture and dead letters between a batch and the sink. */
#include "emit.h"

#include <stdio.h>

#include "velo/log.h"
#include "velo/snapshot.h"

#define FULL_WAIT_MS 50
#define FULL_TRIES 200 /* 10 s */

/* Calls send until it is not EFULL, serving delivery reports between. */
static int
send_retry(const struct ingest_emit_ctx *ec, const char *key,
           const Velo__V1__StationSnapshot *s,
           const struct ingest_dead_letter *dl)
{
    const struct ingest_sink *k = ec->sink;
    int                       rv, tries = 0;

    for (;;) {
        rv = s != NULL ? k->send(k->ctx, key, s) : k->dead_letter(k->ctx, dl);
        if (rv != VELO_EFULL || ++tries >= FULL_TRIES)
            return rv;
        k->poll(k->ctx, FULL_WAIT_MS, ec->lost, ec->owner);
    }
}

static void
emit_one(const struct ingest_emit_ctx *ec, const Velo__V1__StationSnapshot *s,
         int64_t now_ms, int64_t slack_ms, struct ingest_emit_stats *st)
{
    char     key[256];
    uint64_t h;
    int      rv;

    if (velo_snapshot_key(s, key, sizeof(key)) != VELO_OK) {
        st->failed++; /* validated ids never get here; belt and braces */
        return;
    }
    /* Change capture runs on event time: a record observed at a virtual
     * instant (the simulator's day) gets its heartbeats in that time. */
    if (s->has_fetched_at_ms && s->fetched_at_ms > 0)
        now_ms = s->fetched_at_ms;
    h = ingest_cdc_hash(s);
    if (!ingest_cdc_due(ec->cdc, key, h, now_ms, slack_ms)) {
        st->unchanged++;
        return;
    }
    rv = send_retry(ec, key, s, NULL);
    if (rv == VELO_OK)
        rv = ingest_cdc_mark(ec->cdc, key, h, now_ms);
    if (rv == VELO_OK) {
        st->emitted++;
        return;
    }
    st->failed++;
    ingest_cdc_forget(ec->cdc, key);
    velo_warn("emit.failed", VELO_S("key", key),
              VELO_S("reason", velo_strerror(rv)));
}

void
ingest_emit_batch(const struct ingest_emit_ctx *ec,
                  const struct ingest_batch *b, int64_t now_ms,
                  int64_t slack_ms, struct ingest_emit_stats *st)
{
    char   key[256];
    size_t i;

    for (i = 0; i < b->len; i++)
        emit_one(ec, &b->items[i], now_ms, slack_ms, st);
    for (i = 0; i < b->nrejects; i++) {
        const struct ingest_reject     *r = &b->rejects[i];
        const struct ingest_dead_letter dl = {
            key,        r->raw ? r->raw : "", r->raw ? r->len : 0,
            ec->source, ec->format,           r->reason};
        snprintf(key, sizeof(key), "%s/%s", ec->source, r->station_id);
        if (send_retry(ec, NULL, NULL, &dl) == VELO_OK)
            st->rejected++;
        else
            st->failed++;
    }
}

void
ingest_emit_payload_dlq(const struct ingest_emit_ctx *ec, const void *raw,
                        size_t len, const char *reason,
                        struct ingest_emit_stats *st)
{
    const struct ingest_dead_letter dl = {ec->source, raw,        len,
                                          ec->source, ec->format, reason};

    if (send_retry(ec, NULL, NULL, &dl) == VELO_OK)
        st->rejected++;
    else
        st->failed++;
}
