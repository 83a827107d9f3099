/* jsondoc.c: veloctl's --json documents (see jsondoc.h). */
#include "jsondoc.h"

#include <inttypes.h>
#include <math.h>

#include "velo/clock.h"
#include "velo/json.h"
#include "velo/station_json.h"

/* An object being written: the comma goes before every field but the
 * first. rv sticks at the first error, so callers chain puts freely. */
struct obj {
    struct velo_buf *out;
    bool             first;
    int              rv;
};

static void
obj_key(struct obj *o, const char *key)
{
    if (o->rv == VELO_OK && !o->first)
        o->rv = velo_buf_puts(o->out, ",");
    o->first = false;
    if (o->rv == VELO_OK)
        o->rv = velo_buf_printf(o->out, "\"%s\":", key);
}

static void
obj_str(struct obj *o, const char *key, const char *v)
{
    if (v == NULL)
        return; /* absent stays absent */
    obj_key(o, key);
    if (o->rv == VELO_OK)
        o->rv = velo_json_append_str(o->out, v);
}

static void
obj_i64(struct obj *o, bool has, const char *key, int64_t v)
{
    if (!has)
        return;
    obj_key(o, key);
    if (o->rv == VELO_OK)
        o->rv = velo_buf_printf(o->out, "%" PRId64, v);
}

static void
obj_u64(struct obj *o, bool has, const char *key, uint64_t v)
{
    if (!has)
        return;
    obj_key(o, key);
    if (o->rv == VELO_OK)
        o->rv = velo_buf_printf(o->out, "%" PRIu64, v);
}

static void
obj_bool(struct obj *o, bool has, const char *key, bool v)
{
    if (!has)
        return;
    obj_key(o, key);
    if (o->rv == VELO_OK)
        o->rv = velo_buf_puts(o->out, v ? "true" : "false");
}

static void
obj_raw(struct obj *o, const char *s)
{
    if (o->rv == VELO_OK)
        o->rv = velo_buf_puts(o->out, s);
}

/* Rolls out back to mark on failure: all or nothing, like the common
 * writers. */
static int
obj_end(struct obj *o, size_t mark)
{
    if (o->rv != VELO_OK && o->out->data != NULL) {
        o->out->len = mark;
        o->out->data[mark] = '\0';
    }
    return o->rv;
}

int
veloctl_jsondoc_stations(struct velo_buf               *out,
                         Velo__V1__StationState *const *sts, const double *dist,
                         size_t n, bool has_total, uint32_t total,
                         const char *next_cursor)
{
    struct obj o = {out, true, VELO_OK};
    size_t     mark = out->len, i;

    obj_raw(&o, "{\"stations\":[");
    for (i = 0; o.rv == VELO_OK && i < n; i++) {
        if (i > 0)
            obj_raw(&o, ",");
        if (o.rv == VELO_OK)
            o.rv = velo_station_state_to_json(
                sts[i], dist != NULL ? dist[i] : NAN, out);
    }
    obj_raw(&o, "]");
    o.first = false;
    obj_key(&o, "total");
    if (o.rv == VELO_OK)
        o.rv = has_total ? velo_buf_printf(out, "%" PRIu32, total)
                         : velo_buf_puts(out, "null");
    obj_key(&o, "next_cursor");
    if (o.rv == VELO_OK)
        o.rv = velo_json_append_str(out, next_cursor);
    obj_raw(&o, "}\n");
    return obj_end(&o, mark);
}

/* One SystemSummary; last_fetched_ms also as RFC 3339 (null for 0), like
 * the snapshot's time fields. */
static void
system_put(struct obj *o, const Velo__V1__SystemSummary *s)
{
    struct obj f = {o->out, true, o->rv};
    char       iso[32];

    obj_raw(&f, "{");
    obj_str(&f, "system_id", s->system_id);
    obj_u64(&f, s->has_stations, "stations", s->stations);
    obj_u64(&f, s->has_bikes_available, "bikes_available", s->bikes_available);
    obj_u64(&f, s->has_docks_available, "docks_available", s->docks_available);
    if (s->has_last_fetched_ms) {
        obj_key(&f, "last_fetched");
        velo_time_format_iso(s->last_fetched_ms, iso, sizeof(iso));
        if (f.rv == VELO_OK)
            f.rv = s->last_fetched_ms == 0 ? velo_buf_puts(f.out, "null")
                                           : velo_json_append_str(f.out, iso);
    }
    obj_i64(&f, s->has_last_fetched_ms, "last_fetched_ms", s->last_fetched_ms);
    obj_bool(&f, s->has_simulated, "simulated", s->simulated);
    obj_str(&f, "source_format", s->source_format);
    obj_raw(&f, "}");
    o->rv = f.rv;
}

int
veloctl_jsondoc_systems(struct velo_buf                  *out,
                        const Velo__V1__ListSystemsReply *r)
{
    struct obj o = {out, true, VELO_OK};
    size_t     mark = out->len, i;

    obj_raw(&o, "{\"systems\":[");
    for (i = 0; o.rv == VELO_OK && i < r->n_systems; i++) {
        if (i > 0)
            obj_raw(&o, ",");
        system_put(&o, r->systems[i]);
    }
    obj_raw(&o, "]}\n");
    return obj_end(&o, mark);
}

static void
health_put(struct obj *o, const struct veloctl_health *h)
{
    const Velo__V1__HealthReply *r = h->reply;
    struct obj                   f = {o->out, true, o->rv};

    obj_raw(&f, "{");
    obj_str(&f, "rpc", h->url);
    if (r == NULL) {
        obj_key(&f, "error");
        obj_raw(&f, "{");
        f.first = true;
        obj_str(&f, "code", h->error_code);
        obj_str(&f, "message", h->error);
        obj_raw(&f, "}");
    } else {
        obj_bool(&f, r->has_ready, "ready", r->ready);
        obj_str(&f, "reason", r->reason);
        obj_u64(&f, r->has_stations, "stations", r->stations);
        obj_i64(&f, r->has_consumer_lag, "consumer_lag", r->consumer_lag);
        obj_str(&f, "instance", r->instance);
    }
    obj_raw(&f, "}");
    o->rv = f.rv;
}

int
veloctl_jsondoc_health(struct velo_buf *out, const struct veloctl_health *h,
                       size_t n, bool all_ready)
{
    struct obj o = {out, true, VELO_OK};
    size_t     mark = out->len, i;

    obj_raw(&o, "{");
    obj_bool(&o, true, "ready", all_ready);
    obj_key(&o, "instances");
    obj_raw(&o, "[");
    for (i = 0; o.rv == VELO_OK && i < n; i++) {
        if (i > 0)
            obj_raw(&o, ",");
        health_put(&o, &h[i]);
    }
    obj_raw(&o, "]}\n");
    return obj_end(&o, mark);
}
