/* events.c: the SSE hub (see events.h). */
#include "events.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "velo/log.h"
#include "velo/parse.h"
#include "velo/rpc.h"
#include "velo/station_json.h"
#include "velo/v1/stream.pb-c.h"

#define RECV_MS 500
#define EVENT_JSON_MAX (64 * 1024)
#define SNAPSHOT_MAX (64u << 20)
#define TOPIC_MAX 512
#define RETRY_LINE "retry: 3000\n\n"
#define PENDING_MAX (4u << 20) /* one burst of events per system */
#define BATCH_MAX 512          /* PUB messages gathered per fan-out */

struct ev_item {
    uint64_t seq;
    char    *text; /* the whole SSE event ("id: ...\n...\n\n"); owned */
    size_t   len;
};

struct ev_client {
    velo_http_stream *st;
    struct ev_client *next;
};

struct ev_system {
    char           *id;      /* key; owned */
    struct ev_item *ring;    /* cfg.ring slots; seq 0: empty */
    uint64_t        seq;     /* last given out */
    uint64_t        flushed; /* last written to the clients; the rest
                                is in pending */
    struct ev_client *clients;
    struct velo_buf   pending; /* events not yet written to the clients */
    UT_hash_handle    hh;
};

struct gw_events {
    struct gw_events_cfg cfg;
    pthread_mutex_t      mtx; /* guards systems, rings, clients, nclients */
    struct ev_system    *systems;
    size_t               nclients;
    velo_metric         *g_clients, *c_events, *c_dropped, *c_snapshots;
    pthread_t            thread;
    bool                 running;
    atomic_bool          stop;
};

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
    }
    *out = ev;
    return VELO_OK;
}

static void
count(velo_metric *m, double v)
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
static struct ev_system *
sys_get(gw_events *ev, const char *system)
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

/* The oldest seq in s's ring (0: empty). Locks: ev->mtx held. */
static uint64_t
ring_oldest(const gw_events *ev, const struct ev_system *s)
{
    if (s->seq == 0)
        return 0;
    return s->seq > ev->cfg.ring ? s->seq - ev->cfg.ring + 1 : 1;
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
static void
client_drop(gw_events *ev, struct ev_client **link)
{
    struct ev_client *c = *link;

    *link = c->next;
    velo_http_stream_close(c->st);
    free(c);
    ev->nclients--;
    count(ev->c_dropped, 1);
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
static void
sys_append(gw_events *ev, struct ev_system *s, const char *json, size_t len)
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
    count(ev->c_events, 1);
}

/* Writes every system's pending burst to its clients: one write (and one
 * wake-up of the connection) per client per burst, however many events
 * it holds. Drops clients that are gone or too slow. Locks: ev->mtx held. */
static void
flush_pending(gw_events *ev)
{
    struct ev_system  *s, *tmp;
    struct ev_client **link;

    HASH_ITER(hh, ev->systems, s, tmp)
    {
        for (link = &s->clients; s->pending.len > 0 && *link != NULL;) {
            if (velo_http_stream_write((*link)->st, s->pending.data,
                                       s->pending.len) != VELO_OK)
                client_drop(ev, link);
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
    s = sys_get(ev, system);
    if (s != NULL)
        sys_append(ev, s, json, len);
    flush_pending(ev);
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

/* The snapshot event, written outside the lock (it asks velo-stream). */
static void
send_snapshot(gw_events *ev, const char *system, velo_http_stream *st,
              uint64_t seq)
{
    struct velo_buf b;
    int             rv;

    velo_buf_init(&b, SNAPSHOT_MAX);
    rv = ev->cfg.snapshot != NULL
             ? ev->cfg.snapshot(ev->cfg.snapshot_ctx, system, &b)
             : VELO_EUNAVAIL;
    if (rv == VELO_OK)
        rv = write_event(ev, st, seq, "snapshot", b.data);
    else
        velo_warn("gateway.sse.snapshot_fail", VELO_S("system", system),
                  VELO_S("cause", velo_strerror(rv)));
    if (rv == VELO_OK)
        count(ev->c_snapshots, 1);
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
    s = ev->nclients < ev->cfg.max_clients ? sys_get(ev, system) : NULL;
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

/* Drops clients that left (found by the server's heartbeats), so idle
 * systems do not hold them. */
static void
sweep(gw_events *ev)
{
    struct ev_system  *s, *tmp;
    struct ev_client **link;

    pthread_mutex_lock(&ev->mtx);
    HASH_ITER(hh, ev->systems, s, tmp)
    {
        for (link = &s->clients; *link != NULL;) {
            if (!velo_http_stream_alive((*link)->st))
                client_drop(ev, link);
            else
                link = &(*link)->next;
        }
    }
    pthread_mutex_unlock(&ev->mtx);
}

/* One PUB message: "system/station" + StationState -> station JSON, into
 * the system's pending burst. */
static void
on_state(gw_events *ev, const char *topic, const Velo__V1__StationState *st)
{
    char              sys[TOPIC_MAX];
    const char       *slash = strchr(topic, '/');
    struct velo_buf   b;
    struct ev_system *s;

    if (slash == NULL || slash == topic ||
        (size_t)(slash - topic) >= sizeof(sys))
        return;
    memcpy(sys, topic, (size_t)(slash - topic));
    sys[slash - topic] = '\0';
    velo_buf_init(&b, EVENT_JSON_MAX);
    if (velo_station_state_to_json(st, NAN, &b) == VELO_OK) {
        pthread_mutex_lock(&ev->mtx);
        s = sys_get(ev, sys);
        if (s != NULL)
            sys_append(ev, s, b.data, b.len);
        pthread_mutex_unlock(&ev->mtx);
    }
    velo_buf_fini(&b);
}

/* Takes what PUB has now (up to BATCH_MAX messages, the first waited for
 * up to wait_ms), then fans the burst out. VELO_ETIMEDOUT: nothing came. */
static int
take_burst(gw_events *ev, velo_sub *sub, int wait_ms)
{
    ProtobufCMessage *msg;
    char              topic[TOPIC_MAX];
    int               n = 0, rv;

    do {
        rv = velo_sub_recv(sub, &velo__v1__station_state__descriptor, topic,
                           sizeof(topic), &msg, n == 0 ? wait_ms : 0);
        if (rv == VELO_OK) {
            on_state(ev, topic, (const Velo__V1__StationState *)msg);
            protobuf_c_message_free_unpacked(msg, NULL);
        }
        if (rv != VELO_ETIMEDOUT)
            n++; /* a message that did not decode still ends no burst */
    } while (rv != VELO_ETIMEDOUT && n < BATCH_MAX);
    if (n == 0)
        return VELO_ETIMEDOUT;
    pthread_mutex_lock(&ev->mtx);
    flush_pending(ev);
    pthread_mutex_unlock(&ev->mtx);
    return VELO_OK;
}

static void *
events_main(void *arg)
{
    gw_events *ev = arg;
    velo_sub  *sub = NULL;
    int        rv;

    rv = velo_sub_new(&sub, ev->cfg.pub_url, "");
    if (rv != VELO_OK) {
        velo_error("gateway.sse.subscribe_fail", VELO_S("url", ev->cfg.pub_url),
                   VELO_S("cause", velo_strerror(rv)));
        return NULL;
    }
    while (!atomic_load(&ev->stop)) {
        if (take_burst(ev, sub, RECV_MS) == VELO_ETIMEDOUT)
            sweep(ev);
    }
    velo_sub_free(sub);
    return NULL;
}

int
gw_events_start(gw_events *ev)
{
    if (ev->cfg.pub_url == NULL)
        return VELO_OK;
    if (pthread_create(&ev->thread, NULL, events_main, ev) != 0)
        return VELO_ENOMEM;
    ev->running = true;
    return VELO_OK;
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
            client_drop(ev, &s->clients);
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
