/* fakestream_test_util.h: a small in-process StationService (a real
 * velo_rpc_server on tcp://127.0.0.1:0) for veloctl's command tests, plus
 * helpers to run a command line and capture its output. Header-only:
 * every *_test.c is its own executable.
 *
 * The service holds FS_N stations of system FS_SYSTEM with ids "1".."5":
 * - ListStations: NOT_FOUND "unknown system" for another system; pages
 *   them FS_PAGE at a time (or `limit`), with the
 *   offset as cursor, total FS_N, and distance_m (100 m per index) when
 *   near_* is set. With fs.loop set, every page repeats the same cursor.
 * - GetStation knows FS_SYSTEM/"1".."5", else RPC_NOT_FOUND.
 * - ListSystems: FS_SYSTEM. Health: ready unless fs.not_ready.
 * Handlers count their calls. */
#ifndef FAKESTREAM_TEST_UTIL_H
#define FAKESTREAM_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "cmd.h"
#include "velo/parse.h"
#include "velo/rpc.h"
#include "velo/v1/stream.pb-c.h"

#define FS_SYSTEM "demo:paris"
#define FS_N 5
#define FS_PAGE 2

struct fs {
    Velo__V1__StationState     st[FS_N];
    Velo__V1__StationSnapshot  snap[FS_N];
    char                       ids[FS_N][4];
    Velo__V1__SystemSummary    sys;
    Velo__V1__SystemSummary   *sys_list[1];
    Velo__V1__ListSystemsReply systems;
    atomic_int                 list_calls;
    atomic_bool                loop, not_ready;
    velo_rpc_server           *srv;
};

/* Station i: i=0 a GBFS station with the e-bike split, the others like a
 * JCDecaux v1 source (no split, no capacity). */
static inline void
fs_station_fill(struct fs *f, int i)
{
    Velo__V1__StationSnapshot *s = &f->snap[i];

    velo__v1__station_snapshot__init(s);
    velo__v1__station_state__init(&f->st[i]);
    snprintf(f->ids[i], sizeof(f->ids[i]), "%d", i + 1);
    s->system_id = FS_SYSTEM;
    s->station_id = f->ids[i];
    s->name = i == 0 ? "Gare de l\xe2\x80\x99"
                       "Est \xe2\x80\x94 Rue du Faubourg Saint-Martin"
                     : "Bastille";
    s->has_bikes_available = s->has_docks_available = true;
    s->bikes_available = (uint32_t)(3 + i);
    s->docks_available = 10;
    s->has_status = true;
    s->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    s->has_lat = s->has_lon = true;
    s->lat = 48.87 + i * 0.001;
    s->lon = 2.35;
    if (i == 0) {
        s->has_mechanical_bikes = s->has_electric_bikes = true;
        s->mechanical_bikes = 2;
        s->electric_bikes = 1;
        s->has_capacity = true;
        s->capacity = 13;
    }
    f->st[i].snapshot = s;
    f->st[i].has_age_s = true;
    f->st[i].age_s = 30;
}

static inline void
fs_reply_free(ProtobufCMessage *reply, void *ctx)
{
    Velo__V1__ListStationsReply *r = (Velo__V1__ListStationsReply *)reply;

    (void)ctx;
    free(r->stations);
    free(r->distance_m);
    free(r->next_cursor);
    free(r);
}

static inline int
fs_list_stations(void *ctx, struct velo_rpc_call *call)
{
    struct fs                           *f = ctx;
    const Velo__V1__ListStationsRequest *rq = (const void *)call->req;
    Velo__V1__ListStationsReply         *r;
    uint32_t                             off = 0, lim, i;

    atomic_fetch_add(&f->list_calls, 1);
    if (rq->system_id != NULL && strcmp(rq->system_id, FS_SYSTEM) != 0) {
        snprintf(call->error, sizeof(call->error), "unknown system %s",
                 rq->system_id); /* as velo-stream answers */
        return VELO__V1__RPC_STATUS__RPC_NOT_FOUND;
    }
    if (rq->cursor != NULL && velo_parse_u32(rq->cursor, &off) != VELO_OK) {
        snprintf(call->error, sizeof(call->error), "bad cursor");
        return VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT;
    }
    lim = rq->has_limit && rq->limit < FS_PAGE ? rq->limit : FS_PAGE;
    r = calloc(1, sizeof(*r));
    velo__v1__list_stations_reply__init(r);
    r->stations = calloc(FS_PAGE, sizeof(*r->stations));
    r->distance_m = calloc(FS_PAGE, sizeof(*r->distance_m));
    for (i = off; i < FS_N && i < off + lim; i++) {
        r->distance_m[r->n_stations] = 100.0 * i;
        r->stations[r->n_stations++] = &f->st[i];
    }
    r->n_distance_m = rq->has_near_lat ? r->n_stations : 0;
    r->has_total = true;
    r->total = FS_N;
    if (i < FS_N || atomic_load(&f->loop)) {
        r->next_cursor = malloc(16);
        snprintf(r->next_cursor, 16, "%u", atomic_load(&f->loop) ? 0 : i);
    }
    call->reply = &r->base;
    call->reply_free = fs_reply_free;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static inline int
fs_get_station(void *ctx, struct velo_rpc_call *call)
{
    struct fs                         *f = ctx;
    const Velo__V1__GetStationRequest *rq = (const void *)call->req;
    uint32_t                           id;

    if (rq->system_id != NULL && strcmp(rq->system_id, FS_SYSTEM) == 0 &&
        rq->station_id != NULL &&
        velo_parse_u32(rq->station_id, &id) == VELO_OK && id >= 1 &&
        id <= FS_N) {
        call->reply = &f->st[id - 1].base; /* ours: no reply_free */
        return VELO__V1__RPC_STATUS__RPC_OK;
    }
    snprintf(call->error, sizeof(call->error), "no such station");
    return VELO__V1__RPC_STATUS__RPC_NOT_FOUND;
}

static inline int
fs_list_systems(void *ctx, struct velo_rpc_call *call)
{
    struct fs *f = ctx;

    call->reply = &f->systems.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static inline void
fs_plain_free(ProtobufCMessage *reply, void *ctx)
{
    (void)ctx;
    free(reply);
}

static inline int
fs_health(void *ctx, struct velo_rpc_call *call)
{
    struct fs             *f = ctx;
    Velo__V1__HealthReply *r = calloc(1, sizeof(*r));

    velo__v1__health_reply__init(r);
    r->has_ready = r->has_stations = true;
    r->ready = !atomic_load(&f->not_ready);
    r->reason = r->ready ? NULL : "consumer lag 9000";
    r->stations = FS_N;
    r->instance = "fake-1";
    call->reply = &r->base;
    call->reply_free = fs_plain_free;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

/* In descriptor order: ListSystems, ListStations, GetStation, Health. */
static const velo_rpc_handler fs_handlers[] = {
    fs_list_systems, fs_list_stations, fs_get_station, fs_health};

/* Fills the data and starts serving; the URL is velo_rpc_server_url. */
static inline int
fs_start(struct fs *f)
{
    struct velo_rpc_service    svc = {&velo__v1__station_service__descriptor,
                                      fs_handlers, f};
    struct velo_rpc_server_cfg cfg = {"tcp://127.0.0.1:0", &svc, 1};
    int                        i;

    memset(f, 0, sizeof(*f));
    for (i = 0; i < FS_N; i++)
        fs_station_fill(f, i);
    velo__v1__system_summary__init(&f->sys);
    f->sys.system_id = FS_SYSTEM;
    f->sys.has_stations = true;
    f->sys.stations = FS_N;
    f->sys_list[0] = &f->sys;
    velo__v1__list_systems_reply__init(&f->systems);
    f->systems.systems = f->sys_list;
    f->systems.n_systems = 1;
    return velo_rpc_server_start(&f->srv, &cfg);
}

static inline const char *
fs_url(const struct fs *f)
{
    return velo_rpc_server_url(f->srv);
}

static inline void
fs_stop(struct fs *f)
{
    velo_rpc_server_stop(f->srv);
}

/* A TCP port nothing listens on: bound, read, closed. */
static inline int
fs_free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t          len = sizeof(sa);
    int                fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* What one veloctl run printed, and its exit status. */
struct fs_run {
    int    exit;
    char  *out, *err; /* free() both */
    size_t out_len, err_len;
};

/* Parses argv (NULL-terminated, argv[0] included; no environment) and runs
 * it with output captured. Returns the parse error as exit 2 like main. */
static inline void
fs_run(struct fs_run *r, const char *const *argv)
{
    static struct veloctl_args a;
    char                       err[512];
    FILE                      *out, *errf;
    int                        argc = 0;

    while (argv[argc] != NULL)
        argc++;
    memset(r, 0, sizeof(*r));
    out = open_memstream(&r->out, &r->out_len);
    errf = open_memstream(&r->err, &r->err_len);
    if (veloctl_args_parse(&a, argc, (char *const *)argv, NULL, NULL, err,
                           sizeof(err)) != VELO_OK) {
        fprintf(errf, "veloctl: %s\n", err);
        r->exit = 2;
    } else {
        r->exit = veloctl_run(&a, out, errf);
    }
    fclose(out);
    fclose(errf);
}

static inline void
fs_run_free(struct fs_run *r)
{
    free(r->out);
    free(r->err);
}

#endif
