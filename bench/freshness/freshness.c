/* velo-bench-freshness: how long a change takes from velo-ingest to an RPC
 * answer. Polls GetStation for one station as fast as it can; each time the
 * answer carries a new fetched_at_ms (the moment velo-ingest received the
 * payload and produced the change), the latency is now - fetched_at_ms.
 * fetched_at_ms has 1 ms resolution, so each sample reads up to 1 ms high.
 *
 *   velo-bench-freshness --rpc URL --system S --station ID
 *                        [--changes 2000] [--timeout-s 120] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench_util.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/parse.h"
#include "velo/rpc.h"
#include "velo/v1/stream.pb-c.h"

struct opts {
    const char *rpc, *system, *station;
    uint32_t    changes, timeout_s;
    bool        json;
};

static int
parse_args(int argc, char **argv, struct opts *o)
{
    const struct bench_flag flags[] = {
        {"--rpc", &o->rpc, NULL},
        {"--system", &o->system, NULL},
        {"--station", &o->station, NULL},
        {"--changes", NULL, &o->changes},
        {"--timeout-s", NULL, &o->timeout_s},
    };

    *o = (struct opts){NULL, NULL, NULL, 2000, 120, false};
    if (bench_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]),
                    &o->json) != 0)
        return -1;
    return o->rpc && o->system && o->station ? 0 : -1;
}

static int64_t
wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One GetStation; returns its fetched_at_ms, or -1. */
static int64_t
fetched_at(velo_rpc_client *c, const struct opts *o)
{
    Velo__V1__GetStationRequest req = VELO__V1__GET_STATION_REQUEST__INIT;
    ProtobufCMessage           *rep = NULL;
    Velo__V1__StationState     *st;
    int64_t                     t = -1;

    req.system_id = (char *)o->system;
    req.station_id = (char *)o->station;
    if (velo_rpc_call(c, &velo__v1__station_service__descriptor, "GetStation",
                      &req.base, &rep, NULL) != VELO_OK)
        return -1;
    st = (Velo__V1__StationState *)rep;
    if (st->snapshot != NULL && st->snapshot->has_fetched_at_ms)
        t = st->snapshot->fetched_at_ms;
    protobuf_c_message_free_unpacked(rep, NULL);
    return t;
}

int
main(int argc, char **argv)
{
    struct opts                o;
    velo_rpc_client           *c;
    struct bench_lat           lat = {0}, all;
    int64_t                    last = -1, t, deadline, t0;
    uint64_t                   calls = 0;
    struct velo_rpc_client_cfg cc = {0};

    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: velo-bench-freshness --rpc URL --system S "
                        "--station ID [--changes N] [--timeout-s S] "
                        "[--json]\n");
        return 2;
    }
    velo_log_init("bench", VELO_LOG_WARN, STDERR_FILENO);
    cc.urls = &o.rpc;
    cc.nurls = 1;
    if (velo_rpc_client_new(&c, &cc) != VELO_OK)
        return 1;
    t0 = velo_mono_ns();
    deadline = velo_mono_ms() + (int64_t)o.timeout_s * 1000;
    while (lat.calls < o.changes && velo_mono_ms() < deadline) {
        t = fetched_at(c, &o);
        calls++;
        if (t < 0 || t == last)
            continue;
        if (last >= 0) /* the first answer is not a change we saw happen */
            bench_lat_add(&lat, (wall_us() - t * 1000) * 1000);
        last = t;
    }
    bench_lat_merge(&lat, 1, &all);
    bench_report("freshness_ingest_to_getstation", &all,
                 (double)(velo_mono_ns() - t0) / 1e9, 1, "station", 0, o.json);
    if (!o.json)
        printf("  polls     %llu GetStation calls\n",
               (unsigned long long)calls);
    free(all.us);
    free(lat.us);
    velo_rpc_client_free(c);
    return all.calls >= o.changes ? 0 : 1;
}
