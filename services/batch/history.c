/* history.c: a sorted array; records arrive nearly in order, so inserts
 * search from the end and rarely move anything. */
#include "history.h"

#include <stdlib.h>
#include <string.h>

void
batch_history_init(struct batch_history *h, size_t max)
{
    memset(h, 0, sizeof(*h));
    h->max = max;
}

static int
grow(struct batch_history *h)
{
    size_t               cap = h->cap == 0 ? 16 : h->cap * 2;
    struct batch_sample *s;

    if (cap > h->max)
        cap = h->max;
    s = realloc(h->s, cap * sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    h->s = s;
    h->cap = cap;
    return VELO_OK;
}

int
batch_history_insert(struct batch_history *h, const struct batch_sample *x,
                     int64_t *next_t, uint64_t *dropped)
{
    size_t i = h->n;

    while (i > 0 && h->s[i - 1].t_ms > x->t_ms)
        i--;
    if (i > 0 && h->s[i - 1].t_ms == x->t_ms) {
        h->s[i - 1] = *x;
        *next_t = i < h->n ? h->s[i].t_ms : INT64_MAX;
        return VELO_OK;
    }
    if (h->n == h->max) {
        if (i == 0) { /* older than everything kept: nowhere to go */
            (*dropped)++;
            *next_t = h->n > 0 ? h->s[0].t_ms : INT64_MAX;
            return VELO_OK;
        }
        memmove(h->s, h->s + 1, (h->n - 1) * sizeof(*h->s));
        h->n--;
        i--;
        (*dropped)++;
    } else if (h->n == h->cap && grow(h) != VELO_OK) {
        return VELO_ENOMEM;
    }
    memmove(h->s + i + 1, h->s + i, (h->n - i) * sizeof(*h->s));
    h->s[i] = *x;
    h->n++;
    *next_t = i + 1 < h->n ? h->s[i + 1].t_ms : INT64_MAX;
    return VELO_OK;
}

void
batch_history_prune(struct batch_history *h, int64_t floor_ms)
{
    size_t k = 0;

    while (k < h->n && h->s[k].t_ms < floor_ms)
        k++;
    if (k == 0)
        return;
    memmove(h->s, h->s + k, (h->n - k) * sizeof(*h->s));
    h->n -= k;
}

int64_t
batch_history_next_at(const struct batch_history *h, int64_t t)
{
    size_t lo = 0, hi = h->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->s[mid].t_ms < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->n ? h->s[lo].t_ms : INT64_MAX;
}

void
batch_history_fini(struct batch_history *h)
{
    free(h->s);
    memset(h, 0, sizeof(*h));
}
