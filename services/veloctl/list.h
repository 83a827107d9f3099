/* list.h: `veloctl stations`: ListStations with the query options, one
 * page or (--all) every page by following next_cursor. */
#ifndef VELOCTL_LIST_H
#define VELOCTL_LIST_H

#include "call.h"
#include "velo/v1/stream.pb-c.h"

/* Most pages and stations --all gathers: a service that keeps handing out
 * cursors cannot make veloctl loop or grow without end. */
#define VELOCTL_MAX_PAGES 10000
#define VELOCTL_MAX_STATIONS 1000000
/* Page size --all asks for when --limit is not given. */
#define VELOCTL_ALL_PAGE 1000

/* Fills the request from the parsed options (strings borrowed from a). */
void veloctl_list_request(Velo__V1__ListStationsRequest *rq,
                          const struct veloctl_args     *a);

/* Runs the command on x->c. Returns an exit status. */
int veloctl_list_run(struct veloctl_ctx *x);

#endif
