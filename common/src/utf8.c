/* utf8.c: validation, repair (U+FFFD) and boundary-safe cuts. */
#include <stdint.h>
#include <string.h>

#include "velo/utf8.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t
velo_utf8_seq_len(const void *s, size_t len)
{
    const unsigned char *p = s;
    uint32_t             cp;
    size_t               n, i;

    if (len == 0)
        return 0;
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
    if (n > len)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    /* Overlong 3-byte forms and UTF-16 surrogates; 4-byte range. */
    if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        return 0;
    if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        return 0;
    return n;
}

bool
velo_utf8_valid(const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t               i = 0, n;

    while (i < len) {
        n = velo_utf8_seq_len(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

int
velo_utf8_repair(struct velo_buf *b, const void *s, size_t len,
                 size_t *replaced)
{
    const unsigned char *p = s;
    size_t               mark = b->len, i = 0, run = 0, n, count = 0;
    int                  rv = VELO_OK;

    while (i < len && rv == VELO_OK) {
        n = velo_utf8_seq_len(p + i, len - i);
        if (n > 0) {
            i += n;
            continue;
        }
        /* Copy the valid run in one append, then the replacement. */
        rv = velo_buf_append(b, p + run, i - run);
        if (rv == VELO_OK)
            rv = velo_buf_append(b, REPLACEMENT, 3);
        count++;
        run = ++i;
    }
    if (rv == VELO_OK)
        rv = velo_buf_append(b, p + run, len - run);
    if (rv != VELO_OK) {
        if (b->data != NULL) {
            b->len = mark;
            b->data[mark] = '\0';
        }
        return rv;
    }
    if (replaced != NULL)
        *replaced = count;
    return VELO_OK;
}

size_t
velo_utf8_cut(const void *s, size_t len, size_t max)
{
    const unsigned char *p = s;
    size_t               i = 0, n;

    if (len <= max)
        return len;
    /* Walk whole sequences; an invalid byte counts as one unit, since it
     * will be replaced on its own anyway. */
    while (i < max) {
        n = velo_utf8_seq_len(p + i, len - i);
        if (n == 0)
            n = 1;
        if (i + n > max)
            break;
        i += n;
    }
    return i;
}

void
velo_utf8_clip(char *dst, size_t size, const char *s, size_t max)
{
    size_t len = velo_utf8_cut(s, strlen(s), max);
    size_t i = 0, o = 0, n;

    while (i < len) {
        n = velo_utf8_seq_len(s + i, len - i);
        /* The unit written is the sequence itself, or U+FFFD for one bad
         * byte; it must fit with the NUL. */
        if (o + (n > 0 ? n : 3) >= size)
            break;
        if (n > 0) {
            memcpy(dst + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(dst + o, REPLACEMENT, 3);
            o += 3;
            i++;
        }
    }
    dst[o] = '\0';
}
