/* ingest_test.c: the whole poll loop with file sources and an array sink:
 * change capture across polls, dead letters, never a partial batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "velo/clock.h"
#include "velo/file.h"
#include "velo/log.h"

struct rec {
    char                       key[128];
    Velo__V1__StationSnapshot *snap; /* NULL for a dead letter */
    char                       reason[160];
    size_t                     rawlen;
};

struct sys_rec {
    char                  key[128];
    Velo__V1__SystemInfo *si;
};

struct array_sink {
    struct rec     recs[4096];
    size_t         n;
    struct sys_rec sys[64];
    size_t         nsys;
};

static int
a_send(void *ctx, const char *key, const Velo__V1__StationSnapshot *s)
{
    struct array_sink *a = ctx;
    uint8_t            buf[4096];
    size_t             n = velo__v1__station_snapshot__pack(s, buf);

    if (a->n == 4096)
        return VELO_EFULL;
    snprintf(a->recs[a->n].key, sizeof(a->recs[0].key), "%s", key);
    /* Round-trip through the wire format, as a consumer would see it. */
    a->recs[a->n].snap = velo__v1__station_snapshot__unpack(NULL, n, buf);
    assert_non_null(a->recs[a->n].snap);
    a->n++;
    return VELO_OK;
}

static int
a_dead(void *ctx, const struct ingest_dead_letter *dl)
{
    struct array_sink *a = ctx;

    snprintf(a->recs[a->n].key, sizeof(a->recs[0].key), "%s", dl->key);
    snprintf(a->recs[a->n].reason, sizeof(a->recs[0].reason), "%s", dl->reason);
    a->recs[a->n].snap = NULL;
    a->recs[a->n].rawlen = dl->len;
    a->n++;
    return VELO_OK;
}

static int
a_system(void *ctx, const char *key, const Velo__V1__SystemInfo *si)
{
    struct array_sink *a = ctx;
    uint8_t            buf[4096];
    size_t             n = velo__v1__system_info__pack(si, buf);

    if (a->nsys == 64)
        return VELO_EFULL;
    snprintf(a->sys[a->nsys].key, sizeof(a->sys[0].key), "%s", key);
    a->sys[a->nsys].si = velo__v1__system_info__unpack(NULL, n, buf);
    assert_non_null(a->sys[a->nsys].si);
    a->nsys++;
    return VELO_OK;
}

static void
a_poll(void *ctx, int ms, ingest_lost_fn lost, void *owner)
{
    (void)ctx, (void)lost, (void)owner;
    velo_sleep_ms(ms > 5 ? 5 : ms);
}

static int
a_flush(void *ctx, int ms, ingest_lost_fn lost, void *owner)
{
    (void)ctx, (void)ms, (void)lost, (void)owner;
    return VELO_OK;
}

static void
a_free(struct array_sink *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        velo__v1__station_snapshot__free_unpacked(a->recs[i].snap, NULL);
    for (i = 0; i < a->nsys; i++)
        velo__v1__system_info__free_unpacked(a->sys[i].si, NULL);
    free(a);
}

static char *
fixture(const char *rel)
{
    static char path[1024];
    const char *dir = getenv("VELO_FIXTURES");

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", rel);
    return path;
}

static void
copy_file(const char *from, const char *to)
{
    char  *body = NULL;
    size_t n = 0;
    FILE  *out = fopen(to, "wb");

    assert_int_equal(velo_file_read(from, 8 << 20, &body, &n), VELO_OK);
    assert_non_null(out);
    assert_int_equal(fwrite(body, 1, n, out), n);
    fclose(out);
    free(body);
}

/* Runs ingest over the given sources into sink until --exit-after-polls
 * (0: until every source is finished). */
static void
run_ingest_into(const char *const *specs, size_t nspecs, uint32_t polls,
                const struct ingest_sink *sink)
{
    struct ingest_cfg cfg = {0};
    velo_metrics     *m;
    ingest           *p;
    char              err[256];
    size_t            i;

    cfg.specs = calloc(nspecs, sizeof(*cfg.specs));
    for (i = 0; i < nspecs; i++)
        assert_int_equal(
            ingest_source_spec_parse(specs[i], &cfg.specs[i], err, sizeof(err)),
            VELO_OK);
    cfg.nspecs = nspecs;
    cfg.heartbeat_s = 300;
    cfg.max_body_bytes = 8 << 20;
    cfg.max_stations = 100000;
    cfg.http_timeout_ms = 1000;
    cfg.exit_after_polls = polls;
    cfg.max_wait_s = 3600;
    assert_int_equal(velo_metrics_new(&m), VELO_OK);
    assert_int_equal(ingest_new(&p, &cfg, sink, m), VELO_OK);
    assert_int_equal(ingest_start(p), VELO_OK);
    for (i = 0; i < 6000 && !ingest_done(p); i++)
        velo_sleep_ms(10);
    assert_true(ingest_done(p));
    assert_true(ingest_ready(p, err, sizeof(err)));
    assert_int_equal(ingest_stop(p, 1000), VELO_OK);
    ingest_free(p);
    velo_metrics_free(m);
    for (i = 0; i < nspecs; i++)
        ingest_source_spec_fini(&cfg.specs[i]);
    free(cfg.specs);
}

/* Runs ingest over the given sources into an array. */
static struct array_sink *
run_ingest(const char *const *specs, size_t nspecs, uint32_t polls)
{
    struct array_sink       *a = calloc(1, sizeof(*a));
    const struct ingest_sink sink = {.send = a_send,
                                     .dead_letter = a_dead,
                                     .send_system = a_system,
                                     .poll = a_poll,
                                     .flush = a_flush,
                                     .ctx = a};

    run_ingest_into(specs, nspecs, polls, &sink);
    return a;
}

static void
test_replay_emits_once_then_nothing_unchanged(void **state)
{
    char               dir[] = "/tmp/velo-ingest-test-XXXXXX", f[1200];
    char               spec[1300];
    const char        *specs[1] = {spec};
    const char        *torn = "[{\"number\": 1, \"name\": \"cut";
    struct array_sink *a;
    size_t             i, dead = 0;
    FILE              *bad;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(f, sizeof(f), "%s/001.json", dir);
    copy_file(fixture("jcdecaux/v1_stations_dublin.json"), f);
    snprintf(f, sizeof(f), "%s/002.json", dir);
    copy_file(fixture("jcdecaux/v1_stations_dublin.json"), f);
    snprintf(f, sizeof(f), "%s/003.json", dir);
    bad = fopen(f, "w");
    fputs(torn, bad);
    fclose(bad);
    snprintf(spec, sizeof(spec), "jcdecaux:dublin=replay:%s,interval=0", dir);
    a = run_ingest(specs, 1, 3);
    /* 114 stations the first time, none again, the torn file dead-lettered
     * whole: nothing of it reached the station topic. */
    for (i = 0; i < a->n; i++)
        dead += a->recs[i].snap == NULL;
    assert_int_equal(a->n - dead, 114);
    assert_int_equal(dead, 1);
    assert_string_equal(a->recs[a->n - 1].key, "jcdecaux:dublin");
    assert_int_equal(a->recs[a->n - 1].rawlen, strlen(torn));
    for (i = 0; i < a->n - 1; i++) {
        assert_non_null(a->recs[i].snap);
        assert_string_equal(a->recs[i].snap->system_id, "jcdecaux:dublin");
        assert_true(strncmp(a->recs[i].key, "jcdecaux:dublin/", 16) == 0);
        assert_string_equal(a->recs[i].key + 16, a->recs[i].snap->station_id);
    }
    /* One SystemInfo, at the first poll: replay without tz= has no zone. */
    assert_int_equal(a->nsys, 1);
    assert_string_equal(a->sys[0].key, "jcdecaux:dublin");
    assert_null(a->sys[0].si->timezone);
    assert_string_equal(a->sys[0].si->name, "jcdecaux:dublin");
    assert_string_equal(a->sys[0].si->source_format, "jcdecaux-v1");
    assert_int_equal(a->sys[0].si->station_count, 114);
    a_free(a);
    for (i = 1; i <= 3; i++) {
        snprintf(f, sizeof(f), "%s/%03zu.json", dir, i);
        unlink(f);
    }
    rmdir(dir);
}

static void
test_simulate_labels_every_record(void **state)
{
    char               spec[1300];
    const char        *specs[1] = {spec};
    struct array_sink *a;
    size_t             i;

    (void)state;
    /* Virtual time, a morning: with speed= the simulated hour was the
     * wall clock's, and four short steps at night could change nothing
     * (the test failed now and then). */
    snprintf(spec, sizeof(spec),
             "sim:lund=simulate:%s,seed=3,tz=Europe/Stockholm,"
             "start=2026-06-01T06:00:00Z,step=900,polls=5",
             fixture("jcdecaux/v1_stations_lund_2015.json"));
    a = run_ingest(specs, 1, 5);
    /* Every station once, then the changes of four simulated steps of a
     * quarter of an hour each. */
    assert_true(a->n > 17);
    for (i = 0; i < a->n; i++) {
        const Velo__V1__StationSnapshot *s = a->recs[i].snap;
        assert_non_null(s);
        assert_true(s->has_simulated && s->simulated);
        assert_string_equal(s->source_format, "simulate");
        assert_true(s->bikes_available + s->docks_available == s->capacity);
        assert_true(s->mechanical_bikes + s->electric_bikes ==
                    s->bikes_available);
    }
    a_free(a);
}

/* ---- a simulated day in virtual time ---- */

#define DAY_START_MS 1774742400000LL /* 2026-03-29T00:00:00Z (DST in EU) */
#define DAY_STEP_MS 60000
#define DAY_POLLS 1440
#define MAX_KEYS 256

/* Per system: a digest of every record's key and bytes, in order. */
struct day_sys {
    char     id[32];
    uint64_t digest;
    size_t   records, sysinfos;
    char     tz[64];
};

/* Keeps digests and checks every record as it arrives. */
struct day_sink {
    struct day_sys sys[4];
    size_t         nsys;
    char           keys[MAX_KEYS][64];
    int64_t        last_ms[MAX_KEYS]; /* event time of the last emission */
    size_t         nkeys;
    int64_t        max_gap_ms;
    size_t         bad_time;
};

static uint64_t
fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n-- > 0) {
        h ^= *b++;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct day_sys *
day_sys_of(struct day_sink *d, const char *key)
{
    size_t n = strcspn(key, "/"), i;

    for (i = 0; i < d->nsys; i++) {
        if (strlen(d->sys[i].id) == n && strncmp(d->sys[i].id, key, n) == 0)
            return &d->sys[i];
    }
    assert_true(d->nsys < 4);
    snprintf(d->sys[d->nsys].id, sizeof(d->sys[0].id), "%.*s", (int)n, key);
    d->sys[d->nsys].digest = 1469598103934665603ULL;
    return &d->sys[d->nsys++];
}

/* The gap since the key's previous emission, in event time. */
static void
day_note_gap(struct day_sink *d, const char *key, int64_t t)
{
    size_t i;

    for (i = 0; i < d->nkeys && strcmp(d->keys[i], key) != 0; i++)
        ;
    if (i == d->nkeys) {
        assert_true(d->nkeys < MAX_KEYS);
        snprintf(d->keys[d->nkeys++], sizeof(d->keys[0]), "%s", key);
        /* The first emission of every station is at the first poll. */
        if (t != DAY_START_MS)
            d->bad_time++;
    } else if (t - d->last_ms[i] > d->max_gap_ms) {
        d->max_gap_ms = t - d->last_ms[i];
    }
    d->last_ms[i] = t;
}

static int
day_send(void *ctx, const char *key, const Velo__V1__StationSnapshot *s)
{
    struct day_sink *d = ctx;
    struct day_sys  *y = day_sys_of(d, key);
    uint8_t          buf[4096];
    size_t           n = velo__v1__station_snapshot__pack(s, buf);
    int64_t          t = s->fetched_at_ms;

    y->digest = fnv_bytes(fnv_bytes(y->digest, key, strlen(key) + 1), buf, n);
    y->records++;
    /* fetched_at_ms is poll k's virtual instant, never the wall clock. */
    if (t < DAY_START_MS ||
        t > DAY_START_MS + (int64_t)(DAY_POLLS - 1) * DAY_STEP_MS ||
        (t - DAY_START_MS) % DAY_STEP_MS != 0 || s->last_reported_ms > t ||
        s->last_reported_ms < DAY_START_MS)
        d->bad_time++;
    day_note_gap(d, key, t);
    return VELO_OK;
}

static int
day_system(void *ctx, const char *key, const Velo__V1__SystemInfo *si)
{
    struct day_sink *d = ctx;
    struct day_sys  *y = day_sys_of(d, key);
    uint8_t          buf[1024];
    size_t           n = velo__v1__system_info__pack(si, buf);

    y->digest = fnv_bytes(y->digest, buf, n);
    y->sysinfos++;
    snprintf(y->tz, sizeof(y->tz), "%s", si->timezone ? si->timezone : "");
    return VELO_OK;
}

static int
day_dead(void *ctx, const struct ingest_dead_letter *dl)
{
    (void)ctx, (void)dl;
    fail_msg("a simulated record was dead-lettered");
    return VELO_EINVAL;
}

static void
run_day(const char *const *specs, size_t n, struct day_sink *d)
{
    const struct ingest_sink sink = {.send = day_send,
                                     .dead_letter = day_dead,
                                     .send_system = day_system,
                                     .poll = a_poll,
                                     .flush = a_flush,
                                     .ctx = d};

    memset(d, 0, sizeof(*d));
    /* --exit-after-polls 0: the run ends because both sources finish. */
    run_ingest_into(specs, n, 0, &sink);
}

/* A whole day of two systems in different zones runs in seconds, in
 * virtual time, and gives byte-identical records twice; heartbeats come
 * every 5 virtual minutes (change capture on event time: on the wall
 * clock, no unchanged station would ever be re-sent in so short a run). */
static void
test_simulated_day_is_deterministic_in_virtual_time(void **state)
{
    char             dub[1300], lund[1300];
    const char      *specs[2] = {dub, lund};
    struct day_sink *d1 = calloc(1, sizeof(*d1));
    struct day_sink *d2 = calloc(1, sizeof(*d2));
    size_t           i;

    (void)state;
    snprintf(dub, sizeof(dub),
             "sim:dublin=simulate:%s,seed=7,tz=Europe/Dublin,"
             "start=2026-03-29T00:00:00Z,step=60,polls=%d",
             fixture("jcdecaux/v1_stations_dublin.json"), DAY_POLLS);
    snprintf(lund, sizeof(lund),
             "sim:lund=simulate:%s,seed=11,tz=Europe/Stockholm,"
             "start=2026-03-29T00:00:00Z,step=60,polls=%d",
             fixture("jcdecaux/v1_stations_lund_2015.json"), DAY_POLLS);
    run_day(specs, 2, d1);
    run_day(specs, 2, d2);
    assert_int_equal(d1->nsys, 2);
    assert_int_equal(d1->bad_time, 0);
    assert_true(d1->max_gap_ms <= 300000);
    assert_true(d1->max_gap_ms >= 180000); /* unchanged stations wait */
    for (i = 0; i < 2; i++) {
        /* Far fewer records than polls x stations (only changes and
         * heartbeats), far more than the heartbeats alone. */
        assert_int_equal(d1->sys[i].sysinfos, 1);
        assert_int_equal(d1->sys[i].records, d2->sys[i].records);
        assert_true(d1->sys[i].digest == d2->sys[i].digest);
    }
    assert_string_equal(d1->sys[0].tz, "Europe/Dublin");
    assert_string_equal(d1->sys[1].tz, "Europe/Stockholm");
    assert_true(d1->sys[0].records > 114 * 288); /* heartbeats every 5 min */
    assert_true(d1->sys[0].records < 114 * DAY_POLLS / 2);
    free(d1);
    free(d2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_emits_once_then_nothing_unchanged),
        cmocka_unit_test(test_simulate_labels_every_record),
        cmocka_unit_test(test_simulated_day_is_deterministic_in_virtual_time),
    };
    velo_log_init("ingest-test", VELO_LOG_WARN, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
