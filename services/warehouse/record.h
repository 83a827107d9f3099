/* record.h: one velib_aggregates record -> one warehouse row, or a
 * rejection with its reason.
 *
 * The key ("system/station/hourly|daily/window", velo-batch's
 * batch_row_key) says which message the value is; a content-type header,
 * when present, must agree. The ids in the key must be the message's, and
 * the key's window its window_start. Everything velo_db_upsert would refuse
 * is refused here, record by record, so one bad record never fails a whole
 * batch: ids (present, valid UTF-8, at most VELO_DB_ID_MAX bytes), local
 * date, hour and day of week, finite measures and position. Names are
 * repaired (invalid UTF-8 -> U+FFFD) and cut to their column on a
 * character boundary.
 *
 * Dimension values the message lacks (station_name, lat/lon, system_name,
 * timezone) are flagged absent; the loader fills them from what it knows
 * (dims.h). An hourly record without local_date/hour/dow gets the UTC
 * calendar of its hour. Pure: no Kafka, no database. */
#ifndef WAREHOUSE_RECORD_H
#define WAREHOUSE_RECORD_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "velo/db.h"
#include "velo/err.h"

/* Why a record was rejected (label of velo_warehouse_rejected_total). */
enum wh_reject {
    WH_REJECT_KEY = 0,      /* key not system/station/hourly|daily/window */
    WH_REJECT_CONTENT_TYPE, /* header names another message */
    WH_REJECT_DECODE,       /* value is not the message */
    WH_REJECT_FIELDS,       /* a field missing, out of range, or != key */
    WH_REJECT_DATABASE,     /* the database refused the row alone */
    WH_REJECT_COUNT,
};

/* A decoded record. Owns msg; the row's strings point into msg and into
 * this struct (wh_record_row builds the row). */
struct wh_record {
    struct velo_db_row row; /* strings unset: use wh_record_row */
    ProtobufCMessage  *msg;
    /* Where it came from, for a dead letter should the database refuse
     * it: set by the caller (wh_record_origin), NULL/-1 otherwise. */
    char   *key;
    size_t  keylen;
    int32_t partition;
    int64_t offset;
    bool    has_station_name, has_position;
    bool    has_system_name, has_time_zone;
    char    station_name[VELO_DB_NAME_MAX + 1];
    char    system_name[VELO_DB_NAME_MAX + 1];
    char    time_zone[VELO_DB_TZ_MAX + 1];
    char    local_date[VELO_DB_DATE_LEN + 1];
    char    status[VELO_DB_STATUS_MAX + 1];
};

/* The record as Kafka gave it; content_type NULL when absent. */
struct wh_raw {
    const void *key;
    size_t      keylen;
    const void *value;
    size_t      len;
    const char *content_type;
    size_t      content_type_len;
};

/* Decodes raw into *out (zeroed first). On VELO_EPROTO *why and detail (a
 * short reason, cut to detail_size) say what was wrong and *out holds
 * nothing to free. VELO_ENOMEM. */
VELO_MUST_CHECK int wh_record_decode(struct wh_record    *out,
                                     const struct wh_raw *raw,
                                     enum wh_reject *why, char *detail,
                                     size_t detail_size);

/* Copies the record's Kafka key and position into rec. VELO_ENOMEM. */
VELO_MUST_CHECK int wh_record_origin(struct wh_record *rec, const void *key,
                                     size_t keylen, int32_t partition,
                                     int64_t offset);

/* The row to upsert, its strings borrowed from rec. */
void wh_record_row(const struct wh_record *rec, struct velo_db_row *row);

/* Frees what decode and origin allocated; the struct may be reused. */
void wh_record_fini(struct wh_record *rec);

/* "key", "content_type", "decode", "fields", "database". */
const char *wh_reject_name(enum wh_reject why);

/* The StationStatus text the warehouse stores ("OPEN", "CLOSED",
 * "UNKNOWN") and back (unknown text: UNKNOWN). */
const char *wh_status_text(int status);
int         wh_status_value(const char *text);

#endif
