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

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *p)
{
    uint32_t cp;
    size_t   n, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2, cp = p[0] & 0x1Fu;
    else if ((p[0] & 0xF0) == 0xE0)
        n = 3, cp = p[0] & 0x0Fu;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4, cp = p[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        return 0;
    if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        return 0;
    return n;
}

/* The escape of one byte that needs one, into esc; returns its length. */
static size_t
escape_byte(unsigned char c, char *esc, size_t size)
{
    if (c == '"' || c == '\\') {
        esc[0] = '\\';
        esc[1] = (char)c;
        return 2;
    }
    if (c < 0x20) {
        snprintf(esc, size, "\\u%04x", c);
        return 6;
    }
    memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD for invalid UTF-8 */
    return 3;
}

/* Appends the escaped body of s (without quotes). Peers send names in any
 * encoding: bytes that are not valid UTF-8 become U+FFFD, so the output is
 * always valid JSON text. */
static int
append_escaped(struct velo_buf *b, const char *s)
{
    const unsigned char *run = (const unsigned char *)s;
    const unsigned char *p = run;
    char                 esc[8];
    size_t               n;
    int                  rv;

    while (*p != '\0') {
        n = needs_escape(*p) ? 0 : utf8_len(p);
        if (n > 0) {
            p += n;
            continue;
        }
        /* Copy the run of plain bytes in one append, then the escape. */
        rv = velo_buf_append(b, run, (size_t)(p - run));
        if (rv == VELO_OK)
            rv = velo_buf_append(b, esc, escape_byte(*p, esc, sizeof(esc)));
        if (rv != VELO_OK)
            return rv;
        run = ++p;
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
