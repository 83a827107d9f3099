/* test_util.h: snapshot builders shared by velo-stream's unit tests.
 * Header-only (static functions), so the service library never sees it. */
#ifndef STREAM_TEST_UTIL_H
#define STREAM_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "velo/v1/station.pb-c.h"

#define T_OPEN VELO__V1__STATION_STATUS__STATION_STATUS_OPEN
#define T_CLOSED VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED

/* A stack template with the usual fields set: open, renting, located. */
static inline Velo__V1__StationSnapshot
t_snap(const char *sys, const char *id, uint32_t bikes, uint32_t docks,
       int64_t fetched_ms)
{
    Velo__V1__StationSnapshot s = VELO__V1__STATION_SNAPSHOT__INIT;

    s.system_id = (char *)sys;
    s.station_id = (char *)id;
    s.name = (char *)id;
    s.has_bikes_available = s.has_docks_available = true;
    s.bikes_available = bikes;
    s.docks_available = docks;
    s.has_capacity = true;
    s.capacity = bikes + docks;
    s.has_status = true;
    s.status = T_OPEN;
    s.has_is_renting = s.is_renting = true;
    s.has_lat = s.has_lon = true;
    s.lat = 53.35;
    s.lon = -6.26;
    s.has_fetched_at_ms = s.has_last_reported_ms = true;
    s.fetched_at_ms = fetched_ms;
    s.last_reported_ms = fetched_ms;
    return s;
}

/* A heap copy of tmpl, as protobuf_c unpack makes it: what the state
 * takes ownership of. */
static inline Velo__V1__StationSnapshot *
t_heap(const Velo__V1__StationSnapshot *tmpl)
{
    uint8_t                   *buf;
    size_t                     n;
    Velo__V1__StationSnapshot *s;

    n = velo__v1__station_snapshot__get_packed_size(tmpl);
    buf = malloc(n + 1);
    if (buf == NULL)
        abort();
    velo__v1__station_snapshot__pack(tmpl, buf);
    s = velo__v1__station_snapshot__unpack(NULL, n, buf);
    free(buf);
    if (s == NULL)
        abort();
    return s;
}

#endif
