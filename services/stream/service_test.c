/* service_test.c: the StationService handlers through velo_rpc_dispatch,
 * with request frames built here and no sockets: rebuilding answers,
 * each method's reply, errors, paging over RPC, and readers racing the
 * writer (ASan checks that replies never point into the state). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service.h"
#include "test_util.h"
#include "velo/cursor.h"
#include "velo/v1/stream.pb-c.h"
#include "velo_test_rpc_call.h"

#define NOW 1700000000000LL

struct fixture {
    stream_state           *st;
    struct stream_progress  progress;
    struct stream_service   svc;
    struct velo_rpc_service rpc;
};

static int64_t
fixed_now(void)
{
    return NOW;
}

static void
add(struct fixture *f, const char *sys, const char *id, uint32_t bikes,
    double lat, double lon)
{
    Velo__V1__StationSnapshot s = t_snap(sys, id, bikes, 20 - bikes, NOW);
    enum stream_apply         res;

    s.lat = lat;
    s.lon = lon;
    s.last_reported_ms = NOW - 30000;
    assert_int_equal(stream_state_apply(f->st, t_heap(&s), NOW, &res, NULL),
                     VELO_OK);
}

static int
setup(void **state)
{
    static const struct stream_state_cfg cfg = {
        .stale_ms = 900000, .stuck_ms = 21600000, .trend_ms = 900000};
    struct fixture *f = calloc(1, sizeof(*f));
    char            id[8];
    int             i;

    assert_non_null(f);
    assert_int_equal(stream_state_new(&f->st, &cfg), VELO_OK);
    stream_progress_init(&f->progress);
    f->svc = (struct stream_service){f->st, &f->progress, "test:1", 10000,
                                     fixed_now};
    f->rpc = stream_service_rpc(&f->svc);
    for (i = 0; i < 25; i++) {
        snprintf(id, sizeof(id), "%d", i);
        add(f, "jcdecaux:dublin", id, (uint32_t)i % 20, 53.3 + i * 0.001,
            -6.26);
    }
    add(f, "gbfs:oslo", "7", 4, 59.9, 10.7);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    stream_state_free(f->st);
    free(f);
    return 0;
}

static void
serving(struct fixture *f, int64_t lag)
{
    atomic_store(&f->progress.assigned, true);
    atomic_store(&f->progress.rebuilt, true);
    atomic_store(&f->progress.lag, lag);
}

/* One call of StationService's method through velo_rpc_dispatch. */
static int
call(struct fixture *f, const char *method, const ProtobufCMessage *req,
     const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
     char *err, size_t err_size)
{
    return velo_test_rpc_call(&f->rpc, "velo.v1.StationService", method, req,
                              out_desc, out, err, err_size, NOW);
}

static int
get_station(struct fixture *f, const char *sys, const char *id,
            Velo__V1__StationState **out, char *err)
{
    Velo__V1__GetStationRequest rq = VELO__V1__GET_STATION_REQUEST__INIT;

    rq.system_id = (char *)sys;
    rq.station_id = (char *)id;
    return call(f, "GetStation", &rq.base, &velo__v1__station_state__descriptor,
                (ProtobufCMessage **)out, err, 256);
}

static int
list_stations(struct fixture *f, const Velo__V1__ListStationsRequest *rq,
              Velo__V1__ListStationsReply **out, char *err)
{
    return call(f, "ListStations", &rq->base,
                &velo__v1__list_stations_reply__descriptor,
                (ProtobufCMessage **)out, err, 256);
}

static Velo__V1__HealthReply *
health(struct fixture *f)
{
    Velo__V1__HealthRequest rq = VELO__V1__HEALTH_REQUEST__INIT;
    Velo__V1__HealthReply  *r = NULL;
    char                    err[256];

    assert_int_equal(call(f, "Health", &rq.base,
                          &velo__v1__health_reply__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     VELO__V1__RPC_STATUS__RPC_OK);
    return r;
}

static void
test_handler_table_follows_descriptor(void **state)
{
    static const char *const          want[] = {"ListSystems", "ListStations",
                                                "GetStation", "Health"};
    const ProtobufCServiceDescriptor *d =
        &velo__v1__station_service__descriptor;
    size_t i;

    (void)state;
    assert_int_equal(d->n_methods, 4);
    for (i = 0; i < d->n_methods; i++)
        assert_string_equal(d->methods[i].name, want[i]);
}

static void
test_rebuilding_is_unavailable_but_health_answers(void **state)
{
    struct fixture               *f = *state;
    Velo__V1__ListStationsRequest lrq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListSystemsRequest  srq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    ProtobufCMessage             *out = NULL;
    Velo__V1__HealthReply        *h;
    char                          err[256];

    assert_int_equal(
        get_station(f, "gbfs:oslo", "7", (Velo__V1__StationState **)&out, err),
        VELO__V1__RPC_STATUS__RPC_UNAVAILABLE);
    assert_string_equal(err, "state rebuilding");
    assert_int_equal(
        list_stations(f, &lrq, (Velo__V1__ListStationsReply **)&out, err),
        VELO__V1__RPC_STATUS__RPC_UNAVAILABLE);
    assert_int_equal(call(f, "ListSystems", &srq.base,
                          &velo__v1__list_systems_reply__descriptor, &out, err,
                          sizeof(err)),
                     VELO__V1__RPC_STATUS__RPC_UNAVAILABLE);
    assert_null(out);
    h = health(f);
    assert_true(h->has_ready);
    assert_false(h->ready);
    assert_non_null(strstr(h->reason, "state rebuilding"));
    assert_int_equal(h->stations, 26);
    assert_false(h->has_consumer_lag);
    assert_string_equal(h->instance, "test:1");
    velo__v1__health_reply__free_unpacked(h, NULL);
}

static void
test_get_station_found_missing_and_bad(void **state)
{
    struct fixture         *f = *state;
    Velo__V1__StationState *ss = NULL;
    char                    err[256];

    serving(f, 0);
    assert_int_equal(get_station(f, "jcdecaux:dublin", "12", &ss, err),
                     VELO__V1__RPC_STATUS__RPC_OK);
    assert_string_equal(ss->snapshot->system_id, "jcdecaux:dublin");
    assert_string_equal(ss->snapshot->station_id, "12");
    assert_string_equal(ss->snapshot->name, "12");
    assert_int_equal(ss->snapshot->bikes_available, 12);
    assert_int_equal(ss->snapshot->docks_available, 8);
    assert_true(ss->has_age_s);
    assert_int_equal(ss->age_s, 30); /* NOW - last_reported */
    assert_false(ss->stale);
    assert_false(ss->has_trend_15m);
    assert_int_equal(ss->applied_at_ms, NOW);
    velo__v1__station_state__free_unpacked(ss, NULL);
    assert_int_equal(get_station(f, "jcdecaux:dublin", "99", &ss, err),
                     VELO__V1__RPC_STATUS__RPC_NOT_FOUND);
    assert_non_null(strstr(err, "jcdecaux:dublin/99"));
    assert_int_equal(get_station(f, "jcdecaux:dublin", NULL, &ss, err),
                     VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT);
}

static void
test_list_stations_pages_over_rpc(void **state)
{
    struct fixture               *f = *state;
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsReply  *r = NULL;
    char                          cursor[VELO_CURSOR_TEXT_MAX] = "", err[256];
    size_t                        seen = 0, i;

    serving(f, 0);
    rq.system_id = (char *)"jcdecaux:dublin";
    rq.has_limit = rq.has_near_lat = rq.has_near_lon = true;
    rq.limit = 10;
    rq.near_lat = 53.3;
    rq.near_lon = -6.26;
    do {
        rq.cursor = cursor[0] ? cursor : NULL;
        assert_int_equal(list_stations(f, &rq, &r, err),
                         VELO__V1__RPC_STATUS__RPC_OK);
        assert_int_equal(r->total, 25);
        assert_int_equal(r->n_distance_m, r->n_stations);
        for (i = 0; i < r->n_stations; i++) {
            /* Station i lies i * 111 m north: distance order is id order. */
            assert_int_equal(atoi(r->stations[i]->snapshot->station_id),
                             (int)(seen + i));
            assert_true(r->distance_m[i] >= (double)(seen + i) * 110.0);
        }
        seen += r->n_stations;
        snprintf(cursor, sizeof(cursor), "%s",
                 r->next_cursor ? r->next_cursor : "");
        velo__v1__list_stations_reply__free_unpacked(r, NULL);
    } while (cursor[0] != '\0');
    assert_int_equal(seen, 25);
    rq.cursor = (char *)"nope";
    assert_int_equal(list_stations(f, &rq, &r, err),
                     VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT);
    assert_string_equal(err, "bad cursor");
    rq.cursor = NULL;
    rq.has_near_lat = rq.has_near_lon = false;
    rq.has_radius_m = true;
    assert_int_equal(list_stations(f, &rq, &r, err),
                     VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "radius_m"));
}

/* Fault 12: an unknown system listed as an empty page ("no stations
 * match"); it is NOT_FOUND. A known system whose filters match nothing is
 * still an empty page. */
static void
test_list_stations_of_unknown_system_is_not_found(void **state)
{
    struct fixture               *f = *state;
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsReply  *r = NULL;
    char                          err[256];

    serving(f, 0);
    rq.system_id = (char *)"nosuch:sys";
    assert_int_equal(list_stations(f, &rq, &r, err),
                     VELO__V1__RPC_STATUS__RPC_NOT_FOUND);
    assert_string_equal(err, "unknown system nosuch:sys");
    rq.system_id = (char *)"jcdecaux:dublin";
    rq.has_min_bikes = true;
    rq.min_bikes = 1000000;
    assert_int_equal(list_stations(f, &rq, &r, err),
                     VELO__V1__RPC_STATUS__RPC_OK);
    assert_int_equal(r->n_stations, 0);
    velo__v1__list_stations_reply__free_unpacked(r, NULL);
}

static void
test_list_systems_summarises(void **state)
{
    struct fixture              *f = *state;
    Velo__V1__ListSystemsRequest rq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    Velo__V1__ListSystemsReply  *r = NULL;
    char                         err[256];
    uint32_t                     bikes = 0, i;

    serving(f, 0);
    assert_int_equal(call(f, "ListSystems", &rq.base,
                          &velo__v1__list_systems_reply__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     VELO__V1__RPC_STATUS__RPC_OK);
    assert_int_equal(r->n_systems, 2);
    assert_string_equal(r->systems[0]->system_id, "gbfs:oslo");
    assert_int_equal(r->systems[0]->stations, 1);
    assert_int_equal(r->systems[0]->bikes_available, 4);
    assert_string_equal(r->systems[1]->system_id, "jcdecaux:dublin");
    assert_int_equal(r->systems[1]->stations, 25);
    for (i = 0; i < 25; i++)
        bikes += i % 20;
    assert_int_equal(r->systems[1]->bikes_available, bikes);
    assert_int_equal(r->systems[1]->docks_available, 25 * 20 - bikes);
    assert_int_equal(r->systems[1]->last_fetched_ms, NOW);
    velo__v1__list_systems_reply__free_unpacked(r, NULL);
}

/* Packs a SystemInfo and applies it as a velib_systems record would. */
static void
apply_info(stream_systems *ss, const char *sys, const char *name,
           const char *tz)
{
    Velo__V1__SystemInfo si = VELO__V1__SYSTEM_INFO__INIT;
    uint8_t              buf[256];
    size_t               n;

    si.system_id = (char *)sys;
    si.name = (char *)name;
    si.timezone = (char *)tz;
    n = velo__v1__system_info__pack(&si, buf);
    assert_int_equal(stream_systems_apply(ss, sys, strlen(sys), buf, n),
                     VELO_OK);
}

static void
test_list_systems_carries_system_info_when_known(void **state)
{
    struct fixture              *f = *state;
    Velo__V1__ListSystemsRequest rq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    Velo__V1__ListSystemsReply  *r = NULL;
    stream_systems              *ss = NULL;
    char                         err[256];

    assert_int_equal(
        stream_systems_new(&ss, &(struct stream_systems_cfg){.topic = "t"}),
        VELO_OK);
    apply_info(ss, "jcdecaux:dublin", "Dublin Bikes", "Europe/Dublin");
    f->svc.systems = ss;
    serving(f, 0);
    assert_int_equal(call(f, "ListSystems", &rq.base,
                          &velo__v1__list_systems_reply__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     VELO__V1__RPC_STATUS__RPC_OK);
    assert_int_equal(r->n_systems, 2);
    assert_null(r->systems[0]->info); /* gbfs:oslo: none published yet */
    assert_non_null(r->systems[1]->info);
    assert_string_equal(r->systems[1]->info->name, "Dublin Bikes");
    assert_string_equal(r->systems[1]->info->timezone, "Europe/Dublin");
    velo__v1__list_systems_reply__free_unpacked(r, NULL);
    f->svc.systems = NULL;
    stream_systems_free(ss);
}

static void
test_health_reports_lag_against_limit(void **state)
{
    struct fixture        *f = *state;
    Velo__V1__HealthReply *h;

    serving(f, 42);
    h = health(f);
    assert_true(h->ready);
    assert_null(h->reason);
    assert_int_equal(h->consumer_lag, 42);
    velo__v1__health_reply__free_unpacked(h, NULL);
    serving(f, 10000); /* at the limit: no longer ready, still serving */
    h = health(f);
    assert_false(h->ready);
    assert_non_null(strstr(h->reason, "consumer lag 10000"));
    velo__v1__health_reply__free_unpacked(h, NULL);
}

/* ---- readers racing the writer ---- */

struct race {
    struct fixture *f;
    atomic_bool     done;
    atomic_int      bad;   /* failed calls and torn snapshots */
    atomic_int      calls; /* replies checked */
};

static void *
race_reader(void *arg)
{
    struct race                  *r = arg;
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsReply  *rep;
    char                          err[256];
    size_t                        i;

    rq.has_limit = true;
    rq.limit = 50;
    while (!atomic_load(&r->done)) {
        if (list_stations(r->f, &rq, &rep, err) !=
            VELO__V1__RPC_STATUS__RPC_OK) {
            atomic_fetch_add(&r->bad, 1);
            continue;
        }
        for (i = 0; i < rep->n_stations; i++) {
            if (rep->stations[i]->snapshot->bikes_available +
                    rep->stations[i]->snapshot->docks_available !=
                20)
                atomic_fetch_add(&r->bad, 1);
        }
        velo__v1__list_stations_reply__free_unpacked(rep, NULL);
        atomic_fetch_add(&r->calls, 1);
    }
    return NULL;
}

static void
test_readers_race_the_writer(void **state)
{
    struct fixture           *f = *state;
    struct race               r = {.f = f};
    pthread_t                 th[2];
    Velo__V1__StationSnapshot s;
    enum stream_apply         res;
    char                      id[8];
    int                       i;

    serving(f, 0);
    atomic_init(&r.done, false);
    atomic_init(&r.bad, 0);
    atomic_init(&r.calls, 0);
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
    /* Until the readers got 300 replies, so the two really overlap. */
    for (i = 0; atomic_load(&r.calls) < 300 && i < 10000000; i++) {
        snprintf(id, sizeof(id), "%d", i % 25);
        s = t_snap("jcdecaux:dublin", id, (uint32_t)(i % 21),
                   (uint32_t)(20 - i % 21), NOW + i + 1);
        assert_int_equal(
            stream_state_apply(f->st, t_heap(&s), NOW + i, &res, NULL),
            VELO_OK);
    }
    atomic_store(&r.done, true);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.bad), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_table_follows_descriptor),
        cmocka_unit_test_setup_teardown(
            test_rebuilding_is_unavailable_but_health_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_station_found_missing_and_bad,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_stations_pages_over_rpc,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_list_stations_of_unknown_system_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_systems_summarises, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_list_systems_carries_system_info_when_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_reports_lag_against_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_race_the_writer, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
