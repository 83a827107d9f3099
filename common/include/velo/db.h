/* velo/db.h: the warehouse database adapter (DESIGN §5).
 *
 * One API over three backends chosen by URL:
 *   sqlite:///path/warehouse.db          embedded (WAL, busy timeout)
 *   postgresql://user@host:port/db       libpq: binary COPY (facts straight
 *                                        into their tables; staging and
 *                                        INSERT ... ON CONFLICT for the
 *                                        dimensions and for reruns)
 *   mssql://user@host:1433/db            FreeTDS db-lib: bcp into a staging
 *                                        table, then MERGE ... WITH (HOLDLOCK)
 * The password never comes from the URL: VELO_WAREHOUSE_PASSWORD, or the file
 * VELO_WAREHOUSE_PASSWORD_FILE names (see velo_db_password_load).
 *
 * Schema: a star (dim_system, dim_station with type-2 history, dim_time,
 * fact_station_hourly, fact_station_daily) built by numbered migrations that
 * are compiled into the binary and recorded in schema_migrations.
 *
 * A batch is one transaction: velo_db_begin, velo_db_upsert (any number of
 * times), velo_db_commit; on any error velo_db_rollback and retry the whole
 * batch later. Upserts are keyed by (system, station, granularity, window),
 * so loading the same rows again leaves identical tables.
 *
 * Errors: VELO_EUNAVAIL (connection lost, server starting or stopping,
 * serialization failure: back off, reconnect happens on the next call),
 * VELO_ETIMEDOUT (statement timeout, or no answer within it + 5 s: the
 * connection is dropped and re-opened on the next call),
 * VELO_EINVAL (bad URL, bad row, constraint violated), VELO_EPROTO (the
 * server rejected our SQL or sent something unexpected), VELO_ETOOBIG (a
 * string over its column's limit), VELO_ENOMEM. The driver's own text is
 * logged once as `cause` (event db.error) with credentials redacted.
 *
 * Thread: a velo_db is used by one thread at a time. */
#ifndef VELO_DB_H
#define VELO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

typedef struct velo_db velo_db;
struct velo_buf;

enum velo_db_gran {
    VELO_DB_HOUR = 0,
    VELO_DB_DAY = 1,
};

/* Longest strings a row may carry (bytes, without the NUL); longer values
 * fail the batch with VELO_ETOOBIG. The columns are sized to match. */
#define VELO_DB_ID_MAX 128       /* system_id, station_id */
#define VELO_DB_NAME_MAX 256     /* station and system names */
#define VELO_DB_STATUS_MAX 32    /* "OPEN", "CLOSED", "UNKNOWN" */
#define VELO_DB_TZ_MAX 64        /* IANA zone name */
#define VELO_DB_DATE_LEN 10      /* "YYYY-MM-DD" */
#define VELO_DB_BATCH_MAX 100000 /* rows per velo_db_upsert call */

/* One hourly or daily aggregate of one station, plus the dimension values
 * that travel with it. Strings are borrowed for the duration of the call.
 * For hour rows window_start_ms is the UTC hour start and local_date,
 * local_hour and local_dow describe that hour in the system's zone (they
 * fill dim_time). For day rows window_start_ms is the UTC instant of local
 * midnight and local_date the local day; local_hour/local_dow are ignored. */
struct velo_db_row {
    enum velo_db_gran gran;
    const char       *system_id;
    const char       *station_id;
    int64_t           window_start_ms;
    const char       *local_date; /* "YYYY-MM-DD" */
    int32_t           local_hour; /* 0..23 */
    int32_t           local_dow;  /* 0 = Sunday .. 6 */
    int64_t           samples;
    double            bikes_avg, bikes_min, bikes_max;
    double            docks_avg, docks_min, docks_max;
    double            minutes_empty, minutes_full;
    int64_t           bikes_in, bikes_out;
    bool              flow_reliable;
    const char       *status; /* dominant status */
    int32_t           capacity;
    bool              has_electric_avg; /* false: NULL in the table */
    double            electric_avg;
    /* dim_station: a change of any of these opens a new version. */
    const char *station_name;
    double      lat, lon;
    int32_t     station_capacity;
    /* dim_system */
    const char *system_name;
    const char *time_zone;
};

/* Options for velo_db_open; zero values pick the defaults. */
struct velo_db_opts {
    const char *password;             /* NULL: none (sqlite never needs one) */
    uint32_t    connect_timeout_ms;   /* default 5000 */
    uint32_t    statement_timeout_ms; /* default 30000 */
    uint32_t    busy_timeout_ms;      /* sqlite lock wait, default 5000 */
};

/* A parsed URL. Strings point into buf; port 0 = backend default. */
enum velo_db_kind {
    VELO_DB_SQLITE = 1,
    VELO_DB_POSTGRESQL,
    VELO_DB_MSSQL,
};
struct velo_db_url {
    enum velo_db_kind kind;
    const char       *user; /* "" when absent */
    const char       *host; /* "" for sqlite */
    uint16_t          port;
    const char       *dbname; /* sqlite: the file path */
    char              buf[1024];
};

/* Parses url into *out. VELO_EINVAL (with a reason in why, may be NULL) for
 * an unknown scheme, a password in the URL, a missing host or database, a
 * bad port, a query string or an over-long URL. Percent-escapes are not
 * decoded. */
VELO_MUST_CHECK int velo_db_url_parse(struct velo_db_url *out, const char *url,
                                      char *why, size_t why_size);

/* Copies url into buf with any userinfo (user:password@) and query string
 * replaced by "***": the only form of a URL that may be logged. Always
 * NUL-terminates; never fails (cuts to size). */
void velo_db_url_redact(const char *url, char *buf, size_t size);

/* Loads the password: VELO_WAREHOUSE_PASSWORD if set, else the first line of
 * the file VELO_WAREHOUSE_PASSWORD_FILE names (trailing newline dropped),
 * else none (*out = NULL, VELO_OK). The caller frees *out. VELO_EIO when
 * the named file cannot be read, VELO_ETOOBIG over 1 KiB. */
VELO_MUST_CHECK int velo_db_password_load(char **out);

/* Connects to url and applies pending migrations (velo_db_migrate). On
 * success *out owns the connection; free it with velo_db_close. opts may be
 * NULL. Errors: VELO_EINVAL (bad URL, schema newer than this binary),
 * VELO_EUNAVAIL (server unreachable), VELO_EPROTO (migration failed). */
VELO_MUST_CHECK int velo_db_open(velo_db **out, const char *url,
                                 const struct velo_db_opts *opts);

/* Like velo_db_open without migrating (for operators and tests). */
VELO_MUST_CHECK int velo_db_connect(velo_db **out, const char *url,
                                    const struct velo_db_opts *opts);

/* Applies every embedded migration newer than the database's version, each
 * in its own transaction, recording it in schema_migrations. VELO_EINVAL if
 * the database has a version this binary does not know (it is newer). */
VELO_MUST_CHECK int velo_db_migrate(velo_db *db);

/* The highest applied migration (0 for an empty database). */
VELO_MUST_CHECK int velo_db_schema_version(velo_db *db, int64_t *out);

/* The highest migration this binary carries for db's dialect. */
int64_t velo_db_schema_latest(const velo_db *db);

VELO_MUST_CHECK int velo_db_begin(velo_db *db);
VELO_MUST_CHECK int velo_db_commit(velo_db *db);
/* Rolls back the open transaction; harmless without one. */
void velo_db_rollback(velo_db *db);

/* Upserts n rows (n <= VELO_DB_BATCH_MAX) inside the open transaction:
 * facts by (system, station, window), dim_system by system, dim_time by
 * (system, hour), dim_station by type-2 rules (a station whose name,
 * position or capacity differs from its current version at a later window
 * gets a new version; older windows never rewrite history). When the batch
 * holds the same key twice, the later row wins. Rows are validated first:
 * VELO_EINVAL / VELO_ETOOBIG and nothing is sent. */
VELO_MUST_CHECK int velo_db_upsert(velo_db *db, const struct velo_db_row *rows,
                                   size_t n);

/* Called once per result row, in order; the row and its strings are
 * borrowed until it returns (dimension fields are NULL/0). A non-zero
 * return stops the query and is returned by it. */
typedef int (*velo_db_row_cb)(void *ctx, const struct velo_db_row *row);

struct velo_db_history_q {
    enum velo_db_gran gran;
    const char       *system_id;
    const char       *station_id;
    int64_t           from_ms; /* window_start_ms >= from_ms */
    int64_t           to_ms;   /* window_start_ms < to_ms */
    uint32_t          limit;   /* at most this many rows; 0 = 10000 */
};

/* Rows of one station in [from_ms, to_ms), oldest first. */
VELO_MUST_CHECK int velo_db_history(velo_db                        *db,
                                    const struct velo_db_history_q *q,
                                    velo_db_row_cb cb, void *ctx);

enum velo_db_rank {
    VELO_DB_RANK_FLOW = 0,      /* bikes_in + bikes_out */
    VELO_DB_RANK_MINUTES_EMPTY, /* minutes_empty */
    VELO_DB_RANK_MINUTES_FULL,  /* minutes_full */
};

struct velo_db_top_q {
    const char       *system_id;
    const char       *local_date; /* "YYYY-MM-DD", the system's local day */
    enum velo_db_rank by;
    uint32_t          limit; /* 0 = 10, at most 1000 */
};

/* The daily rows of one system and local day, highest first (ties by
 * station_id). */
VELO_MUST_CHECK int velo_db_top(velo_db *db, const struct velo_db_top_q *q,
                                velo_db_row_cb cb, void *ctx);

/* A cheap round trip; reconnects a lost connection first. VELO_EUNAVAIL
 * while the server is away. */
VELO_MUST_CHECK int velo_db_ping(velo_db *db);

/* Appends every row of table (one of the schema's own table names; others
 * are VELO_EINVAL) in key order as tab-separated text lines, for tests and
 * operators comparing databases. */
VELO_MUST_CHECK int velo_db_dump(velo_db *db, const char *table,
                                 struct velo_buf *out);

/* Counters for the service's /metrics (monotonic since open). */
struct velo_db_stats {
    uint64_t batches_committed;
    uint64_t rows_upserted;    /* after de-duplication */
    uint64_t errors_retryable; /* VELO_EUNAVAIL, VELO_ETIMEDOUT */
    uint64_t errors_other;     /* every other failure logged as db.error */
    uint64_t reconnects;
    /* PostgreSQL: loads whose facts were partly there already (a rerun, a
     * late correction), merged by the slower upsert path; else 0. */
    uint64_t load_fallbacks;
};

/* Copies the counters. Thread: the db's owner. */
void velo_db_stats_get(const velo_db *db, struct velo_db_stats *out);

/* The backend's kind. */
enum velo_db_kind velo_db_kind_of(const velo_db *db);

/* Closes the connection; NULL is a no-op. An open transaction is rolled
 * back. */
void velo_db_close(velo_db *db);

#endif
