/* db_pg.c: the PostgreSQL backend (libpq). A batch loads in binary COPY
 * (db_pgcopy.c): its dimension rows into a session-local staging table,
 * merged by INSERT ... ON CONFLICT / UPDATE ... FROM; its facts straight
 * into the fact tables, or, when some are there already, through staging
 * and MERGE (see pg_load). Query values travel as PQexecParams
 * parameters. */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "db_int.h"
#include "db_pgcopy.h"
#include "velo/buf.h"
#include "velo/clock.h"
#include "velo/log.h"

#define COPY_CHUNK 65536 /* bytes handed to PQputCopyData at a time */

/* The COPY statements of a load, built once per connection. */
enum pg_copy { CP_STAGE, CP_HOURLY, CP_DAILY, CP_COUNT };

/* The table and columns of each COPY. */
static const struct {
    const char                  *table;
    const struct db_pgcopy_cols *cols;
} pg_copies[CP_COUNT] = {
    [CP_STAGE] = {"stg_station_stats", &db_pgcopy_stage},
    [CP_HOURLY] = {"fact_station_hourly", &db_pgcopy_hourly},
    [CP_DAILY] = {"fact_station_daily", &db_pgcopy_daily},
};

struct db_pg {
    velo_db base; /* first: velo_db * and db_pg * convert */
    PGconn *conn;
    int64_t wait_ms;   /* client-side limit on one command's answer */
    bool    stg_dirty; /* staging holds rows of the open transaction */
    char   *dims_sql;  /* dimension merges, then SAVEPOINT: one trip */
    char   *facts_sql; /* fact merges from staging, then RELEASE */
    char    copy_sql[CP_COUNT][640];
};

#define PG(db) (((struct db_pg *)(db))->conn)

/* Sent with every BEGIN, in the same round trip: the session (or, behind
 * a transaction-pooling proxy, the server connection) may not have it. */
static const char begin_sql[] =
    "BEGIN; CREATE TEMP TABLE IF NOT EXISTS stg_station_stats ("
    "gran INTEGER, system_id TEXT, station_id TEXT, window_start_ms BIGINT,"
    " local_date TEXT, local_hour INTEGER, local_dow INTEGER,"
    " samples BIGINT, bikes_avg DOUBLE PRECISION,"
    " bikes_min DOUBLE PRECISION, bikes_max DOUBLE PRECISION,"
    " docks_avg DOUBLE PRECISION, docks_min DOUBLE PRECISION,"
    " docks_max DOUBLE PRECISION, minutes_empty DOUBLE PRECISION,"
    " minutes_full DOUBLE PRECISION, bikes_in BIGINT, bikes_out BIGINT,"
    " flow_reliable INTEGER, status TEXT, capacity INTEGER,"
    " electric_avg DOUBLE PRECISION, station_name TEXT,"
    " lat DOUBLE PRECISION, lon DOUBLE PRECISION, station_capacity INTEGER,"
    " system_name TEXT, time_zone TEXT, flags INTEGER, dim_from_ms BIGINT)"
    " ON COMMIT DELETE ROWS";

#define FACTS_SAVEPOINT "velo_facts"

/* SQLSTATE classes: 08 connection, 57P01-03 shutdown / starting, 53 out of
 * resources, 40001/40P01 serialization and deadlock: all pass with time. */
static int
map_state(PGconn *conn, const char *st)
{
    if (PQstatus(conn) == CONNECTION_BAD || st == NULL)
        return VELO_EUNAVAIL;
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P0", 4) == 0 ||
        strncmp(st, "53", 2) == 0 || strcmp(st, "40001") == 0 ||
        strcmp(st, "40P01") == 0)
        return VELO_EUNAVAIL;
    if (strcmp(st, "57014") == 0) /* statement_timeout */
        return VELO_ETIMEDOUT;
    if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0)
        return VELO_EINVAL;
    return VELO_EPROTO;
}

/* Checks res (which it frees unless keep); logs and maps a failure. */
static int
check(velo_db *db, PGresult *res, ExecStatusType want, const char *op,
      bool keep)
{
    int rv = VELO_OK;

    if (res == NULL || PQresultStatus(res) != want) {
        const char *st =
            res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res != NULL && PQresultErrorMessage(res)[0]
                              ? PQresultErrorMessage(res)
                              : PQerrorMessage(PG(db));

        rv = db_fail(db, map_state(PG(db), st), op, msg);
    }
    if (!keep || rv != VELO_OK)
        PQclear(res);
    return rv;
}

/* Past the deadline: drop the connection. libpq then sees it broken, so
 * the next call outside a transaction reconnects (PQreset). */
static void
give_up(velo_db *db)
{
    (void)shutdown(PQsocket(PG(db)), SHUT_RDWR);
    (void)PQconsumeInput(PG(db));
}

/* Waits until libpq has the whole answer, or returns false at the
 * deadline. poll() bounds the wait: a frozen server (stopped process, hung
 * host) still ACKs at the TCP level, so neither keepalives nor its own
 * statement_timeout would ever end a blocking PQexec. */
static bool
wait_ready(PGconn *c, int64_t deadline)
{
    struct pollfd pfd;
    int64_t       left;

    while (PQisBusy(c)) {
        left = deadline - velo_mono_ms();
        if (left <= 0)
            return false;
        pfd.fd = PQsocket(c);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return true; /* let PQgetResult report the failure */
        if (!PQconsumeInput(c))
            return true; /* broken: PQgetResult reports it */
    }
    return true;
}

/* The answer to the command just sent, like PQexec: the first error, else
 * the last result; a COPY IN result at once. *timed_out on the deadline. */
static PGresult *
await(velo_db *db, bool *timed_out)
{
    PGconn   *c = PG(db);
    PGresult *res, *keep = NULL;
    int64_t   deadline = velo_mono_ms() + ((struct db_pg *)db)->wait_ms;

    *timed_out = false;
    for (;;) {
        if (!wait_ready(c, deadline)) {
            *timed_out = true;
            PQclear(keep);
            give_up(db);
            return NULL;
        }
        res = PQgetResult(c);
        if (res == NULL)
            return keep;
        if (PQresultStatus(res) == PGRES_COPY_IN) {
            PQclear(keep);
            return res;
        }
        if (keep != NULL && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(res);
        } else {
            PQclear(keep);
            keep = res;
        }
    }
}

/* Sends sql (with n text parameters), waits at most wait_ms, and checks
 * the status. With out, the caller owns *out on success and PQclears it. */
static int
pg_query(velo_db *db, const char *op, const char *sql, int n,
         const char *const *params, ExecStatusType want, PGresult **out)
{
    PGresult *res;
    bool      timed_out;
    char      why[96];
    int       sent, rv;

    sent = n == 0
               ? PQsendQuery(PG(db), sql)
               : PQsendQueryParams(PG(db), sql, n, NULL, params, NULL, NULL, 0);
    if (!sent)
        return db_fail(db, map_state(PG(db), NULL), op, PQerrorMessage(PG(db)));
    res = await(db, &timed_out);
    if (timed_out) {
        snprintf(why, sizeof(why),
                 "no answer within %lld ms: connection dropped",
                 (long long)((struct db_pg *)db)->wait_ms);
        return db_fail(db, VELO_ETIMEDOUT, op, why);
    }
    rv = check(db, res, want, op, out != NULL);
    if (rv == VELO_OK && out != NULL)
        *out = res;
    return rv;
}

static int
pg_exec(velo_db *db, const char *sql)
{
    return pg_query(db, "exec", sql, 0, NULL, PGRES_COMMAND_OK, NULL);
}

/* NOTICEs ("relation already exists, skipping") go to the debug log, not
 * to stderr where libpq would print them. */
static void
on_notice(void *arg, const char *msg)
{
    (void)arg;
    velo_debug("db.notice", VELO_S("cause", msg));
}

/* A lost connection is re-opened before the next operation outside a
 * transaction (inside one, the transaction is gone: the caller retries the
 * batch from begin). */
static int
revive(velo_db *db)
{
    if (PQstatus(PG(db)) == CONNECTION_OK)
        return VELO_OK;
    if (db->in_tx)
        return VELO_EUNAVAIL;
    PQreset(PG(db));
    if (PQstatus(PG(db)) != CONNECTION_OK)
        return db_fail(db, VELO_EUNAVAIL, "reconnect", PQerrorMessage(PG(db)));
    db->stats.reconnects++;
    velo_info("db.reconnected", VELO_S("db", db->where));
    return VELO_OK;
}

/* Joins the n statements and then tail with "; " into *out (caller
 * frees): one simple query, one round trip. */
static int
join_sql(char **out, const char *const *stmts, size_t n, const char *tail)
{
    struct velo_buf b;
    size_t          i, len;
    int             rv = VELO_OK;

    velo_buf_init(&b, 65536);
    for (i = 0; rv == VELO_OK && i < n; i++)
        rv = velo_buf_printf(&b, "%s; ", stmts[i]);
    if (rv == VELO_OK)
        rv = velo_buf_puts(&b, tail);
    if (rv == VELO_OK)
        *out = velo_buf_steal(&b, &len);
    velo_buf_fini(&b);
    return rv;
}

/* MERGE needs PostgreSQL 15: older servers merge facts with the ANSI
 * INSERT ... ON CONFLICT. */
static int
build_sql(struct db_pg *p, int server_version)
{
    const char *const *facts = db_sql_merge_ansi + db_sql_merge_dims_len;
    size_t             nfacts = db_sql_merge_ansi_len - db_sql_merge_dims_len;
    int                i, rv;

    if (server_version >= 150000) {
        facts = db_sql_merge_pg_facts;
        nfacts = 2;
    }
    rv = join_sql(&p->dims_sql, db_sql_merge_ansi, db_sql_merge_dims_len,
                  "SAVEPOINT " FACTS_SAVEPOINT);
    if (rv == VELO_OK)
        rv = join_sql(&p->facts_sql, facts, nfacts,
                      "RELEASE SAVEPOINT " FACTS_SAVEPOINT);
    for (i = 0; rv == VELO_OK && i < CP_COUNT; i++)
        rv = db_pgcopy_sql(p->copy_sql[i], sizeof(p->copy_sql[i]),
                           pg_copies[i].table, pg_copies[i].cols);
    return rv;
}

static void
pg_free(struct db_pg *p)
{
    PQfinish(p->conn);
    free(p->dims_sql);
    free(p->facts_sql);
    free(p);
}

static int
pg_connect(velo_db **out, const struct velo_db_url *u,
           const struct velo_db_opts *o, const char *where)
{
    struct db_pg *p;
    char          port[8], ctimeout[16], options[64];
    uint32_t      cms = o->connect_timeout_ms ? o->connect_timeout_ms : 5000;
    uint32_t    sms = o->statement_timeout_ms ? o->statement_timeout_ms : 30000;
    const char *keys[] = {"host",
                          "port",
                          "user",
                          "dbname",
                          "password",
                          "connect_timeout",
                          "options",
                          "application_name",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          NULL};
    const char *vals[13];
    int         rv;

    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return VELO_ENOMEM;
    snprintf(p->base.where, sizeof(p->base.where), "%s", where);
    /* The server's statement_timeout answers first while it is alive. */
    p->wait_ms = (int64_t)sms + 5000;
    snprintf(port, sizeof(port), "%u", (unsigned)u->port);
    /* libpq counts whole seconds and treats 1 as 2. */
    snprintf(ctimeout, sizeof(ctimeout), "%u", cms < 2000 ? 2 : cms / 1000);
    snprintf(options, sizeof(options), "-c statement_timeout=%u", sms);
    vals[0] = u->host;
    vals[1] = port;
    vals[2] = u->user[0] ? u->user : NULL;
    vals[3] = u->dbname;
    vals[4] = o->password;
    vals[5] = ctimeout;
    vals[6] = options;
    vals[7] = "velo-warehouse";
    /* A peer that vanishes without a FIN is noticed within ~10 s. */
    vals[8] = "5";
    vals[9] = "2";
    vals[10] = "3";
    vals[11] = "10000";
    vals[12] = NULL;
    p->conn = PQconnectdbParams(keys, vals, 0);
    if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
        rv = db_fail(&p->base, p->conn ? VELO_EUNAVAIL : VELO_ENOMEM, "connect",
                     p->conn ? PQerrorMessage(p->conn) : "out of memory");
        pg_free(p);
        return rv;
    }
    rv = build_sql(p, PQserverVersion(p->conn));
    if (rv != VELO_OK) {
        pg_free(p);
        return rv;
    }
    PQsetNoticeProcessor(p->conn, on_notice, NULL);
    *out = &p->base;
    return VELO_OK;
}

static int
pg_version(velo_db *db, int64_t *out)
{
    PGresult *res;
    int       rv;

    rv = revive(db);
    if (rv == VELO_OK)
        rv = pg_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version BIGINT PRIMARY KEY, name TEXT NOT NULL)");
    if (rv != VELO_OK)
        return rv;
    rv = pg_query(db, "version",
                  "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", 0,
                  NULL, PGRES_TUPLES_OK, &res);
    if (rv != VELO_OK)
        return rv;
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return VELO_OK;
}

static int
pg_record(velo_db *db, int64_t version, const char *name)
{
    char        v[24];
    const char *params[2] = {v, name};

    snprintf(v, sizeof(v), "%lld", (long long)version);
    return pg_query(db, "record",
                    "INSERT INTO schema_migrations (version, name) "
                    "VALUES ($1, $2)",
                    2, params, PGRES_COMMAND_OK, NULL);
}

/* ON COMMIT DELETE ROWS empties the staging table at each commit, and a
 * rollback takes its rows (or its creation) away. */
static int
pg_begin(velo_db *db)
{
    int rv = revive(db);

    ((struct db_pg *)db)->stg_dirty = false;
    return rv == VELO_OK ? pg_exec(db, begin_sql) : rv;
}

static int
pg_commit(velo_db *db)
{
    ((struct db_pg *)db)->stg_dirty = false;
    return pg_exec(db, "COMMIT");
}

static void
pg_rollback(velo_db *db)
{
    ((struct db_pg *)db)->stg_dirty = false;
    if (PQstatus(PG(db)) == CONNECTION_OK &&
        PQtransactionStatus(PG(db)) != PQTRANS_IDLE)
        (void)pg_query(db, "rollback", "ROLLBACK", 0, NULL, PGRES_COMMAND_OK,
                       NULL);
}

/* Which rows of the batch one COPY sends. */
enum pick {
    PICK_DIMS, /* flagged rows: the dimension merges read them */
    PICK_REST, /* the others (after PICK_DIMS, staging holds every row) */
    PICK_HOUR, /* hour rows: fact_station_hourly */
    PICK_DAY,  /* day rows: fact_station_daily */
};

static bool
picked(const struct db_batch *b, size_t i, enum pick k)
{
    switch (k) {
    case PICK_DIMS:
        return b->flags[i] != 0;
    case PICK_REST:
        return b->flags[i] == 0;
    case PICK_HOUR:
        return b->rows[i]->gran == VELO_DB_HOUR;
    case PICK_DAY:
        break;
    }
    return b->rows[i]->gran == VELO_DB_DAY;
}

static size_t
count_picked(const struct db_batch *b, enum pick k)
{
    size_t i, n = 0;

    for (i = 0; i < b->n; i++)
        n += picked(b, i, k);
    return n;
}

static int
copy_flush(velo_db *db, struct velo_buf *buf)
{
    if (buf->len > 0 && PQputCopyData(PG(db), buf->data, (int)buf->len) != 1)
        return db_fail(db, VELO_EUNAVAIL, "copy", PQerrorMessage(PG(db)));
    velo_buf_reset(buf);
    return VELO_OK;
}

/* Sends the picked rows as binary COPY data, COPY_CHUNK bytes at a time. */
static int
copy_rows(velo_db *db, const struct db_batch *b, enum pick k,
          const struct db_pgcopy_cols *cols)
{
    struct velo_buf buf;
    size_t          i;
    int             rv;

    /* A row is at most a few KiB (strings are capped): room for two. */
    velo_buf_init(&buf, COPY_CHUNK + 16384);
    rv = db_pgcopy_header(&buf);
    for (i = 0; rv == VELO_OK && i < b->n; i++) {
        if (!picked(b, i, k))
            continue;
        rv = db_pgcopy_row(&buf, b, i, cols);
        if (rv == VELO_OK && buf.len >= COPY_CHUNK)
            rv = copy_flush(db, &buf);
    }
    if (rv == VELO_OK)
        rv = db_pgcopy_trailer(&buf);
    if (rv == VELO_OK)
        rv = copy_flush(db, &buf);
    velo_buf_fini(&buf);
    return rv;
}

/* A unique violation the caller expects (conflict != NULL) is reported
 * there, not logged: it is how a rerun announces itself. */
static int
copy_answer(velo_db *db, bool *conflict)
{
    PGresult   *res;
    const char *st;
    bool        timed_out;

    /* Sending is bounded by tcp_user_timeout; the answer by wait_ms. */
    res = await(db, &timed_out);
    if (timed_out)
        return db_fail(db, VELO_ETIMEDOUT, "copy", "no answer");
    st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (conflict != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR &&
        st != NULL && strcmp(st, "23505") == 0) {
        PQclear(res);
        *conflict = true;
        return VELO_OK;
    }
    return check(db, res, PGRES_COMMAND_OK, "copy", false);
}

/* COPYs the rows k picks into the table of statement cp (nothing to do
 * when there are none). */
static int
copy_in(velo_db *db, enum pg_copy cp, const struct db_batch *b, enum pick k,
        bool *conflict)
{
    int rv, rv2;

    if (count_picked(b, k) == 0)
        return VELO_OK;
    rv = pg_query(db, "copy", ((struct db_pg *)db)->copy_sql[cp], 0, NULL,
                  PGRES_COPY_IN, NULL);
    if (rv != VELO_OK)
        return rv;
    rv = copy_rows(db, b, k, pg_copies[cp].cols);
    /* End the COPY either way: an error message aborts it server-side. */
    if (PQputCopyEnd(PG(db), rv == VELO_OK ? NULL : "velo: batch failed") !=
            1 &&
        rv == VELO_OK)
        rv = db_fail(db, VELO_EUNAVAIL, "copy", PQerrorMessage(PG(db)));
    rv2 = copy_answer(db, rv == VELO_OK ? conflict : NULL);
    return rv != VELO_OK ? rv : rv2;
}

/* Some facts were loaded before (a rerun, a late correction): back to the
 * savepoint, stage the rest of the batch beside its dimension rows and
 * merge (db_sql_merge_pg_facts). Counted and logged (the first time and
 * every 100th) so operators see reruns. */
static int
facts_merge(velo_db *db, const struct db_batch *b)
{
    struct db_pg *p = (struct db_pg *)db;
    int           rv;

    db->stats.load_fallbacks++;
    if (db->stats.load_fallbacks % 100 == 1)
        velo_info("db.load_fallback", VELO_S("db", db->where),
                  VELO_U("fallbacks", db->stats.load_fallbacks),
                  VELO_S("cause", "facts already loaded: merged instead"));
    rv = pg_exec(db, "ROLLBACK TO SAVEPOINT " FACTS_SAVEPOINT);
    if (rv == VELO_OK)
        rv = copy_in(db, CP_STAGE, b, PICK_REST, NULL);
    return rv == VELO_OK ? pg_exec(db, p->facts_sql) : rv;
}

/* Dimensions first, as db_sql_merge_ansi says: the dim_system upsert
 * locks the batch's systems, which queues concurrent loaders of a system.
 * Then the facts by a plain COPY under a savepoint: new windows, the
 * common case, cost what COPY into the keyed table costs; a unique
 * violation means some are there already and facts_merge takes over. */
static int
pg_load(velo_db *db, const struct db_batch *b)
{
    struct db_pg *p = (struct db_pg *)db;
    bool          conflict = false;
    int           rv = VELO_OK;

    /* Only a second load in one transaction finds staging used. */
    if (p->stg_dirty)
        rv = pg_exec(db, "DELETE FROM stg_station_stats");
    p->stg_dirty = true;
    if (rv == VELO_OK)
        rv = copy_in(db, CP_STAGE, b, PICK_DIMS, NULL);
    if (rv == VELO_OK)
        rv = pg_exec(db, p->dims_sql);
    if (rv == VELO_OK)
        rv = copy_in(db, CP_HOURLY, b, PICK_HOUR, &conflict);
    if (rv == VELO_OK && !conflict)
        rv = copy_in(db, CP_DAILY, b, PICK_DAY, &conflict);
    if (rv == VELO_OK && conflict)
        return facts_merge(db, b);
    return rv == VELO_OK ? pg_exec(db, "RELEASE SAVEPOINT " FACTS_SAVEPOINT)
                         : rv;
}

static int
emit_rows(velo_db *db, PGresult *res, enum velo_db_gran gran, velo_db_row_cb cb,
          void *ctx)
{
    const char        *v[DB_SQL_FACT_NCOLS + 1];
    struct velo_db_row row;
    int                i, r, n = PQntuples(res), rv = VELO_OK;

    (void)db;
    for (r = 0; rv == VELO_OK && r < n; r++) {
        for (i = 0; i <= DB_SQL_FACT_NCOLS; i++)
            v[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
        rv = db_row_from_text(&row, gran, v, v[DB_SQL_FACT_NCOLS]);
        if (rv == VELO_OK)
            rv = cb(ctx, &row);
    }
    return rv;
}

static int
query(velo_db *db, const char *sql, int n, const char *const *params,
      enum velo_db_gran gran, velo_db_row_cb cb, void *ctx)
{
    PGresult *res;
    int       rv;

    rv = revive(db);
    if (rv != VELO_OK)
        return rv;
    rv = pg_query(db, "query", sql, n, params, PGRES_TUPLES_OK, &res);
    if (rv != VELO_OK)
        return rv;
    rv = emit_rows(db, res, gran, cb, ctx);
    PQclear(res);
    return rv;
}

static int
pg_history(velo_db *db, const struct velo_db_history_q *q, velo_db_row_cb cb,
           void *ctx)
{
    static const char *const sql[] = {
        "SELECT " DB_SQL_FACT_COLS ", NULL FROM fact_station_hourly "
        "WHERE system_id = $1 AND station_id = $2 AND window_start_ms >= $3 "
        "AND window_start_ms < $4 ORDER BY window_start_ms LIMIT $5",
        "SELECT " DB_SQL_FACT_COLS ", local_date FROM fact_station_daily "
        "WHERE system_id = $1 AND station_id = $2 AND window_start_ms >= $3 "
        "AND window_start_ms < $4 ORDER BY window_start_ms LIMIT $5",
    };
    char        from[24], to[24], lim[16];
    const char *params[5] = {q->system_id, q->station_id, from, to, lim};

    snprintf(from, sizeof(from), "%lld", (long long)q->from_ms);
    snprintf(to, sizeof(to), "%lld", (long long)q->to_ms);
    snprintf(lim, sizeof(lim), "%u", q->limit);
    return query(db, sql[q->gran], 5, params, q->gran, cb, ctx);
}

static int
pg_top(velo_db *db, const struct velo_db_top_q *q, velo_db_row_cb cb, void *ctx)
{
    const char *expr;
    char        sql[512], lim[16];
    const char *params[3] = {q->system_id, q->local_date, lim};
    int         rv;

    rv = db_sql_rank_expr(q->by, &expr);
    if (rv != VELO_OK)
        return rv;
    snprintf(sql, sizeof(sql),
             "SELECT " DB_SQL_FACT_COLS ", local_date FROM fact_station_daily "
             "WHERE system_id = $1 AND local_date = $2 "
             "ORDER BY %s DESC, station_id LIMIT $3",
             expr);
    snprintf(lim, sizeof(lim), "%u", q->limit);
    return query(db, sql, 3, params, VELO_DB_DAY, cb, ctx);
}

static int
pg_ping(velo_db *db)
{
    int rv = revive(db);

    if (rv != VELO_OK)
        return rv;
    return pg_query(db, "ping", "SELECT 1", 0, NULL, PGRES_TUPLES_OK, NULL);
}

static int
pg_dump(velo_db *db, const char *table, const char *order, struct velo_buf *out)
{
    PGresult *res;
    char      sql[256];
    int       r, c, rv;

    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY %s", table, order);
    rv = pg_query(db, "dump", sql, 0, NULL, PGRES_TUPLES_OK, &res);
    if (rv != VELO_OK)
        return rv;
    for (r = 0; rv == VELO_OK && r < PQntuples(res); r++) {
        for (c = 0; rv == VELO_OK && c < PQnfields(res); c++)
            rv = velo_buf_printf(
                out, "%s%s", c ? "\t" : "",
                PQgetisnull(res, r, c) ? "\\N" : PQgetvalue(res, r, c));
        if (rv == VELO_OK)
            rv = velo_buf_puts(out, "\n");
    }
    PQclear(res);
    return rv;
}

static void
pg_close(velo_db *db)
{
    pg_free((struct db_pg *)db);
}

const struct db_ops db_pg_ops = {
    .dialect = "postgresql",
    .connect = pg_connect,
    .exec = pg_exec,
    .version = pg_version,
    .record = pg_record,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .load = pg_load,
    .history = pg_history,
    .top = pg_top,
    .ping = pg_ping,
    .dump = pg_dump,
    .close = pg_close,
};
