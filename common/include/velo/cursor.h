/* velo/cursor.h: keyset paging cursors, opaque to clients.
 *
 * A page of a sorted listing ends with a cursor that holds the sort key
 * of its last row; the next page starts strictly after that key. Unlike
 * an offset, a row arriving or leaving before the cursor moves no other
 * row between pages. velo-stream's ListStations and the gateway's
 * `cursor=` share this encoding.
 *
 * The key is an optional number (a leading numeric sort key, e.g. a
 * distance; compared exactly, so it round-trips bit for bit) then up to
 * VELO_CURSOR_PARTS strings (e.g. system_id, station_id). The text is
 * base64url (URL- and JSON-safe, no padding) of a versioned binary form
 * with a checksum, so a cursor that was cut, edited or made up is
 * rejected (VELO_EINVAL) rather than misread. The checksum catches
 * accidents, not forgery: a cursor grants nothing a request could not ask
 * for directly. No allocation; caller-owned storage; any thread. */
#ifndef VELO_CURSOR_H
#define VELO_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "velo/err.h"

#define VELO_CURSOR_PARTS 3
#define VELO_CURSOR_PART_MAX 512 /* bytes of one string part */
/* Longest cursor text, NUL included: bounds a caller's buffer and what
 * velo_cursor_decode reads. */
#define VELO_CURSOR_TEXT_MAX 2200

struct velo_cursor {
    bool        has_num;
    double      num;
    size_t      nparts;
    const char *parts[VELO_CURSOR_PARTS]; /* NUL-terminated */
};

/* Writes the text of c into out (size bytes, NUL-terminated).
 * VELO_EINVAL: more than VELO_CURSOR_PARTS parts, a NULL part, or num is
 * NaN. VELO_ETOOBIG: a part over VELO_CURSOR_PART_MAX, or out too small
 * (VELO_CURSOR_TEXT_MAX is always enough). out is untouched on failure. */
VELO_MUST_CHECK int velo_cursor_encode(const struct velo_cursor *c, char *out,
                                       size_t size);

/* Parses text into *out. The parts point into buf (caller storage of
 * VELO_CURSOR_TEXT_MAX bytes) and live as long as it. VELO_EINVAL: not a
 * cursor this version wrote (bad characters, too long, cut, checksum,
 * version, a part that is not valid UTF-8 or holds a NUL). *out is written
 * only on success. */
VELO_MUST_CHECK int velo_cursor_decode(struct velo_cursor *out,
                                       const char *text, char *buf);

#endif
