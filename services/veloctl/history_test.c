/* history_test.c: `veloctl history` and `veloctl top` over TCP against a
 * fake HistoryService (a real velo_rpc_server): tables, --json, the
 * request each option makes, exit status 1 for a service error, 2 for a
 * usage error, 3 when nothing answers; VELO_WAREHOUSE_RPC handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakestream_test_util.h"
#include "velo/v1/history.pb-c.h"

#define H0 1764547200000LL /* 2025-12-01T00:00:00Z */

struct fh {
    Velo__V1__HourlyStationStats h[2], *hp[2];
    Velo__V1__DailyStationStats  d[3], *dp[3];
    Velo__V1__HourlyHistory      hourly;
    Velo__V1__DailyHistory       daily, top;
    Velo__V1__HistoryRequest     last; /* the last history request */
    Velo__V1__TopRank            last_by;
    char                         last_date[16];
    velo_rpc_server             *srv;
};

static void
stats_fill(Velo__V1__DailyStationStats *d, const char *id, uint32_t flow)
{
    velo__v1__daily_station_stats__init(d);
    d->system_id = "gbfs:t";
    d->station_id = (char *)id;
    d->window_start_ms = H0 - 3600000;
    d->local_date = "2025-12-01";
    d->has_window_start_ms = d->has_samples = d->has_bikes_avg = true;
    d->has_minutes_empty = d->has_bikes_in = d->has_bikes_out = true;
    d->has_flow_reliable = d->has_status = d->has_capacity = true;
    d->samples = 288;
    d->bikes_avg = 7.25;
    d->minutes_empty = 100 - flow;
    d->bikes_in = d->bikes_out = flow;
    d->flow_reliable = true;
    d->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    d->capacity = 20;
}

static int
fh_hourly(void *ctx, struct velo_rpc_call *call)
{
    struct fh                      *f = ctx;
    const Velo__V1__HistoryRequest *rq = (const void *)call->req;

    f->last = *rq;
    if (strcmp(rq->station_id, "ghost") == 0) {
        snprintf(call->error, sizeof(call->error), "no station");
        return VELO__V1__RPC_STATUS__RPC_NOT_FOUND;
    }
    if (rq->from_ms >= rq->to_ms) {
        snprintf(call->error, sizeof(call->error),
                 "from_ms must be before to_ms");
        return VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT;
    }
    f->hourly.n_rows = strcmp(rq->station_id, "1") == 0 ? 2 : 0;
    call->reply = &f->hourly.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static int
fh_daily(void *ctx, struct velo_rpc_call *call)
{
    struct fh *f = ctx;

    f->last = *(const Velo__V1__HistoryRequest *)call->req;
    f->daily.n_rows = 1;
    call->reply = &f->daily.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static int
fh_top(void *ctx, struct velo_rpc_call *call)
{
    struct fh                          *f = ctx;
    const Velo__V1__TopStationsRequest *rq = (const void *)call->req;

    f->last_by = rq->by;
    snprintf(f->last_date, sizeof(f->last_date), "%s", rq->local_date);
    call->reply = &f->top.base;
    return VELO__V1__RPC_STATUS__RPC_OK;
}

static int
fh_health(void *ctx, struct velo_rpc_call *call)
{
    (void)ctx;
    snprintf(call->error, sizeof(call->error), "not used");
    return VELO__V1__RPC_STATUS__RPC_INTERNAL;
}

static const velo_rpc_handler fh_handlers[] = {fh_hourly, fh_daily, fh_top,
                                               fh_health};

static int
setup(void **state)
{
    struct fh                 *f = calloc(1, sizeof(*f));
    struct velo_rpc_service    svc = {&velo__v1__history_service__descriptor,
                                      fh_handlers, f};
    struct velo_rpc_server_cfg cfg = {"tcp://127.0.0.1:0", &svc, 1};
    int                        i;

    for (i = 0; i < 2; i++) {
        velo__v1__hourly_station_stats__init(&f->h[i]);
        f->h[i].system_id = "gbfs:t";
        f->h[i].station_id = "1";
        f->h[i].has_window_start_ms = true;
        f->h[i].window_start_ms = H0 + i * 3600000LL;
        f->h[i].has_bikes_avg = f->h[i].has_bikes_in = true;
        f->h[i].has_flow_reliable = f->h[i].has_capacity = true;
        f->h[i].bikes_avg = 3.5 + i;
        f->h[i].bikes_in = 4;
        f->h[i].flow_reliable = i == 0;
        f->h[i].capacity = 20;
        f->hp[i] = &f->h[i];
    }
    f->h[0].has_electric_avg = true;
    f->h[0].electric_avg = 1.25;
    velo__v1__hourly_history__init(&f->hourly);
    f->hourly.rows = f->hp;
    for (i = 0; i < 3; i++) {
        stats_fill(&f->d[i],
                   i == 0   ? "3"
                   : i == 1 ? "2"
                            : "1",
                   (uint32_t)(30 - 10 * i));
        f->dp[i] = &f->d[i];
    }
    velo__v1__daily_history__init(&f->daily);
    f->daily.rows = f->dp;
    velo__v1__daily_history__init(&f->top);
    f->top.rows = f->dp;
    f->top.n_rows = 3;
    assert_int_equal(velo_rpc_server_start(&f->srv, &cfg), VELO_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fh *f = *state;

    velo_rpc_server_stop(f->srv);
    free(f);
    return 0;
}

#define RUN(r, f, ...)                                                         \
    do {                                                                       \
        const char *argv_[] = {"veloctl", __VA_ARGS__, "--warehouse-rpc",      \
                               velo_rpc_server_url((f)->srv), NULL};           \
        fs_run((r), argv_);                                                    \
    } while (0)

static void
test_history_table_and_request(void **state)
{
    struct fh    *f = *state;
    struct fs_run r;

    RUN(&r, f, "history", "gbfs:t", "1", "--from", "2025-12-01", "--to",
        "2025-12-01T02:00:00Z");
    assert_int_equal(r.exit, 0);
    assert_int_equal(f->last.from_ms, H0);
    assert_int_equal(f->last.to_ms, H0 + 2 * 3600000LL);
    assert_non_null(strstr(r.out, "WINDOW (UTC)"));
    assert_non_null(strstr(r.out, "2025-12-01 00:00Z"));
    assert_non_null(strstr(r.out, "2025-12-01 01:00Z"));
    assert_non_null(strstr(r.out, "1.2")); /* ELEC of the first hour */
    assert_non_null(strstr(r.out, "gap")); /* the second hour's flow */
    fs_run_free(&r);
}

static void
test_history_json_and_daily(void **state)
{
    struct fh    *f = *state;
    struct fs_run r;

    RUN(&r, f, "history", "gbfs:t", "1", "--json", "--to", "1764554400000");
    assert_int_equal(r.exit, 0);
    assert_int_equal(f->last.to_ms, H0 + 2 * 3600000LL);
    assert_int_equal(f->last.from_ms, f->last.to_ms - 86400000LL);
    assert_non_null(strstr(r.out, "\"granularity\":\"hourly\""));
    assert_non_null(
        strstr(r.out, "\"window_start\":\"2025-12-01T00:00:00.000Z\""));
    assert_non_null(strstr(r.out, "\"bikes_avg\":3.5"));
    assert_non_null(strstr(r.out, "\"electric_avg\":1.25"));
    /* The second row has none: left out, not 0. */
    assert_null(strstr(strstr(r.out, "\"bikes_avg\":4.5"), "electric_avg"));
    assert_int_equal(r.out[r.out_len - 1], '\n');
    fs_run_free(&r);
    RUN(&r, f, "history", "gbfs:t", "1", "--daily");
    assert_int_equal(r.exit, 0);
    assert_non_null(strstr(r.out, "DATE"));
    assert_non_null(strstr(r.out, "2025-12-01"));
    assert_int_equal(f->last.to_ms - f->last.from_ms, 31 * 86400000LL);
    fs_run_free(&r);
}

static void
test_history_empty_and_errors(void **state)
{
    struct fh    *f = *state;
    struct fs_run r;
    char          url[64];

    RUN(&r, f, "history", "gbfs:t", "nope");
    assert_int_equal(r.exit, 0);
    assert_int_equal(r.out_len, 0);
    assert_non_null(strstr(r.err, "no hourly rows for gbfs:t/nope"));
    fs_run_free(&r);
    RUN(&r, f, "history", "gbfs:t", "ghost");
    assert_int_equal(r.exit, 1);
    assert_non_null(strstr(r.err, "no station gbfs:t/ghost in the warehouse"));
    fs_run_free(&r);
    RUN(&r, f, "history", "gbfs:t", "1", "--from", "2025-12-02", "--to",
        "2025-12-01");
    assert_int_equal(r.exit, 1);
    assert_non_null(strstr(r.err, "INVALID_ARGUMENT: from_ms"));
    fs_run_free(&r);
    RUN(&r, f, "history", "gbfs:t", "1", "--from", "yesterday");
    assert_int_equal(r.exit, 2);
    fs_run_free(&r);
    RUN(&r, f, "top", "gbfs:t", "--daily");
    assert_int_equal(r.exit, 2);
    fs_run_free(&r);
    RUN(&r, f, "top", "gbfs:t", "--date", "2025-13-01");
    assert_int_equal(r.exit, 2);
    fs_run_free(&r);
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", fs_free_port());
    {
        const char *argv[] = {
            "veloctl", "top",          "gbfs:t", "--warehouse-rpc",
            url,       "--timeout-ms", "300",    NULL};

        fs_run(&r, argv);
    }
    assert_int_equal(r.exit, 3);
    assert_non_null(strstr(r.err, "cannot reach velo-warehouse RPC at"));
    fs_run_free(&r);
}

static void
test_top_by_date_json(void **state)
{
    struct fh    *f = *state;
    struct fs_run r;

    RUN(&r, f, "top", "gbfs:t", "--by", "empty", "--date", "2025-12-01",
        "--json");
    assert_int_equal(r.exit, 0);
    assert_int_equal(f->last_by, VELO__V1__TOP_RANK__TOP_RANK_MINUTES_EMPTY);
    assert_string_equal(f->last_date, "2025-12-01");
    assert_non_null(strstr(r.out, "\"by\":\"empty\""));
    assert_non_null(strstr(r.out, "\"stations\":[{\"station_id\":\"3\""));
    fs_run_free(&r);
    RUN(&r, f, "top", "gbfs:t");
    assert_int_equal(r.exit, 0);
    assert_int_equal(f->last_by, VELO__V1__TOP_RANK__TOP_RANK_FLOW);
    assert_int_equal(strlen(f->last_date), 10); /* yesterday */
    assert_non_null(strstr(r.out, "1. 3"));
    assert_non_null(strstr(r.out, "3. 1"));
    fs_run_free(&r);
}

static void
test_warehouse_env(void **state)
{
    struct veloctl_args *a = calloc(1, sizeof(*a));
    const char *const    argv[] = {"veloctl", "top", "s", NULL};
    const char *const    argv2[] = {"veloctl",         "top",       "s",
                                    "--warehouse-rpc", "tcp://h:3", NULL};
    char                 err[256];

    (void)state;
    assert_int_equal(veloctl_args_parse(a, 3, (char *const *)argv, NULL, NULL,
                                        err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(veloctl_args_warehouse_env(a, NULL, err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(a->nwh, 1);
    assert_string_equal(a->wh[0], VELOCTL_DEFAULT_WAREHOUSE);
    assert_int_equal(veloctl_args_parse(a, 3, (char *const *)argv, NULL, NULL,
                                        err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(
        veloctl_args_warehouse_env(a, "tcp://a:1, tcp://b:2", err, sizeof(err)),
        VELO_OK);
    assert_int_equal(a->nwh, 2);
    assert_string_equal(a->wh[1], "tcp://b:2");
    assert_int_equal(veloctl_args_parse(a, 3, (char *const *)argv, NULL, NULL,
                                        err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(
        veloctl_args_warehouse_env(a, "nonsense", err, sizeof(err)),
        VELO_EINVAL);
    assert_non_null(strstr(err, "VELO_WAREHOUSE_RPC"));
    /* The flag replaces the environment. */
    assert_int_equal(veloctl_args_parse(a, 5, (char *const *)argv2, NULL, NULL,
                                        err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(
        veloctl_args_warehouse_env(a, "tcp://a:1", err, sizeof(err)), VELO_OK);
    assert_int_equal(a->nwh, 1);
    assert_string_equal(a->wh[0], "tcp://h:3");
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_table_and_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_json_and_daily, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_empty_and_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_top_by_date_json, setup, teardown),
        cmocka_unit_test(test_warehouse_env),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
