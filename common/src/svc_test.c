/* svc_test.c: the service host's life, run in a child process per case:
 * exit codes (config 78, --help 0, start failure 1, SIGTERM 0, done()'s
 * status, a second signal forces 1), the ready file's lines and the stop
 * order (stop before destroy, admin up while the service runs), and the
 * Consul registration against a stand-in agent: registered only once the
 * ready file exists, deregistered before stop runs. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "consul_testsrv_test_util.h"
#include "velo/clock.h"
#include "velo/svc.h"

struct tcfg {
    struct velo_common_cfg common;
    uint32_t               mode;
};

#define CFG(f) .off = offsetof(struct tcfg, f)
static const struct velo_opt topts[] = {
    VELO_COMMON_OPTS(struct tcfg, common),
    {"mode", "TSVC_MODE", "0", VELO_OPT_U32, CFG(mode),
     "0 run, 1 fail create, 2 done(7), 3 slow stop", .max = 3},
};
static const struct velo_cfg_spec tspec = {
    .svc = "tsvc",
    .summary = "service host test",
    .opts = topts,
    .nopts = sizeof(topts) / sizeof(topts[0]),
    .admin_port_default = "0",
};

/* The child writes its events here, one letter each: c s S d. */
static int trace_fd = -1;

static void
trace(char c)
{
    if (write(trace_fd, &c, 1) != 1)
        abort();
}

static int
t_create(void **out, const void *cfg, velo_metrics *m)
{
    const struct tcfg *c = cfg;

    (void)m;
    trace('c');
    if (c->mode == 1)
        return VELO_EUNAVAIL;
    *out = (void *)c;
    return VELO_OK;
}

static int
t_start(void *svc)
{
    (void)svc;
    trace('s');
    return VELO_OK;
}

static size_t
t_lines(void *svc, const char **lines, size_t max)
{
    (void)svc;
    (void)max;
    lines[0] = "tcp://127.0.0.1:1";
    return 1;
}

static bool
t_done(void *svc, int *status)
{
    const struct tcfg *c = svc;

    *status = 7;
    return c->mode == 2;
}

static int
t_stop(void *svc, uint32_t timeout_ms)
{
    const struct tcfg *c = svc;

    (void)timeout_ms;
    trace('S');
    if (c->mode == 3)
        velo_sleep_ms(5000);
    return VELO_OK;
}

static void
t_destroy(void *svc)
{
    (void)svc;
    trace('d');
}

static const struct velo_svc_ops tops = {
    .create = t_create,
    .start = t_start,
    .ready_lines = t_lines,
    .done = t_done,
    .stop = t_stop,
    .destroy = t_destroy,
};

struct run {
    pid_t pid;
    int   trace_rd;
    char  ready[64];
};

/* Forks velo_svc_main with argv; the parent keeps the trace pipe. */
static void
run_start_flags(struct run *r, const char *mode, const char *extra,
                unsigned flags)
{
    int  p[2];
    char modeflag[32];

    snprintf(r->ready, sizeof(r->ready), "/tmp/velo-svc-test-%d.ready",
             (int)getpid());
    unlink(r->ready);
    assert_int_equal(pipe(p), 0);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        char *argv[6];
        int   n = 0;
        int   fd = open("/dev/null", O_WRONLY);

        dup2(fd, STDOUT_FILENO); /* the JSON log */
        close(p[0]);
        trace_fd = p[1];
        snprintf(modeflag, sizeof(modeflag), "--mode=%s", mode);
        argv[n++] = "tsvc";
        argv[n++] = modeflag;
        argv[n++] = "--admin-port=0";
        argv[n++] = (char *)(extra != NULL ? extra : "--log-level=debug");
        argv[n] = NULL;
        setenv("VELO_READY_FILE", r->ready, 1);
        _exit(velo_svc_main(
            &(struct velo_svc_def){.spec = &tspec,
                                   .cfg_size = sizeof(struct tcfg),
                                   .common_off = offsetof(struct tcfg, common),
                                   .ops = &tops,
                                   .flags = flags},
            n, argv));
    }
    close(p[1]);
    r->trace_rd = p[0];
}

static void
run_start(struct run *r, const char *mode, const char *extra)
{
    run_start_flags(r, mode, extra, 0);
}

static int
run_wait(struct run *r, char *trace_out, size_t size)
{
    int     status;
    ssize_t n;
    size_t  got = 0;

    assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
    while (got + 1 < size &&
           (n = read(r->trace_rd, trace_out + got, size - 1 - got)) > 0)
        got += (size_t)n;
    trace_out[got] = '\0';
    close(r->trace_rd);
    unlink(r->ready);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
wait_ready(const struct run *r)
{
    int64_t end = velo_mono_ms() + 10000;

    while (access(r->ready, F_OK) != 0 && velo_mono_ms() < end)
        velo_sleep_ms(10);
    assert_int_equal(access(r->ready, F_OK), 0);
}

static void
test_svc_bad_config_exits_78(void **state)
{
    struct run r;
    char       t[16];

    (void)state;
    run_start(&r, "9", NULL);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 78);
    assert_string_equal(t, ""); /* nothing was created */
}

static void
test_svc_help_exits_0(void **state)
{
    struct run r;
    char       t[16];

    (void)state;
    run_start(&r, "0", "--help");
    assert_int_equal(run_wait(&r, t, sizeof(t)), 0);
    assert_string_equal(t, "");
}

static void
test_svc_create_failure_exits_1_and_cleans_up(void **state)
{
    struct run r;
    char       t[16];

    (void)state;
    run_start(&r, "1", NULL);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 1);
    assert_string_equal(t, "c");
}

static void
test_svc_sigterm_stops_in_order_and_exits_0(void **state)
{
    struct run r;
    char       t[16], line[2][64];
    FILE      *f;

    (void)state;
    run_start(&r, "0", NULL);
    wait_ready(&r);
    f = fopen(r.ready, "r");
    assert_non_null(f);
    assert_non_null(fgets(line[0], sizeof(line[0]), f));
    assert_non_null(fgets(line[1], sizeof(line[1]), f));
    fclose(f);
    assert_non_null(strstr(line[0], "127.0.0.1:")); /* admin first */
    assert_string_equal(line[1], "tcp://127.0.0.1:1\n");
    kill(r.pid, SIGTERM);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 0);
    assert_string_equal(t, "csSd");
}

/* velo-gateway: callers want its public address on the first line. */
static void
test_svc_ready_service_first_puts_admin_last(void **state)
{
    struct run r;
    char       t[16], line[2][64];
    FILE      *f;

    (void)state;
    run_start_flags(&r, "0", NULL, VELO_SVC_READY_SERVICE_FIRST);
    wait_ready(&r);
    f = fopen(r.ready, "r");
    assert_non_null(f);
    assert_non_null(fgets(line[0], sizeof(line[0]), f));
    assert_non_null(fgets(line[1], sizeof(line[1]), f));
    fclose(f);
    assert_string_equal(line[0], "tcp://127.0.0.1:1\n");
    assert_non_null(strstr(line[1], "127.0.0.1:")); /* admin last */
    kill(r.pid, SIGTERM);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 0);
}

static void
test_svc_done_gives_its_status(void **state)
{
    struct run r;
    char       t[16];

    (void)state;
    run_start(&r, "2", NULL);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 7);
    assert_string_equal(t, "csSd");
}

static void
test_svc_second_signal_forces_exit(void **state)
{
    struct run r;
    char       t[16];
    int64_t    t0;

    (void)state;
    run_start(&r, "3", NULL);
    wait_ready(&r);
    kill(r.pid, SIGTERM);
    velo_sleep_ms(300); /* inside the 5 s stop */
    t0 = velo_mono_ms();
    kill(r.pid, SIGINT);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 1);
    assert_true(velo_mono_ms() - t0 < 3000);
    assert_string_equal(t, "csS"); /* never destroyed: forced */
}

/* The stand-in agent's view of the child. Guarded by the server's mtx. */
struct agent_view {
    const char *ready;       /* the child's ready file */
    int         trace_rd;    /* the child's trace pipe (peeked) */
    char        seen[16];    /* trace bytes read so far */
    int         registers;   /* PUTs of the registration */
    bool        ready_first; /* the ready file existed at registration */
    int         deregisters; /* PUTs of the deregistration */
    bool        stop_before; /* 'S' was traced before the deregistration */
};

/* Reads what the child traced so far, without waiting. */
static void
agent_peek(struct agent_view *v)
{
    struct pollfd pfd = {.fd = v->trace_rd, .events = POLLIN};
    size_t        n = strlen(v->seen);
    ssize_t       got;

    while (n + 1 < sizeof(v->seen) && poll(&pfd, 1, 0) > 0 &&
           (got = read(v->trace_rd, v->seen + n, 1)) == 1)
        v->seen[++n] = '\0';
}

static void
agent_fn(void *ctx, const struct ctsrv_req *rq, struct ctsrv_resp *rs)
{
    struct agent_view *v = ctx;

    rs->body = "{}";
    if (strcmp(rq->path, "/v1/agent/service/register") == 0) {
        v->ready_first =
            v->registers == 0 ? access(v->ready, F_OK) == 0 : v->ready_first;
        v->registers++;
    } else if (strncmp(rq->path, "/v1/agent/service/deregister/", 29) == 0) {
        agent_peek(v);
        v->stop_before = strchr(v->seen, 'S') != NULL;
        v->deregisters++;
    }
}

static void
test_svc_registers_after_ready_and_deregisters_before_stop(void **state)
{
    struct agent_view v = {0};
    struct ctsrv      srv;
    struct run        r;
    char              t[16], all[32];
    int64_t           end;

    (void)state;
    /* Fork before the server thread exists: a child forked beside a
     * running thread may inherit a lock that thread held. */
    assert_int_equal(ctsrv_listen(&srv, agent_fn, &v), 0);
    setenv("VELO_CONSUL_ADDR", srv.addr, 1);
    setenv("VELO_CONSUL_CHECK_INTERVAL_MS", "100", 1);
    run_start(&r, "0", NULL);
    unsetenv("VELO_CONSUL_ADDR");
    unsetenv("VELO_CONSUL_CHECK_INTERVAL_MS");
    v.ready = r.ready;
    v.trace_rd = r.trace_rd;
    assert_int_equal(ctsrv_serve(&srv), 0);
    wait_ready(&r);
    end = velo_mono_ms() + 5000;
    while (velo_mono_ms() < end) {
        pthread_mutex_lock(&srv.mtx);
        if (v.registers > 0)
            end = 0;
        pthread_mutex_unlock(&srv.mtx);
        velo_sleep_ms(10);
    }
    kill(r.pid, SIGTERM);
    assert_int_equal(run_wait(&r, t, sizeof(t)), 0);
    ctsrv_stop(&srv);
    snprintf(all, sizeof(all), "%s%s", v.seen, t);
    assert_string_equal(all, "csSd");
    assert_int_equal(v.registers, 1);
    assert_true(v.ready_first);
    assert_int_equal(v.deregisters, 1);
    assert_false(v.stop_before);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svc_bad_config_exits_78),
        cmocka_unit_test(test_svc_help_exits_0),
        cmocka_unit_test(test_svc_create_failure_exits_1_and_cleans_up),
        cmocka_unit_test(test_svc_sigterm_stops_in_order_and_exits_0),
        cmocka_unit_test(test_svc_ready_service_first_puts_admin_last),
        cmocka_unit_test(test_svc_done_gives_its_status),
        cmocka_unit_test(test_svc_second_signal_forces_exit),
        cmocka_unit_test(
            test_svc_registers_after_ready_and_deregisters_before_stop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
