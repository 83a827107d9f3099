/* wh_test_util.h: aggregate builders shared by velo-warehouse's unit
 * tests. Header-only (static functions), so the service library never
 * sees it. */
#ifndef WAREHOUSE_WH_TEST_UTIL_H
#define WAREHOUSE_WH_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "velo/v1/aggregate.pb-c.h"

#define T_HOUR_MS 3600000LL
#define T_H0 1764547200000LL /* 2025-12-01T00:00:00Z, a Monday */

/* An hourly aggregate of station id at hour h after T_H0, every field
 * set (dimension values included), values derived from h. */
static inline Velo__V1__HourlyStationStats
t_hourly(const char *sys, const char *id, int h)
{
    Velo__V1__HourlyStationStats m = VELO__V1__HOURLY_STATION_STATS__INIT;

    m.system_id = (char *)sys;
    m.station_id = (char *)id;
    m.has_window_start_ms = m.has_window_end_ms = true;
    m.window_start_ms = T_H0 + h * T_HOUR_MS;
    m.window_end_ms = m.window_start_ms + T_HOUR_MS;
    m.local_date = (char *)"2025-12-01";
    m.timezone = (char *)"Europe/Paris";
    m.has_local_hour = m.has_local_dow = true;
    m.local_hour = (uint32_t)(h + 1) % 24;
    m.local_dow = 1;
    m.has_samples = m.has_bikes_avg = m.has_bikes_min = true;
    m.has_bikes_max = m.has_docks_avg = m.has_docks_min = true;
    m.has_docks_max = m.has_minutes_empty = m.has_minutes_full = true;
    m.has_bikes_in = m.has_bikes_out = m.has_flow_reliable = true;
    m.has_status = m.has_capacity = m.has_minutes_known = true;
    m.samples = 12;
    m.bikes_avg = 3.5 + h;
    m.bikes_min = 1;
    m.bikes_max = 9;
    m.docks_avg = 16.5 - h;
    m.docks_min = 11;
    m.docks_max = 19;
    m.minutes_empty = 5;
    m.minutes_full = 0;
    m.bikes_in = 4 + (uint32_t)h;
    m.bikes_out = 6;
    m.flow_reliable = true;
    m.status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    m.capacity = 20;
    m.minutes_known = 60;
    m.station_name = (char *)"Gare du Nord";
    m.has_lat = m.has_lon = true;
    m.lat = 48.88;
    m.lon = 2.355;
    m.system_name = (char *)"Test Bikes";
    return m;
}

/* The daily aggregate of 2025-12-01 (Europe/Paris) of station id. */
static inline Velo__V1__DailyStationStats
t_daily(const char *sys, const char *id, uint32_t flow)
{
    Velo__V1__DailyStationStats m = VELO__V1__DAILY_STATION_STATS__INIT;

    m.system_id = (char *)sys;
    m.station_id = (char *)id;
    m.has_window_start_ms = m.has_window_end_ms = true;
    m.window_start_ms = T_H0 - T_HOUR_MS; /* local midnight, UTC+1 */
    m.window_end_ms = m.window_start_ms + 24 * T_HOUR_MS;
    m.local_date = (char *)"2025-12-01";
    m.timezone = (char *)"Europe/Paris";
    m.has_samples = m.has_bikes_avg = m.has_minutes_empty = true;
    m.has_minutes_full = m.has_bikes_in = m.has_bikes_out = true;
    m.has_status = m.has_capacity = true;
    m.samples = 288;
    m.bikes_avg = 7.25;
    m.minutes_empty = 100 - flow;
    m.minutes_full = flow / 2.0;
    m.bikes_in = flow;
    m.bikes_out = flow;
    m.status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    m.capacity = 20;
    return m;
}

/* Packs msg into a new buffer (free it); *len its size. */
static inline uint8_t *
t_pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(msg);
    buf = malloc(*len ? *len : 1);
    if (buf != NULL)
        protobuf_c_message_pack(msg, buf);
    return buf;
}

/* velo-batch's key of an hourly record at hour h after T_H0. */
static inline void
t_hourly_key(char *key, size_t size, const char *sys, const char *id, int h)
{
    snprintf(key, size, "%s/%s/hourly/2025-12-01T%02d:00Z", sys, id, h);
}

/* Decodes msg under key into rec (the content-type header absent). */
static inline int
t_decode(struct wh_record *rec, const ProtobufCMessage *msg, const char *key,
         enum wh_reject *why)
{
    struct wh_raw raw = {key, strlen(key), NULL, 0, NULL, 0};
    char          detail[160];
    uint8_t      *buf = t_pack(msg, &raw.len);
    int           rv;

    raw.value = buf;
    rv = wh_record_decode(rec, &raw, why, detail, sizeof(detail));
    free(buf);
    return rv;
}

#endif
