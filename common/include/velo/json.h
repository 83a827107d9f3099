/* velo/json.h: typed access to cJSON trees (writing: velo/jsonw.h).
 *
 * The getters tell "absent or null" (VELO_ENOTFOUND) apart from "present
 * with the wrong type or out of range" (VELO_EPROTO), so a parser can keep
 * a missing field absent and reject a wrong one. *out is written only on
 * VELO_OK. */
#ifndef VELO_JSON_H
#define VELO_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

/* Parses len bytes (need not be NUL-terminated). VELO_EPROTO on malformed
 * or truncated JSON; the caller frees with cJSON_Delete. */
VELO_MUST_CHECK int velo_json_parse(const char *s, size_t len, cJSON **out);

/* A string. The pointer is borrowed from obj. */
VELO_MUST_CHECK int velo_json_str(const cJSON *obj, const char *key,
                                  const char **out);
/* An integral number (no fraction) within int64. */
VELO_MUST_CHECK int velo_json_i64(const cJSON *obj, const char *key,
                                  int64_t *out);
/* An integral number in [0, UINT32_MAX]. */
VELO_MUST_CHECK int velo_json_u32(const cJSON *obj, const char *key,
                                  uint32_t *out);
/* Any finite number. */
VELO_MUST_CHECK int velo_json_dbl(const cJSON *obj, const char *key,
                                  double *out);
/* true/false, or the integers 0/1 (GBFS 1.x writes booleans that way). */
VELO_MUST_CHECK int velo_json_bool(const cJSON *obj, const char *key,
                                   bool *out);
/* An id sent as a string or an integer, written as a string into buf.
 * VELO_ETOOBIG when it does not fit. */
VELO_MUST_CHECK int velo_json_id(const cJSON *obj, const char *key, char *buf,
                                 size_t size);

#endif
