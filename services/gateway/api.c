/* api.c: the REST resources under /api/v1 (DESIGN §8; openapi.json). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gw_int.h"
#include "velo/clock.h"
#include "velo/snapshot.h"
#include "velo/station_json.h"

#define STATION_PREFIX "/api/v1/stations/"
#define HISTORY_MAX_AGE_S 300

static void
put_time(struct velo_jsonw *w, const char *key, int64_t ms)
{
    char ts[40];

    velo_time_format_iso(ms, ts, sizeof(ts));
    velo_jsonw_key(w, key);
    velo_jsonw_str(w, ts);
}

static void
put_str(struct velo_jsonw *w, const char *key, const char *v)
{
    if (v == NULL)
        return;
    velo_jsonw_key(w, key);
    velo_jsonw_str(w, v);
}

static void
put_system(struct velo_jsonw *w, const Velo__V1__SystemSummary *s)
{
    const Velo__V1__SystemInfo *si = s->info;

    velo_jsonw_obj_begin(w);
    put_str(w, "system_id", s->system_id);
    if (si != NULL) {
        put_str(w, "name", si->name);
        put_str(w, "operator", si->operator_);
        put_str(w, "timezone", si->timezone);
        put_str(w, "language", si->language);
        put_str(w, "source_url", si->source_url);
    }
    velo_jsonw_key(w, "station_count");
    velo_jsonw_u64(w, s->stations);
    velo_jsonw_key(w, "bikes_available");
    velo_jsonw_u64(w, s->bikes_available);
    velo_jsonw_key(w, "docks_available");
    velo_jsonw_u64(w, s->docks_available);
    if (s->has_last_fetched_ms && s->last_fetched_ms > 0) {
        put_time(w, "last_fetched", s->last_fetched_ms);
        velo_jsonw_key(w, "last_fetched_ms");
        velo_jsonw_i64(w, s->last_fetched_ms);
    }
    if (s->has_simulated) {
        velo_jsonw_key(w, "simulated");
        velo_jsonw_bool(w, s->simulated);
    }
    put_str(w, "source_format", s->source_format);
    velo_jsonw_key(w, "gbfs");
    velo_jsonw_bool(w, si != NULL);
    velo_jsonw_obj_end(w);
}

void
gw_h_systems(void *ctx, const struct velo_http_req *req,
             struct velo_http_resp *resp)
{
    struct gateway              *gw = ctx;
    Velo__V1__ListSystemsRequest rq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    Velo__V1__ListSystemsReply  *r = NULL;
    struct velo_jsonw            w;
    size_t                       i;

    if (!gw_admit(gw, req, resp))
        return;
    if (!gw_stream_call(gw, "ListSystems", &rq.base, (ProtobufCMessage **)&r,
                        resp))
        return;
    velo_jsonw_init(&w, &resp->body);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "systems");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < r->n_systems; i++)
        put_system(&w, r->systems[i]);
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    velo__v1__list_systems_reply__free_unpacked(r, NULL);
    resp->etag = resp->gzip = true;
    gw_json_done(resp, &w);
    gw_max_age(resp, gw->cfg->list_max_age_s);
}

/* The cache key of a list request: its packed form (every parameter, in
 * field order), so equal requests share an answer however spelled. */
static size_t
list_key(const Velo__V1__ListStationsRequest *rq, uint8_t *buf, size_t size)
{
    size_t n = velo__v1__list_stations_request__get_packed_size(rq);

    if (n > size)
        return 0;
    return velo__v1__list_stations_request__pack(rq, buf);
}

/* Serves a cached rendering of the list when it is still current. */
static bool
list_cached(struct gateway *gw, const uint8_t *key, size_t klen, uint64_t stamp,
            struct velo_http_resp *resp)
{
    if (gw->lists == NULL || klen == 0 ||
        !gw_cache_get(gw->lists, key, klen, stamp, velo_mono_ms(), &resp->body,
                      resp->etag_value))
        return false;
    resp->content_type = "application/json";
    resp->etag = resp->gzip = true;
    gw_max_age(resp, gw->cfg->list_max_age_s);
    return true;
}

void
gw_h_stations(void *ctx, const struct velo_http_req *req,
              struct velo_http_resp *resp)
{
    struct gateway               *gw = ctx;
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsReply  *r = NULL;
    struct gw_query               q = gw_req_query(req);
    struct gw_perr                e;
    struct velo_jsonw             w;
    uint8_t                       key[4096];
    size_t                        i, klen;
    uint64_t                      stamp;

    if (!gw_admit(gw, req, resp))
        return;
    if (gw_params_stations(&q, &rq, &e) != VELO_OK) {
        gw_error_param(resp, &e);
        return;
    }
    klen = list_key(&rq, key, sizeof(key));
    stamp =
        rq.system_id != NULL ? gw_events_stamp(gw->events, rq.system_id) : 0;
    if (list_cached(gw, key, klen, stamp, resp))
        return;
    if (!gw_stream_call(gw, "ListStations", &rq.base, (ProtobufCMessage **)&r,
                        resp))
        return;
    velo_jsonw_init(&w, &resp->body);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "stations");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < r->n_stations; i++)
        velo_station_state_json(&w, r->stations[i],
                                i < r->n_distance_m ? r->distance_m[i] : NAN);
    velo_jsonw_arr_end(&w);
    velo_jsonw_key(&w, "next_cursor");
    velo_jsonw_str(&w, r->next_cursor); /* null on the last page */
    if (r->has_total) {
        velo_jsonw_key(&w, "total");
        velo_jsonw_u64(&w, r->total);
    }
    velo_jsonw_obj_end(&w);
    velo__v1__list_stations_reply__free_unpacked(r, NULL);
    resp->etag = resp->gzip = true;
    gw_json_done(resp, &w);
    if (resp->status == 200 && gw->lists != NULL && klen > 0)
        gw_cache_put(gw->lists, key, klen, stamp, velo_mono_ms(),
                     resp->body.data, resp->body.len, resp->etag_value);
    gw_max_age(resp, gw->cfg->list_max_age_s);
}

static void
station_one(struct gateway *gw, const char *sys, const char *id,
            struct velo_http_resp *resp)
{
    Velo__V1__GetStationRequest rq = VELO__V1__GET_STATION_REQUEST__INIT;
    Velo__V1__StationState     *st = NULL;
    struct velo_jsonw           w;

    rq.system_id = (char *)sys;
    rq.station_id = (char *)id;
    if (!gw_stream_call(gw, "GetStation", &rq.base, (ProtobufCMessage **)&st,
                        resp))
        return;
    velo_jsonw_init(&w, &resp->body);
    velo_station_state_json(&w, st, NAN);
    velo__v1__station_state__free_unpacked(st, NULL);
    resp->etag = true;
    gw_json_done(resp, &w);
    gw_max_age(resp, gw->cfg->list_max_age_s);
}

/* One hourly or daily row: window_start (RFC 3339) then every field. */
static void
put_row(struct velo_jsonw *w, const ProtobufCMessage *row,
        const ProtobufCMessageDescriptor *md, int64_t start_ms)
{
    velo_jsonw_obj_begin(w);
    put_time(w, "window_start", start_ms);
    velo_proto_json_members(w, row, md);
    velo_jsonw_obj_end(w);
}

static void
history_write(struct velo_jsonw *w, bool daily, const ProtobufCMessage *r)
{
    size_t i;

    velo_jsonw_obj_begin(w);
    velo_jsonw_key(w, "granularity");
    velo_jsonw_str(w, daily ? "day" : "hour");
    velo_jsonw_key(w, "rows");
    velo_jsonw_arr_begin(w);
    if (daily) {
        const Velo__V1__DailyHistory *d = (const void *)r;

        for (i = 0; i < d->n_rows; i++)
            put_row(w, &d->rows[i]->base,
                    &velo__v1__daily_station_stats__descriptor,
                    d->rows[i]->window_start_ms);
    } else {
        const Velo__V1__HourlyHistory *h = (const void *)r;

        for (i = 0; i < h->n_rows; i++)
            put_row(w, &h->rows[i]->base,
                    &velo__v1__hourly_station_stats__descriptor,
                    h->rows[i]->window_start_ms);
    }
    velo_jsonw_arr_end(w);
    velo_jsonw_obj_end(w);
}

/* Asks velo-warehouse (method with request rq) and answers with its rows
 * as history JSON (daily: the DailyHistory shape), cacheable for
 * HISTORY_MAX_AGE_S; an upstream failure becomes its JSON error. */
static void
history_answer(struct gateway *gw, const char *method,
               const ProtobufCMessage *rq, bool daily,
               struct velo_http_resp *resp)
{
    ProtobufCMessage     *r = NULL;
    struct velo_rpc_error err = {0};
    struct velo_jsonw     w;
    int                   rv;

    rv = gw_upstream_call(gw->warehouse, method, rq, &r, &err);
    if (rv != VELO_OK) {
        gw_error_upstream(resp, "velo-warehouse", rv, &err);
        return;
    }
    velo_jsonw_init(&w, &resp->body);
    history_write(&w, daily, r);
    protobuf_c_message_free_unpacked(r, NULL);
    resp->etag = resp->gzip = true;
    gw_json_done(resp, &w);
    gw_max_age(resp, HISTORY_MAX_AGE_S);
}

static void
station_history(struct gateway *gw, const struct velo_http_req *req,
                const char *sys, const char *id, struct velo_http_resp *resp)
{
    Velo__V1__HistoryRequest rq = VELO__V1__HISTORY_REQUEST__INIT;
    struct gw_query          q = gw_req_query(req);
    struct gw_perr           e;
    bool                     daily = false;

    if (gw_params_history(&q, &rq, &daily, &e) != VELO_OK) {
        gw_error_param(resp, &e);
        return;
    }
    rq.system_id = (char *)sys;
    rq.station_id = (char *)id;
    history_answer(gw, daily ? "GetDaily" : "GetHourly", &rq.base, daily, resp);
}

void
gw_h_station(void *ctx, const struct velo_http_req *req,
             struct velo_http_resp *resp)
{
    struct gateway *gw = ctx;
    char            buf[GW_SYSTEM_MAX + GW_STATION_MAX + 64];
    const char     *sys, *id, *sub;
    struct gw_perr  e;
    int             rv;

    if (!gw_admit(gw, req, resp))
        return;
    rv = gw_path_station(req->path + strlen(STATION_PREFIX), buf, sizeof(buf),
                         &sys, &id, &sub, &e);
    if (rv == VELO_EINVAL) {
        gw_error_param(resp, &e);
        return;
    }
    if (rv != VELO_OK || (sub != NULL && strcmp(sub, "history") != 0)) {
        gw_error(resp, 404, "not_found", "no such resource");
        return;
    }
    if (sub == NULL)
        station_one(gw, sys, id, resp);
    else
        station_history(gw, req, sys, id, resp);
}

void
gw_h_top(void *ctx, const struct velo_http_req *req,
         struct velo_http_resp *resp)
{
    struct gateway              *gw = ctx;
    Velo__V1__TopStationsRequest rq = VELO__V1__TOP_STATIONS_REQUEST__INIT;
    struct gw_query              q = gw_req_query(req);
    struct gw_perr               e;

    if (!gw_admit(gw, req, resp))
        return;
    if (gw_params_top(&q, &rq, &e) != VELO_OK) {
        gw_error_param(resp, &e);
        return;
    }
    history_answer(gw, "TopStations", &rq.base, true, resp);
}

void
gw_h_config(void *ctx, const struct velo_http_req *req,
            struct velo_http_resp *resp)
{
    struct gateway   *gw = ctx;
    struct velo_jsonw w;

    if (!gw_admit(gw, req, resp))
        return;
    velo_jsonw_init(&w, &resp->body);
    velo_jsonw_obj_begin(&w);
    if (gw->cfg->tile_url != NULL && gw->cfg->tile_url[0] != '\0') {
        put_str(&w, "tile_url", gw->cfg->tile_url);
        put_str(&w, "tile_attribution", gw->cfg->tile_attribution);
    }
    velo_jsonw_obj_end(&w);
    resp->etag = true;
    gw_json_done(resp, &w);
    gw_max_age(resp, 60);
}

void
gw_h_openapi(void *ctx, const struct velo_http_req *req,
             struct velo_http_resp *resp)
{
    if (!gw_admit(ctx, req, resp))
        return;
    if (velo_buf_append(&resp->body, gw_openapi_json, gw_openapi_json_len) !=
        VELO_OK) {
        gw_error(resp, 500, "internal", "out of memory");
        return;
    }
    resp->content_type = "application/json";
    resp->etag = resp->gzip = true;
    gw_max_age(resp, 3600);
}

void
gw_h_api_unknown(void *ctx, const struct velo_http_req *req,
                 struct velo_http_resp *resp)
{
    if (!gw_admit(ctx, req, resp))
        return;
    gw_error(resp, 404, "not_found",
             "no such resource; see /api/v1/openapi.json");
}
