/* events_int.h: the SSE hub's state, shared by events.c (rings, clients,
 * resume, gaps) and events_sub.c (the PUB subscriber thread). Not a public
 * header. */
#ifndef GW_EVENTS_INT_H
#define GW_EVENTS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <uthash.h>

#include "events.h"

#define EVENT_JSON_MAX (64 * 1024)

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
    uint64_t          floor; /* the last gap: no replay up to it */
    struct ev_client *clients;
    struct velo_buf   pending; /* events not yet written to the clients */
    UT_hash_handle    hh;
};

struct gw_events {
    struct gw_events_cfg cfg;
    pthread_mutex_t      mtx; /* guards systems, rings, clients, nclients */
    struct ev_system    *systems;
    size_t               nclients;
    velo_metric *g_clients, *c_events, *c_dropped, *c_snapshots, *c_switches;
    pthread_t    thread;
    bool         running;
    atomic_bool  stop;
};

/* Adds v to m (NULL: no metrics). */
void gw_ev_count(velo_metric *m, double v);
/* Finds or makes system's entry (NULL: no memory). Locks: ev->mtx held. */
struct ev_system *gw_ev_sys_get(gw_events *ev, const char *system);
/* Adds one event to s's ring and pending burst. Locks: ev->mtx held. */
void gw_ev_sys_append(gw_events *ev, struct ev_system *s, const char *json,
                      size_t len);
/* Writes every pending burst to its clients. Locks: ev->mtx held. */
void gw_ev_flush(gw_events *ev);
/* Removes a client after a failed write. Locks: ev->mtx held. */
void gw_ev_client_drop(gw_events *ev, struct ev_client **link);

#endif
