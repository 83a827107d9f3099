/* db.c: velo/db.h dispatch, URL parsing, redaction and the password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "velo/buf.h"
#include "velo/file.h"
#include "velo/log.h"
#include "velo/parse.h"

#define PASSWORD_MAX 1024

struct scheme {
    const char          *prefix;
    enum velo_db_kind    kind;
    uint16_t             port;
    const struct db_ops *ops;
};

static const struct scheme schemes[] = {
    {"sqlite://", VELO_DB_SQLITE, 0, &db_sqlite_ops},
    {"postgresql://", VELO_DB_POSTGRESQL, 5432, &db_pg_ops},
    {"postgres://", VELO_DB_POSTGRESQL, 5432, &db_pg_ops},
    {"mssql://", VELO_DB_MSSQL, 1433, &db_mssql_ops},
};

static const struct scheme *
scheme_of(const char *url)
{
    size_t i;

    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
            return &schemes[i];
    }
    return NULL;
}

/* host[:port]/db from rest (a copy in u->buf we may cut up). */
static int
parse_server(struct velo_db_url *u, char *rest, uint16_t def_port, char *why,
             size_t n)
{
    char    *slash, *at, *colon;
    uint32_t port;

    slash = strchr(rest, '/');
    if (slash == NULL || slash[1] == '\0' || strchr(slash, '?') != NULL)
        return velo_errf(VELO_EINVAL, why, n, "URL needs /database");
    *slash = '\0';
    u->dbname = slash + 1;
    at = strrchr(rest, '@');
    u->user = "";
    if (at != NULL) {
        *at = '\0';
        if (strchr(rest, ':') != NULL)
            return velo_errf(VELO_EINVAL, why, n,
                             "password in URL: use VELO_WAREHOUSE_PASSWORD "
                             "or VELO_WAREHOUSE_PASSWORD_FILE");
        u->user = rest;
        rest = at + 1;
    }
    u->host = rest;
    u->port = def_port;
    colon = strrchr(rest, ':');
    if (colon != NULL) {
        *colon = '\0';
        if (velo_parse_u32(colon + 1, &port) != VELO_OK || port == 0 ||
            port > 65535)
            return velo_errf(VELO_EINVAL, why, n, "bad port");
        u->port = (uint16_t)port;
    }
    if (u->host[0] == '\0')
        return velo_errf(VELO_EINVAL, why, n, "URL needs a host");
    return VELO_OK;
}

int
velo_db_url_parse(struct velo_db_url *out, const char *url, char *why,
                  size_t why_size)
{
    const struct scheme *s;
    struct velo_db_url   u;
    char                *rest;
    int                  rv;

    memset(&u, 0, sizeof(u));
    if (url == NULL || (s = scheme_of(url)) == NULL)
        return velo_errf(VELO_EINVAL, why, why_size,
                         "URL must start with sqlite://, postgresql:// or "
                         "mssql://");
    if (strlen(url) >= sizeof(u.buf))
        return velo_errf(VELO_EINVAL, why, why_size, "URL too long");
    memcpy(u.buf, url, strlen(url) + 1);
    u.kind = s->kind;
    rest = u.buf + strlen(s->prefix);
    if (s->kind == VELO_DB_SQLITE) {
        /* sqlite:///abs/path or sqlite://rel/path: never a host. */
        if (rest[0] == '\0')
            return velo_errf(VELO_EINVAL, why, why_size,
                             "sqlite URL needs "
                             "a path");
        u.user = "";
        u.host = "";
        u.dbname = rest;
    } else {
        rv = parse_server(&u, rest, s->port, why, why_size);
        if (rv != VELO_OK)
            return rv;
    }
    *out = u;
    /* The copied struct's pointers must point into its own buf. */
    out->user = u.user[0] == '\0' ? "" : out->buf + (u.user - u.buf);
    out->host = u.host[0] == '\0' ? "" : out->buf + (u.host - u.buf);
    out->dbname = out->buf + (u.dbname - u.buf);
    return VELO_OK;
}

void
velo_db_url_redact(const char *url, char *buf, size_t size)
{
    const char *p, *end, *c, *at = NULL, *q;
    int         stop;

    if (size == 0)
        return;
    p = strstr(url, "://");
    if (p == NULL) {
        snprintf(buf, size, "***");
        return;
    }
    p += 3;
    /* userinfo is everything before the last '@' of the authority. */
    end = p + strcspn(p, "/?");
    for (c = p; c < end; c++) {
        if (*c == '@')
            at = c;
    }
    q = strchr(url, '?');
    stop = (int)((q != NULL ? q : url + strlen(url)) - url);
    if (at != NULL)
        snprintf(buf, size, "%.*s***%.*s%s", (int)(p - url), url,
                 stop - (int)(at - url), at, q != NULL ? "?***" : "");
    else
        snprintf(buf, size, "%.*s%s", stop, url, q != NULL ? "?***" : "");
}

int
velo_db_password_load(char **out)
{
    const char *env = getenv("VELO_WAREHOUSE_PASSWORD");
    const char *path = getenv("VELO_WAREHOUSE_PASSWORD_FILE");
    char       *pw;
    size_t      len;
    int         rv;

    if (env != NULL && env[0] != '\0') {
        if (strlen(env) > PASSWORD_MAX)
            return VELO_ETOOBIG;
        pw = strdup(env);
        if (pw == NULL)
            return VELO_ENOMEM;
        *out = pw;
        return VELO_OK;
    }
    if (path == NULL || path[0] == '\0') {
        *out = NULL;
        return VELO_OK;
    }
    rv = velo_file_read(path, PASSWORD_MAX, &pw, &len);
    if (rv != VELO_OK)
        return rv == VELO_ETOOBIG ? rv : VELO_EIO;
    /* A mounted secret often ends in a newline that is not part of it. */
    pw[strcspn(pw, "\r\n")] = '\0';
    *out = pw;
    return VELO_OK;
}

int
db_fail(velo_db *db, int err, const char *op, const char *cause)
{
    if (velo_err_retryable(err))
        db->stats.errors_retryable++;
    else
        db->stats.errors_other++;
    velo_warn("db.error", VELO_S("db", db->where), VELO_S("op", op),
              VELO_S("error", velo_strerror(err)), VELO_S("cause", cause));
    return err;
}

int
velo_db_connect(velo_db **out, const char *url, const struct velo_db_opts *opts)
{
    static const struct velo_db_opts defaults;
    const struct scheme             *s;
    struct velo_db_url               u;
    velo_db                         *db;
    char                             why[160];
    char                             where[256];
    int                              rv;

    velo_db_url_redact(url != NULL ? url : "", where, sizeof(where));
    rv = velo_db_url_parse(&u, url, why, sizeof(why));
    if (rv != VELO_OK) {
        velo_error("db.url_invalid", VELO_S("db", where), VELO_S("cause", why));
        return rv;
    }
    s = scheme_of(url);
    rv = s->ops->connect(&db, &u, opts != NULL ? opts : &defaults, where);
    if (rv != VELO_OK)
        return rv;
    db->ops = s->ops;
    db->kind = u.kind;
    velo_info("db.connected", VELO_S("db", db->where));
    *out = db;
    return VELO_OK;
}

int
velo_db_open(velo_db **out, const char *url, const struct velo_db_opts *opts)
{
    velo_db *db;
    int      rv;

    rv = velo_db_connect(&db, url, opts);
    if (rv != VELO_OK)
        return rv;
    rv = velo_db_migrate(db);
    if (rv != VELO_OK) {
        velo_db_close(db);
        return rv;
    }
    *out = db;
    return VELO_OK;
}

int
velo_db_begin(velo_db *db)
{
    int rv = db->ops->begin(db);

    db->in_tx = rv == VELO_OK;
    return rv;
}

int
velo_db_commit(velo_db *db)
{
    int rv = db->ops->commit(db);

    if (rv != VELO_OK)
        db->ops->rollback(db);
    else
        db->stats.batches_committed++;
    db->in_tx = false;
    return rv;
}

void
velo_db_rollback(velo_db *db)
{
    db->ops->rollback(db);
    db->in_tx = false;
}

/* Loads b's rows run by run (db_batch_runs): first every station's first
 * dimension values, then the rows after each one's first change, ... so
 * each load sees one version per station, in time order. */
static int
load_runs(velo_db *db, const struct db_batch *b, const uint32_t *run,
          uint32_t max)
{
    struct velo_db_row *sub = calloc(b->n, sizeof(*sub));
    struct db_batch     sb;
    size_t              i, m;
    uint32_t            k;
    int                 rv = sub != NULL ? VELO_OK : VELO_ENOMEM;

    for (k = 0; rv == VELO_OK && k <= max; k++) {
        for (i = m = 0; i < b->n; i++) {
            if (run[i] == k)
                sub[m++] = *b->rows[i];
        }
        rv = db_batch_prepare(&sb, sub, m);
        if (rv == VELO_OK) {
            rv = db->ops->load(db, &sb);
            db_batch_fini(&sb);
        }
    }
    free(sub);
    return rv;
}

int
velo_db_upsert(velo_db *db, const struct velo_db_row *rows, size_t n)
{
    struct db_batch b;
    uint32_t       *run, max = 0;
    int             rv;

    if (!db->in_tx)
        return db_fail(db, VELO_EINVAL, "upsert", "no open transaction");
    if (n == 0)
        return VELO_OK;
    rv = db_batch_prepare(&b, rows, n);
    if (rv != VELO_OK)
        return rv;
    run = calloc(b.n, sizeof(*run));
    if (run == NULL)
        rv = VELO_ENOMEM;
    else
        max = db_batch_runs(&b, run);
    if (rv == VELO_OK)
        rv = max == 0 ? db->ops->load(db, &b) : load_runs(db, &b, run, max);
    if (rv == VELO_OK)
        db->stats.rows_upserted += b.n;
    free(run);
    db_batch_fini(&b);
    return rv;
}

int
velo_db_history(velo_db *db, const struct velo_db_history_q *q,
                velo_db_row_cb cb, void *ctx)
{
    struct velo_db_history_q c = *q;

    if (q->system_id == NULL || q->station_id == NULL ||
        (q->gran != VELO_DB_HOUR && q->gran != VELO_DB_DAY))
        return VELO_EINVAL;
    if (c.limit == 0 || c.limit > 10000)
        c.limit = 10000;
    return db->ops->history(db, &c, cb, ctx);
}

int
velo_db_top(velo_db *db, const struct velo_db_top_q *q, velo_db_row_cb cb,
            void *ctx)
{
    struct velo_db_top_q c = *q;
    const char          *expr;

    if (q->system_id == NULL || q->local_date == NULL ||
        strlen(q->local_date) != VELO_DB_DATE_LEN ||
        db_sql_rank_expr(q->by, &expr) != VELO_OK)
        return VELO_EINVAL;
    if (c.limit == 0)
        c.limit = 10;
    if (c.limit > 1000)
        c.limit = 1000;
    return db->ops->top(db, &c, cb, ctx);
}

int
velo_db_ping(velo_db *db)
{
    return db->ops->ping(db);
}

int
velo_db_dump(velo_db *db, const char *table, struct velo_buf *out)
{
    size_t i;

    for (i = 0; i < db_sql_tables_len; i++) {
        if (strcmp(table, db_sql_tables[i].name) == 0)
            return db->ops->dump(db, db_sql_tables[i].name,
                                 db_sql_tables[i].order, out);
    }
    return VELO_EINVAL;
}

void
velo_db_stats_get(const velo_db *db, struct velo_db_stats *out)
{
    *out = db->stats;
}

enum velo_db_kind
velo_db_kind_of(const velo_db *db)
{
    return db->kind;
}

void
velo_db_close(velo_db *db)
{
    if (db == NULL)
        return;
    if (db->in_tx)
        db->ops->rollback(db);
    db->ops->close(db);
}
