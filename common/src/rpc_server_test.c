/* rpc_server_test.c: velo_rpc_server and velo_rpc_client over real
 * loopback nng sockets (tcp://127.0.0.1:0): round trips, error statuses,
 * oversize frames, failover, and several client threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_test_util.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/metrics.h"
#include "velo/parse.h"
#include "velo/rpc.h"

#define SVC (&velo__v1__station_service__descriptor)

struct fx {
    struct rts              rts;
    struct velo_rpc_service svc;
    velo_metrics           *metrics;
    velo_rpc_server        *s;
    velo_rpc_client        *c;
};

static int
fx_start_server(struct fx *f, size_t max_frame)
{
    struct velo_rpc_server_cfg cfg = {
        .url = "tcp://127.0.0.1:0",
        .svcs = &f->svc,
        .nsvcs = 1,
        .workers = 4,
        .max_frame_bytes = max_frame,
        .metrics = f->metrics,
    };

    return velo_rpc_server_start(&f->s, &cfg);
}

static int
fx_client(velo_rpc_client **c, const char *const *urls, size_t n,
          uint32_t timeout_ms)
{
    struct velo_rpc_client_cfg cfg = {
        .urls = urls, .nurls = n, .timeout_ms = timeout_ms};

    return velo_rpc_client_new(c, &cfg);
}

static int
setup(void **state)
{
    struct fx  *f = calloc(1, sizeof(*f));
    const char *url;

    assert_non_null(f);
    rts_init(&f->rts);
    f->svc = rts_service(&f->rts);
    assert_int_equal(velo_metrics_new(&f->metrics), VELO_OK);
    assert_int_equal(fx_start_server(f, 0), VELO_OK);
    url = velo_rpc_server_url(f->s);
    assert_int_equal(fx_client(&f->c, &url, 1, 3000), VELO_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    velo_rpc_client_free(f->c);
    velo_rpc_server_stop(f->s);
    velo_metrics_free(f->metrics);
    free(f);
    return 0;
}

/* A loopback port nobody listens on (bound, then released). */
static void
dead_url(char *buf, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t          len = sizeof(sa);
    int                fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    snprintf(buf, size, "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

static int
get_station(velo_rpc_client *c, const char *system, const char *station,
            Velo__V1__StationState **st, struct velo_rpc_error *err)
{
    Velo__V1__GetStationRequest in = VELO__V1__GET_STATION_REQUEST__INIT;
    ProtobufCMessage           *out = NULL;
    int                         rv;

    in.system_id = (char *)system;
    in.station_id = (char *)station;
    rv = velo_rpc_call(c, SVC, "GetStation", &in.base, &out, err);
    if (rv == VELO_OK)
        *st = (Velo__V1__StationState *)out;
    return rv;
}

static void
expect_station_ok(velo_rpc_client *c)
{
    Velo__V1__StationState *st = NULL;
    struct velo_rpc_error   err;

    assert_int_equal(get_station(c, RTS_SYSTEM, RTS_STATION, &st, &err),
                     VELO_OK);
    assert_non_null(st->snapshot);
    assert_string_equal(st->snapshot->system_id, RTS_SYSTEM);
    assert_string_equal(st->snapshot->station_id, RTS_STATION);
    assert_int_equal(st->snapshot->bikes_available, RTS_BIKES);
    protobuf_c_message_free_unpacked(&st->base, NULL);
}

static void
test_url_has_the_bound_port(void **state)
{
    struct fx  *f = *state;
    const char *url = velo_rpc_server_url(f->s);
    uint32_t    port = 0;

    assert_true(strncmp(url, "tcp://127.0.0.1:", 16) == 0);
    assert_int_equal(velo_parse_u32(url + 16, &port), VELO_OK);
    assert_true(port > 0 && port < 65536);
}

static void
test_round_trip_known_station(void **state)
{
    struct fx *f = *state;
    int64_t    before = velo_now_ms();

    expect_station_ok(f->c);
    expect_station_ok(f->c);
    assert_int_equal(atomic_load(&f->rts.get_calls), 2);
    /* The envelope carried the client's deadline: about now + 3 s. */
    assert_true(atomic_load(&f->rts.last_deadline_ms) >= before + 3000);
    assert_true(atomic_load(&f->rts.last_deadline_ms) <= velo_now_ms() + 3000);
    assert_true(velo_metric_value(velo_metrics_counter(
                    f->metrics, "velo_rpc_server_calls_total", "", NULL)) ==
                2.0);
}

static void
test_unknown_station_is_enotfound_with_text(void **state)
{
    struct fx              *f = *state;
    Velo__V1__StationState *st = NULL;
    struct velo_rpc_error   err;

    assert_int_equal(get_station(f->c, "sysA", "43", &st, &err),
                     VELO_ENOTFOUND);
    assert_null(st);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_NOT_FOUND);
    assert_string_equal(err.text, "no station sysA/43");
    /* err may be NULL */
    assert_int_equal(get_station(f->c, "sysB", "42", &st, NULL),
                     VELO_ENOTFOUND);
}

static void
test_handler_error_text_crosses_the_wire(void **state)
{
    struct fx              *f = *state;
    Velo__V1__HealthRequest in = VELO__V1__HEALTH_REQUEST__INIT;
    ProtobufCMessage       *out = NULL;
    struct velo_rpc_error   err;

    atomic_store(&f->rts.broken, true);
    assert_int_equal(velo_rpc_call(f->c, SVC, "Health", &in.base, &out, &err),
                     VELO_EPROTO);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_INTERNAL);
    assert_string_equal(err.text, "broken on purpose");
    atomic_store(&f->rts.broken, false);
    assert_int_equal(velo_rpc_call(f->c, SVC, "Health", &in.base, &out, &err),
                     VELO_OK);
    assert_true(((Velo__V1__HealthReply *)out)->ready);
    protobuf_c_message_free_unpacked(out, NULL);
}

static void
test_unknown_method_is_unimplemented_over_the_wire(void **state)
{
    struct fx              *f = *state;
    Velo__V1__HealthRequest in = VELO__V1__HEALTH_REQUEST__INIT;
    ProtobufCMessage       *out = NULL;
    struct velo_rpc_error   err;

    assert_int_equal(
        velo_rpc_call(f->c, &rts_other_desc, "Ping", &in.base, &out, &err),
        VELO_EINVAL);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED);
    assert_non_null(strstr(err.text, "test.Other/Ping"));
    /* A method the descriptor lacks never leaves the client. */
    assert_int_equal(velo_rpc_call(f->c, SVC, "Nope", &in.base, &out, &err),
                     VELO_EINVAL);
    /* Nor does an input of the wrong type. */
    assert_int_equal(
        velo_rpc_call(f->c, SVC, "GetStation", &in.base, &out, &err),
        VELO_EINVAL);
    assert_int_equal(atomic_load(&f->rts.get_calls), 0);
}

/* Raw nng REQ: bytes that are no RpcRequest get RPC_MALFORMED, id 0. */
static void
test_garbage_frame_gets_malformed_reply(void **state)
{
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x07, 0x00};
    struct fx           *f = *state;
    nng_socket           req;
    Velo__V1__RpcReply  *r;
    char                *buf = NULL;
    size_t               len = 0;

    assert_int_equal(nng_req0_open(&req), 0);
    assert_int_equal(nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 5000), 0);
    assert_int_equal(nng_dial(req, velo_rpc_server_url(f->s), NULL, 0), 0);
    assert_int_equal(nng_send(req, (void *)garbage, sizeof(garbage), 0), 0);
    assert_int_equal(nng_recv(req, &buf, &len, NNG_FLAG_ALLOC), 0);
    r = velo__v1__rpc_reply__unpack(NULL, len, (uint8_t *)buf);
    assert_non_null(r);
    assert_int_equal(r->id, 0);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_MALFORMED);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    nng_free(buf, len);
    nng_close(req);
    /* The server is still fine. */
    expect_station_ok(f->c);
    assert_true(velo_metric_value(velo_metrics_counter(
                    f->metrics, "velo_rpc_server_malformed_total", "", NULL)) ==
                1.0);
}

/* A frame over the server's limit: nng drops it with the connection, so
 * the client can only time out; the next call still works. */
static void
test_frame_over_server_limit_times_out_cleanly(void **state)
{
    struct fx              *f = *state;
    velo_rpc_client        *c;
    const char             *url;
    char                    big[4000];
    Velo__V1__StationState *st = NULL;
    struct velo_rpc_error   err;
    velo_metric            *dropped;
    int64_t                 t0;
    int                     i;

    velo_rpc_server_stop(f->s);
    assert_int_equal(fx_start_server(f, 1024), VELO_OK);
    url = velo_rpc_server_url(f->s);
    assert_int_equal(fx_client(&c, &url, 1, 600), VELO_OK);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    t0 = velo_mono_ms();
    assert_int_equal(get_station(c, RTS_SYSTEM, big, &st, &err),
                     VELO_ETIMEDOUT);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_DEADLINE_EXCEEDED);
    assert_true(velo_mono_ms() - t0 >= 550);
    assert_true(velo_mono_ms() - t0 < 2000);
    expect_station_ok(c);
    assert_int_equal(atomic_load(&f->rts.get_calls), 1);
    /* Counted when nng closes the connection: allow it a moment. */
    dropped = velo_metrics_counter(f->metrics, "velo_rpc_server_dropped_total",
                                   "", NULL);
    for (i = 0; i < 100 && velo_metric_value(dropped) < 1.0; i++)
        velo_sleep_ms(20);
    assert_true(velo_metric_value(dropped) >= 1.0);
    velo_rpc_client_free(c);
}

/* Clients that call and go away are not dropped frames (nng counts a
 * peer's clean close among the listener's "other" errors too; velo-
 * warehouse warned of a dropped frame after every veloctl call). */
static void
test_clients_closing_are_not_drops(void **state)
{
    struct fx       *f = *state;
    const char      *url = velo_rpc_server_url(f->s);
    velo_rpc_client *c;
    velo_metric     *dropped;
    int              i;

    for (i = 0; i < 3; i++) {
        assert_int_equal(fx_client(&c, &url, 1, 3000), VELO_OK);
        expect_station_ok(c);
        velo_rpc_client_free(c);
    }
    velo_rpc_client_free(f->c); /* the fixture's own client too */
    f->c = NULL;
    velo_sleep_ms(300);
    dropped = velo_metrics_counter(f->metrics, "velo_rpc_server_dropped_total",
                                   "", NULL);
    assert_true(velo_metric_value(dropped) == 0.0);
}

static void
test_request_over_client_limit_is_etoobig(void **state)
{
    struct fx                 *f = *state;
    const char                *url = velo_rpc_server_url(f->s);
    struct velo_rpc_client_cfg cfg = {
        .urls = &url, .nurls = 1, .max_frame_bytes = 256};
    velo_rpc_client        *c;
    char                    big[300];
    Velo__V1__StationState *st = NULL;
    struct velo_rpc_error   err;

    assert_int_equal(velo_rpc_client_new(&c, &cfg), VELO_OK);
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(get_station(c, RTS_SYSTEM, big, &st, &err), VELO_ETOOBIG);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_RESOURCE_EXHAUSTED);
    assert_int_equal(atomic_load(&f->rts.get_calls), 0);
    velo_rpc_client_free(c);
}

static void
test_reply_over_server_limit_is_etoobig(void **state)
{
    struct fx                    *f = *state;
    Velo__V1__ListStationsRequest in = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    ProtobufCMessage             *out = NULL;
    Velo__V1__ListStationsReply  *r;
    struct velo_rpc_error         err;
    const char                   *url;

    velo_rpc_server_stop(f->s);
    assert_int_equal(fx_start_server(f, 4096), VELO_OK);
    velo_rpc_client_free(f->c);
    url = velo_rpc_server_url(f->s);
    assert_int_equal(fx_client(&f->c, &url, 1, 3000), VELO_OK);
    in.has_limit = true;
    in.limit = 1000;
    assert_int_equal(
        velo_rpc_call(f->c, SVC, "ListStations", &in.base, &out, &err),
        VELO_ETOOBIG);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_RESOURCE_EXHAUSTED);
    in.limit = 5;
    assert_int_equal(
        velo_rpc_call(f->c, SVC, "ListStations", &in.base, &out, &err),
        VELO_OK);
    r = (Velo__V1__ListStationsReply *)out;
    assert_int_equal(r->n_stations, 5);
    assert_int_equal(r->stations[4]->snapshot->bikes_available, 4);
    protobuf_c_message_free_unpacked(out, NULL);
}

/* urls = [a dead port, the live server]: the call fails over, and the
 * next call starts with the instance that answered. */
static void
test_failover_from_dead_to_live(void **state)
{
    struct fx       *f = *state;
    char             dead[64];
    const char      *urls[2];
    velo_rpc_client *c;
    int64_t          t0, first_ms, second_ms;

    dead_url(dead, sizeof(dead));
    urls[0] = dead;
    urls[1] = velo_rpc_server_url(f->s);
    assert_int_equal(fx_client(&c, urls, 2, 2000), VELO_OK);
    t0 = velo_mono_ms();
    expect_station_ok(c);
    first_ms = velo_mono_ms() - t0;
    t0 = velo_mono_ms();
    expect_station_ok(c);
    second_ms = velo_mono_ms() - t0;
    /* The dead instance costs at most its share (half of 2 s) once. */
    assert_true(first_ms < 1800);
    assert_true(second_ms < 500);
    assert_int_equal(atomic_load(&f->rts.get_calls), 2);
    velo_rpc_client_free(c);
}

static void
test_all_dead_fails_within_the_timeout(void **state)
{
    char                    dead[2][64];
    const char             *urls[2] = {dead[0], dead[1]};
    velo_rpc_client        *c;
    Velo__V1__StationState *st = NULL;
    struct velo_rpc_error   err;
    int64_t                 t0, ms;
    int                     rv;

    (void)state;
    dead_url(dead[0], sizeof(dead[0]));
    dead_url(dead[1], sizeof(dead[1]));
    assert_int_equal(fx_client(&c, urls, 2, 500), VELO_OK);
    t0 = velo_mono_ms();
    rv = get_station(c, RTS_SYSTEM, RTS_STATION, &st, &err);
    ms = velo_mono_ms() - t0;
    assert_true(rv == VELO_EUNAVAIL || rv == VELO_ETIMEDOUT);
    assert_true(err.status == VELO__V1__RPC_STATUS__RPC_UNAVAILABLE ||
                err.status == VELO__V1__RPC_STATUS__RPC_DEADLINE_EXCEEDED);
    assert_null(st);
    assert_true(ms < 500 + 300);
    velo_rpc_client_free(c);
}

/* An instance answering RPC_UNAVAILABLE (still rebuilding) passes the
 * call on; when every instance says so, the caller gets VELO_EUNAVAIL. */
static void
test_unavailable_instance_fails_over(void **state)
{
    struct fx              *f = *state;
    struct fx               g = {0};
    const char             *urls[2];
    velo_rpc_client        *c;
    Velo__V1__HealthRequest in = VELO__V1__HEALTH_REQUEST__INIT;
    ProtobufCMessage       *out = NULL;
    struct velo_rpc_error   err;

    rts_init(&g.rts);
    g.svc = rts_service(&g.rts);
    assert_int_equal(fx_start_server(&g, 0), VELO_OK);
    atomic_store(&g.rts.rebuilding, true);
    urls[0] = velo_rpc_server_url(g.s);
    urls[1] = velo_rpc_server_url(f->s);
    assert_int_equal(fx_client(&c, urls, 2, 2000), VELO_OK);
    assert_int_equal(velo_rpc_call(c, SVC, "Health", &in.base, &out, &err),
                     VELO_OK);
    protobuf_c_message_free_unpacked(out, NULL);
    assert_int_equal(atomic_load(&g.rts.health_calls), 1);
    assert_int_equal(atomic_load(&f->rts.health_calls), 1);
    atomic_store(&f->rts.rebuilding, true);
    assert_int_equal(velo_rpc_call(c, SVC, "Health", &in.base, &out, &err),
                     VELO_EUNAVAIL);
    assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_UNAVAILABLE);
    assert_string_equal(err.text, "rebuilding");
    velo_rpc_client_free(c);
    velo_rpc_server_stop(g.s);
}

/* A server that goes away: calls fail cleanly, and work again once a
 * server listens on the same URL. */
static void
test_stopped_server_fails_then_recovers(void **state)
{
    struct fx                 *f = *state;
    char                       url[128];
    struct velo_rpc_server_cfg cfg = {.svcs = &f->svc, .nsvcs = 1};
    Velo__V1__StationState    *st = NULL;
    velo_rpc_client           *c;
    const char                *u = url;
    int                        rv, i;

    snprintf(url, sizeof(url), "%s", velo_rpc_server_url(f->s));
    assert_int_equal(fx_client(&c, &u, 1, 400), VELO_OK);
    expect_station_ok(c);
    velo_rpc_server_stop(f->s);
    f->s = NULL;
    rv = get_station(c, RTS_SYSTEM, RTS_STATION, &st, NULL);
    assert_true(rv == VELO_ETIMEDOUT || rv == VELO_EUNAVAIL);
    cfg.url = url;
    assert_int_equal(velo_rpc_server_start(&f->s, &cfg), VELO_OK);
    /* nng redials a refused peer with backoff (up to 1 s here), so the
     * first calls after the restart may still fail: the caller retries. */
    for (i = 0; i < 25 && rv != VELO_OK; i++) {
        st = NULL;
        rv = get_station(c, RTS_SYSTEM, RTS_STATION, &st, NULL);
    }
    assert_int_equal(rv, VELO_OK);
    protobuf_c_message_free_unpacked(&st->base, NULL);
    expect_station_ok(c);
    velo_rpc_client_free(c);
}

#define NTHREADS 4
#define NCALLS 150

struct worker {
    const char *url;
    int         ok;
    int         failed;
};

/* No cmocka asserts off the main thread: count, then check. */
static void *
worker_run(void *arg)
{
    struct worker          *w = arg;
    velo_rpc_client        *c;
    Velo__V1__StationState *st;
    int                     i, rv;

    if (fx_client(&c, &w->url, 1, 5000) != VELO_OK) {
        w->failed = NCALLS;
        return NULL;
    }
    for (i = 0; i < NCALLS; i++) {
        st = NULL;
        rv = get_station(c, RTS_SYSTEM, RTS_STATION, &st, NULL);
        if (rv == VELO_OK && st->snapshot != NULL &&
            st->snapshot->bikes_available == RTS_BIKES)
            w->ok++;
        else
            w->failed++;
        if (st != NULL)
            protobuf_c_message_free_unpacked(&st->base, NULL);
        /* Every 10th call asks for a station that is not there. */
        if (i % 10 == 0 &&
            get_station(c, "sysZ", "1", &st, NULL) != VELO_ENOTFOUND)
            w->failed++;
    }
    velo_rpc_client_free(c);
    return NULL;
}

static void
test_concurrent_clients_one_server(void **state)
{
    struct fx    *f = *state;
    pthread_t     th[NTHREADS];
    struct worker w[NTHREADS];
    int           i;

    for (i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){.url = velo_rpc_server_url(f->s)};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failed, 0);
        assert_int_equal(w[i].ok, NCALLS);
    }
    assert_int_equal(atomic_load(&f->rts.get_calls),
                     NTHREADS * (NCALLS + NCALLS / 10));
}

static void
test_bad_configs_are_rejected(void **state)
{
    struct fx                 *f = *state;
    velo_rpc_server           *s = NULL;
    velo_rpc_client           *c = NULL;
    const char                *bad = "nope://x";
    struct velo_rpc_server_cfg cfg = {.svcs = &f->svc, .nsvcs = 1};
    struct velo_rpc_client_cfg ccfg = {.urls = &bad, .nurls = 0};

    assert_int_equal(velo_rpc_server_start(&s, &cfg), VELO_EINVAL);
    cfg.url = velo_rpc_server_url(f->s); /* port taken */
    assert_int_equal(velo_rpc_server_start(&s, &cfg), VELO_EUNAVAIL);
    cfg.url = "nope://x";
    assert_int_equal(velo_rpc_server_start(&s, &cfg), VELO_EINVAL);
    assert_null(s);
    assert_int_equal(velo_rpc_client_new(&c, &ccfg), VELO_EINVAL);
    ccfg.nurls = 1;
    assert_int_equal(velo_rpc_client_new(&c, &ccfg), VELO_OK);
    /* A URL nng cannot dial is config, reported at the first call. */
    assert_int_equal(get_station(c, RTS_SYSTEM, RTS_STATION, NULL, NULL),
                     VELO_EINVAL);
    velo_rpc_client_free(c);
    velo_rpc_server_stop(NULL);
    velo_rpc_client_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_url_has_the_bound_port),
        T(test_round_trip_known_station),
        T(test_unknown_station_is_enotfound_with_text),
        T(test_handler_error_text_crosses_the_wire),
        T(test_unknown_method_is_unimplemented_over_the_wire),
        T(test_garbage_frame_gets_malformed_reply),
        T(test_frame_over_server_limit_times_out_cleanly),
        T(test_clients_closing_are_not_drops),
        T(test_request_over_client_limit_is_etoobig),
        T(test_reply_over_server_limit_is_etoobig),
        T(test_failover_from_dead_to_live),
        T(test_all_dead_fails_within_the_timeout),
        T(test_unavailable_instance_fails_over),
        T(test_stopped_server_fails_then_recovers),
        T(test_concurrent_clients_one_server),
        T(test_bad_configs_are_rejected),
#undef T
    };

    velo_log_init("rpc_server_test", VELO_LOG_ERROR, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
