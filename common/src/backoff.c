/* backoff.c: jittered, capped exponential backoff (velo/backoff.h). */
#include "velo/backoff.h"
#include "velo/clock.h"

/* Past 2^20 x base the cap has long applied; keeps the shift defined. */
#define MAX_SHIFT 20

void
velo_backoff_init(struct velo_backoff *b, int64_t base_ms, int64_t max_ms,
                  uint64_t seed)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
    b->failures = 0;
    if (seed == 0)
        seed = (uint64_t)velo_mono_ms() * 2654435761u ^ (uintptr_t)b;
    b->rng = seed != 0 ? seed : 88172645463325252ull;
}

static double
jitter(struct velo_backoff *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return 0.8 + 0.4 * (double)(b->rng >> 11) / 9007199254740992.0;
}

int64_t
velo_backoff_next(struct velo_backoff *b)
{
    uint32_t shift;
    int64_t  d;

    if (b->failures < UINT32_MAX)
        b->failures++;
    shift = b->failures - 1 < MAX_SHIFT ? b->failures - 1 : MAX_SHIFT;
    d = b->base_ms << shift;
    if (d > b->max_ms || d <= 0)
        d = b->max_ms;
    d = (int64_t)((double)d * jitter(b));
    return d > b->max_ms ? b->max_ms : d;
}

void
velo_backoff_reset(struct velo_backoff *b)
{
    b->failures = 0;
}

int64_t
velo_backoff_clamp(int64_t want_ms, int64_t cap_ms, bool *capped)
{
    bool over = want_ms > cap_ms;

    if (capped != NULL)
        *capped = over;
    if (want_ms < 0)
        return 0;
    return over ? cap_ms : want_ms;
}
