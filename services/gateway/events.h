/* events.h: the Server-Sent Events hub behind GET /api/v1/events.
 *
 * A subscriber thread reads velo-stream's PUB (every "system/station"
 * topic), writes each StationState once as station JSON and fans it out
 * to the event streams of that system. Each system keeps a ring of its
 * last `ring` events so that a client reconnecting with Last-Event-ID gets
 * exactly what it missed; a client whose id is older than the ring (or
 * from an earlier gateway run) first gets one "snapshot" event holding
 * every station of the system, then the live events.
 *
 * Event ids are "<run>-<seq>": run is the gateway's start time in ms, seq
 * counts the system's events from 1.
 *
 * With discovery (cfg.pubs), the subscriber follows the PUB URLs Consul
 * names: when its own is no longer among them it moves to the first one,
 * and once connected marks a gap (gw_events_gap): the changes published
 * in between are lost, so every client gets a snapshot. Waiting streams are
 * suspended by the HTTP server (velo_http_stream): an idle client costs no CPU.
 *
 * Thread: _publish and _attach from any thread; one mutex guards the
 * systems, their rings and their client lists. */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/consul.h"
#include "velo/err.h"
#include "velo/http_server.h"
#include "velo/metrics.h"

typedef struct gw_events gw_events;

/* Writes {"stations":[...]} of every station of system into out (for the
 * snapshot event). VELO_ENOTFOUND, VELO_EUNAVAIL... as the RPC gives. */
typedef int (*gw_snapshot_fn)(void *ctx, const char *system,
                              struct velo_buf *out);

/* The PUB URLs discovery names now, at most max (velo_consul_watch_pubs). */
typedef size_t (*gw_pubs_fn)(void  *ctx, char (*urls)[VELO_CONSUL_URL_MAX],
                             size_t max);

struct gw_events_cfg {
    const char    *pub_url; /* NULL: no subscriber (tests) */
    gw_pubs_fn     pubs;    /* NULL: pub_url only */
    void          *pubs_ctx;
    uint32_t       ring;        /* events kept per system */
    uint32_t       max_clients; /* streams open at once */
    int64_t        run_id;      /* the "<run>" of event ids */
    gw_snapshot_fn snapshot;
    void          *snapshot_ctx;
    velo_metrics  *metrics; /* NULL: none */
};

VELO_MUST_CHECK int gw_events_new(gw_events                 **out,
                                  const struct gw_events_cfg *cfg);
/* Starts the subscriber thread. */
VELO_MUST_CHECK int gw_events_start(gw_events *ev);
/* Joins the thread and closes every client stream. */
void gw_events_stop(gw_events *ev);
void gw_events_free(gw_events *ev);

/* Appends one event of system to its ring and writes it to every client
 * of the system (dropping clients that are gone or too slow). */
void gw_events_publish(gw_events *ev, const char *system, const char *json,
                       size_t len);

/* What a (re)connecting client needs. */
struct gw_resume {
    uint64_t from_seq; /* replay ring events with seq > from_seq */
    bool     snapshot; /* send a snapshot first (then no replay) */
};

/* Decides from a Last-Event-ID (NULL: a new client: live events only)
 * against a ring holding seqs [oldest, newest] (oldest 0: empty ring, then
 * newest is the last seq given out). Pure, for tests. */
struct gw_resume gw_events_plan(const char *last_id, int64_t run_id,
                                uint64_t oldest, uint64_t newest);

/* The oldest seq a ring of `ring` slots can replay when newest is the last
 * seq given out and gap the last gap's (0: none): 0 when empty; newest + 1
 * when nothing came since the gap (only the gap's own id is current).
 * Pure, for tests. */
uint64_t gw_events_oldest(uint64_t newest, uint32_t ring, uint64_t gap);

/* Takes over st (the handler's reference) as a client of system, after
 * writing what last_id missed (see gw_events_plan). VELO_EFULL: too many
 * clients (st is left to the caller). */
VELO_MUST_CHECK int gw_events_attach(gw_events *ev, const char *system,
                                     const char *last_id, velo_http_stream *st);

/* The last event seq of system (0: none yet): changes whenever a change of
 * the system arrived, so answers cached under it are still current. */
uint64_t gw_events_stamp(gw_events *ev, const char *system);

/* Clients connected now. */
size_t gw_events_clients(gw_events *ev);

/* The PUB source changed and what it published in between is lost: each
 * system skips one id (the gap), a client resuming from before it gets a
 * snapshot, and every client connected now gets one (asked of velo-stream
 * outside the lock). Thread: any. */
void gw_events_gap(gw_events *ev);

#endif
