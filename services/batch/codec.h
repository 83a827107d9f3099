/* codec.h: velib_data records in, velib_aggregates records out. */
#ifndef BATCH_CODEC_H
#define BATCH_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "velo/buf.h"
#include "velo/err.h"

#define BATCH_ID_MAX 256 /* bytes of a system or station id, NUL included */

#define BATCH_HOURLY_CONTENT_TYPE                                              \
    "application/x-protobuf; message=velo.v1.HourlyStationStats"
#define BATCH_DAILY_CONTENT_TYPE                                               \
    "application/x-protobuf; message=velo.v1.DailyStationStats"

/* One decoded station record. */
struct batch_rec {
    char                system_id[BATCH_ID_MAX];
    char                station_id[BATCH_ID_MAX];
    struct batch_sample s;
    struct batch_dims   dims; /* name (cut, repaired) and position */
};

/* Decodes a StationSnapshot into *out. VELO_EPROTO (with a short reason in
 * *why, static storage) when it does not decode, lacks an id, an id is
 * longer than BATCH_ID_MAX - 1 or holds '/', or lacks fetched_at_ms (> 0),
 * bikes_available or docks_available. */
VELO_MUST_CHECK int batch_rec_decode(const void *buf, size_t len,
                                     struct batch_rec *out, const char **why);

/* The key of row: "system/station/hourly/2026-03-29T10:00Z" or
 * "system/station/daily/2026-03-29", appended to key. */
VELO_MUST_CHECK int batch_row_key(const struct batch_row *row,
                                  struct velo_buf        *key);

/* The HourlyStationStats or DailyStationStats of row, packed into val;
 * *content_type is the header value to send with it. VELO_ETOOBIG over
 * val's maximum, VELO_ENOMEM. */
VELO_MUST_CHECK int batch_row_encode(const struct batch_row *row,
                                     struct velo_buf        *val,
                                     const char            **content_type);

#endif
