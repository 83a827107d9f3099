/* db_mssql_test.c: the SQL Server backend without a server: the bcp bind
 * table against the staging DDL, staged values, the MERGE text, GO
 * splitting and error mapping. integration.db_mssql covers a real server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "db_mssql.h"
#include "db_test_util.h"

static const char *
mssql_migration(void)
{
    size_t i;

    for (i = 0; i < db_migrations_len; i++) {
        if (strcmp(db_migrations[i].dialect, "mssql") == 0 &&
            db_migrations[i].version == 1)
            return db_migrations[i].sql;
    }
    fail_msg("no embedded mssql migration");
    return NULL;
}

/* Column i of "CREATE TABLE stg_station_stats (...)": name and whether it
 * is declared NULL. */
static int
ddl_column(const char *sql, size_t want, char *name, size_t size,
           bool *nullable)
{
    const char *p = strstr(sql, "CREATE TABLE stg_station_stats (");
    const char *end;
    size_t      i;

    assert_non_null(p);
    p = strchr(p, '(') + 1;
    for (i = 0; i <= want; i++) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (*p == ')')
            return -1;
        end = p + strcspn(p, ",\n");
        if (i == want) {
            snprintf(name, size, "%.*s", (int)strcspn(p, " "), p);
            *nullable =
                strstr(p, " NOT NULL") == NULL || strstr(p, " NOT NULL") > end;
            return 0;
        }
        p = end + (*end == ',' ? 1 : 0);
        while (*p != '\n' && *p != '\0')
            p++;
    }
    return -1;
}

/* bcp binds column i + 1 of the staging table: names, order and NULL-ness
 * must agree with the migration and with db_sql_stage_cols. */
static void
test_bind_table_matches_staging_ddl(void **state)
{
    const char *sql = mssql_migration();
    char        name[64];
    bool        nullable;
    size_t      i;

    (void)state;
    assert_int_equal(db_mssql_binds_len, db_sql_stage_cols_len);
    for (i = 0; i < db_mssql_binds_len; i++) {
        assert_int_equal(ddl_column(sql, i, name, sizeof(name), &nullable), 0);
        assert_string_equal(db_mssql_binds[i].column, name);
        assert_string_equal(db_mssql_binds[i].column, db_sql_stage_col(i));
        assert_int_equal(db_mssql_binds[i].nullable, nullable);
        assert_true(db_mssql_binds[i].offset + db_mssql_binds[i].size <=
                    offsetof(struct db_mssql_stage, collen));
    }
    assert_int_equal(ddl_column(sql, i, name, sizeof(name), &nullable), -1);
    assert_true(db_mssql_binds_len <=
                sizeof(((struct db_mssql_stage *)0)->collen) / sizeof(int32_t));
}

static const struct db_mssql_bind *
bind_named(const char *name, size_t *idx)
{
    size_t i;

    for (i = 0; i < db_mssql_binds_len; i++) {
        if (strcmp(db_mssql_binds[i].column, name) == 0) {
            *idx = i;
            return &db_mssql_binds[i];
        }
    }
    fail_msg("no bind for %s", name);
    return NULL;
}

/* Types and sizes: what bcp_bind reads at each address. */
static void
test_bind_types(void **state)
{
    size_t i;

    (void)state;
    assert_int_equal(bind_named("window_start_ms", &i)->ctype, DB_MSSQL_INT8);
    assert_int_equal(bind_named("samples", &i)->size, 8);
    assert_int_equal(bind_named("bikes_avg", &i)->ctype, DB_MSSQL_FLT8);
    assert_int_equal(bind_named("capacity", &i)->ctype, DB_MSSQL_INT4);
    assert_int_equal(bind_named("capacity", &i)->size, 4);
    assert_int_equal(bind_named("station_id", &i)->size, VELO_DB_ID_MAX + 1);
    assert_int_equal(bind_named("station_name", &i)->size,
                     VELO_DB_NAME_MAX + 1);
    assert_int_equal(bind_named("local_date", &i)->size, VELO_DB_DATE_LEN + 1);
    for (i = 0; i < db_mssql_binds_len; i++) {
        size_t want = db_mssql_binds[i].ctype == DB_MSSQL_INT4   ? 4
                      : db_mssql_binds[i].ctype == DB_MSSQL_CHAR ? 0
                                                                 : 8;

        if (want != 0)
            assert_int_equal(db_mssql_binds[i].size, want);
    }
}

/* stage_fill puts each value where its binding points; NULLs get length
 * 0 (absent electric_avg, empty optional strings). */
static void
test_stage_fill(void **state)
{
    struct velo_db_row          r = dbt_row(VELO_DB_HOUR, "s2", 4);
    const struct velo_db_row   *rp = &r;
    uint8_t                     flags = 3;
    int64_t                     from = T0;
    struct db_batch             b = {&rp, &flags, &from, 1};
    struct db_mssql_stage       s;
    const struct db_mssql_bind *bd;
    size_t                      i;
    int64_t                     i8;
    double                      d;
    int32_t                     i4;

    (void)state;
    r.status = "";
    memset(&s, 0x55, sizeof(s));
    db_mssql_stage_fill(&s, &b, 0);
    bd = bind_named("window_start_ms", &i);
    memcpy(&i8, (char *)&s + bd->offset, 8);
    assert_true(i8 == T0 + 4 * HOUR_MS);
    bd = bind_named("docks_avg", &i);
    memcpy(&d, (char *)&s + bd->offset, 8);
    assert_true(d == r.docks_avg);
    bd = bind_named("local_hour", &i);
    memcpy(&i4, (char *)&s + bd->offset, 4);
    assert_int_equal(i4, 5);
    bd = bind_named("flags", &i);
    memcpy(&i4, (char *)&s + bd->offset, 4);
    assert_int_equal(i4, 3);
    bd = bind_named("dim_from_ms", &i);
    memcpy(&i8, (char *)&s + bd->offset, 8);
    assert_true(i8 == T0);
    bd = bind_named("station_id", &i);
    assert_string_equal((char *)&s + bd->offset, "s2");
    assert_int_equal(s.collen[i], -1);
    bind_named("electric_avg", &i);
    assert_int_equal(s.collen[i], 0); /* s2 has no e-bike data */
    bind_named("status", &i);
    assert_int_equal(s.collen[i], 0);
    bind_named("time_zone", &i);
    assert_int_equal(s.collen[i], -1);
}

/* The table statement stmt writes: MERGE t, INSERT INTO t, UPDATE t, or
 * UPDATE alias ... FROM t AS alias. */
static void
stmt_target(const char *stmt, char *out)
{
    char        w[64], tbl[64], al[64];
    const char *p;

    assert_true(sscanf(stmt, "%*s %63s", w) == 1);
    if (strcmp(w, "INTO") == 0)
        assert_true(sscanf(stmt, "%*s %*s %63s", w) == 1);
    snprintf(out, 64, "%s", w);
    if (strncmp(stmt, "UPDATE ", 7) != 0)
        return;
    for (p = stmt; (p = strstr(p, "FROM ")) != NULL; p++) {
        if (sscanf(p, "FROM %63s AS %63s", tbl, al) == 2 && strcmp(al, w) == 0)
            snprintf(out, 64, "%s", tbl);
    }
}

/* T-SQL writes the same tables as the ANSI merge, in the same order. */
static void
test_merge_sql_same_steps(void **state)
{
    const char *p = db_mssql_merge_sql, *end;
    char        stmt[4096], want[64], got[64];
    size_t      i;

    (void)state;
    for (i = 0; i < db_sql_merge_ansi_len; i++) {
        end = strstr(p, ";\n");
        assert_non_null(end);
        assert_true((size_t)(end - p) < sizeof(stmt));
        snprintf(stmt, sizeof(stmt), "%.*s", (int)(end - p), p);
        stmt_target(db_sql_merge_ansi[i], want);
        stmt_target(stmt, got);
        assert_string_equal(got, want);
        p = end + 2;
    }
    assert_int_equal(*p, '\0');
}

/* One statement per ANSI statement, every MERGE holds its range lock, no
 * value in the text; dim_station's versions move back as in ANSI. */
static void
test_merge_sql(void **state)
{
    const char *p = db_mssql_merge_sql, *q;
    size_t      merges = 0, stmts = 0;

    (void)state;
    while ((p = strstr(p, "MERGE ")) != NULL) {
        q = strchr(p, '\n');
        assert_non_null(strstr(p, "WITH (HOLDLOCK)"));
        assert_true(strstr(p, "WITH (HOLDLOCK)") < q);
        merges++;
        p++;
    }
    assert_int_equal(merges, 4);
    for (p = db_mssql_merge_sql; (p = strstr(p, ";\n")) != NULL; p++)
        stmts++;
    assert_int_equal(stmts, db_sql_merge_ansi_len);
    assert_int_equal(stmts, 9);
    /* The only quotes are the N'' of COALESCE. */
    for (p = db_mssql_merge_sql; (p = strchr(p, '\'')) != NULL; p += 2)
        assert_true(p[-1] == 'N' && p[1] == '\'');
    assert_non_null(strstr(db_mssql_merge_sql,
                           "MERGE fact_station_hourly WITH (HOLDLOCK) AS t"));
    /* The version before ends where the next now starts, then it moves. */
    p = strstr(db_mssql_merge_sql, "UPDATE p SET valid_to = s.dim_from_ms ");
    q = strstr(db_mssql_merge_sql, "UPDATE v SET valid_from = s.dim_from_ms ");
    assert_non_null(p);
    assert_non_null(q);
    assert_true(p < q);
    assert_non_null(strstr(p, "AND v.valid_from = p.valid_to "));
    assert_non_null(strstr(q, "AND (d.valid_to IS NULL OR d.valid_to > "
                              "s.dim_from_ms));\n"));
    /* Earlier other values: one closed version before the first. */
    q = strstr(q, "INSERT INTO dim_station ");
    assert_non_null(q);
    assert_non_null(strstr(q, "SELECT s.system_id, s.station_id, "
                              "s.dim_from_ms, v.valid_from, 0, "));
    assert_true(strstr(q, "AND d.valid_from < v.valid_from);\n") <
                strstr(q, "UPDATE d SET valid_to = s.dim_from_ms, "
                          "is_current = 0 "));
    assert_non_null(strstr(db_mssql_merge_sql,
                           "ON t.system_id = s.system_id AND t.station_id = "
                           "s.station_id AND t.window_start_ms = "
                           "s.window_start_ms"));
}

struct batches {
    char   v[8][64];
    size_t n;
};

static int
collect(void *ctx, const char *batch)
{
    struct batches *b = ctx;

    snprintf(b->v[b->n++], sizeof(b->v[0]), "%s", batch);
    return b->n == 7 ? VELO_EPROTO : VELO_OK;
}

static void
test_split_go(void **state)
{
    struct batches b = {.n = 0};

    (void)state;
    assert_int_equal(
        db_mssql_split("A;\nGO\n  go  \nB\nGOTO x\nGo", collect, &b), VELO_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.v[0], "A;\n");
    assert_string_equal(b.v[1], "B\nGOTO x\n");
    b.n = 0;
    assert_int_equal(db_mssql_split("x\nGO\nx\nGO\nx\nGO\nx\nGO\nx\nGO\nx\n"
                                    "GO\nx\nGO\nx",
                                    collect, &b),
                     VELO_EPROTO);
    assert_int_equal(b.n, 7);
    b.n = 0;
    assert_int_equal(db_mssql_split(mssql_migration(), collect, &b), VELO_OK);
    assert_int_equal(b.n, 3); /* tables, velo_history, velo_top */
}

static void
test_error_map(void **state)
{
    (void)state;
    assert_int_equal(db_mssql_map(0, true), VELO_EUNAVAIL);
    assert_int_equal(db_mssql_map(2627, true), VELO_EUNAVAIL);
    assert_int_equal(db_mssql_map(1205, false), VELO_EUNAVAIL);
    assert_int_equal(db_mssql_map(6005, false), VELO_EUNAVAIL);
    assert_int_equal(db_mssql_map(2627, false), VELO_EINVAL);
    assert_int_equal(db_mssql_map(515, false), VELO_EINVAL);
    assert_int_equal(db_mssql_map(102, false), VELO_EPROTO);
    assert_int_equal(db_mssql_map(208, false), VELO_EPROTO);
}

/* The history and top procedures filter on the key prefixes that the
 * primary key and fact_station_daily_day index. */
static void
test_procedures_use_indexed_columns(void **state)
{
    const char *sql = mssql_migration();

    (void)state;
    assert_non_null(strstr(sql, "PRIMARY KEY (system_id, station_id, "
                                "window_start_ms)"));
    assert_non_null(strstr(sql, "WHERE system_id = @system_id AND "
                                "station_id = @station_id"));
    assert_non_null(strstr(sql, "ON fact_station_daily (system_id, "
                                "local_date)"));
    assert_non_null(strstr(sql, "WHERE system_id = @system_id AND "
                                "local_date = @local_date"));
}

/* The real db-lib connect path, against a port nothing listens on: a
 * clean VELO_EUNAVAIL within the login timeout, no crash, nothing kept. */
static void
test_connect_refused_is_unavail(void **state)
{
    struct velo_db_opts o = {.password = "pw", .connect_timeout_ms = 2000};
    velo_db            *db = NULL;
    int                 fd, port;
    struct sockaddr_in  a = {.sin_family = AF_INET};
    socklen_t           len = sizeof(a);
    char                url[64];

    (void)state;
    /* A port that was free a moment ago and is closed now. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    snprintf(url, sizeof(url), "mssql://sa@127.0.0.1:%d/warehouse", port);
    assert_int_equal(velo_db_open(&db, url, &o), VELO_EUNAVAIL);
    assert_null(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_table_matches_staging_ddl),
        cmocka_unit_test(test_bind_types),
        cmocka_unit_test(test_stage_fill),
        cmocka_unit_test(test_merge_sql),
        cmocka_unit_test(test_merge_sql_same_steps),
        cmocka_unit_test(test_split_go),
        cmocka_unit_test(test_error_map),
        cmocka_unit_test(test_procedures_use_indexed_columns),
        cmocka_unit_test(test_connect_refused_is_unavail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
