/* velo/clock.h: time helpers. All times are int64 milliseconds. */
#ifndef VELO_CLOCK_H
#define VELO_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

/* Wall clock, ms since the Unix epoch (CLOCK_REALTIME). */
int64_t velo_now_ms(void);
/* Monotonic clock in ms, for intervals and deadlines. */
int64_t velo_mono_ms(void);
/* Monotonic clock in ns, for latency measurement. */
int64_t velo_mono_ns(void);

/* Parses an RFC 3339 / ISO 8601 UTC or offset time ("2019-04-08T12:23:34Z",
 * "2019-04-08T12:23:34.5+02:00") into ms since the epoch. VELO_EINVAL on
 * anything else. */
VELO_MUST_CHECK int velo_time_parse_iso(const char *s, int64_t *out_ms);

/* Formats ms since the epoch as "2026-11-25T12:00:00.123Z" (24 chars + NUL).
 * buf must hold at least 32 bytes. */
void velo_time_format_iso(int64_t ms, char *buf, size_t size);

/* Sleeps up to ms; returns early on nothing (use a condvar to wake). */
void velo_sleep_ms(int64_t ms);

#endif
