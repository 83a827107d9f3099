/* status.h: what the loader reports and /readyz, Health and the history
 * handlers read.
 *
 * Ready means "reached its database": the schema is migrated and the
 * loader's last database operation worked. While the database is down the
 * reason names it ("database unavailable: ..."), so /readyz answers 503
 * with it. Thread: every function from any thread (a mutex inside). */
#ifndef WAREHOUSE_STATUS_H
#define WAREHOUSE_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wh_status {
    pthread_mutex_t mu;
    bool            schema_ready; /* migrated once: queries may run */
    bool            db_ok;
    char            reason[192]; /* why not ready; "" when ready */
    const char     *backend;     /* static: "sqlite", ... */
    int64_t         schema_version;
    uint64_t        rows_loaded, rejected;
    int64_t         last_commit_ms;
};

/* A copy taken under the lock (mu not copied). */
struct wh_status_view {
    bool        schema_ready, db_ok;
    char        reason[192];
    const char *backend;
    int64_t     schema_version;
    uint64_t    rows_loaded, rejected;
    int64_t     last_commit_ms;
};

void wh_status_init(struct wh_status *s);
void wh_status_fini(struct wh_status *s);

/* The loader reached the database (migrated, version v, backend b). */
void wh_status_db_up(struct wh_status *s, const char *backend, int64_t v);
/* The database failed: not ready, with reason (copied, cut to fit). */
void wh_status_db_down(struct wh_status *s, const char *reason);
/* The database answers again (an idle check): ready. */
void wh_status_db_ok(struct wh_status *s);
/* A batch of rows committed at now_ms (the database is up). */
void wh_status_loaded(struct wh_status *s, uint64_t rows, int64_t now_ms);
void wh_status_rejected(struct wh_status *s, uint64_t n);

void wh_status_get(struct wh_status *s, struct wh_status_view *out);

/* velo_ready_fn over a struct wh_status. */
bool wh_status_ready(void *ctx, char *why, size_t why_size);

#endif
