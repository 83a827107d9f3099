/* velo/file.h: reading a whole file, bounded. */
#ifndef VELO_FILE_H
#define VELO_FILE_H

#include <stddef.h>

#include "velo/err.h"

/* Reads path into a new buffer of exactly its size plus a NUL (not counted
 * in *len); the caller frees *out. VELO_ETOOBIG when the file is larger
 * than max, VELO_EIO when it cannot be opened or read, VELO_ENOMEM. *out
 * and *len are written only on success. */
VELO_MUST_CHECK int velo_file_read(const char *path, size_t max, char **out,
                                   size_t *len);

#endif
