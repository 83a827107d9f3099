/* db_sqlite_test.c: the velo_db contract on a real SQLite file, plus what
 * is SQLite's own: WAL, the query plans, busy mapping, newer schemas. */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "velo/file.h"
#include "velo/log.h"

#include "db_test_util.h"

struct tmp {
    char dir[64];
    char path[128];
    char url[160];
};

static void
tmp_init(struct tmp *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/velo-dbtest-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/w.db", t->dir);
    snprintf(t->url, sizeof(t->url), "sqlite://%s", t->path);
}

static void
tmp_fini(struct tmp *t)
{
    char p[200];

    snprintf(p, sizeof(p), "%s-wal", t->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", t->path);
    unlink(p);
    unlink(t->path);
    rmdir(t->dir);
}

static void
test_sqlite_conformance(void **state)
{
    struct tmp t;

    (void)state;
    tmp_init(&t);
    dbt_conformance(t.url, NULL);
    tmp_fini(&t);
}

/* The plan of a statement as one string, through a second connection. */
static void
plan_of(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3      *h;
    sqlite3_stmt *st;
    char          q[1024];
    size_t        len = 0;

    snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW && len < size)
        len += (size_t)snprintf(out + len, size - len, "%s; ",
                                (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* The history and top queries are served by an index, not a scan. */
static void
test_sqlite_plans_use_indexes(void **state)
{
    struct tmp t;
    velo_db   *db;
    char       plan[512];

    (void)state;
    tmp_init(&t);
    assert_int_equal(velo_db_open(&db, t.url, NULL), VELO_OK);
    plan_of(t.path,
            "SELECT * FROM fact_station_hourly WHERE system_id = ?1 AND "
            "station_id = ?2 AND window_start_ms >= ?3 AND "
            "window_start_ms < ?4 ORDER BY window_start_ms LIMIT ?5",
            plan, sizeof(plan));
    assert_non_null(strstr(plan, "USING INDEX sqlite_autoindex_fact_station_"
                                 "hourly_1 (system_id=? AND station_id=? AND "
                                 "window_start_ms>? AND window_start_ms<?)"));
    assert_null(strstr(plan, "TEMP B-TREE")); /* no sort either */
    plan_of(t.path,
            "SELECT * FROM fact_station_daily WHERE system_id = ?1 AND "
            "station_id = ?2 AND window_start_ms >= ?3 AND "
            "window_start_ms < ?4 ORDER BY window_start_ms LIMIT ?5",
            plan, sizeof(plan));
    assert_non_null(strstr(plan, "USING INDEX sqlite_autoindex_fact_station_"
                                 "daily_1"));
    plan_of(t.path,
            "SELECT * FROM fact_station_daily WHERE system_id = ?1 AND "
            "local_date = ?2 ORDER BY bikes_in + bikes_out DESC LIMIT ?3",
            plan, sizeof(plan));
    assert_non_null(strstr(plan, "USING INDEX fact_station_daily_day "
                                 "(system_id=? AND local_date=?)"));
    velo_db_close(db);
    tmp_fini(&t);
}

static void
exec_raw(const char *path, const char *sql)
{
    sqlite3 *h;

    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* A database migrated by a newer binary is refused, not written to. */
static void
test_sqlite_newer_schema_refused(void **state)
{
    struct tmp t;
    velo_db   *db = NULL;

    (void)state;
    tmp_init(&t);
    assert_int_equal(velo_db_open(&db, t.url, NULL), VELO_OK);
    velo_db_close(db);
    db = NULL;
    exec_raw(t.path, "INSERT INTO schema_migrations VALUES (9999, 'future')");
    assert_int_equal(velo_db_open(&db, t.url, NULL), VELO_EINVAL);
    assert_null(db);
    tmp_fini(&t);
}

/* WAL is on; a writer holding the lock past the busy timeout gives
 * VELO_EUNAVAIL (retry later), and the next batch goes through. */
static void
test_sqlite_wal_and_busy_is_unavail(void **state)
{
    struct velo_db_opts  o = {.busy_timeout_ms = 50};
    struct velo_db_stats st;
    struct velo_db_row   r = dbt_row(VELO_DB_HOUR, "s1", 0);
    struct tmp           t;
    velo_db             *db;
    sqlite3             *h;
    char                 mode[64];

    (void)state;
    tmp_init(&t);
    assert_int_equal(velo_db_open(&db, t.url, &o), VELO_OK);
    assert_int_equal(sqlite3_open(t.path, &h), SQLITE_OK);
    mode[0] = '\0';
    {
        sqlite3_stmt *stmt;

        assert_int_equal(
            sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &stmt, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        snprintf(mode, sizeof(mode), "%s", sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    assert_string_equal(mode, "wal");
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(velo_db_begin(db), VELO_EUNAVAIL);
    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    dbt_load(db, &r, 1);
    velo_db_stats_get(db, &st);
    assert_true(st.errors_retryable == 1);
    assert_true(st.errors_other == 0);
    assert_true(st.batches_committed == 1);
    assert_true(st.rows_upserted == 1);
    velo_db_close(db);
    tmp_fini(&t);
}

/* A bad URL or an unwritable path fails cleanly. */
static void
test_sqlite_open_errors(void **state)
{
    velo_db *db = NULL;

    (void)state;
    assert_int_equal(velo_db_open(&db, "sqlite://", NULL), VELO_EINVAL);
    assert_int_equal(
        velo_db_open(&db, "sqlite:///nonexistent-dir/x/w.db", NULL), VELO_EIO);
    assert_int_equal(velo_db_open(&db, "mysql://h/db", NULL), VELO_EINVAL);
    assert_null(db);
}

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay++;
    }
    return n;
}

/* A constraint the server enforces is VELO_EINVAL, a missing table
 * VELO_EPROTO; each logs the driver's text once as `cause`, and the batch
 * leaves nothing behind. */
static void
test_sqlite_errors_mapped_and_logged_once(void **state)
{
    struct velo_db_row r = dbt_row(VELO_DB_HOUR, "s1", 0);
    struct tmp         t;
    velo_db           *db;
    char               logpath[160], *log;
    size_t             len;
    int                fd;

    (void)state;
    tmp_init(&t);
    snprintf(logpath, sizeof(logpath), "%s/log", t.dir);
    fd = open(logpath, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    velo_log_init("test", VELO_LOG_INFO, fd);
    assert_int_equal(velo_db_open(&db, t.url, NULL), VELO_OK);
    exec_raw(t.path, "CREATE TRIGGER no666 BEFORE INSERT ON "
                     "fact_station_hourly WHEN NEW.samples = 666 BEGIN "
                     "SELECT RAISE(ABORT, 'samples 666 refused'); END");
    r.samples = 666;
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r, 1), VELO_EINVAL);
    velo_db_rollback(db);
    exec_raw(t.path, "DROP TABLE dim_time");
    r.samples = 1;
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, &r, 1), VELO_EPROTO);
    velo_db_rollback(db);
    velo_db_close(db);
    velo_log_init("test", VELO_LOG_INFO, STDOUT_FILENO);
    close(fd);
    assert_int_equal(velo_file_read(logpath, 1 << 16, &log, &len), VELO_OK);
    assert_int_equal(count(log, "\"event\":\"db.error\""), 2);
    assert_int_equal(count(log, "samples 666 refused"), 1);
    assert_int_equal(count(log, "no such table: dim_time"), 1);
    assert_int_equal(count(log, "\"error\":\"invalid argument\""), 1);
    free(log);
    unlink(logpath);
    tmp_fini(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_conformance),
        cmocka_unit_test(test_sqlite_plans_use_indexes),
        cmocka_unit_test(test_sqlite_newer_schema_refused),
        cmocka_unit_test(test_sqlite_wal_and_busy_is_unavail),
        cmocka_unit_test(test_sqlite_open_errors),
        cmocka_unit_test(test_sqlite_errors_mapped_and_logged_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
