/* discover_test.c: veloctl against a scripted stand-in Consul agent
 * (tests/util/consul_testsrv_test_util.h): `status` with passing and
 * critical checks, discovery of velo-stream, and the answers a broken
 * agent gives (500, malformed JSON, an empty list, nothing listening),
 * each with its exit status and a clear message. Runs veloctl_main. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "call.h"
#include "cli.h"
#include "consul_testsrv_test_util.h"

static const char CATALOG[] =
    "{\"consul\":[],\"velo-stream\":[\"velopipe\",\"stream\"],"
    "\"other\":[\"x\"]}";
static const char HEALTH[] =
    "[{\"Service\":{\"ID\":\"velo-stream-h-7701\",\"Service\":\"velo-stream\","
    "\"Address\":\"127.0.0.1\",\"Port\":7701},\"Checks\":[{\"Name\":\"velopipe "
    "readiness (/readyz)\",\"Status\":\"%s\",\"Output\":\"HTTP GET: %s\"}]}]";

/* What the stand-in agent answers. Guarded by the server's mtx. */
struct script {
    const char *health_status; /* "passing" or "critical" */
    const char *list;          /* /v1/health/service/... body, NULL: HEALTH */
    int         status;        /* HTTP status of that answer; 0: 200 */
    char        health[1024];
};

static void
script_fn(void *ctx, const struct ctsrv_req *rq, struct ctsrv_resp *rs)
{
    struct script *sc = ctx;

    if (strcmp(rq->path, "/v1/catalog/services") == 0) {
        rs->body = CATALOG;
        return;
    }
    snprintf(sc->health, sizeof(sc->health), HEALTH, sc->health_status,
             strcmp(sc->health_status, "passing") == 0 ? "200 OK" : "503");
    rs->body = sc->list != NULL ? sc->list : sc->health;
    rs->status = sc->status;
}

struct run {
    int    status;
    char  *out, *err;
    size_t out_len, err_len;
};

/* Runs veloctl with --consul addr and a NULL-terminated argv. */
static void
run(struct run *r, const char *addr, const char *const *args)
{
    char *argv[16] = {"veloctl", "--consul", (char *)addr};
    FILE *out, *err;
    int   argc = 3;

    while (args[argc - 3] != NULL && argc < 15) {
        argv[argc] = (char *)args[argc - 3];
        argc++;
    }
    argv[argc] = NULL;
    out = open_memstream(&r->out, &r->out_len);
    err = open_memstream(&r->err, &r->err_len);
    assert_true(out != NULL && err != NULL);
    r->status = veloctl_main(argc, argv, NULL, NULL, out, err);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(fclose(err), 0);
}

static void
run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static void
test_status_lists_velopipe_instances_with_their_checks(void **st)
{
    struct script sc = {.health_status = "passing"};
    struct ctsrv  srv;
    struct run    r;

    (void)st;
    assert_int_equal(ctsrv_start(&srv, script_fn, &sc), 0);
    run(&r, srv.addr, (const char *const[]){"status", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_OK);
    assert_non_null(strstr(r.out, "SERVICE"));
    assert_non_null(strstr(r.out, "velo-stream-h-7701"));
    assert_non_null(strstr(r.out, "127.0.0.1:7701"));
    assert_non_null(strstr(r.out, "HTTP GET: 200 OK"));
    assert_null(strstr(r.out, "other")); /* not tagged velopipe */
    run_free(&r);
    pthread_mutex_lock(&srv.mtx);
    sc.health_status = "critical";
    pthread_mutex_unlock(&srv.mtx);
    run(&r, srv.addr, (const char *const[]){"status", "--json", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_ERROR); /* a check fails */
    assert_non_null(strstr(r.out, "\"source\":\"consul\""));
    assert_non_null(strstr(r.out, "\"status\":\"critical\""));
    run_free(&r);
    ctsrv_stop(&srv);
}

static void
test_broken_agent_answers_give_clear_exit_statuses(void **st)
{
    struct script sc = {.health_status = "passing"};
    struct ctsrv  srv;
    struct run    r;

    (void)st;
    assert_int_equal(ctsrv_start(&srv, script_fn, &sc), 0);
    sc.status = 500;
    sc.list = "rpc error";
    run(&r, srv.addr, (const char *const[]){"systems", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_ERROR);
    assert_non_null(strstr(r.err, "answered HTTP 500"));
    run_free(&r);
    sc.status = 0;
    sc.list = "[{\"Service\":";
    run(&r, srv.addr, (const char *const[]){"systems", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_ERROR);
    assert_non_null(strstr(r.err, "not a health list"));
    run_free(&r);
    sc.list = "[]";
    run(&r, srv.addr, (const char *const[]){"systems", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_UNREACHABLE);
    assert_non_null(strstr(r.err, "no passing velo-stream instance"));
    run_free(&r);
    ctsrv_stop(&srv);
    run(&r, "http://127.0.0.1:1", (const char *const[]){"status", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_UNREACHABLE);
    assert_non_null(strstr(r.err, "cannot reach Consul at"));
    run_free(&r);
}

static void
test_explicit_rpc_never_asks_consul(void **st)
{
    struct run r;

    (void)st;
    /* Consul at a dead address would fail the run; --rpc wins, so the
     * failure is about velo-stream, not Consul. */
    run(&r, "http://127.0.0.1:1",
        (const char *const[]){"systems", "--rpc", "tcp://127.0.0.1:1",
                              "--timeout-ms", "200", NULL});
    assert_int_equal(r.status, VELOCTL_EXIT_UNREACHABLE);
    assert_null(strstr(r.err, "Consul"));
    assert_non_null(strstr(r.err, "velo-stream RPC"));
    run_free(&r);
}

static int
setup(void **st)
{
    (void)st;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
teardown(void **st)
{
    (void)st;
    curl_global_cleanup();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_status_lists_velopipe_instances_with_their_checks),
        cmocka_unit_test(test_broken_agent_answers_give_clear_exit_statuses),
        cmocka_unit_test(test_explicit_rpc_never_asks_consul),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
