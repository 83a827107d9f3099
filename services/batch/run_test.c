/* run_test.c: exactly-once through crashes, on an in-memory Kafka (the
 * batch_io of run.h): a log of velib_data records in two partitions,
 * committed offsets, and output that becomes visible only when its
 * transaction commits. A run killed at any step loses its open
 * transaction (as kill -9 does: the next producer's init aborts it); the
 * next run recovers from the committed offsets. The committed output must
 * equal, row for row, that of a run never killed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run.h"
#include "velo/v1/station.pb-c.h"

#define M 60000LL
#define T0 1774778400000LL /* 2026-03-29T10:00Z */
#define NPART 2
#define MAXREC 4096
#define MAXOUT 20000
/* Field 33 (system_name) = "Test Bikes", packed, in hex. */
#define SYSTEM_NAME_HEX                                                        \
    "8a020a"                                                                   \
    "5465737420"                                                               \
    "42696b6573"

struct rec {
    int64_t ts, offset;
    uint8_t buf[128];
    size_t  len;
};

struct fake {
    struct rec part[NPART][MAXREC];
    int64_t    n[NPART];
    int64_t    committed[NPART];
    int64_t    pos[NPART], end[NPART];
    int        turn;
    char     **out; /* committed rows: "key|hex value" */
    size_t     nout;
    char     **pending;
    size_t     npending;
    bool       open;
    int        dead;
    uint32_t   x; /* the data set's pseudo-random walk */
    int        k;
};

static int
f_zones(void *ctx, bool wait, batch_zone_fn fn, void *arg)
{
    (void)ctx;
    return wait ? fn(arg, "sys", "Europe/Brussels", "Test Bikes") : VELO_OK;
}

static int
f_partitions(void *ctx, int32_t *n)
{
    (void)ctx;
    *n = NPART;
    return VELO_OK;
}

static int
f_committed(void *ctx, int64_t *offs, int32_t n)
{
    struct fake *f = ctx;

    memcpy(offs, f->committed, (size_t)n * sizeof(*offs));
    return VELO_OK;
}

static int
f_timestamp_at(void *ctx, int32_t p, int64_t offset, int64_t *ts)
{
    struct fake *f = ctx;

    if (offset >= f->n[p])
        return VELO_ENOTFOUND;
    *ts = f->part[p][offset].ts;
    return VELO_OK;
}

static int
f_seek(void *ctx, int64_t start)
{
    struct fake *f = ctx;
    int          p;

    for (p = 0; p < NPART; p++) {
        f->pos[p] = 0;
        while (start != VELO_KAFKA_OFFSET_BEGINNING && f->pos[p] < f->n[p] &&
               f->part[p][f->pos[p]].ts < start)
            f->pos[p]++;
        f->end[p] = f->n[p];
    }
    return VELO_OK;
}

static int
f_next(void *ctx, struct batch_in *in, int timeout_ms)
{
    struct fake *f = ctx;
    int          i;

    (void)timeout_ms;
    for (i = 0; i < NPART; i++) {
        int         p = (f->turn + i) % NPART;
        struct rec *r;

        if (f->pos[p] >= f->n[p])
            continue;
        r = &f->part[p][f->pos[p]++];
        f->turn = p + 1;
        *in = (struct batch_in){.partition = p,
                                .offset = r->offset,
                                .timestamp_ms = r->ts,
                                .value = r->buf,
                                .len = r->len};
        return VELO_OK;
    }
    return VELO_ETIMEDOUT;
}

static void
f_release(void *ctx, struct batch_in *in)
{
    (void)ctx;
    (void)in;
}

static bool
f_caught_up(void *ctx)
{
    struct fake *f = ctx;
    int          p;

    for (p = 0; p < NPART; p++)
        if (f->pos[p] < f->end[p])
            return false;
    return true;
}

static int
f_dead_letter(void *ctx, const struct batch_in *in, const char *why)
{
    struct fake *f = ctx;

    (void)in;
    (void)why;
    f->dead++;
    return VELO_OK;
}

static int
f_begin(void *ctx)
{
    struct fake *f = ctx;

    assert_false(f->open);
    f->open = true;
    return VELO_OK;
}

static int
f_produce(void *ctx, const struct batch_out *o)
{
    struct fake *f = ctx;
    char        *s = malloc(o->keylen + 2 * o->len + 2);
    size_t       i, k;

    assert_true(f->open);
    assert_non_null(s);
    memcpy(s, o->key, o->keylen);
    k = o->keylen;
    s[k++] = '|';
    for (i = 0; i < o->len; i++, k += 2)
        snprintf(s + k, 3, "%02x", ((const uint8_t *)o->value)[i]);
    s[k] = '\0';
    f->pending = realloc(f->pending, (f->npending + 1) * sizeof(char *));
    f->pending[f->npending++] = s;
    return VELO_OK;
}

static int
f_commit(void *ctx, const struct velo_kafka_offset *offs, size_t n)
{
    struct fake *f = ctx;
    size_t       i;

    assert_true(f->open);
    for (i = 0; i < n; i++)
        f->committed[offs[i].partition] = offs[i].offset;
    for (i = 0; i < f->npending; i++) {
        assert_true(f->nout < MAXOUT);
        f->out[f->nout++] = f->pending[i];
    }
    f->npending = 0;
    f->open = false;
    return VELO_OK;
}

static int
f_abort(void *ctx)
{
    struct fake *f = ctx;
    size_t       i;

    for (i = 0; i < f->npending; i++)
        free(f->pending[i]);
    f->npending = 0;
    f->open = false;
    return VELO_OK;
}

static void
append(struct fake *f, int p, int64_t ts, const char *station, int64_t t,
       uint32_t bikes)
{
    Velo__V1__StationSnapshot m = VELO__V1__STATION_SNAPSHOT__INIT;
    struct rec               *r = &f->part[p][f->n[p]];

    m.system_id = "sys";
    m.station_id = (char *)station;
    m.has_fetched_at_ms = 1, m.fetched_at_ms = t;
    m.has_bikes_available = 1, m.bikes_available = bikes;
    m.has_docks_available = 1, m.docks_available = 30 - bikes;
    r->ts = ts;
    r->offset = f->n[p]++;
    r->len = protobuf_c_message_pack(&m.base, r->buf);
}

/* Appends [from, to) of the data set; x and k carry the pseudo-random
 * walk so that appending in two parts gives the same log as one. */
static void
fill(struct fake *f, int64_t from, int64_t to, bool future)
{
    static const char *st[4] = {"a", "b", "c", "d"};
    int64_t            t;
    int                i;

    for (t = from; t < to; t += 5 * M) {
        for (i = 0; i < 4; i++, f->k++) {
            int64_t ev = t + i * M;
            f->x = f->x * 1103515245u + 12345u;
            if (f->k % 53 == 20)
                ev -= (int64_t)(20 + f->x % 90) * M;
            append(f, i / 2, t + i * M + 1000, st[i], ev, (f->x >> 16) % 25);
        }
        if (future && t == T0 + 300 * M) /* fetched_at 10 days ahead */
            append(f, 0, t + 2 * M, "a", t + 14400 * M, 1);
        if (t == T0 + 600 * M) {
            struct rec *r = &f->part[1][f->n[1]];
            r->ts = t + 4 * M;
            r->offset = f->n[1]++;
            memcpy(r->buf, "\xff\xff\xff", 3);
            r->len = 3;
        }
    }
}

static struct fake *
fake_empty(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    int          i;

    assert_non_null(f);
    f->out = calloc(MAXOUT, sizeof(char *));
    f->x = 7;
    for (i = 0; i < NPART; i++)
        f->committed[i] = VELO_KAFKA_OFFSET_NONE;
    return f;
}

/* 40 h of 4 stations (two per partition) every 5 min, bikes on a fixed
 * pseudo-random walk; every 53rd record arrives 20-110 min late; one
 * record in partition 1 does not decode. */
static struct fake *
fake_make(bool future)
{
    struct fake *f = fake_empty();

    fill(f, T0, T0 + 40 * 60 * M, future);
    return f;
}

static struct fake *
fake_new(void)
{
    return fake_make(false);
}

static void
fake_free(struct fake *f)
{
    size_t i;

    for (i = 0; i < f->nout; i++)
        free(f->out[i]);
    for (i = 0; i < f->npending; i++)
        free(f->pending[i]);
    free(f->out);
    free(f->pending);
    free(f);
}

static batch_run *
run_new(struct fake *f)
{
    struct batch_io      io = {f_zones,       f_partitions,
                               f_committed,   f_timestamp_at,
                               f_seek,        f_next,
                               f_release,     f_caught_up,
                               f_dead_letter, f_begin,
                               f_produce,     f_commit,
                               f_abort,       f};
    struct batch_run_cfg cfg = {.engine = {.heartbeat_ms = 5 * M,
                                           .lateness_ms = 2 * M,
                                           .horizon_ms = 26 * 60 * M,
                                           .max_samples = 16384},
                                .topic = "velib_data",
                                .seek_margin_ms = 10 * M,
                                .txn_max_records = 40,
                                .txn_interval_ms = 1000000,
                                .once = true};
    batch_run           *r = NULL;

    assert_int_equal(batch_run_new(&r, &cfg, &io, NULL), VELO_OK);
    return r;
}

/* Runs until done; kills the run (frees it with its transaction open:
 * the fake aborts it, as the next producer's init would) at each step
 * listed in kill_at. */
static void
run_all(struct fake *f, const int *kill_at, size_t nkill)
{
    batch_run *r = run_new(f);
    bool       done = false;
    int        step = 0;
    size_t     k = 0;

    while (!done) {
        assert_int_equal(batch_run_step(r, step, 0, &done), VELO_OK);
        step++;
        if (k < nkill && step == kill_at[k]) {
            k++;
            batch_run_free(r);
            r = run_new(f);
        }
        assert_true(step < 200000);
    }
    batch_run_free(r);
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_killed_runs_commit_exactly_what_one_run_does(void **state)
{
    static const int kills[] = {3,    41,   42,   300,  999,  1000,
                                1777, 2500, 2501, 2600, 3333, 4000};
    struct fake     *a = fake_new(), *b = fake_new();
    size_t           i, daily = 0, corrections = 0;

    (void)state;
    run_all(a, NULL, 0);
    run_all(b, kills, sizeof(kills) / sizeof(kills[0]));
    assert_true(a->nout > 150); /* 4 stations x ~40 hours, 2 days */
    assert_int_equal(b->nout, a->nout);
    qsort(a->out, a->nout, sizeof(char *), cmp);
    qsort(b->out, b->nout, sizeof(char *), cmp);
    for (i = 0; i < a->nout; i++) {
        assert_string_equal(a->out[i], b->out[i]);
        assert_non_null(strstr(a->out[i], SYSTEM_NAME_HEX));
        daily += strstr(a->out[i], "/daily/") != NULL;
        corrections +=
            i > 0 && strncmp(a->out[i], a->out[i - 1],
                             strchr(a->out[i], '|') - a->out[i] + 1) == 0;
    }
    /* The data exercises daily windows and corrections (a key twice). */
    assert_true(daily >= 4);
    assert_true(corrections > 0);
    assert_int_equal(a->dead, 1);
    assert_int_equal(a->committed[0], a->n[0]);
    assert_int_equal(a->committed[1], a->n[1]);
    fake_free(a);
    fake_free(b);
}

/* A second --once over the same input adds nothing. */
static void
test_second_once_run_adds_nothing(void **state)
{
    struct fake *f = fake_new();
    size_t       n;

    (void)state;
    run_all(f, NULL, 0);
    n = f->nout;
    run_all(f, NULL, 0);
    assert_int_equal(f->nout, n);
    assert_int_equal(f->dead, 1);
    fake_free(f);
}

/* A snapshot fetched "10 days after" its record was produced would close
 * every window of its partition: it is a dead letter, and the output is
 * that of the log without it. */
static void
test_fetch_time_far_past_record_time_is_a_dead_letter(void **state)
{
    struct fake *a = fake_new(), *b = fake_make(true);
    size_t       i;

    (void)state;
    run_all(a, NULL, 0);
    run_all(b, NULL, 0);
    assert_int_equal(b->dead, 2);
    assert_int_equal(b->nout, a->nout);
    qsort(a->out, a->nout, sizeof(char *), cmp);
    qsort(b->out, b->nout, sizeof(char *), cmp);
    for (i = 0; i < a->nout; i++)
        assert_string_equal(a->out[i], b->out[i]);
    fake_free(a);
    fake_free(b);
}

/* --schedule: a pass, new input, rearm, a second pass: together the same
 * rows as one pass over all of it. */
static void
test_rearmed_pass_continues_like_one_pass(void **state)
{
    struct fake *a = fake_empty(), *b = fake_empty();
    batch_run   *r;
    bool         done = false;
    size_t       i;
    int          step = 0;

    (void)state;
    fill(a, T0, T0 + 50 * 60 * M, false);
    run_all(a, NULL, 0);
    fill(b, T0, T0 + 30 * 60 * M, false);
    r = run_new(b);
    while (!done)
        assert_int_equal(batch_run_step(r, step++, 0, &done), VELO_OK);
    fill(b, T0 + 30 * 60 * M, T0 + 50 * 60 * M, false);
    batch_run_rearm(r);
    done = false;
    while (!done)
        assert_int_equal(batch_run_step(r, step++, 0, &done), VELO_OK);
    batch_run_free(r);
    assert_int_equal(b->nout, a->nout);
    qsort(a->out, a->nout, sizeof(char *), cmp);
    qsort(b->out, b->nout, sizeof(char *), cmp);
    for (i = 0; i < a->nout; i++)
        assert_string_equal(a->out[i], b->out[i]);
    fake_free(a);
    fake_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_runs_commit_exactly_what_one_run_does),
        cmocka_unit_test(test_second_once_run_adds_nothing),
        cmocka_unit_test(test_fetch_time_far_past_record_time_is_a_dead_letter),
        cmocka_unit_test(test_rearmed_pass_continues_like_one_pass),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
