/* test_util.h: helpers shared by velo-ingest's unit tests (cmocka).
 *
 * Each *_test.c becomes its own executable (cmake/velo.cmake), so shared
 * test code lives in this header as static inline functions. A test
 * includes it instead of the cmocka preamble. Every helper fails the
 * running test through cmocka's asserts; none returns an error.
 *
 * Payload variants (cut or with bytes flipped) are handed to a check
 * function in a buffer of exactly their length, with no NUL after it, so
 * ASan catches a parser that reads past len. */
#ifndef INGEST_TEST_UTIL_H
#define INGEST_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "payload_parsers.h"

/* cmocka 1.1.5 (Debian 12) has no assert_double_equal. */
#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* Checks one variant of a payload: part holds len bytes. arg is the one
 * given to test_truncations / test_flips. */
typedef void (*test_part_fn)(const char *part, size_t len, const void *arg);

/* Reads the fixture $VELO_FIXTURES/<path> (path formatted from fmt) into a
 * malloc'd buffer of exactly its size, with no NUL after it, and stores
 * the size in *len. The caller frees the buffer. */
__attribute__((format(printf, 2, 3))) static inline char *
test_fixture(size_t *len, const char *fmt, ...)
{
    const char *dir = getenv("VELO_FIXTURES");
    char        rel[512], path[1024];
    va_list     ap;
    FILE       *f;
    long        n;
    char       *buf;

    assert_non_null(dir);
    va_start(ap, fmt);
    vsnprintf(rel, sizeof(rel), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("fixture %s: cannot open", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The item of b with station id id; fails the test when there is none. */
static inline const Velo__V1__StationSnapshot *
test_find(const struct ingest_batch *b, const char *id)
{
    size_t i;

    for (i = 0; i < b->len; i++)
        if (strcmp(b->items[i].station_id, id) == 0)
            return &b->items[i];
    fail_msg("station %s not in the batch", id);
    return NULL;
}

/* Runs check on the first cut bytes of body, copied to a buffer of that
 * exact size. */
static inline void
test_cut(const char *body, size_t cut, test_part_fn check, const void *arg)
{
    char *part = malloc(cut > 0 ? cut : 1); /* malloc(0) may be NULL */

    assert_non_null(part);
    memcpy(part, body, cut);
    check(part, cut, arg);
    free(part);
}

/* Runs check on the fixture at path cut short: at 0 and then every
 * end / steps + 1 bytes below end, its length without trailing whitespace,
 * and at end - 1, the cut that drops only the closing bracket. */
static inline void
test_truncations(const char *path, size_t steps, test_part_fn check,
                 const void *arg)
{
    size_t len, end, cut;
    char  *body = test_fixture(&len, "%s", path);

    end = len;
    while (end > 0 && strchr(" \t\r\n", body[end - 1]) != NULL)
        end--;
    for (cut = 0; cut < end; cut += end / steps + 1)
        test_cut(body, cut, check, arg);
    test_cut(body, end - 1, check, arg);
    free(body);
}

/* The next number of a xorshift32 sequence (*x must not be 0). */
static inline uint32_t
test_xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Runs check iterations times on a copy of the fixture at path with 1 to
 * 4 bytes set to random values. *seed drives the choice (so a failure
 * repeats) and is advanced, so successive calls continue one sequence. */
static inline void
test_flips(const char *path, int iterations, uint32_t *seed, test_part_fn check,
           const void *arg)
{
    size_t len, k;
    char  *body = test_fixture(&len, "%s", path);
    char  *copy = malloc(len);
    int    it;

    assert_non_null(copy);
    for (it = 0; it < iterations; it++) {
        memcpy(copy, body, len);
        for (k = 1 + test_xorshift(seed) % 4; k > 0; k--)
            copy[test_xorshift(seed) % len] =
                (char)(test_xorshift(seed) & 0xff);
        check(copy, len, arg);
    }
    free(copy);
    free(body);
}

/* What a parser may return for a damaged payload: VELO_OK with every item
 * valid, or VELO_EPROTO with nothing in the batch (payload_parsers.h). */
static inline void
test_assert_ok_or_empty(int rv, const struct ingest_batch *b)
{
    char   why[160];
    size_t i;

    assert_true(rv == VELO_OK || rv == VELO_EPROTO);
    if (rv != VELO_OK)
        assert_int_equal(b->len + b->nrejects, 0);
    for (i = 0; i < b->len; i++)
        assert_int_equal(
            ingest_snapshot_validate(&b->items[i], why, sizeof(why)), VELO_OK);
}

#endif
