/* record_decode.h: the decision on one velib_data record: a StationSnapshot to
 * apply, or a dead letter with its reason. Pure: no Kafka, no state
 * (record_decode_test.c feeds it garbage). */
#ifndef STREAM_RECORD_DECODE_H
#define STREAM_RECORD_DECODE_H

#include <stddef.h>

#include "velo/err.h"
#include "velo/v1/station.pb-c.h"

/* Why a record goes to the DLQ; each is a label value of
 * velo_stream_dead_letters_total{reason}. */
enum stream_dead {
    STREAM_DEAD_TOO_BIG,      /* over --max-record-bytes */
    STREAM_DEAD_CONTENT_TYPE, /* says it is something else */
    STREAM_DEAD_UNDECODABLE,  /* not a StationSnapshot */
    STREAM_DEAD_MISSING_ID,   /* no system_id or station_id */
    STREAM_DEAD_BAD_ID,       /* system_id with '/', or a key too long */
    STREAM_DEAD_KEY_MISMATCH, /* Kafka key != system_id/station_id */
    STREAM_DEAD_COUNT,
};

/* One record as consumed; everything borrowed. */
struct stream_record {
    const void *key;
    size_t      keylen;
    const void *value;
    size_t      len;
    const void *content_type; /* the header's value; NULL when absent */
    size_t      content_type_len;
};

/* Decodes r. VELO_OK: *out is the snapshot (the caller owns it and frees
 * it with velo__v1__station_snapshot__free_unpacked). VELO_EPROTO: *why
 * is the reason and detail holds a short text for the velo-error header
 * (peer strings cut short). Nothing larger than max_bytes is decoded.
 * VELO_ENOMEM is not distinguished from a bad record: protobuf-c reports
 * both as NULL. */
VELO_MUST_CHECK int stream_record_decode(Velo__V1__StationSnapshot **out,
                                         const struct stream_record *r,
                                         size_t                      max_bytes,
                                         enum stream_dead *why, char *detail,
                                         size_t detail_size);

/* "too-big", "content-type", "undecodable", "missing-id", "bad-id",
 * "key-mismatch". */
const char *stream_dead_name(enum stream_dead why);

#endif
