/* dims.h: the dimension values the loader last saw, per station and per
 * system, for records that do not carry them.
 *
 * velo_db_upsert needs a station's name and position and a system's name
 * and zone with every row, and treats a change as a new type-2 version. A
 * record without them (an older velo-batch) must not rename the station to
 * "": the loader first learns from every record of a batch that carries
 * values (wh_dims_learn), then fills the absent ones (wh_dims_fill) from
 * what it learnt, in this batch or an earlier one. What was never seen
 * falls back to: name "", position 0,0, system name = system_id, zone
 * "UTC" (the calendar record.c gives hourly rows without one).
 *
 * Bounded: at most WH_DIMS_MAX entries; past that, new keys are not
 * remembered (their rows still load, with the fallbacks). Thread: one
 * owner (the loader thread). */
#ifndef WAREHOUSE_DIMS_H
#define WAREHOUSE_DIMS_H

#include "record.h"

#define WH_DIMS_MAX 1000000

typedef struct wh_dims wh_dims;

VELO_MUST_CHECK int wh_dims_new(wh_dims **out);
void                wh_dims_free(wh_dims *d);

/* Remembers the values rec carries. VELO_ENOMEM (nothing remembered). */
VELO_MUST_CHECK int wh_dims_learn(wh_dims *d, const struct wh_record *rec);

/* Fills what rec lacks from memory, else the fallbacks. */
void wh_dims_fill(const wh_dims *d, struct wh_record *rec);

#endif
