/* snapshot.c: Kafka key and JSON form of velo.v1.StationSnapshot.
 *
 * The JSON writer walks the message descriptor that protoc-c generates, so
 * every key is the proto field name by construction and a field added to
 * station.proto shows up without touching this file. */
#include "velo/snapshot.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/clock.h"
#include "velo/jsonw.h"

/* Time fields that also get an RFC 3339 twin, written before them. */
static const struct {
    const char *field;
    const char *iso;
} time_twins[] = {
    {"last_reported_ms", "last_reported"},
    {"fetched_at_ms", "fetched_at"},
};

int
velo_snapshot_key(const Velo__V1__StationSnapshot *s, char *buf, size_t size)
{
    size_t ns, nt;

    if (s->system_id == NULL || s->station_id == NULL ||
        s->system_id[0] == '\0' || s->station_id[0] == '\0')
        return VELO_EINVAL;
    ns = strlen(s->system_id);
    nt = strlen(s->station_id);
    /* Check first so that buf is untouched on failure. */
    if (ns + 1 + nt + 1 > size)
        return VELO_ETOOBIG;
    memcpy(buf, s->system_id, ns);
    buf[ns] = '/';
    memcpy(buf + ns + 1, s->station_id, nt + 1);
    return VELO_OK;
}

/* "STATION_STATUS_OPEN" of enum StationStatus -> "OPEN": drops the
 * UPPER_SNAKE form of the enum's name that proto style puts before every
 * value. Returns the full name when the value does not follow that style. */
static const char *
enum_label(const ProtobufCEnumDescriptor *ed, int v)
{
    const ProtobufCEnumValue *ev;
    const char               *sn, *p;

    ev = protobuf_c_enum_descriptor_get_value(ed, v);
    if (ev == NULL)
        return NULL;
    p = ev->name;
    for (sn = ed->short_name; *sn != '\0'; sn++) {
        if (sn != ed->short_name && isupper((unsigned char)*sn) && *p++ != '_')
            return ev->name;
        if (*p++ != toupper((unsigned char)*sn))
            return ev->name;
    }
    return *p == '_' && p[1] != '\0' ? p + 1 : ev->name;
}

/* True when an optional field is present in the message. */
static bool
field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
    const char *base = (const char *)msg;
    const void *member = base + fd->offset;

    if (fd->type == PROTOBUF_C_TYPE_STRING)
        return *(const char *const *)member != NULL;
    if (fd->label != PROTOBUF_C_LABEL_OPTIONAL)
        return fd->label == PROTOBUF_C_LABEL_REQUIRED;
    return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
}

/* The RFC 3339 twin of a time field; 0 means the source sent null: say so
 * instead of 1970. */
static void
put_time_twin(struct velo_jsonw *w, const char *iso, int64_t ms)
{
    char ts[32];

    velo_jsonw_key(w, iso);
    if (ms == 0) {
        velo_jsonw_null(w);
        return;
    }
    velo_time_format_iso(ms, ts, sizeof(ts));
    velo_jsonw_str(w, ts);
}

/* Writes the value of one present scalar field. */
static void
put_value(struct velo_jsonw *w, const ProtobufCFieldDescriptor *fd,
          const void *member)
{
    const char *label;

    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        velo_jsonw_str(w, *(const char *const *)member);
        return;
    case PROTOBUF_C_TYPE_DOUBLE:
        velo_jsonw_dbl(w, *(const double *)member); /* lat/lon exact */
        return;
    case PROTOBUF_C_TYPE_FLOAT:
        velo_jsonw_dbl(w, *(const float *)member);
        return;
    case PROTOBUF_C_TYPE_BOOL:
        velo_jsonw_bool(w, *(const protobuf_c_boolean *)member);
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        velo_jsonw_u64(w, *(const uint32_t *)member);
        return;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        velo_jsonw_i64(w, *(const int32_t *)member);
        return;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        velo_jsonw_i64(w, *(const int64_t *)member);
        return;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        velo_jsonw_u64(w, *(const uint64_t *)member);
        return;
    case PROTOBUF_C_TYPE_ENUM:
        label = enum_label(fd->descriptor, *(const int *)member);
        if (label != NULL)
            velo_jsonw_str(w, label);
        else
            velo_jsonw_i64(w, *(const int *)member);
        return;
    default:
        /* bytes and sub-messages: StationSnapshot has none. */
        velo_jsonw_null(w);
    }
}

/* Writes `"name":value` for one field (after its time twin). Absent
 * fields write nothing. */
static void
put_field(struct velo_jsonw *w, const ProtobufCMessage *msg,
          const ProtobufCFieldDescriptor *fd)
{
    const void *member = (const char *)msg + fd->offset;
    size_t      i;

    if (fd->label == PROTOBUF_C_LABEL_REPEATED || !field_present(msg, fd))
        return;
    for (i = 0; i < sizeof(time_twins) / sizeof(time_twins[0]); i++) {
        if (strcmp(fd->name, time_twins[i].field) == 0)
            put_time_twin(w, time_twins[i].iso, *(const int64_t *)member);
    }
    velo_jsonw_key(w, fd->name);
    put_value(w, fd, member);
}

void
velo_snapshot_json_members(struct velo_jsonw               *w,
                           const Velo__V1__StationSnapshot *s)
{
    /* The static descriptor, not s->base.descriptor: a caller may have
     * zeroed the struct instead of using VELO__V1__STATION_SNAPSHOT__INIT. */
    const ProtobufCMessageDescriptor *md =
        &velo__v1__station_snapshot__descriptor;
    unsigned i;

    for (i = 0; i < md->n_fields; i++)
        put_field(w, &s->base, &md->fields[i]);
}

int
velo_snapshot_to_json(const Velo__V1__StationSnapshot *s, struct velo_buf *out)
{
    struct velo_jsonw w;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_snapshot_json_members(&w, s);
    velo_jsonw_obj_end(&w);
    return velo_jsonw_finish(&w);
}

void
velo_proto_json_members(struct velo_jsonw *w, const ProtobufCMessage *msg,
                        const ProtobufCMessageDescriptor *md)
{
    unsigned i;

    for (i = 0; i < md->n_fields; i++)
        put_field(w, msg, &md->fields[i]);
}

int
velo_proto_to_json(const ProtobufCMessage           *msg,
                   const ProtobufCMessageDescriptor *md, struct velo_buf *out)
{
    struct velo_jsonw w;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_proto_json_members(&w, msg, md);
    velo_jsonw_obj_end(&w);
    return velo_jsonw_finish(&w);
}
