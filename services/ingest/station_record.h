/* station_record.h: mapping one station record (a JSON object of a source
 * payload) into a StationSnapshot of a batch. Private to velo-ingest's parsers
 * (jcdecaux.c, gbfs_status.c); payload_parsers.h is the public contract.
 *
 * A parser describes its format in a struct ingest_rec_format and calls
 * ingest_rec_stations (or ingest_rec_station for one bare object). That
 * reads the record id, adds an item, lets the format's map function read
 * the fields with the ingest_rec_* readers below, and validates the item.
 * The readers follow payload_parsers.h: a field that is absent or null stays
 * absent; one of the wrong type, or out of range, fails the record. The first
 * failure is kept in why and turns the whole record into a reject; later
 * fields are still read (harmless), so a map function needs no early exits.
 *
 * Thread: whichever thread owns the batch. No state outside the batch. */
#ifndef INGEST_STATION_RECORD_H
#define INGEST_STATION_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "payload_parsers.h"

/* Room for a reason, as struct ingest_reject holds it. */
#define INGEST_REC_WHY 160
/* The largest id buffer a format may ask for (id_size). */
#define INGEST_REC_ID_MAX 128

/* One record being mapped. Set up by ingest_rec_station; a map function
 * reads it and may change prefix while it reads a nested object. */
struct ingest_rec {
    struct ingest_batch       *batch;    /* where the item and strings live */
    Velo__V1__StationSnapshot *snapshot; /* the item being filled */
    const char                *prefix;   /* "position." while nested, else "" */
    int64_t fetched_at_ms;               /* for the time rule; <= 0: unknown */
    char    why[INGEST_REC_WHY];         /* first failure, "" while none */
};

/* How one source format reads its records. Plain data, borrowed by the
 * calls below. */
struct ingest_rec_format {
    const char *name;          /* source_format: "jcdecaux-v1", "gbfs-2.3" */
    const char *id_key;        /* the id member: "number", "station_id" */
    const char *id_wrong_type; /* why for an id of another type */
    size_t      id_size;       /* room for the id and its NUL (<= ..._ID_MAX); a
                                  longer id is "<id_key>: too long" */
    /* Reads the fields of el (an object) into r->snapshot. arg is the one
     * given to ingest_rec_station(s). */
    void (*map)(struct ingest_rec *r, const cJSON *el, const void *arg);
};

/* Maps el into b, as an item or as a reject. The item gets its station_id
 * from el, system_id and fetched_at_ms from ctx, and source_format
 * fmt->name; fmt->map reads the rest. A reject holds el as compact JSON,
 * the id ("" when the id itself is unusable) and the first failure, or
 * the one ingest_snapshot_validate reports. Errors: VELO_ETOOBIG (b is
 * full), VELO_ENOMEM; b may then hold the earlier records (the caller
 * discards it: never a partial batch). */
VELO_MUST_CHECK int ingest_rec_station(const struct ingest_rec_format *fmt,
                                       const void                     *arg,
                                       const struct ingest_parse_ctx  *ctx,
                                       struct ingest_batch *b, const cJSON *el);

/* ingest_rec_station for each element of the array list, in order; stops
 * at the first error and returns it. */
VELO_MUST_CHECK int ingest_rec_stations(const struct ingest_rec_format *fmt,
                                        const void                     *arg,
                                        const struct ingest_parse_ctx  *ctx,
                                        struct ingest_batch            *b,
                                        const cJSON                    *list);

/* Fails the record with "<prefix><key>: <what>" unless it already failed:
 * the first failure wins. */
void ingest_rec_fail(struct ingest_rec *r, const char *key, const char *what);

/* Takes the result rv of a velo_json_* getter on key: true for VELO_OK (a
 * value to store); false for VELO_ENOTFOUND (absent or null: nothing to
 * store); false and the record fails with what for anything else. */
bool ingest_rec_found(struct ingest_rec *r, const char *key, int rv,
                      const char *what);

/* A count: an integer in [0, UINT32_MAX] is stored in *v with *has set;
 * anything else but absent/null fails with "not an integer", "negative"
 * or "too large". */
void ingest_rec_u32(struct ingest_rec *r, const cJSON *o, const char *key,
                    protobuf_c_boolean *has, uint32_t *v);

/* true/false or 0/1 (velo_json_bool); else "not a boolean". */
void ingest_rec_bool(struct ingest_rec *r, const cJSON *o, const char *key,
                     protobuf_c_boolean *has, protobuf_c_boolean *v);

/* A finite number; else "not a number". */
void ingest_rec_dbl(struct ingest_rec *r, const cJSON *o, const char *key,
                    protobuf_c_boolean *has, double *v);

/* A string, copied into r->batch ("" stays ""); else "not a string". Text
 * is repaired as ingest_rec_text does. */
void ingest_rec_str(struct ingest_rec *r, const cJSON *o, const char *key,
                    char **dst);

/* Copies display text (a name, an address; NULL: nothing) into r->batch
 * at *dst. Invalid UTF-8 becomes U+FFFD (velo_utf8_repair), and so does a
 * NUL the source sent (U+FFFF, payload_json.h); each repaired string counts
 * in r->batch->repaired. Ids are never repaired: they are rejected. */
void ingest_rec_text(struct ingest_rec *r, const char *text, char **dst);

/* The nested object o.<key>, borrowed from o; NULL when absent, null or
 * not an object (that last one fails with "not an object"). */
const cJSON *ingest_rec_obj(struct ingest_rec *r, const cJSON *o,
                            const char *key);

/* The event-time rule. Source clocks are sometimes wrong by decades, and
 * feeds send huge negative values: an event time is plausible when it is
 * not before 2000-01-01 and below 9e15 ms (year 287000, which also keeps
 * it exact in a double and within int64) and, when the fetch time is known
 * (> 0), at most one day after it. NaN is not plausible. */
bool ingest_rec_time_plausible(int64_t fetched_at_ms, double ms);

/* Stores the event time ms in r->snapshot->last_reported_ms (has_ set),
 * or 0 when it is not plausible: exactly like a null, "not sent", so
 * consumers fall back to fetched_at_ms. */
void ingest_rec_time(struct ingest_rec *r, int64_t ms);

/* The event-time member o.<key> to read, or NULL when there is none:
 * absent (nothing stored) or null (stored as 0: not reporting). */
const cJSON *ingest_rec_time_item(struct ingest_rec *r, const cJSON *o,
                                  const char *key);

#endif
