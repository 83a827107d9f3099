/* progress.c: the readiness decision (see progress.h). */
#include "progress.h"

#include <stdio.h>

void
stream_progress_init(struct stream_progress *p)
{
    atomic_init(&p->assigned, false);
    atomic_init(&p->rebuilt, false);
    atomic_init(&p->lag, -1);
}

bool
stream_progress_ready(struct stream_progress *p, uint32_t max_lag, char *why,
                      size_t why_size)
{
    int64_t lag;

    if (!atomic_load(&p->assigned)) {
        snprintf(why, why_size, "state rebuilding: waiting for the topic");
        return false;
    }
    if (!atomic_load(&p->rebuilt)) {
        snprintf(why, why_size, "state rebuilding");
        return false;
    }
    lag = atomic_load(&p->lag);
    if (lag >= (int64_t)max_lag) {
        snprintf(why, why_size, "consumer lag %lld records (limit %u)",
                 (long long)lag, max_lag);
        return false;
    }
    return true;
}

bool
stream_progress_serving(struct stream_progress *p)
{
    return atomic_load(&p->rebuilt);
}
