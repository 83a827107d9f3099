/* rpc_test_util.h: a tiny StationService for the RPC tests and the frame
 * fuzzer (header-only: every *_test.c is its own executable).
 *
 * - GetStation: one known station (RTS_SYSTEM / RTS_STATION) as a heap
 *   StationState freed through reply_free; anything else RPC_NOT_FOUND
 *   with "no station <system>/<station>".
 * - ListStations: `limit` synthetic stations (default 3), so a test can
 *   ask for a reply larger than a frame limit.
 * - ListSystems: a reply in storage the service owns (no reply_free);
 *   rts_init sets it up.
 * - Health: RPC_UNAVAILABLE with "rebuilding" while rts.rebuilding is set,
 *   else ready, or RPC_INTERNAL with "broken on purpose" while rts.broken.
 * Handlers count their calls, so tests can tell whether one ran. */
#ifndef RPC_TEST_UTIL_H
#define RPC_TEST_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/rpc.h"
#include "velo/v1/stream.pb-c.h"

#define RTS_SYSTEM "sysA"
#define RTS_STATION "42"
#define RTS_NAME "Place de la Gare"
#define RTS_BIKES 7u

struct rts {
    atomic_int      get_calls;
    atomic_int      list_calls;
    atomic_int      health_calls;
    _Atomic int64_t last_deadline_ms; /* GetStation's call->deadline_ms */
    atomic_bool     rebuilding;
    atomic_bool     broken;
    /* ListSystems' reply: storage the service owns, set up by rts_init. */
    Velo__V1__SystemSummary    sys;
    Velo__V1__SystemSummary   *sys_list[1];
    Velo__V1__ListSystemsReply systems;
};

/* Call before serving: the ListSystems reply is read-only afterwards. */
static inline void
rts_init(struct rts *t)
{
    memset(t, 0, sizeof(*t));
    velo__v1__system_summary__init(&t->sys);
    t->sys.system_id = (char *)RTS_SYSTEM;
    t->sys.has_stations = true;
    t->sys.stations = 1;
    t->sys_list[0] = &t->sys;
    velo__v1__list_systems_reply__init(&t->systems);
    t->systems.systems = t->sys_list;
    t->systems.n_systems = 1;
}

/* Fills a StationState for (system, station) in storage the caller owns. */
static inline void
rts_state_fill(Velo__V1__StationState *st, Velo__V1__StationSnapshot *snap,
               const char *system, const char *station, uint32_t bikes)
{
    velo__v1__station_state__init(st);
    velo__v1__station_snapshot__init(snap);
    snap->system_id = (char *)system;
    snap->station_id = (char *)station;
    snap->name = (char *)RTS_NAME;
    snap->has_bikes_available = true;
    snap->bikes_available = bikes;
    snap->has_lat = snap->has_lon = true;
    snap->lat = 48.8443;
    snap->lon = 2.3744;
    st->snapshot = snap;
    st->has_age_s = true;
    st->age_s = 12;
    st->has_stale = true;
    st->stale = false;
}

/* A StationState and its snapshot in one allocation, freed by reply_free. */
struct rts_state_box {
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
};

static inline void
rts_plain_free(ProtobufCMessage *reply, void *ctx)
{
    (void)ctx;
    free(reply); /* the message starts its allocation */
}

static inline int
rts_get_station(void *ctx, struct velo_rpc_call *call)
{
    struct rts                        *t = ctx;
    const Velo__V1__GetStationRequest *rq = (const void *)call->req;
    struct rts_state_box              *box;

    atomic_fetch_add(&t->get_calls, 1);
    atomic_store(&t->last_deadline_ms, call->deadline_ms);
    if (rq->system_id == NULL || rq->station_id == NULL ||
        strcmp(rq->system_id, RTS_SYSTEM) != 0 ||
        strcmp(rq->station_id, RTS_STATION) != 0) {
        snprintf(call->error, sizeof(call->error), "no station %.64s/%.64s",
                 rq->system_id ? rq->system_id : "",
                 rq->station_id ? rq->station_id : "");
        return VELO__V1__RPC_STATUS__RPC_NOT_FOUND;
    }
    box = calloc(1, sizeof(*box));
    if (box == NULL)
        return VELO__V1__RPC_STATUS__RPC_INTERNAL;
    rts_state_fill(&box->st, &box->snap, RTS_SYSTEM, RTS_STATION, RTS_BIKES);
    call->reply = &box->st.base;
    call->reply_free = rts_plain_free;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static inline int
rts_list_stations(void *ctx, struct velo_rpc_call *call)
{
    struct rts                          *t = ctx;
    const Velo__V1__ListStationsRequest *rq = (const void *)call->req;
    Velo__V1__ListStationsReply         *r;
    struct rts_state_box                *boxes;
    size_t                               i, n;

    atomic_fetch_add(&t->list_calls, 1);
    n = rq->has_limit ? rq->limit : 3;
    if (n > 2000) {
        snprintf(call->error, sizeof(call->error), "limit over 2000");
        return VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT;
    }
    /* One block: the reply, n pointers, n boxes. */
    r = calloc(1, sizeof(*r) + n * (sizeof(void *) + sizeof(*boxes)));
    if (r == NULL)
        return VELO__V1__RPC_STATUS__RPC_INTERNAL;
    velo__v1__list_stations_reply__init(r);
    r->stations = (Velo__V1__StationState **)(r + 1);
    boxes = (struct rts_state_box *)(r->stations + n);
    for (i = 0; i < n; i++) {
        rts_state_fill(&boxes[i].st, &boxes[i].snap, RTS_SYSTEM, RTS_STATION,
                       (uint32_t)i);
        r->stations[i] = &boxes[i].st;
    }
    r->n_stations = n;
    r->has_total = true;
    r->total = (uint32_t)n;
    call->reply = &r->base;
    call->reply_free = rts_plain_free; /* one block: a plain free */
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static inline int
rts_list_systems(void *ctx, struct velo_rpc_call *call)
{
    struct rts *t = ctx;

    call->reply = &t->systems.base; /* ours: no reply_free */
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static inline int
rts_health(void *ctx, struct velo_rpc_call *call)
{
    struct rts            *t = ctx;
    Velo__V1__HealthReply *r;

    atomic_fetch_add(&t->health_calls, 1);
    if (atomic_load(&t->rebuilding)) {
        snprintf(call->error, sizeof(call->error), "rebuilding");
        return VELO__V1__RPC_STATUS__RPC_UNAVAILABLE;
    }
    if (atomic_load(&t->broken)) {
        snprintf(call->error, sizeof(call->error), "broken on purpose");
        return VELO__V1__RPC_STATUS__RPC_INTERNAL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return VELO__V1__RPC_STATUS__RPC_INTERNAL;
    velo__v1__health_reply__init(r);
    r->has_ready = true;
    r->ready = true;
    call->reply = &r->base;
    call->reply_free = rts_plain_free; /* a plain free */
    return VELO__V1__RPC_STATUS__RPC_OK;
}

/* In descriptor order: ListSystems, ListStations, GetStation, Health. */
static const velo_rpc_handler rts_handlers[] = {
    rts_list_systems, rts_list_stations, rts_get_station, rts_health};

static inline struct velo_rpc_service
rts_service(struct rts *t)
{
    struct velo_rpc_service svc = {
        .desc = &velo__v1__station_service__descriptor,
        .handlers = rts_handlers,
        .ctx = t,
    };

    return svc;
}

/* A service nobody serves, "test.Other/Ping" (Health's messages): what a
 * client built against another API would call. */
static const ProtobufCMethodDescriptor rts_other_methods[] = {
    {"Ping", &velo__v1__health_request__descriptor,
     &velo__v1__health_reply__descriptor}};
static const unsigned                   rts_other_idx[] = {0};
static const ProtobufCServiceDescriptor rts_other_desc = {
    PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC,
    "test.Other",
    "Other",
    "Test__Other",
    "test",
    1,
    rts_other_methods,
    rts_other_idx};

#endif
