/* query.h: ListStations over the state (stream.proto), as pure functions:
 * no lock is taken here and no socket is touched (query_test.c).
 *
 *   stream_query_parse   validates a request once, before any lock
 *   stream_query_run     filters, orders and pages; caller holds the
 *                        state's read lock
 *
 * Order: by distance with near (ties by key), else by system_id then
 * station_id, numbers compared as numbers. The cursor is a keyset
 * cursor (velo/cursor.h): the sort key of the page's last row (distance,
 * when near, then system_id and station_id), and the next page starts
 * strictly after it. Paging through an unchanged state returns every
 * match exactly once; a station that arrives or leaves meanwhile moves no
 * other station between pages (an offset cursor shifted them). */
#ifndef STREAM_QUERY_H
#define STREAM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "velo/cursor.h"
#include "velo/err.h"
#include "velo/v1/stream.pb-c.h"

#define STREAM_LIMIT_DEFAULT 100u
#define STREAM_LIMIT_MAX 5000u
#define STREAM_QUERY_TEXT_MAX 256u /* longest q accepted */

/* A validated request. Strings are borrowed from the request. */
struct stream_query {
    const char *system_id; /* NULL: every system */
    bool        near;
    double      near_lat, near_lon;
    bool        has_radius;
    double      radius_m;
    bool        bbox; /* min_lon > max_lon: the box crosses 180 degrees */
    double      min_lat, min_lon, max_lat, max_lon;
    bool        has_min_bikes, has_min_docks, has_status;
    uint32_t    min_bikes, min_docks;
    int         status;
    const char *text;  /* q; NULL: any name */
    uint32_t    limit; /* 1..STREAM_LIMIT_MAX */
    /* From the cursor: the page starts after this key. The strings point
     * into cursor_buf. */
    bool        has_after;
    double      after_dist; /* near only */
    const char *after_sys, *after_st;
    char        cursor_buf[VELO_CURSOR_TEXT_MAX];
};

struct stream_query_hit {
    const struct stream_entry *e;      /* borrowed under the read lock */
    double                     dist_m; /* 0 without near */
};

struct stream_query_page {
    size_t   n;        /* hits filled, at most limit */
    uint32_t total;    /* matches over all pages */
    bool     has_next; /* more matches after hits[n - 1] */
};

/* Checks rq and fills q. VELO_EINVAL with a message for the client in
 * err: a coordinate out of range or NaN, half a near point, radius_m
 * without near, part of a bounding box or one upside down, limit over
 * STREAM_LIMIT_MAX, q too long, a bad cursor. */
VELO_MUST_CHECK int stream_query_parse(struct stream_query                 *q,
                                       const Velo__V1__ListStationsRequest *rq,
                                       char *err, size_t err_size);

/* Runs q over st into hits (room for q->limit) and page. VELO_ENOMEM
 * (near queries sort every match in a scratch array). Locks: the caller
 * holds st's read lock and copies what it needs out of hits before
 * releasing it. */
VELO_MUST_CHECK int stream_query_run(const stream_state        *st,
                                     const struct stream_query *q,
                                     struct stream_query_hit   *hits,
                                     struct stream_query_page  *page);

/* Writes the next_cursor of a page (has_next, so n > 0) into out: the key
 * of its last hit. VELO_ETOOBIG when out is smaller than
 * VELO_CURSOR_TEXT_MAX and the key does not fit. */
VELO_MUST_CHECK int stream_query_cursor(const struct stream_query     *q,
                                        const struct stream_query_hit *last,
                                        char *out, size_t size);

/* Great-circle distance in metres (haversine, mean Earth radius). */
double stream_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
