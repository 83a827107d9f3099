/* consul_watch.c: a cached healthy list of one service (velo/consul.h).
 *
 * The thread runs GET /v1/health/service/<name>?passing as a blocking
 * query: index is the X-Consul-Index of the last answer, so the agent
 * holds the request until the list changes or wait passes. Each answer
 * replaces the cached list; the generation moves only when the list
 * itself changed, so RPC clients re-read it only then.
 *
 * Bad answers (a transport error, a status other than 200, a body that is
 * not the expected JSON, a query that hangs past wait plus Consul's jitter)
 * keep the last list and retry with backoff. An index that goes backwards
 * or is missing starts over from 0 (Consul's documented rule). The list
 * is read under mtx by copying: a reader never waits on the network. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consul_int.h"
#include "velo/backoff.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/parse.h"

#define WATCH_WAIT_MS 30000u
#define WATCH_MIN_GAP_MS                                                       \
    100 /* between two queries, whatever the agent does                        \
         */

struct velo_consul_watch {
    velo_consul       *c; /* borrowed */
    char               name[64];
    char               name_esc[200];
    uint32_t           wait_ms;
    pthread_t          th;
    bool               started;
    atomic_bool        stop;
    struct consul_call k; /* the thread's */

    pthread_mutex_t             mtx; /* guards the fields below */
    pthread_cond_t              cond;
    struct velo_consul_instance list[VELO_CONSUL_MAX_INSTANCES];
    size_t                      n;
    uint64_t                    gen;      /* list changes */
    _Atomic uint64_t            gen_pub;  /* gen, for a lock-free look */
    uint64_t                    attempts; /* queries finished */
    bool                        ok;       /* the last query succeeded */
    char                        state[200];
    velo_metric                *m_instances, *m_up, *m_errors;
};

/* Replaces the list; bumps the generation when it differs. Locks: takes
 * w->mtx. */
static void
watch_set(velo_consul_watch *w, const struct velo_consul_instance *list,
          size_t n)
{
    bool   same;
    size_t i;

    pthread_mutex_lock(&w->mtx);
    same = n == w->n;
    for (i = 0; same && i < n; i++)
        same = strcmp(list[i].url, w->list[i].url) == 0 &&
               strcmp(list[i].pub, w->list[i].pub) == 0;
    if (!same) {
        memcpy(w->list, list, n * sizeof(*list));
        w->n = n;
        w->gen++;
        atomic_store(&w->gen_pub, w->gen);
    }
    w->ok = true;
    w->attempts++;
    snprintf(w->state, sizeof(w->state), "%zu healthy", n);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mtx);
    consul_mset(w->m_instances, (double)n);
    consul_mset(w->m_up, 1);
    if (!same)
        velo_info("consul.watch.changed", VELO_S("service", w->name),
                  VELO_U("instances", n));
}

/* A failed query: the list stays. Locks: takes w->mtx. */
static void
watch_fail(velo_consul_watch *w, const char *text)
{
    bool was_ok;

    pthread_mutex_lock(&w->mtx);
    was_ok = w->ok || w->attempts == 0;
    w->ok = false;
    w->attempts++;
    snprintf(w->state, sizeof(w->state), "%s (keeping %zu cached)", text, w->n);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mtx);
    consul_mset(w->m_up, 0);
    consul_minc(w->m_errors);
    if (was_ok)
        velo_warn("consul.watch.failed", VELO_S("service", w->name),
                  VELO_S("cause", text));
}

/* The index to send next, from the answer's X-Consul-Index. */
static uint64_t
watch_next_index(const char *hdr, uint64_t prev)
{
    uint64_t idx = 0;

    if (velo_parse_u64(hdr, &idx) != VELO_OK || idx < prev)
        return 0; /* missing, junk or backwards: start over */
    return idx;
}

/* One blocking query. On success *index moves on. */
static int
watch_query(velo_consul_watch *w, uint64_t *index, char *err, size_t esize)
{
    struct velo_consul_instance list[VELO_CONSUL_MAX_INSTANCES];
    char                        path[512];
    size_t                      n = 0;
    uint32_t                    timeout;
    int                         rv;

    snprintf(path, sizeof(path),
             "/v1/health/service/%s?passing=1&index=%" PRIu64 "&wait=%ums",
             w->name_esc, *index, (unsigned)w->wait_ms);
    /* Consul adds up to wait/16 of jitter; past that, the query hangs. */
    timeout = w->wait_ms + w->wait_ms / 16 + 3000;
    rv = consul_call_run(w->c, &w->k, NULL, path, NULL, timeout);
    if (rv == VELO_OK && w->k.res.status != 200)
        rv = VELO_EPROTO;
    if (rv == VELO_OK)
        rv = velo_consul_parse_health(w->k.res.body.data, w->k.res.body.len,
                                      list, VELO_CONSUL_MAX_INSTANCES, &n);
    if (rv != VELO_OK) {
        snprintf(err, esize, "%s (HTTP %ld) %.100s", velo_strerror(rv),
                 w->k.res.status, w->k.res.cause);
        return rv;
    }
    *index = watch_next_index(w->k.res.header, *index);
    watch_set(w, list, n);
    return VELO_OK;
}

static void *
watch_main(void *arg)
{
    velo_consul_watch  *w = arg;
    struct velo_backoff bo;
    uint64_t            index = 0;
    char                err[200];
    int64_t             t0, wait;
    int                 rv;

    velo_backoff_init(&bo, 200, 10000, 0);
    while (!atomic_load(&w->stop)) {
        t0 = velo_mono_ms();
        rv = watch_query(w, &index, err, sizeof(err));
        if (rv == VELO_ECLOSED && atomic_load(&w->stop))
            break;
        if (rv == VELO_OK) {
            velo_backoff_reset(&bo);
            wait = WATCH_MIN_GAP_MS - (velo_mono_ms() - t0);
        } else {
            watch_fail(w, err);
            index = 0;
            wait = velo_backoff_next(&bo);
        }
        if (wait > 0 && consul_nap(&w->stop, wait))
            break;
    }
    return NULL;
}

static void
watch_metrics(velo_consul_watch *w, velo_metrics *m)
{
    char labels[128];

    if (m == NULL)
        return;
    snprintf(labels, sizeof(labels), "service=\"%s\"", w->name);
    w->m_instances = velo_metrics_gauge(
        m, "velo_consul_watch_instances",
        "healthy instances in the cached list from Consul", labels);
    w->m_up =
        velo_metrics_gauge(m, "velo_consul_watch_up",
                           "1 when the last discovery query succeeded", labels);
    w->m_errors = velo_metrics_counter(m, "velo_consul_watch_errors_total",
                                       "failed discovery queries", labels);
}

int
velo_consul_watch_start(velo_consul_watch **out, velo_consul *c,
                        const char *name, uint32_t wait_ms, velo_metrics *m)
{
    velo_consul_watch *w;
    int                rv;

    if (strlen(name) == 0 || strlen(name) >= sizeof(w->name))
        return VELO_EINVAL;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return VELO_ENOMEM;
    pthread_mutex_init(&w->mtx, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->c = c;
    w->wait_ms = wait_ms ? wait_ms : WATCH_WAIT_MS;
    snprintf(w->name, sizeof(w->name), "%s", name);
    snprintf(w->state, sizeof(w->state), "no answer yet");
    rv = consul_escape(name, w->name_esc, sizeof(w->name_esc));
    if (rv == VELO_OK)
        rv = consul_call_init(&w->k, &w->stop);
    if (rv == VELO_OK) {
        watch_metrics(w, m);
        rv = pthread_create(&w->th, NULL, watch_main, w) == 0 ? VELO_OK
                                                              : VELO_ENOMEM;
        w->started = rv == VELO_OK;
    }
    if (rv != VELO_OK) {
        velo_consul_watch_stop(w);
        return rv;
    }
    *out = w;
    return VELO_OK;
}

bool
velo_consul_watch_wait_first(velo_consul_watch *w, uint32_t timeout_ms)
{
    struct timespec ts;
    int64_t         end_ns;
    bool            ok;

    clock_gettime(CLOCK_REALTIME, &ts);
    end_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
             (int64_t)timeout_ms * 1000000;
    ts.tv_sec = (time_t)(end_ns / 1000000000);
    ts.tv_nsec = (long)(end_ns % 1000000000);
    pthread_mutex_lock(&w->mtx);
    while (w->attempts == 0 &&
           pthread_cond_timedwait(&w->cond, &w->mtx, &ts) == 0)
        ;
    ok = w->ok;
    pthread_mutex_unlock(&w->mtx);
    return ok;
}

size_t
velo_consul_watch_urls(velo_consul_watch *w, char (*urls)[VELO_CONSUL_URL_MAX],
                       size_t             max)
{
    size_t i, n;

    pthread_mutex_lock(&w->mtx);
    n = w->n < max ? w->n : max;
    for (i = 0; i < n; i++)
        memcpy(urls[i], w->list[i].url, VELO_CONSUL_URL_MAX);
    pthread_mutex_unlock(&w->mtx);
    return n;
}

size_t
velo_consul_watch_pubs(velo_consul_watch *w, char (*urls)[VELO_CONSUL_URL_MAX],
                       size_t             max)
{
    size_t i, n = 0;

    pthread_mutex_lock(&w->mtx);
    for (i = 0; i < w->n && n < max; i++) {
        if (w->list[i].pub[0] != '\0')
            memcpy(urls[n++], w->list[i].pub, VELO_CONSUL_URL_MAX);
    }
    pthread_mutex_unlock(&w->mtx);
    return n;
}

bool
velo_consul_watch_refresh(void *arg, uint64_t *gen,
                          void (*apply)(void *arg, const char *const *urls,
                                        size_t n),
                          void *apply_arg)
{
    velo_consul_watch *w = arg;
    const char        *urls[VELO_CONSUL_MAX_INSTANCES];
    bool               applied = false;
    size_t             i;

    /* Called before every RPC, from every client thread: the common case
     * (nothing changed) is one atomic load, no lock. */
    if (atomic_load(&w->gen_pub) == *gen)
        return false;
    pthread_mutex_lock(&w->mtx);
    if (w->gen != *gen && w->n > 0) {
        for (i = 0; i < w->n; i++)
            urls[i] = w->list[i].url;
        apply(apply_arg, urls, w->n); /* copies them */
        *gen = w->gen;
        applied = true;
    }
    pthread_mutex_unlock(&w->mtx);
    return applied;
}

bool
velo_consul_watch_state(velo_consul_watch *w, char *buf, size_t size)
{
    bool ok;

    pthread_mutex_lock(&w->mtx);
    ok = w->ok;
    snprintf(buf, size, "%s: %s", w->name, w->state);
    pthread_mutex_unlock(&w->mtx);
    return ok;
}

void
velo_consul_watch_stop(velo_consul_watch *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->stop, true);
    if (w->k.f != NULL)
        velo_fetcher_wakeup(w->k.f);
    if (w->started)
        pthread_join(w->th, NULL);
    consul_call_fini(&w->k);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mtx);
    free(w);
}
