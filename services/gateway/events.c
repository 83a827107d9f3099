/* events.c: the SSE hub (see events.h): rings, clients, resume plans and
 * gaps. The PUB subscriber thread is in events_sub.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_int.h"
#include "velo/log.h"
#include "velo/parse.h"

#define SNAPSHOT_MAX (64u << 20)
#define RETRY_LINE "retry: 3000\n\n"
#define PENDING_MAX (4u << 20) /* one burst of events per system */

int
gw_events_new(gw_events **out, const struct gw_events_cfg *cfg)
{
    gw_events *ev;

    if (cfg->ring == 0 || cfg->max_clients == 0)
        return VELO_EINVAL;
    ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return VELO_ENOMEM;
    ev->cfg = *cfg;
    pthread_mutex_init(&ev->mtx, NULL);
    atomic_init(&ev->stop, false);
    if (cfg->metrics != NULL) {
        ev->g_clients =
            velo_metrics_gauge(cfg->metrics, "velo_gateway_sse_clients",
                               "event streams connected now", "");
        ev->c_events = velo_metrics_counter(
            cfg->metrics, "velo_gateway_sse_events_total",
            "station changes received from velo-stream's PUB", "");
        ev->c_dropped = velo_metrics_counter(
            cfg->metrics, "velo_gateway_sse_dropped_total",
            "event streams dropped (gone or too slow)", "");
        ev->c_snapshots = velo_metrics_counter(
            cfg->metrics, "velo_gateway_sse_snapshots_total",
            "snapshot events sent to clients too far behind", "");
        ev->c_switches = velo_metrics_counter(
            cfg->metrics, "velo_gateway_sse_pub_switches_total",
            "moves to another velo-stream PUB that discovery named", "");
    }
    *out = ev;
    return VELO_OK;
}

void
gw_ev_count(velo_metric *m, double v)
{
    if (m != NULL)
        velo_metric_add(m, v);
}

struct gw_resume
gw_events_plan(const char *last_id, int64_t run_id, uint64_t oldest,
               uint64_t newest)
{
    struct gw_resume r = {.from_seq = newest, .snapshot = false};
    char             run[32];
    const char      *dash;
    int64_t          got_run;
    uint64_t         seq;

    if (last_id == NULL)
        return r; /* a new client: live events from now */
    dash = strchr(last_id, '-');
    r.snapshot = true;
    if (dash == NULL || (size_t)(dash - last_id) >= sizeof(run))
        return r;
    memcpy(run, last_id, (size_t)(dash - last_id));
    run[dash - last_id] = '\0';
    if (velo_parse_i64(run, &got_run) != VELO_OK || got_run != run_id ||
        velo_parse_u64(dash + 1, &seq) != VELO_OK || seq > newest)
        return r;
    /* Everything after seq is still in the ring (or nothing happened). */
    if (seq == newest || (oldest != 0 && seq + 1 >= oldest)) {
        r.snapshot = false;
        r.from_seq = seq;
    }
    return r;
}

/* Finds or makes system's entry. Locks: ev->mtx held. */
struct ev_system *
gw_ev_sys_get(gw_events *ev, const char *system)
{
    struct ev_system *s = NULL;

    HASH_FIND_STR(ev->systems, system, s);
    if (s != NULL)
        return s;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->id = strdup(system);
    s->ring = calloc(ev->cfg.ring, sizeof(*s->ring));
    if (s->id == NULL || s->ring == NULL) {
        free(s->id);
        free(s->ring);
        free(s);
        return NULL;
    }
    velo_buf_init(&s->pending, PENDING_MAX);
    HASH_ADD_KEYPTR(hh, ev->systems, s->id, strlen(s->id), s);
    return s;
}

uint64_t
gw_events_oldest(uint64_t newest, uint32_t ring, uint64_t gap)
{
    uint64_t o;

    if (newest == 0)
        return 0;
    o = newest > ring ? newest - ring + 1 : 1;
    return o > gap ? o : gap + 1;
}

/* Locks: ev->mtx held. */
static uint64_t
ring_oldest(const gw_events *ev, const struct ev_system *s)
{
    return gw_events_oldest(s->seq, ev->cfg.ring, s->floor);
}

static int
write_event(gw_events *ev, velo_http_stream *st, uint64_t seq,
            const char *event, const char *data)
{
    char id[48];

    snprintf(id, sizeof(id), "%" PRId64 "-%" PRIu64, ev->cfg.run_id, seq);
    return velo_http_stream_event(st, id, event, data);
}

/* Removes c from s (after a failed write). Locks: ev->mtx held. */
void
gw_ev_client_drop(gw_events *ev, struct ev_client **link)
{
    struct ev_client *c = *link;

    *link = c->next;
    velo_http_stream_close(c->st);
    free(c);
    ev->nclients--;
    gw_ev_count(ev->c_dropped, 1);
    if (ev->g_clients != NULL)
        velo_metric_set(ev->g_clients, (double)ev->nclients);
}

/* Formats one SSE event (as velo_http_stream_event does) into out. */
static int
format_event(const gw_events *ev, uint64_t seq, const char *json, size_t len,
             struct velo_buf *out)
{
    int rv;

    rv = velo_buf_printf(out,
                         "id: %" PRId64 "-%" PRIu64 "\nevent: station\n"
                         "data: ",
                         ev->cfg.run_id, seq);
    /* Station JSON from the one writer has no raw line breaks. */
    if (rv == VELO_OK)
        rv = velo_buf_append(out, json, len);
    if (rv == VELO_OK)
        rv = velo_buf_puts(out, "\n\n");
    return rv;
}

/* Adds one event to s's ring and to its pending burst (formatted once for
 * every client). Locks: ev->mtx held. */
void
gw_ev_sys_append(gw_events *ev, struct ev_system *s, const char *json,
                 size_t len)
{
    struct velo_buf b;
    struct ev_item *it;
    size_t          n;

    velo_buf_init(&b, EVENT_JSON_MAX + 128);
    if (memchr(json, '\n', len) != NULL || memchr(json, '\r', len) != NULL ||
        format_event(ev, s->seq + 1, json, len, &b) != VELO_OK) {
        velo_buf_fini(&b);
        return;
    }
    /* Event q lives at ring[q % ring], where replay looks for it. */
    s->seq++;
    it = &s->ring[s->seq % ev->cfg.ring];
    free(it->text);
    it->seq = s->seq;
    it->text = velo_buf_steal(&b, &n);
    it->len = n;
    if (it->text == NULL ||
        velo_buf_append(&s->pending, it->text, n) != VELO_OK)
        velo_warn("gateway.sse.burst_cut", VELO_S("system", s->id));
    gw_ev_count(ev->c_events, 1);
}

/* Writes every system's pending burst to its clients: one write (and one
 * wake-up of the connection) per client per burst, however many events
 * it holds. Drops clients that are gone or too slow. Locks: ev->mtx held. */
void
gw_ev_flush(gw_events *ev)
{
    struct ev_system  *s, *tmp;
    struct ev_client **link;

    HASH_ITER(hh, ev->systems, s, tmp)
    {
        for (link = &s->clients; s->pending.len > 0 && *link != NULL;) {
            if (velo_http_stream_write((*link)->st, s->pending.data,
                                       s->pending.len) != VELO_OK)
                gw_ev_client_drop(ev, link);
            else
                link = &(*link)->next;
        }
        velo_buf_reset(&s->pending);
        s->flushed = s->seq;
    }
}

void
gw_events_publish(gw_events *ev, const char *system, const char *json,
                  size_t len)
{
    struct ev_system *s;

    pthread_mutex_lock(&ev->mtx);
    s = gw_ev_sys_get(ev, system);
    if (s != NULL)
        gw_ev_sys_append(ev, s, json, len);
    gw_ev_flush(ev);
    pthread_mutex_unlock(&ev->mtx);
}

/* Writes ring events after from_seq to st. Locks: ev->mtx held. */
static int
replay(gw_events *ev, const struct ev_system *s, uint64_t from_seq,
       velo_http_stream *st)
{
    uint64_t q;
    int      rv = VELO_OK;

    /* Up to what was flushed: the next flush brings the pending rest. */
    for (q = from_seq + 1; q <= s->flushed && rv == VELO_OK; q++) {
        const struct ev_item *it = &s->ring[q % ev->cfg.ring];

        if (it->seq == q)
            rv = velo_http_stream_write(st, it->text, it->len);
    }
    return rv;
}

/* Asks velo-stream for system's snapshot JSON into b, which it
 * initialises and the caller _finis. Outside the lock; logs a failure. */
static int
snapshot_fetch(gw_events *ev, const char *system, struct velo_buf *b)
{
    int rv;

    velo_buf_init(b, SNAPSHOT_MAX);
    rv = ev->cfg.snapshot != NULL
             ? ev->cfg.snapshot(ev->cfg.snapshot_ctx, system, b)
             : VELO_EUNAVAIL;
    if (rv != VELO_OK)
        velo_warn("gateway.sse.snapshot_fail", VELO_S("system", system),
                  VELO_S("cause", velo_strerror(rv)));
    return rv;
}

/* The snapshot event, written outside the lock. */
static void
send_snapshot(gw_events *ev, const char *system, velo_http_stream *st,
              uint64_t seq)
{
    struct velo_buf b;
    int             rv = snapshot_fetch(ev, system, &b);

    if (rv == VELO_OK)
        rv = write_event(ev, st, seq, "snapshot", b.data);
    if (rv == VELO_OK)
        gw_ev_count(ev->c_snapshots, 1);
    velo_buf_fini(&b);
}

int
gw_events_attach(gw_events *ev, const char *system, const char *last_id,
                 velo_http_stream *st)
{
    struct ev_system *s;
    struct ev_client *c;
    struct gw_resume  plan;
    uint64_t          seq;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VELO_ENOMEM;
    pthread_mutex_lock(&ev->mtx);
    s = ev->nclients < ev->cfg.max_clients ? gw_ev_sys_get(ev, system) : NULL;
    if (s == NULL) {
        pthread_mutex_unlock(&ev->mtx);
        free(c);
        return VELO_EFULL;
    }
    plan = gw_events_plan(last_id, ev->cfg.run_id, ring_oldest(ev, s), s->seq);
    seq = s->seq;
    /* A failed write shows as a dead stream, which publish and the
     * sweep drop; nothing else to do here. */
    if (velo_http_stream_write(st, RETRY_LINE, strlen(RETRY_LINE)) == VELO_OK &&
        !plan.snapshot && replay(ev, s, plan.from_seq, st) != VELO_OK)
        velo_debug("gateway.sse.replay_fail", VELO_S("system", system));
    c->st = st;
    c->next = s->clients;
    s->clients = c;
    ev->nclients++;
    if (ev->g_clients != NULL)
        velo_metric_set(ev->g_clients, (double)ev->nclients);
    pthread_mutex_unlock(&ev->mtx);
    if (plan.snapshot)
        send_snapshot(ev, system, st, seq);
    return VELO_OK;
}

uint64_t
gw_events_stamp(gw_events *ev, const char *system)
{
    struct ev_system *s = NULL;
    uint64_t          seq = 0;

    pthread_mutex_lock(&ev->mtx);
    HASH_FIND_STR(ev->systems, system, s);
    if (s != NULL)
        seq = s->seq;
    pthread_mutex_unlock(&ev->mtx);
    return seq;
}

size_t
gw_events_clients(gw_events *ev)
{
    size_t n;

    pthread_mutex_lock(&ev->mtx);
    n = ev->nclients;
    pthread_mutex_unlock(&ev->mtx);
    return n;
}

/* Writes the snapshot of system to each of its clients under the gap's id
 * seq. Takes ev->mtx. */
static void
gap_snapshot(gw_events *ev, const char *system, uint64_t seq)
{
    struct velo_buf    b;
    struct ev_system  *s = NULL;
    struct ev_client **link;
    int                rv = snapshot_fetch(ev, system, &b);

    pthread_mutex_lock(&ev->mtx);
    HASH_FIND_STR(ev->systems, system, s);
    for (link = s != NULL ? &s->clients : NULL;
         link != NULL && *link != NULL;) {
        if (rv == VELO_OK &&
            write_event(ev, (*link)->st, seq, "snapshot", b.data) == VELO_OK) {
            gw_ev_count(ev->c_snapshots, 1);
            link = &(*link)->next;
        } else {
            gw_ev_client_drop(ev, link); /* it reconnects and resumes */
        }
    }
    pthread_mutex_unlock(&ev->mtx);
    velo_buf_fini(&b);
}

/* A system whose clients get the gap's snapshot, outside the lock. */
struct ev_due {
    char    *id;
    uint64_t seq;
};

void
gw_events_gap(gw_events *ev)
{
    struct ev_system *s, *tmp;
    struct ev_due    *due; /* systems with clients */
    size_t            n = 0, i;

    pthread_mutex_lock(&ev->mtx);
    gw_ev_flush(ev);
    due = calloc(HASH_COUNT(ev->systems) + 1, sizeof(*due));
    HASH_ITER(hh, ev->systems, s, tmp)
    {
        s->seq++;
        s->floor = s->flushed = s->seq;
        if (s->clients == NULL)
            continue;
        if (due != NULL && (due[n].id = strdup(s->id)) != NULL)
            due[n++].seq = s->seq;
        else /* no memory: they resume by reconnecting */
            while (s->clients != NULL)
                gw_ev_client_drop(ev, &s->clients);
    }
    pthread_mutex_unlock(&ev->mtx);
    for (i = 0; i < n; i++) {
        gap_snapshot(ev, due[i].id, due[i].seq);
        free(due[i].id);
    }
    free(due);
}

void
gw_events_stop(gw_events *ev)
{
    struct ev_system *s, *tmp;

    if (ev->running) {
        atomic_store(&ev->stop, true);
        pthread_join(ev->thread, NULL);
        ev->running = false;
    }
    pthread_mutex_lock(&ev->mtx);
    HASH_ITER(hh, ev->systems, s, tmp)
    {
        while (s->clients != NULL)
            gw_ev_client_drop(ev, &s->clients);
    }
    pthread_mutex_unlock(&ev->mtx);
}

void
gw_events_free(gw_events *ev)
{
    struct ev_system *s, *tmp;
    uint32_t          i;

    if (ev == NULL)
        return;
    gw_events_stop(ev);
    HASH_ITER(hh, ev->systems, s, tmp)
    {
        HASH_DEL(ev->systems, s);
        for (i = 0; i < ev->cfg.ring; i++)
            free(s->ring[i].text);
        velo_buf_fini(&s->pending);
        free(s->ring);
        free(s->id);
        free(s);
    }
    pthread_mutex_destroy(&ev->mtx);
    free(ev);
}
