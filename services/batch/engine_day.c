/* engine_day.c: daily windows, the local days of each system's zone (23
 * or 25 hours across a daylight-saving change). */
#include "engine_int.h"

/* Sets y's pointer to the local day containing t. */
static void
day_at(struct psys *y, const velo_tz *tz, int64_t t)
{
    velo_tz_day_bounds(tz, t, &y->day_start, &y->day_end, y->date);
}

/* Emits y's current day for each of its stations and moves the pointer to
 * the next day in which one of them has information. */
static int
close_day(batch_engine *e, struct part *p, struct psys *y, const velo_tz *tz)
{
    int64_t next = INT64_MAX, floor;
    size_t  i;
    int     rv;

    floor = p->wm - e->cfg.horizon_ms - e->cfg.heartbeat_ms;
    for (i = 0; i < y->nstations; i++) {
        struct station *st = y->stations[i];
        int64_t         n;

        rv = engine_emit(e, p, st, BATCH_DAILY, y->day_start, y->day_end,
                         y->date, false);
        if (rv != VELO_OK)
            return rv;
        batch_history_prune(&st->h, floor);
        n = engine_next_info(e, st, y->day_end);
        if (n < next)
            next = n;
    }
    if (next > p->wm - e->cfg.lateness_ms) /* not past the first open day */
        next = p->wm - e->cfg.lateness_ms;
    day_at(y, tz, next > y->day_end ? next : y->day_end);
    return VELO_OK;
}

int
engine_close_days(batch_engine *e, struct part *p)
{
    struct psys *y, *tmp;
    int          rv;

    HASH_ITER(hh, p->systems, y, tmp)
    {
        const velo_tz *tz = engine_tz(e, y->system_id);

        if (tz == NULL)
            continue; /* held until the zone is known */
        if (!y->day_init) {
            day_at(y, tz, y->init_floor);
            y->day_init = true;
        }
        while (y->day_end + e->cfg.lateness_ms <= p->wm) {
            rv = close_day(e, p, y, tz);
            if (rv != VELO_OK)
                return rv;
        }
    }
    return VELO_OK;
}

int
engine_correct_days(batch_engine *e, struct part *p, struct station *st,
                    int64_t t, int64_t next_t)
{
    struct psys   *y = st->sys;
    const velo_tz *tz = engine_tz(e, y->system_id);
    struct psys    d = {0};
    int64_t        lim = t + e->cfg.heartbeat_ms, last = INT64_MIN;
    int            rv;

    if (tz == NULL || !y->day_init || t >= y->day_start)
        return VELO_OK;
    if (next_t < lim)
        lim = next_t;
    /* At most two days: [t, t + hb] spans one edge at most, plus the day
     * of next_t. */
    for (day_at(&d, tz, t); d.day_start < y->day_start && d.day_start <= lim;
         day_at(&d, tz, d.day_end)) {
        if (d.day_start < p->wm - e->cfg.horizon_ms) {
            e->st.late_dropped++;
            continue;
        }
        rv = engine_emit(e, p, st, BATCH_DAILY, d.day_start, d.day_end, d.date,
                         true);
        if (rv != VELO_OK)
            return rv;
        last = d.day_start;
    }
    if (next_t == INT64_MAX)
        return VELO_OK;
    day_at(&d, tz, next_t);
    if (d.day_start < y->day_start && d.day_start > last &&
        d.day_start >= p->wm - e->cfg.horizon_ms)
        return engine_emit(e, p, st, BATCH_DAILY, d.day_start, d.day_end,
                           d.date, true);
    return VELO_OK;
}
