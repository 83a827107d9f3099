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

struct array_sink {
    struct rec recs[4096];
    size_t     n;
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

/* Runs ingest over the given sources until --exit-after-polls. */
static struct array_sink *
run_ingest(const char *const *specs, size_t nspecs, uint32_t polls)
{
    struct array_sink *a = calloc(1, sizeof(*a));
    struct ingest_sink sink = {a_send, a_dead, a_poll, a_flush, a};
    struct ingest_cfg  cfg = {0};
    velo_metrics      *m;
    ingest            *p;
    char               err[256];
    size_t             i;

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
    assert_int_equal(ingest_new(&p, &cfg, &sink, m), VELO_OK);
    assert_int_equal(ingest_start(p), VELO_OK);
    for (i = 0; i < 1000 && !ingest_done(p); i++)
        velo_sleep_ms(10);
    assert_true(ingest_done(p));
    assert_true(ingest_ready(p, err, sizeof(err)));
    assert_int_equal(ingest_stop(p, 1000), VELO_OK);
    ingest_free(p);
    velo_metrics_free(m);
    for (i = 0; i < nspecs; i++)
        ingest_source_spec_fini(&cfg.specs[i]);
    free(cfg.specs);
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
    snprintf(spec, sizeof(spec),
             "sim:lund=simulate:%s,interval=0,"
             "speed=1000000",
             fixture("jcdecaux/v1_stations_lund_2015.json"));
    a = run_ingest(specs, 1, 5);
    /* Every station once, then the changes of four simulated steps of
     * about a quarter of an hour each. */
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_emits_once_then_nothing_unchanged),
        cmocka_unit_test(test_simulate_labels_every_record),
    };
    velo_log_init("ingest-test", VELO_LOG_WARN, STDERR_FILENO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
