/* snapshot.c: Kafka key and JSON form of velo.v1.StationSnapshot.
 *
 * The JSON writer walks the message descriptor that protoc-c generates, so
 * every key is the proto field name by construction and a field added to
 * station.proto shows up without touching this file. */
#include "velo/snapshot.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/clock.h"
#include "velo/json.h"
#include "velo/parse.h"

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

/* A JSON number; lat/lon round-trip exactly. */
static int
append_double(struct velo_buf *out, double v)
{
    char num[40];

    if (!isfinite(v))
        return velo_buf_puts(out, "null"); /* JSON has no NaN or Inf */
    velo_format_double(v, num, sizeof(num));
    return velo_buf_puts(out, num);
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

static int
append_time_twin(struct velo_buf *out, const char *iso, int64_t ms)
{
    char ts[32];
    int  rv;

    rv = velo_buf_printf(out, "\"%s\":", iso);
    if (rv != VELO_OK)
        return rv;
    /* 0 means the source sent null: say so instead of 1970. */
    if (ms == 0)
        return velo_buf_puts(out, "null,");
    velo_time_format_iso(ms, ts, sizeof(ts));
    return velo_buf_printf(out, "\"%s\",", ts);
}

/* Writes the value of one present scalar field. */
static int
append_value(struct velo_buf *out, const ProtobufCFieldDescriptor *fd,
             const void *member)
{
    const char *label;

    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        return velo_json_append_str(out, *(const char *const *)member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return append_double(out, *(const double *)member);
    case PROTOBUF_C_TYPE_FLOAT:
        return append_double(out, *(const float *)member);
    case PROTOBUF_C_TYPE_BOOL:
        return velo_buf_puts(
            out, *(const protobuf_c_boolean *)member ? "true" : "false");
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return velo_buf_printf(out, "%" PRIu32, *(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return velo_buf_printf(out, "%" PRId32, *(const int32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return velo_buf_printf(out, "%" PRId64, *(const int64_t *)member);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return velo_buf_printf(out, "%" PRIu64, *(const uint64_t *)member);
    case PROTOBUF_C_TYPE_ENUM:
        label = enum_label(fd->descriptor, *(const int *)member);
        if (label != NULL)
            return velo_json_append_str(out, label);
        return velo_buf_printf(out, "%d", *(const int *)member);
    default:
        /* bytes and sub-messages: StationSnapshot has none. */
        return velo_buf_puts(out, "null");
    }
}

/* Writes `"name":value` for one field (and its time twin), with a leading
 * comma unless it is the first. Absent fields write nothing. */
static int
append_field(struct velo_buf *out, const ProtobufCMessage *msg,
             const ProtobufCFieldDescriptor *fd, bool *first)
{
    const void *member = (const char *)msg + fd->offset;
    size_t      i;
    int         rv;

    if (fd->label == PROTOBUF_C_LABEL_REPEATED || !field_present(msg, fd))
        return VELO_OK;
    rv = *first ? VELO_OK : velo_buf_puts(out, ",");
    *first = false;
    for (i = 0; rv == VELO_OK && i < sizeof(time_twins) / sizeof(time_twins[0]);
         i++) {
        if (strcmp(fd->name, time_twins[i].field) == 0)
            rv = append_time_twin(out, time_twins[i].iso,
                                  *(const int64_t *)member);
    }
    if (rv == VELO_OK)
        rv = velo_buf_printf(out, "\"%s\":", fd->name);
    if (rv == VELO_OK)
        rv = append_value(out, fd, member);
    return rv;
}

int
velo_snapshot_to_json(const Velo__V1__StationSnapshot *s, struct velo_buf *out)
{
    /* The static descriptor, not s->base.descriptor: a caller may have
     * zeroed the struct instead of using VELO__V1__STATION_SNAPSHOT__INIT. */
    const ProtobufCMessageDescriptor *md =
        &velo__v1__station_snapshot__descriptor;
    size_t   mark = out->len;
    bool     first = true;
    unsigned i;
    int      rv;

    rv = velo_buf_puts(out, "{");
    for (i = 0; rv == VELO_OK && i < md->n_fields; i++)
        rv = append_field(out, &s->base, &md->fields[i], &first);
    if (rv == VELO_OK)
        rv = velo_buf_puts(out, "}");
    if (rv != VELO_OK && out->data != NULL) {
        /* All or nothing: never leave half an object in out. */
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rv;
}
