/* velo/buf.h: a growable byte buffer with a hard maximum (curl's dynbuf).
 *
 * Every buffer a peer can fill is a velo_buf with a configured max: an
 * append past it fails with VELO_ETOOBIG and leaves the buffer unchanged.
 * The data is always NUL-terminated (the NUL is not counted in len and does
 * not count toward max). Caller-allocated (libuv style): _init/_fini. */
#ifndef VELO_BUF_H
#define VELO_BUF_H

#include <stddef.h>

#include "velo/err.h"

struct velo_buf {
    char  *data; /* NULL until the first append; owned by the buf */
    size_t len;
    size_t cap;
    size_t max;
    char  *fixed; /* caller storage from velo_buf_init_fixed, or NULL */
};

/* Empty buffer that may grow to max bytes. Allocates nothing. */
void velo_buf_init(struct velo_buf *b, size_t max);

/* Empty buffer over the caller's size bytes at mem (size >= 1): it never
 * allocates, holds at most size - 1 bytes (plus the NUL) and past that
 * fails with VELO_ETOOBIG. For hot paths that must not allocate, like a
 * log line. _fini only empties it; _steal returns NULL. mem must outlive
 * the buffer. */
void velo_buf_init_fixed(struct velo_buf *b, char *mem, size_t size);

/* Appends n bytes. VELO_ETOOBIG if len + n > max, VELO_ENOMEM. */
VELO_MUST_CHECK int velo_buf_append(struct velo_buf *b, const void *p,
                                    size_t n);
VELO_MUST_CHECK int velo_buf_puts(struct velo_buf *b, const char *s);
/* printf-style append; VELO_ETOOBIG when the result would pass max. */
VELO_MUST_CHECK int velo_buf_printf(struct velo_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the allocation, sets len to 0. */
void velo_buf_reset(struct velo_buf *b);

/* Hands the data to the caller (who frees it with free()); the buffer is
 * empty afterwards. Returns NULL when nothing was ever appended. */
char *velo_buf_steal(struct velo_buf *b, size_t *len);

/* Frees the data. Safe on an initialised, empty or zeroed buffer. */
void velo_buf_fini(struct velo_buf *b);

#endif
