/* station_json.c: velo.v1.StationState as JSON (see velo/station_json.h).
 *
 * The snapshot part comes from velo_snapshot_to_json, so a field added to
 * StationSnapshot appears here without a change; this file only appends
 * the derived fields that StationState adds around it. */
#include "velo/station_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>

#include "velo/clock.h"
#include "velo/parse.h"
#include "velo/snapshot.h"

/* Opens the next field: a comma unless it is the first, then the key. */
static int
key_put(struct velo_buf *out, bool *first, const char *key)
{
    int rv;

    rv = *first ? VELO_OK : velo_buf_puts(out, ",");
    *first = false;
    if (rv == VELO_OK)
        rv = velo_buf_printf(out, "\"%s\":", key);
    return rv;
}

static int
i64_put(struct velo_buf *out, bool *first, const char *key, int64_t v)
{
    int rv = key_put(out, first, key);

    return rv == VELO_OK ? velo_buf_printf(out, "%" PRId64, v) : rv;
}

static int
bool_put(struct velo_buf *out, bool *first, const char *key, bool v)
{
    int rv = key_put(out, first, key);

    return rv == VELO_OK ? velo_buf_puts(out, v ? "true" : "false") : rv;
}

/* changed_at (RFC 3339, null for 0 like the snapshot's time twins) and
 * changed_at_ms. */
static int
changed_put(struct velo_buf *out, bool *first, int64_t ms)
{
    char ts[32];
    int  rv;

    rv = key_put(out, first, "changed_at");
    if (rv == VELO_OK && ms == 0)
        rv = velo_buf_puts(out, "null");
    else if (rv == VELO_OK) {
        velo_time_format_iso(ms, ts, sizeof(ts));
        rv = velo_buf_printf(out, "\"%s\"", ts);
    }
    return rv == VELO_OK ? i64_put(out, first, "changed_at_ms", ms) : rv;
}

/* Metres to 0.1 m: more digits would only be noise from the haversine. */
static int
distance_put(struct velo_buf *out, bool *first, double m)
{
    char num[40];
    int  rv;

    rv = key_put(out, first, "distance_m");
    if (rv != VELO_OK)
        return rv;
    velo_format_double(round(m * 10.0) / 10.0, num, sizeof(num));
    return velo_buf_puts(out, num);
}

static int
derived_put(const Velo__V1__StationState *st, double distance_m,
            struct velo_buf *out, bool first)
{
    int rv = VELO_OK;

    if (rv == VELO_OK && st->has_age_s)
        rv = i64_put(out, &first, "age_s", st->age_s);
    if (rv == VELO_OK && st->has_stale)
        rv = bool_put(out, &first, "stale", st->stale);
    if (rv == VELO_OK && st->has_stuck)
        rv = bool_put(out, &first, "stuck", st->stuck);
    if (rv == VELO_OK && st->has_trend_15m)
        rv = i64_put(out, &first, "trend_15m", st->trend_15m);
    if (rv == VELO_OK && st->has_changed_at_ms)
        rv = changed_put(out, &first, st->changed_at_ms);
    if (rv == VELO_OK && isfinite(distance_m))
        rv = distance_put(out, &first, distance_m);
    return rv;
}

int
velo_station_state_to_json(const Velo__V1__StationState *st, double distance_m,
                           struct velo_buf *out)
{
    Velo__V1__StationSnapshot none = VELO__V1__STATION_SNAPSHOT__INIT;
    size_t                    mark = out->len;
    bool                      first;
    int                       rv;

    rv =
        velo_snapshot_to_json(st->snapshot != NULL ? st->snapshot : &none, out);
    if (rv != VELO_OK)
        return rv; /* velo_snapshot_to_json already rolled back */
    /* Reopen the snapshot's object: drop its closing brace and go on. */
    out->len--;
    out->data[out->len] = '\0';
    first = out->data[out->len - 1] == '{';
    rv = derived_put(st, distance_m, out, first);
    if (rv == VELO_OK)
        rv = velo_buf_puts(out, "}");
    if (rv != VELO_OK) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rv;
}
