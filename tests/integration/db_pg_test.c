/* db_pg_test.c (integration.db_pg): the velo_db contract on a real
 * PostgreSQL (the `postgres` ctest fixture, tests/harness/postgres.sh),
 * the query plans, and password handling. The URL comes from
 * $VELO_RUN_DIR/postgres.ready, the password from the file beside it
 * through VELO_WAREHOUSE_PASSWORD_FILE, as in production. */
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "db_test_util.h"
#include "velo/file.h"
#include "velo/log.h"

static char  url[512];
static char *password;

static int
setup(void **state)
{
    const char *run = getenv("VELO_RUN_DIR");
    char        path[512];
    char       *text;
    size_t      len;

    (void)state;
    if (run == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/postgres.ready", run);
    if (velo_file_read(path, sizeof(url) - 1, &text, &len) != VELO_OK)
        return -1;
    text[strcspn(text, "\r\n")] = '\0';
    snprintf(url, sizeof(url), "%s", text);
    free(text);
    snprintf(path, sizeof(path), "%s/postgres.password", run);
    setenv("VELO_WAREHOUSE_PASSWORD_FILE", path, 1);
    unsetenv("VELO_WAREHOUSE_PASSWORD");
    return velo_db_password_load(&password) == VELO_OK && password ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    free(password);
    return 0;
}

/* Runs sql on a plain libpq connection; returns the first column of all
 * rows joined by newlines (caller frees), or NULL for a command. */
static char *
raw(const char *sql)
{
    const char     *keys[] = {"dbname", "password", NULL};
    const char     *vals[] = {url, password, NULL};
    PGconn         *c = PQconnectdbParams(keys, vals, 1);
    PGresult       *res;
    struct velo_buf b;
    size_t          len;
    int             r;

    assert_int_equal(PQstatus(c), CONNECTION_OK);
    res = PQexec(c, sql);
    assert_true(PQresultStatus(res) == PGRES_COMMAND_OK ||
                PQresultStatus(res) == PGRES_TUPLES_OK);
    velo_buf_init(&b, 1 << 16);
    for (r = 0; r < PQntuples(res); r++)
        assert_int_equal(velo_buf_printf(&b, "%s\n", PQgetvalue(res, r, 0)),
                         VELO_OK);
    PQclear(res);
    PQfinish(c);
    return velo_buf_steal(&b, &len);
}

static void
reset_schema(void)
{
    free(raw("SET client_min_messages = warning; "
             "DROP SCHEMA public CASCADE; CREATE SCHEMA public"));
}

static void
test_pg_conformance(void **state)
{
    struct velo_db_opts o = {.password = password};

    (void)state;
    reset_schema();
    dbt_conformance(url, &o);
}

/* Without the password the server refuses us (scram over TCP): the
 * password really travels from the file, and the failure is clean. */
static void
test_pg_password_required(void **state)
{
    struct velo_db_opts o = {.password = "wrong"};
    velo_db            *db = NULL;

    (void)state;
    assert_int_equal(velo_db_open(&db, url, NULL), VELO_EUNAVAIL);
    assert_int_equal(velo_db_open(&db, url, &o), VELO_EUNAVAIL);
    assert_null(db);
}

/* Enough rows that the planner has a real choice, then EXPLAIN the
 * statements velo_db_history and velo_db_top run. */
static void
test_pg_plans_use_indexes(void **state)
{
    struct velo_db_opts o = {.password = password};
    struct velo_db_row  rows[2000];
    char                ids[40][8];
    velo_db            *db;
    char               *plan;
    size_t              n = 0;
    int                 s, h;

    (void)state;
    reset_schema();
    assert_int_equal(velo_db_open(&db, url, &o), VELO_OK);
    for (s = 0; s < 40; s++) {
        snprintf(ids[s], sizeof(ids[s]), "s%d", s + 10);
        for (h = 0; h < 48; h++)
            rows[n++] = dbt_row(VELO_DB_HOUR, ids[s], h);
    }
    dbt_load(db, rows, n);
    n = 0;
    for (s = 0; s < 40; s++) {
        for (h = 0; h < 30; h++) {
            char *date = malloc(11);

            snprintf(date, 11, "2025-11-%02d", h + 1);
            rows[n] = dbt_row(VELO_DB_DAY, ids[s], -24 * (30 - h));
            rows[n].local_hour = 0;
            rows[n++].local_date = date;
        }
    }
    dbt_load(db, rows, n);
    for (s = 0; s < (int)n; s++)
        free((char *)rows[s].local_date);
    free(raw("ANALYZE"));
    plan = raw("EXPLAIN SELECT * FROM "
               "fact_station_hourly WHERE system_id = 'gbfs:test' AND "
               "station_id = 's12' AND window_start_ms >= 1764547200000 AND "
               "window_start_ms < 1764554400000 ORDER BY window_start_ms "
               "LIMIT 10000");
    assert_non_null(strstr(plan, "Index Scan using fact_station_hourly_pkey"));
    free(plan);
    plan = raw("EXPLAIN SELECT * FROM fact_station_daily WHERE "
               "system_id = 'gbfs:test' AND local_date = '2025-11-07' "
               "ORDER BY bikes_in + bikes_out DESC, station_id LIMIT 10");
    assert_non_null(strstr(plan, "fact_station_daily_day"));
    free(plan);
    velo_db_close(db);
}

/* Server-side constraint -> VELO_EINVAL, missing table -> VELO_EPROTO,
 * each with the server's text as cause; the password appears in no log
 * line and the URL only redacted. */
static void
test_pg_errors_mapped_and_redacted(void **state)
{
    struct velo_db_opts o = {.password = password};
    struct velo_db_row  r = dbt_row(VELO_DB_HOUR, "s1", 0);
    velo_db            *db;
    char                logpath[] = "/tmp/velo-pglog-XXXXXX", *log;
    size_t              len;
    int                 fd;

    (void)state;
    reset_schema();
    fd = mkstemp(logpath);
    assert_true(fd >= 0);
    velo_log_init("test", VELO_LOG_DEBUG, fd);
    assert_int_equal(velo_db_open(&db, url, &o), VELO_OK);
    free(raw("ALTER TABLE fact_station_hourly ADD CONSTRAINT no666 "
             "CHECK (samples <> 666)"));
    r.samples = 666;
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r, 1), VELO_EINVAL);
    velo_db_rollback(db);
    free(raw("DROP TABLE dim_time"));
    r.samples = 1;
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r, 1), VELO_EPROTO);
    velo_db_rollback(db);
    velo_db_close(db);
    o.password = "wr0ng-secret";
    assert_int_equal(velo_db_open(&db, url, &o), VELO_EUNAVAIL);
    velo_log_init("test", VELO_LOG_INFO, STDOUT_FILENO);
    close(fd);
    assert_int_equal(velo_file_read(logpath, 1 << 20, &log, &len), VELO_OK);
    unlink(logpath);
    assert_non_null(strstr(log, "violates check constraint"));
    assert_non_null(strstr(log, "\"error\":\"invalid argument\""));
    assert_non_null(strstr(log, "relation \\\"dim_time\\\" does not "
                                "exist"));
    assert_non_null(strstr(log, "password authentication failed"));
    assert_non_null(strstr(log, "\"db\":\"postgresql://***@127.0.0.1:"));
    assert_null(strstr(log, password));
    assert_null(strstr(log, "wr0ng-secret"));
    free(log);
}

struct loader {
    velo_db           *db;
    struct velo_db_row row;
    int                rv;
};

static void *
load_in_thread(void *arg)
{
    struct loader *l = arg;

    l->rv = velo_db_begin(l->db);
    if (l->rv == VELO_OK)
        l->rv = velo_db_upsert(l->db, &l->row, 1);
    if (l->rv == VELO_OK)
        l->rv = velo_db_commit(l->db);
    else
        velo_db_rollback(l->db);
    return NULL;
}

/* Starts l's load on a thread of its own and returns once the server
 * shows it waiting on a lock (readiness, not a sleep). */
static void
start_blocked(struct loader *l, pthread_t *th)
{
    char *waiting = NULL;
    int   i;

    assert_int_equal(pthread_create(th, NULL, load_in_thread, l), 0);
    for (i = 0; i < 2000; i++) {
        free(waiting);
        waiting = raw("SELECT count(*) FROM pg_stat_activity WHERE "
                      "application_name = 'velo-warehouse' AND "
                      "wait_event_type = 'Lock'");
        if (strcmp(waiting, "1\n") == 0)
            break;
    }
    assert_string_equal(waiting, "1\n");
    free(waiting);
}

/* a upserts r in a transaction that l's loader then waits on (a lock),
 * and commits: the loader must succeed. */
static void
race(velo_db *a, const struct velo_db_row *r, struct loader *l)
{
    pthread_t th;

    assert_int_equal(velo_db_begin(a), VELO_OK);
    assert_int_equal(velo_db_upsert(a, r, 1), VELO_OK);
    start_blocked(l, &th);
    assert_int_equal(velo_db_commit(a), VELO_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(l->rv, VELO_OK);
}

/* Two loaders open the first version of the same new station at once: the
 * second waits for the first (a lock, seen in pg_stat_activity), then
 * succeeds, and the station has exactly one version. */
static void
test_pg_concurrent_loaders_both_succeed(void **state)
{
    struct velo_db_opts o = {.password = password};
    struct velo_db_row  r = dbt_row(VELO_DB_HOUR, "s7", 0);
    struct loader       l;
    velo_db            *a;
    char               *dims;

    (void)state;
    reset_schema();
    assert_int_equal(velo_db_open(&a, url, &o), VELO_OK);
    assert_int_equal(velo_db_open(&l.db, url, &o), VELO_OK);
    l.row = dbt_row(VELO_DB_HOUR, "s7", 1);
    race(a, &r, &l);
    dims = raw("SELECT station_id || ' ' || valid_from FROM dim_station");
    assert_string_equal(dims, "s7 1764547200000\n");
    free(dims);
    velo_db_close(a);
    velo_db_close(l.db);
}

static uint64_t
fallbacks(const velo_db *db)
{
    struct velo_db_stats st;

    velo_db_stats_get(db, &st);
    return st.load_fallbacks;
}

/* The stored hour row of station (-1 samples when absent). */
static struct velo_db_row
hour_of(velo_db *db, const char *station, int hour)
{
    struct velo_db_history_q q = {VELO_DB_HOUR,
                                  "gbfs:test",
                                  station,
                                  T0 + hour * HOUR_MS,
                                  T0 + (hour + 1) * HOUR_MS,
                                  0};
    struct dbt_rows          c = {.n = 0};

    assert_int_equal(velo_db_history(db, &q, dbt_collect, &c), VELO_OK);
    if (c.n != 1)
        c.v[0].samples = -1;
    return c.v[0];
}

static int64_t
samples_of(velo_db *db, const char *station, int hour)
{
    return hour_of(db, station, hour).samples;
}

/* Facts go straight in by COPY; a batch whose facts are (partly) there
 * already falls back to the merge, counted, with the same end state.
 * Two loads in one transaction (staging reused) work either way. */
static void
test_pg_rerun_falls_back_to_merge(void **state)
{
    struct velo_db_opts o = {.password = password};
    struct velo_db_row  rows[8], r[2];
    size_t              n;
    velo_db            *db;
    char               *d1, *d2;

    (void)state;
    reset_schema();
    assert_int_equal(velo_db_open(&db, url, &o), VELO_OK);
    n = dbt_batch(rows);
    dbt_load(db, rows, n);
    assert_true(fallbacks(db) == 0);
    d1 = dbt_dump(db);
    dbt_load(db, rows, n);
    assert_true(fallbacks(db) == 1);
    d2 = dbt_dump(db);
    assert_string_equal(d1, d2);

    /* New windows only, twice in one transaction: no fallback. */
    r[0] = dbt_row(VELO_DB_HOUR, "s1", 6);
    r[1] = dbt_row(VELO_DB_HOUR, "s2", 7);
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r[0], 1), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r[1], 1), VELO_OK);
    assert_int_equal(velo_db_commit(db), VELO_OK);
    assert_true(fallbacks(db) == 1);
    assert_true(samples_of(db, "s1", 6) == 18);
    assert_true(samples_of(db, "s2", 7) == 19);

    /* A late correction beside a new window: merged, both land. */
    r[0] = dbt_row(VELO_DB_HOUR, "s1", 1);
    r[0].samples = 77;
    r[0].docks_min = 0.0;
    r[1] = dbt_row(VELO_DB_HOUR, "s2", 8);
    dbt_load(db, r, 2);
    assert_true(fallbacks(db) == 2);
    assert_true(samples_of(db, "s1", 1) == 77);
    assert_true(samples_of(db, "s2", 8) == 20);
    /* Equal to the stored row but for the sign of a zero: still written
     * (the merge skips only rows equal bit for bit). */
    r[0].docks_min = -0.0;
    dbt_load(db, r, 1);
    assert_true(fallbacks(db) == 3);
    assert_true(signbit(hour_of(db, "s1", 1).docks_min));
    free(d1);
    free(d2);
    velo_db_close(db);
}

/* Two loaders of the same fact key at once: the second queues on the
 * system's row, then finds the key taken, falls back and wins. */
static void
test_pg_concurrent_same_key_falls_back(void **state)
{
    struct velo_db_opts o = {.password = password};
    struct velo_db_row  r = dbt_row(VELO_DB_HOUR, "s8", 0);
    struct loader       l;
    velo_db            *a;

    (void)state;
    reset_schema();
    assert_int_equal(velo_db_open(&a, url, &o), VELO_OK);
    assert_int_equal(velo_db_open(&l.db, url, &o), VELO_OK);
    dbt_load(a, &r, 1); /* the system exists: B queues on its row */
    l.row = r;
    l.row.samples = 55;
    r.samples = 44;
    race(a, &r, &l);
    assert_true(fallbacks(a) == 1);
    assert_true(fallbacks(l.db) == 1);
    assert_true(samples_of(a, "s8", 0) == 55);
    velo_db_close(a);
    velo_db_close(l.db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_conformance),
        cmocka_unit_test(test_pg_password_required),
        cmocka_unit_test(test_pg_plans_use_indexes),
        cmocka_unit_test(test_pg_errors_mapped_and_redacted),
        cmocka_unit_test(test_pg_concurrent_loaders_both_succeed),
        cmocka_unit_test(test_pg_rerun_falls_back_to_merge),
        cmocka_unit_test(test_pg_concurrent_same_key_falls_back),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
