/* velo/station_json.h: the JSON form of one station's live state
 * (velo.v1.StationState), shared by `veloctl --json` and the gateway's REST
 * API so that both print the same shape (DESIGN §8).
 *
 * The object carries the StationSnapshot fields under their proto names
 * (written by velo_snapshot_json_members: absent fields omitted, times also as
 * RFC 3339, status as "OPEN"/"CLOSED"/"UNKNOWN"), then the derived ones:
 *
 *   age_s       int     seconds since the source's last report
 *   stale       bool    no report for longer than the stale threshold
 *   stuck       bool    open but bikes unchanged for hours
 *   trend_15m   int     bikes now minus 15 minutes ago
 *   changed_at  string  RFC 3339 of changed_at_ms (null when 0)
 *   changed_at_ms int   when bikes or docks last changed
 *   distance_m  number  metres from the query point, 0.1 m precision
 *
 * A derived field the state does not carry is omitted, never written as a
 * made-up 0 or false. */
#ifndef VELO_STATION_JSON_H
#define VELO_STATION_JSON_H

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/jsonw.h"
#include "velo/v1/stream.pb-c.h"

/* Appends st as one JSON object to out. distance_m is written when it is
 * finite; pass NAN for "no distance". A state without a snapshot gives an
 * object with the derived fields only. All or nothing: on failure (only
 * VELO_ETOOBIG or VELO_ENOMEM from out) out is left as it was.
 * Thread: any; st is only read. */
VELO_MUST_CHECK int velo_station_state_to_json(const Velo__V1__StationState *st,
                                               double           distance_m,
                                               struct velo_buf *out);

/* Writes st as one object value into w (in an array, or after a key).
 * Errors stick in w, like every jsonw call. Strings follow velo/jsonw.h's
 * UTF-8 policy. */
void velo_station_state_json(struct velo_jsonw            *w,
                             const Velo__V1__StationState *st,
                             double                        distance_m);

#endif
