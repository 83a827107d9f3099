/* db_pg_restart_test.c (integration.db_pg_restart): PostgreSQL stops (or
 * freezes) while velo_db is using it. The adapter must answer VELO_EUNAVAIL
 * within its timeouts (no crash, no hang), lose the whole in-flight batch (one
 * transaction), and work again once the server is back, without a new
 * velo_db. Runs its own cluster (tests/harness/postgres.sh, NAME
 * postgres_restart) so stopping it disturbs no other test. */
#include <stdlib.h>

#include "db_test_util.h"
#include "velo/clock.h"
#include "velo/file.h"

#define NAME "postgres_restart"

static char  url[512];
static char *password;

static int
harness(const char *cmd)
{
    char line[1024];

    snprintf(line, sizeof(line), "'%s/tests/harness/postgres.sh' %s '%s' %s",
             getenv("VELO_SRC_DIR"), cmd, getenv("VELO_RUN_DIR"), NAME);
    return system(line);
}

static int
setup(void **state)
{
    char   path[512];
    char  *text;
    size_t len;

    (void)state;
    if (getenv("VELO_SRC_DIR") == NULL || getenv("VELO_RUN_DIR") == NULL ||
        harness("start") != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s.ready", getenv("VELO_RUN_DIR"), NAME);
    if (velo_file_read(path, sizeof(url) - 1, &text, &len) != VELO_OK)
        return -1;
    text[strcspn(text, "\r\n")] = '\0';
    snprintf(url, sizeof(url), "%s", text);
    free(text);
    snprintf(path, sizeof(path), "%s/%s.password", getenv("VELO_RUN_DIR"),
             NAME);
    setenv("VELO_WAREHOUSE_PASSWORD_FILE", path, 1);
    unsetenv("VELO_WAREHOUSE_PASSWORD");
    return velo_db_password_load(&password) == VELO_OK ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    free(password);
    return harness("stop") == 0 ? 0 : -1;
}

static int64_t
samples_of_s1_hour0(velo_db *db, int *rv)
{
    struct velo_db_history_q q = {VELO_DB_HOUR, "gbfs:test",  "s1",
                                  T0,           T0 + HOUR_MS, 0};
    struct dbt_rows          c = {.n = 0};

    *rv = velo_db_history(db, &q, dbt_collect, &c);
    return c.n == 1 ? c.v[0].samples : -1;
}

static void
test_pg_stop_mid_batch_then_back(void **state)
{
    struct velo_db_opts  o = {.password = password,
                              .connect_timeout_ms = 2000,
                              .statement_timeout_ms = 5000};
    struct velo_db_row   rows[8], r;
    size_t               n = dbt_batch(rows);
    velo_db             *db;
    struct velo_db_stats st;
    int64_t              t0;
    int                  rv;

    (void)state;
    assert_int_equal(velo_db_open(&db, url, &o), VELO_OK);
    dbt_load(db, rows, n);

    /* A batch is open when the server goes away. */
    r = dbt_row(VELO_DB_HOUR, "s1", 0);
    r.samples = 999;
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r, 1), VELO_OK);
    assert_int_equal(harness("halt"), 0);
    t0 = velo_mono_ms();
    assert_int_equal(velo_db_commit(db), VELO_EUNAVAIL);
    velo_db_rollback(db);
    assert_int_equal(velo_db_ping(db), VELO_EUNAVAIL);
    assert_int_equal(velo_db_begin(db), VELO_EUNAVAIL);
    (void)samples_of_s1_hour0(db, &rv);
    assert_int_equal(rv, VELO_EUNAVAIL);
    assert_true(velo_mono_ms() - t0 < 15000); /* answered, never hung */

    /* Back on the same port: the same handle reconnects. */
    assert_int_equal(harness("start"), 0);
    assert_int_equal(velo_db_ping(db), VELO_OK);
    assert_true(samples_of_s1_hour0(db, &rv) == 12); /* nothing half-done */
    assert_int_equal(rv, VELO_OK);
    dbt_load(db, &r, 1);
    assert_true(samples_of_s1_hour0(db, &rv) == 999);

    /* Stopped between batches: begin fails, then recovers. */
    assert_int_equal(harness("halt"), 0);
    assert_int_equal(velo_db_begin(db), VELO_EUNAVAIL);
    assert_int_equal(harness("start"), 0);
    dbt_load(db, rows, n);
    assert_true(samples_of_s1_hour0(db, &rv) == 12);
    velo_db_stats_get(db, &st);
    assert_true(st.reconnects == 2);
    assert_true(st.errors_retryable >= 5);
    assert_true(st.batches_committed == 3);
    velo_db_close(db);
}

/* A frozen server (processes stopped: the kernel still answers TCP) must
 * not hang a query: the client-side limit (statement timeout + 5 s) ends
 * it with VELO_ETIMEDOUT, and the handle reconnects after the thaw. */
static void
test_pg_frozen_server_times_out(void **state)
{
    struct velo_db_opts o = {.password = password,
                             .connect_timeout_ms = 2000,
                             .statement_timeout_ms = 1000};
    struct velo_db_row  rows[8];
    size_t              n = dbt_batch(rows);
    velo_db            *db;
    int64_t             t0, took;
    int                 rv;

    (void)state;
    assert_int_equal(velo_db_open(&db, url, &o), VELO_OK);
    dbt_load(db, rows, n);
    assert_int_equal(harness("freeze"), 0);
    t0 = velo_mono_ms();
    rv = velo_db_ping(db);
    took = velo_mono_ms() - t0;
    assert_int_equal(harness("thaw"), 0);
    assert_int_equal(rv, VELO_ETIMEDOUT);
    assert_true(took >= 5000 && took < 9000);
    assert_int_equal(velo_db_ping(db), VELO_OK);
    assert_true(samples_of_s1_hour0(db, &rv) == 12);
    assert_int_equal(rv, VELO_OK);
    velo_db_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_stop_mid_batch_then_back),
        cmocka_unit_test(test_pg_frozen_server_times_out),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
