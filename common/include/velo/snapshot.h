/* velo/snapshot.h: helpers on velo.v1.StationSnapshot shared by ingest,
 * stream, gateway, veloctl and the test tools. */
#ifndef VELO_SNAPSHOT_H
#define VELO_SNAPSHOT_H

#include <stddef.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/jsonw.h"
#include "velo/v1/station.pb-c.h"

/* Content type header value of every velib_data record. */
#define VELO_SNAPSHOT_CONTENT_TYPE                                             \
    "application/x-protobuf; message=velo.v1.StationSnapshot"

/* Content type header value of every velib_systems record (SystemInfo). */
#define VELO_SYSINFO_CONTENT_TYPE                                              \
    "application/x-protobuf; message=velo.v1.SystemInfo"

/* The Kafka key "system_id/station_id". VELO_ETOOBIG when it does not fit,
 * VELO_EINVAL when either id is missing. */
VELO_MUST_CHECK int velo_snapshot_key(const Velo__V1__StationSnapshot *s,
                                      char *buf, size_t size);

/* Appends s as one JSON object with the proto's snake_case field names.
 * Absent fields are omitted; last_reported_ms and fetched_at_ms are also
 * given as RFC 3339 (last_reported, fetched_at); status as "OPEN",
 * "CLOSED", "UNKNOWN". Strings follow velo/jsonw.h's UTF-8 policy (invalid
 * bytes become U+FFFD). All or nothing: on failure (VELO_ETOOBIG or
 * VELO_ENOMEM from out) out is left as it was. */
VELO_MUST_CHECK int velo_snapshot_to_json(const Velo__V1__StationSnapshot *s,
                                          struct velo_buf                 *out);

/* Writes the members of that object (not the braces) into the object w
 * has open, so a caller can add its own members around them. Errors
 * stick in w, like every jsonw call. */
void velo_snapshot_json_members(struct velo_jsonw               *w,
                                const Velo__V1__StationSnapshot *s);

/* Appends msg, a flat message of descriptor md (scalars, strings and
 * enums, like velo.v1.SystemInfo), as one JSON object by the same rules
 * as velo_snapshot_to_json; repeated fields are skipped, a nested
 * message is null. All or nothing, like velo_snapshot_to_json. */
VELO_MUST_CHECK int velo_proto_to_json(const ProtobufCMessage           *msg,
                                       const ProtobufCMessageDescriptor *md,
                                       struct velo_buf                  *out);

/* Writes the members of that object (not the braces) into the object w
 * has open (the gateway adds its own members around them). Errors stick
 * in w. */
void velo_proto_json_members(struct velo_jsonw *w, const ProtobufCMessage *msg,
                             const ProtobufCMessageDescriptor *md);

#endif
