/* gbfs_status.c: GBFS station_status joined with the static tables
 * (gbfs_static.c) by station_id -> StationSnapshot.
 *
 * Versions differ in small ways, all handled here:
 * - 1.x writes booleans as 0/1 and may have no `version` field;
 * - 1.x/2.x count `num_bikes_*`, 3.x `num_vehicles_*` (a feed carrying
 *   both is read with the name of its own version);
 * - 1.x/2.x `last_reported` is POSIX seconds, 3.x an RFC 3339 string.
 * A wrong field rejects that station (payload_parsers.h); the rest are kept. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbfs_static.h"
#include "station_record.h"
#include "velo/clock.h"
#include "velo/json.h"

_Static_assert(INGEST_GBFS_ID_MAX <= INGEST_REC_ID_MAX,
               "ids fit station_record.c");

/* What every station of one station_status payload shares. */
struct gbfs_job {
    const ingest_gbfs_static *st;
    struct ingest_rec_format  fmt;        /* fmt.name is format */
    char                      format[32]; /* "gbfs-2.3" */
    int                       major;      /* 2 */
};

/* own when the station carries it (not null), else other: a feed that
 * sends both the 2.x and the 3.x name is read with its version's name. */
static const char *
pick(const cJSON *o, const char *own, const char *other)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, own);

    return it != NULL && !cJSON_IsNull(it) ? own : other;
}

static void
status_counts(struct ingest_rec *r, const cJSON *el, int major)
{
    Velo__V1__StationSnapshot *s = r->snapshot;
    bool                       v3 = major >= 3;
    const char                *bikes, *bikes_off;

    bikes = v3 ? pick(el, "num_vehicles_available", "num_bikes_available")
               : pick(el, "num_bikes_available", "num_vehicles_available");
    bikes_off = v3 ? pick(el, "num_vehicles_disabled", "num_bikes_disabled")
                   : pick(el, "num_bikes_disabled", "num_vehicles_disabled");
    ingest_rec_u32(r, el, bikes, &s->has_bikes_available, &s->bikes_available);
    ingest_rec_u32(r, el, "num_docks_available", &s->has_docks_available,
                   &s->docks_available);
    ingest_rec_u32(r, el, bikes_off, &s->has_bikes_disabled,
                   &s->bikes_disabled);
    ingest_rec_u32(r, el, "num_docks_disabled", &s->has_docks_disabled,
                   &s->docks_disabled);
}

/* The flags, and the status they imply: installed and renting is OPEN;
 * not installed, or neither renting nor returning, is CLOSED. Anything
 * else (a flag missing; installed and only returning) says too little and
 * leaves status absent, which reads as UNKNOWN. */
static void
status_flags(struct ingest_rec *r, const cJSON *el)
{
    Velo__V1__StationSnapshot *s = r->snapshot;

    ingest_rec_bool(r, el, "is_installed", &s->has_is_installed,
                    &s->is_installed);
    ingest_rec_bool(r, el, "is_renting", &s->has_is_renting, &s->is_renting);
    ingest_rec_bool(r, el, "is_returning", &s->has_is_returning,
                    &s->is_returning);
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

/* A numeric last_reported, in ms. It is checked in double before it is
 * rounded, since real feeds send values far outside int64. */
static void
status_time_dbl(struct ingest_rec *r, double ms)
{
    ingest_rec_time(r, ingest_rec_time_plausible(r->fetched_at_ms, ms)
                           ? (int64_t)llround(ms)
                           : 0);
}

/* last_reported: POSIX seconds (1.x/2.x) or RFC 3339 (3.x); each form is
 * accepted in any version since feeds mix them. null gives 0. */
static void
status_time(struct ingest_rec *r, const cJSON *el)
{
    const cJSON *it = ingest_rec_time_item(r, el, "last_reported");
    int64_t      ms;

    if (it == NULL)
        return;
    if (cJSON_IsNumber(it) && isfinite(it->valuedouble))
        status_time_dbl(r, it->valuedouble * 1000.0);
    else if (!cJSON_IsString(it))
        ingest_rec_fail(r, "last_reported", "not a time");
    else if (velo_time_parse_iso(it->valuestring, &ms) != VELO_OK)
        ingest_rec_fail(r, "last_reported", "not an RFC 3339 time");
    else
        ingest_rec_time(r, ms);
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
status_split(struct ingest_rec *r, const ingest_gbfs_static *st,
             const cJSON *el)
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
        ingest_rec_fail(r, "vehicle_types_available", "not an array");
        return;
    }
    cJSON_ArrayForEach(e, arr)
    {
        if (velo_json_id(e, "vehicle_type_id", id, sizeof(id)) != VELO_OK ||
            velo_json_u32(e, "count", &n) != VELO_OK) {
            ingest_rec_fail(r, "vehicle_types_available", "malformed entry");
            return;
        }
        p = ingest_gbfs_static_vtype(st, id);
        sum[p] += n;
    }
    r->snapshot->mechanical_bikes = clamp_u32(sum[INGEST_GBFS_PROP_HUMAN]);
    r->snapshot->electric_bikes = clamp_u32(sum[INGEST_GBFS_PROP_ELECTRIC]);
    r->snapshot->has_mechanical_bikes = 1;
    r->snapshot->has_electric_bikes = 1;
}

/* Name, address, position and capacity from station_information. */
static void
status_join(struct ingest_rec *r, Velo__V1__StationSnapshot *s,
            const struct ingest_gbfs_info *in)
{
    if (in == NULL)
        return;
    ingest_rec_text(r, in->name, &s->name);
    ingest_rec_text(r, in->address, &s->address);
    s->has_lat = in->has_lat;
    s->lat = in->lat;
    s->has_lon = in->has_lon;
    s->lon = in->lon;
    s->has_capacity = in->has_capacity;
    s->capacity = in->capacity;
}

/* Maps one station_status element; arg is the gbfs_job. */
static void
status_map(struct ingest_rec *r, const cJSON *el, const void *arg)
{
    const struct gbfs_job     *j = arg;
    Velo__V1__StationSnapshot *s = r->snapshot;

    status_join(r, s, ingest_gbfs_static_station(j->st, s->station_id));
    status_counts(r, el, j->major);
    status_flags(r, el);
    status_time(r, el);
    status_split(r, j->st, el);
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
    j->fmt.name = j->format;
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
    struct gbfs_job j = {.st = st,
                         .fmt = {.id_key = "station_id",
                                 .id_wrong_type = "not a string or integer",
                                 .id_size = INGEST_GBFS_ID_MAX,
                                 .map = status_map}};
    const cJSON    *list;
    cJSON          *root = NULL;
    uint32_t        ttl;
    int             rv;

    rv = ingest_gbfs_open(body, len, "station_status", "stations", &root, &list,
                          err, err_size);
    if (rv != VELO_OK) {
        ingest_batch_fini(out);
        return rv;
    }
    status_version(&j, root, version);
    rv = ingest_rec_stations(&j.fmt, &j, ctx, out, list);
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
