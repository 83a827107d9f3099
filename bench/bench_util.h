/* bench_util.h: what velo-bench-nng-echo and velo-bench-rpc share
 * (header-only): per-thread latency samples, percentiles, the result line.
 *
 * Each client thread owns one bench_lat; samples beyond BENCH_MAX_SAMPLES
 * are counted but not kept (a 2-core box does far fewer round trips in a
 * sensible run). Percentiles come from the merged, sorted samples. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/parse.h"

#define BENCH_MAX_SAMPLES ((size_t)4 << 20)

struct bench_lat {
    uint32_t *us; /* latency samples, microseconds */
    size_t    n, cap;
    uint64_t  calls, errors;
};

/* Records one call of ns nanoseconds. Allocation failure only stops
 * keeping samples; the call is still counted. */
static inline void
bench_lat_add(struct bench_lat *l, int64_t ns)
{
    uint32_t *p;
    size_t    cap;

    l->calls++;
    if (l->n == l->cap && l->cap < BENCH_MAX_SAMPLES) {
        cap = l->cap ? l->cap * 2 : 4096;
        p = realloc(l->us, cap * sizeof(*p));
        if (p != NULL) {
            l->us = p;
            l->cap = cap;
        }
    }
    if (l->n < l->cap)
        l->us[l->n++] =
            ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);
}

static inline int
bench_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Merges the threads' samples into all (sorted); returns false on ENOMEM. */
static inline bool
bench_lat_merge(const struct bench_lat *per, size_t nper, struct bench_lat *all)
{
    size_t i, n = 0;

    memset(all, 0, sizeof(*all));
    for (i = 0; i < nper; i++) {
        n += per[i].n;
        all->calls += per[i].calls;
        all->errors += per[i].errors;
    }
    all->us = malloc((n ? n : 1) * sizeof(uint32_t));
    if (all->us == NULL)
        return false;
    for (i = 0; i < nper; i++) {
        if (per[i].n > 0)
            memcpy(all->us + all->n, per[i].us, per[i].n * sizeof(uint32_t));
        all->n += per[i].n;
    }
    all->cap = n;
    qsort(all->us, all->n, sizeof(uint32_t), bench_cmp_u32);
    return true;
}

/* The q-quantile (0..1) of sorted samples, nearest rank; 0 when empty. */
static inline uint32_t
bench_lat_pct(const struct bench_lat *all, double q)
{
    size_t i;

    if (all->n == 0)
        return 0;
    i = (size_t)(q * (double)all->n);
    return all->us[i < all->n ? i : all->n - 1];
}

/* Prints the result: human-readable, or one JSON object per line. `what`
 * names what `bytes` measures ("payload", "reply"). */
static inline void
bench_report(const char *bench, const struct bench_lat *all, double secs,
             unsigned threads, const char *what, size_t bytes, bool json)
{
    double rate = secs > 0 ? (double)all->calls / secs : 0;

    if (json) {
        printf("{\"bench\":\"%s\",\"threads\":%u,\"%s_bytes\":%zu,"
               "\"calls\":%llu,\"errors\":%llu,\"seconds\":%.3f,"
               "\"calls_per_s\":%.1f,\"p50_us\":%u,\"p99_us\":%u}\n",
               bench, threads, what, bytes, (unsigned long long)all->calls,
               (unsigned long long)all->errors, secs, rate,
               bench_lat_pct(all, 0.50), bench_lat_pct(all, 0.99));
        return;
    }
    printf("%s: %u threads, %s of %zu bytes\n", bench, threads, what, bytes);
    printf("  calls     %llu in %.2f s (%llu errors)\n",
           (unsigned long long)all->calls, secs,
           (unsigned long long)all->errors);
    printf("  rate      %.0f calls/s\n", rate);
    printf("  latency   p50 %u us, p99 %u us\n", bench_lat_pct(all, 0.50),
           bench_lat_pct(all, 0.99));
}

/* One "--name VALUE" option of a simple tool: exactly one of str / u32. */
struct bench_flag {
    const char  *name; /* "--count" */
    const char **str;
    uint32_t    *u32;
};

/* Parses "--name VALUE" pairs of flags and a bare "--json" (json may be
 * NULL when not accepted). Returns 0, or -1 on anything unknown or bad. */
static inline int
bench_parse(int argc, char **argv, const struct bench_flag *flags,
            size_t nflags, bool *json)
{
    int    i;
    size_t k;

    for (i = 1; i < argc; i++) {
        if (json != NULL && strcmp(argv[i], "--json") == 0) {
            *json = true;
            continue;
        }
        for (k = 0; k < nflags && strcmp(argv[i], flags[k].name) != 0; k++)
            ;
        if (k == nflags || i + 1 >= argc)
            return -1;
        i++;
        if (flags[k].str != NULL)
            *flags[k].str = argv[i];
        else if (velo_parse_u32(argv[i], flags[k].u32) != 0)
            return -1;
    }
    return 0;
}

#endif
