/* window.c: one station, one window (see window.h for the semantics). */
#include "window.h"

#include <string.h>

/* Running sums over the window; divided once at the end. */
struct acc {
    int64_t known, bikes_w, docks_w, elec_w, elec_known;
    int64_t status_ms[BATCH_NSTATUS];
    bool    any_state, unreliable;
};

/* First index whose t_ms >= t (binary search). */
static size_t
first_at(const struct batch_sample *s, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].t_ms < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Folds the state of sample x, in force for d > 0 ms inside the window. */
static void
add_state(struct acc *a, struct batch_stats *st, const struct batch_sample *x,
          int64_t d)
{
    a->known += d;
    a->bikes_w += d * x->bikes;
    a->docks_w += d * x->docks;
    if (x->has_electric) {
        a->elec_w += d * x->electric;
        a->elec_known += d;
    }
    a->status_ms[x->status < BATCH_NSTATUS ? x->status : 0] += d;
    if (x->bikes == 0)
        st->empty_ms += d;
    if (x->docks == 0)
        st->full_ms += d;
    if (!a->any_state || x->bikes < st->bikes_min)
        st->bikes_min = x->bikes;
    if (!a->any_state || x->bikes > st->bikes_max)
        st->bikes_max = x->bikes;
    if (!a->any_state || x->docks < st->docks_min)
        st->docks_min = x->docks;
    if (!a->any_state || x->docks > st->docks_max)
        st->docks_max = x->docks;
    if (!a->any_state || x->capacity > st->capacity)
        st->capacity = x->capacity;
    a->any_state = true;
}

/* The change from s[i-1] to s[i], which happened inside the window. */
static void
add_change(struct acc *a, struct batch_stats *st, const struct batch_sample *s,
           size_t i, int64_t hb_ms)
{
    if (i == 0 || s[i].t_ms - s[i - 1].t_ms > hb_ms) {
        a->unreliable = true; /* unknown before it: a change may hide */
        return;
    }
    if (s[i].bikes > s[i - 1].bikes)
        st->bikes_in += s[i].bikes - s[i - 1].bikes;
    else
        st->bikes_out += s[i - 1].bikes - s[i].bikes;
}

static void
finish(const struct acc *a, struct batch_stats *st, int64_t len)
{
    int k, best = 0;

    st->known_ms = a->known;
    st->bikes_avg = (double)a->bikes_w / (double)a->known;
    st->docks_avg = (double)a->docks_w / (double)a->known;
    st->has_electric = a->elec_known > 0;
    st->electric_avg =
        st->has_electric ? (double)a->elec_w / (double)a->elec_known : 0;
    for (k = 1; k < BATCH_NSTATUS; k++)
        if (a->status_ms[k] > a->status_ms[best])
            best = k;
    st->status = (uint8_t)best;
    st->flow_reliable = !a->unreliable && a->known == len;
}

bool
batch_window_compute(const struct batch_sample *s, size_t n, int64_t start,
                     int64_t end, int64_t hb_ms, struct batch_stats *out)
{
    struct batch_stats st;
    struct acc         a;
    size_t             i;

    memset(&st, 0, sizeof(st));
    memset(&a, 0, sizeof(a));
    for (i = first_at(s, n, start - hb_ms); i < n && s[i].t_ms < end; i++) {
        int64_t hold = s[i].t_ms + hb_ms;
        int64_t from = s[i].t_ms > start ? s[i].t_ms : start;

        if (i + 1 < n && s[i + 1].t_ms < hold)
            hold = s[i + 1].t_ms;
        if (hold > end)
            hold = end;
        if (hold > from)
            add_state(&a, &st, &s[i], hold - from);
        if (s[i].t_ms >= start) {
            st.samples++;
            add_change(&a, &st, s, i, hb_ms);
        }
    }
    if (a.known == 0)
        return false;
    finish(&a, &st, end - start);
    *out = st;
    return true;
}
