/* gbfs.c: /gbfs/2.3/{system}/<feed>.json, /gbfs/3.0/{system}/<feed>.json
 * and /gbfs/3.0/manifest.json, written by velo/gbfs_out.h from velo-stream's
 * stations and the system's SystemInfo (ListSystems). A system without a
 * SystemInfo yet answers 503 + Retry-After: its name, time zone and
 * language are not known, and GBFS requires them. Also the station pages
 * the SSE snapshot uses (gw_stations_all). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "velo/clock.h"
#include "velo/gbfs_out.h"
#include "velo/station_json.h"

#define GBFS_PREFIX "/gbfs/"
#define HOST_MAX 255
#define INFO_TTL_MAX 3600

void
gw_pages_free(struct gw_pages *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        velo__v1__list_stations_reply__free_unpacked(p->page[i], NULL);
    p->n = 0;
}

int
gw_stations_all(struct gateway *gw, const char *system, struct gw_pages *p,
                struct velo_rpc_error *err)
{
    Velo__V1__ListStationsRequest rq = VELO__V1__LIST_STATIONS_REQUEST__INIT;
    Velo__V1__ListStationsReply  *r;
    int                           rv = VELO_OK;

    p->n = 0;
    rq.system_id = (char *)system;
    rq.has_limit = true;
    rq.limit = GW_LIMIT_MAX;
    while (rv == VELO_OK) {
        if (p->n == GW_PAGES_MAX) {
            rv = VELO_ETOOBIG;
            break;
        }
        r = NULL;
        rv = gw_upstream_call(gw->stream, "ListStations", &rq.base,
                              (ProtobufCMessage **)&r, err);
        if (rv != VELO_OK)
            break;
        p->page[p->n++] = r;
        if (r->next_cursor == NULL)
            return VELO_OK;
        rq.cursor = r->next_cursor; /* lives in the kept page */
    }
    gw_pages_free(p);
    return rv;
}

int
gw_snapshot_json(void *ctx, const char *system, struct velo_buf *out)
{
    struct gateway       *gw = ctx;
    struct gw_pages       p;
    struct velo_rpc_error err = {0};
    struct velo_jsonw     w;
    size_t                i, j;
    int                   rv;

    rv = gw_stations_all(gw, system, &p, &err);
    if (rv != VELO_OK)
        return rv;
    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "stations");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < p.n; i++)
        for (j = 0; j < p.page[i]->n_stations; j++)
            velo_station_state_json(&w, p.page[i]->stations[j], NAN);
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    gw_pages_free(&p);
    return velo_jsonw_finish(&w);
}

/* The feed URL template: --public-url, else http:// + Host (checked: a
 * host name, address and port only, so no one can inject a link). */
static bool
url_template(struct gateway *gw, const struct velo_http_req *req, char *buf,
             size_t size)
{
    const char *base = gw->cfg->public_url, *host;
    size_t      i, n;

    if (base == NULL || base[0] == '\0') {
        host = velo_http_header(req, "Host");
        n = host != NULL ? strlen(host) : 0;
        if (n == 0 || n > HOST_MAX)
            host = gw->addr;
        for (i = 0; host[i] != '\0'; i++)
            if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789.-:[]",
                       host[i]) == NULL)
                return false;
        return (size_t)snprintf(buf, size, "http://%s/gbfs/{version}/{system}/",
                                host) < size;
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return (size_t)snprintf(buf, size, "%.*s/gbfs/{version}/{system}/", (int)n,
                            base) < size;
}

static void
sys_fill(struct gateway *gw, const Velo__V1__SystemSummary *s,
         struct velo_gbfs_system *g)
{
    const Velo__V1__SystemInfo *si = s->info;

    *g = (struct velo_gbfs_system){
        .system_id = s->system_id,
        .name = si->name,
        .operator_name = si->operator_,
        .timezone = si->timezone,
        .language = si->language != NULL ? si->language : "en",
        .url = NULL,
        .feed_contact_email = gw->cfg->gbfs_contact_email,
        .opening_hours = gw->cfg->gbfs_opening_hours,
        .ebike_range_m = gw->cfg->gbfs_ebike_range_m,
    };
}

static uint32_t
info_ttl(const struct gateway *gw)
{
    uint32_t t = gw->cfg->gbfs_ttl_s * 10;

    return t > INFO_TTL_MAX ? INFO_TTL_MAX : t;
}

static void
gbfs_manifest(struct gateway *gw, const Velo__V1__ListSystemsReply *r,
              const char *tmpl, struct velo_http_resp *resp)
{
    struct velo_gbfs_system        *sys;
    const struct velo_gbfs_system **ptrs;
    size_t                          i, n = 0;
    int                             rv = VELO_ENOMEM;

    sys = calloc(r->n_systems + 1, sizeof(*sys));
    ptrs = calloc(r->n_systems + 1, sizeof(*ptrs));
    if (sys != NULL && ptrs != NULL) {
        for (i = 0; i < r->n_systems; i++) {
            if (r->systems[i]->info == NULL)
                continue;
            sys_fill(gw, r->systems[i], &sys[n]);
            ptrs[n] = &sys[n];
            n++;
        }
        rv = velo_gbfs_out_manifest(ptrs, n, tmpl, velo_now_ms(), info_ttl(gw),
                                    &resp->body);
    }
    free(sys);
    free(ptrs);
    if (rv != VELO_OK)
        gw_error(resp, 500, "internal", "manifest: %s", velo_strerror(rv));
}

/* One feed of one system. */
static void
gbfs_feed(struct gateway *gw, const Velo__V1__SystemSummary *s,
          enum velo_gbfs_version v, enum velo_gbfs_feed feed, const char *tmpl,
          struct velo_http_resp *resp)
{
    struct velo_gbfs_system           sys;
    struct gw_pages                   p = {0};
    struct velo_rpc_error             err = {0};
    const Velo__V1__StationSnapshot **snaps = NULL;
    size_t                            i, j, n = 0, cap = 0;
    int                               rv = VELO_OK;

    sys_fill(gw, s, &sys);
    if (feed == VELO_GBFS_FEED_STATION_INFORMATION ||
        feed == VELO_GBFS_FEED_STATION_STATUS ||
        feed == VELO_GBFS_FEED_VEHICLE_TYPES || feed == VELO_GBFS_FEED_GBFS) {
        rv = gw_stations_all(gw, s->system_id, &p, &err);
        if (rv != VELO_OK) {
            gw_error_upstream(resp, "velo-stream", rv, &err);
            return;
        }
    }
    for (i = 0; i < p.n; i++)
        cap += p.page[i]->n_stations;
    snaps = calloc(cap + 1, sizeof(*snaps));
    if (snaps == NULL)
        rv = VELO_ENOMEM;
    for (i = 0; rv == VELO_OK && i < p.n; i++)
        for (j = 0; j < p.page[i]->n_stations; j++)
            if (p.page[i]->stations[j]->snapshot != NULL)
                snaps[n++] = p.page[i]->stations[j]->snapshot;
    if (rv == VELO_OK)
        rv = velo_gbfs_out_write(
            &(struct velo_gbfs_input){.sys = &sys,
                                      .stations = snaps,
                                      .n_stations = n,
                                      .url_template = tmpl,
                                      .manifest_url = NULL,
                                      .now_ms = velo_now_ms(),
                                      .status_ttl_s = gw->cfg->gbfs_ttl_s,
                                      .info_ttl_s = info_ttl(gw)},
            v, feed, &resp->body);
    free(snaps);
    gw_pages_free(&p);
    if (rv == VELO_ENOTFOUND)
        gw_error(resp, 404, "not_found", "this system publishes no %s feed",
                 velo_gbfs_out_feed_name(feed));
    else if (rv == VELO_EINVAL)
        gw_error(resp, 404, "not_found",
                 "this system cannot be published in this GBFS version "
                 "(missing name, time zone, language or contact)");
    else if (rv != VELO_OK)
        gw_error(resp, 500, "internal", "%s", velo_strerror(rv));
}

/* The system's summary in r, or NULL. */
static const Velo__V1__SystemSummary *
find_system(const Velo__V1__ListSystemsReply *r, const char *id)
{
    size_t i;

    for (i = 0; i < r->n_systems; i++)
        if (r->systems[i]->system_id != NULL &&
            strcmp(r->systems[i]->system_id, id) == 0)
            return r->systems[i];
    return NULL;
}

static void
gbfs_answer(struct gateway *gw, const char *version, const char *system,
            const char *file, const char *tmpl, struct velo_http_resp *resp)
{
    Velo__V1__ListSystemsRequest   rq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    Velo__V1__ListSystemsReply    *r = NULL;
    const Velo__V1__SystemSummary *s;
    enum velo_gbfs_feed            feed;
    enum velo_gbfs_version         v =
        strcmp(version, "2.3") == 0 ? VELO_GBFS_2_3 : VELO_GBFS_3_0;

    if (system != NULL &&
        (velo_gbfs_out_feed_parse(file, &feed) != VELO_OK ||
         feed == VELO_GBFS_FEED_MANIFEST || strstr(file, ".json") == NULL)) {
        gw_error(resp, 404, "not_found", "no such GBFS feed");
        return;
    }
    if (!gw_stream_call(gw, "ListSystems", &rq.base, (ProtobufCMessage **)&r,
                        resp))
        return;
    s = system != NULL ? find_system(r, system) : NULL;
    if (system == NULL)
        gbfs_manifest(gw, r, tmpl, resp);
    else if (s == NULL)
        gw_error(resp, 404, "not_found", "no such system");
    else if (s->info == NULL)
        gw_error(resp, 503, "unavailable",
                 "this system's description (SystemInfo) has not arrived "
                 "yet");
    else
        gbfs_feed(gw, s, v, feed, tmpl, resp);
    velo__v1__list_systems_reply__free_unpacked(r, NULL);
}

void
gw_h_gbfs(void *ctx, const struct velo_http_req *req,
          struct velo_http_resp *resp)
{
    struct gateway     *gw = ctx;
    char                buf[GW_SYSTEM_MAX + 128], tmpl[1024];
    const char         *version, *system, *file;
    enum velo_gbfs_feed feed;

    if (!gw_admit(gw, req, resp))
        return;
    if (gw_path_gbfs(req->path + strlen(GBFS_PREFIX), buf, sizeof(buf),
                     &version, &system, &file) != VELO_OK) {
        gw_error(resp, 404, "not_found", "no such GBFS feed");
        return;
    }
    if (!url_template(gw, req, tmpl, sizeof(tmpl))) {
        gw_error(resp, 400, "invalid_parameter", "bad Host header");
        return;
    }
    gbfs_answer(gw, version, system, file, tmpl, resp);
    if (resp->status != 200)
        return;
    resp->content_type = "application/json";
    resp->etag = resp->gzip = true;
    /* Caches keep a feed exactly as long as its ttl says. */
    gw_max_age(resp, system != NULL &&
                             velo_gbfs_out_feed_parse(file, &feed) == VELO_OK &&
                             feed == VELO_GBFS_FEED_STATION_STATUS
                         ? gw->cfg->gbfs_ttl_s
                         : info_ttl(gw));
}
