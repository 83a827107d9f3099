/* warehouse.h: the velo-warehouse service object.
 *
 * Owns the status, the loader thread, the query pool and the RPC server:
 *
 *   warehouse_new    password loaded, RPC listener bound (serving
 *                    UNAVAILABLE until the database is reached)
 *   warehouse_start  the loader thread
 *   warehouse_stop   stops loading (a gathered batch loaded once more if
 *                    the database is up), stops serving RPC
 *   warehouse_free
 *
 * Thread: _new/_start/_stop/_free and the URL getter from main;
 * warehouse_ready from any thread. */
#ifndef WAREHOUSE_WAREHOUSE_H
#define WAREHOUSE_WAREHOUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "velo/err.h"
#include "velo/metrics.h"
#include "warehouse_cfg.h"

typedef struct warehouse warehouse;

/* cfg and m are borrowed and outlive the object. VELO_EUNAVAIL: the RPC
 * listener could not bind; VELO_EINVAL: bad URL or Kafka config; VELO_EIO:
 * the password file cannot be read. */
VELO_MUST_CHECK int warehouse_new(warehouse                 **out,
                                  const struct warehouse_cfg *cfg,
                                  velo_metrics               *m);
VELO_MUST_CHECK int warehouse_start(warehouse *w);
/* The result of the last load at stop. */
VELO_MUST_CHECK int warehouse_stop(warehouse *w);
/* NULL is a no-op. */
void warehouse_free(warehouse *w);

/* The bound RPC URL, real port filled in. Borrowed. */
const char *warehouse_rpc_url(const warehouse *w);

/* velo_ready_fn: the database reached and its last operation worked. */
bool warehouse_ready(void *ctx, char *why, size_t why_size);

#endif
