/* fmt.h: veloctl's text output for people. Pure functions: everything they
 * print comes from their arguments (time included), so tests can pin it.
 *
 * A field the service did not send prints as "-", never as 0: a JCDecaux
 * v1 source has no mechanical/electric split, and "0 e-bikes" would be a
 * lie. Peer strings go through the table module's cleaning. */
#ifndef VELOCTL_FMT_H
#define VELOCTL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/v1/stream.pb-c.h"

#define VELOCTL_NAME_COLS 32 /* NAME column width in the stations table */

/* "42s", "5m", "3h", "2d" (negative ages, from clock skew, print "0s"). */
void veloctl_fmt_age(char *buf, size_t size, int64_t age_s);
/* "850m", "1.2km", "12km"; "-" for NaN. */
void veloctl_fmt_dist(char *buf, size_t size, double m);
/* "OPEN", "CLOSED", "UNKNOWN" plus " stale" / " stuck"; "-" when the
 * status is absent and no flag is set. */
void veloctl_fmt_status(char *buf, size_t size,
                        const Velo__V1__StationState *st);

/* The stations table: SYSTEM STATION NAME BIKES MECH ELEC DOCKS CAP STATUS
 * AGE TREND, plus DIST when dist is not NULL (dist[i] belongs to sts[i];
 * NaN prints "-"). */
VELO_MUST_CHECK int veloctl_fmt_stations(struct velo_buf               *out,
                                         Velo__V1__StationState *const *sts,
                                         const double *dist, size_t n);

/* One station as "key  value" lines. now_ms only serves "… ago". */
VELO_MUST_CHECK int veloctl_fmt_station(struct velo_buf              *out,
                                        const Velo__V1__StationState *st,
                                        int64_t                       now_ms);

/* The systems table: SYSTEM STATIONS BIKES DOCKS FORMAT AGE NOTE. */
VELO_MUST_CHECK int veloctl_fmt_systems(struct velo_buf                  *out,
                                        const Velo__V1__ListSystemsReply *r,
                                        int64_t now_ms);

/* One instance's answer to Health: reply, or NULL with error set. */
struct veloctl_health {
    const char                  *url;
    const Velo__V1__HealthReply *reply;
    const char *error_code; /* when reply is NULL: "UNAVAILABLE", ... */
    const char *error;      /* when reply is NULL: what went wrong */
};

/* The health table: RPC READY STATIONS LAG INSTANCE REASON. */
VELO_MUST_CHECK int veloctl_fmt_health(struct velo_buf             *out,
                                       const struct veloctl_health *h,
                                       size_t                       n);

/* watch: fixed-width lines so that successive changes line up without
 * knowing the next ones. The header once, then one line per change;
 * at_ms is the local time shown in the TIME column. */
VELO_MUST_CHECK int veloctl_fmt_watch_header(struct velo_buf *out);
VELO_MUST_CHECK int veloctl_fmt_watch_line(struct velo_buf              *out,
                                           const Velo__V1__StationState *st,
                                           int64_t                       at_ms);

#endif
