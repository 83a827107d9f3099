/* cursor.c: keyset cursors (see velo/cursor.h).
 *
 * Binary form, then base64url without padding:
 *   version (1 byte, 1), flags (bit 0: has_num), [num: 8 bytes, the
 *   IEEE-754 bits big-endian], nparts (1 byte), per part: length (2 bytes
 *   big-endian) and bytes, then FNV-1a 32 of everything before it. */
#include <stdint.h>
#include <string.h>

#include "velo/cursor.h"
#include "velo/utf8.h"

#define CURSOR_VERSION 1
#define CURSOR_BIN_MAX                                                         \
    (2 + 8 + 1 + VELO_CURSOR_PARTS * (2 + VELO_CURSOR_PART_MAX) + 4)

_Static_assert((CURSOR_BIN_MAX + 2) / 3 * 4 < VELO_CURSOR_TEXT_MAX,
               "VELO_CURSOR_TEXT_MAX holds the longest cursor");

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t   i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t
get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    size_t   i;

    for (i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The binary form of c into bin; its length, or 0 when c is invalid (*rv
 * says why). */
static size_t
cursor_pack(const struct velo_cursor *c, uint8_t *bin, int *rv)
{
    size_t   n = 0, i, len;
    uint64_t bits;

    *rv = VELO_EINVAL;
    if (c->nparts > VELO_CURSOR_PARTS || (c->has_num && c->num != c->num))
        return 0;
    bin[n++] = CURSOR_VERSION;
    bin[n++] = c->has_num ? 1 : 0;
    if (c->has_num) {
        memcpy(&bits, &c->num, sizeof(bits));
        put_be(bin + n, bits, 8);
        n += 8;
    }
    bin[n++] = (uint8_t)c->nparts;
    for (i = 0; i < c->nparts; i++) {
        if (c->parts[i] == NULL)
            return 0;
        len = strlen(c->parts[i]);
        if (len > VELO_CURSOR_PART_MAX) {
            *rv = VELO_ETOOBIG;
            return 0;
        }
        put_be(bin + n, len, 2);
        memcpy(bin + n + 2, c->parts[i], len);
        n += 2 + len;
    }
    put_be(bin + n, fnv1a(bin, n), 4);
    *rv = VELO_OK;
    return n + 4;
}

int
velo_cursor_encode(const struct velo_cursor *c, char *out, size_t size)
{
    uint8_t  bin[CURSOR_BIN_MAX];
    size_t   n, i, o = 0;
    uint32_t v;
    int      rv;

    n = cursor_pack(c, bin, &rv);
    if (rv != VELO_OK)
        return rv;
    if ((n * 4 + 2) / 3 >= size)
        return VELO_ETOOBIG;
    for (i = 0; i < n; i += 3) {
        v = (uint32_t)bin[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)bin[i + 1] << 8;
        if (i + 2 < n)
            v |= bin[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = b64[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return VELO_OK;
}

static int
b64_val(char ch)
{
    const char *p = ch != '\0' ? strchr(b64, ch) : NULL;

    return p != NULL ? (int)(p - b64) : -1;
}

/* base64url text -> bin; the length, or 0 when it is not base64url. */
static size_t
cursor_unbase64(const char *text, size_t len, uint8_t *bin)
{
    size_t   i, j, n = 0;
    uint32_t acc;
    int      v;

    if (len % 4 == 1)
        return 0;
    for (i = 0; i < len; i += 4) {
        acc = 0;
        for (j = 0; j < 4; j++) {
            v = i + j < len ? b64_val(text[i + j]) : 0;
            if (v < 0)
                return 0;
            acc = acc << 6 | (uint32_t)v;
        }
        bin[n++] = (uint8_t)(acc >> 16);
        if (i + 2 < len)
            bin[n++] = (uint8_t)(acc >> 8);
        if (i + 3 < len)
            bin[n++] = (uint8_t)acc;
    }
    return n;
}

/* Reads the parts of bin[at..end) into c, copying each into buf with a
 * NUL. VELO_EINVAL on any inconsistency. */
static int
cursor_parts(struct velo_cursor *c, const uint8_t *bin, size_t at, size_t end,
             char *buf)
{
    size_t i, len, o = 0;

    if (at >= end || bin[at] > VELO_CURSOR_PARTS)
        return VELO_EINVAL;
    c->nparts = bin[at++];
    for (i = 0; i < c->nparts; i++) {
        if (end - at < 2)
            return VELO_EINVAL;
        len = (size_t)get_be(bin + at, 2);
        at += 2;
        if (len > VELO_CURSOR_PART_MAX || end - at < len ||
            memchr(bin + at, '\0', len) != NULL ||
            !velo_utf8_valid(bin + at, len))
            return VELO_EINVAL;
        memcpy(buf + o, bin + at, len);
        buf[o + len] = '\0';
        c->parts[i] = buf + o;
        o += len + 1;
        at += len;
    }
    return at == end ? VELO_OK : VELO_EINVAL;
}

int
velo_cursor_decode(struct velo_cursor *out, const char *text, char *buf)
{
    uint8_t            bin[CURSOR_BIN_MAX + 3];
    struct velo_cursor c = {0};
    size_t             len = strnlen(text, VELO_CURSOR_TEXT_MAX), n, at = 2;
    uint64_t           bits;

    if (len >= VELO_CURSOR_TEXT_MAX || (len + 3) / 4 * 3 > sizeof(bin))
        return VELO_EINVAL;
    n = cursor_unbase64(text, len, bin);
    if (n < 7 || get_be(bin + n - 4, 4) != fnv1a(bin, n - 4) ||
        bin[0] != CURSOR_VERSION || bin[1] > 1)
        return VELO_EINVAL;
    c.has_num = bin[1] == 1;
    if (c.has_num) {
        if (n - 4 < at + 8)
            return VELO_EINVAL;
        bits = get_be(bin + at, 8);
        memcpy(&c.num, &bits, sizeof(bits));
        if (c.num != c.num)
            return VELO_EINVAL;
        at += 8;
    }
    if (cursor_parts(&c, bin, at, n - 4, buf) != VELO_OK)
        return VELO_EINVAL;
    *out = c;
    return VELO_OK;
}
