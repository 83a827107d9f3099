/* histfmt.h: the output of `history` and `top`, tables and JSON. Pure
 * functions over the replies, so tests pin the text.
 *
 * Tables: one row per window (history) or station (top); averages with one
 * decimal, minutes rounded, a field the service did not send as "-", and
 * NOTE "gap" where bikes_in/out may miss changes (flow_reliable false).
 * JSON: exactly one document, rows under their proto field names plus
 * window_start as RFC 3339; an absent electric_avg is left out. */
#ifndef VELOCTL_HISTFMT_H
#define VELOCTL_HISTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/v1/history.pb-c.h"

/* One row of either message, as the printers see it. */
struct veloctl_hrow {
    const char *station_id;
    int64_t     window_start_ms;
    const char *local_date; /* daily only */
    uint32_t    samples;
    double      bikes_avg, docks_avg, minutes_empty, minutes_full;
    uint32_t    bikes_min, bikes_max, docks_min, docks_max;
    uint32_t    bikes_in, bikes_out, capacity;
    bool        flow_reliable, has_electric_avg;
    double      electric_avg;
    int         status;
};

void veloctl_hrow_hourly(struct veloctl_hrow                *r,
                         const Velo__V1__HourlyStationStats *m);
void veloctl_hrow_daily(struct veloctl_hrow               *r,
                        const Velo__V1__DailyStationStats *m);

/* What a history answer was about. */
struct veloctl_hquery {
    const char *system_id, *station_id;
    bool        daily;
    int64_t     from_ms, to_ms;
};

VELO_MUST_CHECK int veloctl_fmt_history(struct velo_buf           *out,
                                        const struct veloctl_hrow *rows,
                                        size_t n, bool daily);
VELO_MUST_CHECK int veloctl_fmt_top(struct velo_buf           *out,
                                    const struct veloctl_hrow *rows, size_t n);
VELO_MUST_CHECK int veloctl_json_history(struct velo_buf             *out,
                                         const struct veloctl_hquery *q,
                                         const struct veloctl_hrow   *rows,
                                         size_t                       n);
/* by: "flow", "empty" or "full". */
VELO_MUST_CHECK int veloctl_json_top(struct velo_buf *out, const char *system,
                                     const char *date, const char *by,
                                     const struct veloctl_hrow *rows, size_t n);

#endif
