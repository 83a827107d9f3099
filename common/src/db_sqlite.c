/* db_sqlite.c: the embedded backend (sqlite:///path). WAL journal, a busy
 * timeout, prepared statements with sqlite3_bind_* for every value. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "velo/buf.h"

struct db_sqlite {
    velo_db  base; /* first: velo_db * and db_sqlite * convert */
    sqlite3 *h;
};

#define SQ(db) ((struct db_sqlite *)(db))

static const char stage_ddl[] =
    "CREATE TEMP TABLE IF NOT EXISTS stg_station_stats ("
    "gran INTEGER, system_id TEXT, station_id TEXT, window_start_ms INTEGER,"
    " local_date TEXT, local_hour INTEGER, local_dow INTEGER,"
    " samples INTEGER, bikes_avg REAL, bikes_min REAL, bikes_max REAL,"
    " docks_avg REAL, docks_min REAL, docks_max REAL, minutes_empty REAL,"
    " minutes_full REAL, bikes_in INTEGER, bikes_out INTEGER,"
    " flow_reliable INTEGER, status TEXT, capacity INTEGER,"
    " electric_avg REAL, station_name TEXT, lat REAL, lon REAL,"
    " station_capacity INTEGER, system_name TEXT, time_zone TEXT,"
    " flags INTEGER, dim_from_ms INTEGER)";

/* SQLITE_BUSY/LOCKED: another writer holds the file past the busy timeout;
 * worth a retry. Constraint and misuse are ours to fix. */
static int
map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return VELO_EUNAVAIL;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return VELO_EINVAL;
    case SQLITE_NOMEM:
        return VELO_ENOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        return VELO_EIO;
    default:
        return VELO_EPROTO;
    }
}

static int
fail(velo_db *db, int rc, const char *op)
{
    return db_fail(db, map_rc(rc), op, sqlite3_errmsg(SQ(db)->h));
}

static int
sq_exec(velo_db *db, const char *sql)
{
    int rc = sqlite3_exec(SQ(db)->h, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? VELO_OK : fail(db, rc, "exec");
}

static int
sq_prepare(velo_db *db, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(SQ(db)->h, sql, -1, st, NULL);

    return rc == SQLITE_OK ? VELO_OK : fail(db, rc, "prepare");
}

static int
sq_connect(velo_db **out, const struct velo_db_url *u,
           const struct velo_db_opts *o, const char *where)
{
    struct db_sqlite *s;
    int               rc, rv = VELO_OK;

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    snprintf(s->base.where, sizeof(s->base.where), "%s", where);
    rc = sqlite3_open_v2(
        u->dbname, &s->h,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rv = db_fail(&s->base, VELO_EIO, "connect",
                     s->h != NULL ? sqlite3_errmsg(s->h) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->h,
                         o->busy_timeout_ms ? (int)o->busy_timeout_ms : 5000);
    /* WAL: readers (history RPCs) never block the loader and vice versa. */
    rv = sq_exec(&s->base, "PRAGMA journal_mode=WAL; "
                           "PRAGMA synchronous=NORMAL");
    if (rv != VELO_OK)
        goto fail;
    *out = &s->base;
    return VELO_OK;

fail:
    sqlite3_close(s->h);
    free(s);
    return rv;
}

static int
sq_version(velo_db *db, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int           rv, rc;

    rv = sq_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    if (rv == VELO_OK)
        rv = sq_prepare(db,
                        "SELECT COALESCE(MAX(version), 0) FROM "
                        "schema_migrations",
                        &st);
    if (rv != VELO_OK)
        return rv;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rv = fail(db, rc, "version");
    sqlite3_finalize(st);
    return rv;
}

static int
sq_record(velo_db *db, int64_t version, const char *name)
{
    sqlite3_stmt *st = NULL;
    int           rv, rc;

    rv = sq_prepare(db,
                    "INSERT INTO schema_migrations (version, name) "
                    "VALUES (?1, ?2)",
                    &st);
    if (rv != VELO_OK)
        return rv;
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rv = rc == SQLITE_DONE ? VELO_OK : fail(db, rc, "record");
    sqlite3_finalize(st);
    return rv;
}

static int
sq_begin(velo_db *db)
{
    /* IMMEDIATE takes the write lock now, so a busy file fails here, not
     * half way through a batch. */
    return sq_exec(db, "BEGIN IMMEDIATE");
}

static int
sq_commit(velo_db *db)
{
    return sq_exec(db, "COMMIT");
}

static void
sq_rollback(velo_db *db)
{
    if (!sqlite3_get_autocommit(SQ(db)->h))
        (void)sqlite3_exec(SQ(db)->h, "ROLLBACK", NULL, NULL, NULL);
}

static void
bind_val(sqlite3_stmt *st, int i, const struct db_val *v)
{
    switch (v->t) {
    case DB_V_INT:
        sqlite3_bind_int64(st, i, v->i);
        break;
    case DB_V_DBL:
        sqlite3_bind_double(st, i, v->d);
        break;
    case DB_V_TXT:
        sqlite3_bind_text(st, i, v->s, -1, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, i);
        break;
    }
}

/* INSERT INTO stg_station_stats VALUES (?1, ..., ?N). */
static int
stage_insert_sql(char *buf, size_t size)
{
    struct velo_buf b;
    size_t          i;
    int             rv;

    velo_buf_init(&b, size - 1);
    rv = velo_buf_puts(&b, "INSERT INTO temp.stg_station_stats VALUES (");
    for (i = 0; rv == VELO_OK && i < db_sql_stage_cols_len; i++)
        rv = velo_buf_printf(&b, "%s?%zu", i ? ", " : "", i + 1);
    if (rv == VELO_OK)
        rv = velo_buf_puts(&b, ")");
    if (rv == VELO_OK)
        memcpy(buf, b.data, b.len + 1);
    velo_buf_fini(&b);
    return rv;
}

static int
stage(velo_db *db, const struct db_batch *b)
{
    sqlite3_stmt *st = NULL;
    struct db_val v;
    char          sql[512];
    size_t        i, c;
    int           rv, rc;

    rv = stage_insert_sql(sql, sizeof(sql));
    if (rv == VELO_OK)
        rv = sq_prepare(db, sql, &st);
    for (i = 0; rv == VELO_OK && i < b->n; i++) {
        for (c = 0; c < db_sql_stage_cols_len; c++) {
            db_stage_val(b, i, c, &v);
            bind_val(st, (int)c + 1, &v);
        }
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            rv = fail(db, rc, "stage");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rv;
}

static int
sq_load(velo_db *db, const struct db_batch *b)
{
    return db_sql_load_ansi(db, stage_ddl, "DELETE FROM temp.stg_station_stats",
                            stage, b);
}

/* Text of column i; NULL for SQL NULL. REAL columns are printed with 17
 * digits: sqlite3_column_text uses 15, which does not round-trip every
 * double (1.0 / 3 came back changed). */
static const char *
col_text(sqlite3_stmt *st, int i, char *buf, size_t size)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return NULL;
    case SQLITE_FLOAT:
        snprintf(buf, size, "%.17g", sqlite3_column_double(st, i));
        return buf;
    default:
        return (const char *)sqlite3_column_text(st, i);
    }
}

/* Steps st to the end, handing each row to cb. */
static int
emit_rows(velo_db *db, sqlite3_stmt *st, enum velo_db_gran gran,
          velo_db_row_cb cb, void *ctx)
{
    const char        *v[DB_SQL_FACT_NCOLS + 1];
    char               bufs[DB_SQL_FACT_NCOLS + 1][32];
    struct velo_db_row row;
    int                rc = SQLITE_DONE, rv = VELO_OK, i;

    while (rv == VELO_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i <= DB_SQL_FACT_NCOLS; i++)
            v[i] = col_text(st, i, bufs[i], sizeof(bufs[i]));
        rv = db_row_from_text(&row, gran, v, v[DB_SQL_FACT_NCOLS]);
        if (rv == VELO_OK)
            rv = cb(ctx, &row);
    }
    if (rv == VELO_OK && rc != SQLITE_DONE)
        rv = fail(db, rc, "query");
    return rv;
}

static int
sq_history(velo_db *db, const struct velo_db_history_q *q, velo_db_row_cb cb,
           void *ctx)
{
    static const char *const sql[] = {
        "SELECT " DB_SQL_FACT_COLS ", NULL FROM fact_station_hourly "
        "WHERE system_id = ?1 AND station_id = ?2 AND window_start_ms >= ?3 "
        "AND window_start_ms < ?4 ORDER BY window_start_ms LIMIT ?5",
        "SELECT " DB_SQL_FACT_COLS ", local_date FROM fact_station_daily "
        "WHERE system_id = ?1 AND station_id = ?2 AND window_start_ms >= ?3 "
        "AND window_start_ms < ?4 ORDER BY window_start_ms LIMIT ?5",
    };
    sqlite3_stmt *st = NULL;
    int           rv;

    rv = sq_prepare(db, sql[q->gran], &st);
    if (rv != VELO_OK)
        return rv;
    sqlite3_bind_text(st, 1, q->system_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->station_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, q->from_ms);
    sqlite3_bind_int64(st, 4, q->to_ms);
    sqlite3_bind_int64(st, 5, q->limit);
    rv = emit_rows(db, st, q->gran, cb, ctx);
    sqlite3_finalize(st);
    return rv;
}

static int
sq_top(velo_db *db, const struct velo_db_top_q *q, velo_db_row_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    const char   *expr;
    char          sql[512];
    int           rv;

    rv = db_sql_rank_expr(q->by, &expr);
    if (rv != VELO_OK)
        return rv;
    snprintf(sql, sizeof(sql),
             "SELECT " DB_SQL_FACT_COLS ", local_date FROM fact_station_daily "
             "WHERE system_id = ?1 AND local_date = ?2 "
             "ORDER BY %s DESC, station_id LIMIT ?3",
             expr);
    rv = sq_prepare(db, sql, &st);
    if (rv != VELO_OK)
        return rv;
    sqlite3_bind_text(st, 1, q->system_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->local_date, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, q->limit);
    rv = emit_rows(db, st, VELO_DB_DAY, cb, ctx);
    sqlite3_finalize(st);
    return rv;
}

static int
sq_ping(velo_db *db)
{
    return sq_exec(db, "SELECT 1");
}

static int
sq_dump(velo_db *db, const char *table, const char *order, struct velo_buf *out)
{
    sqlite3_stmt *st = NULL;
    char          sql[256], buf[32];
    int           rv, rc = SQLITE_DONE, i, n;

    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY %s", table, order);
    rv = sq_prepare(db, sql, &st);
    while (rv == VELO_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        n = sqlite3_column_count(st);
        for (i = 0; rv == VELO_OK && i < n; i++) {
            const char *t = col_text(st, i, buf, sizeof(buf));

            rv = velo_buf_printf(out, "%s%s", i ? "\t" : "",
                                 t != NULL ? t : "\\N");
        }
        if (rv == VELO_OK)
            rv = velo_buf_puts(out, "\n");
    }
    if (rv == VELO_OK && rc != SQLITE_DONE)
        rv = fail(db, rc, "dump");
    sqlite3_finalize(st);
    return rv;
}

static void
sq_close(velo_db *db)
{
    sqlite3_close(SQ(db)->h);
    free(db);
}

const struct db_ops db_sqlite_ops = {
    .dialect = "sqlite",
    .connect = sq_connect,
    .exec = sq_exec,
    .version = sq_version,
    .record = sq_record,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .load = sq_load,
    .history = sq_history,
    .top = sq_top,
    .ping = sq_ping,
    .dump = sq_dump,
    .close = sq_close,
};
