/* params_test.c: strict parameters without sockets: every bad value is a
 * 400 naming its parameter (NaN, out-of-range coordinates, negative
 * radius, huge limit...), good values fill the RPC request, and paths
 * split into system/station/sub-resource and GBFS version/system/feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "params.h"

/* A query as "k=v" pairs (already decoded, as MHD gives them). */
struct kv {
    const char *const *pairs; /* k0, v0, k1, v1, ..., NULL */
};

static const char *
kv_get(const void *ctx, const char *key)
{
    const struct kv *q = ctx;
    size_t           i;

    for (i = 0; q->pairs[i] != NULL; i += 2)
        if (strcmp(q->pairs[i], key) == 0)
            return q->pairs[i + 1];
    return NULL;
}

#define QUERY(...)                                                             \
    (struct gw_query)                                                          \
    {                                                                          \
        kv_get, &(struct kv)                                                   \
        {                                                                      \
            (const char *const[]) { __VA_ARGS__, NULL }                        \
        }                                                                      \
    }

/* Runs gw_params_stations and returns the parameter it blamed (or NULL). */
static const char *
blamed(struct gw_query q)
{
    static struct gw_perr         e;
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;

    memset(&e, 0, sizeof(e));
    if (gw_params_stations(&q, &rq, &e) == VELO_OK)
        return NULL;
    assert_non_null(e.param);
    assert_non_null(strstr(e.msg, e.param)); /* the message names it */
    return e.param;
}

static void
test_stations_good_parameters_fill_the_request(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct gw_perr                e;
    struct gw_query               q = QUERY(
                      "system", "jcdecaux:bruxelles", "near", "50.8453,4.3571", "radius_m",
                      "500", "min_bikes", "1", "min_docks", "2", "status", "OPEN", "q",
                      "Gare Centrale", "limit", "5000", "cursor", "AbC-_9");

    (void)state;
    assert_int_equal(gw_params_stations(&q, &rq, &e), VELO_OK);
    assert_string_equal(rq.system_id, "jcdecaux:bruxelles");
    assert_true(rq.has_near_lat && rq.has_near_lon);
    assert_true(rq.near_lat == 50.8453 && rq.near_lon == 4.3571);
    assert_true(rq.has_radius_m && rq.radius_m == 500);
    assert_true(rq.has_min_bikes && rq.min_bikes == 1);
    assert_true(rq.has_min_docks && rq.min_docks == 2);
    assert_true(rq.has_status &&
                rq.status == VELO__V1__STATION_STATUS__STATION_STATUS_OPEN);
    assert_string_equal(rq.q, "Gare Centrale");
    assert_true(rq.has_limit && rq.limit == 5000);
    assert_string_equal(rq.cursor, "AbC-_9");
}

static void
test_stations_absent_parameters_stay_absent(void **state)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    struct gw_perr                e;
    struct gw_query               q = QUERY("unknown", "ignored");

    (void)state;
    assert_int_equal(gw_params_stations(&q, &rq, &e), VELO_OK);
    assert_null(rq.system_id);
    assert_false(rq.has_near_lat || rq.has_limit || rq.has_status ||
                 rq.has_min_lat || rq.has_radius_m);
}

static void
test_stations_bad_values_name_their_parameter(void **state)
{
    (void)state;
    assert_string_equal(blamed(QUERY("near", "nan,0")), "near");
    assert_string_equal(blamed(QUERY("near", "0,inf")), "near");
    assert_string_equal(blamed(QUERY("near", "90.0001,0")), "near");
    assert_string_equal(blamed(QUERY("near", "0,-180.5")), "near");
    assert_string_equal(blamed(QUERY("near", "1,2,3")), "near");
    assert_string_equal(blamed(QUERY("near", "1;2")), "near");
    assert_string_equal(blamed(QUERY("near", "0,0", "radius_m", "-5")),
                        "radius_m");
    assert_string_equal(blamed(QUERY("near", "0,0", "radius_m", "0")),
                        "radius_m");
    assert_string_equal(blamed(QUERY("near", "0,0", "radius_m", "20037510")),
                        "radius_m");
    assert_string_equal(blamed(QUERY("radius_m", "100")), "radius_m");
    assert_string_equal(blamed(QUERY("limit", "5001")), "limit");
    assert_string_equal(blamed(QUERY("limit", "99999999999999999999")),
                        "limit");
    assert_string_equal(blamed(QUERY("limit", "0")), "limit");
    assert_string_equal(blamed(QUERY("limit", "10 ")), "limit");
    assert_string_equal(blamed(QUERY("bbox", "0,0,1")), "bbox");
    assert_string_equal(blamed(QUERY("bbox", "1,0,0,1")), "bbox");
    assert_string_equal(blamed(QUERY("bbox", "0,-91,1,1")), "bbox");
    assert_string_equal(blamed(QUERY("status", "opened")), "status");
    assert_string_equal(blamed(QUERY("min_bikes", "-1")), "min_bikes");
    assert_string_equal(blamed(QUERY("min_docks", "x")), "min_docks");
    assert_string_equal(blamed(QUERY("cursor", "a b")), "cursor");
    assert_string_equal(blamed(QUERY("q", "")), "q");
    assert_string_equal(blamed(QUERY("q", "bad\x01")), "q");
    assert_string_equal(blamed(QUERY("q", "\xff\xfe")), "q");
    assert_string_equal(blamed(QUERY("system", "")), "system");
    assert_null(blamed(QUERY("bbox", "4.3,50.8,4.4,50.9")));
}

static void
test_history_parameters(void **state)
{
    Velo__V1__HistoryRequest rq = VELO__V1__HISTORY_REQUEST__INIT;
    struct gw_perr           e;
    bool                     daily = false;
    struct gw_query          good =
        QUERY("granularity", "day", "from", "2026-03-29T00:00:00Z", "to",
              "1774828800000", "limit", "31");
    struct gw_query q;

    (void)state;
    assert_int_equal(gw_params_history(&good, &rq, &daily, &e), VELO_OK);
    assert_true(daily);
    assert_true(rq.has_from_ms && rq.from_ms == 1774742400000LL);
    assert_true(rq.has_to_ms && rq.to_ms == 1774828800000LL);
    assert_true(rq.has_limit && rq.limit == 31);
    rq = (Velo__V1__HistoryRequest)VELO__V1__HISTORY_REQUEST__INIT;
    q = QUERY("granularity", "week");
    assert_int_equal(gw_params_history(&q, &rq, &daily, &e), VELO_EINVAL);
    assert_string_equal(e.param, "granularity");
    q = QUERY("from", "yesterday");
    assert_int_equal(gw_params_history(&q, &rq, &daily, &e), VELO_EINVAL);
    assert_string_equal(e.param, "from");
    q = QUERY("from", "2026-01-02T00:00:00Z", "to", "2026-01-01T00:00:00Z");
    assert_int_equal(gw_params_history(&q, &rq, &daily, &e), VELO_EINVAL);
    assert_string_equal(e.param, "from");
    rq = (Velo__V1__HistoryRequest)VELO__V1__HISTORY_REQUEST__INIT;
    q = QUERY("limit", "10001");
    assert_int_equal(gw_params_history(&q, &rq, &daily, &e), VELO_EINVAL);
    assert_string_equal(e.param, "limit");
}

static void
test_top_parameters(void **state)
{
    Velo__V1__TopStationsRequest rq = VELO__V1__TOP_STATIONS_REQUEST__INIT;
    struct gw_perr               e;
    struct gw_query              q =
        QUERY("system", "s", "date", "2026-03-29", "by", "empty");

    (void)state;
    assert_int_equal(gw_params_top(&q, &rq, &e), VELO_OK);
    assert_string_equal(rq.local_date, "2026-03-29");
    assert_true(rq.has_by &&
                rq.by == VELO__V1__TOP_RANK__TOP_RANK_MINUTES_EMPTY);
    q = QUERY("system", "s", "date", "2026-3-29");
    assert_int_equal(gw_params_top(&q, &rq, &e), VELO_EINVAL);
    assert_string_equal(e.param, "date");
    q = QUERY("date", "2026-03-29");
    assert_int_equal(gw_params_top(&q, &rq, &e), VELO_EINVAL);
    assert_string_equal(e.param, "system");
}

static void
test_station_paths_split_or_are_not_found(void **state)
{
    char           buf[512];
    const char    *sys, *st, *sub;
    struct gw_perr e;
    char           longid[400];

    (void)state;
    assert_int_equal(gw_path_station("jcdecaux:bruxelles/42", buf, sizeof(buf),
                                     &sys, &st, &sub, &e),
                     VELO_OK);
    assert_string_equal(sys, "jcdecaux:bruxelles");
    assert_string_equal(st, "42");
    assert_null(sub);
    assert_int_equal(
        gw_path_station("s/42/history", buf, sizeof(buf), &sys, &st, &sub, &e),
        VELO_OK);
    assert_string_equal(sub, "history");
    assert_int_equal(
        gw_path_station("s", buf, sizeof(buf), &sys, &st, &sub, &e),
        VELO_ENOTFOUND);
    assert_int_equal(
        gw_path_station("s//x", buf, sizeof(buf), &sys, &st, &sub, &e),
        VELO_ENOTFOUND);
    assert_int_equal(
        gw_path_station("s/1/h/x", buf, sizeof(buf), &sys, &st, &sub, &e),
        VELO_ENOTFOUND);
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    longid[2] = '/';
    assert_int_equal(
        gw_path_station(longid, buf, sizeof(buf), &sys, &st, &sub, &e),
        VELO_EINVAL);
    assert_string_equal(e.param, "station");
}

static void
test_gbfs_paths(void **state)
{
    char        buf[256];
    const char *v, *sys, *f;

    (void)state;
    assert_int_equal(gw_path_gbfs("2.3/jcdecaux:lyon/gbfs.json", buf,
                                  sizeof(buf), &v, &sys, &f),
                     VELO_OK);
    assert_string_equal(v, "2.3");
    assert_string_equal(sys, "jcdecaux:lyon");
    assert_string_equal(f, "gbfs.json");
    assert_int_equal(
        gw_path_gbfs("3.0/manifest.json", buf, sizeof(buf), &v, &sys, &f),
        VELO_OK);
    assert_null(sys);
    assert_int_equal(
        gw_path_gbfs("2.2/x/gbfs.json", buf, sizeof(buf), &v, &sys, &f),
        VELO_ENOTFOUND);
    assert_int_equal(
        gw_path_gbfs("2.3/manifest.json", buf, sizeof(buf), &v, &sys, &f),
        VELO_ENOTFOUND);
    assert_int_equal(gw_path_gbfs("3.0/x", buf, sizeof(buf), &v, &sys, &f),
                     VELO_ENOTFOUND);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stations_good_parameters_fill_the_request),
        cmocka_unit_test(test_stations_absent_parameters_stay_absent),
        cmocka_unit_test(test_stations_bad_values_name_their_parameter),
        cmocka_unit_test(test_history_parameters),
        cmocka_unit_test(test_top_parameters),
        cmocka_unit_test(test_station_paths_split_or_are_not_found),
        cmocka_unit_test(test_gbfs_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
