/* jcdecaux.c: JCDecaux VLS v1 and v3 station lists -> StationSnapshot.
 *
 * Both versions are a JSON array of station objects keyed by `number`
 * (unique within a contract only; the system id names the contract). Each
 * element is mapped on its own: a bad element becomes a reject with its raw
 * JSON, the rest of the batch is kept. Only a payload that is not JSON, or
 * whose root is not an array, fails the whole batch (payload_parsers.h).
 *
 * A list of contracts (`/vls/v1/contracts`) parsed as stations is not
 * detected as such: none of its elements has a `number`, so every element
 * is rejected ("number: missing") and reaches the dead-letter topic, where
 * the mistake is plain to see. That keeps one rule for every payload. */
#include <stdio.h>
#include <string.h>

#include "payload_json.h"
#include "station_record.h"
#include "velo/clock.h"
#include "velo/json.h"

/* Room for a station number; a longer one is "number: too long". */
#define JCD_ID_SIZE 64

/* One source format. Its rec.map is jcd_map, which reads the fields every
 * version shares and then calls fields for the version's own. */
struct jcd_format {
    struct ingest_rec_format rec;
    const char              *lat_key, *lon_key; /* members of `position` */
    void (*fields)(struct ingest_rec *r, const cJSON *st);
    bool one_object_ok; /* v3 documentation shows a bare object */
};

/* "OPEN"/"CLOSED"; any other string is a status we do not know. */
static void
jcd_status(struct ingest_rec *r, const cJSON *o, const char *key)
{
    Velo__V1__StationSnapshot *s = r->snapshot;
    const char                *x;

    if (!ingest_rec_found(r, key, velo_json_str(o, key, &x), "not a string"))
        return;
    s->has_status = 1;
    if (strcmp(x, "OPEN") == 0)
        s->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    else if (strcmp(x, "CLOSED") == 0)
        s->status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    else
        s->status = VELO__V1__STATION_STATUS__STATION_STATUS_UNKNOWN;
}

/* v1 `last_update`: ms since the epoch, or null (0: not reporting). */
static void
jcd_time_ms(struct ingest_rec *r, const cJSON *o, const char *key)
{
    int64_t ms;

    if (ingest_rec_time_item(r, o, key) == NULL)
        return;
    if (velo_json_i64(o, key, &ms) != VELO_OK)
        ingest_rec_fail(r, key, "not an integer");
    else
        ingest_rec_time(r, ms);
}

/* v3 `lastUpdate`: ISO 8601 text, or null (0: not reporting). */
static void
jcd_time_iso(struct ingest_rec *r, const cJSON *o, const char *key)
{
    const cJSON *it = ingest_rec_time_item(r, o, key);
    int64_t      ms;

    if (it == NULL)
        return;
    if (!cJSON_IsString(it))
        ingest_rec_fail(r, key, "not a string");
    else if (velo_time_parse_iso(it->valuestring, &ms) != VELO_OK)
        ingest_rec_fail(r, key, "not an ISO 8601 time");
    else
        ingest_rec_time(r, ms);
}

/* v1: counts at the top level; no mechanical/electric split, so both
 * stay absent. */
static void
jcd_v1_fields(struct ingest_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->snapshot;

    ingest_rec_u32(r, st, "bike_stands", &s->has_capacity, &s->capacity);
    ingest_rec_u32(r, st, "available_bikes", &s->has_bikes_available,
                   &s->bikes_available);
    ingest_rec_u32(r, st, "available_bike_stands", &s->has_docks_available,
                   &s->docks_available);
    jcd_time_ms(r, st, "last_update");
}

/* v3 `totalStands`: capacity and the availabilities with the e-bike split
 * (mainStands/overflowStands are parts of the same total). */
static void
jcd_v3_stands(struct ingest_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->snapshot;
    const cJSON               *tot, *av;

    tot = ingest_rec_obj(r, st, "totalStands");
    if (tot == NULL)
        return;
    r->prefix = "totalStands.";
    ingest_rec_u32(r, tot, "capacity", &s->has_capacity, &s->capacity);
    av = ingest_rec_obj(r, tot, "availabilities");
    r->prefix = "totalStands.availabilities.";
    if (av != NULL) {
        ingest_rec_u32(r, av, "bikes", &s->has_bikes_available,
                       &s->bikes_available);
        ingest_rec_u32(r, av, "stands", &s->has_docks_available,
                       &s->docks_available);
        ingest_rec_u32(r, av, "mechanicalBikes", &s->has_mechanical_bikes,
                       &s->mechanical_bikes);
        ingest_rec_u32(r, av, "electricalBikes", &s->has_electric_bikes,
                       &s->electric_bikes);
    }
    r->prefix = "";
}

static void
jcd_v3_fields(struct ingest_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->snapshot;

    ingest_rec_bool(r, st, "connected", &s->has_connected, &s->connected);
    jcd_time_iso(r, st, "lastUpdate");
    jcd_v3_stands(r, st);
}

/* Maps one station; arg is its jcd_format. The fields v1 and v3 share
 * under the same names come first, then `position`, then the version's
 * own fields: this order decides which failure a reject reports. */
static void
jcd_map(struct ingest_rec *r, const cJSON *st, const void *arg)
{
    const struct jcd_format   *fmt = arg;
    Velo__V1__StationSnapshot *s = r->snapshot;
    const cJSON               *pos;

    ingest_rec_str(r, st, "name", &s->name);
    ingest_rec_str(r, st, "address", &s->address); /* Lund sends "" */
    jcd_status(r, st, "status");
    ingest_rec_bool(r, st, "banking", &s->has_banking, &s->banking);
    ingest_rec_bool(r, st, "bonus", &s->has_bonus, &s->bonus);
    pos = ingest_rec_obj(r, st, "position");
    if (pos != NULL) {
        r->prefix = "position.";
        ingest_rec_dbl(r, pos, fmt->lat_key, &s->has_lat, &s->lat);
        ingest_rec_dbl(r, pos, fmt->lon_key, &s->has_lon, &s->lon);
        r->prefix = "";
    }
    fmt->fields(r, st);
}

static int
jcd_parse(const struct jcd_format *fmt, const char *body, size_t len,
          const struct ingest_parse_ctx *ctx, struct ingest_batch *out,
          char *err, size_t err_size)
{
    const char *name = fmt->rec.name;
    cJSON      *root = NULL;
    int         rv;

    rv = ingest_payload_json_parse(body, len, &root);
    if (rv != VELO_OK) {
        snprintf(err, err_size, "%s: malformed or truncated JSON", name);
        return VELO_EPROTO;
    }
    if (cJSON_IsArray(root))
        rv = ingest_rec_stations(&fmt->rec, fmt, ctx, out, root);
    else if (cJSON_IsObject(root) && fmt->one_object_ok)
        rv = ingest_rec_station(&fmt->rec, fmt, ctx, out, root);
    else
        rv = VELO_EPROTO;
    if (rv != VELO_OK) {
        snprintf(err, err_size, "%s: %s", name,
                 rv == VELO_EPROTO    ? "root is not an array of stations"
                 : rv == VELO_ETOOBIG ? "more stations than the batch holds"
                                      : velo_strerror(rv));
        ingest_batch_fini(out); /* never a partial batch */
    }
    cJSON_Delete(root);
    return rv;
}

/* Both versions key stations by `number`, documented as an integer (some
 * contracts send strings). */
#define JCD_REC(fmt_name)                                                      \
    {                                                                          \
        .name = (fmt_name), .id_key = "number",                                \
        .id_wrong_type = "not an integer or string", .id_size = JCD_ID_SIZE,   \
        .map = jcd_map                                                         \
    }

static const struct jcd_format jcd_v1 = {JCD_REC("jcdecaux-v1"), "lat", "lng",
                                         jcd_v1_fields, false};
static const struct jcd_format jcd_v3 = {JCD_REC("jcdecaux-v3"), "latitude",
                                         "longitude", jcd_v3_fields, true};

int
ingest_jcdecaux_v1_parse(const char *body, size_t len,
                         const struct ingest_parse_ctx *ctx,
                         struct ingest_batch *out, char *err, size_t err_size)
{
    return jcd_parse(&jcd_v1, body, len, ctx, out, err, err_size);
}

int
ingest_jcdecaux_v3_parse(const char *body, size_t len,
                         const struct ingest_parse_ctx *ctx,
                         struct ingest_batch *out, char *err, size_t err_size)
{
    return jcd_parse(&jcd_v3, body, len, ctx, out, err, err_size);
}
