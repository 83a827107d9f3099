/* poll_delay.c: the wait between polls of one source (poll_delay.h). */
#include "poll_delay.h"

#include <string.h>

/* A wait the source asked for, bounded by cap_ms; notes a cut in out. */
static int64_t
asked(int64_t want_ms, int64_t cap_ms, const char *what,
      struct ingest_delay *out)
{
    bool    capped = false;
    int64_t d = velo_backoff_clamp(want_ms, cap_ms, &capped);

    if (capped) {
        out->capped = what;
        out->asked_ms = want_ms;
    }
    return d;
}

void
ingest_poll_delay(struct velo_backoff *bo, const struct ingest_outcome *o,
                  int64_t interval_ms, int64_t cap_ms, struct ingest_delay *out)
{
    int64_t d, want;

    out->capped = NULL;
    out->asked_ms = 0;
    if (o->err == VELO_OK) {
        velo_backoff_reset(bo);
        want = asked((int64_t)o->ttl_s * 1000, cap_ms, "ttl", out);
        out->ms = want > interval_ms ? want : interval_ms;
        return;
    }
    d = velo_backoff_next(bo);
    /* A rejected key will not heal by itself: ask as rarely as allowed. */
    if (o->kind != NULL && strcmp(o->kind, "forbidden") == 0)
        d = bo->max_ms;
    if (o->retry_after_ms >= 0) {
        want = asked(o->retry_after_ms, cap_ms, "retry_after", out);
        if (want > d)
            d = want;
    }
    out->ms = d;
}
