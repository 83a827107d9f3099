/* demo_service.c: synthetic StationService for velo-bench-rpc. */
#include "demo_service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/parse.h"
#include "velo/v1/stream.pb-c.h"

#define DEMO_LIMIT_DEFAULT 100
#define DEMO_LIMIT_MAX 5000

struct demo_station {
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    char                      id[12], name[24];
};

struct demo_service {
    struct demo_station       *s;
    uint32_t                   n;
    Velo__V1__SystemSummary    sys;
    Velo__V1__SystemSummary   *sys_list[1];
    Velo__V1__ListSystemsReply systems;
    Velo__V1__HealthReply      health;
};

/* One candidate of a ListStations answer. */
struct demo_hit {
    double                  d;
    Velo__V1__StationState *st;
};

/* The list reply, its arrays and hits in one block: one free. */
struct demo_list {
    Velo__V1__ListStationsReply r;
    struct demo_hit            *hits;
};

static void
demo_station_init(struct demo_station *ds, uint32_t i)
{
    Velo__V1__StationSnapshot *s = &ds->snap;

    velo__v1__station_state__init(&ds->st);
    velo__v1__station_snapshot__init(s);
    snprintf(ds->id, sizeof(ds->id), "%u", i);
    snprintf(ds->name, sizeof(ds->name), "Demo %u", i);
    s->system_id = (char *)DEMO_SYSTEM;
    s->station_id = ds->id;
    s->name = ds->name;
    s->has_lat = s->has_lon = true;
    s->lat = 48.80 + (double)(i / 100) * 0.002;
    s->lon = 2.25 + (double)(i % 100) * 0.003;
    s->has_capacity = s->has_bikes_available = s->has_docks_available = true;
    s->capacity = 20;
    s->bikes_available = i % 21;
    s->docks_available = 20 - i % 21;
    s->has_status = true;
    s->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    s->source_format = (char *)"simulate";
    ds->st.snapshot = s;
    ds->st.has_age_s = ds->st.has_stale = true;
}

/* Great-circle distance in metres. */
static double
demo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double r = 6371008.8, p = M_PI / 180.0;
    double a = sin((lat2 - lat1) * p / 2), b = sin((lon2 - lon1) * p / 2);

    return 2 * r * asin(sqrt(a * a + cos(lat1 * p) * cos(lat2 * p) * b * b));
}

static int
demo_get_station(void *ctx, struct velo_rpc_call *call)
{
    demo_service                      *d = ctx;
    const Velo__V1__GetStationRequest *rq = (const void *)call->req;
    uint32_t                           i;

    if (rq->system_id == NULL || strcmp(rq->system_id, DEMO_SYSTEM) != 0 ||
        rq->station_id == NULL || velo_parse_u32(rq->station_id, &i) != 0 ||
        i >= d->n) {
        snprintf(call->error, sizeof(call->error), "no such station");
        return VELO__V1__RPC_STATUS__RPC_NOT_FOUND;
    }
    call->reply = &d->s[i].st.base; /* immutable: shared, not freed */
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static int
demo_hit_cmp(const void *a, const void *b)
{
    double x = ((const struct demo_hit *)a)->d;
    double y = ((const struct demo_hit *)b)->d;

    return x < y ? -1 : x > y;
}

static void
demo_list_free(ProtobufCMessage *reply, void *ctx)
{
    (void)ctx;
    free(reply); /* struct demo_list starts the block */
}

/* Collects the matching stations with their distance (0 without near). */
static size_t
demo_match(const demo_service *d, const Velo__V1__ListStationsRequest *rq,
           struct demo_hit *hits)
{
    bool     near = rq->has_near_lat && rq->has_near_lon;
    uint32_t i;
    size_t   n = 0;
    double   dist;

    if (rq->system_id != NULL && strcmp(rq->system_id, DEMO_SYSTEM) != 0)
        return 0;
    for (i = 0; i < d->n; i++) {
        const Velo__V1__StationSnapshot *s = &d->s[i].snap;

        if (rq->has_min_bikes && s->bikes_available < rq->min_bikes)
            continue;
        dist = near
                   ? demo_distance_m(rq->near_lat, rq->near_lon, s->lat, s->lon)
                   : 0;
        if (near && rq->has_radius_m && dist > rq->radius_m)
            continue;
        hits[n].d = dist;
        hits[n++].st = (Velo__V1__StationState *)&d->s[i].st;
    }
    if (near)
        qsort(hits, n, sizeof(*hits), demo_hit_cmp);
    return n;
}

static int
demo_list_stations(void *ctx, struct velo_rpc_call *call)
{
    demo_service                        *d = ctx;
    const Velo__V1__ListStationsRequest *rq = (const void *)call->req;
    size_t limit = rq->has_limit ? rq->limit : DEMO_LIMIT_DEFAULT;
    size_t n, i,
        each = sizeof(struct demo_hit) + sizeof(void *) + sizeof(double);
    struct demo_list *l;

    if (limit > DEMO_LIMIT_MAX) {
        snprintf(call->error, sizeof(call->error), "limit over %d",
                 DEMO_LIMIT_MAX);
        return VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT;
    }
    l = malloc(sizeof(*l) + d->n * each);
    if (l == NULL)
        return VELO__V1__RPC_STATUS__RPC_INTERNAL;
    velo__v1__list_stations_reply__init(&l->r);
    l->hits = (struct demo_hit *)(l + 1);
    n = demo_match(d, rq, l->hits);
    l->r.stations = (Velo__V1__StationState **)(l->hits + d->n);
    l->r.distance_m = (double *)(l->r.stations + d->n);
    l->r.n_stations = n < limit ? n : limit;
    for (i = 0; i < l->r.n_stations; i++) {
        l->r.stations[i] = l->hits[i].st;
        l->r.distance_m[i] = l->hits[i].d;
    }
    if (rq->has_near_lat && rq->has_near_lon)
        l->r.n_distance_m = l->r.n_stations;
    l->r.has_total = true;
    l->r.total = (uint32_t)n;
    call->reply = &l->r.base;
    call->reply_free = demo_list_free;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static int
demo_list_systems(void *ctx, struct velo_rpc_call *call)
{
    demo_service *d = ctx;

    call->reply = &d->systems.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static int
demo_health(void *ctx, struct velo_rpc_call *call)
{
    demo_service *d = ctx;

    call->reply = &d->health.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static const velo_rpc_handler demo_handlers[] = {
    demo_list_systems, demo_list_stations, demo_get_station, demo_health};

int
demo_service_new(demo_service **out, uint32_t nstations)
{
    demo_service *d;
    uint32_t      i;

    if (nstations == 0 || nstations > 1000000)
        return VELO_EINVAL;
    d = calloc(1, sizeof(*d));
    if (d == NULL || (d->s = calloc(nstations, sizeof(*d->s))) == NULL) {
        free(d);
        return VELO_ENOMEM;
    }
    d->n = nstations;
    for (i = 0; i < nstations; i++)
        demo_station_init(&d->s[i], i);
    velo__v1__system_summary__init(&d->sys);
    d->sys.system_id = (char *)DEMO_SYSTEM;
    d->sys.has_stations = d->sys.has_simulated = true;
    d->sys.stations = nstations;
    d->sys.simulated = true;
    d->sys_list[0] = &d->sys;
    velo__v1__list_systems_reply__init(&d->systems);
    d->systems.systems = d->sys_list;
    d->systems.n_systems = 1;
    velo__v1__health_reply__init(&d->health);
    d->health.has_ready = d->health.ready = d->health.has_stations = true;
    d->health.stations = nstations;
    *out = d;
    return VELO_OK;
}

struct velo_rpc_service
demo_service_rpc(demo_service *d)
{
    struct velo_rpc_service svc = {
        .desc = &velo__v1__station_service__descriptor,
        .handlers = demo_handlers,
        .ctx = d,
    };

    return svc;
}

void
demo_service_free(demo_service *d)
{
    if (d == NULL)
        return;
    free(d->s);
    free(d);
}
