/* gw_int.h: what the gateway's modules share (not a public API).
 *
 * Modules: gateway.c (object, routes), reply.c (JSON errors, rate limit,
 * cache headers), api.c (REST), gbfs.c (GBFS feeds), events.c (SSE hub),
 * assets.c (the dashboard files), params.c (parameters). Handlers run on
 * the HTTP server's worker threads; everything here is either immutable
 * after gateway_new or thread-safe on its own. */
#ifndef GW_INT_H
#define GW_INT_H

#include <stdarg.h>
#include <stdbool.h>

#include "cache.h"
#include "events.h"
#include "gw_cfg.h"
#include "params.h"
#include "upstream.h"
#include "velo/consul.h"
#include "velo/http_server.h"
#include "velo/jsonw.h"
#include "velo/ratelimit.h"
#include "velo/rpc.h"

struct gateway {
    const struct gw_cfg *cfg;
    velo_metrics        *m;
    gw_upstream         *stream;
    gw_upstream         *warehouse;
    velo_consul         *consul; /* NULL: static addresses only */
    velo_consul_watch   *w_stream, *w_warehouse; /* their instances */
    velo_ratelimit      *rl;
    gw_events           *events;
    gw_cache            *lists; /* rendered /stations answers; NULL: off */
    velo_http_server    *http;
    velo_metric         *rate_limited;
    char                 addr[96];
    char                 pub_buf[512]; /* --stream-pub, split */
};

/* Retry-After of a 503 for a dependency that is down or rebuilding. */
#define GW_RETRY_AFTER_S "5"

/* ---- reply.c ---- */

/* A JSON error with its code; for 429 and 503 also Retry-After. */
void gw_error(struct velo_http_resp *resp, unsigned status, const char *code,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 400 invalid_parameter naming e->param. */
void gw_error_param(struct velo_http_resp *resp, const struct gw_perr *e);
/* Maps a failed upstream call: 404, 400, 503 (+Retry-After), else 502. */
void gw_error_upstream(struct velo_http_resp *resp, const char *what, int rv,
                       const struct velo_rpc_error *err);
/* Calls velo-stream's method; on failure answers resp with
 * gw_error_upstream and returns false. */
bool gw_stream_call(struct gateway *gw, const char *method,
                    const ProtobufCMessage *rq, ProtobufCMessage **out,
                    struct velo_http_resp *resp);
/* The per-client rate limit: false (with 429 + Retry-After filled) when
 * the client is over it. */
bool gw_admit(struct gateway *gw, const struct velo_http_req *req,
              struct velo_http_resp *resp);
/* Adds a header; a failure (only a bug: fixed values) is logged. */
void gw_header(struct velo_http_resp *resp, const char *name,
               const char *value);
/* Cache-Control "public, max-age=<s>". */
void gw_max_age(struct velo_http_resp *resp, uint32_t s);
/* Finishes a JSON body written with w into resp->body: sets the content
 * type, or answers 500 when writing failed. */
void gw_json_done(struct velo_http_resp *resp, struct velo_jsonw *w);
/* A gw_query over the request's query string. */
struct gw_query gw_req_query(const struct velo_http_req *req);

/* ---- gbfs.c: every station of a system, in ListStations pages ---- */
#define GW_PAGES_MAX 32 /* 160,000 stations */
struct gw_pages {
    Velo__V1__ListStationsReply *page[GW_PAGES_MAX];
    size_t                       n;
};
/* Follows next_cursor from the first page to the last. On failure p is
 * empty. Release with gw_pages_free. */
VELO_MUST_CHECK int gw_stations_all(struct gateway *gw, const char *system,
                                    struct gw_pages       *p,
                                    struct velo_rpc_error *err);
void                gw_pages_free(struct gw_pages *p);
/* gw_snapshot_fn: {"stations":[...]} of every station of system. */
int gw_snapshot_json(void *ctx, const char *system, struct velo_buf *out);

/* ---- handlers (velo_http_handler; ctx is the gateway) ---- */
void gw_h_systems(void *ctx, const struct velo_http_req *req,
                  struct velo_http_resp *resp);
void gw_h_stations(void *ctx, const struct velo_http_req *req,
                   struct velo_http_resp *resp);
void gw_h_station(void *ctx, const struct velo_http_req *req,
                  struct velo_http_resp *resp);
void gw_h_top(void *ctx, const struct velo_http_req *req,
              struct velo_http_resp *resp);
void gw_h_config(void *ctx, const struct velo_http_req *req,
                 struct velo_http_resp *resp);
void gw_h_openapi(void *ctx, const struct velo_http_req *req,
                  struct velo_http_resp *resp);
void gw_h_api_unknown(void *ctx, const struct velo_http_req *req,
                      struct velo_http_resp *resp);
void gw_h_events(void *ctx, const struct velo_http_req *req,
                 struct velo_http_resp *resp);
void gw_h_gbfs(void *ctx, const struct velo_http_req *req,
               struct velo_http_resp *resp);
void gw_h_assets(void *ctx, const struct velo_http_req *req,
                 struct velo_http_resp *resp);

/* The embedded OpenAPI document (openapi.json, generated at build time). */
extern const char   gw_openapi_json[];
extern const size_t gw_openapi_json_len;

#endif
