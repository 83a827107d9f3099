/* db_test.c: URL parsing, redaction, the password, batch preparation and
 * the staging column mapping: everything in velo_db that needs no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db_int.h"
#include "db_test_util.h"

static void
test_url_parse_servers(void **state)
{
    struct velo_db_url u;
    char               why[128];

    (void)state;
    assert_int_equal(velo_db_url_parse(&u,
                                       "postgresql://velo@db.local:6543/"
                                       "wh",
                                       why, sizeof(why)),
                     VELO_OK);
    assert_int_equal(u.kind, VELO_DB_POSTGRESQL);
    assert_string_equal(u.user, "velo");
    assert_string_equal(u.host, "db.local");
    assert_int_equal(u.port, 6543);
    assert_string_equal(u.dbname, "wh");
    assert_int_equal(
        velo_db_url_parse(&u, "mssql://sa@sql1/warehouse", why, sizeof(why)),
        VELO_OK);
    assert_int_equal(u.kind, VELO_DB_MSSQL);
    assert_int_equal(u.port, 1433);
    assert_string_equal(u.dbname, "warehouse");
    assert_int_equal(
        velo_db_url_parse(&u, "postgresql://127.0.0.1/d", why, sizeof(why)),
        VELO_OK);
    assert_string_equal(u.user, "");
    assert_int_equal(u.port, 5432);
    assert_int_equal(
        velo_db_url_parse(&u, "sqlite:///var/lib/w.db", why, sizeof(why)),
        VELO_OK);
    assert_int_equal(u.kind, VELO_DB_SQLITE);
    assert_string_equal(u.dbname, "/var/lib/w.db");
}

static void
test_url_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "postgresql://u:secret@h/db", /* password belongs in env/file */
        "postgresql://h",             /* no database */
        "postgresql://h:0/db",
        "postgresql://h:65536/db",
        "postgresql://h:54x/db",
        "postgresql://u@/db",
        "postgresql://h/db?sslmode=disable",
        "mysql://h/db",
        "sqlite://",
        "",
    };
    struct velo_db_url u;
    char               why[128];
    size_t             i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(velo_db_url_parse(&u, bad[i], why, sizeof(why)),
                         VELO_EINVAL);
        assert_true(why[0] != '\0');
        assert_null(strstr(why, "secret"));
    }
}

static void
test_url_redact(void **state)
{
    static const char *const cases[][2] = {
        {"postgresql://u:s3cret@h:5432/db", "postgresql://***@h:5432/db"},
        {"postgresql://velo@h/db", "postgresql://***@h/db"},
        {"mssql://a@b:p@ss@h:1433/db", "mssql://***@h:1433/db"},
        {"postgresql://h/db?password=s3cret", "postgresql://h/db?***"},
        {"sqlite:///var/w.db", "sqlite:///var/w.db"},
        {"no scheme s3cret", "***"},
    };
    char   buf[128], tiny[8];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        velo_db_url_redact(cases[i][0], buf, sizeof(buf));
        assert_string_equal(buf, cases[i][1]);
    }
    velo_db_url_redact("postgresql://u:s3cret@h/db", tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void
test_password_env_then_file(void **state)
{
    char  path[] = "/tmp/velo-pw-XXXXXX";
    char *pw = (char *)"untouched";
    int   fd;

    (void)state;
    unsetenv("VELO_WAREHOUSE_PASSWORD");
    unsetenv("VELO_WAREHOUSE_PASSWORD_FILE");
    assert_int_equal(velo_db_password_load(&pw), VELO_OK);
    assert_null(pw);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "fr0m-file\n", 10), 10);
    close(fd);
    setenv("VELO_WAREHOUSE_PASSWORD_FILE", path, 1);
    assert_int_equal(velo_db_password_load(&pw), VELO_OK);
    assert_string_equal(pw, "fr0m-file"); /* newline of the mount dropped */
    free(pw);

    setenv("VELO_WAREHOUSE_PASSWORD", "fr0m-env", 1);
    assert_int_equal(velo_db_password_load(&pw), VELO_OK);
    assert_string_equal(pw, "fr0m-env");
    free(pw);
    unsetenv("VELO_WAREHOUSE_PASSWORD");

    unlink(path);
    pw = (char *)"untouched";
    assert_int_equal(velo_db_password_load(&pw), VELO_EIO);
    assert_string_equal(pw, "untouched");
    unsetenv("VELO_WAREHOUSE_PASSWORD_FILE");
}

/* Later duplicates win; one row per station, system and hour is flagged;
 * a rename inside the batch starts the version at its first row. */
static void
test_batch_dedupe_and_flags(void **state)
{
    struct velo_db_row rows[6];
    struct db_batch    b;
    size_t             i, st = 0, sys = 0, tm = 0;

    (void)state;
    rows[0] = dbt_row(VELO_DB_HOUR, "s1", 1);
    rows[1] = dbt_row(VELO_DB_HOUR, "s1", 0);
    rows[2] = dbt_row(VELO_DB_HOUR, "s2", 0);
    rows[3] = dbt_row(VELO_DB_HOUR, "s1", 1);
    rows[3].samples = 77;
    rows[4] = dbt_row(VELO_DB_DAY, "s1", -1);
    rows[5] = dbt_row(VELO_DB_HOUR, "s1", 2);
    rows[5].station_name = "renamed";
    rows[3].station_name = "renamed";
    assert_int_equal(db_batch_prepare(&b, rows, 6), VELO_OK);
    assert_int_equal(b.n, 5);
    for (i = 0; i < b.n; i++) {
        st += (b.flags[i] & DB_F_STATION) != 0;
        sys += (b.flags[i] & DB_F_SYSTEM) != 0;
        tm += (b.flags[i] & DB_F_TIME) != 0;
        if (b.rows[i]->window_start_ms == T0 + HOUR_MS &&
            strcmp(b.rows[i]->station_id, "s1") == 0)
            assert_true(b.rows[i]->samples == 77);
        if (b.rows[i] == &rows[5]) {
            assert_true(b.flags[i] & DB_F_STATION);
            assert_true(b.dim_from[i] == T0 + HOUR_MS);
        }
    }
    assert_int_equal(st, 2);
    assert_int_equal(sys, 1);
    assert_int_equal(tm, 3); /* hours 0, 1, 2 */
    db_batch_fini(&b);
}

/* A day row whose window starts on the same instant as an hour (local
 * midnight of a whole-hour zone), arriving between two stations' hour rows,
 * must not make the second hour row feed dim_time as well: PostgreSQL
 * refuses an INSERT ... ON CONFLICT DO UPDATE that touches a row twice, so
 * the whole batch failed (found by bench/warehouse --e2e). */
static void
test_batch_time_flag_once_beside_days(void **state)
{
    struct velo_db_row rows[4];
    struct db_batch    b;
    size_t             i, tm = 0;

    (void)state;
    rows[0] = dbt_row(VELO_DB_HOUR, "s1", 0);
    rows[1] = dbt_row(VELO_DB_DAY, "s2", 0);
    rows[2] = dbt_row(VELO_DB_HOUR, "s3", 0);
    rows[3] = dbt_row(VELO_DB_DAY, "s4", 0);
    assert_int_equal(db_batch_prepare(&b, rows, 4), VELO_OK);
    assert_int_equal(b.n, 4);
    for (i = 0; i < b.n; i++) {
        if ((b.flags[i] & DB_F_TIME) == 0)
            continue;
        tm++;
        assert_int_equal(b.rows[i]->gran, VELO_DB_HOUR);
        assert_string_equal(b.rows[i]->station_id, "s1"); /* the first */
    }
    assert_int_equal(tm, 1);
    db_batch_fini(&b);
}

static void
test_batch_rejects_bad_rows(void **state)
{
    char               long_id[VELO_DB_ID_MAX + 2];
    struct velo_db_row r = dbt_row(VELO_DB_HOUR, "s1", 0);
    struct db_batch    b;

    (void)state;
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    r.station_id = long_id;
    assert_int_equal(db_batch_prepare(&b, &r, 1), VELO_ETOOBIG);
    r = dbt_row(VELO_DB_HOUR, "s1", 0);
    r.system_id = "";
    assert_int_equal(db_batch_prepare(&b, &r, 1), VELO_EINVAL);
    r = dbt_row(VELO_DB_HOUR, "s1", 0);
    r.local_hour = 24;
    assert_int_equal(db_batch_prepare(&b, &r, 1), VELO_EINVAL);
    r = dbt_row(VELO_DB_HOUR, "s1", 0);
    r.gran = (enum velo_db_gran)3;
    assert_int_equal(db_batch_prepare(&b, &r, 1), VELO_EINVAL);
    r = dbt_row(VELO_DB_HOUR, "s1", 0);
    r.status = NULL;
    assert_int_equal(db_batch_prepare(&b, &r, 1), VELO_EINVAL);
    /* The count is checked before any row is read. */
    assert_int_equal(db_batch_prepare(&b, &r, VELO_DB_BATCH_MAX + 1),
                     VELO_ETOOBIG);
}

/* db_stage_val follows db_sql_stage_cols: each named column carries the
 * field of that name. */
static void
test_stage_vals_match_column_names(void **state)
{
    struct velo_db_row        r = dbt_row(VELO_DB_DAY, "s1", 3);
    const struct velo_db_row *rp = &r;
    uint8_t                   flags = 5;
    int64_t                   from = 42;
    struct db_batch           b = {&rp, &flags, &from, 1};
    struct db_val             v;
    size_t                    c;

    (void)state;
    assert_int_equal(db_sql_stage_cols_len, 30);
    for (c = 0; c < db_sql_stage_cols_len; c++) {
        const char *n = db_sql_stage_col(c);

        db_stage_val(&b, 0, c, &v);
        if (strcmp(n, "gran") == 0)
            assert_true(v.t == DB_V_INT && v.i == VELO_DB_DAY);
        else if (strcmp(n, "station_id") == 0)
            assert_string_equal(v.s, "s1");
        else if (strcmp(n, "window_start_ms") == 0)
            assert_true(v.i == r.window_start_ms);
        else if (strcmp(n, "samples") == 0)
            assert_true(v.t == DB_V_INT && v.i == r.samples);
        else if (strcmp(n, "docks_avg") == 0)
            assert_true(v.t == DB_V_DBL && v.d == r.docks_avg);
        else if (strcmp(n, "minutes_full") == 0)
            assert_true(v.d == r.minutes_full);
        else if (strcmp(n, "bikes_out") == 0)
            assert_true(v.i == r.bikes_out);
        else if (strcmp(n, "electric_avg") == 0)
            assert_true(v.t == DB_V_DBL && v.d == 1.75);
        else if (strcmp(n, "station_name") == 0)
            assert_string_equal(v.s, r.station_name);
        else if (strcmp(n, "time_zone") == 0)
            assert_string_equal(v.s, "Europe/Paris");
        else if (strcmp(n, "flags") == 0)
            assert_true(v.i == 5);
        else if (strcmp(n, "dim_from_ms") == 0)
            assert_true(v.i == 42);
    }
    r.has_electric_avg = false;
    db_stage_val(&b, 0, 21, &v);
    assert_string_equal(db_sql_stage_col(21), "electric_avg");
    assert_true(v.t == DB_V_NULL);
}

static void
test_row_from_text(void **state)
{
    const char *v[DB_SQL_FACT_NCOLS] = {
        "sys",  "st", "3600000", "12", "0.10000000000000001",
        "1",    "7",  "2.5",     "2",  "9",
        "5",    "6",  "3",       "4",  "1",
        "OPEN", "20", NULL};
    struct velo_db_row r;

    (void)state;
    assert_int_equal(db_row_from_text(&r, VELO_DB_HOUR, v, NULL), VELO_OK);
    assert_true(r.bikes_avg == 0.1);
    assert_true(r.window_start_ms == 3600000);
    assert_true(r.flow_reliable);
    assert_false(r.has_electric_avg);
    assert_int_equal(r.capacity, 20);
    v[3] = "twelve";
    assert_int_equal(db_row_from_text(&r, VELO_DB_HOUR, v, NULL), VELO_EPROTO);
}

/* Every dialect carries the same migration versions, and SQL text in
 * db_sql.c never holds a quoted value. */
static void
test_migrations_embedded(void **state)
{
    const char *dialects[] = {"sqlite", "postgresql", "mssql"};
    size_t      i, d, found;

    (void)state;
    for (d = 0; d < 3; d++) {
        found = 0;
        for (i = 0; i < db_migrations_len; i++) {
            if (strcmp(db_migrations[i].dialect, dialects[d]) == 0 &&
                db_migrations[i].version == 1) {
                found++;
                assert_non_null(strstr(db_migrations[i].sql,
                                       "CREATE TABLE fact_station_daily"));
                assert_string_equal(db_migrations[i].name, "star_schema");
            }
        }
        assert_int_equal(found, 1);
    }
    for (i = 0; i < db_sql_merge_ansi_len; i++)
        assert_null(strchr(db_sql_merge_ansi[i], '\''));
    /* PostgreSQL runs the dimension statements and the fact ones apart. */
    for (i = 0; i < db_sql_merge_ansi_len; i++)
        assert_true((strncmp(db_sql_merge_ansi[i], "INSERT INTO fact_", 17) ==
                     0) == (i >= db_sql_merge_dims_len));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse_servers),
        cmocka_unit_test(test_url_parse_rejects),
        cmocka_unit_test(test_url_redact),
        cmocka_unit_test(test_password_env_then_file),
        cmocka_unit_test(test_batch_dedupe_and_flags),
        cmocka_unit_test(test_batch_time_flag_once_beside_days),
        cmocka_unit_test(test_batch_rejects_bad_rows),
        cmocka_unit_test(test_stage_vals_match_column_names),
        cmocka_unit_test(test_row_from_text),
        cmocka_unit_test(test_migrations_embedded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
