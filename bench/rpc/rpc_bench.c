/* rpc_bench.c: velo-bench-rpc, StationService calls through the whole
 * velo RPC layer (velo_rpc_call -> nng REQ/REP -> velo_rpc_server ->
 * handler) for a fixed time with N client threads, each with its own
 * client. Prints calls/s, p50/p99 and the reply size per method.
 *
 * Against a running velo-stream: --url=tcp://127.0.0.1:7701. Without one:
 * --demo-server starts an in-process service with synthetic stations, so
 * the numbers compare directly with velo-bench-nng-echo (the bare nng
 * round trip) run on the same machine.
 *
 * --consul=ADDR: the clients find the instances of velo-stream through
 * Consul instead (one watch, blocking queries; each client's resolver
 * reads its cached list and spreads calls), so bench/rpc/run.py can show
 * that discovery costs no Consul round trip per call. --url is still
 * used for the probe call. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench_util.h"
#include "demo_service.h"
#include <curl/curl.h>

#include "velo/clock.h"
#include "velo/consul.h"
#include "velo/log.h"
#include "velo/parse.h"
#include "velo/rpc.h"
#include "velo/v1/stream.pb-c.h"

#define SVC (&velo__v1__station_service__descriptor)

struct opts {
    const char        *url, *method, *system, *station, *consul;
    uint32_t           threads, duration_s, limit, radius_m, timeout_ms, demo;
    velo_consul_watch *watch;  /* with --consul */
    bool               spread; /* --spread: round robin over instances */
    double             near_lat, near_lon;
    bool               has_near, json;
};

/* What every thread sends: one method with one request. */
struct job {
    const char             *url;
    velo_consul_watch      *watch; /* NULL: url only */
    bool                    spread;
    const char             *method;
    const ProtobufCMessage *req;
    uint32_t                timeout_ms;
    int64_t                 end_ns;
    struct bench_lat        lat;
};

static void *
job_run(void *arg)
{
    struct job                *j = arg;
    struct velo_rpc_client_cfg cfg = {
        .urls = &j->url, .nurls = 1, .timeout_ms = j->timeout_ms};
    velo_rpc_client *c;

    if (j->watch != NULL) { /* discovered: no static address at all */
        cfg.nurls = 0;
        cfg.resolver.refresh = velo_consul_watch_refresh;
        cfg.resolver.ctx = j->watch;
        cfg.spread = j->spread;
    }
    ProtobufCMessage *reply;
    int64_t           t0;

    if (velo_rpc_client_new(&c, &cfg) != VELO_OK) {
        j->lat.errors++;
        return NULL;
    }
    while ((t0 = velo_mono_ns()) < j->end_ns) {
        reply = NULL;
        if (velo_rpc_call(c, SVC, j->method, j->req, &reply, NULL) != VELO_OK) {
            j->lat.errors++;
            continue;
        }
        bench_lat_add(&j->lat, velo_mono_ns() - t0);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    velo_rpc_client_free(c);
    return NULL;
}

/* Runs one method for the duration on o->threads threads and reports. */
static int
run_phase(const struct opts *o, const char *name, const char *method,
          const ProtobufCMessage *req, size_t reply_bytes)
{
    struct job       *jobs = calloc(o->threads, sizeof(*jobs));
    struct bench_lat *per = calloc(o->threads, sizeof(*per)), all = {0};
    pthread_t        *th = calloc(o->threads, sizeof(*th));
    int64_t           t0 = velo_mono_ns();
    uint32_t          i, started = 0;
    int               rv = 1;

    for (i = 0; jobs && per && th && i < o->threads; i++, started++) {
        jobs[i] =
            (struct job){.url = o->url,
                         .watch = o->watch,
                         .spread = o->spread,
                         .method = method,
                         .req = req,
                         .timeout_ms = o->timeout_ms,
                         .end_ns = t0 + (int64_t)o->duration_s * 1000000000};
        if (pthread_create(&th[i], NULL, job_run, &jobs[i]) != 0)
            break;
    }
    for (i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        per[i] = jobs[i].lat;
    }
    if (started == o->threads && bench_lat_merge(per, started, &all)) {
        bench_report(name, &all, (double)(velo_mono_ns() - t0) / 1e9,
                     o->threads, "reply", reply_bytes, o->json);
        rv = all.errors > 0 || all.calls == 0;
    }
    for (i = 0; i < started; i++)
        free(per[i].us);
    free(all.us);
    free(th);
    free(per);
    free(jobs);
    return rv;
}

/* One call, to check that it works and to learn the reply size. */
static int
probe(const struct opts *o, const char *method, const ProtobufCMessage *req,
      ProtobufCMessage **reply)
{
    struct velo_rpc_client_cfg cfg = {
        .urls = &o->url, .nurls = 1, .timeout_ms = o->timeout_ms};
    struct velo_rpc_error err = {0};
    velo_rpc_client      *c = NULL;
    int                   rv;

    rv = velo_rpc_client_new(&c, &cfg);
    if (rv == VELO_OK)
        rv = velo_rpc_call(c, SVC, method, req, reply, &err);
    if (rv != VELO_OK)
        fprintf(stderr, "velo-bench-rpc: %s on %s: %s (%s: %s)\n", method,
                o->url, velo_strerror(rv), velo_rpc_status_name(err.status),
                err.text);
    velo_rpc_client_free(c);
    return rv;
}

static void
usage(FILE *f)
{
    fprintf(
        f,
        "usage: velo-bench-rpc (--url=URL | --demo-server[=N]) [options]\n"
        "Calls StationService through velo_rpc_call for a fixed time with N\n"
        "threads; prints calls/s, p50/p99 latency and the reply size.\n"
        "  --url=URL          a StationService (velo-stream), e.g.\n"
        "                     tcp://127.0.0.1:7701\n"
        "  --demo-server[=N]  serve N synthetic stations in-process (1000)\n"
        "  --method=M         get (GetStation), list (ListStations), or\n"
        "                     both, one after the other (default both)\n"
        "  --threads=N        client threads, one client each (default 4)\n"
        "  --duration-s=S     seconds per method (default 5)\n"
        "  --system=ID        system_id for both calls\n"
        "  --station=ID       GetStation's station (default: the first one\n"
        "                     ListStations returns)\n"
        "  --near=LAT,LON     ListStations near a point (default: that\n"
        "                     station's position)\n"
        "  --radius-m=M       ListStations radius (default none)\n"
        "  --limit=N          ListStations limit (default 20)\n"
        "  --timeout-ms=MS    per call (default 2000)\n"
        "  --consul=ADDR      clients find velo-stream through this Consul\n"
        "                     agent (cached list; the first instance that\n"
        "                     answers, as with static addresses)\n"
        "  --spread           with --consul: round robin over instances\n"
        "  --json             one JSON line per method instead of text\n"
        "  --help\n");
}

static int
parse_near(struct opts *o, const char *arg)
{
    char        lat[64];
    const char *comma = strchr(arg, ',');

    if (comma == NULL || (size_t)(comma - arg) >= sizeof(lat))
        return 1;
    memcpy(lat, arg, (size_t)(comma - arg));
    lat[comma - arg] = '\0';
    o->has_near = true;
    return velo_parse_double(lat, &o->near_lat) != 0 ||
           velo_parse_double(comma + 1, &o->near_lon) != 0;
}

/* The field behind a numeric option's getopt code, or NULL. */
static uint32_t *
opt_u32(struct opts *o, int c)
{
    uint32_t *const fields[] = {&o->threads, &o->duration_s, &o->radius_m,
                                &o->limit, &o->timeout_ms};
    const char     *codes = "tdrlT", *at = c ? strchr(codes, c) : NULL;

    return at != NULL ? fields[at - codes] : NULL;
}

/* The field behind a string option's getopt code, or NULL. */
static const char **
opt_str(struct opts *o, int c)
{
    const char **const fields[] = {&o->url, &o->method, &o->system, &o->station,
                                   &o->consul};
    const char        *codes = "umsSC", *at = c ? strchr(codes, c) : NULL;

    return at != NULL ? fields[at - codes] : NULL;
}

/* Parses argv; returns 0 to run, 1 after --help, 2 on bad usage. */
static int
parse_opts(struct opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        {"url", 1, 0, 'u'},        {"demo-server", 2, 0, 'D'},
        {"method", 1, 0, 'm'},     {"threads", 1, 0, 't'},
        {"duration-s", 1, 0, 'd'}, {"system", 1, 0, 's'},
        {"station", 1, 0, 'S'},    {"near", 1, 0, 'n'},
        {"radius-m", 1, 0, 'r'},   {"limit", 1, 0, 'l'},
        {"timeout-ms", 1, 0, 'T'}, {"json", 0, 0, 'j'},
        {"consul", 1, 0, 'C'},     {"spread", 0, 0, 'P'},
        {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    const char **str;
    uint32_t    *u;
    int          c, bad = 0;

    *o = (struct opts){.method = "both",
                       .threads = 4,
                       .duration_s = 5,
                       .limit = 20,
                       .timeout_ms = 2000};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if ((u = opt_u32(o, c)) != NULL)
            bad |= velo_parse_u32(optarg, u) != 0;
        else if ((str = opt_str(o, c)) != NULL)
            *str = optarg;
        else if (c == 'D')
            bad |= optarg != NULL && velo_parse_u32(optarg, &o->demo) != 0;
        else if (c == 'n')
            bad |= parse_near(o, optarg);
        else if (c == 'j')
            o->json = true;
        else if (c == 'P')
            o->spread = true;
        else if (c == 'h')
            return 1;
        else
            bad = 1;
        if (c == 'D' && optarg == NULL)
            o->demo = 1000;
    }
    bad |= optind != argc || o->threads == 0 || o->threads > 1024 ||
           (o->url == NULL) == (o->demo == 0) ||
           (strcmp(o->method, "get") != 0 && strcmp(o->method, "list") != 0 &&
            strcmp(o->method, "both") != 0);
    return bad ? 2 : 0;
}

/* The target station for GetStation and the point for ListStations: given
 * on the command line, or the first station ListStations returns. */
struct target {
    char   system[128], station[128];
    double lat, lon;
};

static int
discover(const struct opts *o, struct target *t)
{
    Velo__V1__ListStationsRequest    rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsReply     *r = NULL;
    const Velo__V1__StationSnapshot *s;

    rq.system_id = (char *)o->system;
    rq.has_limit = true;
    rq.limit = 1;
    if (probe(o, "ListStations", &rq.base, (ProtobufCMessage **)&r) != 0)
        return 1;
    if (r->n_stations == 0 || (s = r->stations[0]->snapshot) == NULL ||
        s->system_id == NULL || s->station_id == NULL) {
        fprintf(stderr, "velo-bench-rpc: ListStations returned no station\n");
        protobuf_c_message_free_unpacked(&r->base, NULL);
        return 1;
    }
    snprintf(t->system, sizeof(t->system), "%s", s->system_id);
    snprintf(t->station, sizeof(t->station), "%s", s->station_id);
    t->lat = s->lat;
    t->lon = s->lon;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

/* Probes method once (for the reply size), then runs the phase. */
static int
bench_method(const struct opts *o, const char *name, const char *method,
             const ProtobufCMessage *req)
{
    ProtobufCMessage *reply = NULL;
    size_t            bytes;

    if (probe(o, method, req, &reply) != 0)
        return 1;
    bytes = protobuf_c_message_get_packed_size(reply);
    protobuf_c_message_free_unpacked(reply, NULL);
    return run_phase(o, name, method, req, bytes);
}

static int
bench_all(struct opts *o)
{
    Velo__V1__GetStationRequest   g = VELO__V1__GET_STATION_REQUEST__INIT;
    Velo__V1__ListStationsRequest l = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct target                 t = {{0}};
    bool                          get = strcmp(o->method, "list") != 0;
    bool                          list = strcmp(o->method, "get") != 0;
    int                           rv = 0;

    if ((get && o->station == NULL) || (list && !o->has_near)) {
        if (discover(o, &t) != 0)
            return 1;
    }
    g.system_id = (char *)(o->system ? o->system : t.system);
    g.station_id = (char *)(o->station ? o->station : t.station);
    l.system_id = (char *)o->system;
    l.has_near_lat = l.has_near_lon = l.has_limit = true;
    l.near_lat = o->has_near ? o->near_lat : t.lat;
    l.near_lon = o->has_near ? o->near_lon : t.lon;
    l.limit = o->limit;
    l.has_radius_m = o->radius_m > 0;
    l.radius_m = o->radius_m;
    if (get)
        rv |= bench_method(o, "rpc-get-station", "GetStation", &g.base);
    if (list)
        rv |=
            bench_method(o, "rpc-list-stations-near", "ListStations", &l.base);
    return rv;
}

/* bench_all with the clients on Consul discovery. */
static int
bench_consul(struct opts *o)
{
    velo_consul *c = NULL;
    int          rv;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rv = velo_consul_new(&c, &(struct velo_consul_cfg){.addr = o->consul});
    if (rv == VELO_OK)
        rv = velo_consul_watch_start(&o->watch, c, "velo-stream", 0, NULL);
    if (rv == VELO_OK && !velo_consul_watch_wait_first(o->watch, 10000))
        rv = VELO_EUNAVAIL;
    if (rv == VELO_OK)
        rv = bench_all(o);
    else
        fprintf(stderr, "velo-bench-rpc: Consul at %s: %s\n", o->consul,
                velo_strerror(rv));
    velo_consul_watch_stop(o->watch);
    velo_consul_free(c);
    curl_global_cleanup();
    return rv;
}

int
main(int argc, char **argv)
{
    struct opts                o;
    demo_service              *d = NULL;
    velo_rpc_server           *s = NULL;
    struct velo_rpc_service    svc;
    struct velo_rpc_server_cfg cfg = {.url = "tcp://127.0.0.1:0", .nsvcs = 1};
    int                        rv;

    rv = parse_opts(&o, argc, argv);
    if (rv != 0) {
        usage(rv == 1 ? stdout : stderr);
        return rv == 1 ? 0 : 2;
    }
    velo_log_init("bench-rpc", VELO_LOG_ERROR, 2);
    if (o.demo > 0) {
        rv = demo_service_new(&d, o.demo);
        svc = demo_service_rpc(d);
        cfg.svcs = &svc;
        if (rv == VELO_OK)
            rv = velo_rpc_server_start(&s, &cfg);
        if (rv != VELO_OK) {
            fprintf(stderr, "velo-bench-rpc: demo server: %s\n",
                    velo_strerror(rv));
            demo_service_free(d);
            return 1;
        }
        o.url = velo_rpc_server_url(s);
    }
    rv = o.consul != NULL ? bench_consul(&o) : bench_all(&o);
    velo_rpc_server_stop(s);
    demo_service_free(d);
    return rv;
}
