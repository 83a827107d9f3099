/* velo/metrics.h: Prometheus counters, gauges and histograms.
 *
 * A registry holds metric families (name, help, type); a family holds one
 * series per label set. Lookups take the registry lock; updates on the
 * returned series are lock-free (atomics), so hot paths look a series up
 * once and keep the pointer. Series live as long as the registry.
 *
 * Labels are given pre-rendered without braces, e.g.
 * `source="jcdecaux:dublin",outcome="ok"` (NULL or "" for none). Values come
 * from configuration, never from peers, so label cardinality stays bounded.
 *
 * Thread: any. Fixed-size bookkeeping: allocation failure aborts
 * (velo_xmalloc policy, STYLE §6). */
#ifndef VELO_METRICS_H
#define VELO_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"

typedef struct velo_metrics velo_metrics;
typedef struct velo_metric  velo_metric;

VELO_MUST_CHECK int velo_metrics_new(velo_metrics **out);
/* Frees the registry and every series. NULL is a no-op. */
void velo_metrics_free(velo_metrics *m);

/* Finds or creates a series. A name registered with another type is a bug
 * (assert). */
velo_metric *velo_metrics_counter(velo_metrics *m, const char *name,
                                  const char *help, const char *labels);
velo_metric *velo_metrics_gauge(velo_metrics *m, const char *name,
                                const char *help, const char *labels);
/* bounds: ascending upper bounds, +Inf implied; copied on first creation. */
velo_metric *velo_metrics_histogram(velo_metrics *m, const char *name,
                                    const char *help, const char *labels,
                                    const double *bounds, size_t nbounds);

void velo_metric_inc(velo_metric *c);               /* counter += 1 */
void velo_metric_add(velo_metric *c, double v);     /* counter/gauge += v */
void velo_metric_set(velo_metric *g, double v);     /* gauge = v */
void velo_metric_observe(velo_metric *h, double v); /* histogram sample */
/* Current value (counter/gauge) or sample count (histogram). For tests
 * and readiness decisions. */
double velo_metric_value(const velo_metric *s);

/* Renders one label pair `name="value"` into buf (size > 0 bytes, always
 * NUL-terminated), escaping \\, " and newline as the text format wants, and
 * cutting an over-long value. For values that are not literals (system ids
 * from records, group ids from configuration); the caller bounds how many
 * different values it passes. */
void velo_metrics_label(char *buf, size_t size, const char *name,
                        const char *value);

/* Appends the Prometheus text exposition (format 0.0.4) of every family. */
VELO_MUST_CHECK int velo_metrics_render(velo_metrics *m, struct velo_buf *out);

/* Latency buckets in seconds, 0.5 ms .. 30 s, for *_seconds histograms. */
extern const double velo_metrics_latency_bounds[];
extern const size_t velo_metrics_latency_nbounds;

#endif
