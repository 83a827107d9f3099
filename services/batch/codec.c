/* codec.c: protobuf-c both ways; the stats fields are the same in both
 * messages, so one macro fills either. */
#include "codec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "velo/db.h"
#include "velo/tz.h"
#include "velo/utf8.h"
#include "velo/v1/aggregate.pb-c.h"
#include "velo/v1/station.pb-c.h"

static int
copy_id(char *dst, const char *src)
{
    size_t n;

    if (src == NULL || (n = strlen(src)) == 0 || n >= BATCH_ID_MAX ||
        strchr(src, '/') != NULL)
        return VELO_EPROTO;
    memcpy(dst, src, n + 1);
    return VELO_OK;
}

static int
rec_fill(const Velo__V1__StationSnapshot *m, struct batch_rec *out,
         const char **why)
{
    if (copy_id(out->system_id, m->system_id) != VELO_OK ||
        copy_id(out->station_id, m->station_id) != VELO_OK) {
        *why = "bad id";
        return VELO_EPROTO;
    }
    if (!m->has_fetched_at_ms || m->fetched_at_ms <= 0) {
        *why = "no fetched_at_ms";
        return VELO_EPROTO;
    }
    if (!m->has_bikes_available || !m->has_docks_available) {
        *why = "no bikes or docks";
        return VELO_EPROTO;
    }
    memset(&out->dims, 0, sizeof(out->dims));
    if (m->name != NULL) {
        velo_utf8_clip(out->dims.name, sizeof(out->dims.name), m->name,
                       BATCH_NAME_MAX - 1);
        out->dims.has_name = true;
    }
    if (m->has_lat && m->has_lon && isfinite(m->lat) && isfinite(m->lon)) {
        out->dims.lat = m->lat, out->dims.lon = m->lon;
        out->dims.has_pos = true;
    }
    out->s = (struct batch_sample){
        .t_ms = m->fetched_at_ms,
        .bikes = m->bikes_available,
        .docks = m->docks_available,
        .capacity = m->has_capacity ? m->capacity : 0,
        .electric = m->has_electric_bikes ? m->electric_bikes : 0,
        .has_electric = m->has_electric_bikes != 0,
        .status = m->has_status && m->status >= 0 && m->status < BATCH_NSTATUS
                      ? (uint8_t)m->status
                      : 0};
    return VELO_OK;
}

int
batch_rec_decode(const void *buf, size_t len, struct batch_rec *out,
                 const char **why)
{
    Velo__V1__StationSnapshot *m;
    int                        rv;

    m = velo__v1__station_snapshot__unpack(NULL, len, buf);
    if (m == NULL) {
        *why = "undecodable";
        return VELO_EPROTO;
    }
    rv = rec_fill(m, out, why);
    velo__v1__station_snapshot__free_unpacked(m, NULL);
    return rv;
}

int
batch_row_key(const struct batch_row *row, struct velo_buf *key)
{
    int32_t y;
    int     mo, d;
    int64_t h = row->start_ms / 3600000;

    if (row->gran == BATCH_DAILY)
        return velo_buf_printf(key, "%s/%s/daily/%s", row->system_id,
                               row->station_id, row->local_date);
    velo_tz_civil_from_days(h / 24 - (h % 24 < 0), &y, &mo, &d);
    return velo_buf_printf(key, "%s/%s/hourly/%04d-%02d-%02dT%02d:00Z",
                           row->system_id, row->station_id, (int)y, mo, d,
                           (int)(((h % 24) + 24) % 24));
}

/* The fields 10-25 both messages share. */
#define FILL_STATS(m, s)                                                       \
    do {                                                                       \
        (m).has_samples = 1, (m).samples = (s)->samples;                       \
        (m).has_bikes_avg = 1, (m).bikes_avg = (s)->bikes_avg;                 \
        (m).has_bikes_min = 1, (m).bikes_min = (s)->bikes_min;                 \
        (m).has_bikes_max = 1, (m).bikes_max = (s)->bikes_max;                 \
        (m).has_docks_avg = 1, (m).docks_avg = (s)->docks_avg;                 \
        (m).has_docks_min = 1, (m).docks_min = (s)->docks_min;                 \
        (m).has_docks_max = 1, (m).docks_max = (s)->docks_max;                 \
        (m).has_minutes_empty = 1;                                             \
        (m).minutes_empty = (double)(s)->empty_ms / 60000.0;                   \
        (m).has_minutes_full = 1;                                              \
        (m).minutes_full = (double)(s)->full_ms / 60000.0;                     \
        (m).has_bikes_in = 1, (m).bikes_in = (s)->bikes_in;                    \
        (m).has_bikes_out = 1, (m).bikes_out = (s)->bikes_out;                 \
        (m).has_flow_reliable = 1, (m).flow_reliable = (s)->flow_reliable;     \
        (m).has_status = 1;                                                    \
        (m).status = (Velo__V1__StationStatus)(s)->status;                     \
        (m).has_capacity = 1, (m).capacity = (s)->capacity;                    \
        (m).has_electric_avg = (s)->has_electric;                              \
        (m).electric_avg = (s)->electric_avg;                                  \
        (m).has_minutes_known = 1;                                             \
        (m).minutes_known = (double)(s)->known_ms / 60000.0;                   \
    } while (0)

/* The dimension fields 30-32 both messages share (absent when unknown:
 * the loader then keeps what it knew). */
#define FILL_DIMS(m, d)                                                        \
    do {                                                                       \
        if ((d) != NULL && (d)->has_name)                                      \
            (m).station_name = (char *)(d)->name;                              \
        if ((d) != NULL && (d)->has_pos) {                                     \
            (m).has_lat = 1, (m).lat = (d)->lat;                               \
            (m).has_lon = 1, (m).lon = (d)->lon;                               \
        }                                                                      \
    } while (0)

/* Names fit the warehouse's columns as they are. */
_Static_assert(BATCH_NAME_MAX - 1 == VELO_DB_NAME_MAX, "name bound");

/* The system name (field 33), cut on a character boundary into buf (at
 * least BATCH_NAME_MAX bytes); NULL when the row has none. */
static char *
system_name(const struct batch_row *row, char *buf)
{
    if (row->system_name == NULL)
        return NULL;
    velo_utf8_clip(buf, BATCH_NAME_MAX, row->system_name, BATCH_NAME_MAX - 1);
    return buf;
}

static int
pack(const ProtobufCMessage *m, struct velo_buf *val)
{
    size_t  n = protobuf_c_message_get_packed_size(m);
    uint8_t tmp[2048];

    /* Both messages are well under 2 KiB: ids are bounded by
     * BATCH_ID_MAX, both names by BATCH_NAME_MAX, the zone by the zone
     * database, every other field is a number. */
    if (n > sizeof(tmp))
        return VELO_ETOOBIG;
    protobuf_c_message_pack(m, tmp);
    return velo_buf_append(val, tmp, n);
}

int
batch_row_encode(const struct batch_row *row, struct velo_buf *val,
                 const char **content_type)
{
    char sys_name[BATCH_NAME_MAX];
    int  rv;

    if (row->gran == BATCH_HOURLY) {
        Velo__V1__HourlyStationStats m = VELO__V1__HOURLY_STATION_STATS__INIT;

        m.system_id = (char *)row->system_id;
        m.station_id = (char *)row->station_id;
        m.has_window_start_ms = 1, m.window_start_ms = row->start_ms;
        m.has_window_end_ms = 1, m.window_end_ms = row->end_ms;
        if (row->timezone != NULL && row->local_date != NULL) {
            m.local_date = (char *)row->local_date;
            m.timezone = (char *)row->timezone;
            m.has_local_hour = 1, m.local_hour = (uint32_t)row->local_hour;
            m.has_local_dow = 1, m.local_dow = (uint32_t)row->local_dow;
        }
        FILL_STATS(m, row->stats);
        FILL_DIMS(m, row->dims);
        m.system_name = system_name(row, sys_name);
        rv = pack(&m.base, val);
        if (rv == VELO_OK)
            *content_type = BATCH_HOURLY_CONTENT_TYPE;
    } else {
        Velo__V1__DailyStationStats m = VELO__V1__DAILY_STATION_STATS__INIT;

        m.system_id = (char *)row->system_id;
        m.station_id = (char *)row->station_id;
        m.has_window_start_ms = 1, m.window_start_ms = row->start_ms;
        m.has_window_end_ms = 1, m.window_end_ms = row->end_ms;
        m.local_date = (char *)row->local_date;
        m.timezone = (char *)row->timezone;
        FILL_STATS(m, row->stats);
        FILL_DIMS(m, row->dims);
        m.system_name = system_name(row, sys_name);
        rv = pack(&m.base, val);
        if (rv == VELO_OK)
            *content_type = BATCH_DAILY_CONTENT_TYPE;
    }
    return rv;
}
