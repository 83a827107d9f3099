/* station_json.c: velo.v1.StationState as JSON (see velo/station_json.h).
 *
 * The snapshot part comes from velo_snapshot_json_members, so a field added
 * to StationSnapshot appears here without a change; this file only adds
 * the derived fields that StationState carries around it. */
#include "velo/station_json.h"

#include <math.h>

#include "velo/clock.h"
#include "velo/snapshot.h"

/* changed_at (RFC 3339, null for 0 like the snapshot's time twins) and
 * changed_at_ms. */
static void
changed_put(struct velo_jsonw *w, int64_t ms)
{
    char ts[32];

    velo_jsonw_key(w, "changed_at");
    if (ms == 0) {
        velo_jsonw_null(w);
    } else {
        velo_time_format_iso(ms, ts, sizeof(ts));
        velo_jsonw_str(w, ts);
    }
    velo_jsonw_key(w, "changed_at_ms");
    velo_jsonw_i64(w, ms);
}

static void
derived_put(struct velo_jsonw *w, const Velo__V1__StationState *st,
            double distance_m)
{
    if (st->has_age_s) {
        velo_jsonw_key(w, "age_s");
        velo_jsonw_i64(w, st->age_s);
    }
    if (st->has_stale) {
        velo_jsonw_key(w, "stale");
        velo_jsonw_bool(w, st->stale);
    }
    if (st->has_stuck) {
        velo_jsonw_key(w, "stuck");
        velo_jsonw_bool(w, st->stuck);
    }
    if (st->has_trend_15m) {
        velo_jsonw_key(w, "trend_15m");
        velo_jsonw_i64(w, st->trend_15m);
    }
    if (st->has_changed_at_ms)
        changed_put(w, st->changed_at_ms);
    if (isfinite(distance_m)) {
        /* Metres to 0.1 m: more digits would only be haversine noise. */
        velo_jsonw_key(w, "distance_m");
        velo_jsonw_dbl(w, round(distance_m * 10.0) / 10.0);
    }
}

void
velo_station_state_json(struct velo_jsonw *w, const Velo__V1__StationState *st,
                        double distance_m)
{
    Velo__V1__StationSnapshot none = VELO__V1__STATION_SNAPSHOT__INIT;

    velo_jsonw_obj_begin(w);
    velo_snapshot_json_members(w, st->snapshot != NULL ? st->snapshot : &none);
    derived_put(w, st, distance_m);
    velo_jsonw_obj_end(w);
}

int
velo_station_state_to_json(const Velo__V1__StationState *st, double distance_m,
                           struct velo_buf *out)
{
    struct velo_jsonw w;

    velo_jsonw_init(&w, out);
    velo_station_state_json(&w, st, distance_m);
    return velo_jsonw_finish(&w);
}
