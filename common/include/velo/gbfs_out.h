/* velo/gbfs_out.h: GBFS 2.3 and 3.0 feeds written from StationSnapshots.
 *
 * Pure functions, no sockets: the gateway (or a test) gathers a system's
 * description and its stations' latest snapshots and asks for one feed at
 * a time. Every document validates against MobilityData's official schemas
 * (tests/fixtures/gbfs-json-schema/, checked by the gbfs_schema test).
 *
 * Published feeds: gbfs (auto-discovery), system_information,
 * station_information, station_status, and vehicle_types only when at
 * least one station carries both the mechanical and the electric count
 * (a JCDecaux v1 system has no e-bike split, so it gets no vehicle_types
 * and no vehicle_types_available). GBFS 3.0 adds manifest.json, which
 * lists every system (velo_gbfs_out_manifest). In a system where only some
 * stations carry the split, the others have no vehicle_types_available
 * (GBFS says it is required once vehicle_types exists; we omit rather than
 * guess).
 *
 * Nothing the source did not send is invented:
 * - an absent count, capacity or address is omitted;
 * - a station without station_id, name or coordinates is left out of
 *   station_information, one without station_id, bikes_available, a
 *   last_reported time or a known state (is_* flags, or an OPEN/CLOSED
 *   status they are derived from) is left out of station_status;
 * - fields a schema requires that no source carries (3.0
 *   feed_contact_email and opening_hours; max_range_meters of the e-bike
 *   type) come from the caller's velo_gbfs_system, i.e. from the gateway's
 *   configuration; without them no 3.0 feed of that system is written
 *   (VELO_EINVAL) and vehicle_types is not published.
 *
 * Times: last_updated is the newest fetched_at of the stations (never
 * later than now), else now; GBFS 2.3 writes POSIX seconds, 3.0 RFC 3339
 * UTC. ttl is the caller's: status_ttl_s for station_status, info_ttl_s
 * for the rest. Strings go through the project's JSON writer (velo/jsonw.h), so
 * a name with invalid UTF-8 comes out as valid JSON with U+FFFD in place of bad
 * bytes.
 *
 * Thread: any; the functions keep no state. */
#ifndef VELO_GBFS_OUT_H
#define VELO_GBFS_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/v1/station.pb-c.h"

enum velo_gbfs_version {
    VELO_GBFS_2_3,
    VELO_GBFS_3_0,
};

enum velo_gbfs_feed {
    VELO_GBFS_FEED_GBFS,
    VELO_GBFS_FEED_SYSTEM_INFORMATION,
    VELO_GBFS_FEED_STATION_INFORMATION,
    VELO_GBFS_FEED_STATION_STATUS,
    VELO_GBFS_FEED_VEHICLE_TYPES,
    VELO_GBFS_FEED_MANIFEST, /* 3.0 only, through velo_gbfs_out_manifest */
};

/* A system as the feeds describe it. Plain borrowed strings, so the gateway
 * can fill it from a SystemInfo message or from its configuration. */
struct velo_gbfs_system {
    const char *system_id;     /* required, e.g. "jcdecaux:lyon" */
    const char *name;          /* required */
    const char *operator_name; /* NULL: omitted */
    const char *timezone;      /* required, IANA name ("Europe/Paris") */
    const char *language;      /* required, BCP 47 "fr" or "en-GB" */
    const char *url;           /* NULL: omitted */
    /* Required by GBFS 3.0 system_information (not by 2.3, which still
     * writes them when given): where feed consumers report problems, and
     * the OSM opening_hours of the system ("24/7"). */
    const char *feed_contact_email;
    const char *opening_hours;
    /* max_range_meters of the e-bike vehicle type, which both schemas
     * require for electric_assist; 0: unknown, vehicle_types is then not
     * published even when e-bike counts are known. */
    uint32_t ebike_range_m;
};

/* One system's stations, for one request. */
struct velo_gbfs_input {
    const struct velo_gbfs_system          *sys;
    const Velo__V1__StationSnapshot *const *stations; /* borrowed */
    size_t                                  n_stations;
    /* Absolute base URL of a system's feeds; "{version}" becomes "2.3" or
     * "3.0" and "{system}" the percent-encoded system_id, then
     * "<feed>.json" is appended: "https://host/gbfs/{version}/{system}/".
     * Used as given otherwise (the gateway's configuration). */
    const char *url_template;
    /* 3.0 manifest URL (system_information.manifest_url); NULL: omitted. */
    const char *manifest_url;
    int64_t     now_ms;
    uint32_t    status_ttl_s; /* station_status */
    uint32_t    info_ttl_s;   /* every other feed */
};

/* "gbfs", "system_information", ... ("manifest" for the manifest). */
const char *velo_gbfs_out_feed_name(enum velo_gbfs_feed feed);

/* The feed a file name stands for, "station_status" or
 * "station_status.json"; for routing. VELO_ENOTFOUND for anything else. */
VELO_MUST_CHECK int velo_gbfs_out_feed_parse(const char          *name,
                                             enum velo_gbfs_feed *out);

/* True when sys can be published in version v: system_id, name, timezone
 * and a BCP 47 language always; for 3.0 also feed_contact_email (with an
 * '@') and opening_hours. Every feed of a version sys cannot be published
 * in fails with VELO_EINVAL, and the manifest leaves that version out. */
bool velo_gbfs_out_has_version(const struct velo_gbfs_system *sys,
                               enum velo_gbfs_version         v);

/* True when the feed is published for this input and version (the
 * manifest never is here: it covers every system). */
bool velo_gbfs_out_has_feed(const struct velo_gbfs_input *in,
                            enum velo_gbfs_version v, enum velo_gbfs_feed feed);

/* Appends one feed document to out. On failure out is as it was.
 * Errors: VELO_EINVAL (the system cannot be published in v, see
 * velo_gbfs_out_has_version; gbfs without url_template, or a feed URL over
 * 2 KiB), VELO_ENOTFOUND
 * (feed not published, see velo_gbfs_out_has_feed), VELO_ETOOBIG /
 * VELO_ENOMEM (from out). */
VELO_MUST_CHECK int velo_gbfs_out_write(const struct velo_gbfs_input *in,
                                        enum velo_gbfs_version        v,
                                        enum velo_gbfs_feed           feed,
                                        struct velo_buf              *out);

/* Appends the GBFS 3.0 manifest.json: every system with the URL of its
 * 2.3 and 3.0 gbfs.json (from url_template as above), each version only
 * where velo_gbfs_out_has_version. last_updated is
 * now_ms. On failure out is as it was. Errors: VELO_EINVAL (a system
 * without system_id, or no url_template), VELO_ETOOBIG, VELO_ENOMEM. */
VELO_MUST_CHECK int
velo_gbfs_out_manifest(const struct velo_gbfs_system *const *systems, size_t n,
                       const char *url_template, int64_t now_ms, uint32_t ttl_s,
                       struct velo_buf *out);

#endif
