/* cmd.c: veloctl_run and the one-call commands: systems, station and
 * health (status without Consul). stations lives in list.c, watch in watch.c.
 */
#include "cmd.h"

#include <math.h>
#include <stdlib.h>

#include "call.h"
#include "discover.h"
#include "fmt.h"
#include "history.h"
#include "jsondoc.h"
#include "list.h"
#include "velo/clock.h"
#include "velo/station_json.h"
#include "velo/v1/history.pb-c.h"
#include "velo/v1/stream.pb-c.h"
#include "watch.h"

static int
cmd_systems(struct veloctl_ctx *x)
{
    Velo__V1__ListSystemsRequest rq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    Velo__V1__ListSystemsReply  *r = NULL;
    struct velo_buf              b;
    int                          ex, rv;

    ex =
        veloctl_call(x, "ListSystems", &rq.base, (ProtobufCMessage **)&r, NULL);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    velo_buf_init(&b, VELOCTL_OUT_MAX);
    if (x->a->json)
        rv = veloctl_jsondoc_systems(&b, r);
    else if (r->n_systems == 0)
        rv = velo_buf_puts(&b, "no systems (velo-stream holds no station "
                               "yet)\n");
    else
        rv = veloctl_fmt_systems(&b, r, velo_now_ms());
    ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
    velo_buf_fini(&b);
    velo__v1__list_systems_reply__free_unpacked(r, NULL);
    return ex;
}

static int
cmd_station(struct veloctl_ctx *x)
{
    Velo__V1__GetStationRequest rq = VELO__V1__GET_STATION_REQUEST__INIT;
    Velo__V1__StationState     *st = NULL;
    struct velo_buf             b;
    char                        nf[600];
    int                         ex, rv;

    rq.system_id = (char *)x->a->system;
    rq.station_id = (char *)x->a->station;
    snprintf(nf, sizeof(nf), "no station %s/%s", x->a->system, x->a->station);
    ex = veloctl_call(x, "GetStation", &rq.base, (ProtobufCMessage **)&st, nf);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    velo_buf_init(&b, VELOCTL_OUT_MAX);
    if (x->a->json) {
        rv = velo_station_state_to_json(st, NAN, &b);
        if (rv == VELO_OK)
            rv = velo_buf_puts(&b, "\n");
    } else {
        rv = veloctl_fmt_station(&b, st, velo_now_ms());
    }
    ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
    velo_buf_fini(&b);
    velo__v1__station_state__free_unpacked(st, NULL);
    return ex;
}

/* Asks one instance, with a client of its own so that failover cannot
 * hide which instance answered. */
static int
health_one(struct veloctl_ctx *x, const char *url, struct veloctl_health *h,
           struct veloctl_fail *f)
{
    Velo__V1__HealthRequest rq = VELO__V1__HEALTH_REQUEST__INIT;
    ProtobufCMessage       *r = NULL;
    struct veloctl_ctx      one = {.a = x->a, .out = x->out, .err = x->err};
    int                     ex;

    h->url = url;
    ex = veloctl_ctx_connect(&one, &url, 1);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    ex = veloctl_call_try(one.c, x->a->timeout_ms, "Health", &rq.base, &r, f);
    veloctl_ctx_fini(&one);
    h->reply = (const Velo__V1__HealthReply *)r;
    h->error_code = f->code;
    h->error = f->msg;
    return ex;
}

/* 0 when every instance is ready, 3 when none answered, else 1. */
static int
health_exit(const struct veloctl_health *h, const int *ex, size_t n)
{
    size_t i, ready = 0, unreached = 0;

    for (i = 0; i < n; i++) {
        ready += h[i].reply != NULL && h[i].reply->ready;
        unreached += ex[i] == VELOCTL_EXIT_UNREACHABLE;
    }
    if (ready == n)
        return VELOCTL_EXIT_OK;
    return unreached == n ? VELOCTL_EXIT_UNREACHABLE : VELOCTL_EXIT_ERROR;
}

static int
cmd_health(struct veloctl_ctx *x)
{
    struct veloctl_health h[VELOCTL_MAX_URLS] = {0};
    struct veloctl_fail   f[VELOCTL_MAX_URLS] = {0};
    int                   ex[VELOCTL_MAX_URLS], code, rv;
    char                  urls[VELOCTL_MAX_URLS * 260];
    struct velo_buf       b;
    size_t                i, n = x->a->nrpc;

    for (i = 0; i < n; i++)
        ex[i] = health_one(x, x->a->rpc[i], &h[i], &f[i]);
    code = health_exit(h, ex, n);
    velo_buf_init(&b, VELOCTL_OUT_MAX);
    rv = x->a->json ? veloctl_jsondoc_health(&b, h, n, code == 0)
                    : veloctl_fmt_health(&b, h, n);
    rv = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
    velo_buf_fini(&b);
    if (code == VELOCTL_EXIT_UNREACHABLE) {
        veloctl_urls_join(urls, sizeof(urls), x->a);
        veloctl_errorf(x, "cannot reach velo-stream RPC at %s", urls);
    }
    for (i = 0; i < n; i++)
        if (h[i].reply != NULL)
            protobuf_c_message_free_unpacked((ProtobufCMessage *)h[i].reply,
                                             NULL);
    return rv != VELOCTL_EXIT_OK && code == 0 ? rv : code;
}

static bool
is_warehouse(enum veloctl_cmd cmd)
{
    return cmd == VELOCTL_HISTORY || cmd == VELOCTL_TOP;
}

/* The instances of the service the command calls, from Consul: *b
 * becomes a copy of a with them as its --rpc (or --warehouse-rpc) list
 * (urls holds the strings). */
static int
run_discover(struct veloctl_ctx *x, velo_consul *c, struct veloctl_args *b,
             char (*urls)[VELO_CONSUL_URL_MAX])
{
    bool   wh = is_warehouse(x->a->cmd);
    size_t n = 0, i;
    int    ex;

    ex = veloctl_discover(x, c, wh ? "velo-warehouse" : "velo-stream", urls,
                          VELOCTL_MAX_URLS, &n);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    *b = *x->a;
    for (i = 0; i < n; i++) {
        if (wh)
            b->wh[i] = urls[i];
        else
            b->rpc[i] = urls[i];
    }
    if (wh)
        b->nwh = n;
    else
        b->nrpc = n;
    x->a = b;
    return VELOCTL_EXIT_OK;
}

/* Consul when configured and no address was given: status asks it for
 * everything, the other commands for their service's instances. */
static int
run_consul(struct veloctl_ctx *x, struct veloctl_args *b,
           char (*urls)[VELO_CONSUL_URL_MAX], bool    *done)
{
    velo_consul *c = NULL;
    int          rv, ex = VELOCTL_EXIT_OK;

    *done = false;
    if (is_warehouse(x->a->cmd) ? x->a->wh_given : x->a->rpc_given)
        return VELOCTL_EXIT_OK;
    rv = veloctl_consul_open(x->a, &c);
    if (rv == VELO_ENOTFOUND)
        return VELOCTL_EXIT_OK; /* static addresses, as without Consul */
    if (rv != VELO_OK) {
        veloctl_errorf(x,
                       "bad Consul settings (address http[s]://host:port, "
                       "token file): %s",
                       velo_strerror(rv));
        return VELOCTL_EXIT_USAGE;
    }
    if (x->a->cmd == VELOCTL_STATUS) {
        ex = veloctl_status_consul(x, c);
        *done = true;
    } else {
        ex = run_discover(x, c, b, urls);
    }
    velo_consul_free(c);
    return ex;
}

static int run_cmd(struct veloctl_ctx *x);

int
veloctl_run(const struct veloctl_args *a, FILE *out, FILE *err)
{
    struct veloctl_ctx   x = {.a = a, .out = out, .err = err};
    struct veloctl_args *b;
    char(*urls)[VELO_CONSUL_URL_MAX];
    bool done = false;
    int  ex;

    b = malloc(sizeof(*b));
    urls = calloc(VELOCTL_MAX_URLS, sizeof(*urls));
    ex = b != NULL && urls != NULL ? run_consul(&x, b, urls, &done)
                                   : VELOCTL_EXIT_ERROR;
    if (ex == VELOCTL_EXIT_OK && !done)
        ex = run_cmd(&x);
    free(urls);
    free(b);
    return ex;
}

/* Runs x->a->cmd against x->a's instances. */
static int
run_cmd(struct veloctl_ctx *x)
{
    static const char *const   def_wh[] = {VELOCTL_DEFAULT_WAREHOUSE};
    const struct veloctl_args *a = x->a;
    int                        ex = VELOCTL_EXIT_OK;

    if (is_warehouse(a->cmd)) {
        x->svc = &velo__v1__history_service__descriptor;
        x->svc_name = "velo-warehouse";
        x->urls = a->nwh > 0 ? a->wh : def_wh;
        x->nurls = a->nwh > 0 ? a->nwh : 1;
        ex = veloctl_ctx_connect(x, x->urls, x->nurls);
    } else if (a->cmd != VELOCTL_HEALTH && a->cmd != VELOCTL_STATUS) {
        ex = veloctl_ctx_connect(x, a->rpc, a->nrpc);
    }
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    switch (a->cmd) {
    case VELOCTL_SYSTEMS:
        ex = cmd_systems(x);
        break;
    case VELOCTL_STATIONS:
        ex = veloctl_list_run(x);
        break;
    case VELOCTL_STATION:
        ex = cmd_station(x);
        break;
    case VELOCTL_WATCH:
        ex = veloctl_watch_run(x);
        break;
    case VELOCTL_HEALTH:
    case VELOCTL_STATUS: /* without Consul: the --rpc instances */
        ex = cmd_health(x);
        break;
    case VELOCTL_HISTORY:
        ex = veloctl_history_run(x);
        break;
    case VELOCTL_TOP:
        ex = veloctl_top_run(x);
        break;
    }
    veloctl_ctx_fini(x);
    return ex;
}
