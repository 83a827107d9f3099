/* poll_delay.h: when a source polls next.
 *
 * After a success: the source's interval, or the data's ttl when longer.
 * After a failure: jittered exponential backoff (velo/backoff.h), the
 * longest wait for a rejected key (403), or the source's Retry-After when
 * longer. ttl and Retry-After come from a third party, so both are capped
 * (cap_ms, the --max-wait-s option): `Retry-After: 99999999999` must not
 * silence a source until restart. Pure: no I/O, no clock. */
#ifndef INGEST_POLL_DELAY_H
#define INGEST_POLL_DELAY_H

#include <stdint.h>

#include "source_kind.h"
#include "velo/backoff.h"

#define INGEST_BACKOFF_BASE_MS 2000
#define INGEST_BACKOFF_MAX_MS (300 * 1000)

struct ingest_delay {
    int64_t     ms;       /* wait before the next poll */
    const char *capped;   /* NULL, or "ttl" / "retry_after" when cut */
    int64_t     asked_ms; /* what the source asked for, when capped */
};

/* Computes the wait after outcome o. bo is the source's backoff: a failure
 * counts in it, a success resets it. */
void ingest_poll_delay(struct velo_backoff *bo, const struct ingest_outcome *o,
                       int64_t interval_ms, int64_t cap_ms,
                       struct ingest_delay *out);

#endif
