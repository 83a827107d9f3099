/* history.c: the HistoryService handlers (see history.h). */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "velo/clock.h"
#include "velo/utf8.h"
#include "velo/v1/history.pb-c.h"

#define ST_OK VELO__V1__RPC_STATUS__RPC_OK
#define ST_INVALID VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT
#define ST_NOT_FOUND VELO__V1__RPC_STATUS__RPC_NOT_FOUND
#define ST_INTERNAL VELO__V1__RPC_STATUS__RPC_INTERNAL
#define ST_UNAVAILABLE VELO__V1__RPC_STATUS__RPC_UNAVAILABLE

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

static int64_t
h_now(const struct wh_history *h)
{
    return h->now_ms != NULL ? h->now_ms() : velo_now_ms();
}

/* Replies are built with malloc throughout, so protobuf-c frees them. */
static void
reply_free(ProtobufCMessage *reply, void *ctx)
{
    (void)ctx;
    protobuf_c_message_free_unpacked(reply, NULL);
}

static int
reply_set(struct velo_rpc_call *call, ProtobufCMessage *reply)
{
    call->reply = reply;
    call->reply_free = reply_free;
    call->reply_free_ctx = NULL;
    return ST_OK;
}

static int
invalid(struct velo_rpc_call *call, const char *text)
{
    snprintf(call->error, sizeof(call->error), "%s", text);
    return ST_INVALID;
}

/* The RPC status of a query's result; frees reply on failure. */
static int
query_status(struct velo_rpc_call *call, int rv, ProtobufCMessage *reply,
             const char *why)
{
    if (rv == VELO_OK)
        return reply_set(call, reply);
    if (reply != NULL)
        protobuf_c_message_free_unpacked(reply, NULL);
    switch (rv) {
    case VELO_EUNAVAIL:
    case VELO_ETIMEDOUT:
        snprintf(call->error, sizeof(call->error), "%s",
                 why[0] != '\0' ? why : "database unavailable");
        return ST_UNAVAILABLE;
    case VELO_EINVAL:
        return invalid(call, "the database refused the arguments");
    case VELO_ENOTFOUND:
        snprintf(call->error, sizeof(call->error), "%s", why);
        return ST_NOT_FOUND;
    default:
        snprintf(call->error, sizeof(call->error), "query failed: %s",
                 velo_strerror(rv));
        return ST_INTERNAL;
    }
}

/* How long a call may wait for a connection: its deadline, at most
 * WH_QUERY_WAIT_MS. */
static int64_t
call_deadline(const struct wh_history *h, const struct velo_rpc_call *call)
{
    int64_t wait = WH_QUERY_WAIT_MS;

    if (call->deadline_ms > 0 && call->deadline_ms - h_now(h) < wait)
        wait = call->deadline_ms - h_now(h);
    return velo_mono_ms() + (wait > 0 ? wait : 0);
}

static bool
id_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strlen(s) <= VELO_DB_ID_MAX;
}

/* Fills the common measures of a stats message from a row. */
#define FILL_MEASURES(m, r)                                                    \
    do {                                                                       \
        (m)->has_window_start_ms = true;                                       \
        (m)->window_start_ms = (r)->window_start_ms;                           \
        (m)->has_samples = (m)->has_bikes_avg = (m)->has_bikes_min = true;     \
        (m)->has_bikes_max = (m)->has_docks_avg = (m)->has_docks_min = true;   \
        (m)->has_docks_max = (m)->has_minutes_empty = true;                    \
        (m)->has_minutes_full = (m)->has_bikes_in = true;                      \
        (m)->has_bikes_out = (m)->has_flow_reliable = true;                    \
        (m)->has_status = (m)->has_capacity = true;                            \
        (m)->samples = (uint32_t)(r)->samples;                                 \
        (m)->bikes_avg = (r)->bikes_avg;                                       \
        (m)->bikes_min = (uint32_t)(r)->bikes_min;                             \
        (m)->bikes_max = (uint32_t)(r)->bikes_max;                             \
        (m)->docks_avg = (r)->docks_avg;                                       \
        (m)->docks_min = (uint32_t)(r)->docks_min;                             \
        (m)->docks_max = (uint32_t)(r)->docks_max;                             \
        (m)->minutes_empty = (r)->minutes_empty;                               \
        (m)->minutes_full = (r)->minutes_full;                                 \
        (m)->bikes_in = (uint32_t)(r)->bikes_in;                               \
        (m)->bikes_out = (uint32_t)(r)->bikes_out;                             \
        (m)->flow_reliable = (r)->flow_reliable;                               \
        (m)->status = wh_status_value((r)->status);                            \
        (m)->capacity = (uint32_t)(r)->capacity;                               \
        (m)->has_electric_avg = (r)->has_electric_avg;                         \
        (m)->electric_avg = (r)->electric_avg;                                 \
    } while (0)

/* Rows collected by a query callback into a growing array of message
 * pointers, handed to the reply afterwards (COLLECT_GIVE). */
struct collect {
    void **rows;
    size_t n, cap;
};

static int
collect_push(struct collect *c, void *m)
{
    void **grown;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        grown = realloc(c->rows, c->cap * sizeof(*c->rows));
        if (grown == NULL)
            return VELO_ENOMEM;
        c->rows = grown;
    }
    c->rows[c->n++] = m;
    return VELO_OK;
}

/* Moves the rows into the reply, which then frees them with itself. */
#define COLLECT_GIVE(reply, c)                                                 \
    do {                                                                       \
        (reply)->rows = (void *)(c)->rows;                                     \
        (reply)->n_rows = (c)->n;                                              \
    } while (0)

static int
hourly_cb(void *ctx, const struct velo_db_row *r)
{
    Velo__V1__HourlyStationStats *m = malloc(sizeof(*m));

    if (m == NULL)
        return VELO_ENOMEM;
    velo__v1__hourly_station_stats__init(m);
    m->system_id = strdup(r->system_id);
    m->station_id = strdup(r->station_id);
    FILL_MEASURES(m, r);
    m->has_window_end_ms = true;
    m->window_end_ms = r->window_start_ms + HOUR_MS;
    /* Checked before the push: a pushed row belongs to the reply. */
    if (m->system_id == NULL || m->station_id == NULL ||
        collect_push(ctx, m) != VELO_OK) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return VELO_ENOMEM;
    }
    return VELO_OK;
}

static int
daily_cb(void *ctx, const struct velo_db_row *r)
{
    Velo__V1__DailyStationStats *m = malloc(sizeof(*m));

    if (m == NULL)
        return VELO_ENOMEM;
    velo__v1__daily_station_stats__init(m);
    m->system_id = strdup(r->system_id);
    m->station_id = strdup(r->station_id);
    m->local_date = r->local_date != NULL ? strdup(r->local_date) : NULL;
    FILL_MEASURES(m, r);
    if (m->system_id == NULL || m->station_id == NULL ||
        (r->local_date != NULL && m->local_date == NULL) ||
        collect_push(ctx, m) != VELO_OK) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return VELO_ENOMEM;
    }
    return VELO_OK;
}

/* ---- GetHourly, GetDaily ---- */

struct history_run {
    struct velo_db_history_q q;
    struct collect           c;
};

static int
found_cb(void *ctx, const struct velo_db_row *row)
{
    (void)row;
    *(bool *)ctx = true;
    return VELO_OK;
}

/* Whether the warehouse holds any row of the station, of either
 * granularity: one primary-key lookup each. */
static int
station_known(velo_db *db, const struct velo_db_history_q *q, bool *known)
{
    struct velo_db_history_q any = *q;
    int                      rv = VELO_OK, g;

    *known = false;
    any.from_ms = INT64_MIN;
    any.to_ms = INT64_MAX;
    any.limit = 1;
    for (g = VELO_DB_HOUR; rv == VELO_OK && !*known && g <= VELO_DB_DAY; g++) {
        any.gran = (enum velo_db_gran)g;
        rv = velo_db_history(db, &any, found_cb, known);
    }
    return rv;
}

/* The range's rows; an empty range of a station the warehouse has never
 * seen is VELO_ENOTFOUND (veloctl: exit 1), of a known one an empty
 * list. */
static int
run_history(velo_db *db, void *ctx)
{
    struct history_run *r = ctx;
    bool                known = true;
    int                 rv;

    rv = velo_db_history(
        db, &r->q, r->q.gran == VELO_DB_HOUR ? hourly_cb : daily_cb, &r->c);
    if (rv == VELO_OK && r->c.n == 0)
        rv = station_known(db, &r->q, &known);
    return rv == VELO_OK && !known ? VELO_ENOTFOUND : rv;
}

/* "no station SYS/ID in the warehouse": the peer chose both strings, so
 * each is bounded, cut on a character boundary and repaired. */
static void
not_found_text(char *buf, size_t size, const Velo__V1__HistoryRequest *rq)
{
    char sys[100], sta[100];

    velo_utf8_clip(sys, sizeof(sys), rq->system_id, 64);
    velo_utf8_clip(sta, sizeof(sta), rq->station_id, 64);
    snprintf(buf, size, "no station %s/%s in the warehouse", sys, sta);
}

/* Validates rq into q; NULL or the INVALID_ARGUMENT text. */
static const char *
history_args(const struct wh_history *h, const Velo__V1__HistoryRequest *rq,
             enum velo_db_gran gran, struct velo_db_history_q *q)
{
    int64_t span = gran == VELO_DB_HOUR ? DAY_MS : 31 * DAY_MS;

    if (!id_ok(rq->system_id))
        return "system_id is required (at most 128 bytes)";
    if (!id_ok(rq->station_id))
        return "station_id is required (at most 128 bytes)";
    if (rq->has_limit && rq->limit > WH_HISTORY_LIMIT_MAX)
        return "limit is over 10000";
    q->gran = gran;
    q->system_id = rq->system_id;
    q->station_id = rq->station_id;
    q->to_ms = rq->has_to_ms ? rq->to_ms : h_now(h);
    q->from_ms = rq->has_from_ms ? rq->from_ms : q->to_ms - span;
    if (q->from_ms >= q->to_ms)
        return "from_ms must be before to_ms";
    q->limit =
        rq->has_limit && rq->limit > 0 ? rq->limit : WH_HISTORY_LIMIT_DEFAULT;
    return NULL;
}

static int
history_call(struct wh_history *h, struct velo_rpc_call *call,
             enum velo_db_gran gran)
{
    const Velo__V1__HistoryRequest *rq = (const void *)call->req;
    Velo__V1__HourlyHistory        *hr = NULL;
    Velo__V1__DailyHistory         *dr = NULL;
    struct history_run              r;
    const char                     *bad;
    char                            why[256] = "";
    int                             rv;

    memset(&r, 0, sizeof(r));
    if ((bad = history_args(h, rq, gran, &r.q)) != NULL)
        return invalid(call, bad);
    if (gran == VELO_DB_HOUR) {
        hr = malloc(sizeof(*hr));
        if (hr != NULL)
            velo__v1__hourly_history__init(hr);
    } else {
        dr = malloc(sizeof(*dr));
        if (dr != NULL)
            velo__v1__daily_history__init(dr);
    }
    if (hr == NULL && dr == NULL)
        return query_status(call, VELO_ENOMEM, NULL, why);
    rv = wh_query_run(h->query, run_history, &r, call_deadline(h, call), why,
                      sizeof(why));
    if (hr != NULL)
        COLLECT_GIVE(hr, &r.c);
    else
        COLLECT_GIVE(dr, &r.c);
    if (rv == VELO_ENOTFOUND)
        not_found_text(why, sizeof(why), rq);
    return query_status(call, rv, hr != NULL ? &hr->base : &dr->base, why);
}

static int
h_get_hourly(void *ctx, struct velo_rpc_call *call)
{
    return history_call(ctx, call, VELO_DB_HOUR);
}

static int
h_get_daily(void *ctx, struct velo_rpc_call *call)
{
    return history_call(ctx, call, VELO_DB_DAY);
}

/* ---- TopStations ---- */

struct top_run {
    struct velo_db_top_q q;
    struct collect       c;
};

static int
run_top(velo_db *db, void *ctx)
{
    struct top_run *r = ctx;

    return velo_db_top(db, &r->q, daily_cb, &r->c);
}

static bool
date_ok(const char *d)
{
    int i;

    if (d == NULL || strlen(d) != VELO_DB_DATE_LEN)
        return false;
    for (i = 0; i < VELO_DB_DATE_LEN; i++) {
        if (i == 4 || i == 7 ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return false;
    }
    return true;
}

static const char *
top_args(const Velo__V1__TopStationsRequest *rq, struct velo_db_top_q *q)
{
    if (!id_ok(rq->system_id))
        return "system_id is required (at most 128 bytes)";
    if (!date_ok(rq->local_date))
        return "local_date is required as YYYY-MM-DD";
    if (rq->has_limit && rq->limit > WH_TOP_LIMIT_MAX)
        return "limit is over 1000";
    switch (rq->by) {
    case VELO__V1__TOP_RANK__TOP_RANK_FLOW:
        q->by = VELO_DB_RANK_FLOW;
        break;
    case VELO__V1__TOP_RANK__TOP_RANK_MINUTES_EMPTY:
        q->by = VELO_DB_RANK_MINUTES_EMPTY;
        break;
    case VELO__V1__TOP_RANK__TOP_RANK_MINUTES_FULL:
        q->by = VELO_DB_RANK_MINUTES_FULL;
        break;
    default:
        return "by is not a TopRank";
    }
    q->system_id = rq->system_id;
    q->local_date = rq->local_date;
    q->limit =
        rq->has_limit && rq->limit > 0 ? rq->limit : WH_TOP_LIMIT_DEFAULT;
    return NULL;
}

static int
h_top_stations(void *ctx, struct velo_rpc_call *call)
{
    struct wh_history                  *h = ctx;
    const Velo__V1__TopStationsRequest *rq = (const void *)call->req;
    Velo__V1__DailyHistory             *dr;
    struct top_run                      r;
    const char                         *bad;
    char                                why[128] = "";
    int                                 rv;

    memset(&r, 0, sizeof(r));
    if ((bad = top_args(rq, &r.q)) != NULL)
        return invalid(call, bad);
    dr = malloc(sizeof(*dr));
    if (dr == NULL)
        return query_status(call, VELO_ENOMEM, NULL, why);
    velo__v1__daily_history__init(dr);
    rv = wh_query_run(h->query, run_top, &r, call_deadline(h, call), why,
                      sizeof(why));
    COLLECT_GIVE(dr, &r.c);
    return query_status(call, rv, &dr->base, why);
}

/* ---- Health ---- */

static int
h_health(void *ctx, struct velo_rpc_call *call)
{
    struct wh_history            *h = ctx;
    Velo__V1__HistoryHealthReply *r = malloc(sizeof(*r));
    struct wh_status_view         v;

    if (r == NULL)
        return query_status(call, VELO_ENOMEM, NULL, "");
    velo__v1__history_health_reply__init(r);
    wh_status_get(h->status, &v);
    r->has_ready = true;
    r->ready = v.db_ok && v.schema_ready;
    r->reason = r->ready ? NULL : strdup(v.reason);
    r->instance = strdup(h->instance);
    r->backend = strdup(v.backend);
    r->has_schema_version = r->has_rows_loaded = r->has_rejected = true;
    r->schema_version = v.schema_version;
    r->rows_loaded = v.rows_loaded;
    r->rejected = v.rejected;
    r->has_last_commit_ms = v.last_commit_ms > 0;
    r->last_commit_ms = v.last_commit_ms;
    if ((!r->ready && r->reason == NULL) || r->instance == NULL ||
        r->backend == NULL)
        return query_status(call, VELO_ENOMEM, &r->base, "");
    return reply_set(call, &r->base);
}

/* In velo__v1__history_service__descriptor's method order (the .proto's
 * declaration order); history_test.c checks it against the descriptor. */
static const velo_rpc_handler wh_handlers[] = {
    h_get_hourly,
    h_get_daily,
    h_top_stations,
    h_health,
};

struct velo_rpc_service
wh_history_rpc(struct wh_history *h)
{
    struct velo_rpc_service s = {
        .desc = &velo__v1__history_service__descriptor,
        .handlers = wh_handlers,
        .ctx = h,
    };

    return s;
}
