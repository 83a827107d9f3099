/* station_record.c: one station record -> one item or reject of a batch, and
 * the field readers every station parser shares. See station_record.h. */
#include "station_record.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "payload_json.h"
#include "velo/json.h"
#include "velo/utf8.h"

#define REC_EPOCH_2000_MS 946684800000LL
#define REC_DAY_MS 86400000LL
#define REC_MAX_MS 9.0e15

/* Records el as a reject with its compact JSON. */
static int
rec_reject(struct ingest_batch *b, const cJSON *el, const char *id,
           const char *why)
{
    char *raw = cJSON_PrintUnformatted(el);
    int   rv;

    rv = ingest_batch_reject(b, raw, raw != NULL ? strlen(raw) : 0, id, why);
    cJSON_free(raw);
    return rv;
}

/* An id is a Kafka key and a lookup key: it must be exact. One with a NUL
 * (marked U+FFFF by payload_json.h) would collide with its prefix, and
 * invalid UTF-8 cannot be written anywhere: both reject the record. */
static const char *
id_text_problem(const char *id)
{
    size_t n = strlen(id);

    if (memmem(id, n, INGEST_NUL_MARK, 3) != NULL)
        return "contains NUL (U+0000)";
    if (!velo_utf8_valid(id, n))
        return "not valid UTF-8";
    return NULL;
}

/* Reads the record id into id (fmt->id_size bytes), or fails r and leaves
 * id "" when it is unusable. */
static bool
rec_id(struct ingest_rec *r, const struct ingest_rec_format *fmt,
       const cJSON *el, char *id)
{
    const char *bad;
    int         rv;

    id[0] = '\0';
    if (!cJSON_IsObject(el)) {
        ingest_rec_fail(r, "station", "not an object");
        return false;
    }
    rv = velo_json_id(el, fmt->id_key, id, fmt->id_size);
    if (rv == VELO_OK && id[0] != '\0') {
        bad = id_text_problem(id);
        if (bad == NULL)
            return true;
        ingest_rec_fail(r, fmt->id_key, bad);
        id[0] = '\0';
        return false;
    }
    ingest_rec_fail(r, fmt->id_key,
                    rv == VELO_ENOTFOUND ? "missing"
                    : rv == VELO_ETOOBIG ? "too long"
                    : rv == VELO_OK      ? "empty"
                                         : fmt->id_wrong_type);
    id[0] = '\0';
    return false;
}

int
ingest_rec_station(const struct ingest_rec_format *fmt, const void *arg,
                   const struct ingest_parse_ctx *ctx, struct ingest_batch *b,
                   const cJSON *el)
{
    struct ingest_rec r = {
        .batch = b, .prefix = "", .fetched_at_ms = ctx->fetched_at_ms};
    Velo__V1__StationSnapshot *s;
    char                       id[INGEST_REC_ID_MAX];
    bool                       dup = false;
    int                        rv;

    assert(fmt->id_size <= sizeof(id));
    if (!rec_id(&r, fmt, el, id))
        return rec_reject(b, el, id, r.why);
    rv = ingest_batch_claim_id(b, id, &dup);
    if (rv != VELO_OK)
        return rv;
    if (dup) /* the first record of an id stands; later ones are doubtful */
        return rec_reject(b, el, id, "duplicate-id");
    rv = ingest_batch_add(b, &s);
    if (rv != VELO_OK)
        return rv;
    s->system_id = ingest_batch_strdup(b, ctx->system_id);
    s->station_id = ingest_batch_strdup(b, id);
    s->source_format = ingest_batch_strdup(b, fmt->name);
    s->fetched_at_ms = ctx->fetched_at_ms;
    s->has_fetched_at_ms = 1;
    r.snapshot = s;
    fmt->map(&r, el, arg);
    if (r.why[0] == '\0' &&
        ingest_snapshot_validate(s, r.why, sizeof(r.why)) == VELO_OK)
        return VELO_OK;
    ingest_batch_pop(b);
    return rec_reject(b, el, id, r.why);
}

int
ingest_rec_stations(const struct ingest_rec_format *fmt, const void *arg,
                    const struct ingest_parse_ctx *ctx, struct ingest_batch *b,
                    const cJSON *list)
{
    const cJSON *el;
    int          rv = VELO_OK;

    cJSON_ArrayForEach(el, list)
    {
        rv = ingest_rec_station(fmt, arg, ctx, b, el);
        if (rv != VELO_OK)
            break;
    }
    return rv;
}

void
ingest_rec_fail(struct ingest_rec *r, const char *key, const char *what)
{
    if (r->why[0] == '\0')
        snprintf(r->why, sizeof(r->why), "%s%s: %s", r->prefix, key, what);
}

bool
ingest_rec_found(struct ingest_rec *r, const char *key, int rv,
                 const char *what)
{
    if (rv == VELO_OK)
        return true;
    if (rv != VELO_ENOTFOUND)
        ingest_rec_fail(r, key, what);
    return false;
}

void
ingest_rec_u32(struct ingest_rec *r, const cJSON *o, const char *key,
               protobuf_c_boolean *has, uint32_t *v)
{
    int64_t x;

    /* Read as int64 so that a negative or too large count says so. */
    if (!ingest_rec_found(r, key, velo_json_i64(o, key, &x), "not an integer"))
        return;
    if (x < 0)
        ingest_rec_fail(r, key, "negative");
    else if (x > (int64_t)UINT32_MAX)
        ingest_rec_fail(r, key, "too large");
    else {
        *v = (uint32_t)x;
        *has = 1;
    }
}

void
ingest_rec_bool(struct ingest_rec *r, const cJSON *o, const char *key,
                protobuf_c_boolean *has, protobuf_c_boolean *v)
{
    bool x;

    if (ingest_rec_found(r, key, velo_json_bool(o, key, &x), "not a boolean")) {
        *v = x;
        *has = 1;
    }
}

void
ingest_rec_dbl(struct ingest_rec *r, const cJSON *o, const char *key,
               protobuf_c_boolean *has, double *v)
{
    /* velo_json_dbl writes *v only when it returns VELO_OK. */
    if (ingest_rec_found(r, key, velo_json_dbl(o, key, v), "not a number"))
        *has = 1;
}

void
ingest_rec_str(struct ingest_rec *r, const cJSON *o, const char *key,
               char **dst)
{
    const char *x;

    if (ingest_rec_found(r, key, velo_json_str(o, key, &x), "not a string"))
        ingest_rec_text(r, x, dst);
}

void
ingest_rec_text(struct ingest_rec *r, const char *text, char **dst)
{
    struct velo_buf buf;
    size_t          n, k = 0;
    char           *m;

    if (text == NULL)
        return;
    n = strlen(text);
    if (velo_utf8_valid(text, n) &&
        memmem(text, n, INGEST_NUL_MARK, 3) == NULL) {
        *dst = ingest_batch_strdup(r->batch, text);
        return;
    }
    /* Each bad byte becomes 3: the buffer can always hold the result. */
    velo_buf_init(&buf, 3 * n + 1);
    if (velo_utf8_repair(&buf, text, n, &k) != VELO_OK) {
        velo_buf_fini(&buf);
        ingest_rec_fail(r, "text", "cannot repair"); /* out of memory */
        return;
    }
    /* A NUL the source sent: U+FFFF -> U+FFFD, same length in place. */
    while ((m = memmem(buf.data, buf.len, INGEST_NUL_MARK, 3)) != NULL)
        m[2] = (char)0xBD;
    *dst = ingest_batch_strdup(r->batch, buf.data != NULL ? buf.data : "");
    velo_buf_fini(&buf);
    r->batch->repaired++;
}

const cJSON *
ingest_rec_obj(struct ingest_rec *r, const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

    if (it == NULL || cJSON_IsNull(it))
        return NULL;
    if (!cJSON_IsObject(it)) {
        ingest_rec_fail(r, key, "not an object");
        return NULL;
    }
    return it;
}

bool
ingest_rec_time_plausible(int64_t fetched_at_ms, double ms)
{
    /* Written so that NaN compares false everywhere; the future bound is
     * added in double, where it cannot overflow. */
    return ms >= (double)REC_EPOCH_2000_MS && ms < REC_MAX_MS &&
           (fetched_at_ms <= 0 ||
            ms <= (double)fetched_at_ms + (double)REC_DAY_MS);
}

void
ingest_rec_time(struct ingest_rec *r, int64_t ms)
{
    if (!ingest_rec_time_plausible(r->fetched_at_ms, (double)ms))
        ms = 0;
    r->snapshot->last_reported_ms = ms;
    r->snapshot->has_last_reported_ms = 1;
}

const cJSON *
ingest_rec_time_item(struct ingest_rec *r, const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

    if (it == NULL)
        return NULL;
    if (cJSON_IsNull(it)) {
        ingest_rec_time(r, 0);
        return NULL;
    }
    return it;
}
