/* params.h: the gateway's request parameters, parsed strictly into RPC
 * requests. Pure functions (no sockets, no MHD): the query is read through
 * a small lookup function, so tests pass plain arrays.
 *
 * Every rejection names the parameter (struct gw_perr.param) and says why,
 * for a 400 {"error":{"code":"invalid_parameter","message":...}}. Strings
 * in the filled requests are borrowed from the query (valid for the
 * request). Numbers go through velo/parse.h: "nan", "1e999", "-5" for an
 * unsigned value, trailing junk and overflow are all refused. */
#ifndef GW_PARAMS_H
#define GW_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/v1/history.pb-c.h"
#include "velo/v1/stream.pb-c.h"

/* A query: get(ctx, key) returns the value or NULL. */
struct gw_query {
    const char *(*get)(const void *ctx, const char *key);
    const void *ctx;
};

/* Why a request was refused. */
struct gw_perr {
    const char *param; /* the parameter's name (a literal) */
    char        msg[192];
};

#define GW_SYSTEM_MAX 128       /* bytes of a system id */
#define GW_STATION_MAX 256      /* bytes of a station id */
#define GW_Q_MAX 256            /* bytes of a search text */
#define GW_LIMIT_MAX 5000       /* stations per page (velo-stream's limit) */
#define GW_RADIUS_MAX 20037509u /* metres: half the Earth's circumference */
#define GW_HISTORY_LIMIT_MAX 10000
#define GW_TOP_LIMIT_MAX 1000

/* GET /api/v1/stations: system, near=lat,lon, radius_m (needs near),
 * bbox=min_lon,min_lat,max_lon,max_lat, min_bikes, min_docks,
 * status=open|closed|unknown, q, limit (1..5000), cursor. Fills rq (an
 * initialised request). VELO_EINVAL with *e filled. */
VELO_MUST_CHECK int gw_params_stations(const struct gw_query         *q,
                                       Velo__V1__ListStationsRequest *rq,
                                       struct gw_perr                *e);

/* GET .../history: granularity=hour|day (default hour), from and to (RFC
 * 3339 or ms since the epoch; from before to), limit (1..10000). *daily
 * says which method. system and station come from the path. */
VELO_MUST_CHECK int gw_params_history(const struct gw_query    *q,
                                      Velo__V1__HistoryRequest *rq, bool *daily,
                                      struct gw_perr *e);

/* GET /api/v1/top: system (required), date=YYYY-MM-DD (required, the
 * system's local day), by=flow|empty|full, limit (1..1000). */
VELO_MUST_CHECK int gw_params_top(const struct gw_query        *q,
                                  Velo__V1__TopStationsRequest *rq,
                                  struct gw_perr               *e);

/* A system id from ?system= or a path: 1..GW_SYSTEM_MAX bytes of valid
 * UTF-8 without control characters. param names it in *e. */
VELO_MUST_CHECK int gw_params_system(const char *s, const char *param,
                                     struct gw_perr *e);

/* Splits the rest of /api/v1/stations/<rest> into system, station and an
 * optional sub-resource ("history") in buf (at least 512 bytes). NULL sub
 * when there is none. VELO_ENOTFOUND for any other shape (empty parts,
 * more segments); VELO_EINVAL (with *e) for ids over their limits. */
VELO_MUST_CHECK int gw_path_station(const char *rest, char *buf, size_t size,
                                    const char **system, const char **station,
                                    const char **sub, struct gw_perr *e);

/* Splits /gbfs/<version>/<system>/<file> (rest = after "/gbfs/"), or
 * "3.0/manifest.json" (system NULL). VELO_ENOTFOUND for other shapes. */
VELO_MUST_CHECK int gw_path_gbfs(const char *rest, char *buf, size_t size,
                                 const char **version, const char **system,
                                 const char **file);

#endif
