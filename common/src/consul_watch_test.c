/* consul_watch_test.c: discovery and registration against a scripted
 * stand-in agent that misbehaves on purpose: malformed JSON, 500, a
 * blocking query that hangs past its wait, an empty list, an agent that
 * forgets a registration. None may crash, stall a reader, or lose the
 * cached list. (The real agent's shapes: tests/integration/consul_it.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "consul_testsrv_test_util.h"
#include "testsrv_test_util.h"
#include "velo/clock.h"
#include "velo/consul.h"

static const char LIST2[] =
    "[{\"Service\":{\"ID\":\"a\",\"Address\":\"127.0.0.1\",\"Port\":7701}},"
    "{\"Service\":{\"ID\":\"b\",\"Address\":\"127.0.0.1\",\"Port\":7703}}]";

enum mode { GOOD, FAIL500, MALFORMED, HANG, EMPTY };

/* The stand-in agent's script. Guarded by the server's mtx. */
struct agent {
    enum mode mode;
    int       queries, registers, deregisters, probes;
    int       index;
    bool      forget; /* answer 404 to the next registration probe */
    char      last_path[1024];
    int       updates;          /* TTL check updates */
    char      last_update[512]; /* the last one's body */
};

static void
agent_fn(void *ctx, const struct ctsrv_req *rq, struct ctsrv_resp *rs)
{
    struct agent *a = ctx;

    snprintf(a->last_path, sizeof(a->last_path), "%s", rq->path);
    if (strncmp(rq->path, "/v1/agent/service/register", 26) == 0) {
        a->registers++;
        return;
    }
    if (strncmp(rq->path, "/v1/agent/service/deregister/", 29) == 0) {
        a->deregisters++;
        return;
    }
    if (strncmp(rq->path, "/v1/agent/check/update/service:", 31) == 0) {
        a->updates++;
        snprintf(a->last_update, sizeof(a->last_update), "%s", rq->body);
        return;
    }
    if (strncmp(rq->path, "/v1/agent/service/", 18) == 0) {
        a->probes++;
        rs->status = a->forget ? 404 : 200;
        a->forget = false;
        rs->body = "{}";
        return;
    }
    a->queries++;
    snprintf(rs->headers, sizeof(rs->headers), "X-Consul-Index: %d\r\n",
             ++a->index);
    switch (a->mode) {
    case GOOD:
        rs->body = LIST2;
        rs->delay_ms = 20; /* a blocking query returns "later" */
        break;
    case FAIL500:
        rs->status = 500;
        rs->body = "rpc error";
        break;
    case MALFORMED:
        rs->body = "[{\"Service\":{\"Address\":";
        break;
    case HANG:
        rs->hang_ms = 3000;
        break;
    case EMPTY:
        rs->body = "[]";
        break;
    }
}

static void
agent_set(struct ctsrv *srv, struct agent *a, enum mode m)
{
    pthread_mutex_lock(&srv->mtx);
    a->mode = m;
    a->queries = 0;
    pthread_mutex_unlock(&srv->mtx);
}

static int
agent_get(struct ctsrv *srv, const int *field)
{
    int v;

    pthread_mutex_lock(&srv->mtx);
    v = *field;
    pthread_mutex_unlock(&srv->mtx);
    return v;
}

/* Waits up to ms for *field to reach at least want. */
static bool
agent_wait(struct ctsrv *srv, const int *field, int want, int ms)
{
    int64_t end = velo_mono_ms() + ms;

    while (velo_mono_ms() < end) {
        if (agent_get(srv, field) >= want)
            return true;
        velo_sleep_ms(10);
    }
    return false;
}

/* Counts the urls an RPC client would be given. */
static void
apply_count(void *arg, const char *const *urls, size_t n)
{
    (void)urls;
    *(size_t *)arg = n;
}

struct fixture {
    struct ctsrv       srv;
    struct agent       a;
    velo_consul       *c;
    velo_consul_watch *w;
};

static int
fx_setup(void **st)
{
    static struct fixture fx;

    memset(&fx, 0, sizeof(fx));
    if (ctsrv_start(&fx.srv, agent_fn, &fx.a) != 0 ||
        velo_consul_new(&fx.c, &(struct velo_consul_cfg){.addr = fx.srv.addr,
                                                         .timeout_ms = 1000}) !=
            VELO_OK)
        return -1;
    *st = &fx;
    return 0;
}

static int
fx_teardown(void **st)
{
    struct fixture *fx = *st;

    velo_consul_watch_stop(fx->w);
    velo_consul_free(fx->c);
    ctsrv_stop(&fx->srv);
    return 0;
}

static void
test_watch_caches_list_and_keeps_it_through_bad_answers(void **st)
{
    struct fixture *fx = *st;
    char            urls[4][VELO_CONSUL_URL_MAX], state[256];
    enum mode       bad[] = {FAIL500, MALFORMED};
    uint64_t        gen = 0;
    size_t          n = 0, i;

    assert_int_equal(
        velo_consul_watch_start(&fx->w, fx->c, "velo-stream", 1000, NULL),
        VELO_OK);
    assert_true(velo_consul_watch_wait_first(fx->w, 5000));
    assert_int_equal(velo_consul_watch_urls(fx->w, urls, 4), 2);
    assert_string_equal(urls[1], "tcp://127.0.0.1:7703");
    assert_true(velo_consul_watch_refresh(fx->w, &gen, apply_count, &n));
    assert_int_equal(n, 2);
    /* The same list again: nothing to apply. */
    assert_true(agent_wait(&fx->srv, &fx->a.queries, 3, 5000));
    assert_false(velo_consul_watch_refresh(fx->w, &gen, apply_count, &n));
    /* Blocking queries carry the index of the last answer. */
    assert_non_null(strstr(fx->a.last_path, "index="));
    assert_non_null(strstr(fx->a.last_path, "passing"));
    for (i = 0; i < 2; i++) {
        agent_set(&fx->srv, &fx->a, bad[i]);
        assert_true(agent_wait(&fx->srv, &fx->a.queries, 2, 5000));
        assert_false(velo_consul_watch_state(fx->w, state, sizeof(state)));
        assert_non_null(strstr(state, "keeping 2 cached"));
        assert_int_equal(velo_consul_watch_urls(fx->w, urls, 4), 2);
    }
    agent_set(&fx->srv, &fx->a, GOOD);
    assert_true(agent_wait(&fx->srv, &fx->a.queries, 1, 15000));
    velo_sleep_ms(100);
    assert_true(velo_consul_watch_state(fx->w, state, sizeof(state)));
}

static void
test_watch_empty_list_is_not_applied_to_rpc_clients(void **st)
{
    struct fixture *fx = *st;
    char            urls[4][VELO_CONSUL_URL_MAX];
    uint64_t        gen = 0;
    size_t          n = 0;

    assert_int_equal(
        velo_consul_watch_start(&fx->w, fx->c, "velo-stream", 1000, NULL),
        VELO_OK);
    assert_true(velo_consul_watch_wait_first(fx->w, 5000));
    assert_true(velo_consul_watch_refresh(fx->w, &gen, apply_count, &n));
    agent_set(&fx->srv, &fx->a, EMPTY);
    assert_true(agent_wait(&fx->srv, &fx->a.queries, 2, 5000));
    assert_int_equal(velo_consul_watch_urls(fx->w, urls, 4), 0);
    n = 7;
    assert_false(velo_consul_watch_refresh(fx->w, &gen, apply_count, &n));
    assert_int_equal(n, 7);
}

static void
test_watch_query_hanging_past_wait_neither_stalls_readers_nor_stop(void **st)
{
    struct fixture *fx = *st;
    char            urls[4][VELO_CONSUL_URL_MAX];
    int64_t         t0;

    assert_int_equal(
        velo_consul_watch_start(&fx->w, fx->c, "velo-stream", 200, NULL),
        VELO_OK);
    assert_true(velo_consul_watch_wait_first(fx->w, 5000));
    agent_set(&fx->srv, &fx->a, HANG);
    assert_true(agent_wait(&fx->srv, &fx->a.queries, 1, 5000));
    /* Readers answer at once from the cache while the query hangs. */
    t0 = velo_mono_ms();
    assert_int_equal(velo_consul_watch_urls(fx->w, urls, 4), 2);
    assert_true(velo_mono_ms() - t0 < 100);
    /* And stop interrupts the hanging query. */
    t0 = velo_mono_ms();
    velo_consul_watch_stop(fx->w);
    fx->w = NULL;
    assert_true(velo_mono_ms() - t0 < 1500);
}

static void
test_watch_of_unreachable_agent_fails_first_wait(void **st)
{
    velo_consul       *c = NULL;
    velo_consul_watch *w = NULL;
    char               state[256];

    (void)st;
    /* Port 1 on loopback: refused at once. */
    assert_int_equal(
        velo_consul_new(
            &c, &(struct velo_consul_cfg){.addr = "http://127.0.0.1:1"}),
        VELO_OK);
    assert_int_equal(velo_consul_watch_start(&w, c, "velo-stream", 1000, NULL),
                     VELO_OK);
    assert_false(velo_consul_watch_wait_first(w, 5000));
    assert_false(velo_consul_watch_state(w, state, sizeof(state)));
    velo_consul_watch_stop(w);
    velo_consul_free(c);
}

static void
test_reg_registers_again_when_agent_forgets_and_leave_deregisters(void **st)
{
    struct fixture            *fx = *st;
    struct velo_consul_service s = {.name = "velo-x",
                                    .id = "velo-x-h-1",
                                    .address = "127.0.0.1",
                                    .port = 1,
                                    .check_url = "http://127.0.0.1:1/readyz",
                                    .interval_ms = 100};
    velo_consul_reg           *r = NULL;
    char                       state[200];

    assert_int_equal(velo_consul_reg_start(&r, fx->c, &s, NULL, NULL, NULL),
                     VELO_OK);
    assert_true(agent_wait(&fx->srv, &fx->a.probes, 1, 5000));
    assert_int_equal(agent_get(&fx->srv, &fx->a.registers), 1);
    assert_true(velo_consul_reg_state(r, state, sizeof(state)));
    assert_string_equal(state, "registered");
    pthread_mutex_lock(&fx->srv.mtx);
    fx->a.forget = true;
    pthread_mutex_unlock(&fx->srv.mtx);
    assert_true(agent_wait(&fx->srv, &fx->a.registers, 2, 5000));
    velo_consul_reg_leave(r, 1000);
    assert_int_equal(agent_get(&fx->srv, &fx->a.deregisters), 1);
    /* After leaving, nothing registers the instance again. */
    velo_sleep_ms(300);
    assert_int_equal(agent_get(&fx->srv, &fx->a.registers), 2);
    velo_consul_reg_stop(r);
}

static bool
not_ready(void *ctx, char *why, size_t size)
{
    (void)ctx;
    snprintf(why, size, "rebuilding: 12%% of the topic read");
    return false;
}

static void
test_reg_ttl_reports_not_ready_as_critical_with_the_reason(void **st)
{
    struct fixture            *fx = *st;
    struct velo_consul_service s = {.name = "velo-x",
                                    .id = "velo-x-h-2",
                                    .address = "127.0.0.1",
                                    .port = 2,
                                    .check = VELO_CONSUL_CHECK_TTL,
                                    .interval_ms = 100};
    velo_consul_reg           *r = NULL;
    char                       body[512];

    assert_int_equal(
        velo_consul_reg_start(&r, fx->c, &s, not_ready, NULL, NULL), VELO_OK);
    assert_true(agent_wait(&fx->srv, &fx->a.updates, 2, 5000));
    pthread_mutex_lock(&fx->srv.mtx);
    snprintf(body, sizeof(body), "%s", fx->a.last_update);
    pthread_mutex_unlock(&fx->srv.mtx);
    assert_non_null(strstr(body, "\"Status\":\"critical\""));
    assert_non_null(strstr(body, "rebuilding: 12% of the topic read"));
    velo_consul_reg_stop(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_watch_caches_list_and_keeps_it_through_bad_answers, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_watch_empty_list_is_not_applied_to_rpc_clients, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_watch_query_hanging_past_wait_neither_stalls_readers_nor_stop,
            fx_setup, fx_teardown),
        cmocka_unit_test(test_watch_of_unreachable_agent_fails_first_wait),
        cmocka_unit_test_setup_teardown(
            test_reg_registers_again_when_agent_forgets_and_leave_deregisters,
            fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_reg_ttl_reports_not_ready_as_critical_with_the_reason,
            fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, testsrv_curl_setup,
                                  testsrv_curl_teardown);
}
