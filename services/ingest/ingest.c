/* ingest.c: the poll scheduler. One thread runs every source: it starts
 * polls when they are due, drives the HTTP fetcher, and turns each poll's
 * outcome into records, metrics, log events and the next due time
 * (interval, ttl, jittered backoff, Retry-After). */
#include "ingest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc.h"
#include "emit.h"
#include "poll_delay.h"
#include "source_kind.h"
#include "velo/clock.h"
#include "velo/http_client.h"
#include "velo/log.h"

#define LOOP_MAX_WAIT_MS 200

struct src_metrics {
    velo_metric *emitted, *unchanged, *dead, *staleness, *duration, *repaired;
};

struct ingest {
    const struct ingest_cfg *cfg;
    struct ingest_sink       sink;
    velo_metrics            *m;
    velo_fetcher            *fetcher;
    ingest_cdc              *cdc;
    struct ingest_src       *srcs;
    struct src_metrics      *sm;
    _Atomic int64_t         *last_ok_ms; /* wall ms; read by ingest_ready */
    size_t                   nsrcs;
    pthread_t                thr;
    bool                     started;
    atomic_bool              stop;
    atomic_bool              done;
    int64_t                  started_ms; /* wall ms: staleness before any ok */
    bool (*gate)(void *ctx);             /* NULL: always poll */
    void        *gate_ctx;
    velo_metric *lost;
};

static const struct ingest_src_ops *
ops_for(enum ingest_kind k)
{
    switch (k) {
    case INGEST_JCDECAUX_V1:
    case INGEST_JCDECAUX_V3:
        return &ingest_jcdecaux_ops;
    case INGEST_GBFS:
        return &ingest_gbfs_ops;
    case INGEST_REPLAY:
        return &ingest_replay_ops;
    default:
        return &ingest_simulate_ops;
    }
}

static void
on_lost(void *owner, const char *key, size_t keylen)
{
    ingest *p = owner;
    char    k[256];
    size_t  i;

    /* The record never reached Kafka: forget it, the next poll resends. A
     * key without '/' is a system's: its SystemInfo (or a whole-payload
     * dead letter, for which resending the SystemInfo is harmless). */
    snprintf(k, sizeof(k), "%.*s", (int)keylen, key);
    if (strchr(k, '/') == NULL) {
        for (i = 0; i < p->nsrcs; i++) {
            if (strcmp(p->srcs[i].spec->system_id, k) == 0)
                ingest_sysinfo_forget(&p->srcs[i].sys_sent);
        }
    } else {
        ingest_cdc_forget(p->cdc, k);
    }
    velo_metric_inc(p->lost);
}

static void
metrics_init(ingest *p, size_t i)
{
    char                labels[160];
    struct src_metrics *sm = &p->sm[i];

    snprintf(labels, sizeof(labels), "source=\"%s\"",
             p->cfg->specs[i].system_id);
    sm->emitted =
        velo_metrics_counter(p->m, "velo_ingest_stations_emitted_total",
                             "station records produced", labels);
    sm->unchanged = velo_metrics_counter(
        p->m, "velo_ingest_stations_unchanged_total",
        "stations suppressed as unchanged since the last emission", labels);
    sm->dead =
        velo_metrics_counter(p->m, "velo_ingest_dead_letters_total",
                             "records sent to the dead-letter topic", labels);
    sm->staleness = velo_metrics_gauge(
        p->m, "velo_ingest_source_staleness_seconds",
        "seconds since the source last polled successfully", labels);
    sm->repaired = velo_metrics_counter(
        p->m, "velo_ingest_strings_repaired_total",
        "names and addresses whose invalid UTF-8 or NUL became U+FFFD", labels);
    sm->duration = velo_metrics_histogram(
        p->m, "velo_ingest_poll_duration_seconds", "poll latency", labels,
        velo_metrics_latency_bounds, velo_metrics_latency_nbounds);
}

static void src_done(struct ingest_src *s, struct ingest_outcome *o,
                     struct ingest_batch *b);

static int
src_open(ingest *p, size_t i)
{
    struct ingest_src *s = &p->srcs[i];

    s->spec = &p->cfg->specs[i];
    s->cfg = p->cfg;
    s->ops = ops_for(s->spec->kind);
    s->fetcher = p->fetcher;
    s->done = src_done;
    s->owner = p;
    s->index = i;
    velo_backoff_init(&s->backoff, INGEST_BACKOFF_BASE_MS,
                      INGEST_BACKOFF_MAX_MS, 0);
    metrics_init(p, i);
    if (ingest_src_policy_init(s) != VELO_OK) {
        velo_error("source.bad_url", VELO_S("source", s->spec->system_id));
        return VELO_EINVAL;
    }
    return s->ops->open(s);
}

static void
ingest_stop_quiet(ingest *p)
{
    if (ingest_stop(p, 0) != VELO_OK)
        velo_warn("ingest.stop_incomplete");
}

void
ingest_free(ingest *p)
{
    size_t i;

    if (p == NULL)
        return;
    if (p->started)
        ingest_stop_quiet(p);
    velo_fetcher_free(p->fetcher); /* ends fetches before kinds close */
    for (i = 0; i < p->nsrcs; i++) {
        if (p->srcs[i].ops != NULL && p->srcs[i].kstate != NULL)
            p->srcs[i].ops->close(&p->srcs[i]);
        ingest_src_policy_fini(&p->srcs[i]);
        ingest_sysinfo_forget(&p->srcs[i].sys_sent);
    }
    ingest_cdc_free(p->cdc);
    free(p->srcs);
    free(p->sm);
    free(p->last_ok_ms);
    free(p);
}

int
ingest_new(ingest **out, const struct ingest_cfg *cfg,
           const struct ingest_sink *sink, velo_metrics *m)
{
    ingest *p = calloc(1, sizeof(*p));
    size_t  i;
    int     rv, bad = 0;

    if (p == NULL)
        return VELO_ENOMEM;
    p->cfg = cfg;
    p->sink = *sink;
    p->m = m;
    p->started_ms = velo_now_ms();
    p->nsrcs = cfg->nspecs;
    p->srcs = calloc(p->nsrcs, sizeof(*p->srcs));
    p->sm = calloc(p->nsrcs, sizeof(*p->sm));
    p->last_ok_ms = calloc(p->nsrcs, sizeof(*p->last_ok_ms));
    p->lost = velo_metrics_counter(m, "velo_ingest_delivery_failures_total",
                                   "records Kafka did not acknowledge", NULL);
    rv = p->srcs && p->sm && p->last_ok_ms ? VELO_OK : VELO_ENOMEM;
    if (rv == VELO_OK)
        rv = velo_fetcher_new(&p->fetcher);
    if (rv == VELO_OK)
        rv = ingest_cdc_new(&p->cdc, (int64_t)cfg->heartbeat_s * 1000);
    for (i = 0; rv == VELO_OK && i < p->nsrcs; i++)
        bad += src_open(p, i) != VELO_OK;
    if (rv == VELO_OK && bad > 0)
        rv = VELO_EINVAL;
    if (rv != VELO_OK) {
        ingest_free(p);
        return rv;
    }
    *out = p;
    return VELO_OK;
}

/* Next due time after a poll (poll_delay.h); a cap that cut what the
 * source asked for is logged, as it hides the source's own wish. */
static int64_t
next_delay_ms(ingest *p, struct ingest_src *s, const struct ingest_outcome *o)
{
    struct ingest_delay d;

    ingest_poll_delay(&s->backoff, o, ingest_cfg_interval_ms(p->cfg, s->index),
                      (int64_t)p->cfg->max_wait_s * 1000, &d);
    if (d.capped != NULL)
        velo_warn("poll.wait_capped", VELO_S("source", s->spec->system_id),
                  VELO_S("asked", d.capped), VELO_I("asked_ms", d.asked_ms),
                  VELO_I("cap_ms", (int64_t)p->cfg->max_wait_s * 1000));
    return d.ms;
}

static void
count_poll(ingest *p, struct ingest_src *s, const char *kind)
{
    char labels[192];

    snprintf(labels, sizeof(labels), "source=\"%s\",outcome=\"%s\"",
             s->spec->system_id, kind);
    velo_metric_inc(velo_metrics_counter(p->m, "velo_ingest_polls_total",
                                         "polls by source and outcome",
                                         labels));
    /* The last poll's verdict: alerts ask "failing for 10 minutes", which
     * a rate over polls spaced out by backoff cannot tell. */
    snprintf(labels, sizeof(labels), "source=\"%s\"", s->spec->system_id);
    velo_metric_set(velo_metrics_gauge(p->m, "velo_ingest_source_up",
                                       "1 when the source's last poll was ok",
                                       labels),
                    strcmp(kind, "ok") == 0 ? 1 : 0);
}

/* Failures are logged once per change of kind, not once per poll. */
static void
log_failure(struct ingest_src *s, const struct ingest_outcome *o, int64_t delay)
{
    bool new_kind = s->last_kind == NULL || strcmp(s->last_kind, o->kind) != 0;

    if (new_kind)
        velo_warn("poll.failed", VELO_S("source", s->spec->system_id),
                  VELO_S("outcome", o->kind), VELO_S("url", o->url),
                  VELO_I("status", o->status), VELO_S("reason", o->detail),
                  VELO_I("retry_in_ms", delay));
    else
        velo_debug("poll.failed", VELO_S("source", s->spec->system_id),
                   VELO_S("outcome", o->kind), VELO_I("failures", s->failures));
    s->last_kind = o->kind;
}

/* Sends the source's SystemInfo when it is new or changed. Before the
 * stations, so a consumer learns the zone no later than the records. */
static void
publish_sysinfo(ingest *p, struct ingest_src *s, const struct ingest_batch *b)
{
    Velo__V1__SystemInfo si;
    bool                 sent = false;
    int                  rv;

    ingest_sysinfo_build(s->spec, s->feed, b, &si);
    rv = ingest_sysinfo_publish(&s->sys_sent, &p->sink, &si, &sent);
    if (rv != VELO_OK)
        velo_warn("sysinfo.send_failed", VELO_S("source", s->spec->system_id),
                  VELO_S("reason", velo_strerror(rv)));
    else if (sent)
        velo_info("sysinfo.sent", VELO_S("source", s->spec->system_id),
                  VELO_S("timezone", si.timezone), VELO_S("name", si.name),
                  VELO_U("stations", si.station_count));
    if (sent && si.timezone == NULL)
        velo_warn("sysinfo.no_timezone", VELO_S("source", s->spec->system_id),
                  VELO_S("hint", "give the source tz=ZONE: daily windows "
                                 "need the system's zone"));
}

/* The change-capture slack: one poll period, in the records' time. */
static int64_t
event_period_ms(const ingest *p, const struct ingest_src *s)
{
    if (s->spec->virtual_time)
        return (int64_t)s->spec->step_ms;
    return ingest_cfg_interval_ms(p->cfg, s->index);
}

static void
handle_ok(ingest *p, struct ingest_src *s, struct ingest_batch *b,
          const struct ingest_emit_ctx *ec)
{
    struct ingest_emit_stats st = {0};
    int64_t                  slack = event_period_ms(p, s);
    struct src_metrics      *sm = &p->sm[s->index];

    publish_sysinfo(p, s, b);
    ingest_emit_batch(ec, b, velo_now_ms(), slack, &st);
    velo_metric_add(sm->emitted, (double)st.emitted);
    velo_metric_add(sm->unchanged, (double)st.unchanged);
    velo_metric_add(sm->dead, (double)st.rejected);
    velo_metric_add(sm->repaired, (double)b->repaired);
    atomic_store(&p->last_ok_ms[s->index], velo_now_ms());
    if (s->last_kind != NULL && strcmp(s->last_kind, "ok") != 0)
        velo_info("poll.recovered", VELO_S("source", s->spec->system_id),
                  VELO_U("after_failures", s->failures));
    s->last_kind = "ok";
    s->failures = 0;
    /* Info when something went out, else debug: quiet sources stay quiet. */
    VELO_LOG_(st.emitted > 0 ? VELO_LOG_INFO : VELO_LOG_DEBUG, "poll.done",
              VELO_S("source", s->spec->system_id), VELO_U("stations", b->len),
              VELO_U("emitted", st.emitted), VELO_U("unchanged", st.unchanged),
              VELO_U("dead_lettered", st.rejected),
              VELO_U("failed", st.failed));
}

static void
src_done(struct ingest_src *s, struct ingest_outcome *o, struct ingest_batch *b)
{
    ingest                      *p = s->owner;
    const struct ingest_emit_ctx ec = {&p->sink,
                                       p->cdc,
                                       on_lost,
                                       p,
                                       s->spec->system_id,
                                       ingest_kind_name(s->spec->kind)};
    struct ingest_emit_stats     st = {0};
    int64_t                      delay;

    s->in_flight = false;
    s->polls++;
    velo_metric_observe(p->sm[s->index].duration,
                        (double)(velo_mono_ns() - s->poll_started_ns) / 1e9);
    if (o->err == VELO_ECLOSED)
        return;
    count_poll(p, s, o->kind);
    if (o->err == VELO_OK) {
        handle_ok(p, s, b, &ec);
    } else {
        s->failures++;
        if (o->raw != NULL && o->rawlen > 0) {
            ingest_emit_payload_dlq(&ec, o->raw, o->rawlen, o->detail, &st);
            velo_metric_add(p->sm[s->index].dead, (double)st.rejected);
        }
    }
    delay = next_delay_ms(p, s, o);
    if (o->err != VELO_OK)
        log_failure(s, o, delay);
    s->next_due_ms = velo_mono_ms() + delay;
}

/* True when every source is finished (a replay without loop=, a
 * simulated day of polls=N) or, with --exit-after-polls, polled that
 * often: there is nothing left to do. */
static bool
all_done(const ingest *p)
{
    uint32_t max = p->cfg->exit_after_polls;
    size_t   i;

    for (i = 0; i < p->nsrcs; i++) {
        if (!p->srcs[i].finished && (max == 0 || p->srcs[i].polls < max))
            return false;
    }
    return p->nsrcs > 0;
}

void
ingest_set_gate(ingest *p, bool (*active)(void *ctx), void *ctx)
{
    p->gate = active;
    p->gate_ctx = ctx;
}

/* Starts due polls; returns how long the loop may wait for the next. A
 * standby (gate closed) polls nothing and looks again soon. */
static int
start_due(ingest *p)
{
    int64_t now = velo_mono_ms(), wait = LOOP_MAX_WAIT_MS;
    int64_t wall = velo_now_ms();
    bool    open = p->gate == NULL || p->gate(p->gate_ctx);
    size_t  i;

    for (i = 0; i < p->nsrcs; i++) {
        struct ingest_src *s = &p->srcs[i];
        int64_t            ok = atomic_load(&p->last_ok_ms[i]);
        /* A source that never succeeded is stale since the service started:
         * a 0 here would hide a source broken from the start. */
        velo_metric_set(p->sm[i].staleness,
                        (double)(wall - (ok > 0 ? ok : p->started_ms)) /
                            1000.0);
        if (!open || s->in_flight || s->finished ||
            (p->cfg->exit_after_polls && s->polls >= p->cfg->exit_after_polls))
            continue;
        if (now >= s->next_due_ms) {
            s->in_flight = true;
            s->poll_started_ns = velo_mono_ns();
            s->ops->poll(s, now);
        }
        if (!s->in_flight && s->next_due_ms - now < wait)
            wait = s->next_due_ms - now;
    }
    return wait < 0 ? 0 : (int)wait; /* at most 200 ms: a standby looks */
}

static void *
loop(void *arg)
{
    ingest *p = arg;
    int     wait, rv;

    while (!atomic_load(&p->stop) && !all_done(p)) {
        wait = start_due(p);
        rv = velo_fetcher_run(p->fetcher,
                              velo_fetcher_pending(p->fetcher) ? wait : 0);
        if (rv != VELO_OK)
            velo_warn("fetcher.error", VELO_S("reason", velo_strerror(rv)));
        p->sink.poll(p->sink.ctx, velo_fetcher_pending(p->fetcher) ? 0 : wait,
                     on_lost, p);
    }
    /* Let fetches in flight finish: their batches are whole or dropped. */
    while (velo_fetcher_pending(p->fetcher) > 0 && !atomic_load(&p->stop) &&
           velo_fetcher_run(p->fetcher, LOOP_MAX_WAIT_MS) == VELO_OK)
        ;
    atomic_store(&p->done, true);
    return NULL;
}

int
ingest_start(ingest *p)
{
    if (pthread_create(&p->thr, NULL, loop, p) != 0)
        return VELO_ENOMEM;
    p->started = true;
    velo_info("ingest.started", VELO_U("sources", p->nsrcs));
    return VELO_OK;
}

int
ingest_stop(ingest *p, uint32_t timeout_ms)
{
    int rv;

    if (!p->started)
        return VELO_OK;
    atomic_store(&p->stop, true);
    velo_fetcher_wakeup(p->fetcher);
    pthread_join(p->thr, NULL);
    p->started = false;
    rv = p->sink.flush(p->sink.ctx, (int)timeout_ms, on_lost, p);
    velo_info("ingest.stopped", VELO_S("flush", velo_strerror(rv)),
              VELO_U("stations_tracked", ingest_cdc_size(p->cdc)));
    return rv;
}

bool
ingest_done(const ingest *p)
{
    return atomic_load(&p->done);
}

bool
ingest_ready(void *ctx, char *why, size_t why_size)
{
    ingest *p = ctx;
    int64_t max_age = (int64_t)p->cfg->ready_max_age_s * 1000;
    int64_t now = velo_now_ms(), ok;
    size_t  i;

    for (i = 0; max_age == 0 && i < p->nsrcs; i++) {
        if (3 * ingest_cfg_interval_ms(p->cfg, i) > max_age)
            max_age = 3 * ingest_cfg_interval_ms(p->cfg, i);
    }
    if (max_age < 60000 && p->cfg->ready_max_age_s == 0)
        max_age = 60000;
    for (i = 0; i < p->nsrcs; i++) {
        ok = atomic_load(&p->last_ok_ms[i]);
        if (ok > 0 && now - ok <= max_age)
            return true;
    }
    snprintf(why, why_size, "no source polled successfully in the last %lld s",
             (long long)(max_age / 1000));
    return false;
}
