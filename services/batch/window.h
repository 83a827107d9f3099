/* window.h: the statistics of one station over one window, as a pure
 * function of its samples (velo-batch's aggregation core).
 *
 * Semantics (docs/architecture.md, "velo-batch"):
 * - a sample's state holds from its t_ms until the next sample of the
 *   station or for at most hb_ms (the heartbeat interval), whichever comes
 *   first; time after that holds no information and counts toward nothing;
 * - averages, minutes empty/full, the dominant status and min/max/capacity
 *   cover only states in force for some time inside [start, end);
 * - the change between two consecutive samples belongs to the window that
 *   holds the later one; it counts in bikes_in/bikes_out only when the two
 *   are at most hb_ms apart, and otherwise makes the window's flows
 *   unreliable (a change may hide in the gap, so none is guessed);
 * - flow_reliable: the whole window had information and every change in it
 *   followed its predecessor within hb_ms.
 * Only samples with t_ms >= start - hb_ms can matter, which bounds the
 * history a window needs. All sums are exact integers (ms x count), so the
 * same samples always give bit-identical doubles. */
#ifndef BATCH_WINDOW_H
#define BATCH_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One observed state (a StationSnapshot reduced to what batch needs). */
struct batch_sample {
    int64_t  t_ms; /* fetched_at_ms: the event time */
    uint32_t bikes;
    uint32_t docks;
    uint32_t capacity;
    uint32_t electric;
    bool     has_electric; /* the source sent an e-bike count */
    uint8_t  status;       /* VELO__V1__STATION_STATUS__*, 0-2 */
};

#define BATCH_NSTATUS 3

struct batch_stats {
    uint32_t samples; /* samples with t_ms inside the window */
    int64_t  known_ms;
    double   bikes_avg, docks_avg;
    uint32_t bikes_min, bikes_max, docks_min, docks_max;
    int64_t  empty_ms, full_ms;
    uint32_t bikes_in, bikes_out;
    bool     flow_reliable;
    uint8_t  status; /* dominant by time; ties go to the lower value */
    uint32_t capacity;
    bool     has_electric;
    double   electric_avg;
};

/* Computes the window [start, end) from s[0..n), sorted by t_ms, distinct
 * times. Returns true and fills *out when some time inside the window has
 * information; false (and *out untouched) when none has. */
bool batch_window_compute(const struct batch_sample *s, size_t n, int64_t start,
                          int64_t end, int64_t hb_ms, struct batch_stats *out);

#endif
