/* ratelimit.c: per-client token buckets in a fixed table (velo/ratelimit.h). */
#include "velo/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8 /* slots a key may live in */

struct slot {
    char    key[VELO_RATELIMIT_KEY_MAX];
    double  tokens;
    int64_t last_ms;
    bool    used;
};

struct velo_ratelimit {
    pthread_mutex_t mtx; /* guards slots */
    double          rate_per_ms;
    double          burst;
    uint32_t        mask;
    struct slot    *slots;
};

static uint32_t
rl_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    while (*key != '\0') {
        h ^= (unsigned char)*key++;
        h *= 16777619u;
    }
    return h;
}

int
velo_ratelimit_new(velo_ratelimit **out, const struct velo_ratelimit_cfg *cfg)
{
    velo_ratelimit *rl;
    uint32_t        n = 1, want = cfg->max_clients ? cfg->max_clients : 4096;

    if (!isfinite(cfg->rate_per_s) || cfg->rate_per_s <= 0 || cfg->burst == 0 ||
        want > (1u << 24))
        return VELO_EINVAL;
    while (n < want || n < PROBE)
        n <<= 1;
    rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return VELO_ENOMEM;
    rl->slots = calloc(n, sizeof(*rl->slots));
    if (rl->slots == NULL) {
        free(rl);
        return VELO_ENOMEM;
    }
    pthread_mutex_init(&rl->mtx, NULL);
    rl->rate_per_ms = cfg->rate_per_s / 1000.0;
    rl->burst = cfg->burst;
    rl->mask = n - 1;
    *out = rl;
    return VELO_OK;
}

void
velo_ratelimit_free(velo_ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->mtx);
    free(rl->slots);
    free(rl);
}

/* key's slot: its own, else a free one, else the least recently seen of
 * its probe range (reset for key). Locks: caller holds rl->mtx. */
static struct slot *
rl_slot(velo_ratelimit *rl, const char *key, int64_t now_ms)
{
    uint32_t     h = rl_hash(key), i;
    struct slot *s, *victim = NULL;

    for (i = 0; i < PROBE; i++) {
        s = &rl->slots[(h + i) & rl->mask];
        if (s->used && strcmp(s->key, key) == 0)
            return s;
        if (victim == NULL || !s->used ||
            (victim->used && s->last_ms < victim->last_ms))
            victim = s;
    }
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->tokens = rl->burst;
    victim->last_ms = now_ms;
    victim->used = true;
    return victim;
}

bool
velo_ratelimit_take(velo_ratelimit *rl, const char *key, int64_t now_ms,
                    uint32_t *retry_after_s)
{
    char         k[VELO_RATELIMIT_KEY_MAX];
    struct slot *s;
    bool         ok;
    double       wait_ms;

    snprintf(k, sizeof(k), "%s", key);
    pthread_mutex_lock(&rl->mtx);
    s = rl_slot(rl, k, now_ms);
    if (now_ms > s->last_ms) {
        s->tokens += (double)(now_ms - s->last_ms) * rl->rate_per_ms;
        if (s->tokens > rl->burst)
            s->tokens = rl->burst;
        s->last_ms = now_ms;
    }
    ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    wait_ms = ok ? 0 : (1.0 - s->tokens) / rl->rate_per_ms;
    pthread_mutex_unlock(&rl->mtx);
    if (!ok)
        *retry_after_s = wait_ms < 1000 ? 1 : (uint32_t)ceil(wait_ms / 1000.0);
    return ok;
}
