/* jsondoc.c: veloctl's --json documents (see jsondoc.h). */
#include "jsondoc.h"

#include <math.h>

#include "velo/clock.h"
#include "velo/jsonw.h"
#include "velo/station_json.h"

/* Members that the reply may leave unset: absent stays absent. */
static void
put_str(struct velo_jsonw *w, const char *key, const char *v)
{
    if (v == NULL)
        return;
    velo_jsonw_key(w, key);
    velo_jsonw_str(w, v);
}

static void
put_i64(struct velo_jsonw *w, bool has, const char *key, int64_t v)
{
    if (!has)
        return;
    velo_jsonw_key(w, key);
    velo_jsonw_i64(w, v);
}

static void
put_u64(struct velo_jsonw *w, bool has, const char *key, uint64_t v)
{
    if (!has)
        return;
    velo_jsonw_key(w, key);
    velo_jsonw_u64(w, v);
}

static void
put_bool(struct velo_jsonw *w, bool has, const char *key, bool v)
{
    if (!has)
        return;
    velo_jsonw_key(w, key);
    velo_jsonw_bool(w, v);
}

/* Finishes the document with its newline; all or nothing. */
static int
doc_finish(struct velo_jsonw *w, struct velo_buf *out, size_t mark)
{
    int rv = velo_jsonw_finish(w);

    if (rv == VELO_OK)
        rv = velo_buf_puts(out, "\n");
    if (rv != VELO_OK && out->data != NULL) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rv;
}

int
veloctl_jsondoc_stations(struct velo_buf               *out,
                         Velo__V1__StationState *const *sts, const double *dist,
                         size_t n, bool has_total, uint32_t total,
                         const char *next_cursor)
{
    struct velo_jsonw w;
    size_t            mark = out->len, i;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "stations");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < n; i++)
        velo_station_state_json(&w, sts[i], dist != NULL ? dist[i] : NAN);
    velo_jsonw_arr_end(&w);
    velo_jsonw_key(&w, "total");
    if (has_total)
        velo_jsonw_u64(&w, total);
    else
        velo_jsonw_null(&w);
    velo_jsonw_key(&w, "next_cursor");
    velo_jsonw_str(&w, next_cursor);
    velo_jsonw_obj_end(&w);
    return doc_finish(&w, out, mark);
}

/* One SystemSummary; last_fetched_ms also as RFC 3339 (null for 0), like
 * the snapshot's time fields. */
static void
system_put(struct velo_jsonw *w, const Velo__V1__SystemSummary *s)
{
    char iso[32];

    velo_jsonw_obj_begin(w);
    put_str(w, "system_id", s->system_id);
    put_u64(w, s->has_stations, "stations", s->stations);
    put_u64(w, s->has_bikes_available, "bikes_available", s->bikes_available);
    put_u64(w, s->has_docks_available, "docks_available", s->docks_available);
    if (s->has_last_fetched_ms) {
        velo_jsonw_key(w, "last_fetched");
        velo_time_format_iso(s->last_fetched_ms, iso, sizeof(iso));
        velo_jsonw_str(w, s->last_fetched_ms == 0 ? NULL : iso);
    }
    put_i64(w, s->has_last_fetched_ms, "last_fetched_ms", s->last_fetched_ms);
    put_bool(w, s->has_simulated, "simulated", s->simulated);
    put_str(w, "source_format", s->source_format);
    velo_jsonw_obj_end(w);
}

int
veloctl_jsondoc_systems(struct velo_buf                  *out,
                        const Velo__V1__ListSystemsReply *r)
{
    struct velo_jsonw w;
    size_t            mark = out->len, i;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "systems");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < r->n_systems; i++)
        system_put(&w, r->systems[i]);
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    return doc_finish(&w, out, mark);
}

static void
health_put(struct velo_jsonw *w, const struct veloctl_health *h)
{
    const Velo__V1__HealthReply *r = h->reply;

    velo_jsonw_obj_begin(w);
    put_str(w, "rpc", h->url);
    if (r == NULL) {
        velo_jsonw_key(w, "error");
        velo_jsonw_obj_begin(w);
        put_str(w, "code", h->error_code);
        put_str(w, "message", h->error);
        velo_jsonw_obj_end(w);
    } else {
        put_bool(w, r->has_ready, "ready", r->ready);
        put_str(w, "reason", r->reason);
        put_u64(w, r->has_stations, "stations", r->stations);
        put_i64(w, r->has_consumer_lag, "consumer_lag", r->consumer_lag);
        put_str(w, "instance", r->instance);
    }
    velo_jsonw_obj_end(w);
}

int
veloctl_jsondoc_health(struct velo_buf *out, const struct veloctl_health *h,
                       size_t n, bool all_ready)
{
    struct velo_jsonw w;
    size_t            mark = out->len, i;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "ready");
    velo_jsonw_bool(&w, all_ready);
    velo_jsonw_key(&w, "instances");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < n; i++)
        health_put(&w, &h[i]);
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    return doc_finish(&w, out, mark);
}
