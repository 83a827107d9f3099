/* svc.c: the common service host (velo/svc.h).
 *
 * Why a host: five binaries share the same life (signals, config, log,
 * metrics, admin port, ready file, ordered stop). Written once here, a
 * service's main.c is a table and a call, and every service stops the same
 * way, which the integration tests rely on (SIGTERM -> exit 0).
 *
 * The stop runs on a worker thread so that main keeps listening for
 * signals: a second SIGINT/SIGTERM during a slow drain forces the exit
 * (Redis: "You insist... exiting now").
 *
 * Consul (svc_consul.c) comes last in the start and first in the stop:
 * an instance is registered only once it serves, and deregistered before
 * it stops serving. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc_int.h"
#include "velo/log.h"
#include "velo/ready.h"
#include "velo/sig.h"
#include "velo/svc.h"

#ifndef VELO_VERSION
#define VELO_VERSION "dev"
#endif
#ifndef VELO_COMMIT
#define VELO_COMMIT "unknown"
#endif

#define MAX_READY_LINES 8
#define WAIT_TICK_MS 100

/* One run of a service: everything the host made, for one cleanup path. */
struct host {
    const struct velo_svc_def *def;
    void                      *cfg;
    velo_metrics              *m;
    void                      *svc;
    velo_admin                *admin;
    char                       admin_addr[80];
    bool                       loaded, inited;
    struct svc_consul          consul; /* zeroed when Consul is off */
};

struct stopper {
    struct host *h;
    uint32_t     timeout_ms;
    int          rv;
    atomic_bool  finished;
};

static const struct velo_common_cfg *
host_common(const struct host *h)
{
    return (const struct velo_common_cfg *)((const char *)h->cfg +
                                            h->def->common_off);
}

static bool
host_has_admin(const struct host *h)
{
    return (h->def->flags & VELO_SVC_NO_ADMIN) == 0;
}

static const char *
host_ready_file(const struct host *h)
{
    if (host_has_admin(h))
        return host_common(h)->ready_file;
    return *(const char *const *)((const char *)h->cfg +
                                  h->def->ready_file_off);
}

static enum velo_log_level
host_log_level(const struct host *h)
{
    if (host_has_admin(h))
        return host_common(h)->log_level;
    return *(const enum velo_log_level *)((const char *)h->cfg +
                                          h->def->log_level_off);
}

static uint32_t
host_shutdown_ms(const struct host *h)
{
    return host_has_admin(h) ? host_common(h)->shutdown_timeout_ms : 10000;
}

/* Loads the configuration; VELO_CFG_HELP and VELO_EINVAL pass through. */
static int
host_load(struct host *h, int argc, char **argv)
{
    int rv;

    h->cfg = calloc(1, h->def->cfg_size);
    if (h->cfg == NULL)
        return VELO_ENOMEM;
    if (h->def->ops->load != NULL)
        rv = h->def->ops->load(h->cfg, argc, argv);
    else
        rv = velo_cfg_load(h->def->spec, h->cfg, argc, argv);
    h->loaded = rv == VELO_OK;
    if (rv == VELO_OK && host_has_admin(h))
        rv = svc_consul_load(&h->consul, host_common(h));
    return rv;
}

/* /readyz: the service's readiness, plus the Consul state as detail. A
 * Consul outage never makes the service unready (it keeps serving on its
 * cached lists). Thread: MHD's. */
static bool
host_readyz(void *ctx, char *why, size_t size)
{
    struct host *h = ctx;
    char         detail[240];
    size_t       used;
    bool         ok = true;

    if (h->def->ops->ready != NULL)
        ok = h->def->ops->ready(h->svc, why, size);
    if (!ok)
        return false;
    svc_consul_detail(&h->consul, detail, sizeof(detail));
    used = strnlen(why, size);
    if (detail[0] != '\0' && used + 3 < size)
        snprintf(why + used, size - used, "%s%s", used > 0 ? "; " : "", detail);
    return true;
}

static void
host_build_info(struct host *h)
{
    velo_metric_set(velo_metrics_gauge(h->m, "velo_build_info",
                                       "version and commit of this binary",
                                       "version=\"" VELO_VERSION
                                       "\",commit=\"" VELO_COMMIT "\""),
                    1);
}

/* Admin server on the configured address; its address is ready line 1. */
static int
host_admin_start(struct host *h)
{
    const struct velo_common_cfg *c = host_common(h);
    int                           rv;

    rv = velo_admin_start(&h->admin, &(struct velo_admin_cfg){
                                         c->admin_bind, (uint16_t)c->admin_port,
                                         h->m, host_readyz, h});
    if (rv != VELO_OK)
        return rv;
    snprintf(h->admin_addr, sizeof(h->admin_addr), "%s:%u", c->admin_bind,
             velo_admin_port(h->admin));
    return VELO_OK;
}

/* Writes the ready file and logs svc.ready with the same lines. */
static int
host_ready(struct host *h)
{
    const char *lines[MAX_READY_LINES + 1];
    char        all[512];
    size_t      n = 0, i, used = 0;

    bool admin_last = (h->def->flags & VELO_SVC_READY_SERVICE_FIRST) != 0;

    if (host_has_admin(h) && !admin_last)
        lines[n++] = h->admin_addr;
    if (h->def->ops->ready_lines != NULL)
        n += h->def->ops->ready_lines(h->svc, lines + n, MAX_READY_LINES);
    if (host_has_admin(h) && admin_last)
        lines[n++] = h->admin_addr;
    all[0] = '\0';
    for (i = 0; i < n && used < sizeof(all); i++)
        used += (size_t)snprintf(all + used, sizeof(all) - used, "%s%s",
                                 i > 0 ? " " : "", lines[i]);
    velo_info("svc.ready",
              VELO_S("admin", host_has_admin(h) ? h->admin_addr : ""),
              VELO_S("addresses", all), VELO_S("version", VELO_VERSION),
              VELO_S("commit", VELO_COMMIT));
    return velo_ready_write(host_ready_file(h), lines, n);
}

/* Creates and starts the service behind its admin port. */
static int
host_start(struct host *h)
{
    int rv;

    rv = velo_metrics_new(&h->m);
    if (rv != VELO_OK)
        return rv;
    host_build_info(h);
    rv = h->def->ops->create(&h->svc, h->cfg, h->m);
    if (rv == VELO_OK && host_has_admin(h))
        rv = host_admin_start(h);
    if (rv == VELO_OK)
        rv = h->def->ops->start(h->svc);
    if (rv == VELO_OK)
        rv = host_ready(h);
    if (rv == VELO_OK && host_has_admin(h))
        rv = svc_consul_start(&h->consul, host_common(h), h->def->spec->svc,
                              velo_admin_port(h->admin), h->def->ops, h->svc,
                              h->m);
    return rv;
}

/* Waits for a signal or for the service to finish by itself; returns the
 * exit status the service asked for (0 after a signal). */
static int
host_wait(struct host *h)
{
    int sig, status = EXIT_SUCCESS;

    for (;;) {
        sig = velo_sig_wait(WAIT_TICK_MS);
        if (sig != 0) {
            velo_info("svc.stopping", VELO_I("signal", sig));
            return EXIT_SUCCESS;
        }
        if (h->def->ops->done != NULL && h->def->ops->done(h->svc, &status)) {
            velo_info("svc.stopping", VELO_S("reason", "done"),
                      VELO_I("status", status));
            return status;
        }
    }
}

static void *
stopper_main(void *arg)
{
    struct stopper *st = arg;

    st->rv = st->h->def->ops->stop(st->h->svc, st->timeout_ms);
    atomic_store(&st->finished, true);
    velo_sig_wake(); /* main need not wait for its next tick */
    return NULL;
}

/* Runs ops->stop on a worker while main still listens: a second signal
 * exits at once, without the rest of the drain. */
static int
host_stop(struct host *h)
{
    struct stopper st = {.h = h, .timeout_ms = host_shutdown_ms(h)};
    pthread_t      t;

    atomic_init(&st.finished, false);
    if (pthread_create(&t, NULL, stopper_main, &st) != 0)
        return h->def->ops->stop(h->svc, st.timeout_ms);
    while (!atomic_load(&st.finished)) {
        if (velo_sig_wait(WAIT_TICK_MS) != 0) {
            velo_error("svc.forced",
                       VELO_S("reason", "second signal during the stop"));
            _exit(EXIT_FAILURE);
        }
    }
    pthread_join(t, NULL);
    return st.rv;
}

/* Frees in the reverse order of host_start; safe on a partial start. */
static void
host_free(struct host *h)
{
    svc_consul_fini(&h->consul); /* its thread calls ops->ready */
    velo_admin_stop(h->admin);
    if (h->svc != NULL)
        h->def->ops->destroy(h->svc);
    velo_metrics_free(h->m);
    if (h->inited && h->def->global_fini != NULL)
        h->def->global_fini();
    if (h->loaded) {
        if (h->def->ops->fini != NULL)
            h->def->ops->fini(h->cfg);
        else
            velo_cfg_fini(h->def->spec, h->cfg);
    }
    free(h->cfg);
}

/* Everything after the configuration: log, start, wait, stop. */
static int
host_run(struct host *h)
{
    int rv, status = EXIT_FAILURE;

    velo_log_init(h->def->spec->svc, host_log_level(h), STDOUT_FILENO);
    velo_cfg_log(h->def->spec, h->cfg);
    rv = h->def->global_init != NULL ? h->def->global_init() : VELO_OK;
    h->inited = rv == VELO_OK;
    if (rv == VELO_OK)
        rv = host_start(h);
    if (rv == VELO_OK) {
        status = host_wait(h);
        svc_consul_leave(&h->consul); /* before it stops serving */
        rv = host_stop(h);
        if (rv != VELO_OK)
            status = EXIT_FAILURE;
    } else {
        velo_error("svc.start_failed", VELO_S("cause", velo_strerror(rv)));
    }
    velo_info("svc.stopped", VELO_S("result", velo_strerror(rv)),
              VELO_I("status", status));
    return status;
}

int
velo_svc_main(const struct velo_svc_def *def, int argc, char **argv)
{
    struct host h = {.def = def};
    int         rv, status;

    /* First: every library thread created later inherits the mask. */
    if (velo_sig_block() != VELO_OK)
        return EXIT_FAILURE;
    rv = host_load(&h, argc, argv);
    if (rv == VELO_OK)
        status = host_run(&h);
    else if (rv == VELO_CFG_HELP)
        status = EXIT_SUCCESS;
    else
        status = rv == VELO_ENOMEM ? EXIT_FAILURE : VELO_EXIT_CONFIG;
    host_free(&h);
    return status;
}
