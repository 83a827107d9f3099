/* velo/parse.h: strict number and flag parsing for config and queries.
 * Each rejects empty strings, leading/trailing junk and overflow with
 * VELO_EINVAL and leaves *out untouched on failure. */
#ifndef VELO_PARSE_H
#define VELO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

VELO_MUST_CHECK int velo_parse_u32(const char *s, uint32_t *out);
VELO_MUST_CHECK int velo_parse_u64(const char *s, uint64_t *out);
VELO_MUST_CHECK int velo_parse_i64(const char *s, int64_t *out);
/* Finite doubles only: "nan" and "inf" are rejected. */
VELO_MUST_CHECK int velo_parse_double(const char *s, double *out);
/* true/false, 1/0, yes/no, on/off (case-insensitive). */
VELO_MUST_CHECK int velo_parse_bool(const char *s, bool *out);

/* Writes the shortest %g form of a finite v that reads back as exactly v
 * (41.7, not 41.700000000000003; lat/lon round-trip). size >= 32. Callers
 * decide how to spell NaN and infinities for their format. */
void velo_format_double(double v, char *buf, size_t size);

#endif
