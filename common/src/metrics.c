/* metrics.c: a Prometheus registry with lock-free series updates.
 *
 * Locking: velo_metrics.mtx guards the family list and every family's
 * series list (lookups and render). A series' values are atomics and are
 * updated without the lock. Doubles are kept as their bit pattern in an
 * atomic uint64 and changed with compare-and-swap loops. */
#include "velo/metrics.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/log.h"
#include "velo/parse.h"

enum metric_type { M_COUNTER, M_GAUGE, M_HISTOGRAM };

struct family {
    struct family      *next;
    char               *name;
    char               *help;
    enum metric_type    type;
    double             *bounds; /* histograms: ascending, +Inf implied */
    size_t              nbounds;
    struct velo_metric *series; /* in creation order */
    struct velo_metric *last;
};

struct velo_metric {
    struct velo_metric *next;
    struct family      *fam;
    char               *labels;  /* "" for none */
    _Atomic uint64_t    value;   /* counter/gauge: double bits */
    _Atomic uint64_t    sum;     /* histogram: double bits */
    _Atomic uint64_t   *buckets; /* histogram: nbounds + 1, not cumulative */
};

struct velo_metrics {
    pthread_mutex_t mtx;
    struct family  *families; /* in registration order */
    struct family  *last;
};

const double velo_metrics_latency_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,   1.0,    2.5,   5.0,  10.0,  30.0,
};
const size_t velo_metrics_latency_nbounds =
    sizeof(velo_metrics_latency_bounds) /
    sizeof(velo_metrics_latency_bounds[0]);

/* Fixed-size bookkeeping: running out of memory here is fatal (STYLE §6). */
static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);

    if (p == NULL) {
        velo_error("metrics.oom", VELO_U("bytes", n * size));
        abort();
    }
    return p;
}

static char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char  *p = xcalloc(1, n);

    memcpy(p, s, n);
    return p;
}

static uint64_t
dbl_bits(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    return u;
}

static double
bits_dbl(uint64_t u)
{
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

static void
atomic_dbl_add(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

    while (!atomic_compare_exchange_weak_explicit(
        a, &old, dbl_bits(bits_dbl(old) + v), memory_order_relaxed,
        memory_order_relaxed))
        ; /* old was reloaded by the failed exchange: retry with it */
}

int
velo_metrics_new(velo_metrics **out)
{
    velo_metrics *m;

    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return VELO_ENOMEM;
    if (pthread_mutex_init(&m->mtx, NULL) != 0) {
        free(m);
        return VELO_ENOMEM;
    }
    *out = m;
    return VELO_OK;
}

static void
family_free(struct family *f)
{
    struct velo_metric *s, *next;

    for (s = f->series; s != NULL; s = next) {
        next = s->next;
        free(s->labels);
        free(s->buckets);
        free(s);
    }
    free(f->name);
    free(f->help);
    free(f->bounds);
    free(f);
}

void
velo_metrics_free(velo_metrics *m)
{
    struct family *f, *next;

    if (m == NULL)
        return;
    for (f = m->families; f != NULL; f = next) {
        next = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->mtx);
    free(m);
}

/* Finds the family or registers it. Locks: caller holds m->mtx. */
static struct family *
family_get(velo_metrics *m, const char *name, const char *help,
           enum metric_type type, const double *bounds, size_t nbounds)
{
    struct family *f;

    for (f = m->families; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            assert(f->type == type && "metric registered with another type");
            return f;
        }
    }
    f = xcalloc(1, sizeof(*f));
    f->name = xstrdup(name);
    f->help = xstrdup(help != NULL ? help : "");
    f->type = type;
    if (type == M_HISTOGRAM && nbounds > 0) {
        f->bounds = xcalloc(nbounds, sizeof(*bounds));
        memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
        f->nbounds = nbounds;
    }
    if (m->last != NULL)
        m->last->next = f;
    else
        m->families = f;
    m->last = f;
    return f;
}

/* Finds the series with these labels or adds it. Locks: holds m->mtx. */
static velo_metric *
series_get(struct family *f, const char *labels)
{
    velo_metric *s;
    size_t       i;

    if (labels == NULL)
        labels = "";
    for (s = f->series; s != NULL; s = s->next) {
        if (strcmp(s->labels, labels) == 0)
            return s;
    }
    s = xcalloc(1, sizeof(*s));
    s->fam = f;
    s->labels = xstrdup(labels);
    atomic_init(&s->value, dbl_bits(0.0));
    atomic_init(&s->sum, dbl_bits(0.0));
    if (f->type == M_HISTOGRAM) {
        s->buckets = xcalloc(f->nbounds + 1, sizeof(*s->buckets));
        for (i = 0; i <= f->nbounds; i++)
            atomic_init(&s->buckets[i], 0);
    }
    if (f->last != NULL)
        f->last->next = s;
    else
        f->series = s;
    f->last = s;
    return s;
}

static velo_metric *
metric_get(velo_metrics *m, const char *name, const char *help,
           const char *labels, enum metric_type type, const double *bounds,
           size_t nbounds)
{
    struct family *f;
    velo_metric   *s;

    pthread_mutex_lock(&m->mtx);
    f = family_get(m, name, help, type, bounds, nbounds);
    s = series_get(f, labels);
    pthread_mutex_unlock(&m->mtx);
    return s;
}

velo_metric *
velo_metrics_counter(velo_metrics *m, const char *name, const char *help,
                     const char *labels)
{
    return metric_get(m, name, help, labels, M_COUNTER, NULL, 0);
}

velo_metric *
velo_metrics_gauge(velo_metrics *m, const char *name, const char *help,
                   const char *labels)
{
    return metric_get(m, name, help, labels, M_GAUGE, NULL, 0);
}

velo_metric *
velo_metrics_histogram(velo_metrics *m, const char *name, const char *help,
                       const char *labels, const double *bounds, size_t nbounds)
{
    return metric_get(m, name, help, labels, M_HISTOGRAM, bounds, nbounds);
}

void
velo_metric_inc(velo_metric *c)
{
    velo_metric_add(c, 1.0);
}

void
velo_metric_add(velo_metric *c, double v)
{
    assert(c->fam->type != M_HISTOGRAM);
    /* A counter only goes up; Prometheus reads a drop as a restart. */
    if (c->fam->type == M_COUNTER && !(v >= 0.0))
        return;
    atomic_dbl_add(&c->value, v);
}

void
velo_metric_set(velo_metric *g, double v)
{
    assert(g->fam->type == M_GAUGE);
    atomic_store_explicit(&g->value, dbl_bits(v), memory_order_relaxed);
}

void
velo_metric_observe(velo_metric *h, double v)
{
    const struct family *f = h->fam;
    size_t               i;

    assert(f->type == M_HISTOGRAM);
    for (i = 0; i < f->nbounds && !(v <= f->bounds[i]); i++)
        ;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_dbl_add(&h->sum, v);
}

/* Sample count of a histogram: the sum of its buckets. */
static uint64_t
hist_count(const velo_metric *h)
{
    uint64_t n = 0;
    size_t   i;

    for (i = 0; i <= h->fam->nbounds; i++)
        n += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    return n;
}

double
velo_metric_value(const velo_metric *s)
{
    if (s->fam->type == M_HISTOGRAM)
        return (double)hist_count(s);
    return bits_dbl(atomic_load_explicit(&s->value, memory_order_relaxed));
}

/* Prometheus float text: shortest form that reads back to the same value. */
static void
fmt_value(double v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, "%sInf", v > 0 ? "+" : "-");
        return;
    }
    velo_format_double(v, buf, size);
}

/* HELP text escapes backslash and newline (format 0.0.4). */
static int
render_help(struct velo_buf *out, const struct family *f)
{
    const char *p;
    int         rv;

    rv = velo_buf_printf(out, "# HELP %s ", f->name);
    for (p = f->help; rv == VELO_OK && *p != '\0'; p++) {
        if (*p == '\\')
            rv = velo_buf_puts(out, "\\\\");
        else if (*p == '\n')
            rv = velo_buf_puts(out, "\\n");
        else
            rv = velo_buf_append(out, p, 1);
    }
    if (rv == VELO_OK)
        rv = velo_buf_printf(out, "\n# TYPE %s %s\n", f->name,
                             f->type == M_COUNTER ? "counter"
                             : f->type == M_GAUGE ? "gauge"
                                                  : "histogram");
    return rv;
}

/* One sample line: name{labels} value, braces only when labels exist. */
static int
render_sample(struct velo_buf *out, const char *name, const char *suffix,
              const char *labels, double v)
{
    char num[40];

    fmt_value(v, num, sizeof(num));
    if (labels[0] == '\0')
        return velo_buf_printf(out, "%s%s %s\n", name, suffix, num);
    return velo_buf_printf(out, "%s%s{%s} %s\n", name, suffix, labels, num);
}

static int
render_histogram(struct velo_buf *out, const struct family *f,
                 const velo_metric *s)
{
    char     le[40], labels[1024];
    uint64_t cum = 0;
    size_t   i;
    int      rv = VELO_OK;

    /* Read each bucket once and derive _count from the same reads, so a
     * concurrent observe() can never make +Inf and _count disagree. */
    for (i = 0; i <= f->nbounds && rv == VELO_OK; i++) {
        cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        if (i < f->nbounds)
            fmt_value(f->bounds[i], le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        if (snprintf(labels, sizeof(labels), "%s%sle=\"%s\"", s->labels,
                     s->labels[0] != '\0' ? "," : "",
                     le) >= (int)sizeof(labels))
            return VELO_ETOOBIG;
        rv = render_sample(out, f->name, "_bucket", labels, (double)cum);
    }
    if (rv == VELO_OK)
        rv = render_sample(
            out, f->name, "_sum", s->labels,
            bits_dbl(atomic_load_explicit(&s->sum, memory_order_relaxed)));
    if (rv == VELO_OK)
        rv = render_sample(out, f->name, "_count", s->labels, (double)cum);
    return rv;
}

static int
render_family(struct velo_buf *out, const struct family *f)
{
    const velo_metric *s;
    int                rv;

    rv = render_help(out, f);
    for (s = f->series; s != NULL && rv == VELO_OK; s = s->next) {
        if (f->type == M_HISTOGRAM)
            rv = render_histogram(out, f, s);
        else
            rv = render_sample(out, f->name, "", s->labels,
                               velo_metric_value(s));
    }
    return rv;
}

void
velo_metrics_label(char *buf, size_t size, const char *name, const char *value)
{
    size_t n;
    int    w;

    w = snprintf(buf, size, "%s=\"", name);
    if (w < 0 || (size_t)w + 2 > size) { /* no room for even the quotes */
        buf[0] = '\0';
        return;
    }
    n = (size_t)w;
    /* Room kept for an escape pair, the closing quote and the NUL. */
    for (; *value != '\0' && n + 4 <= size; value++) {
        char c = *value == '\n' ? 'n' : *value;

        if (*value == '\\' || *value == '"' || *value == '\n')
            buf[n++] = '\\';
        buf[n++] = c;
    }
    buf[n++] = '"';
    buf[n] = '\0';
}

int
velo_metrics_render(velo_metrics *m, struct velo_buf *out)
{
    const struct family *f;
    size_t               mark = out->len;
    int                  rv = VELO_OK;

    pthread_mutex_lock(&m->mtx);
    for (f = m->families; f != NULL && rv == VELO_OK; f = f->next)
        rv = render_family(out, f);
    pthread_mutex_unlock(&m->mtx);
    if (rv != VELO_OK && out->data != NULL) {
        /* Never serve half an exposition. */
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rv;
}
