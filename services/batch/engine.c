/* engine.c: records in, hourly windows, corrections (see engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "velo/utf8.h"

static int64_t
hour_floor(int64_t t)
{
    int64_t q = t / HOUR_MS - (t % HOUR_MS < 0);

    return q * HOUR_MS;
}

int
batch_engine_new(batch_engine **out, const struct batch_engine_cfg *cfg,
                 const struct batch_sink *sink)
{
    batch_engine *e;

    /* A daily window (at most 25 h) that is still open must be
     * recomputable from the samples kept: horizon >= 25 h + lateness. */
    if (cfg->heartbeat_ms <= 0 || cfg->lateness_ms < 0 ||
        cfg->horizon_ms < 25 * HOUR_MS + cfg->lateness_ms ||
        cfg->max_samples < 2 || sink->emit == NULL)
        return VELO_EINVAL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return VELO_ENOMEM;
    e->cfg = *cfg;
    if (e->cfg.tz_load == NULL)
        e->cfg.tz_load = velo_tz_load;
    e->sink = *sink;
    *out = e;
    return VELO_OK;
}

static const struct zone *
zone_find(const batch_engine *e, const char *system_id)
{
    struct zone *z = NULL;

    HASH_FIND_STR(e->zones, system_id, z);
    return z;
}

const velo_tz *
engine_tz(const batch_engine *e, const char *system_id)
{
    const struct zone *z = zone_find(e, system_id);

    return z != NULL ? z->tz : NULL;
}

/* system_id's entry, made (with neither zone nor name) on first sight. */
static struct zone *
zone_get(batch_engine *e, const char *system_id)
{
    struct zone *z = (struct zone *)zone_find(e, system_id);

    if (z != NULL)
        return z;
    z = calloc(1, sizeof(*z));
    if (z == NULL || (z->system_id = strdup(system_id)) == NULL) {
        free(z);
        return NULL;
    }
    HASH_ADD_KEYPTR(hh, e->zones, z->system_id, strlen(z->system_id), z);
    return z;
}

int
batch_engine_set_zone(batch_engine *e, const char *system_id,
                      const char *tz_name)
{
    struct zone *z;
    velo_tz     *tz = NULL;
    int          rv;

    rv = e->cfg.tz_load(&tz, tz_name);
    if (rv != VELO_OK)
        return rv;
    z = zone_get(e, system_id);
    if (z == NULL) {
        velo_tz_free(tz);
        return VELO_ENOMEM;
    }
    velo_tz_free(z->tz);
    z->tz = tz;
    return VELO_OK;
}

int
batch_engine_set_name(batch_engine *e, const char *system_id, const char *name)
{
    struct zone *z = zone_get(e, system_id);
    char        *n;

    if (z == NULL || (n = malloc(BATCH_NAME_MAX)) == NULL)
        return VELO_ENOMEM;
    velo_utf8_clip(n, BATCH_NAME_MAX, name, BATCH_NAME_MAX - 1);
    free(z->name);
    z->name = n;
    return VELO_OK;
}

static struct part *
part_get(batch_engine *e, int32_t id)
{
    struct part *p = NULL;

    HASH_FIND_INT(e->parts, &id, p);
    if (p != NULL)
        return p;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->id = id;
    HASH_ADD_INT(e->parts, id, p);
    return p;
}

int
batch_engine_replay_until(batch_engine *e, int32_t partition, int64_t offset)
{
    struct part *p = part_get(e, partition);

    if (p == NULL)
        return VELO_ENOMEM;
    p->replay_until = offset;
    return VELO_OK;
}

static struct psys *
psys_get(struct part *p, const char *system_id)
{
    struct psys *y = NULL;

    HASH_FIND_STR(p->systems, system_id, y);
    if (y != NULL)
        return y;
    y = calloc(1, sizeof(*y));
    if (y == NULL || (y->system_id = strdup(system_id)) == NULL) {
        free(y);
        return NULL;
    }
    y->init_floor = INT64_MIN;
    HASH_ADD_KEYPTR(hh, p->systems, y->system_id, strlen(y->system_id), y);
    return y;
}

static int
psys_add_station(struct psys *y, struct station *st)
{
    if (y->nstations == y->cap) {
        size_t           cap = y->cap == 0 ? 16 : y->cap * 2;
        struct station **v = realloc(y->stations, cap * sizeof(*v));
        if (v == NULL)
            return VELO_ENOMEM;
        y->stations = v;
        y->cap = cap;
    }
    y->stations[y->nstations++] = st;
    return VELO_OK;
}

static void
station_free(struct station *st)
{
    if (st == NULL)
        return;
    batch_history_fini(&st->h);
    free(st->dims);
    free(st->key);
    free(st);
}

/* The station's entry, made on first sight (with its system's). */
static int
station_get(batch_engine *e, struct part *p, const char *system_id,
            const char *station_id, struct station **out)
{
    size_t          ls = strlen(system_id), lt = strlen(station_id);
    struct station *st = NULL;
    char           *key;

    key = malloc(ls + lt + 2);
    if (key == NULL)
        return VELO_ENOMEM;
    memcpy(key, system_id, ls + 1);
    memcpy(key + ls + 1, station_id, lt + 1);
    HASH_FIND(hh, p->stations, key, ls + lt + 2, st);
    if (st != NULL) {
        free(key);
        *out = st;
        return VELO_OK;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        free(key);
        return VELO_ENOMEM;
    }
    st->key = key;
    st->keylen = ls + lt + 2;
    st->station_id = key + ls + 1;
    batch_history_init(&st->h, e->cfg.max_samples);
    st->sys = psys_get(p, system_id);
    if (st->sys == NULL || psys_add_station(st->sys, st) != VELO_OK) {
        station_free(st);
        return VELO_ENOMEM;
    }
    HASH_ADD_KEYPTR(hh, p->stations, st->key, st->keylen, st);
    e->st.stations++;
    *out = st;
    return VELO_OK;
}

int
engine_emit(batch_engine *e, struct part *p, struct station *st,
            enum batch_gran gran, int64_t start, int64_t end, const char *date,
            bool correction)
{
    struct batch_stats   s;
    struct batch_row     row;
    const struct zone   *z;
    const velo_tz       *tz;
    struct velo_tz_local lt = {0};
    char                 hour_date[16];
    int                  rv;

    if (!batch_window_compute(st->h.s, st->h.n, start, end, e->cfg.heartbeat_ms,
                              &s))
        return VELO_OK;
    if (p->silent) {
        e->st.suppressed++;
        return VELO_OK;
    }
    z = zone_find(e, st->key);
    tz = z != NULL ? z->tz : NULL;
    if (gran == BATCH_HOURLY && tz != NULL) {
        /* The hour in the system's zone, for the warehouse's dim_time. */
        velo_tz_local(tz, start, &lt);
        snprintf(hour_date, sizeof(hour_date), "%04d-%02d-%02d", (int)lt.year,
                 lt.month, lt.day);
        date = hour_date;
    }
    row = (struct batch_row){.gran = gran,
                             .system_id = st->key,
                             .station_id = st->station_id,
                             .start_ms = start,
                             .end_ms = end,
                             .local_date = date,
                             .timezone = tz != NULL ? velo_tz_name(tz) : NULL,
                             .local_hour = lt.hour,
                             .local_dow = lt.wday,
                             .dims = st->dims,
                             .system_name = z != NULL ? z->name : NULL,
                             .correction = correction,
                             .partition = p->id,
                             .stats = &s};
    rv = e->sink.emit(e->sink.ctx, &row);
    if (rv != VELO_OK)
        return rv;
    e->st.rows++;
    if (correction)
        e->st.corrections++;
    return VELO_OK;
}

int64_t
engine_next_info(const batch_engine *e, const struct station *st, int64_t t)
{
    /* A sample at u informs [u, u + hb): the first with u > t - hb. */
    int64_t u = batch_history_next_at(&st->h, t - e->cfg.heartbeat_ms + 1);

    if (u == INT64_MAX)
        return u;
    return u > t ? u : t;
}

/* Emits hour [S, S+1h) for every station of p, prunes what no window that
 * may still be emitted can need, and moves p->hour_next past the hours in
 * which no station has information (they would emit nothing). */
static int
close_hour(batch_engine *e, struct part *p)
{
    int64_t         s = p->hour_next, end = s + HOUR_MS, next = INT64_MAX;
    int64_t         floor = p->wm - e->cfg.horizon_ms - e->cfg.heartbeat_ms;
    struct station *st, *tmp;
    int             rv;

    HASH_ITER(hh, p->stations, st, tmp)
    {
        int64_t n;

        rv = engine_emit(e, p, st, BATCH_HOURLY, s, end, NULL, false);
        if (rv != VELO_OK)
            return rv;
        batch_history_prune(&st->h, floor);
        n = engine_next_info(e, st, end);
        if (n < next)
            next = n;
    }
    /* Never past the first hour still open (one containing wm - lateness):
     * a record for it may yet arrive in time. */
    if (next > p->wm - e->cfg.lateness_ms)
        next = p->wm - e->cfg.lateness_ms;
    p->hour_next = hour_floor(next > end ? next : end);
    return VELO_OK;
}

/* Re-emits the closed hours a late sample at t changed: those that meet
 * [t, min(next_t, t + hb)], and the hour of next_t, whose change now
 * follows the new sample. */
static int
correct_hours(batch_engine *e, struct part *p, struct station *st, int64_t t,
              int64_t next_t)
{
    int64_t lim = t + e->cfg.heartbeat_ms, s, last = INT64_MIN;
    int     rv;

    if (next_t < lim)
        lim = next_t;
    for (s = hour_floor(t); s < p->hour_next && s <= lim; s += HOUR_MS) {
        if (s < p->wm - e->cfg.horizon_ms) {
            e->st.late_dropped++;
            continue;
        }
        rv = engine_emit(e, p, st, BATCH_HOURLY, s, s + HOUR_MS, NULL, true);
        if (rv != VELO_OK)
            return rv;
        last = s;
    }
    s = next_t == INT64_MAX ? INT64_MAX : hour_floor(next_t);
    if (s < p->hour_next && s > last && s >= p->wm - e->cfg.horizon_ms)
        return engine_emit(e, p, st, BATCH_HOURLY, s, s + HOUR_MS, NULL, true);
    return VELO_OK;
}

static int
advance(batch_engine *e, struct part *p, struct station *st, int64_t t)
{
    int rv;

    if (!p->has_wm) {
        p->has_wm = true;
        p->wm = t;
        p->hour_next = hour_floor(t - e->cfg.lateness_ms);
    } else if (t > p->wm) {
        p->wm = t;
    }
    if (st->sys->init_floor == INT64_MIN)
        st->sys->init_floor = p->wm - e->cfg.lateness_ms;
    while (p->hour_next + HOUR_MS + e->cfg.lateness_ms <= p->wm) {
        rv = close_hour(e, p);
        if (rv != VELO_OK)
            return rv;
    }
    return engine_close_days(e, p);
}

int
batch_engine_add(batch_engine *e, int32_t partition, int64_t offset,
                 const char *system_id, const char *station_id,
                 const struct batch_sample *s)
{
    return batch_engine_add_dims(e, partition, offset, system_id, station_id, s,
                                 NULL);
}

/* Keeps d as the station's latest dimension values. */
static int
station_dims(struct station *st, const struct batch_dims *d)
{
    if (d == NULL || (!d->has_name && !d->has_pos))
        return VELO_OK;
    if (st->dims == NULL && (st->dims = calloc(1, sizeof(*st->dims))) == NULL)
        return VELO_ENOMEM;
    *st->dims = *d;
    return VELO_OK;
}

int
batch_engine_add_dims(batch_engine *e, int32_t partition, int64_t offset,
                      const char *system_id, const char *station_id,
                      const struct batch_sample *s, const struct batch_dims *d)
{
    struct part    *p = part_get(e, partition);
    struct station *st = NULL;
    int64_t         next_t;
    bool            late;
    int             rv;

    if (p == NULL)
        return VELO_ENOMEM;
    rv = station_get(e, p, system_id, station_id, &st);
    if (rv == VELO_OK)
        rv = station_dims(st, d);
    if (rv != VELO_OK)
        return rv;
    p->silent = offset < p->replay_until;
    rv = batch_history_insert(&st->h, s, &next_t, &e->st.samples_dropped);
    if (rv != VELO_OK)
        return rv;
    e->st.records++;
    late = p->has_wm && (s->t_ms < p->hour_next ||
                         (st->sys->day_init && s->t_ms < st->sys->day_start));
    if (late) {
        e->st.late_records++;
        rv = correct_hours(e, p, st, s->t_ms, next_t);
        if (rv == VELO_OK)
            rv = engine_correct_days(e, p, st, s->t_ms, next_t);
        if (rv != VELO_OK)
            return rv;
    }
    return advance(e, p, st, s->t_ms);
}

bool
batch_engine_watermark(const batch_engine *e, int32_t partition, int64_t *wm)
{
    struct part *p = NULL;

    HASH_FIND_INT(e->parts, &partition, p);
    if (p == NULL || !p->has_wm)
        return false;
    *wm = p->wm;
    return true;
}

void
batch_engine_stats(const batch_engine *e, struct batch_engine_stats *st)
{
    struct part *p, *tp;
    struct psys *y, *ty;

    *st = e->st;
    st->held_systems = 0;
    HASH_ITER(hh, e->parts, p, tp)
    {
        HASH_ITER(hh, p->systems, y, ty)
        {
            if (!y->day_init)
                st->held_systems++;
        }
    }
}

static void
part_free(struct part *p)
{
    struct station *st, *ts;
    struct psys    *y, *ty;

    HASH_ITER(hh, p->stations, st, ts)
    {
        HASH_DEL(p->stations, st);
        station_free(st);
    }
    HASH_ITER(hh, p->systems, y, ty)
    {
        HASH_DEL(p->systems, y);
        free(y->stations);
        free(y->system_id);
        free(y);
    }
    free(p);
}

void
batch_engine_free(batch_engine *e)
{
    struct part *p, *tp;
    struct zone *z, *tz;

    if (e == NULL)
        return;
    HASH_ITER(hh, e->parts, p, tp)
    {
        HASH_DEL(e->parts, p);
        part_free(p);
    }
    HASH_ITER(hh, e->zones, z, tz)
    {
        HASH_DEL(e->zones, z);
        velo_tz_free(z->tz);
        free(z->name);
        free(z->system_id);
        free(z);
    }
    free(e);
}
