/* gbfs_out_station.c: the station_information, station_status and
 * vehicle_types feeds of velo/gbfs_out.h, one StationSnapshot per station.
 * A value the snapshot does not carry is omitted; a station that lacks a
 * value the schema requires is left out of that feed. */
#include <math.h>

#include "gbfs_out_int.h"

/* GBFS 2.3 rejects last_reported before this (2015-12-07, POSIX s). */
#define GBFS_MIN_TIME_MS (1450155600LL * 1000)

/* The two vehicle types velopipe knows: a station's e-bike split. */
#define TYPE_MECHANICAL "mechanical"
#define TYPE_ELECTRIC "electric"

static bool
has_split(const Velo__V1__StationSnapshot *s)
{
    return s->has_mechanical_bikes && s->has_electric_bikes;
}

bool
gbfs_has_ebike_split(const struct velo_gbfs_input *in)
{
    size_t i;

    for (i = 0; i < in->n_stations; i++) {
        if (has_split(in->stations[i]))
            return true;
    }
    return false;
}

static bool
located(const Velo__V1__StationSnapshot *s)
{
    return s->has_lat && s->has_lon && isfinite(s->lat) && isfinite(s->lon) &&
           fabs(s->lat) <= 90.0 && fabs(s->lon) <= 180.0;
}

static void
station_info_put(struct gbfs_jw *w, const Velo__V1__StationSnapshot *s,
                 const char *lang, enum velo_gbfs_version v)
{
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "station_id", s->station_id);
    if (v == VELO_GBFS_2_3)
        gbfs_jw_str(w, "name", s->name);
    else
        gbfs_jw_text(w, "name", s->name, lang);
    gbfs_jw_dbl(w, "lat", s->lat);
    gbfs_jw_dbl(w, "lon", s->lon);
    if (s->address != NULL)
        gbfs_jw_str(w, "address", s->address);
    if (s->has_capacity)
        gbfs_jw_i64(w, "capacity", s->capacity);
    gbfs_jw_close(w, '}');
}

void
gbfs_station_information(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                         enum velo_gbfs_version v)
{
    size_t i;

    gbfs_jw_open(w, "stations", '[');
    for (i = 0; i < in->n_stations; i++) {
        const Velo__V1__StationSnapshot *s = in->stations[i];

        if (s->station_id != NULL && s->name != NULL && located(s))
            station_info_put(w, s, in->sys->language, v);
    }
    gbfs_jw_close(w, ']');
}

/* is_installed, is_renting, is_returning: the source's flags where it sent
 * them, else derived from an OPEN or CLOSED status (a closed station is
 * still on the street but neither rents nor takes returns). False when a
 * flag is neither sent nor derivable. */
static bool
state_get(const Velo__V1__StationSnapshot *s, bool flags[3])
{
    const bool sent[3] = {s->has_is_installed, s->has_is_renting,
                          s->has_is_returning};
    const bool val[3] = {s->is_installed, s->is_renting, s->is_returning};
    bool       open, known;
    int        i;

    open = s->has_status &&
           s->status == VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    known =
        s->has_status &&
        (open || s->status == VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED);
    for (i = 0; i < 3; i++) {
        if (!sent[i] && !known)
            return false;
        flags[i] = sent[i] ? val[i] : (i == 0 || open);
    }
    return true;
}

static void
types_available_put(struct gbfs_jw *w, const Velo__V1__StationSnapshot *s)
{
    gbfs_jw_open(w, "vehicle_types_available", '[');
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "vehicle_type_id", TYPE_MECHANICAL);
    gbfs_jw_i64(w, "count", s->mechanical_bikes);
    gbfs_jw_close(w, '}');
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "vehicle_type_id", TYPE_ELECTRIC);
    gbfs_jw_i64(w, "count", s->electric_bikes);
    gbfs_jw_close(w, '}');
    gbfs_jw_close(w, ']');
}

static void
station_status_put(struct gbfs_jw *w, const Velo__V1__StationSnapshot *s,
                   const bool flags[3], bool types, enum velo_gbfs_version v)
{
    bool v2 = v == VELO_GBFS_2_3;

    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "station_id", s->station_id);
    gbfs_jw_i64(w, v2 ? "num_bikes_available" : "num_vehicles_available",
                s->bikes_available);
    if (types && has_split(s))
        types_available_put(w, s);
    if (s->has_bikes_disabled)
        gbfs_jw_i64(w, v2 ? "num_bikes_disabled" : "num_vehicles_disabled",
                    s->bikes_disabled);
    if (s->has_docks_available)
        gbfs_jw_i64(w, "num_docks_available", s->docks_available);
    if (s->has_docks_disabled)
        gbfs_jw_i64(w, "num_docks_disabled", s->docks_disabled);
    gbfs_jw_bool(w, "is_installed", flags[0]);
    gbfs_jw_bool(w, "is_renting", flags[1]);
    gbfs_jw_bool(w, "is_returning", flags[2]);
    gbfs_jw_time(w, "last_reported", v, s->last_reported_ms);
    gbfs_jw_close(w, '}');
}

void
gbfs_station_status(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                    enum velo_gbfs_version v)
{
    bool   types, flags[3];
    size_t i;

    types = velo_gbfs_out_has_feed(in, v, VELO_GBFS_FEED_VEHICLE_TYPES);
    gbfs_jw_open(w, "stations", '[');
    for (i = 0; i < in->n_stations; i++) {
        const Velo__V1__StationSnapshot *s = in->stations[i];

        if (s->station_id == NULL || !s->has_bikes_available ||
            !s->has_last_reported_ms ||
            s->last_reported_ms < GBFS_MIN_TIME_MS || !state_get(s, flags))
            continue;
        station_status_put(w, s, flags, types, v);
    }
    gbfs_jw_close(w, ']');
}

void
gbfs_vehicle_types(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                   enum velo_gbfs_version v)
{
    (void)v; /* the fields written here are the same in 2.3 and 3.0 */
    gbfs_jw_open(w, "vehicle_types", '[');
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "vehicle_type_id", TYPE_MECHANICAL);
    gbfs_jw_str(w, "form_factor", "bicycle");
    gbfs_jw_str(w, "propulsion_type", "human");
    gbfs_jw_close(w, '}');
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "vehicle_type_id", TYPE_ELECTRIC);
    gbfs_jw_str(w, "form_factor", "bicycle");
    gbfs_jw_str(w, "propulsion_type", "electric_assist");
    gbfs_jw_i64(w, "max_range_meters", in->sys->ebike_range_m);
    gbfs_jw_close(w, '}');
    gbfs_jw_close(w, ']');
}
