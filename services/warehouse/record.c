/* record.c: velib_aggregates records -> warehouse rows (see record.h). */
#include "record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/tz.h"
#include "velo/utf8.h"
#include "velo/v1/aggregate.pb-c.h"

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define KEY_MAX 600

static const char *const reject_names[WH_REJECT_COUNT] = {
    "key", "content_type", "decode", "fields", "database"};

const char *
wh_reject_name(enum wh_reject why)
{
    return (unsigned)why < WH_REJECT_COUNT ? reject_names[why] : "unknown";
}

const char *
wh_status_text(int status)
{
    switch (status) {
    case VELO__V1__STATION_STATUS__STATION_STATUS_OPEN:
        return "OPEN";
    case VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED:
        return "CLOSED";
    default:
        return "UNKNOWN";
    }
}

int
wh_status_value(const char *text)
{
    if (text != NULL && strcmp(text, "OPEN") == 0)
        return VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    if (text != NULL && strcmp(text, "CLOSED") == 0)
        return VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    return VELO__V1__STATION_STATUS__STATION_STATUS_UNKNOWN;
}

/* The four parts of a key, NUL-terminated in buf. */
struct key_parts {
    char        buf[KEY_MAX];
    const char *system, *station, *gran, *window;
};

static bool
key_split(struct key_parts *k, const void *key, size_t len)
{
    char *p, *parts[4];
    int   i;

    if (key == NULL || len == 0 || len >= sizeof(k->buf) ||
        memchr(key, '\0', len) != NULL)
        return false;
    memcpy(k->buf, key, len);
    k->buf[len] = '\0';
    p = k->buf;
    for (i = 0; i < 4; i++) {
        parts[i] = p;
        p = strchr(p, '/');
        if ((p == NULL) != (i == 3))
            return false;
        if (p != NULL)
            *p++ = '\0';
        if (parts[i][0] == '\0')
            return false;
    }
    k->system = parts[0];
    k->station = parts[1];
    k->gran = parts[2];
    k->window = parts[3];
    return true;
}

static int
reject(enum wh_reject *why, enum wh_reject w, char *detail, size_t size,
       const char *text)
{
    *why = w;
    velo_utf8_clip(detail, size, text, size > 0 ? size - 1 : 0);
    return VELO_EPROTO;
}

/* A present id: valid UTF-8, not too long, equal to the key's. */
static bool
id_ok(const char *id, const char *from_key)
{
    return id != NULL && id[0] != '\0' && strlen(id) <= VELO_DB_ID_MAX &&
           velo_utf8_valid(id, strlen(id)) && strcmp(id, from_key) == 0;
}

static bool
date_ok(const char *d)
{
    int i;

    if (d == NULL || strlen(d) != VELO_DB_DATE_LEN)
        return false;
    for (i = 0; i < VELO_DB_DATE_LEN; i++) {
        if (i == 4 || i == 7 ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return false;
    }
    return true;
}

/* UTC calendar of an instant: date, hour, day of week (0 = Sunday). */
static void
utc_calendar(int64_t ms, char date[VELO_DB_DATE_LEN + 1], int32_t *hour,
             int32_t *dow)
{
    int64_t days = ms >= 0 ? ms / DAY_MS : (ms - DAY_MS + 1) / DAY_MS;
    int32_t y;
    int     m, d;

    velo_tz_civil_from_days(days, &y, &m, &d);
    snprintf(date, VELO_DB_DATE_LEN + 1, "%04d-%02d-%02d", (int)y % 10000, m,
             d);
    *hour = (int32_t)((ms - days * DAY_MS) / HOUR_MS);
    *dow = (int32_t)(((days % 7) + 11) % 7); /* 1970-01-01: Thursday */
}

/* Fields 10-25 are the same in both messages (aggregate.proto). */
#define COPY_MEASURES(r, m)                                                    \
    do {                                                                       \
        (r)->samples = (m)->samples;                                           \
        (r)->bikes_avg = (m)->bikes_avg;                                       \
        (r)->bikes_min = (m)->bikes_min;                                       \
        (r)->bikes_max = (m)->bikes_max;                                       \
        (r)->docks_avg = (m)->docks_avg;                                       \
        (r)->docks_min = (m)->docks_min;                                       \
        (r)->docks_max = (m)->docks_max;                                       \
        (r)->minutes_empty = (m)->minutes_empty;                               \
        (r)->minutes_full = (m)->minutes_full;                                 \
        (r)->bikes_in = (m)->bikes_in;                                         \
        (r)->bikes_out = (m)->bikes_out;                                       \
        (r)->flow_reliable = (m)->has_flow_reliable && (m)->flow_reliable;     \
        (r)->capacity = (int32_t)(m)->capacity;                                \
        (r)->station_capacity = (int32_t)(m)->capacity;                        \
        (r)->has_electric_avg = (m)->has_electric_avg;                         \
        (r)->electric_avg = (m)->electric_avg;                                 \
    } while (0)

/* Dimension values common to both messages, into rec. */
#define COPY_DIMS(rec, m)                                                      \
    do {                                                                       \
        (rec)->has_station_name = (m)->station_name != NULL;                   \
        if ((m)->station_name != NULL)                                         \
            velo_utf8_clip((rec)->station_name, sizeof((rec)->station_name),   \
                           (m)->station_name, VELO_DB_NAME_MAX);               \
        (rec)->has_position = (m)->has_lat && (m)->has_lon &&                  \
                              isfinite((m)->lat) && isfinite((m)->lon);        \
        (rec)->row.lat = (rec)->has_position ? (m)->lat : 0;                   \
        (rec)->row.lon = (rec)->has_position ? (m)->lon : 0;                   \
        (rec)->has_system_name = (m)->system_name != NULL;                     \
        if ((m)->system_name != NULL)                                          \
            velo_utf8_clip((rec)->system_name, sizeof((rec)->system_name),     \
                           (m)->system_name, VELO_DB_NAME_MAX);                \
        snprintf((rec)->status, sizeof((rec)->status), "%s",                   \
                 wh_status_text((m)->status));                                 \
    } while (0)

static bool
measures_finite(const struct velo_db_row *r)
{
    return isfinite(r->bikes_avg) && isfinite(r->docks_avg) &&
           isfinite(r->minutes_empty) && isfinite(r->minutes_full) &&
           (!r->has_electric_avg || isfinite(r->electric_avg));
}

/* The time zone, when sent, must fit its column (else it is dropped: the
 * loader falls back to what it knew). */
static void
tz_take(struct wh_record *rec, const char *tz)
{
    rec->has_time_zone = tz != NULL && tz[0] != '\0' &&
                         strlen(tz) <= VELO_DB_TZ_MAX &&
                         velo_utf8_valid(tz, strlen(tz));
    if (rec->has_time_zone)
        snprintf(rec->time_zone, sizeof(rec->time_zone), "%s", tz);
}

static const char *
hourly_fill(struct wh_record *rec, const Velo__V1__HourlyStationStats *m,
            const struct key_parts *k)
{
    char    date[VELO_DB_DATE_LEN + 1], kwin[32];
    int32_t hour, dow;

    if (!m->has_window_start_ms || m->window_start_ms < 0 ||
        m->window_start_ms % HOUR_MS != 0)
        return "window_start_ms missing or not an hour";
    utc_calendar(m->window_start_ms, date, &hour, &dow);
    snprintf(kwin, sizeof(kwin), "%sT%02d:00Z", date, (int)hour);
    if (strcmp(kwin, k->window) != 0)
        return "window_start_ms differs from the key";
    rec->row.gran = VELO_DB_HOUR;
    if (m->local_date != NULL || m->has_local_hour || m->has_local_dow) {
        if (!date_ok(m->local_date) || !m->has_local_hour ||
            m->local_hour > 23 || !m->has_local_dow || m->local_dow > 6)
            return "local_date, local_hour or local_dow invalid";
        snprintf(date, sizeof(date), "%s", m->local_date);
        hour = (int32_t)m->local_hour;
        dow = (int32_t)m->local_dow;
    }
    memcpy(rec->local_date, date, sizeof(date));
    rec->row.local_hour = hour;
    rec->row.local_dow = dow;
    tz_take(rec, m->timezone);
    COPY_MEASURES(&rec->row, m);
    COPY_DIMS(rec, m);
    return NULL;
}

static const char *
daily_fill(struct wh_record *rec, const Velo__V1__DailyStationStats *m,
           const struct key_parts *k)
{
    if (!m->has_window_start_ms)
        return "window_start_ms missing";
    if (!date_ok(m->local_date))
        return "local_date missing or not YYYY-MM-DD";
    if (strcmp(m->local_date, k->window) != 0)
        return "local_date differs from the key";
    rec->row.gran = VELO_DB_DAY;
    snprintf(rec->local_date, sizeof(rec->local_date), "%s", m->local_date);
    tz_take(rec, m->timezone);
    COPY_MEASURES(&rec->row, m);
    COPY_DIMS(rec, m);
    return NULL;
}

/* The message the key names; NULL for an unknown granularity. */
static const ProtobufCMessageDescriptor *
gran_desc(const char *gran)
{
    if (strcmp(gran, "hourly") == 0)
        return &velo__v1__hourly_station_stats__descriptor;
    if (strcmp(gran, "daily") == 0)
        return &velo__v1__daily_station_stats__descriptor;
    return NULL;
}

/* "application/x-protobuf; message=velo.v1.HourlyStationStats". */
static bool
content_type_ok(const struct wh_raw *raw, const ProtobufCMessageDescriptor *d)
{
    char want[128];
    int  n;

    if (raw->content_type == NULL)
        return true; /* the key decides */
    n = snprintf(want, sizeof(want), "application/x-protobuf; message=%s",
                 d->name);
    return (size_t)n == raw->content_type_len &&
           memcmp(raw->content_type, want, (size_t)n) == 0;
}

/* Ids, window and fields of the unpacked message. */
static const char *
fields_check(struct wh_record *rec, const struct key_parts *k)
{
    const char *sys, *sta, *p;

    /* Both messages start with system_id, station_id (fields 1 and 2). */
    if (rec->msg->descriptor == &velo__v1__hourly_station_stats__descriptor) {
        const Velo__V1__HourlyStationStats *h = (const void *)rec->msg;

        sys = h->system_id;
        sta = h->station_id;
    } else {
        const Velo__V1__DailyStationStats *d = (const void *)rec->msg;

        sys = d->system_id;
        sta = d->station_id;
    }
    if (!id_ok(sys, k->system))
        return "system_id missing, too long, not UTF-8 or not the key's";
    if (!id_ok(sta, k->station))
        return "station_id missing, too long, not UTF-8 or not the key's";
    rec->row.system_id = sys;
    rec->row.station_id = sta;
    if (rec->msg->descriptor == &velo__v1__hourly_station_stats__descriptor)
        p = hourly_fill(rec, (const void *)rec->msg, k);
    else
        p = daily_fill(rec, (const void *)rec->msg, k);
    if (p == NULL && !measures_finite(&rec->row))
        p = "a measure is not finite";
    return p;
}

int
wh_record_decode(struct wh_record *out, const struct wh_raw *raw,
                 enum wh_reject *why, char *detail, size_t detail_size)
{
    const ProtobufCMessageDescriptor *d;
    struct key_parts                  k;
    const char                       *p;

    memset(out, 0, sizeof(*out));
    if (!key_split(&k, raw->key, raw->keylen) ||
        (d = gran_desc(k.gran)) == NULL)
        return reject(why, WH_REJECT_KEY, detail, detail_size,
                      "key is not system/station/hourly|daily/window");
    if (!content_type_ok(raw, d))
        return reject(why, WH_REJECT_CONTENT_TYPE, detail, detail_size,
                      "content-type does not name the key's message");
    out->msg = protobuf_c_message_unpack(d, NULL, raw->len, raw->value);
    if (out->msg == NULL)
        return reject(why, WH_REJECT_DECODE, detail, detail_size, d->name);
    p = fields_check(out, &k);
    if (p != NULL) {
        wh_record_fini(out);
        return reject(why, WH_REJECT_FIELDS, detail, detail_size, p);
    }
    out->row.window_start_ms =
        out->row.gran == VELO_DB_HOUR
            ? ((const Velo__V1__HourlyStationStats *)(void *)out->msg)
                  ->window_start_ms
            : ((const Velo__V1__DailyStationStats *)(void *)out->msg)
                  ->window_start_ms;
    return VELO_OK;
}

void
wh_record_row(const struct wh_record *rec, struct velo_db_row *row)
{
    *row = rec->row;
    row->local_date = rec->local_date;
    row->status = rec->status;
    row->station_name = rec->station_name;
    row->system_name = rec->system_name;
    row->time_zone = rec->time_zone;
}

int
wh_record_origin(struct wh_record *rec, const void *key, size_t keylen,
                 int32_t partition, int64_t offset)
{
    rec->key = malloc(keylen + 1);
    if (rec->key == NULL)
        return VELO_ENOMEM;
    if (keylen > 0)
        memcpy(rec->key, key, keylen);
    rec->key[keylen] = '\0';
    rec->keylen = keylen;
    rec->partition = partition;
    rec->offset = offset;
    return VELO_OK;
}

void
wh_record_fini(struct wh_record *rec)
{
    if (rec->msg != NULL)
        protobuf_c_message_free_unpacked(rec->msg, NULL);
    free(rec->key);
    memset(rec, 0, sizeof(*rec));
}
