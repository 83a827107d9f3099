/* jcdecaux.c: JCDecaux VLS v1 and v3 station lists -> StationSnapshot.
 *
 * Both versions are a JSON array of station objects keyed by `number`
 * (unique within a contract only; the system id names the contract). Each
 * element is mapped on its own: a bad element becomes a reject with its raw
 * JSON, the rest of the batch is kept. Only a payload that is not JSON, or
 * whose root is not an array, fails the whole batch (parse.h).
 *
 * A list of contracts (`/vls/v1/contracts`) parsed as stations is not
 * detected as such: none of its elements has a `number`, so every element
 * is rejected ("number: missing") and reaches the dead-letter topic, where
 * the mistake is plain to see. That keeps one rule for every payload. */
#include "parse.h"

#include <stdio.h>
#include <string.h>

#include "velo/clock.h"
#include "velo/json.h"

#define JCD_REASON 160

/* Source clocks are sometimes wrong by decades. An event time before
 * 2000-01-01 or more than a day after the fetch is kept as 0, exactly
 * like a null: "not sent", so consumers fall back to fetched_at_ms. The
 * future bound applies only when the fetch time is known. */
#define JCD_EPOCH_2000_MS 946684800000LL
#define JCD_DAY_MS 86400000LL

/* One station element being mapped. The first problem found is kept in
 * why and rejects the element; later fields are still read (harmless). */
struct jcd_rec {
    struct ingest_batch       *b;
    Velo__V1__StationSnapshot *s;
    const char                *prefix; /* "position." while nested */
    int64_t                    fetched_at_ms;
    char                       why[JCD_REASON];
};

/* One source format: its name and how an element maps to a snapshot. */
struct jcd_format {
    const char *name;
    void (*map)(struct jcd_rec *r, const cJSON *st);
    bool one_object_ok; /* v3 documentation shows a bare object */
};

static void
rec_fail(struct jcd_rec *r, const char *key, const char *what)
{
    if (r->why[0] == '\0')
        snprintf(r->why, sizeof(r->why), "%s%s: %s", r->prefix, key, what);
}

/* A count: absent/null stays absent, anything but a non-negative integer
 * that fits uint32 rejects the station. */
static void
rec_u32(struct jcd_rec *r, const cJSON *o, const char *key,
        protobuf_c_boolean *has, uint32_t *v)
{
    int64_t x;
    int     rv;

    rv = velo_json_i64(o, key, &x);
    if (rv == VELO_ENOTFOUND)
        return;
    if (rv != VELO_OK)
        rec_fail(r, key, "not an integer");
    else if (x < 0)
        rec_fail(r, key, "negative");
    else if (x > (int64_t)UINT32_MAX)
        rec_fail(r, key, "too large");
    else {
        *v = (uint32_t)x;
        *has = 1;
    }
}

static void
rec_bool(struct jcd_rec *r, const cJSON *o, const char *key,
         protobuf_c_boolean *has, protobuf_c_boolean *v)
{
    bool x;
    int  rv;

    rv = velo_json_bool(o, key, &x);
    if (rv == VELO_OK) {
        *v = x;
        *has = 1;
    } else if (rv != VELO_ENOTFOUND) {
        rec_fail(r, key, "not a boolean");
    }
}

static void
rec_dbl(struct jcd_rec *r, const cJSON *o, const char *key,
        protobuf_c_boolean *has, double *v)
{
    double x;
    int    rv;

    rv = velo_json_dbl(o, key, &x);
    if (rv == VELO_OK) {
        *v = x;
        *has = 1;
    } else if (rv != VELO_ENOTFOUND) {
        rec_fail(r, key, "not a number");
    }
}

/* A string, copied into the batch. "" stays "" (Lund has no addresses). */
static void
rec_str(struct jcd_rec *r, const cJSON *o, const char *key, char **dst)
{
    const char *x;
    int         rv;

    rv = velo_json_str(o, key, &x);
    if (rv == VELO_OK)
        *dst = ingest_batch_strdup(r->b, x);
    else if (rv != VELO_ENOTFOUND)
        rec_fail(r, key, "not a string");
}

/* A nested object, or NULL when absent, null or of the wrong type (the
 * last also rejects the station). */
static const cJSON *
rec_obj(struct jcd_rec *r, const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

    if (it == NULL || cJSON_IsNull(it))
        return NULL;
    if (!cJSON_IsObject(it)) {
        rec_fail(r, key, "not an object");
        return NULL;
    }
    return it;
}

/* "OPEN"/"CLOSED"; any other string is a status we do not know. */
static void
rec_status(struct jcd_rec *r, const cJSON *o, const char *key)
{
    const char *x;
    int         rv;

    rv = velo_json_str(o, key, &x);
    if (rv == VELO_ENOTFOUND)
        return;
    if (rv != VELO_OK) {
        rec_fail(r, key, "not a string");
        return;
    }
    r->s->has_status = 1;
    if (strcmp(x, "OPEN") == 0)
        r->s->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    else if (strcmp(x, "CLOSED") == 0)
        r->s->status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    else
        r->s->status = VELO__V1__STATION_STATUS__STATION_STATUS_UNKNOWN;
}

/* Stores an event time, or 0 when it is implausible (see JCD_EPOCH_2000). */
static void
rec_set_time(struct jcd_rec *r, int64_t ms)
{
    if (ms < JCD_EPOCH_2000_MS ||
        (r->fetched_at_ms > 0 && ms - JCD_DAY_MS > r->fetched_at_ms))
        ms = 0;
    r->s->last_reported_ms = ms;
    r->s->has_last_reported_ms = 1;
}

/* v1 `last_update`: ms since the epoch, or null (0: not reporting). */
static void
rec_time_ms(struct jcd_rec *r, const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    int64_t      ms;

    if (it == NULL)
        return;
    if (cJSON_IsNull(it))
        rec_set_time(r, 0);
    else if (velo_json_i64(o, key, &ms) != VELO_OK)
        rec_fail(r, key, "not an integer");
    else
        rec_set_time(r, ms);
}

/* v3 `lastUpdate`: ISO 8601 text, or null (0: not reporting). */
static void
rec_time_iso(struct jcd_rec *r, const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    int64_t      ms;

    if (it == NULL)
        return;
    if (cJSON_IsNull(it))
        rec_set_time(r, 0);
    else if (!cJSON_IsString(it))
        rec_fail(r, key, "not a string");
    else if (velo_time_parse_iso(it->valuestring, &ms) != VELO_OK)
        rec_fail(r, key, "not an ISO 8601 time");
    else
        rec_set_time(r, ms);
}

/* The fields v1 and v3 share under the same names. */
static void
jcd_map_common(struct jcd_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->s;

    rec_str(r, st, "name", &s->name);
    rec_str(r, st, "address", &s->address);
    rec_status(r, st, "status");
    rec_bool(r, st, "banking", &s->has_banking, &s->banking);
    rec_bool(r, st, "bonus", &s->has_bonus, &s->bonus);
}

/* v1 has no mechanical/electric split: both stay absent. */
static void
jcd_v1_map(struct jcd_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->s;
    const cJSON               *pos;

    jcd_map_common(r, st);
    pos = rec_obj(r, st, "position");
    if (pos != NULL) {
        r->prefix = "position.";
        rec_dbl(r, pos, "lat", &s->has_lat, &s->lat);
        rec_dbl(r, pos, "lng", &s->has_lon, &s->lon);
        r->prefix = "";
    }
    rec_u32(r, st, "bike_stands", &s->has_capacity, &s->capacity);
    rec_u32(r, st, "available_bikes", &s->has_bikes_available,
            &s->bikes_available);
    rec_u32(r, st, "available_bike_stands", &s->has_docks_available,
            &s->docks_available);
    rec_time_ms(r, st, "last_update");
}

/* v3 `totalStands`: capacity and the availabilities with the e-bike split
 * (mainStands/overflowStands are parts of the same total). */
static void
jcd_v3_stands(struct jcd_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->s;
    const cJSON               *tot, *av;

    tot = rec_obj(r, st, "totalStands");
    if (tot == NULL)
        return;
    r->prefix = "totalStands.";
    rec_u32(r, tot, "capacity", &s->has_capacity, &s->capacity);
    av = rec_obj(r, tot, "availabilities");
    r->prefix = "totalStands.availabilities.";
    if (av != NULL) {
        rec_u32(r, av, "bikes", &s->has_bikes_available, &s->bikes_available);
        rec_u32(r, av, "stands", &s->has_docks_available, &s->docks_available);
        rec_u32(r, av, "mechanicalBikes", &s->has_mechanical_bikes,
                &s->mechanical_bikes);
        rec_u32(r, av, "electricalBikes", &s->has_electric_bikes,
                &s->electric_bikes);
    }
    r->prefix = "";
}

static void
jcd_v3_map(struct jcd_rec *r, const cJSON *st)
{
    Velo__V1__StationSnapshot *s = r->s;
    const cJSON               *pos;

    jcd_map_common(r, st);
    pos = rec_obj(r, st, "position");
    if (pos != NULL) {
        r->prefix = "position.";
        rec_dbl(r, pos, "latitude", &s->has_lat, &s->lat);
        rec_dbl(r, pos, "longitude", &s->has_lon, &s->lon);
        r->prefix = "";
    }
    rec_bool(r, st, "connected", &s->has_connected, &s->connected);
    rec_time_iso(r, st, "lastUpdate");
    jcd_v3_stands(r, st);
}

/* Records el as a reject with its compact JSON. */
static int
jcd_reject(struct ingest_batch *b, cJSON *el, const char *id, const char *why)
{
    char *raw = cJSON_PrintUnformatted(el);
    int   rv;

    rv = ingest_batch_reject(b, raw, raw != NULL ? strlen(raw) : 0, id, why);
    cJSON_free(raw);
    return rv;
}

/* Reads the station id, or writes why it is unusable. */
static bool
jcd_station_id(cJSON *el, char *id, size_t size, char *why, size_t why_size)
{
    int rv;

    if (!cJSON_IsObject(el)) {
        snprintf(why, why_size, "station: not an object");
        return false;
    }
    rv = velo_json_id(el, "number", id, size);
    if (rv == VELO_OK && id[0] != '\0')
        return true;
    snprintf(why, why_size, "number: %s",
             rv == VELO_ENOTFOUND ? "missing"
             : rv == VELO_ETOOBIG ? "too long"
             : rv == VELO_OK      ? "empty"
                                  : "not an integer or string");
    id[0] = '\0';
    return false;
}

/* Maps one element into the batch, as an item or as a reject. Fails only
 * when the batch itself cannot grow (ETOOBIG, ENOMEM). */
static int
jcd_station(const struct jcd_format *fmt, const struct ingest_parse_ctx *ctx,
            struct ingest_batch *b, cJSON *el)
{
    struct jcd_rec             r = {.b = b, .prefix = ""};
    Velo__V1__StationSnapshot *s;
    char                       id[64];
    int                        rv;

    if (!jcd_station_id(el, id, sizeof(id), r.why, sizeof(r.why)))
        return jcd_reject(b, el, id, r.why);
    rv = ingest_batch_add(b, &s);
    if (rv != VELO_OK)
        return rv;
    s->system_id = ingest_batch_strdup(b, ctx->system_id);
    s->station_id = ingest_batch_strdup(b, id);
    s->source_format = ingest_batch_strdup(b, fmt->name);
    s->fetched_at_ms = ctx->fetched_at_ms;
    s->has_fetched_at_ms = 1;
    r.s = s;
    r.fetched_at_ms = ctx->fetched_at_ms;
    fmt->map(&r, el);
    if (r.why[0] == '\0' &&
        ingest_snapshot_validate(s, r.why, sizeof(r.why)) == VELO_OK)
        return VELO_OK;
    ingest_batch_pop(b);
    return jcd_reject(b, el, id, r.why);
}

static int
jcd_parse(const struct jcd_format *fmt, const char *body, size_t len,
          const struct ingest_parse_ctx *ctx, struct ingest_batch *out,
          char *err, size_t err_size)
{
    cJSON *root = NULL, *el;
    int    rv;

    rv = velo_json_parse(body, len, &root);
    if (rv != VELO_OK) {
        snprintf(err, err_size, "%s: malformed or truncated JSON", fmt->name);
        return VELO_EPROTO;
    }
    if (cJSON_IsArray(root)) {
        cJSON_ArrayForEach(el, root)
        {
            rv = jcd_station(fmt, ctx, out, el);
            if (rv != VELO_OK)
                break;
        }
    } else if (cJSON_IsObject(root) && fmt->one_object_ok) {
        rv = jcd_station(fmt, ctx, out, root);
    } else {
        rv = VELO_EPROTO;
    }
    if (rv != VELO_OK) {
        snprintf(err, err_size, "%s: %s", fmt->name,
                 rv == VELO_EPROTO    ? "root is not an array of stations"
                 : rv == VELO_ETOOBIG ? "more stations than the batch holds"
                                      : velo_strerror(rv));
        ingest_batch_fini(out); /* never a partial batch */
    }
    cJSON_Delete(root);
    return rv;
}

static const struct jcd_format jcd_v1 = {"jcdecaux-v1", jcd_v1_map, false};
static const struct jcd_format jcd_v3 = {"jcdecaux-v3", jcd_v3_map, true};

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
