/* json.c: typed getters over cJSON. Writing JSON is jsonw.c's job. */
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
