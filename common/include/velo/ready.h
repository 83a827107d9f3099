/* velo/ready.h: the ready file that tells scripts and tests a service serves.
 *
 * Written atomically (temp file, then rename) once every listener is bound.
 * Content: one address per line, "127.0.0.1:PORT" or a URL such as
 * "tcp://127.0.0.1:7701"; the first line is the service's main address
 * (the admin port, or the gateway's public port). */
#ifndef VELO_READY_H
#define VELO_READY_H

#include <stddef.h>

#include "velo/err.h"

/* Writes the n lines to path atomically. NULL or empty path: no-op, VELO_OK.
 * VELO_EIO when the file cannot be written. */
VELO_MUST_CHECK int velo_ready_write(const char *path, const char *const *lines,
                                     size_t n);

#endif
