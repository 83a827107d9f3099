/* velo/ratelimit.h: per-client token buckets, for a public HTTP API.
 *
 * Each client key (an IP address) has a bucket of burst tokens refilled at
 * rate_per_s; a request takes one token or is refused with the seconds
 * until the next one (for 429 + Retry-After).
 *
 * Memory is fixed at _new: max_clients slots (rounded up to a power of
 * two). A key hashes to a slot and probes a few neighbours; when all are
 * held by other clients, the one seen least recently is forgotten (it
 * then starts again with a full bucket). An attacker with many addresses
 * can therefore push others out, but never grow the table.
 *
 * Thread: any; one mutex guards the table. */
#ifndef VELO_RATELIMIT_H
#define VELO_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/err.h"

typedef struct velo_ratelimit velo_ratelimit;

struct velo_ratelimit_cfg {
    double   rate_per_s;  /* tokens added per second; > 0 */
    uint32_t burst;       /* bucket size; >= 1 */
    uint32_t max_clients; /* slots; 0: 4096 */
};

/* Longest key kept; longer keys are cut (an IPv6 address is 45 bytes). */
#define VELO_RATELIMIT_KEY_MAX 64

/* VELO_EINVAL for a rate <= 0 (or not finite) or a burst of 0. */
VELO_MUST_CHECK int velo_ratelimit_new(velo_ratelimit                 **out,
                                       const struct velo_ratelimit_cfg *cfg);
/* NULL is a no-op. */
void velo_ratelimit_free(velo_ratelimit *rl);

/* Takes one token from key's bucket at now_ms (a monotonic clock). True:
 * allowed. False: refused, and *retry_after_s is the whole seconds until
 * a token is back (at least 1). */
bool velo_ratelimit_take(velo_ratelimit *rl, const char *key, int64_t now_ms,
                         uint32_t *retry_after_s);

#endif
