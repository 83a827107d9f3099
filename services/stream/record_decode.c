/* record_decode.c: the apply-or-dead-letter decision (see record_decode.h). */
#include "record_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "velo/snapshot.h"
#include "velo/utf8.h"

#define RECORD_KEY_MAX 512 /* as the state's keys */

static const char *const dead_names[STREAM_DEAD_COUNT] = {
    [STREAM_DEAD_TOO_BIG] = "too-big",
    [STREAM_DEAD_CONTENT_TYPE] = "content-type",
    [STREAM_DEAD_UNDECODABLE] = "undecodable",
    [STREAM_DEAD_MISSING_ID] = "missing-id",
    [STREAM_DEAD_BAD_ID] = "bad-id",
    [STREAM_DEAD_KEY_MISMATCH] = "key-mismatch",
};

const char *
stream_dead_name(enum stream_dead why)
{
    return (unsigned)why < STREAM_DEAD_COUNT ? dead_names[why] : "unknown";
}

static int dead(enum stream_dead *why, enum stream_dead w, char *detail,
                size_t size, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
dead(enum stream_dead *why, enum stream_dead w, char *detail, size_t size,
     const char *fmt, ...)
{
    va_list ap;

    *why = w;
    va_start(ap, fmt);
    velo_verrf(VELO_EPROTO, detail, size, fmt, ap);
    va_end(ap);
    return VELO_EPROTO;
}

/* The identity checks on a decoded snapshot. */
static int
check_ids(const Velo__V1__StationSnapshot *s, const struct stream_record *r,
          enum stream_dead *why, char *detail, size_t size)
{
    char key[RECORD_KEY_MAX];
    char quoted[200];
    int  rv;

    rv = velo_snapshot_key(s, key, sizeof(key));
    if (rv == VELO_EINVAL)
        return dead(why, STREAM_DEAD_MISSING_ID, detail, size,
                    "no system_id or station_id");
    if (rv != VELO_OK)
        return dead(why, STREAM_DEAD_BAD_ID, detail, size,
                    "system_id/station_id longer than %d bytes",
                    RECORD_KEY_MAX - 1);
    /* Peer bytes in the detail text: bounded, cut on a character boundary
     * and repaired, since the detail is logged and sent on. */
    if (strchr(s->system_id, '/') != NULL) {
        velo_utf8_clip(quoted, sizeof(quoted), s->system_id, 64);
        return dead(why, STREAM_DEAD_BAD_ID, detail, size,
                    "system_id \"%s\" holds a '/'", quoted);
    }
    if (r->key == NULL || r->keylen != strlen(key) ||
        memcmp(r->key, key, r->keylen) != 0) {
        velo_utf8_clip(quoted, sizeof(quoted), key, 128);
        return dead(why, STREAM_DEAD_KEY_MISMATCH, detail, size,
                    "record key is not \"%s\"", quoted);
    }
    return VELO_OK;
}

int
stream_record_decode(Velo__V1__StationSnapshot **out,
                     const struct stream_record *r, size_t max_bytes,
                     enum stream_dead *why, char *detail, size_t detail_size)
{
    const size_t               ct_len = strlen(VELO_SNAPSHOT_CONTENT_TYPE);
    Velo__V1__StationSnapshot *s;
    int                        rv;

    if (r->len > max_bytes)
        return dead(why, STREAM_DEAD_TOO_BIG, detail, detail_size,
                    "value of %zu bytes over the %zu-byte limit", r->len,
                    max_bytes);
    if (r->content_type != NULL &&
        (r->content_type_len != ct_len ||
         memcmp(r->content_type, VELO_SNAPSHOT_CONTENT_TYPE, ct_len) != 0))
        return dead(why, STREAM_DEAD_CONTENT_TYPE, detail, detail_size,
                    "content-type is not %s", VELO_SNAPSHOT_CONTENT_TYPE);
    /* A tombstone has no value: it decodes as an empty snapshot. */
    s = velo__v1__station_snapshot__unpack(
        NULL, r->len, r->value != NULL ? r->value : (const void *)"");
    if (s == NULL)
        return dead(why, STREAM_DEAD_UNDECODABLE, detail, detail_size,
                    "value is not a velo.v1.StationSnapshot");
    rv = check_ids(s, r, why, detail, detail_size);
    if (rv != VELO_OK) {
        velo__v1__station_snapshot__free_unpacked(s, NULL);
        return rv;
    }
    *out = s;
    return VELO_OK;
}
