/* rpc_resolver_test.c: an RPC client fed by a resolver (service
 * discovery): no instance known yet, a list that arrives and changes,
 * spread calls across instances, and failover past an instance that died
 * without the list knowing yet. Real servers on tcp://127.0.0.1:0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rpc_test_util.h"
#include "velo/log.h"
#include "velo/rpc.h"

/* A resolver over a list the test changes. */
struct fake_resolver {
    const char *urls[4];
    size_t      n;
    uint64_t    gen;
    int         applied;
};

static bool
fake_refresh(void *ctx, uint64_t *gen, velo_rpc_urls_fn apply, void *arg)
{
    struct fake_resolver *r = ctx;

    if (*gen == r->gen || r->n == 0)
        return false;
    apply(arg, r->urls, r->n);
    *gen = r->gen;
    r->applied++;
    return true;
}

struct two {
    struct rts       t[2];
    velo_rpc_server *s[2];
};

static void
two_start(struct two *w)
{
    struct velo_rpc_service svc;
    int                     i;

    for (i = 0; i < 2; i++) {
        rts_init(&w->t[i]);
        svc = rts_service(&w->t[i]);
        assert_int_equal(
            velo_rpc_server_start(
                &w->s[i],
                &(struct velo_rpc_server_cfg){
                    .url = "tcp://127.0.0.1:0", .svcs = &svc, .nsvcs = 1}),
            VELO_OK);
    }
}

static int
get_station(velo_rpc_client *c)
{
    Velo__V1__GetStationRequest rq = VELO__V1__GET_STATION_REQUEST__INIT;
    ProtobufCMessage           *out = NULL;
    struct velo_rpc_error       err;
    int                         rv;

    rq.system_id = (char *)RTS_SYSTEM;
    rq.station_id = (char *)RTS_STATION;
    rv = velo_rpc_call(c, &velo__v1__station_service__descriptor, "GetStation",
                       &rq.base, &out, &err);
    if (out != NULL)
        protobuf_c_message_free_unpacked(out, NULL);
    return rv;
}

static void
test_no_instance_yet_is_eunavail_then_the_list_arrives(void **st)
{
    struct fake_resolver       r = {0};
    struct two                 w;
    velo_rpc_client           *c = NULL;
    struct velo_rpc_client_cfg cfg = {.timeout_ms = 2000,
                                      .resolver = {fake_refresh, &r}};

    (void)st;
    assert_int_equal(velo_rpc_client_new(&c, &cfg), VELO_OK);
    assert_int_equal(get_station(c), VELO_EUNAVAIL);
    two_start(&w);
    r.urls[0] = velo_rpc_server_url(w.s[0]);
    r.n = 1;
    r.gen = 1;
    assert_int_equal(get_station(c), VELO_OK);
    assert_int_equal(atomic_load(&w.t[0].get_calls), 1);
    /* Same generation: not applied again. */
    assert_int_equal(get_station(c), VELO_OK);
    assert_int_equal(r.applied, 1);
    /* A new list: calls go to the new instance only. */
    r.urls[0] = velo_rpc_server_url(w.s[1]);
    r.gen = 2;
    assert_int_equal(get_station(c), VELO_OK);
    assert_int_equal(atomic_load(&w.t[1].get_calls), 1);
    assert_int_equal(atomic_load(&w.t[0].get_calls), 2);
    velo_rpc_client_free(c);
    velo_rpc_server_stop(w.s[0]);
    velo_rpc_server_stop(w.s[1]);
}

static void
test_spread_alternates_and_fails_over_past_a_dead_instance(void **st)
{
    struct fake_resolver       r = {0};
    struct two                 w;
    velo_rpc_client           *c = NULL;
    struct velo_rpc_client_cfg cfg = {
        .timeout_ms = 2000, .resolver = {fake_refresh, &r}, .spread = true};
    int i;

    (void)st;
    two_start(&w);
    r.urls[0] = velo_rpc_server_url(w.s[0]);
    r.urls[1] = velo_rpc_server_url(w.s[1]);
    r.n = 2;
    r.gen = 1;
    assert_int_equal(velo_rpc_client_new(&c, &cfg), VELO_OK);
    for (i = 0; i < 10; i++)
        assert_int_equal(get_station(c), VELO_OK);
    assert_int_equal(atomic_load(&w.t[0].get_calls), 5);
    assert_int_equal(atomic_load(&w.t[1].get_calls), 5);
    /* Instance 0 dies; the list still names it: every call succeeds. */
    velo_rpc_server_stop(w.s[0]);
    w.s[0] = NULL;
    for (i = 0; i < 10; i++)
        assert_int_equal(get_station(c), VELO_OK);
    assert_int_equal(atomic_load(&w.t[1].get_calls), 15);
    velo_rpc_client_free(c);
    velo_rpc_server_stop(w.s[1]);
}

static void
test_set_urls_rejects_empty_and_too_long_lists(void **st)
{
    struct two                 w;
    velo_rpc_client           *c = NULL;
    const char                *url;
    char                       longurl[400];
    const char                *bad[1] = {longurl};
    struct velo_rpc_client_cfg cfg = {.timeout_ms = 2000};

    (void)st;
    two_start(&w);
    url = velo_rpc_server_url(w.s[0]);
    cfg.urls = &url;
    cfg.nurls = 1;
    assert_int_equal(velo_rpc_client_new(&c, &cfg), VELO_OK);
    memset(longurl, 'a', sizeof(longurl) - 1);
    longurl[sizeof(longurl) - 1] = '\0';
    velo_rpc_client_set_urls(c, bad, 1);
    velo_rpc_client_set_urls(c, NULL, 0);
    assert_int_equal(get_station(c), VELO_OK); /* the old list stayed */
    velo_rpc_client_free(c);
    velo_rpc_server_stop(w.s[0]);
    velo_rpc_server_stop(w.s[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_no_instance_yet_is_eunavail_then_the_list_arrives),
        cmocka_unit_test(
            test_spread_alternates_and_fails_over_past_a_dead_instance),
        cmocka_unit_test(test_set_urls_rejects_empty_and_too_long_lists),
    };

    velo_log_init("rpc_resolver_test", VELO_LOG_ERROR, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
