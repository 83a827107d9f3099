/* events_sub.c: the SSE hub's PUB subscriber thread (see events.h): reads
 * velo-stream's PUB, turns each change into station JSON for its system's
 * ring and clients, and with discovery follows the PUBs Consul names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_int.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/rpc.h"
#include "velo/station_json.h"
#include "velo/v1/stream.pb-c.h"

#define RECV_MS 500
#define PUB_CHECK_MS 1000 /* how often the subscriber looks at discovery */
#define PUBS_MAX 16
#define TOPIC_MAX 512
#define BATCH_MAX 512 /* PUB messages gathered per fan-out */

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
                gw_ev_client_drop(ev, link);
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
        s = gw_ev_sys_get(ev, sys);
        if (s != NULL)
            gw_ev_sys_append(ev, s, b.data, b.len);
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
    gw_ev_flush(ev);
    pthread_mutex_unlock(&ev->mtx);
    return VELO_OK;
}

/* The subscriber's source: its URL, and whether a move awaits its
 * connection to mark the gap. */
struct ev_source {
    velo_sub *sub;
    char      url[VELO_CONSUL_URL_MAX];
    bool      gap_due;
    int64_t   next_check; /* mono ms */
};

/* With discovery: moves to the first PUB it names when the current one
 * is not among them (none named: stays). */
static void
follow(gw_events *ev, struct ev_source *src)
{
    char      urls[PUBS_MAX][VELO_CONSUL_URL_MAX];
    velo_sub *sub;
    size_t    n, i;

    if (ev->cfg.pubs == NULL || velo_mono_ms() < src->next_check)
        return;
    src->next_check = velo_mono_ms() + PUB_CHECK_MS;
    n = ev->cfg.pubs(ev->cfg.pubs_ctx, urls, PUBS_MAX);
    for (i = 0; i < n; i++) {
        if (strcmp(urls[i], src->url) == 0)
            return;
    }
    if (n == 0 || velo_sub_new(&sub, urls[0], "") != VELO_OK)
        return; /* logged by velo_sub_new; tried again at the next check */
    velo_info("gateway.sse.pub_switch", VELO_S("from", src->url),
              VELO_S("to", urls[0]));
    gw_ev_count(ev->c_switches, 1);
    velo_sub_free(src->sub);
    src->sub = sub;
    snprintf(src->url, sizeof(src->url), "%s", urls[0]);
    src->gap_due = true;
}

static void *
events_main(void *arg)
{
    gw_events       *ev = arg;
    struct ev_source src = {0};
    int              rv;

    snprintf(src.url, sizeof(src.url), "%s", ev->cfg.pub_url);
    rv = velo_sub_new(&src.sub, src.url, "");
    if (rv != VELO_OK) {
        velo_error("gateway.sse.subscribe_fail", VELO_S("url", src.url),
                   VELO_S("cause", velo_strerror(rv)));
        return NULL;
    }
    while (!atomic_load(&ev->stop)) {
        follow(ev, &src);
        /* Connected: what it publishes from now on arrives, so the
         * snapshots taken now miss nothing. */
        if (src.gap_due && velo_sub_connected(src.sub)) {
            src.gap_due = false;
            gw_events_gap(ev);
        }
        if (take_burst(ev, src.sub, RECV_MS) == VELO_ETIMEDOUT)
            sweep(ev);
    }
    velo_sub_free(src.sub);
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
