/* velo/backoff.h: the one retry policy (jittered, capped exponential).
 *
 * Every retry in velopipe waits: a failed poll, a topic not yet there, a
 * database that is restarting, a Consul agent that does not answer. The
 * n-th consecutive failure waits base * 2^(n-1), capped at max, times a
 * jitter in [0.8, 1.2) so replicas do not retry in step; a success resets
 * it. Caller-allocated, no locks: one owner thread. */
#ifndef VELO_BACKOFF_H
#define VELO_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct velo_backoff {
    int64_t  base_ms;  /* first wait */
    int64_t  max_ms;   /* ceiling of any wait (jitter included) */
    uint32_t failures; /* consecutive failures so far */
    uint64_t rng;      /* xorshift state, never 0 */
};

/* Sets up b; seed 0 takes one from the clock and the address of b. */
void velo_backoff_init(struct velo_backoff *b, int64_t base_ms, int64_t max_ms,
                       uint64_t seed);

/* Counts a failure and returns how long to wait before the next try, in
 * [0.8, 1.2) x min(base * 2^(failures-1), max), never above max_ms. */
int64_t velo_backoff_next(struct velo_backoff *b);

/* A success: the next failure starts again from base. */
void velo_backoff_reset(struct velo_backoff *b);

/* The wait a peer asked for (Retry-After, ttl), bounded to [0, cap_ms].
 * *capped (may be NULL) says whether the cap applied, so the caller can
 * log it once. */
int64_t velo_backoff_clamp(int64_t want_ms, int64_t cap_ms, bool *capped);

#endif
