/* history.h: one station's samples, sorted by time, bounded. */
#ifndef BATCH_HISTORY_H
#define BATCH_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "window.h"

struct batch_history {
    struct batch_sample *s; /* ascending t_ms, distinct */
    size_t               n, cap;
    size_t               max; /* bound on n */
};

/* An empty history of at most max samples. Nothing allocated yet. */
void batch_history_init(struct batch_history *h, size_t max);

/* Inserts x in time order; a sample with the same t_ms is replaced (the
 * later record in partition order wins). When full, the oldest sample goes
 * and *dropped is incremented. *next_t is the time of the sample after x,
 * or INT64_MAX when x is the newest. Errors: VELO_ENOMEM (h unchanged). */
VELO_MUST_CHECK int batch_history_insert(struct batch_history      *h,
                                         const struct batch_sample *x,
                                         int64_t *next_t, uint64_t *dropped);

/* Drops the samples older than floor_ms. */
void batch_history_prune(struct batch_history *h, int64_t floor_ms);

/* The first t_ms >= t, or INT64_MAX when none. */
int64_t batch_history_next_at(const struct batch_history *h, int64_t t);

void batch_history_fini(struct batch_history *h);

#endif
