/* buf.c: bounded growable buffer. */
#include "velo/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
velo_buf_init(struct velo_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->fixed = NULL;
}

void
velo_buf_init_fixed(struct velo_buf *b, char *mem, size_t size)
{
    /* cap == max + 1, so buf_reserve never reaches realloc. */
    b->data = mem;
    b->len = 0;
    b->cap = size;
    b->max = size - 1;
    b->fixed = mem;
    mem[0] = '\0';
}

/* Makes room for len + n bytes plus the NUL. */
static int
buf_reserve(struct velo_buf *b, size_t n)
{
    size_t need, cap;
    char  *p;

    if (n > b->max || b->len > b->max - n)
        return VELO_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return VELO_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    /* max == SIZE_MAX means no cap of our own: max + 1 would wrap to 0. */
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1;
    p = realloc(b->data, cap);
    if (p == NULL)
        return VELO_ENOMEM;
    b->data = p;
    b->cap = cap;
    return VELO_OK;
}

int
velo_buf_append(struct velo_buf *b, const void *p, size_t n)
{
    int rv;

    rv = buf_reserve(b, n);
    if (rv != VELO_OK)
        return rv;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VELO_OK;
}

int
velo_buf_puts(struct velo_buf *b, const char *s)
{
    return velo_buf_append(b, s, strlen(s));
}

int
velo_buf_printf(struct velo_buf *b, const char *fmt, ...)
{
    va_list ap;
    int     n, rv;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return VELO_EINVAL;
    rv = buf_reserve(b, (size_t)n);
    if (rv != VELO_OK)
        return rv;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return VELO_OK;
}

void
velo_buf_reset(struct velo_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

char *
velo_buf_steal(struct velo_buf *b, size_t *len)
{
    char *p = b->data;

    if (b->fixed != NULL) {
        /* Caller storage cannot change hands: hand out nothing. */
        velo_buf_reset(b);
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void
velo_buf_fini(struct velo_buf *b)
{
    if (b->fixed != NULL) {
        velo_buf_reset(b);
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
