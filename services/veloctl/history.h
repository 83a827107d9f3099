/* history.h: `veloctl history` and `veloctl top`, against velo-warehouse's
 * HistoryService (x->svc set by veloctl_run).
 *
 * history SYSTEM ID: GetHourly (GetDaily with --daily) over [--from,
 * --to): --to defaults to now, --from to 24 h (daily: 31 days) before.
 * top SYSTEM: TopStations of --date (default: yesterday, UTC) ranked
 * --by flow|empty|full. No rows is not an error: an empty table (a note on
 * stderr) or an empty JSON array, exit 0; but a station the warehouse has
 * never seen (NOT_FOUND) is "no station SYS/ID in the warehouse", exit 1. */
#ifndef VELOCTL_HISTORY_H
#define VELOCTL_HISTORY_H

#include "call.h"

/* Exit status (call.h). */
int veloctl_history_run(struct veloctl_ctx *x);
int veloctl_top_run(struct veloctl_ctx *x);

#endif
