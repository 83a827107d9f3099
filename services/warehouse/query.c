/* query.c: a pool of query connections (see query.h). */
#include "query.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "velo/clock.h"
#include "velo/log.h"

#define STATEMENT_MS 10000 /* a history query longer than this is a bug */

struct slot {
    pthread_mutex_t mu;
    velo_db        *db; /* NULL until connected; under mu */
};

struct wh_query {
    char             *url, *password;
    struct wh_status *status;
    atomic_llong      down_until; /* velo_mono_ms: fail fast until then */
    atomic_uint       next;       /* where the search for a free slot starts */
    size_t            n;
    struct slot       slots[];
};

int
wh_query_new(wh_query **out, const char *url, const char *password,
             size_t nconns, struct wh_status *status)
{
    wh_query *q;
    size_t    i;

    q = calloc(1, sizeof(*q) + nconns * sizeof(q->slots[0]));
    if (q == NULL)
        return VELO_ENOMEM;
    q->url = strdup(url);
    q->password = password != NULL ? strdup(password) : NULL;
    if (q->url == NULL || (password != NULL && q->password == NULL)) {
        free(q->url);
        free(q->password);
        free(q);
        return VELO_ENOMEM;
    }
    q->n = nconns;
    q->status = status;
    for (i = 0; i < nconns; i++)
        pthread_mutex_init(&q->slots[i].mu, NULL);
    atomic_init(&q->down_until, 0);
    atomic_init(&q->next, 0);
    *out = q;
    return VELO_OK;
}

/* A free slot, locked; waits on one until deadline. NULL: none. */
static struct slot *
slot_take(wh_query *q, int64_t deadline)
{
    unsigned        start = atomic_fetch_add(&q->next, 1);
    struct slot    *s;
    struct timespec ts;
    int64_t         wall;
    size_t          i;

    for (i = 0; i < q->n; i++) {
        s = &q->slots[(start + i) % q->n];
        if (pthread_mutex_trylock(&s->mu) == 0)
            return s;
    }
    /* Every connection busy: wait for one, bounded by the call's budget. */
    s = &q->slots[start % q->n];
    wall = velo_now_ms() + (deadline - velo_mono_ms());
    ts.tv_sec = (time_t)(wall / 1000);
    ts.tv_nsec = (long)(wall % 1000) * 1000000L;
    return pthread_mutex_timedlock(&s->mu, &ts) == 0 ? s : NULL;
}

static bool
is_down_err(int rv)
{
    return rv == VELO_EUNAVAIL || rv == VELO_ETIMEDOUT;
}

/* Connects the slot if needed. */
static int
slot_connect(wh_query *q, struct slot *s)
{
    struct velo_db_opts o = {
        .password = q->password,
        .connect_timeout_ms = WH_QUERY_CONNECT_MS,
        .statement_timeout_ms = STATEMENT_MS,
        .busy_timeout_ms = STATEMENT_MS,
    };

    if (s->db != NULL)
        return VELO_OK;
    return velo_db_connect(&s->db, q->url, &o);
}

int
wh_query_run(wh_query *q, int (*fn)(velo_db *, void *), void *ctx,
             int64_t deadline_mono_ms, char *why, size_t why_size)
{
    struct wh_status_view v;
    struct slot          *s;
    int                   rv;

    wh_status_get(q->status, &v);
    if (!v.schema_ready)
        return velo_errf(VELO_EUNAVAIL, why, why_size,
                         "database not reached yet");
    if (velo_mono_ms() < atomic_load(&q->down_until))
        return velo_errf(VELO_EUNAVAIL, why, why_size, "database unavailable");
    s = slot_take(q, deadline_mono_ms);
    if (s == NULL)
        return velo_errf(VELO_EUNAVAIL, why, why_size,
                         "every query connection is busy");
    rv = slot_connect(q, s);
    if (rv == VELO_OK)
        rv = fn(s->db, ctx);
    if (is_down_err(rv)) {
        /* Reconnect from scratch next time; answer fast until then. */
        velo_db_close(s->db);
        s->db = NULL;
        atomic_store(&q->down_until, velo_mono_ms() + WH_QUERY_DOWN_MS);
        velo_errf(VELO_EUNAVAIL, why, why_size, "database unavailable");
        rv = VELO_EUNAVAIL;
    }
    pthread_mutex_unlock(&s->mu);
    return rv;
}

void
wh_query_free(wh_query *q)
{
    size_t i;

    if (q == NULL)
        return;
    for (i = 0; i < q->n; i++) {
        velo_db_close(q->slots[i].db);
        pthread_mutex_destroy(&q->slots[i].mu);
    }
    free(q->url);
    free(q->password);
    free(q);
}
