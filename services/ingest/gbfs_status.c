/* gbfs_status.c: GBFS station_status joined with the static tables
 * (gbfs_static.c) by station_id -> StationSnapshot.
 *
 * Versions differ in small ways, all handled here:
 * - 1.x writes booleans as 0/1 and may have no `version` field;
 * - 1.x/2.x count `num_bikes_*`, 3.x `num_vehicles_*` (a feed carrying
 *   both is read with the name of its own version);
 * - 1.x/2.x `last_reported` is POSIX seconds, 3.x an RFC 3339 string.
 * A wrong field rejects that station (parse.h); the rest are kept. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbfs_static.h"
#include "velo/clock.h"
#include "velo/json.h"

#define GBFS_REASON 160
#define GBFS_DAY_MS 86400000LL
#define GBFS_EPOCH_2000_MS 946684800000LL

/* One station_status element being mapped: the first problem found is
 * kept in why and rejects it. */
struct gbfs_rec {
    Velo__V1__StationSnapshot *s;
    int64_t                    fetched_at_ms;
    char                       why[GBFS_REASON];
};

/* What every station of one station_status payload shares. */
struct gbfs_job {
    const ingest_gbfs_static      *st;
    const struct ingest_parse_ctx *ctx;
    char                           format[32]; /* "gbfs-2.3" */
    int                            major;      /* 2 */
};

static void
rec_fail(struct gbfs_rec *r, const char *key, const char *what)
{
    if (r->why[0] == '\0')
        snprintf(r->why, sizeof(r->why), "%s: %s", key, what);
}

/* A count: absent/null stays absent; anything but a non-negative integer
 * that fits uint32 rejects the station. */
static void
rec_u32(struct gbfs_rec *r, const cJSON *o, const char *key,
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

/* true/false, or 0/1 as 1.x writes them. */
static void
rec_bool(struct gbfs_rec *r, const cJSON *o, const char *key,
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

/* own when the station carries it (not null), else other: a feed that
 * sends both the 2.x and the 3.x name is read with its version's name. */
static const char *
pick(const cJSON *o, const char *own, const char *other)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, own);

    return it != NULL && !cJSON_IsNull(it) ? own : other;
}

static void
status_counts(struct gbfs_rec *r, const cJSON *el, int major)
{
    Velo__V1__StationSnapshot *s = r->s;
    bool                       v3 = major >= 3;
    const char                *bikes, *bikes_off;

    bikes = v3 ? pick(el, "num_vehicles_available", "num_bikes_available")
               : pick(el, "num_bikes_available", "num_vehicles_available");
    bikes_off = v3 ? pick(el, "num_vehicles_disabled", "num_bikes_disabled")
                   : pick(el, "num_bikes_disabled", "num_vehicles_disabled");
    rec_u32(r, el, bikes, &s->has_bikes_available, &s->bikes_available);
    rec_u32(r, el, "num_docks_available", &s->has_docks_available,
            &s->docks_available);
    rec_u32(r, el, bikes_off, &s->has_bikes_disabled, &s->bikes_disabled);
    rec_u32(r, el, "num_docks_disabled", &s->has_docks_disabled,
            &s->docks_disabled);
}

/* The flags, and the status they imply: installed and renting is OPEN;
 * not installed, or neither renting nor returning, is CLOSED. Anything
 * else (a flag missing; installed and only returning) says too little and
 * leaves status absent, which reads as UNKNOWN. */
static void
status_flags(struct gbfs_rec *r, const cJSON *el)
{
    Velo__V1__StationSnapshot *s = r->s;

    rec_bool(r, el, "is_installed", &s->has_is_installed, &s->is_installed);
    rec_bool(r, el, "is_renting", &s->has_is_renting, &s->is_renting);
    rec_bool(r, el, "is_returning", &s->has_is_returning, &s->is_returning);
    if ((s->has_is_installed && !s->is_installed) ||
        (s->has_is_renting && !s->is_renting && s->has_is_returning &&
         !s->is_returning)) {
        s->has_status = 1;
        s->status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    } else if (s->has_is_installed && s->has_is_renting && s->is_renting) {
        s->has_status = 1;
        s->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    }
}

/* Stores last_reported in ms. Real feeds send very large negative values
 * and clocks decades off: a time before 2000-01-01 or more than a day
 * after the fetch is stored as 0, exactly like a null ("not sent"), so
 * consumers fall back to fetched_at_ms. The future bound applies only
 * when the fetch time is known. Works in double until the range is known
 * to fit int64. */
static void
rec_set_time(struct gbfs_rec *r, double ms)
{
    int64_t v = 0;

    if (ms >= (double)GBFS_EPOCH_2000_MS && ms < 9.0e15 &&
        (r->fetched_at_ms <= 0 ||
         ms <= (double)(r->fetched_at_ms + GBFS_DAY_MS)))
        v = (int64_t)llround(ms);
    r->s->last_reported_ms = v;
    r->s->has_last_reported_ms = 1;
}

/* last_reported: POSIX seconds (1.x/2.x) or RFC 3339 (3.x); each form is
 * accepted in any version since feeds mix them. null gives 0. */
static void
status_time(struct gbfs_rec *r, const cJSON *el)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(el, "last_reported");
    int64_t      ms;

    if (it == NULL)
        return;
    if (cJSON_IsNull(it))
        rec_set_time(r, 0);
    else if (cJSON_IsNumber(it) && isfinite(it->valuedouble))
        rec_set_time(r, it->valuedouble * 1000.0);
    else if (!cJSON_IsString(it))
        rec_fail(r, "last_reported", "not a time");
    else if (velo_time_parse_iso(it->valuestring, &ms) != VELO_OK)
        rec_fail(r, "last_reported", "not an RFC 3339 time");
    else
        rec_set_time(r, (double)ms);
}

/* Sums past uint32 are clamped; validation then rejects the station. */
static uint32_t
clamp_u32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* mechanical/electric from vehicle_types_available, by propulsion of each
 * type. Types vehicle_types does not name are not counted. Without
 * vehicle_types, or without the array, both stay absent: unknown. */
static void
status_split(struct gbfs_rec *r, const ingest_gbfs_static *st, const cJSON *el)
{
    const cJSON          *arr, *e;
    char                  id[INGEST_GBFS_ID_MAX];
    uint32_t              n;
    uint64_t              sum[3] = {0, 0, 0};
    enum ingest_gbfs_prop p;

    arr = cJSON_GetObjectItemCaseSensitive(el, "vehicle_types_available");
    if (arr == NULL || cJSON_IsNull(arr) || !ingest_gbfs_static_has_vtypes(st))
        return;
    if (!cJSON_IsArray(arr)) {
        rec_fail(r, "vehicle_types_available", "not an array");
        return;
    }
    cJSON_ArrayForEach(e, arr)
    {
        if (velo_json_id(e, "vehicle_type_id", id, sizeof(id)) != VELO_OK ||
            velo_json_u32(e, "count", &n) != VELO_OK) {
            rec_fail(r, "vehicle_types_available", "malformed entry");
            return;
        }
        p = ingest_gbfs_static_vtype(st, id);
        sum[p] += n;
    }
    r->s->mechanical_bikes = clamp_u32(sum[INGEST_GBFS_PROP_HUMAN]);
    r->s->electric_bikes = clamp_u32(sum[INGEST_GBFS_PROP_ELECTRIC]);
    r->s->has_mechanical_bikes = 1;
    r->s->has_electric_bikes = 1;
}

/* Name, address, position and capacity from station_information. */
static void
status_join(struct ingest_batch *b, Velo__V1__StationSnapshot *s,
            const struct ingest_gbfs_info *in)
{
    if (in == NULL)
        return;
    s->name = ingest_batch_strdup(b, in->name);
    s->address = ingest_batch_strdup(b, in->address);
    s->has_lat = in->has_lat;
    s->lat = in->lat;
    s->has_lon = in->has_lon;
    s->lon = in->lon;
    s->has_capacity = in->has_capacity;
    s->capacity = in->capacity;
}

/* Records el as a reject with its compact JSON. */
static int
gbfs_reject(struct ingest_batch *b, cJSON *el, const char *id, const char *why)
{
    char *raw = cJSON_PrintUnformatted(el);
    int   rv;

    rv = ingest_batch_reject(b, raw, raw != NULL ? strlen(raw) : 0, id, why);
    cJSON_free(raw);
    return rv;
}

/* Reads the station id, or writes why it is unusable. */
static bool
status_id(cJSON *el, char *id, size_t size, char *why, size_t why_size)
{
    int rv = VELO_EPROTO;

    if (cJSON_IsObject(el))
        rv = velo_json_id(el, "station_id", id, size);
    if (rv == VELO_OK && id[0] != '\0')
        return true;
    snprintf(why, why_size, "%s",
             !cJSON_IsObject(el)    ? "station: not an object"
             : rv == VELO_ENOTFOUND ? "station_id: missing"
             : rv == VELO_ETOOBIG   ? "station_id: too long"
             : rv == VELO_OK        ? "station_id: empty"
                                    : "station_id: not a string or integer");
    id[0] = '\0';
    return false;
}

/* Maps one element into the batch, as an item or as a reject. Fails only
 * when the batch itself cannot grow (ETOOBIG, ENOMEM). */
static int
status_station(const struct gbfs_job *j, struct ingest_batch *b, cJSON *el)
{
    struct gbfs_rec            r = {.fetched_at_ms = j->ctx->fetched_at_ms};
    Velo__V1__StationSnapshot *s;
    char                       id[INGEST_GBFS_ID_MAX];
    int                        rv;

    if (!status_id(el, id, sizeof(id), r.why, sizeof(r.why)))
        return gbfs_reject(b, el, id, r.why);
    rv = ingest_batch_add(b, &s);
    if (rv != VELO_OK)
        return rv;
    s->system_id = ingest_batch_strdup(b, j->ctx->system_id);
    s->station_id = ingest_batch_strdup(b, id);
    s->source_format = ingest_batch_strdup(b, j->format);
    s->fetched_at_ms = j->ctx->fetched_at_ms;
    s->has_fetched_at_ms = 1;
    r.s = s;
    status_join(b, s, ingest_gbfs_static_station(j->st, id));
    status_counts(&r, el, j->major);
    status_flags(&r, el);
    status_time(&r, el);
    status_split(&r, j->st, el);
    if (r.why[0] == '\0' &&
        ingest_snapshot_validate(s, r.why, sizeof(r.why)) == VELO_OK)
        return VELO_OK;
    ingest_batch_pop(b);
    return gbfs_reject(b, el, id, r.why);
}

/* The version the caller names (from gbfs.json), else the payload's if
 * it looks like one (it ends up in source_format), else "1.0"; and its
 * major number ("2.3" -> 2). */
static void
status_version(struct gbfs_job *j, const cJSON *root, const char *version)
{
    const char *v = version;
    const char *p;

    if (v == NULL || v[0] == '\0') {
        if (velo_json_str(root, "version", &v) != VELO_OK || v[0] < '0' ||
            v[0] > '9' || strlen(v) >= 16)
            v = "1.0";
    }
    snprintf(j->format, sizeof(j->format), "gbfs-%s", v);
    j->major = 0;
    for (p = v; *p >= '0' && *p <= '9' && j->major < 1000; p++)
        j->major = j->major * 10 + (*p - '0');
}

int
ingest_gbfs_status_parse(const ingest_gbfs_static *st, const char *body,
                         size_t len, const char *version,
                         const struct ingest_parse_ctx *ctx,
                         struct ingest_batch *out, uint32_t *ttl_s, char *err,
                         size_t err_size)
{
    struct gbfs_job j = {.st = st, .ctx = ctx};
    const cJSON    *list;
    cJSON          *root = NULL, *el;
    uint32_t        ttl;
    int             rv;

    rv = ingest_gbfs_open(body, len, "station_status", "stations", &root, &list,
                          err, err_size);
    if (rv != VELO_OK) {
        ingest_batch_fini(out);
        return rv;
    }
    status_version(&j, root, version);
    cJSON_ArrayForEach(el, list)
    {
        rv = status_station(&j, out, el);
        if (rv != VELO_OK)
            break;
    }
    if (rv != VELO_OK) {
        snprintf(err, err_size, "station_status: %s",
                 rv == VELO_ETOOBIG ? "more stations than the batch holds"
                                    : velo_strerror(rv));
        ingest_batch_fini(out); /* never a partial batch */
    } else {
        /* A ttl we cannot read is 0: the configured interval applies. */
        if (velo_json_u32(root, "ttl", &ttl) != VELO_OK)
            ttl = 0;
        *ttl_s = ttl;
    }
    cJSON_Delete(root);
    return rv;
}
