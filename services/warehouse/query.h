/* query.h: the history queries' own database connections.
 *
 * The loader holds one connection inside long transactions; queries never
 * wait behind it: they use a small pool of other connections (SQLite WAL
 * lets readers run beside the writer; PostgreSQL and SQL Server readers
 * see the last committed state). Each call takes a free connection, or
 * waits for one only until its deadline.
 *
 * Failing fast: after a connection failure (VELO_EUNAVAIL / ETIMEDOUT) the
 * pool answers VELO_EUNAVAIL at once for WH_QUERY_DOWN_MS instead of
 * trying again, so a database that is down costs one connect timeout per
 * window, not one per call. Before the loader has migrated the schema
 * (status->schema_ready) every call is VELO_EUNAVAIL.
 *
 * Thread: wh_query_run from any number of threads (RPC workers). */
#ifndef WAREHOUSE_QUERY_H
#define WAREHOUSE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "velo/db.h"
#include "velo/err.h"

#define WH_QUERY_DOWN_MS 1000
#define WH_QUERY_CONNECT_MS 2000 /* connect timeout of a query connection */

typedef struct wh_query wh_query;

/* url and password are copied; status is borrowed and outlives the pool.
 * No connection is made yet. VELO_ENOMEM. */
VELO_MUST_CHECK int wh_query_new(wh_query **out, const char *url,
                                 const char *password, size_t nconns,
                                 struct wh_status *status);

/* Runs fn(db, ctx) on a connection and returns its result. VELO_EUNAVAIL
 * (with a reason in why) without calling fn when the schema is not ready,
 * the database failed less than WH_QUERY_DOWN_MS ago, the connection
 * cannot be made, or no connection is free by deadline_mono_ms (a
 * velo_mono_ms instant). */
VELO_MUST_CHECK int wh_query_run(wh_query *q, int (*fn)(velo_db *, void *),
                                 void *ctx, int64_t deadline_mono_ms, char *why,
                                 size_t why_size);

/* Closes every connection (none may be in use) and frees. NULL: no-op. */
void wh_query_free(wh_query *q);

#endif
