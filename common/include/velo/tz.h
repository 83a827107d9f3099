/* velo/tz.h: IANA time zones from the system's TZif files, without TZ.
 *
 * velo_tz_load parses /usr/share/zoneinfo/<name> (TZif v1, or the 64-bit
 * v2+ block and its footer POSIX TZ string, which rules every instant past
 * the last listed transition). Nothing touches setenv("TZ")/localtime, so
 * any number of zones may be used at once from any thread: a loaded
 * velo_tz is immutable. Times are ms since the epoch, UTC; leap seconds
 * are ignored (POSIX time).
 *
 * The local day of a date is [start, next start), where start is the first
 * instant whose local date is that date: normally local midnight, and the
 * end of the gap when a zone skips midnight. A day across a daylight-saving
 * change is 23 or 25 hours long. */
#ifndef VELO_TZ_H
#define VELO_TZ_H

#include <stdint.h>

#include "velo/err.h"

typedef struct velo_tz velo_tz;

/* Where zones are read from unless velo_tz_load_dir says otherwise. */
#define VELO_TZ_DIR "/usr/share/zoneinfo"

/* Broken-down local time of an instant. */
struct velo_tz_local {
    int32_t year;
    int     month;        /* 1-12 */
    int     day;          /* 1-31 */
    int     hour;         /* 0-23 */
    int     minute;       /* 0-59 */
    int     second;       /* 0-59 */
    int     wday;         /* day of week, 0 = Sunday */
    int32_t utc_offset_s; /* local = UTC + this */
    int     is_dst;
};

/* Loads zone name ("Europe/Brussels", "UTC") from VELO_TZ_DIR. On success
 * stores a new zone in *out; the caller frees it with velo_tz_free.
 * Errors: VELO_EINVAL (a name that is not a zone name: empty, absolute,
 * "..", odd characters, over 255 bytes), VELO_ENOTFOUND (no such zone),
 * VELO_EPROTO (not a TZif file, or a footer this parser does not read),
 * VELO_EIO, VELO_ENOMEM. */
VELO_MUST_CHECK int velo_tz_load(velo_tz **out, const char *name);

/* Same, from dir instead of VELO_TZ_DIR (tests). */
VELO_MUST_CHECK int velo_tz_load_dir(velo_tz **out, const char *dir,
                                     const char *name);

/* The name the zone was loaded with; borrowed from tz. */
const char *velo_tz_name(const velo_tz *tz);

/* UTC offset in seconds at instant utc_ms. */
int32_t velo_tz_offset_s(const velo_tz *tz, int64_t utc_ms);

/* Fills *out with the local time of utc_ms. */
void velo_tz_local(const velo_tz *tz, int64_t utc_ms,
                   struct velo_tz_local *out);

/* The UTC instant (ms) at which local date year-month-day starts (see the
 * top of this file). month and day may be out of range and are normalised
 * like mktime (day 32 of January is February 1). */
int64_t velo_tz_day_start_ms(const velo_tz *tz, int32_t year, int month,
                             int day);

/* The local day containing utc_ms: [*start_ms, *end_ms) and its date as
 * "YYYY-MM-DD" in date (11 bytes with the NUL). */
void velo_tz_day_bounds(const velo_tz *tz, int64_t utc_ms, int64_t *start_ms,
                        int64_t *end_ms, char date[11]);

/* Days since 1970-01-01 of a proleptic Gregorian date (month and day may
 * be out of range, normalised), and back. Pure arithmetic. */
int64_t velo_tz_days_from_civil(int32_t year, int month, int day);
void velo_tz_civil_from_days(int64_t days, int32_t *year, int *month, int *day);

/* NULL is a no-op. */
void velo_tz_free(velo_tz *tz);

#endif
