/* payload_json.h: parsing a source payload with cJSON without losing a
 * NUL.
 *
 * cJSON decodes "\u0000" into a NUL byte inside valuestring, and every
 * reader stops there: "4\u0000x" would read as "4" and collide with
 * station 4. Before parsing, each \u0000 escape inside a string becomes
 * \uFFFF (a noncharacter, same length, so nothing moves), which the
 * station readers then treat as the NUL it was: an id holding U+FFFF is
 * rejected, a name gets U+FFFD (station_record.h). A raw NUL byte is not
 * JSON at all (control characters must be escaped): the payload is
 * malformed. */
#ifndef INGEST_PAYLOAD_JSON_H
#define INGEST_PAYLOAD_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "velo/err.h"

/* UTF-8 of U+FFFF, the stand-in for a NUL the source sent. */
#define INGEST_NUL_MARK "\xEF\xBF\xBF"

/* velo_json_parse with the NUL guard above. VELO_EPROTO on malformed or
 * truncated JSON or a raw NUL byte, VELO_ENOMEM. The caller frees *out
 * with cJSON_Delete. */
VELO_MUST_CHECK int ingest_payload_json_parse(const char *body, size_t len,
                                              cJSON **out);

#endif
