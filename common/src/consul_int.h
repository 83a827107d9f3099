/* consul_int.h: what consul*.c share and nobody else needs. Not installed:
 * it lives beside the sources, outside include/. */
#ifndef VELO_CONSUL_INT_H
#define VELO_CONSUL_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "velo/consul.h"
#include "velo/http_client.h"
#include "velo/metrics.h"

#define CONSUL_MAX_BODY ((size_t)4 << 20)
#define CONSUL_TIMEOUT_MS 5000u

/* One request at a time on a thread's own fetcher (connections are kept
 * between requests), interruptible by *stop plus velo_fetcher_wakeup.
 * Thread: the owner thread only (stop is read from it, set by anyone). */
struct consul_call {
    velo_fetcher            *f;
    atomic_bool             *stop;
    struct velo_fetch_result res; /* the last answer; consul_call_fini */
    bool                     done;
};

/* Makes k's fetcher. */
VELO_MUST_CHECK int consul_call_init(struct consul_call *k, atomic_bool *stop);
/* Cancels what is in flight and frees. Safe on a zeroed k. */
void consul_call_fini(struct consul_call *k);
/* Runs one request (velo_consul_request's contract) and waits for it, or
 * returns VELO_ECLOSED as soon as *stop is set. k->res holds the answer. */
VELO_MUST_CHECK int consul_call_run(velo_consul *c, struct consul_call *k,
                                    const char *method, const char *path,
                                    const char *body, uint32_t timeout_ms);

/* Metrics are optional (m NULL at start): these skip a missing series. */
static inline void
consul_mset(velo_metric *g, double v)
{
    if (g != NULL)
        velo_metric_set(g, v);
}

static inline void
consul_minc(velo_metric *c)
{
    if (c != NULL)
        velo_metric_inc(c);
}

/* Sleeps up to ms, returning early (true) when *stop is set. */
bool consul_nap(atomic_bool *stop, int64_t ms);

/* Percent-escapes s for a URL path segment or query value into buf.
 * VELO_ETOOBIG when it does not fit. */
VELO_MUST_CHECK int consul_escape(const char *s, char *buf, size_t size);

#endif
