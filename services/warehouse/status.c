/* status.c: the loader's shared status (see status.h). */
#include "status.h"

#include <stdio.h>
#include <string.h>

void
wh_status_init(struct wh_status *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->reason, sizeof(s->reason), "database not reached yet");
    s->backend = "";
}

void
wh_status_fini(struct wh_status *s)
{
    pthread_mutex_destroy(&s->mu);
}

void
wh_status_db_up(struct wh_status *s, const char *backend, int64_t v)
{
    pthread_mutex_lock(&s->mu);
    s->schema_ready = true;
    s->db_ok = true;
    s->reason[0] = '\0';
    s->backend = backend;
    s->schema_version = v;
    pthread_mutex_unlock(&s->mu);
}

void
wh_status_db_down(struct wh_status *s, const char *reason)
{
    pthread_mutex_lock(&s->mu);
    s->db_ok = false;
    snprintf(s->reason, sizeof(s->reason), "database unavailable: %s", reason);
    pthread_mutex_unlock(&s->mu);
}

void
wh_status_db_ok(struct wh_status *s)
{
    pthread_mutex_lock(&s->mu);
    s->db_ok = true;
    s->reason[0] = '\0';
    pthread_mutex_unlock(&s->mu);
}

void
wh_status_loaded(struct wh_status *s, uint64_t rows, int64_t now_ms)
{
    pthread_mutex_lock(&s->mu);
    s->db_ok = true;
    s->reason[0] = '\0';
    s->rows_loaded += rows;
    s->last_commit_ms = now_ms;
    pthread_mutex_unlock(&s->mu);
}

void
wh_status_rejected(struct wh_status *s, uint64_t n)
{
    pthread_mutex_lock(&s->mu);
    s->rejected += n;
    pthread_mutex_unlock(&s->mu);
}

void
wh_status_get(struct wh_status *s, struct wh_status_view *out)
{
    pthread_mutex_lock(&s->mu);
    out->schema_ready = s->schema_ready;
    out->db_ok = s->db_ok;
    memcpy(out->reason, s->reason, sizeof(out->reason));
    out->backend = s->backend;
    out->schema_version = s->schema_version;
    out->rows_loaded = s->rows_loaded;
    out->rejected = s->rejected;
    out->last_commit_ms = s->last_commit_ms;
    pthread_mutex_unlock(&s->mu);
}

bool
wh_status_ready(void *ctx, char *why, size_t why_size)
{
    struct wh_status_view v;

    wh_status_get(ctx, &v);
    if (v.db_ok && v.schema_ready)
        return true;
    snprintf(why, why_size, "%s", v.reason);
    return false;
}
