/* db_mssql.c: the SQL Server backend (FreeTDS db-lib, -lsybdb). A batch is
 * bcp'd into stg_station_stats, then MERGEd with HOLDLOCK; queries are RPCs
 * to the migration's stored procedures, every value a typed parameter.
 * No SQL Server runs on the build machine: the pure parts live in
 * db_mssql_sql.c (unit-tested); this file is exercised by
 * integration.db_mssql when VELO_TEST_MSSQL names a server. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sybdb.h>
#include <sybfront.h>

#include "db_mssql.h"
#include "velo/buf.h"

struct db_mssql {
    velo_db               base; /* first: velo_db * and db_mssql * convert */
    DBPROCESS            *proc;
    LOGINREC             *login;
    char                  server[300]; /* host:port */
    char                  dbname[256];
    int                   msgno;      /* last server message number */
    char                  cause[512]; /* last server or db-lib message */
    struct db_mssql_stage stage;
};

#define MS(db) ((struct db_mssql *)(db))

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int            init_rc = FAIL;
/* db-lib reports a failed dbopen before there is a DBPROCESS to carry our
 * handle, so that one message waits here for ms_open (same thread). */
static _Thread_local char open_cause[256];

/* db-lib's handlers are process-wide; dbsetuserdata leads back to the
 * handle, whose last message becomes the logged `cause`. */
static int
on_err(DBPROCESS *proc, int sev, int dberr, int oserr, char *dberrstr,
       char *oserrstr)
{
    struct db_mssql *m = proc ? (struct db_mssql *)dbgetuserdata(proc) : NULL;

    (void)sev;
    (void)oserr;
    if (m != NULL) {
        m->msgno = 0;
        snprintf(m->cause, sizeof(m->cause), "db-lib %d: %s", dberr,
                 dberrstr ? dberrstr : "");
    } else {
        snprintf(open_cause, sizeof(open_cause), "db-lib %d: %s%s%s%s", dberr,
                 dberrstr ? dberrstr : "", oserrstr ? " (" : "",
                 oserrstr ? oserrstr : "", oserrstr ? ")" : "");
    }
    return INT_CANCEL;
}

static int
on_msg(DBPROCESS *proc, DBINT msgno, int state, int sev, char *text,
       char *server, char *proc_name, int line)
{
    struct db_mssql *m = proc ? (struct db_mssql *)dbgetuserdata(proc) : NULL;

    (void)state;
    (void)server;
    (void)proc_name;
    (void)line;
    /* Severity <= 10 is informational (database context changed, ...). */
    if (m != NULL && sev > 10) {
        m->msgno = msgno;
        snprintf(m->cause, sizeof(m->cause), "msg %d: %s", (int)msgno,
                 text ? text : "");
    }
    return 0;
}

static void
lib_init(void)
{
    init_rc = dbinit();
    if (init_rc != FAIL) {
        dberrhandle(on_err);
        dbmsghandle(on_msg);
    }
}

static int
fail(velo_db *db, const char *op)
{
    struct db_mssql *m = MS(db);
    bool             dead = m->proc == NULL || dbdead(m->proc);

    return db_fail(db, db_mssql_map(m->msgno, dead), op,
                   m->cause[0] ? m->cause : "db-lib call failed");
}

/* Consumes every result of the command just sent. */
static int
drain(velo_db *db, const char *op)
{
    RETCODE rc;

    while ((rc = dbresults(MS(db)->proc)) == SUCCEED) {
        while (dbnextrow(MS(db)->proc) != NO_MORE_ROWS)
            ;
    }
    return rc == NO_MORE_RESULTS ? VELO_OK : fail(db, op);
}

static int
run_batch(void *ctx, const char *sql)
{
    velo_db *db = ctx;

    MS(db)->cause[0] = '\0';
    if (dbcmd(MS(db)->proc, sql) == FAIL || dbsqlexec(MS(db)->proc) == FAIL)
        return fail(db, "exec");
    return drain(db, "exec");
}

/* Migration text may hold several batches separated by GO lines. */
static int
ms_exec(velo_db *db, const char *sql)
{
    return db_mssql_split(sql, run_batch, db);
}

static int
ms_open(velo_db *db)
{
    struct db_mssql *m = MS(db);
    int              rv;

    m->cause[0] = '\0';
    open_cause[0] = '\0';
    m->proc = dbopen(m->login, m->server);
    if (m->proc == NULL)
        return db_fail(db, VELO_EUNAVAIL, "connect",
                       open_cause[0] ? open_cause : "dbopen failed");
    dbsetuserdata(m->proc, (BYTE *)m);
    if (dbuse(m->proc, m->dbname) == FAIL)
        return fail(db, "connect");
    /* Any error inside a transaction rolls the whole batch back. */
    rv = run_batch(db, "SET XACT_ABORT ON; SET NOCOUNT ON");
    return rv;
}

/* Re-opens a dead connection outside a transaction. */
static int
revive(velo_db *db)
{
    struct db_mssql *m = MS(db);

    if (m->proc != NULL && !dbdead(m->proc))
        return VELO_OK;
    if (db->in_tx)
        return VELO_EUNAVAIL;
    if (m->proc != NULL)
        dbclose(m->proc);
    m->proc = NULL;
    db->stats.reconnects++;
    return ms_open(db);
}

static int
ms_login(struct db_mssql *m, const struct velo_db_url *u,
         const struct velo_db_opts *o)
{
    uint32_t cms = o->connect_timeout_ms ? o->connect_timeout_ms : 5000;
    uint32_t sms = o->statement_timeout_ms ? o->statement_timeout_ms : 30000;

    m->login = dblogin();
    if (m->login == NULL)
        return VELO_ENOMEM;
    if (u->user[0] != '\0')
        DBSETLUSER(m->login, u->user);
    if (o->password != NULL)
        DBSETLPWD(m->login, o->password);
    DBSETLAPP(m->login, "velo-warehouse");
    DBSETLCHARSET(m->login, "UTF-8");
    DBSETLVERSION(m->login, DBVERSION_74);
    BCP_SETL(m->login, TRUE);
    /* Process-wide in db-lib; every velo_db uses the same values. */
    dbsetlogintime((int)((cms + 999) / 1000));
    dbsettime((int)((sms + 999) / 1000));
    snprintf(m->server, sizeof(m->server), "%s:%u", u->host, (unsigned)u->port);
    snprintf(m->dbname, sizeof(m->dbname), "%s", u->dbname);
    return VELO_OK;
}

static int
ms_connect(velo_db **out, const struct velo_db_url *u,
           const struct velo_db_opts *o, const char *where)
{
    struct db_mssql *m;
    int              rv;

    pthread_once(&init_once, lib_init);
    if (init_rc == FAIL)
        return VELO_ENOMEM;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return VELO_ENOMEM;
    snprintf(m->base.where, sizeof(m->base.where), "%s", where);
    rv = ms_login(m, u, o);
    if (rv == VELO_OK)
        rv = ms_open(&m->base);
    if (rv != VELO_OK) {
        m->base.ops = &db_mssql_ops;
        db_mssql_ops.close(&m->base);
        return rv;
    }
    *out = &m->base;
    return VELO_OK;
}

/* Text of column c of the current row; NULL for SQL NULL. FLT8 is printed
 * with 17 digits so doubles survive the round trip exactly. */
static const char *
col_text(DBPROCESS *proc, int c, char *buf, size_t size)
{
    BYTE  *data = dbdata(proc, c);
    DBINT  len = dbdatlen(proc, c);
    int    type = dbcoltype(proc, c);
    DBINT  n;
    double d;

    if (data == NULL && len == 0)
        return NULL;
    if (type == SYBFLT8 || (type == SYBFLTN && len == 8)) {
        memcpy(&d, data, sizeof(d));
        snprintf(buf, size, "%.17g", d);
        return buf;
    }
    n = dbconvert(proc, type, data, len, SYBCHAR, (BYTE *)buf, (DBINT)size - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

static int
ms_version(velo_db *db, int64_t *out)
{
    char        buf[32];
    const char *t;
    int         rv;

    rv = revive(db);
    if (rv == VELO_OK)
        rv = run_batch(db, "IF OBJECT_ID(N'schema_migrations', N'U') IS NULL "
                           "CREATE TABLE schema_migrations (version BIGINT NOT "
                           "NULL PRIMARY KEY, name NVARCHAR(200) NOT NULL)");
    if (rv != VELO_OK)
        return rv;
    if (dbcmd(MS(db)->proc, "SELECT CAST(COALESCE(MAX(version), 0) AS "
                            "BIGINT) FROM schema_migrations") == FAIL ||
        dbsqlexec(MS(db)->proc) == FAIL || dbresults(MS(db)->proc) != SUCCEED)
        return fail(db, "version");
    t = NULL;
    if (dbnextrow(MS(db)->proc) == REG_ROW)
        t = col_text(MS(db)->proc, 1, buf, sizeof(buf));
    while (dbnextrow(MS(db)->proc) != NO_MORE_ROWS)
        ;
    rv = drain(db, "version");
    if (rv == VELO_OK && t == NULL)
        rv = db_fail(db, VELO_EPROTO, "version", "no row");
    if (rv == VELO_OK)
        *out = strtoll(buf, NULL, 10);
    return rv;
}

static int
rpc_param(velo_db *db, const char *name, int type, const void *v, int len)
{
    if (dbrpcparam(MS(db)->proc, name, 0, type, -1, len, (BYTE *)v) == FAIL)
        return fail(db, "rpc");
    return VELO_OK;
}

static int
rpc_str(velo_db *db, const char *name, const char *s)
{
    return rpc_param(db, name, SYBVARCHAR, s, (int)strlen(s));
}

/* Sends the RPC built so far; with cb, hands each row to it. */
static int
rpc_run(velo_db *db, enum velo_db_gran gran, velo_db_row_cb cb, void *ctx)
{
    DBPROCESS         *p = MS(db)->proc;
    char               bufs[DB_SQL_FACT_NCOLS + 1][320];
    const char        *v[DB_SQL_FACT_NCOLS + 1];
    struct velo_db_row row;
    int                rv = VELO_OK, c;

    if (dbrpcsend(p) == FAIL || dbsqlok(p) == FAIL)
        return fail(db, "rpc");
    while (rv == VELO_OK && dbresults(p) == SUCCEED) {
        while (dbnextrow(p) == REG_ROW) {
            if (rv != VELO_OK || cb == NULL ||
                dbnumcols(p) <= DB_SQL_FACT_NCOLS)
                continue;
            for (c = 0; c <= DB_SQL_FACT_NCOLS; c++)
                v[c] = col_text(p, c + 1, bufs[c], sizeof(bufs[c]));
            rv = db_row_from_text(&row, gran, v, v[DB_SQL_FACT_NCOLS]);
            if (rv == VELO_OK)
                rv = cb(ctx, &row);
        }
    }
    if (rv != VELO_OK)
        dbcancel(p);
    else if (dbdead(p))
        rv = fail(db, "rpc");
    return rv;
}

static int
ms_record(velo_db *db, int64_t version, const char *name)
{
    static const char sql[] =
        "INSERT INTO schema_migrations (version, name) VALUES (@v, @n)";
    static const char params[] = "@v BIGINT, @n NVARCHAR(200)";
    DBBIGINT          v = version;
    int               rv;

    /* sp_executesql takes the statement and declarations as NVARCHAR. */
    if (dbrpcinit(MS(db)->proc, "sp_executesql", 0) == FAIL)
        return fail(db, "record");
    rv = rpc_param(db, NULL, SYBNVARCHAR, sql, (int)strlen(sql));
    if (rv == VELO_OK)
        rv = rpc_param(db, NULL, SYBNVARCHAR, params, (int)strlen(params));
    if (rv == VELO_OK)
        rv = rpc_param(db, "@v", SYBINT8, &v, -1);
    if (rv == VELO_OK)
        rv = rpc_str(db, "@n", name);
    return rv == VELO_OK ? rpc_run(db, VELO_DB_HOUR, NULL, NULL) : rv;
}

static int
ms_begin(velo_db *db)
{
    int rv = revive(db);

    return rv == VELO_OK ? run_batch(db, "BEGIN TRANSACTION") : rv;
}

static int
ms_commit(velo_db *db)
{
    return run_batch(db, "COMMIT TRANSACTION");
}

static void
ms_rollback(velo_db *db)
{
    if (MS(db)->proc != NULL && !dbdead(MS(db)->proc))
        (void)run_batch(db, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION");
}

static int
bcp_setup(velo_db *db)
{
    struct db_mssql *m = MS(db);
    static const int types[] = {
        [DB_MSSQL_INT4] = SYBINT4,
        [DB_MSSQL_INT8] = SYBINT8,
        [DB_MSSQL_FLT8] = SYBFLT8,
        [DB_MSSQL_CHAR] = SYBCHAR,
    };
    size_t i;

    if (bcp_init(m->proc, "stg_station_stats", NULL, NULL, DB_IN) == FAIL)
        return fail(db, "bcp_init");
    for (i = 0; i < db_mssql_binds_len; i++) {
        const struct db_mssql_bind *b = &db_mssql_binds[i];
        bool                        str = b->ctype == DB_MSSQL_CHAR;

        /* Strings end at their NUL; fixed types have their own length. */
        if (bcp_bind(m->proc, (BYTE *)&m->stage + b->offset, 0, -1,
                     str ? (BYTE *)"" : NULL, str ? 1 : 0, types[b->ctype],
                     (int)i + 1) == FAIL)
            return fail(db, "bcp_bind");
    }
    return VELO_OK;
}

static int
bcp_rows(velo_db *db, const struct db_batch *b)
{
    struct db_mssql *m = MS(db);
    size_t           i, c;

    for (i = 0; i < b->n; i++) {
        db_mssql_stage_fill(&m->stage, b, i);
        for (c = 0; c < db_mssql_binds_len; c++) {
            if (db_mssql_binds[c].nullable &&
                bcp_collen(m->proc, m->stage.collen[c], (int)c + 1) == FAIL)
                return fail(db, "bcp_collen");
        }
        if (bcp_sendrow(m->proc) == FAIL)
            return fail(db, "bcp_sendrow");
    }
    if (bcp_done(m->proc) < 0)
        return fail(db, "bcp_done");
    return VELO_OK;
}

static int
ms_load(velo_db *db, const struct db_batch *b)
{
    int rv;

    /* The staging table is shared: TABLOCKX holds concurrent loaders off
     * it until this batch commits or rolls back. */
    rv = run_batch(db, "DELETE FROM stg_station_stats WITH (TABLOCKX)");
    if (rv == VELO_OK)
        rv = bcp_setup(db);
    if (rv == VELO_OK)
        rv = bcp_rows(db, b);
    if (rv == VELO_OK)
        rv = run_batch(db, db_mssql_merge_sql);
    return rv;
}

static int
ms_history(velo_db *db, const struct velo_db_history_q *q, velo_db_row_cb cb,
           void *ctx)
{
    DBINT    gran = q->gran, lim = (DBINT)q->limit;
    DBBIGINT from = q->from_ms, to = q->to_ms;
    int      rv;

    rv = revive(db);
    if (rv == VELO_OK && dbrpcinit(MS(db)->proc, "velo_history", 0) == FAIL)
        rv = fail(db, "rpc");
    if (rv == VELO_OK)
        rv = rpc_param(db, "@gran", SYBINT4, &gran, -1);
    if (rv == VELO_OK)
        rv = rpc_str(db, "@system_id", q->system_id);
    if (rv == VELO_OK)
        rv = rpc_str(db, "@station_id", q->station_id);
    if (rv == VELO_OK)
        rv = rpc_param(db, "@from_ms", SYBINT8, &from, -1);
    if (rv == VELO_OK)
        rv = rpc_param(db, "@to_ms", SYBINT8, &to, -1);
    if (rv == VELO_OK)
        rv = rpc_param(db, "@limit", SYBINT4, &lim, -1);
    return rv == VELO_OK ? rpc_run(db, q->gran, cb, ctx) : rv;
}

static int
ms_top(velo_db *db, const struct velo_db_top_q *q, velo_db_row_cb cb, void *ctx)
{
    DBINT by = (DBINT)q->by, lim = (DBINT)q->limit;
    int   rv;

    rv = revive(db);
    if (rv == VELO_OK && dbrpcinit(MS(db)->proc, "velo_top", 0) == FAIL)
        rv = fail(db, "rpc");
    if (rv == VELO_OK)
        rv = rpc_str(db, "@system_id", q->system_id);
    if (rv == VELO_OK)
        rv = rpc_str(db, "@local_date", q->local_date);
    if (rv == VELO_OK)
        rv = rpc_param(db, "@by", SYBINT4, &by, -1);
    if (rv == VELO_OK)
        rv = rpc_param(db, "@limit", SYBINT4, &lim, -1);
    return rv == VELO_OK ? rpc_run(db, VELO_DB_DAY, cb, ctx) : rv;
}

static int
ms_ping(velo_db *db)
{
    int rv = revive(db);

    return rv == VELO_OK ? run_batch(db, "SELECT 1") : rv;
}

static int
ms_dump(velo_db *db, const char *table, const char *order, struct velo_buf *out)
{
    DBPROCESS  *p = MS(db)->proc;
    char        sql[256], buf[600];
    const char *t;
    int         c, rv = VELO_OK;

    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY %s", table, order);
    if (dbcmd(p, sql) == FAIL || dbsqlexec(p) == FAIL ||
        dbresults(p) != SUCCEED)
        return fail(db, "dump");
    while (dbnextrow(p) == REG_ROW) {
        for (c = 1; rv == VELO_OK && c <= dbnumcols(p); c++) {
            t = col_text(p, c, buf, sizeof(buf));
            rv = velo_buf_printf(out, "%s%s", c > 1 ? "\t" : "",
                                 t != NULL ? t : "\\N");
        }
        if (rv == VELO_OK)
            rv = velo_buf_puts(out, "\n");
    }
    if (drain(db, "dump") != VELO_OK && rv == VELO_OK)
        rv = VELO_EPROTO;
    return rv;
}

static void
ms_close(velo_db *db)
{
    if (MS(db)->proc != NULL)
        dbclose(MS(db)->proc);
    if (MS(db)->login != NULL)
        dbloginfree(MS(db)->login);
    free(db);
}

const struct db_ops db_mssql_ops = {
    .dialect = "mssql",
    .connect = ms_connect,
    .exec = ms_exec,
    .version = ms_version,
    .record = ms_record,
    .begin = ms_begin,
    .commit = ms_commit,
    .rollback = ms_rollback,
    .load = ms_load,
    .history = ms_history,
    .top = ms_top,
    .ping = ms_ping,
    .dump = ms_dump,
    .close = ms_close,
};
