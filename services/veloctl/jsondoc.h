/* jsondoc.h: veloctl's --json documents, one per command, each ending in
 * a newline. Station objects are velo_station_state_to_json's, so veloctl
 * and the gateway print the same shape (DESIGN §8); absent fields are
 * omitted, never written as 0.
 *
 *   stations  {"stations":[STATION...],"total":N,"next_cursor":"..."|null}
 *   systems   {"systems":[{"system_id":...,"stations":N,...}]}
 *   health    {"ready":B,"instances":[{"rpc":URL,"ready":B,...} |
 *                                     {"rpc":URL,"error":{"code","message"}}]}
 *
 * All functions append to out and fail only with VELO_ETOOBIG/ENOMEM. */
#ifndef VELOCTL_JSONDOC_H
#define VELOCTL_JSONDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "velo/buf.h"
#include "velo/err.h"
#include "velo/v1/stream.pb-c.h"

/* dist: NULL, or one distance per station (NaN: none). total is written
 * as null when has_total is false; next_cursor NULL writes null. */
VELO_MUST_CHECK int veloctl_jsondoc_stations(struct velo_buf               *out,
                                             Velo__V1__StationState *const *sts,
                                             const double *dist, size_t n,
                                             bool has_total, uint32_t total,
                                             const char *next_cursor);

VELO_MUST_CHECK int
veloctl_jsondoc_systems(struct velo_buf                  *out,
                        const Velo__V1__ListSystemsReply *r);

/* One entry per instance (see struct veloctl_health); all_ready is the
 * top-level "ready". */
VELO_MUST_CHECK int veloctl_jsondoc_health(struct velo_buf             *out,
                                           const struct veloctl_health *h,
                                           size_t n, bool all_ready);

#endif
