/* service.c: the StationService handlers (see service.h). */
#include "service.h"

#include <stdio.h>
#include <string.h>

#include "query.h"
#include "velo/arena.h"
#include "velo/clock.h"
#include "velo/utf8.h"
#include "velo/v1/stream.pb-c.h"

#define ST_OK VELO__V1__RPC_STATUS__RPC_OK
#define ST_INVALID VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT
#define ST_NOT_FOUND VELO__V1__RPC_STATUS__RPC_NOT_FOUND
#define ST_INTERNAL VELO__V1__RPC_STATUS__RPC_INTERNAL
#define ST_UNAVAILABLE VELO__V1__RPC_STATUS__RPC_UNAVAILABLE

static int64_t
svc_now(const struct stream_service *svc)
{
    return svc->now_ms != NULL ? svc->now_ms() : velo_now_ms();
}

/* Data methods wait for the rebuild: a partial state would answer
 * "no such station" for stations that exist. */
static bool
svc_serving(struct stream_service *svc, struct velo_rpc_call *call)
{
    if (stream_progress_serving(svc->progress))
        return true;
    snprintf(call->error, sizeof(call->error), "state rebuilding");
    return false;
}

/* Hands the reply and its arena to the RPC layer. */
static int
reply_set(struct velo_rpc_call *call, ProtobufCMessage *reply, velo_arena *a)
{
    call->reply = reply;
    call->reply_free = velo_arena_reply_free;
    call->reply_free_ctx = a;
    return ST_OK;
}

static int
out_of_memory(struct velo_rpc_call *call, velo_arena *a)
{
    velo_arena_free(a);
    snprintf(call->error, sizeof(call->error), "out of memory");
    return ST_INTERNAL;
}

/* Copies *dst = strdup(src) into a; false when memory ran out. */
static bool
dup_into(velo_arena *a, char **dst, const char *src)
{
    *dst = velo_arena_strdup(a, src);
    return src == NULL || *dst != NULL;
}

/* A deep copy of s in a, for a reply that outlives the read lock. */
static Velo__V1__StationSnapshot *
snapshot_copy(velo_arena *a, const Velo__V1__StationSnapshot *s)
{
    Velo__V1__StationSnapshot *c = velo_arena_alloc(a, sizeof(*c));

    if (c == NULL)
        return NULL;
    *c = *s;
    c->base.n_unknown_fields = 0; /* not ours to forward */
    c->base.unknown_fields = NULL;
    if (!dup_into(a, &c->system_id, s->system_id) ||
        !dup_into(a, &c->station_id, s->station_id) ||
        !dup_into(a, &c->name, s->name) ||
        !dup_into(a, &c->address, s->address) ||
        !dup_into(a, &c->source_format, s->source_format))
        return NULL;
    return c;
}

/* The StationState of e at now, copied into a. Locks: read lock held. */
static Velo__V1__StationState *
state_copy(velo_arena *a, const struct stream_service *svc,
           const struct stream_entry *e, int64_t now_ms)
{
    Velo__V1__StationState *ss = velo_arena_alloc(a, sizeof(*ss));

    if (ss == NULL)
        return NULL;
    velo__v1__station_state__init(ss);
    stream_state_derive(svc->st, e, now_ms, ss);
    ss->snapshot = snapshot_copy(a, e->snap);
    return ss->snapshot != NULL ? ss : NULL;
}

/* ---- ListSystems ---- */

struct systems_fill {
    velo_arena                 *a;
    Velo__V1__ListSystemsReply *r;
    size_t                      cap;
    bool                        oom;
    stream_systems             *systems;
};

static void
systems_count(void *ctx, const struct stream_system *sys)
{
    (void)sys;
    ((struct systems_fill *)ctx)->cap++;
}

static void
systems_add(void *ctx, const struct stream_system *sys)
{
    struct systems_fill     *f = ctx;
    Velo__V1__SystemSummary *s = velo_arena_alloc(f->a, sizeof(*s));

    if (s == NULL || f->r->n_systems >= f->cap) {
        f->oom = true;
        return;
    }
    velo__v1__system_summary__init(s);
    f->oom |= !dup_into(f->a, &s->system_id, sys->system_id) ||
              !dup_into(f->a, &s->source_format, sys->source_format);
    s->has_stations = s->has_bikes_available = s->has_docks_available = true;
    s->stations = sys->stations;
    s->bikes_available = sys->bikes;
    s->docks_available = sys->docks;
    s->has_last_fetched_ms = s->has_simulated = true;
    s->last_fetched_ms = sys->last_fetched_ms;
    s->simulated = sys->simulated;
    if (f->systems != NULL)
        s->info = stream_systems_get(f->systems, sys->system_id, f->a, &f->oom);
    f->r->systems[f->r->n_systems++] = s;
}

static int
h_list_systems(void *ctx, struct velo_rpc_call *call)
{
    struct stream_service *svc = ctx;
    struct systems_fill    f = {0};

    if (!svc_serving(svc, call))
        return ST_UNAVAILABLE;
    f.systems = svc->systems;
    f.a = velo_arena_new();
    f.r = f.a != NULL ? velo_arena_alloc(f.a, sizeof(*f.r)) : NULL;
    if (f.r == NULL)
        return out_of_memory(call, f.a);
    velo__v1__list_systems_reply__init(f.r);
    stream_state_rdlock(svc->st);
    stream_state_systems(svc->st, systems_count, &f);
    f.r->systems = velo_arena_alloc(f.a, f.cap * sizeof(*f.r->systems));
    if (f.r->systems != NULL || f.cap == 0)
        stream_state_systems(svc->st, systems_add, &f);
    else
        f.oom = true;
    stream_state_unlock(svc->st);
    if (f.oom)
        return out_of_memory(call, f.a);
    return reply_set(call, &f.r->base, f.a);
}

/* ---- ListStations ---- */

/* Fills r from the page. Locks: read lock held. */
static bool
stations_fill(velo_arena *a, const struct stream_service *svc,
              const struct stream_query *q, const struct stream_query_hit *hits,
              const struct stream_query_page *page,
              Velo__V1__ListStationsReply    *r)
{
    int64_t now = svc_now(svc);
    size_t  i;

    r->stations = velo_arena_alloc(a, page->n * sizeof(*r->stations));
    if (q->near)
        r->distance_m = velo_arena_alloc(a, page->n * sizeof(double));
    if (page->n > 0 && (r->stations == NULL || (q->near && !r->distance_m)))
        return false;
    for (i = 0; i < page->n; i++) {
        r->stations[i] = state_copy(a, svc, hits[i].e, now);
        if (r->stations[i] == NULL)
            return false;
        if (q->near)
            r->distance_m[i] = hits[i].dist_m;
    }
    r->n_stations = page->n;
    r->n_distance_m = q->near ? page->n : 0;
    return true;
}

static bool
cursor_set(velo_arena *a, const struct stream_query *q,
           const struct stream_query_hit  *hits,
           const struct stream_query_page *page, Velo__V1__ListStationsReply *r)
{
    char cur[VELO_CURSOR_TEXT_MAX];

    r->has_total = true;
    r->total = page->total;
    if (!page->has_next || page->n == 0)
        return true;
    /* Keys are bounded (RECORD_KEY_MAX), so they always fit. */
    if (stream_query_cursor(q, &hits[page->n - 1], cur, sizeof(cur)) != VELO_OK)
        return false;
    r->next_cursor = velo_arena_strdup(a, cur);
    return r->next_cursor != NULL;
}

struct sys_find {
    const char *id;
    bool        found;
};

static void
sys_find_one(void *ctx, const struct stream_system *sys)
{
    struct sys_find *f = ctx;

    f->found = f->found || strcmp(sys->system_id, f->id) == 0;
}

/* True when the state holds a station of system id. Locks: read lock
 * held. Only asked when a listing is empty (it walks every system). */
static bool
system_known(const struct stream_service *svc, const char *id)
{
    struct sys_find f = {id, false};

    stream_state_systems(svc->st, sys_find_one, &f);
    return f.found;
}

/* ListStations of a system the state does not hold is NOT_FOUND "unknown
 * system", not an empty page: a typo in a system id must not read as "no
 * station matches the filters". */
static int
h_list_stations(void *ctx, struct velo_rpc_call *call)
{
    struct stream_service               *svc = ctx;
    const Velo__V1__ListStationsRequest *rq = (const void *)call->req;
    Velo__V1__ListStationsReply         *r;
    struct stream_query_hit             *hits;
    struct stream_query_page             page;
    struct stream_query                  q;
    velo_arena                          *a;
    bool                                 ok, unknown;

    if (!svc_serving(svc, call))
        return ST_UNAVAILABLE;
    if (stream_query_parse(&q, rq, call->error, sizeof(call->error)) != VELO_OK)
        return ST_INVALID;
    a = velo_arena_new();
    r = a != NULL ? velo_arena_alloc(a, sizeof(*r)) : NULL;
    hits = r != NULL ? velo_arena_alloc(a, q.limit * sizeof(*hits)) : NULL;
    if (hits == NULL)
        return out_of_memory(call, a);
    velo__v1__list_stations_reply__init(r);
    stream_state_rdlock(svc->st);
    /* The cursor is made under the lock: it reads the last hit's key. */
    ok = stream_query_run(svc->st, &q, hits, &page) == VELO_OK &&
         stations_fill(a, svc, &q, hits, &page, r) &&
         cursor_set(a, &q, hits, &page, r);
    unknown = ok && page.total == 0 && q.system_id != NULL &&
              !system_known(svc, q.system_id);
    stream_state_unlock(svc->st);
    if (!ok)
        return out_of_memory(call, a);
    if (unknown) {
        velo_arena_free(a);
        snprintf(call->error, sizeof(call->error), "unknown system %.200s",
                 q.system_id);
        return ST_NOT_FOUND;
    }
    return reply_set(call, &r->base, a);
}

/* ---- GetStation ---- */

/* "no station SYS/ID": the peer chose both strings, so each is bounded,
 * cut on a character boundary and repaired (the text reaches the reply
 * and the log). */
static int
not_found(struct velo_rpc_call *call, const Velo__V1__GetStationRequest *rq)
{
    char sys[100], sta[100];

    velo_utf8_clip(sys, sizeof(sys), rq->system_id, 64);
    velo_utf8_clip(sta, sizeof(sta), rq->station_id, 64);
    snprintf(call->error, sizeof(call->error), "no station %s/%s", sys, sta);
    return ST_NOT_FOUND;
}

static int
h_get_station(void *ctx, struct velo_rpc_call *call)
{
    struct stream_service             *svc = ctx;
    const Velo__V1__GetStationRequest *rq = (const void *)call->req;
    const struct stream_entry         *e;
    Velo__V1__StationState            *ss = NULL;
    velo_arena                        *a;

    if (!svc_serving(svc, call))
        return ST_UNAVAILABLE;
    if (rq->system_id == NULL || rq->station_id == NULL) {
        snprintf(call->error, sizeof(call->error),
                 "system_id and station_id are required");
        return ST_INVALID;
    }
    a = velo_arena_new();
    if (a == NULL)
        return out_of_memory(call, a);
    stream_state_rdlock(svc->st);
    e = stream_state_find(svc->st, rq->system_id, rq->station_id);
    if (e != NULL)
        ss = state_copy(a, svc, e, svc_now(svc));
    stream_state_unlock(svc->st);
    if (e == NULL) {
        velo_arena_free(a);
        return not_found(call, rq);
    }
    if (ss == NULL)
        return out_of_memory(call, a);
    return reply_set(call, &ss->base, a);
}

/* ---- Health ---- */

static int
h_health(void *ctx, struct velo_rpc_call *call)
{
    struct stream_service *svc = ctx;
    Velo__V1__HealthReply *r;
    velo_arena            *a;
    char                   why[128];
    int64_t                lag;

    a = velo_arena_new();
    r = a != NULL ? velo_arena_alloc(a, sizeof(*r)) : NULL;
    if (r == NULL)
        return out_of_memory(call, a);
    velo__v1__health_reply__init(r);
    r->has_ready = true;
    r->ready = stream_progress_ready(svc->progress, svc->max_ready_lag, why,
                                     sizeof(why));
    if (!r->ready && (r->reason = velo_arena_strdup(a, why)) == NULL)
        return out_of_memory(call, a);
    stream_state_rdlock(svc->st);
    r->stations = stream_state_count(svc->st);
    stream_state_unlock(svc->st);
    r->has_stations = true;
    lag = atomic_load(&svc->progress->lag);
    r->has_consumer_lag = lag >= 0;
    r->consumer_lag = lag;
    if (!dup_into(a, &r->instance, svc->instance))
        return out_of_memory(call, a);
    return reply_set(call, &r->base, a);
}

/* In velo__v1__station_service__descriptor's method order (the .proto's
 * declaration order); service_test.c checks it against the descriptor. */
static const velo_rpc_handler stream_handlers[] = {
    h_list_systems,
    h_list_stations,
    h_get_station,
    h_health,
};

struct velo_rpc_service
stream_service_rpc(struct stream_service *svc)
{
    struct velo_rpc_service s = {
        .desc = &velo__v1__station_service__descriptor,
        .handlers = stream_handlers,
        .ctx = svc,
    };

    return s;
}
