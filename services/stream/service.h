/* service.h: velo.v1.StationService over the live state.
 *
 * One handler per method in a table (stream_service_rpc), in the order of
 * velo__v1__station_service__descriptor; velo_rpc_dispatch calls them on
 * RPC worker threads. Each reply is built in a per-request arena that the
 * RPC layer frees after packing; everything a reply carries is copied
 * out of the state under its read lock.
 *
 * While the state is rebuilding, ListSystems, ListStations and GetStation
 * answer RPC_UNAVAILABLE "state rebuilding" (so clients fail over to a
 * replica that is serving); Health always answers. */
#ifndef STREAM_SERVICE_H
#define STREAM_SERVICE_H

#include <stdint.h>

#include "progress.h"
#include "state.h"
#include "systems.h"
#include "velo/rpc.h"

/* Everything the handlers read; borrowed, outlives the RPC server. */
struct stream_service {
    stream_state           *st;
    struct stream_progress *progress;
    const char             *instance;      /* Health.instance */
    uint32_t                max_ready_lag; /* Health.ready */
    int64_t (*now_ms)(void);               /* NULL: velo_now_ms */
    stream_systems *systems;               /* SystemSummary.info; NULL: none */
};

/* The service table for velo_rpc_server_cfg.svcs (or velo_rpc_dispatch).
 * Borrows svc. */
struct velo_rpc_service stream_service_rpc(struct stream_service *svc);

#endif
