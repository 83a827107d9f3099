/* gbfs_static.h: what gbfs_status.c needs from gbfs_static.c. Private to
 * velo-ingest's GBFS parser; payload_parsers.h is the public contract.
 *
 * Thread: the owner of the ingest_gbfs_static (one poller). Pointers
 * returned here are borrowed until the next ingest_gbfs_info_parse /
 * ingest_gbfs_vtypes_parse on the same table, or its _free. */
#ifndef INGEST_GBFS_STATIC_H
#define INGEST_GBFS_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "payload_parsers.h"

/* Room for a station or vehicle type id. A longer id is unusable: that
 * station_status element is rejected, that information or type skipped. */
#define INGEST_GBFS_ID_MAX 128

/* How a vehicle type is counted: mechanical ("human"), electric
 * ("electric_assist", "electric"), or not a bike we count. */
enum ingest_gbfs_prop {
    INGEST_GBFS_PROP_OTHER,
    INGEST_GBFS_PROP_HUMAN,
    INGEST_GBFS_PROP_ELECTRIC,
};

/* One station of station_information; absent fields have has_* false or
 * a NULL string. */
struct ingest_gbfs_info {
    char    *id;
    char    *name;
    char    *address;
    double   lat, lon;
    uint32_t capacity;
    bool     has_lat, has_lon, has_capacity;
};

/* Parses body and finds data.<key>, the array every GBFS feed wraps its
 * records in. On success the caller owns *root (cJSON_Delete) and *list
 * points into it. VELO_EPROTO with err "<feed>: ..." on malformed JSON or
 * a missing data.<key> array. */
VELO_MUST_CHECK int ingest_gbfs_open(const char *body, size_t len,
                                     const char *feed, const char *key,
                                     cJSON **root, const cJSON **list,
                                     char *err, size_t err_size);

/* The station_information entry of station id, or NULL. */
const struct ingest_gbfs_info *
ingest_gbfs_static_station(const ingest_gbfs_static *st, const char *id);

/* True once vehicle_types was parsed: only then is a split known. */
bool ingest_gbfs_static_has_vtypes(const ingest_gbfs_static *st);

/* The class of vehicle type id; OTHER for an id vehicle_types does not
 * name. */
enum ingest_gbfs_prop ingest_gbfs_static_vtype(const ingest_gbfs_static *st,
                                               const char               *id);

#endif
