/* simulate.c: stations evolving realistically from a seed list.
 *
 * For demos, load tests and offline runs. The seed file is a JCDecaux v1
 * station list (names, positions, capacities, starting counts). Every
 * record is labelled: simulated = true and source_format "simulate".
 *
 * The model: each station is a "home" or a "work" station. Rentals and
 * returns arrive as Poisson events whose rate follows the time of day
 * (morning and evening commute peaks, quiet nights); in the morning bikes
 * flow from homes to work, in the evening back. About a third of bikes
 * are electric. Now and then a station closes for a while. The hour of
 * day is local time in the source's tz= zone (velo_tz: never the
 * process's TZ). Deterministic for a given seed and sequence of poll
 * times.
 *
 * Virtual time (start=, step=, polls=): poll k observes the instant
 * start + k * step instead of the wall clock (fetched_at_ms and
 * last_reported_ms are that instant), and after polls=N polls the source
 * is finished. Same seed, seed file and options: byte-identical records,
 * so a whole simulated day runs in seconds and can be a golden test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload_parsers.h"
#include "source_kind.h"
#include "velo/clock.h"
#include "velo/file.h"
#include "velo/log.h"
#include "velo/tz.h"

struct sim_station {
    uint32_t capacity, bikes, electric;
    bool     work, closed;
    int64_t  reported_ms, closed_until_ms;
};

struct sim {
    struct ingest_batch seed; /* names and positions, owned */
    struct sim_station *st;
    uint64_t            rng;
    int64_t             last_ms; /* time of the previous step */
    velo_tz            *tz;      /* the system's zone, owned */
    uint32_t            k;       /* polls made (virtual time) */
};

/* splitmix64: small, fast, good enough for a demo. */
static uint64_t
rnd(struct sim *m)
{
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
unit(struct sim *m)
{
    return (double)(rnd(m) >> 11) / 9007199254740992.0;
}

/* Poisson sample (Knuth); lambda stays small here. */
static uint32_t
poisson(struct sim *m, double lambda)
{
    double   l = exp(-lambda), p = 1.0;
    uint32_t k = 0;

    if (lambda <= 0)
        return 0;
    do {
        k++;
        p *= unit(m);
    } while (p > l && k < 1000);
    return k - 1;
}

/* Trips per station per hour at a given local hour (0..23, fractional). */
static double
hourly_rate(double h)
{
    double peak = exp(-pow(h - 8.5, 2) / 2) + exp(-pow(h - 17.5, 2) / 3);

    return 0.5 + 6.0 * peak + (h > 7 && h < 22 ? 1.5 : 0);
}

static int
sim_open(struct ingest_src *s)
{
    struct sim             *m = calloc(1, sizeof(*m));
    struct ingest_parse_ctx pc = {s->spec->system_id, s->spec->virtual_time
                                                          ? s->spec->start_ms
                                                          : velo_now_ms()};
    char                    why[256] = "", *body = NULL;
    size_t                  i, n;
    int                     rv;

    if (m == NULL)
        return VELO_ENOMEM;
    s->kstate = m;
    ingest_batch_init(&m->seed, s->cfg->max_stations);
    m->rng = s->spec->seed;
    /* ingest_sysinfo_check_spec made tz= required and checked it. */
    rv = velo_tz_load(&m->tz, s->spec->tz != NULL ? s->spec->tz : "UTC");
    if (rv == VELO_OK)
        rv = velo_file_read(s->spec->url, s->cfg->max_body_bytes, &body, &n);
    if (rv == VELO_OK)
        rv = ingest_jcdecaux_v1_parse(body, n, &pc, &m->seed, why, sizeof(why));
    free(body);
    if (rv == VELO_OK && m->seed.len == 0)
        rv = VELO_ENOTFOUND;
    if (rv == VELO_OK)
        m->st = calloc(m->seed.len, sizeof(*m->st));
    if (rv == VELO_OK && m->st == NULL)
        rv = VELO_ENOMEM;
    if (rv != VELO_OK) {
        velo_error("simulate.bad_seed", VELO_S("source", s->spec->system_id),
                   VELO_S("file", s->spec->url),
                   VELO_S("reason", why[0] ? why : velo_strerror(rv)));
        return rv;
    }
    for (i = 0; i < m->seed.len; i++) {
        const Velo__V1__StationSnapshot *p = &m->seed.items[i];
        struct sim_station              *t = &m->st[i];
        t->capacity = p->has_capacity && p->capacity > 0 ? p->capacity : 20;
        t->bikes = p->has_bikes_available && p->bikes_available <= t->capacity
                       ? p->bikes_available
                       : t->capacity / 2;
        t->electric = t->bikes / 3;
        t->work = unit(m) < 0.4;
        t->reported_ms = pc.fetched_at_ms;
    }
    m->last_ms = pc.fetched_at_ms;
    return VELO_OK;
}

static void
sim_close(struct ingest_src *s)
{
    struct sim *m = s->kstate;

    if (m == NULL)
        return;
    ingest_batch_fini(&m->seed);
    velo_tz_free(m->tz);
    free(m->st);
    free(m);
    s->kstate = NULL;
}

/* Applies one step of dt_h hours at local hour h to station t. */
static void
step_station(struct sim *m, struct sim_station *t, double h, double dt_h,
             int64_t now)
{
    double rate = hourly_rate(h) * dt_h;
    /* Morning: people ride from homes to work; evening: back. */
    double   to_here = (h < 13) == t->work ? 0.65 : 0.35;
    uint32_t ins = poisson(m, rate * to_here);
    uint32_t outs = poisson(m, rate * (1 - to_here));
    uint32_t b0 = t->bikes;

    if (t->closed) {
        t->closed = now < t->closed_until_ms;
        t->reported_ms = t->closed ? t->reported_ms : now;
        return;
    }
    if (unit(m) < 0.0002 * dt_h * 3600) {
        t->closed = true;
        t->closed_until_ms = now + (int64_t)(600000 + unit(m) * 3000000);
        t->reported_ms = now;
        return;
    }
    t->bikes = t->bikes + ins > t->capacity ? t->capacity : t->bikes + ins;
    t->bikes = outs > t->bikes ? 0 : t->bikes - outs;
    if (t->bikes != b0) {
        t->electric = (uint32_t)lround(t->bikes * (0.25 + 0.1 * unit(m)));
        t->reported_ms = now;
    }
}

static int
emit_station(struct ingest_src *s, struct sim *m, size_t i, int64_t now,
             struct ingest_batch *b)
{
    const Velo__V1__StationSnapshot *p = &m->seed.items[i];
    const struct sim_station        *t = &m->st[i];
    Velo__V1__StationSnapshot       *o;
    int                              rv = ingest_batch_add(b, &o);

    if (rv != VELO_OK)
        return rv;
    o->system_id = ingest_batch_strdup(b, s->spec->system_id);
    o->station_id = ingest_batch_strdup(b, p->station_id);
    o->name = ingest_batch_strdup(b, p->name);
    o->address = ingest_batch_strdup(b, p->address);
    o->source_format = ingest_batch_strdup(b, "simulate");
    o->has_lat = p->has_lat, o->lat = p->lat;
    o->has_lon = p->has_lon, o->lon = p->lon;
    o->has_capacity = 1, o->capacity = t->capacity;
    o->has_bikes_available = 1, o->bikes_available = t->bikes;
    o->has_docks_available = 1, o->docks_available = t->capacity - t->bikes;
    o->has_electric_bikes = 1, o->electric_bikes = t->electric;
    o->has_mechanical_bikes = 1;
    o->mechanical_bikes = t->bikes - t->electric;
    o->has_status = 1;
    o->status = t->closed ? VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED
                          : VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    o->has_is_renting = 1, o->is_renting = !t->closed;
    o->has_is_returning = 1, o->is_returning = !t->closed;
    o->has_last_reported_ms = 1, o->last_reported_ms = t->reported_ms;
    o->has_fetched_at_ms = 1, o->fetched_at_ms = now;
    o->has_simulated = 1, o->simulated = 1;
    return VELO_OK;
}

/* The instant this poll observes: start + k * step in virtual time, else
 * the wall clock. */
static int64_t
sim_instant(const struct ingest_src *s, const struct sim *m)
{
    if (s->spec->virtual_time)
        return s->spec->start_ms + (int64_t)m->k * s->spec->step_ms;
    return velo_now_ms();
}

static void
sim_poll(struct ingest_src *s, int64_t now_ms)
{
    struct sim           *m = s->kstate;
    struct ingest_outcome o = {.retry_after_ms = -1, .url = s->spec->url};
    struct ingest_batch   b;
    struct velo_tz_local  lt;
    int64_t               now = sim_instant(s, m);
    /* At least 1 ms per step: polls in the same millisecond (tests, speed
     * runs) still move the simulation forward. speed= scales wall time;
     * virtual time is already the model's time. */
    double dt_h = (double)(now > m->last_ms ? now - m->last_ms : 1) / 3.6e6 *
                  (s->spec->virtual_time ? 1.0 : s->spec->speed);
    double h;
    size_t i;
    int    rv = VELO_OK;

    (void)now_ms;
    velo_tz_local(m->tz, now, &lt);
    h = lt.hour + lt.minute / 60.0;
    m->last_ms = now;
    ingest_batch_init(&b, s->cfg->max_stations);
    for (i = 0; i < m->seed.len && rv == VELO_OK; i++) {
        step_station(m, &m->st[i], h, dt_h, now);
        rv = emit_station(s, m, i, now, &b);
    }
    o.err = rv;
    o.kind = rv == VELO_OK ? "ok" : "too_big";
    snprintf(o.detail, sizeof(o.detail), "%s", velo_strerror(rv));
    m->k++;
    /* Before done: the scheduler then sees the source has nothing left. */
    s->finished =
        s->spec->virtual_time && s->spec->polls > 0 && m->k >= s->spec->polls;
    s->done(s, &o, rv == VELO_OK ? &b : NULL);
    ingest_batch_fini(&b);
}

const struct ingest_src_ops ingest_simulate_ops = {sim_open, sim_poll,
                                                   sim_close};
