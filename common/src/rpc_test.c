/* rpc_test.c: velo_rpc_dispatch without sockets (frames in, reply frames
 * out) and the velo_err <-> RpcStatus mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpc_test_util.h"
#include "velo/log.h"
#include "velo/metrics.h"
#include "velo/rpc.h"
#include "velo/utf8.h"

#define NOW_MS 1700000000000LL
#define OUT_MAX (64 * 1024)

struct fx {
    struct rts              rts;
    struct velo_rpc_service svc;
    struct velo_buf         out;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    rts_init(&f->rts);
    f->svc = rts_service(&f->rts);
    velo_buf_init(&f->out, OUT_MAX);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    velo_buf_fini(&f->out);
    free(f);
    return 0;
}

/* Packs an RpcRequest; the caller frees *frame. */
static size_t
frame_make(uint8_t **frame, const char *method, uint64_t id,
           int64_t deadline_ms, const ProtobufCMessage *in)
{
    Velo__V1__RpcRequest rq = VELO__V1__RPC_REQUEST__INIT;
    uint8_t              payload[4096];
    size_t               n;

    rq.method = (char *)method;
    rq.has_id = true;
    rq.id = id;
    rq.has_deadline_ms = deadline_ms != 0;
    rq.deadline_ms = deadline_ms;
    if (in != NULL) {
        assert_true(protobuf_c_message_get_packed_size(in) <= sizeof(payload));
        rq.has_payload = true;
        rq.payload.len = protobuf_c_message_pack(in, payload);
        rq.payload.data = payload;
    }
    n = velo__v1__rpc_request__get_packed_size(&rq);
    *frame = malloc(n + 1);
    assert_non_null(*frame);
    return velo__v1__rpc_request__pack(&rq, *frame);
}

/* Dispatches one frame through f's service and decodes the reply. */
static Velo__V1__RpcReply *
dispatch(struct fx *f, const void *frame, size_t len, int64_t now_ms,
         const struct velo_rpc_stats *stats)
{
    Velo__V1__RpcReply *r;

    assert_int_equal(
        velo_rpc_dispatch(&f->svc, 1, frame, len, now_ms, stats, &f->out),
        VELO_OK);
    r = velo__v1__rpc_reply__unpack(NULL, f->out.len,
                                    (const uint8_t *)f->out.data);
    assert_non_null(r);
    return r;
}

static Velo__V1__RpcReply *
call_get(struct fx *f, const char *system, const char *station, uint64_t id,
         int64_t deadline_ms)
{
    Velo__V1__GetStationRequest in = VELO__V1__GET_STATION_REQUEST__INIT;
    Velo__V1__RpcReply         *r;
    uint8_t                    *frame;
    size_t                      n;

    in.system_id = (char *)system;
    in.station_id = (char *)station;
    n = frame_make(&frame, "velo.v1.StationService/GetStation", id, deadline_ms,
                   &in.base);
    r = dispatch(f, frame, n, NOW_MS, NULL);
    free(frame);
    return r;
}

static void
test_get_station_known_is_ok_with_state(void **state)
{
    struct fx              *f = *state;
    Velo__V1__RpcReply     *r = call_get(f, "sysA", "42", 77, NOW_MS + 500);
    Velo__V1__StationState *st;

    assert_int_equal(r->id, 77);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_OK);
    assert_true(r->error == NULL || r->error[0] == '\0');
    assert_true(r->has_payload);
    st = velo__v1__station_state__unpack(NULL, r->payload.len, r->payload.data);
    assert_non_null(st);
    assert_non_null(st->snapshot);
    assert_string_equal(st->snapshot->station_id, "42");
    assert_string_equal(st->snapshot->name, RTS_NAME);
    assert_int_equal(st->snapshot->bikes_available, RTS_BIKES);
    assert_int_equal(st->age_s, 12);
    velo__v1__station_state__free_unpacked(st, NULL);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    assert_int_equal(atomic_load(&f->rts.get_calls), 1);
}

static void
test_get_station_unknown_is_not_found_with_text(void **state)
{
    struct fx          *f = *state;
    Velo__V1__RpcReply *r = call_get(f, "sysA", "43", 5, 0);

    assert_int_equal(r->id, 5);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_NOT_FOUND);
    assert_string_equal(r->error, "no station sysA/43");
    assert_false(r->has_payload);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
}

static void
test_unknown_method_or_service_is_unimplemented(void **state)
{
    static const char *const bad[] = {"velo.v1.StationService/Nope",
                                      "velo.v1.HistoryService/GetStation",
                                      "GetStation",
                                      "",
                                      "velo.v1.StationService/",
                                      "/velo.v1.StationService/GetStation"};
    struct fx               *f = *state;
    Velo__V1__RpcReply      *r;
    uint8_t                 *frame;
    size_t                   i, n;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = frame_make(&frame, bad[i], 9, 0, NULL);
        r = dispatch(f, frame, n, NOW_MS, NULL);
        assert_int_equal(r->id, 9);
        assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED);
        assert_non_null(strstr(r->error, "unknown method"));
        velo__v1__rpc_reply__free_unpacked(r, NULL);
        free(frame);
    }
    assert_int_equal(atomic_load(&f->rts.get_calls), 0);
}

/* A method name of raw bytes, with a 4-byte character across the 64-byte
 * quoting limit: the reply's error text and the rpc.call.rejected log line
 * are valid UTF-8 (the line valid JSON), never half a character. */
static void
test_raw_bytes_method_logs_and_replies_valid_utf8(void **state)
{
    char                tmpl[] = "/tmp/velo-rpc-test-XXXXXX";
    char                method[80], line[4097];
    struct fx          *f = *state;
    Velo__V1__RpcReply *r;
    uint8_t            *frame;
    cJSON              *j;
    ssize_t             got;
    size_t              n;
    int                 fd = mkstemp(tmpl);

    assert_true(fd >= 0);
    unlink(tmpl);
    memset(method, 'a', 62);
    memcpy(method + 62, "\xf0\x9f\x9a\xb2\xff\xc0", 7); /* bike, bad */
    velo_log_init("rpc_test", VELO_LOG_WARN, fd);
    n = frame_make(&frame, method, 3, 0, NULL);
    r = dispatch(f, frame, n, NOW_MS, NULL);
    velo_log_init("rpc_test", VELO_LOG_ERROR, 1);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED);
    assert_true(velo_utf8_valid(r->error, strlen(r->error)));
    /* The cut fell before the bike, not inside it. */
    assert_non_null(strstr(r->error, "aaaa\""));
    got = pread(fd, line, sizeof(line) - 1, 0);
    assert_true(got > 0);
    line[got] = '\0';
    assert_true(velo_utf8_valid(line, (size_t)got));
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring,
                        "rpc.call.rejected");
    assert_string_equal(cJSON_GetObjectItem(j, "cause")->valuestring, r->error);
    cJSON_Delete(j);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    free(frame);
    close(fd);
}

static void
test_missing_handler_is_unimplemented(void **state)
{
    static const velo_rpc_handler only_get[] = {NULL, NULL, rts_get_station,
                                                NULL};
    struct fx                    *f = *state;
    Velo__V1__RpcReply           *r;
    uint8_t                      *frame;
    size_t                        n;

    f->svc.handlers = only_get;
    n = frame_make(&frame, "velo.v1.StationService/Health", 3, 0, NULL);
    r = dispatch(f, frame, n, NOW_MS, NULL);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED);
    assert_string_equal(r->error,
                        "velo.v1.StationService/Health is not implemented");
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    free(frame);
}

static void
test_garbage_frame_is_malformed_with_id_0(void **state)
{
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x07, 0x01};
    struct fx           *f = *state;
    Velo__V1__RpcReply *r = dispatch(f, garbage, sizeof(garbage), NOW_MS, NULL);

    assert_int_equal(r->id, 0);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_MALFORMED);
    assert_string_equal(r->error, "frame is not an RpcRequest");
    velo__v1__rpc_reply__free_unpacked(r, NULL);
}

/* A payload that is not a GetStationRequest: field 1 announced as a
 * length-delimited string of 100 bytes, with only 2 present. */
static void
test_payload_not_input_type_is_malformed(void **state)
{
    static const uint8_t bad[] = {0x0a, 0x64, 'x', 'y'};
    struct fx           *f = *state;
    Velo__V1__RpcRequest rq = VELO__V1__RPC_REQUEST__INIT;
    Velo__V1__RpcReply  *r;
    uint8_t              frame[256];
    size_t               n;

    rq.method = (char *)"velo.v1.StationService/GetStation";
    rq.has_id = true;
    rq.id = 11;
    rq.has_payload = true;
    rq.payload.len = sizeof(bad);
    rq.payload.data = (uint8_t *)bad;
    n = velo__v1__rpc_request__pack(&rq, frame);
    r = dispatch(f, frame, n, NOW_MS, NULL);
    assert_int_equal(r->id, 11);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_MALFORMED);
    assert_non_null(strstr(r->error, "GetStationRequest"));
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    assert_int_equal(atomic_load(&f->rts.get_calls), 0);
}

static void
test_expired_deadline_skips_handler(void **state)
{
    struct fx          *f = *state;
    Velo__V1__RpcReply *r;

    r = call_get(f, "sysA", "42", 21, NOW_MS - 1);
    assert_int_equal(r->id, 21);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_DEADLINE_EXCEEDED);
    assert_false(r->has_payload);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    r = call_get(f, "sysA", "42", 22, NOW_MS); /* "now" is already late */
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_DEADLINE_EXCEEDED);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    assert_int_equal(atomic_load(&f->rts.get_calls), 0);
    r = call_get(f, "sysA", "42", 23, NOW_MS + 1);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_OK);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    assert_int_equal(atomic_load(&f->rts.get_calls), 1);
}

static void
test_frame_over_limit_is_resource_exhausted(void **state)
{
    struct fx          *f = *state;
    Velo__V1__RpcReply *r;
    uint8_t            *frame = calloc(1, OUT_MAX + 1);

    assert_non_null(frame);
    r = dispatch(f, frame, OUT_MAX + 1, NOW_MS, NULL);
    assert_int_equal(r->id, 0);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r->error, "over the 65536-byte limit"));
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    free(frame);
}

static void
test_reply_over_limit_is_resource_exhausted(void **state)
{
    struct fx                    *f = *state;
    Velo__V1__ListStationsRequest in = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__RpcReply           *r;
    uint8_t                      *frame;
    size_t                        n;

    in.has_limit = true;
    in.limit = 2000; /* ~50 bytes each: ~100 KiB, over 64 KiB */
    n = frame_make(&frame, "velo.v1.StationService/ListStations", 31, 0,
                   &in.base);
    r = dispatch(f, frame, n, NOW_MS, NULL);
    assert_int_equal(r->id, 31);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_RESOURCE_EXHAUSTED);
    assert_false(r->has_payload);
    assert_true(f->out.len <= OUT_MAX);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    free(frame);
}

static void
test_out_too_small_for_any_reply_is_etoobig(void **state)
{
    struct fx      *f = *state;
    struct velo_buf tiny;
    uint8_t        *frame;
    size_t          n;

    velo_buf_init(&tiny, 3);
    n = frame_make(&frame, "velo.v1.StationService/Nope", 1, 0, NULL);
    assert_int_equal(
        velo_rpc_dispatch(&f->svc, 1, frame, n, NOW_MS, NULL, &tiny),
        VELO_ETOOBIG);
    velo_buf_fini(&tiny);
    free(frame);
}

static Velo__V1__RpcReply *
call_empty(struct fx *f, const char *method, uint64_t id)
{
    Velo__V1__RpcReply *r;
    uint8_t            *frame;
    size_t              n;

    n = frame_make(&frame, method, id, 0, NULL);
    r = dispatch(f, frame, n, NOW_MS, NULL);
    free(frame);
    return r;
}

static void
test_handler_error_text_propagates(void **state)
{
    struct fx          *f = *state;
    Velo__V1__RpcReply *r;

    atomic_store(&f->rts.broken, true);
    r = call_empty(f, "velo.v1.StationService/Health", 41);
    assert_int_equal(r->id, 41);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_INTERNAL);
    assert_string_equal(r->error, "broken on purpose");
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    atomic_store(&f->rts.broken, false);
    r = call_empty(f, "velo.v1.StationService/Health", 42);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_OK);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
}

static int
bad_no_reply(void *ctx, struct velo_rpc_call *call)
{
    (void)ctx;
    (void)call;
    return VELO__V1__RPC_STATUS__RPC_OK; /* but sets no reply */
}

static int
bad_status(void *ctx, struct velo_rpc_call *call)
{
    (void)ctx;
    (void)call;
    return 77; /* not an RpcStatus */
}

/* Returns the wrong message type: the layer must not pack it. */
static int
bad_wrong_type(void *ctx, struct velo_rpc_call *call)
{
    struct rts *t = ctx;

    call->reply = &t->systems.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static void
test_misbehaving_handlers_are_internal(void **state)
{
    static const velo_rpc_handler bad[3][4] = {
        {NULL, NULL, NULL, bad_no_reply},
        {NULL, NULL, NULL, bad_status},
        {NULL, NULL, NULL, bad_wrong_type},
    };
    struct fx          *f = *state;
    Velo__V1__RpcReply *r;
    size_t              i;

    for (i = 0; i < 3; i++) {
        f->svc.handlers = bad[i];
        r = call_empty(f, "velo.v1.StationService/Health", 50 + i);
        assert_int_equal(r->id, 50 + i);
        assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_INTERNAL);
        assert_false(r->has_payload);
        velo__v1__rpc_reply__free_unpacked(r, NULL);
    }
}

static void
test_reply_in_service_storage_is_not_freed(void **state)
{
    struct fx                  *f = *state;
    Velo__V1__RpcReply         *r;
    Velo__V1__ListSystemsReply *ls;
    int                         i;

    for (i = 0; i < 3; i++) { /* ASan: a free of service storage aborts */
        r = call_empty(f, "velo.v1.StationService/ListSystems", 60);
        assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_OK);
        ls = velo__v1__list_systems_reply__unpack(NULL, r->payload.len,
                                                  r->payload.data);
        assert_non_null(ls);
        assert_int_equal(ls->n_systems, 1);
        assert_string_equal(ls->systems[0]->system_id, RTS_SYSTEM);
        velo__v1__list_systems_reply__free_unpacked(ls, NULL);
        velo__v1__rpc_reply__free_unpacked(r, NULL);
    }
}

/* Two services on one server: the method path picks the service. */
static void
test_second_service_is_routed_by_name(void **state)
{
    static const velo_rpc_handler h[] = {rts_health};
    struct fx                    *f = *state;
    struct velo_rpc_service       svcs[2];
    Velo__V1__RpcReply           *r;
    uint8_t                      *frame;
    size_t                        n;

    svcs[0] = f->svc;
    svcs[1] = (struct velo_rpc_service){&rts_other_desc, h, &f->rts};
    n = frame_make(&frame, "test.Other/Ping", 70, 0, NULL);
    assert_int_equal(
        velo_rpc_dispatch(svcs, 2, frame, n, NOW_MS, NULL, &f->out), VELO_OK);
    r = velo__v1__rpc_reply__unpack(NULL, f->out.len,
                                    (const uint8_t *)f->out.data);
    assert_non_null(r);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_OK);
    assert_int_equal(atomic_load(&f->rts.health_calls), 1);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    free(frame);
}

static void
test_empty_frame_is_an_empty_envelope(void **state)
{
    struct fx          *f = *state;
    Velo__V1__RpcReply *r = dispatch(f, "", 0, NOW_MS, NULL);

    assert_int_equal(r->id, 0);
    assert_int_equal(r->status, VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
}

static void
test_stats_count_calls_errors_malformed(void **state)
{
    static const uint8_t  garbage[] = {0xff, 0xff};
    struct fx            *f = *state;
    velo_metrics         *m;
    struct velo_rpc_stats st;

    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    st.calls = velo_metrics_counter(m, "calls", "c", NULL);
    st.errors = velo_metrics_counter(m, "errors", "e", NULL);
    st.malformed = velo_metrics_counter(m, "malformed", "m", NULL);
    st.latency =
        velo_metrics_histogram(m, "lat", "l", NULL, velo_metrics_latency_bounds,
                               velo_metrics_latency_nbounds);
    velo__v1__rpc_reply__free_unpacked(
        dispatch(f, garbage, sizeof(garbage), NOW_MS, &st), NULL);
    velo__v1__rpc_reply__free_unpacked(dispatch(f, "", 0, NOW_MS, &st), NULL);
    velo__v1__rpc_reply__free_unpacked(
        dispatch(f, garbage, sizeof(garbage), NOW_MS, &st), NULL);
    assert_true(velo_metric_value(st.calls) == 3.0);
    assert_true(velo_metric_value(st.errors) == 3.0);
    assert_true(velo_metric_value(st.malformed) == 2.0);
    assert_true(velo_metric_value(st.latency) == 3.0);
    velo_metrics_free(m);
}

static void
test_status_err_mapping_round_trips(void **state)
{
    static const int errs[] = {VELO_OK,      VELO_EINVAL, VELO_ENOTFOUND,
                               VELO_ETOOBIG, VELO_EPROTO, VELO_ETIMEDOUT,
                               VELO_EUNAVAIL};
    size_t           i;

    (void)state;
    for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        assert_int_equal(
            velo_rpc_err_from_status(velo_rpc_status_from_err(errs[i])),
            errs[i]);
    assert_int_equal(velo_rpc_status_from_err(VELO_EFULL),
                     VELO__V1__RPC_STATUS__RPC_UNAVAILABLE);
    assert_int_equal(velo_rpc_status_from_err(VELO_ENOMEM),
                     VELO__V1__RPC_STATUS__RPC_INTERNAL);
    assert_int_equal(velo_rpc_status_from_err(12345),
                     VELO__V1__RPC_STATUS__RPC_INTERNAL);
    assert_int_equal(
        velo_rpc_err_from_status(VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED),
        VELO_EINVAL);
    assert_int_equal(
        velo_rpc_err_from_status(VELO__V1__RPC_STATUS__RPC_INTERNAL),
        VELO_EPROTO);
    assert_int_equal(velo_rpc_err_from_status(999), VELO_EPROTO);
    assert_string_equal(velo_rpc_status_name(4), "RPC_DEADLINE_EXCEEDED");
    assert_string_equal(velo_rpc_status_name(100), "RPC_MALFORMED");
    assert_string_equal(velo_rpc_status_name(-1), "RPC_UNKNOWN");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_get_station_known_is_ok_with_state),
        T(test_get_station_unknown_is_not_found_with_text),
        T(test_unknown_method_or_service_is_unimplemented),
        T(test_missing_handler_is_unimplemented),
        T(test_garbage_frame_is_malformed_with_id_0),
        T(test_payload_not_input_type_is_malformed),
        T(test_expired_deadline_skips_handler),
        T(test_frame_over_limit_is_resource_exhausted),
        T(test_reply_over_limit_is_resource_exhausted),
        T(test_out_too_small_for_any_reply_is_etoobig),
        T(test_handler_error_text_propagates),
        T(test_misbehaving_handlers_are_internal),
        T(test_reply_in_service_storage_is_not_freed),
        T(test_second_service_is_routed_by_name),
        T(test_empty_frame_is_an_empty_envelope),
        T(test_stats_count_calls_errors_malformed),
        T(test_status_err_mapping_round_trips),
        T(test_raw_bytes_method_logs_and_replies_valid_utf8),
#undef T
    };

    velo_log_init("rpc_test", VELO_LOG_ERROR, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
