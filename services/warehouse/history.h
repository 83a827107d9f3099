/* history.h: velo.v1.HistoryService over the warehouse.
 *
 * One handler per method in a table (wh_history_rpc), in the order of
 * velo__v1__history_service__descriptor; velo_rpc_dispatch calls them on
 * RPC worker threads. Queries run on the pool's own connections
 * (query.h), never the loader's, so a long load never delays them, and a
 * database that is down answers UNAVAILABLE at once.
 *
 * Arguments: system_id and station_id required (GetHourly, GetDaily),
 * from_ms < to_ms (defaults: to = now, from = to - 24 h hourly or 31 days
 * daily), limit <= 10000 (default 1000); TopStations needs system_id and a
 * YYYY-MM-DD local_date, limit <= 1000 (default 10). A bad one is
 * INVALID_ARGUMENT naming it. An empty range of a station the warehouse
 * holds no row of (either granularity) is NOT_FOUND "no station SYS/ID in
 * the warehouse"; of a known station, an empty list. Health always
 * answers. */
#ifndef WAREHOUSE_HISTORY_H
#define WAREHOUSE_HISTORY_H

#include <stdint.h>

#include "query.h"
#include "status.h"
#include "velo/rpc.h"

#define WH_HISTORY_LIMIT_DEFAULT 1000
#define WH_HISTORY_LIMIT_MAX 10000
#define WH_TOP_LIMIT_DEFAULT 10
#define WH_TOP_LIMIT_MAX 1000
#define WH_QUERY_WAIT_MS 2000 /* longest wait for a free connection */

/* Everything the handlers read; borrowed, outlives the RPC server. */
struct wh_history {
    wh_query         *query;
    struct wh_status *status;
    const char       *instance;
    int64_t (*now_ms)(void); /* NULL: velo_now_ms */
};

/* The service table for velo_rpc_server_cfg.svcs. Borrows h. */
struct velo_rpc_service wh_history_rpc(struct wh_history *h);

#endif
