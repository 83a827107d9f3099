/* batch_svc.c: velo-batch as a service: one loop thread drives batch_run
 * on Kafka; --once ends the process through the host's done() hook. */
#include "batch_svc.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "batch_cfg.h"
#include "cron.h"
#include "kio.h"
#include "run.h"
#include "velo/backoff.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/sig.h"

#define STEP_WAIT_MS 100
#define ONCE_FETCH_WAIT_MS 10
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 30000
/* The most create() waits for the brokers at start (see kio_new_retry). */
#define START_RETRY_MS 60000

struct batch_svc {
    const struct batch_cfg *cfg;
    batch_kio              *kio;
    batch_run              *run;
    pthread_t               thr;
    bool                    started;
    atomic_bool             stop;
    atomic_bool             finished;
    atomic_int              status;  /* exit status once finished */
    atomic_bool             waiting; /* --schedule: between two passes */
    struct batch_cron       cron;    /* valid with cfg->schedule */
    int64_t                 fire_ms; /* loop thread: next firing */
};

static void
svc_destroy(void *ctx)
{
    struct batch_svc *s = ctx;

    if (s == NULL)
        return;
    batch_run_free(s->run);
    batch_kio_free(s->kio);
    free(s);
}

/* Kafka clients for the service, retried with backoff while the cluster
 * is still coming up: on a fresh broker the output topic can be invisible
 * for a moment after it is created, and the transaction coordinator is
 * elected a few seconds after start (both answer "not found"). A service
 * started beside its broker must wait for it, not exit; past
 * START_RETRY_MS it gives up and the orchestrator restarts it. */
static int
kio_new_retry(batch_kio **out, const struct batch_kio_cfg *kc)
{
    struct velo_backoff b;
    int64_t             until = velo_mono_ms() + START_RETRY_MS, wait;
    int                 rv;

    velo_backoff_init(&b, RETRY_MIN_MS, 5000, 0);
    for (;;) {
        rv = batch_kio_new(out, kc);
        if (rv == VELO_OK ||
            !(rv == VELO_ENOTFOUND || velo_err_retryable(rv)) ||
            velo_mono_ms() >= until)
            return rv;
        wait = velo_backoff_next(&b);
        velo_warn("batch.start.retry", VELO_S("cause", velo_strerror(rv)),
                  VELO_I("wait_ms", wait));
        velo_sleep_ms(wait);
    }
}

static int
svc_create(void **out, const void *cfgp, velo_metrics *m)
{
    const struct batch_cfg *cfg = cfgp;
    struct batch_svc       *s = calloc(1, sizeof(*s));
    struct batch_io         io;
    int                     rv;

    if (s == NULL)
        return VELO_ENOMEM;
    s->cfg = cfg;
    rv = kio_new_retry(&s->kio,
                       &(struct batch_kio_cfg){
                           cfg->common.kafka_brokers, cfg->topic,
                           cfg->systems_topic, cfg->out_topic, cfg->dlq_topic,
                           cfg->group_id, cfg->transactional_id,
                           cfg->txn_timeout_ms, cfg->max_record_bytes, m,
                           cfg->catch_up_partitions, cfg->read_ahead,
                           /* a pass that exits switches partitions fast */
                           cfg->once ? ONCE_FETCH_WAIT_MS : 0});
    if (rv == VELO_OK) {
        batch_kio_ops(s->kio, &io);
        rv = batch_run_new(
            &s->run,
            &(struct batch_run_cfg){
                .engine = {.heartbeat_ms = cfg->heartbeat_s * 1000LL,
                           .lateness_ms = cfg->lateness_s * 1000LL,
                           .horizon_ms = cfg->horizon_h * 3600000LL,
                           .max_samples = cfg->max_samples},
                .topic = cfg->topic,
                .seek_margin_ms = cfg->seek_margin_s * 1000LL,
                .txn_max_records = cfg->txn_max_records,
                .txn_interval_ms = cfg->txn_interval_ms,
                .once = cfg->once || cfg->schedule != NULL},
            &io, m);
    }
    if (rv != VELO_OK) {
        svc_destroy(s);
        return rv;
    }
    if (cfg->schedule != NULL &&
        batch_cron_parse(&s->cron, cfg->schedule) != VELO_OK) {
        svc_destroy(s); /* batch_cfg_check let a bad schedule through */
        return VELO_EINVAL;
    }
    atomic_init(&s->waiting, cfg->schedule != NULL);
    atomic_init(&s->stop, false);
    atomic_init(&s->finished, false);
    atomic_init(&s->status, 0);
    *out = s;
    return VELO_OK;
}

static void
finish(struct batch_svc *s, int status)
{
    atomic_store(&s->status, status);
    atomic_store(&s->finished, true);
    velo_sig_wake(); /* the host's done() poll sees it now */
}

/* --schedule: after a pass, the next firing; false when there is none. */
static bool
arm(struct batch_svc *s)
{
    s->fire_ms = batch_cron_next(&s->cron, velo_now_ms());
    if (s->fire_ms < 0) {
        velo_warn("batch.schedule.never", VELO_S("schedule", s->cfg->schedule));
        return false;
    }
    velo_info("batch.schedule.next", VELO_I("at_ms", s->fire_ms));
    atomic_store(&s->waiting, true);
    return true;
}

/* --schedule: true once the firing time has come (then a pass starts). */
static bool
fired(struct batch_svc *s)
{
    int64_t left = s->fire_ms - velo_now_ms();

    if (left > 0) {
        velo_sleep_ms(left < STEP_WAIT_MS ? left : STEP_WAIT_MS);
        return false;
    }
    atomic_store(&s->waiting, false);
    batch_run_rearm(s->run);
    velo_info("batch.schedule.fire");
    return true;
}

/* One step with its error policy; false when the loop must end. */
static bool
step(struct batch_svc *s, struct velo_backoff *b, bool *done)
{
    int rv = batch_run_step(s->run, velo_mono_ms(), STEP_WAIT_MS, done);

    if (rv == VELO_EFENCED || rv == VELO_EINVAL) {
        /* Fenced, or a bug or bad config (err.h: never retried): stop, so
         * the supervisor sees it instead of a retry loop. */
        velo_error(rv == VELO_EFENCED ? "batch.fenced" : "batch.fatal",
                   VELO_S("cause", velo_strerror(rv)));
        finish(s, EXIT_FAILURE);
        return false;
    }
    if (rv != VELO_OK) {
        int64_t wait = velo_backoff_next(b);
        velo_warn("batch.retry", VELO_S("cause", velo_strerror(rv)),
                  VELO_I("wait_ms", wait));
        velo_sleep_ms(wait);
        return true;
    }
    velo_backoff_reset(b);
    if (s->cfg->crash_after > 0 &&
        batch_run_records(s->run) >= s->cfg->crash_after)
        raise(SIGKILL); /* fault injection: kill -9 at a known point */
    return true;
}

/* The loop thread: steps until stopped, done (--once) or fenced; with
 * --schedule, one --once pass per firing. */
static void *
loop(void *arg)
{
    struct batch_svc   *s = arg;
    struct velo_backoff b;
    bool                done = false, scheduled = s->cfg->schedule != NULL;
    int                 rv;

    velo_backoff_init(&b, RETRY_MIN_MS, RETRY_MAX_MS, (uint64_t)velo_now_ms());
    if (scheduled && !arm(s))
        done = true;
    while (!atomic_load(&s->stop) && !done) {
        if (atomic_load(&s->waiting) && !fired(s))
            continue;
        if (!step(s, &b, &done))
            return NULL;
        if (done && scheduled) {
            velo_info("batch.pass.done");
            done = !arm(s);
        }
    }
    rv = batch_run_flush(s->run);
    if (rv != VELO_OK)
        velo_warn("batch.flush.fail", VELO_S("cause", velo_strerror(rv)));
    if (done && !scheduled)
        velo_info("batch.once.done");
    finish(s, rv == VELO_OK ? EXIT_SUCCESS : EXIT_FAILURE);
    return NULL;
}

static int
svc_start(void *ctx)
{
    struct batch_svc *s = ctx;

    if (pthread_create(&s->thr, NULL, loop, s) != 0)
        return VELO_ENOMEM;
    s->started = true;
    return VELO_OK;
}

static bool
svc_ready(void *ctx, char *why, size_t size)
{
    struct batch_svc *s = ctx;

    if (atomic_load(&s->waiting) || batch_run_ready(s->run))
        return true; /* between two scheduled passes there is no lag */
    snprintf(why, size, "recovering");
    return false;
}

static bool
svc_done(void *ctx, int *status)
{
    struct batch_svc *s = ctx;

    if (!atomic_load(&s->finished))
        return false;
    *status = atomic_load(&s->status);
    return true;
}

/* Stops reading, commits what was read (the loop's last act), joins. */
static int
svc_stop(void *ctx, uint32_t timeout_ms)
{
    struct batch_svc *s = ctx;

    (void)timeout_ms; /* the commit is bounded by txn-timeout-ms */
    atomic_store(&s->stop, true);
    if (s->started)
        pthread_join(s->thr, NULL);
    s->started = false;
    return atomic_load(&s->status) == EXIT_SUCCESS ? VELO_OK : VELO_EUNAVAIL;
}

const struct velo_svc_ops batch_svc_ops = {
    .create = svc_create,
    .start = svc_start,
    .ready = svc_ready,
    .done = svc_done,
    .stop = svc_stop,
    .destroy = svc_destroy,
};
