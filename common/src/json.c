/* json.c: typed getters over cJSON and RFC 8259 string escaping. */
#include "velo/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int
velo_json_parse(const char *s, size_t len, cJSON **out)
{
    const char *end = NULL;
    const char *stop = s + len;
    cJSON      *root;

    if (s == NULL || len == 0)
        return VELO_EPROTO;
    /* require_null_terminated would demand a NUL at s[len], which a
     * network buffer need not have; check the tail by hand instead. */
    root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (root == NULL)
        return VELO_EPROTO;
    while (end != NULL && end < stop &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != stop) {
        cJSON_Delete(root);
        return VELO_EPROTO;
    }
    *out = root;
    return VELO_OK;
}

/* The member named key, or NULL when it is absent or JSON null. */
static const cJSON *
member(const cJSON *obj, const char *key)
{
    const cJSON *it;

    if (obj == NULL || !cJSON_IsObject(obj))
        return NULL;
    it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (it == NULL || cJSON_IsNull(it))
        return NULL;
    return it;
}

int
velo_json_str(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *it = member(obj, key);

    if (it == NULL)
        return VELO_ENOTFOUND;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return VELO_EPROTO;
    *out = it->valuestring;
    return VELO_OK;
}

/* Checks that v is integral and within [lo, hi] (both exact in double). */
static bool
integral_in(double v, double lo, double hi)
{
    return isfinite(v) && floor(v) == v && v >= lo && v <= hi;
}

int
velo_json_i64(const cJSON *obj, const char *key, int64_t *out)
{
    const cJSON *it = member(obj, key);

    if (it == NULL)
        return VELO_ENOTFOUND;
    /* 2^63 is not an int64; -2^63 is, and both are exact doubles. */
    if (!cJSON_IsNumber(it) ||
        !integral_in(it->valuedouble, -9223372036854775808.0,
                     9223372036854774784.0))
        return VELO_EPROTO;
    *out = (int64_t)it->valuedouble;
    return VELO_OK;
}

int
velo_json_u32(const cJSON *obj, const char *key, uint32_t *out)
{
    const cJSON *it = member(obj, key);

    if (it == NULL)
        return VELO_ENOTFOUND;
    if (!cJSON_IsNumber(it) ||
        !integral_in(it->valuedouble, 0.0, (double)UINT32_MAX))
        return VELO_EPROTO;
    *out = (uint32_t)it->valuedouble;
    return VELO_OK;
}

int
velo_json_dbl(const cJSON *obj, const char *key, double *out)
{
    const cJSON *it = member(obj, key);

    if (it == NULL)
        return VELO_ENOTFOUND;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return VELO_EPROTO;
    *out = it->valuedouble;
    return VELO_OK;
}

int
velo_json_bool(const cJSON *obj, const char *key, bool *out)
{
    const cJSON *it = member(obj, key);

    if (it == NULL)
        return VELO_ENOTFOUND;
    if (cJSON_IsBool(it)) {
        *out = cJSON_IsTrue(it);
        return VELO_OK;
    }
    /* GBFS 1.x feeds write booleans as 0/1. */
    if (cJSON_IsNumber(it) &&
        (it->valuedouble == 0.0 || it->valuedouble == 1.0)) {
        *out = it->valuedouble == 1.0;
        return VELO_OK;
    }
    return VELO_EPROTO;
}

int
velo_json_id(const cJSON *obj, const char *key, char *buf, size_t size)
{
    const cJSON *it = member(obj, key);
    char         tmp[32];
    const char  *s;
    size_t       n;

    if (it == NULL)
        return VELO_ENOTFOUND;
    if (cJSON_IsString(it) && it->valuestring != NULL) {
        s = it->valuestring;
    } else if (cJSON_IsNumber(it) &&
               integral_in(it->valuedouble, -9223372036854775808.0,
                           9223372036854774784.0)) {
        snprintf(tmp, sizeof(tmp), "%" PRId64, (int64_t)it->valuedouble);
        s = tmp;
    } else {
        return VELO_EPROTO;
    }
    n = strlen(s);
    if (n >= size)
        return VELO_ETOOBIG;
    memcpy(buf, s, n + 1);
    return VELO_OK;
}

/* True for bytes that must be escaped inside a JSON string. */
static bool
needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* Appends the escaped body of s (without quotes). */
static int
append_escaped(struct velo_buf *b, const char *s)
{
    const char *run = s;
    const char *p;
    char        esc[8];
    int         rv;

    for (p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!needs_escape(c))
            continue;
        /* Copy the run of plain bytes (UTF-8 included) in one append. */
        rv = velo_buf_append(b, run, (size_t)(p - run));
        if (rv != VELO_OK)
            return rv;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rv = velo_buf_append(b, esc, 2);
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rv = velo_buf_append(b, esc, 6);
        }
        if (rv != VELO_OK)
            return rv;
        run = p + 1;
    }
    return velo_buf_append(b, run, (size_t)(p - run));
}

int
velo_json_append_str(struct velo_buf *b, const char *s)
{
    size_t mark = b->len;
    int    rv;

    if (s == NULL)
        return velo_buf_puts(b, "null");
    rv = velo_buf_append(b, "\"", 1);
    if (rv == VELO_OK)
        rv = append_escaped(b, s);
    if (rv == VELO_OK)
        rv = velo_buf_append(b, "\"", 1);
    if (rv != VELO_OK && b->data != NULL) {
        /* All or nothing, like every other velo_buf append. */
        b->len = mark;
        b->data[mark] = '\0';
    }
    return rv;
}
