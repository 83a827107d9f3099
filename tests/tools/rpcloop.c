/* velo-rpcloop: a long-lived RPC client for the Consul tests. It finds
 * velo-stream through Consul (a watch: blocking queries, cached list) and
 * calls GetStation in a loop with failover and spread, as a real client
 * would, then prints one JSON line with what happened:
 *
 *   velo-rpcloop --consul http://127.0.0.1:8500 --seconds 10
 *       --system jcdecaux:dublin --station 42
 *   {"ok":480,"failed":0,"first_error":"","instances_max":2,
 *    "instances_last":1}
 *
 * A call that fails is a failed user request: the tests require none while
 * an instance is killed, or while Consul is down. Exit status: 0 when
 * every call succeeded, 1 otherwise, 78 bad flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "velo/cfg.h"
#include "velo/clock.h"
#include "velo/consul.h"
#include "velo/log.h"
#include "velo/rpc.h"
#include "velo/v1/stream.pb-c.h"

struct loop_cfg {
    const char         *consul, *service, *system, *station;
    uint32_t            seconds, every_ms, timeout_ms;
    enum velo_log_level log_level;
};

#define CFG(f) .off = offsetof(struct loop_cfg, f)
static const struct velo_opt loop_opts[] = {
    {"consul", "VELO_CONSUL_ADDR", NULL, VELO_OPT_STR, CFG(consul),
     "Consul agent"},
    {"service", NULL, "velo-stream", VELO_OPT_STR, CFG(service),
     "service to call"},
    {"system", NULL, NULL, VELO_OPT_STR, CFG(system), "system id"},
    {"station", NULL, NULL, VELO_OPT_STR, CFG(station), "station id"},
    {"seconds", NULL, "10", VELO_OPT_U32, CFG(seconds), "how long to run",
     .min = 1, .max = 3600},
    {"every-ms", NULL, "20", VELO_OPT_U32, CFG(every_ms), "pause between calls",
     .max = 60000},
    {"timeout-ms", NULL, "2000", VELO_OPT_U32, CFG(timeout_ms),
     "per call, failover included", .min = 1, .max = 60000},
    {"log-level", NULL, "warn", VELO_OPT_LEVEL, CFG(log_level),
     "log on stderr"},
};
static const struct velo_cfg_spec loop_spec = {
    .svc = "rpcloop",
    .summary = "GetStation in a loop through Consul discovery",
    .opts = loop_opts,
    .nopts = sizeof(loop_opts) / sizeof(loop_opts[0]),
};

struct tally {
    unsigned long ok, failed;
    size_t        max_n, last_n;
    char          first_error[256];
};

/* One call; counts it. */
static void
loop_call(velo_rpc_client *c, const struct loop_cfg *cfg, struct tally *t)
{
    Velo__V1__GetStationRequest rq = VELO__V1__GET_STATION_REQUEST__INIT;
    ProtobufCMessage           *reply = NULL;
    struct velo_rpc_error       e = {0};
    int                         rv;

    rq.system_id = (char *)cfg->system;
    rq.station_id = (char *)cfg->station;
    rv = velo_rpc_call(c, &velo__v1__station_service__descriptor, "GetStation",
                       &rq.base, &reply, &e);
    if (rv == VELO_OK) {
        t->ok++;
        protobuf_c_message_free_unpacked(reply, NULL);
        return;
    }
    if (t->failed++ == 0)
        snprintf(t->first_error, sizeof(t->first_error), "%s: %s",
                 velo_strerror(rv), e.text);
}

static int
loop_run(const struct loop_cfg *cfg, velo_consul *cs)
{
    char               urls[VELO_CONSUL_MAX_INSTANCES][VELO_CONSUL_URL_MAX];
    velo_consul_watch *w = NULL;
    velo_rpc_client   *c = NULL;
    struct tally       t = {0};
    int64_t            end;
    int                rv;
    struct velo_rpc_client_cfg rc = {.timeout_ms = cfg->timeout_ms,
                                     .spread = true};

    rv = velo_consul_watch_start(&w, cs, cfg->service, 5000, NULL);
    if (rv == VELO_OK && !velo_consul_watch_wait_first(w, 10000))
        rv = VELO_EUNAVAIL;
    rc.resolver.refresh = velo_consul_watch_refresh;
    rc.resolver.ctx = w;
    if (rv == VELO_OK)
        rv = velo_rpc_client_new(&c, &rc);
    end = velo_mono_ms() + (int64_t)cfg->seconds * 1000;
    while (rv == VELO_OK && velo_mono_ms() < end) {
        loop_call(c, cfg, &t);
        t.last_n = velo_consul_watch_urls(w, urls, VELO_CONSUL_MAX_INSTANCES);
        if (t.last_n > t.max_n)
            t.max_n = t.last_n;
        velo_sleep_ms(cfg->every_ms);
    }
    printf("{\"ok\":%lu,\"failed\":%lu,\"first_error\":\"%s\","
           "\"instances_max\":%zu,\"instances_last\":%zu,\"err\":\"%s\"}\n",
           t.ok, t.failed, t.first_error, t.max_n, t.last_n, velo_strerror(rv));
    velo_rpc_client_free(c);
    velo_consul_watch_stop(w);
    return rv == VELO_OK && t.failed == 0 && t.ok > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    struct loop_cfg cfg = {0};
    velo_consul    *cs = NULL;
    int             rv, status = 1;

    rv = velo_cfg_load(&loop_spec, &cfg, argc, argv);
    if (rv != VELO_OK)
        return rv == VELO_CFG_HELP ? 0 : VELO_EXIT_CONFIG;
    velo_log_init("rpcloop", cfg.log_level, 2);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rv = velo_consul_new(&cs, &(struct velo_consul_cfg){.addr = cfg.consul});
    if (rv == VELO_OK)
        status = loop_run(&cfg, cs);
    else
        fprintf(stderr, "rpcloop: Consul: %s\n", velo_strerror(rv));
    velo_consul_free(cs);
    curl_global_cleanup();
    velo_cfg_fini(&loop_spec, &cfg);
    return status;
}
