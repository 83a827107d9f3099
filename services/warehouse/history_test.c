/* history_test.c: the HistoryService handlers through velo_rpc_dispatch
 * against SQLite in a temp dir, no sockets: exact rows and ranges, ranking,
 * INVALID_ARGUMENT naming the parameter, UNAVAILABLE before the schema and
 * at once while the database is unreachable, queries answered while the
 * loader's transaction is open, the handler table in descriptor order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "history.h"
#include "velo/clock.h"
#include "velo/v1/history.pb-c.h"
#include "velo_test_rpc_call.h"
#include "wh_test_util.h"

#define NOW (T_H0 + 48 * T_HOUR_MS)
#define ST_OK VELO__V1__RPC_STATUS__RPC_OK
#define ST_INVALID VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT
#define ST_UNAVAILABLE VELO__V1__RPC_STATUS__RPC_UNAVAILABLE

struct fixture {
    char                    dir[64], url[128];
    struct wh_status        status;
    wh_query               *query;
    struct wh_history       h;
    struct velo_rpc_service rpc;
};

static int64_t
fixed_now(void)
{
    return NOW;
}

/* Stations 1..3 of gbfs:t: hours 0..5 each, and a day with flow 10*i. */
static void
load(const char *url)
{
    Velo__V1__HourlyStationStats h;
    Velo__V1__DailyStationStats  d;
    struct wh_batch              b;
    enum wh_reject               why;
    velo_db                     *db;
    wh_dims                     *dims;
    char                         key[128], id[4];
    int                          s, i;

    assert_int_equal(velo_db_open(&db, url, NULL), VELO_OK);
    assert_int_equal(wh_dims_new(&dims), VELO_OK);
    assert_int_equal(wh_batch_init(&b, 64), VELO_OK);
    for (s = 1; s <= 3; s++) {
        snprintf(id, sizeof(id), "%d", s);
        for (i = 0; i < 6; i++) {
            h = t_hourly("gbfs:t", id, i);
            t_hourly_key(key, sizeof(key), "gbfs:t", id, i);
            assert_int_equal(t_decode(wh_batch_slot(&b), &h.base, key, &why),
                             VELO_OK);
            wh_batch_push(&b);
        }
        d = t_daily("gbfs:t", id, 10 * (uint32_t)s);
        snprintf(key, sizeof(key), "gbfs:t/%s/daily/2025-12-01", id);
        assert_int_equal(t_decode(wh_batch_slot(&b), &d.base, key, &why),
                         VELO_OK);
        wh_batch_push(&b);
    }
    assert_int_equal(wh_batch_load(&b, db, dims, NULL, NULL), VELO_OK);
    wh_batch_fini(&b);
    wh_dims_free(dims);
    velo_db_close(db);
}

static struct fixture *
fixture_new(const char *url)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/wh_hist_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (url == NULL)
        snprintf(f->url, sizeof(f->url), "sqlite://%s/w.db", f->dir);
    else
        snprintf(f->url, sizeof(f->url), "%s", url);
    wh_status_init(&f->status);
    assert_int_equal(wh_query_new(&f->query, f->url, NULL, 2, &f->status),
                     VELO_OK);
    f->h = (struct wh_history){.query = f->query,
                               .status = &f->status,
                               .instance = "test:1",
                               .now_ms = fixed_now};
    f->rpc = wh_history_rpc(&f->h);
    return f;
}

static int
setup(void **state)
{
    struct fixture *f = fixture_new(NULL);

    load(f->url);
    wh_status_db_up(&f->status, "sqlite", 1);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char            cmd[128];

    wh_query_free(f->query);
    wh_status_fini(&f->status);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* One call of HistoryService's method through velo_rpc_dispatch. */
static int
call(struct fixture *f, const char *method, const ProtobufCMessage *req,
     const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
     char *err, size_t err_size)
{
    return velo_test_rpc_call(&f->rpc, "velo.v1.HistoryService", method, req,
                              out_desc, out, err, err_size, NOW);
}

static Velo__V1__HistoryRequest
hreq(const char *id, int64_t from, int64_t to)
{
    Velo__V1__HistoryRequest r = VELO__V1__HISTORY_REQUEST__INIT;

    r.system_id = (char *)"gbfs:t";
    r.station_id = (char *)id;
    r.has_from_ms = r.has_to_ms = true;
    r.from_ms = from;
    r.to_ms = to;
    return r;
}

static void
test_handlers_follow_descriptor_order(void **state)
{
    static const char *const want[] = {"GetHourly", "GetDaily", "TopStations",
                                       "Health"};
    const ProtobufCServiceDescriptor *d =
        &velo__v1__history_service__descriptor;
    unsigned i;

    (void)state;
    assert_int_equal(d->n_methods, 4);
    for (i = 0; i < d->n_methods; i++)
        assert_string_equal(d->methods[i].name, want[i]);
}

static void
test_get_hourly_returns_the_range_oldest_first(void **state)
{
    struct fixture          *f = *state;
    Velo__V1__HistoryRequest rq =
        hreq("2", T_H0 + T_HOUR_MS, T_H0 + 4 * T_HOUR_MS);
    Velo__V1__HourlyHistory *r;
    char                     err[256];
    size_t                   i;

    assert_int_equal(call(f, "GetHourly", &rq.base,
                          &velo__v1__hourly_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_int_equal(r->n_rows, 3); /* hours 1, 2, 3: [from, to) */
    for (i = 0; i < 3; i++) {
        assert_string_equal(r->rows[i]->system_id, "gbfs:t");
        assert_string_equal(r->rows[i]->station_id, "2");
        assert_int_equal(r->rows[i]->window_start_ms,
                         T_H0 + (int64_t)(i + 1) * T_HOUR_MS);
        assert_true(r->rows[i]->bikes_avg == 3.5 + (double)(i + 1));
        assert_int_equal(r->rows[i]->bikes_in, 4 + i + 1);
        assert_int_equal(r->rows[i]->status,
                         VELO__V1__STATION_STATUS__STATION_STATUS_OPEN);
        assert_false(r->rows[i]->has_electric_avg);
    }
    velo__v1__hourly_history__free_unpacked(r, NULL);
    /* limit */
    rq = hreq("2", T_H0, T_H0 + 24 * T_HOUR_MS);
    rq.has_limit = true;
    rq.limit = 2;
    assert_int_equal(call(f, "GetHourly", &rq.base,
                          &velo__v1__hourly_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_int_equal(r->n_rows, 2);
    assert_int_equal(r->rows[0]->window_start_ms, T_H0);
    velo__v1__hourly_history__free_unpacked(r, NULL);
}

static void
test_get_daily_and_unknown_station(void **state)
{
    struct fixture          *f = *state;
    Velo__V1__HistoryRequest rq = VELO__V1__HISTORY_REQUEST__INIT;
    Velo__V1__DailyHistory  *r;
    char                     err[256];

    /* Defaults: to = now (T_H0 + 48 h), from = 31 days before. */
    rq.system_id = (char *)"gbfs:t";
    rq.station_id = (char *)"3";
    assert_int_equal(call(f, "GetDaily", &rq.base,
                          &velo__v1__daily_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_int_equal(r->n_rows, 1);
    assert_string_equal(r->rows[0]->local_date, "2025-12-01");
    assert_int_equal(r->rows[0]->bikes_in, 30);
    velo__v1__daily_history__free_unpacked(r, NULL);
    /* A known station, a range without rows: an empty list. */
    rq.has_to_ms = true;
    rq.to_ms = T_H0 - 40 * T_HOUR_MS;
    assert_int_equal(call(f, "GetDaily", &rq.base,
                          &velo__v1__daily_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_int_equal(r->n_rows, 0);
    velo__v1__daily_history__free_unpacked(r, NULL);
    /* A station the warehouse never saw: NOT_FOUND naming it. */
    rq.station_id = (char *)"nope";
    assert_int_equal(call(f, "GetDaily", &rq.base,
                          &velo__v1__daily_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     VELO__V1__RPC_STATUS__RPC_NOT_FOUND);
    assert_string_equal(err, "no station gbfs:t/nope in the warehouse");
}

static void
top(struct fixture *f, Velo__V1__TopRank by, const char *want)
{
    Velo__V1__TopStationsRequest rq = VELO__V1__TOP_STATIONS_REQUEST__INIT;
    Velo__V1__DailyHistory      *r;
    char                         err[256], got[16] = "";
    size_t                       i;

    rq.system_id = (char *)"gbfs:t";
    rq.local_date = (char *)"2025-12-01";
    rq.has_by = true;
    rq.by = by;
    assert_int_equal(call(f, "TopStations", &rq.base,
                          &velo__v1__daily_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    for (i = 0; i < r->n_rows && i < 3; i++)
        got[i] = r->rows[i]->station_id[0];
    assert_string_equal(got, want);
    velo__v1__daily_history__free_unpacked(r, NULL);
}

static void
test_top_stations_ranks_by_each_measure(void **state)
{
    struct fixture *f = *state;

    top(f, VELO__V1__TOP_RANK__TOP_RANK_FLOW, "321");
    top(f, VELO__V1__TOP_RANK__TOP_RANK_MINUTES_EMPTY, "123");
    top(f, VELO__V1__TOP_RANK__TOP_RANK_MINUTES_FULL, "321");
}

static void
expect_invalid(struct fixture *f, const char *method,
               const ProtobufCMessage *rq, const char *names)
{
    ProtobufCMessage *r = NULL;
    char              err[256];

    assert_int_equal(call(f, method, rq, &velo__v1__daily_history__descriptor,
                          &r, err, sizeof(err)),
                     ST_INVALID);
    assert_non_null(strstr(err, names));
}

static void
test_bad_arguments_name_the_parameter(void **state)
{
    struct fixture              *f = *state;
    Velo__V1__HistoryRequest     rq = hreq("1", T_H0, T_H0 + T_HOUR_MS);
    Velo__V1__TopStationsRequest tq = VELO__V1__TOP_STATIONS_REQUEST__INIT;

    rq.station_id = NULL;
    expect_invalid(f, "GetHourly", &rq.base, "station_id");
    rq = hreq("1", T_H0, T_H0 + T_HOUR_MS);
    rq.system_id = (char *)"";
    expect_invalid(f, "GetDaily", &rq.base, "system_id");
    rq = hreq("1", T_H0, T_H0);
    expect_invalid(f, "GetHourly", &rq.base, "from_ms");
    rq = hreq("1", T_H0, T_H0 + T_HOUR_MS);
    rq.has_limit = true;
    rq.limit = WH_HISTORY_LIMIT_MAX + 1;
    expect_invalid(f, "GetHourly", &rq.base, "limit");
    tq.system_id = (char *)"gbfs:t";
    expect_invalid(f, "TopStations", &tq.base, "local_date");
    tq.local_date = (char *)"2025-12-1";
    expect_invalid(f, "TopStations", &tq.base, "local_date");
    tq.local_date = (char *)"2025-12-01";
    tq.has_by = true;
    tq.by = 7;
    expect_invalid(f, "TopStations", &tq.base, "by");
}

static void
test_health_reports_the_loader(void **state)
{
    struct fixture                *f = *state;
    Velo__V1__HistoryHealthRequest rq = VELO__V1__HISTORY_HEALTH_REQUEST__INIT;
    Velo__V1__HistoryHealthReply  *r;
    char                           err[256];

    wh_status_loaded(&f->status, 21, NOW);
    wh_status_rejected(&f->status, 2);
    assert_int_equal(call(f, "Health", &rq.base,
                          &velo__v1__history_health_reply__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_true(r->ready);
    assert_string_equal(r->backend, "sqlite");
    assert_string_equal(r->instance, "test:1");
    assert_int_equal(r->rows_loaded, 21);
    assert_int_equal(r->rejected, 2);
    assert_int_equal(r->last_commit_ms, NOW);
    velo__v1__history_health_reply__free_unpacked(r, NULL);
    wh_status_db_down(&f->status, "connection refused");
    assert_int_equal(call(f, "Health", &rq.base,
                          &velo__v1__history_health_reply__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_false(r->ready);
    assert_string_equal(r->reason, "database unavailable: connection refused");
    velo__v1__history_health_reply__free_unpacked(r, NULL);
}

/* The loader's transaction is open (rows written, not committed): a query
 * answers at once with the committed state (SQLite WAL). */
static void
test_query_does_not_wait_for_the_loader(void **state)
{
    struct fixture              *f = *state;
    Velo__V1__HourlyStationStats h = t_hourly("gbfs:t", "9", 0);
    Velo__V1__HistoryRequest     rq = hreq("9", T_H0, T_H0 + T_HOUR_MS);
    Velo__V1__HourlyHistory     *r;
    struct wh_record             rec;
    struct velo_db_row           row;
    enum wh_reject               why;
    velo_db                     *loader;
    char                         err[256];
    int64_t                      t0;

    assert_int_equal(velo_db_connect(&loader, f->url, NULL), VELO_OK);
    assert_int_equal(
        t_decode(&rec, &h.base, "gbfs:t/9/hourly/2025-12-01T00:00Z", &why),
        VELO_OK);
    wh_record_row(&rec, &row);
    assert_int_equal(velo_db_begin(loader), VELO_OK);
    assert_int_equal(velo_db_upsert(loader, &row, 1), VELO_OK);
    t0 = velo_mono_ms();
    /* Not committed yet: the station is not there. */
    assert_int_equal(call(f, "GetHourly", &rq.base,
                          &velo__v1__hourly_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     VELO__V1__RPC_STATUS__RPC_NOT_FOUND);
    assert_true(velo_mono_ms() - t0 < 1000);
    assert_int_equal(velo_db_commit(loader), VELO_OK);
    assert_int_equal(call(f, "GetHourly", &rq.base,
                          &velo__v1__hourly_history__descriptor,
                          (ProtobufCMessage **)&r, err, sizeof(err)),
                     ST_OK);
    assert_int_equal(r->n_rows, 1);
    velo__v1__hourly_history__free_unpacked(r, NULL);
    wh_record_fini(&rec);
    velo_db_close(loader);
}

static void
test_unavailable_before_the_schema(void **state)
{
    struct fixture          *f = fixture_new(NULL);
    Velo__V1__HistoryRequest rq = hreq("1", T_H0, T_H0 + T_HOUR_MS);
    ProtobufCMessage        *r;
    char                     err[256];

    (void)state;
    assert_int_equal(call(f, "GetHourly", &rq.base,
                          &velo__v1__hourly_history__descriptor, &r, err,
                          sizeof(err)),
                     ST_UNAVAILABLE);
    assert_non_null(strstr(err, "database"));
    teardown((void **)&f);
}

/* A server that refuses connections: UNAVAILABLE, and the calls right
 * after it answer without trying again (no connect timeout per call). */
static void
test_unreachable_database_is_unavailable_at_once(void **state)
{
    struct fixture *f = fixture_new("postgresql://velo@127.0.0.1:1/warehouse");
    Velo__V1__HistoryRequest rq = hreq("1", T_H0, T_H0 + T_HOUR_MS);
    ProtobufCMessage        *r;
    char                     err[256];
    int64_t                  t0;
    int                      i;

    (void)state;
    wh_status_db_up(&f->status, "postgresql", 1); /* as if it was up */
    t0 = velo_mono_ms();
    assert_int_equal(call(f, "GetHourly", &rq.base,
                          &velo__v1__hourly_history__descriptor, &r, err,
                          sizeof(err)),
                     ST_UNAVAILABLE);
    assert_true(velo_mono_ms() - t0 < WH_QUERY_CONNECT_MS + 500);
    t0 = velo_mono_ms();
    for (i = 0; i < 20; i++)
        assert_int_equal(call(f, "GetDaily", &rq.base,
                              &velo__v1__daily_history__descriptor, &r, err,
                              sizeof(err)),
                         ST_UNAVAILABLE);
    assert_true(velo_mono_ms() - t0 < 200);
    assert_non_null(strstr(err, "unavailable"));
    teardown((void **)&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handlers_follow_descriptor_order),
        cmocka_unit_test_setup_teardown(
            test_get_hourly_returns_the_range_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_daily_and_unknown_station,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_stations_ranks_by_each_measure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments_name_the_parameter,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_reports_the_loader, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_does_not_wait_for_the_loader,
                                        setup, teardown),
        cmocka_unit_test(test_unavailable_before_the_schema),
        cmocka_unit_test(test_unreachable_database_is_unavailable_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
