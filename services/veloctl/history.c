/* history.c: the history and top commands (see history.h). */
#include "history.h"

#include <stdlib.h>

#include "histfmt.h"
#include "velo/clock.h"
#include "velo/tz.h"

#define DAY_MS 86400000LL

/* Rows of either reply, flattened for the printers. */
static struct veloctl_hrow *
rows_of(const ProtobufCMessage *reply, bool daily, size_t *n)
{
    const Velo__V1__HourlyHistory *h = (const void *)reply;
    const Velo__V1__DailyHistory  *d = (const void *)reply;
    struct veloctl_hrow           *rows;
    size_t                         i;

    *n = daily ? d->n_rows : h->n_rows;
    rows = calloc(*n ? *n : 1, sizeof(*rows));
    for (i = 0; rows != NULL && i < *n; i++) {
        if (daily)
            veloctl_hrow_daily(&rows[i], d->rows[i]);
        else
            veloctl_hrow_hourly(&rows[i], h->rows[i]);
    }
    return rows;
}

/* Prints the rows (or the note that there are none). */
static int
emit(struct veloctl_ctx *x, const struct veloctl_hrow *rows, size_t n,
     int (*json)(struct velo_buf *, const void *, const struct veloctl_hrow *,
                 size_t),
     const void *q,
     int (*table)(struct velo_buf *, const struct veloctl_hrow *, size_t, bool),
     bool daily, const char *none)
{
    struct velo_buf b;
    int             rv, ex;

    velo_buf_init(&b, VELOCTL_OUT_MAX);
    if (x->a->json)
        rv = json(&b, q, rows, n);
    else if (n == 0)
        rv = VELO_OK;
    else
        rv = table(&b, rows, n, daily);
    ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
    velo_buf_fini(&b);
    if (ex == VELOCTL_EXIT_OK && n == 0 && !x->a->json)
        veloctl_errorf(x, "%s", none);
    return ex;
}

static int
json_history(struct velo_buf *b, const void *q, const struct veloctl_hrow *r,
             size_t n)
{
    return veloctl_json_history(b, q, r, n);
}

static int
table_history(struct velo_buf *b, const struct veloctl_hrow *r, size_t n,
              bool daily)
{
    return veloctl_fmt_history(b, r, n, daily);
}

int
veloctl_history_run(struct veloctl_ctx *x)
{
    const struct veloctl_args *a = x->a;
    Velo__V1__HistoryRequest   rq = VELO__V1__HISTORY_REQUEST__INIT;
    struct veloctl_hquery      q = {a->system, a->station, a->daily, 0, 0};
    ProtobufCMessage          *r = NULL;
    struct veloctl_hrow       *rows;
    char                       none[600];
    size_t                     n;
    int                        ex;

    q.to_ms = a->has_to ? a->to_ms : velo_now_ms();
    q.from_ms =
        a->has_from ? a->from_ms : q.to_ms - (a->daily ? 31 * DAY_MS : DAY_MS);
    rq.system_id = (char *)a->system;
    rq.station_id = (char *)a->station;
    rq.has_from_ms = rq.has_to_ms = true;
    rq.from_ms = q.from_ms;
    rq.to_ms = q.to_ms;
    rq.has_limit = a->has_limit;
    rq.limit = a->limit;
    snprintf(none, sizeof(none), "no station %s/%s in the warehouse", a->system,
             a->station);
    ex = veloctl_call(x, a->daily ? "GetDaily" : "GetHourly", &rq.base, &r,
                      none);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    rows = rows_of(r, a->daily, &n);
    snprintf(none, sizeof(none), "no %s rows for %s/%s in that range",
             a->daily ? "daily" : "hourly", a->system, a->station);
    ex = rows == NULL ? veloctl_out_fail(x, VELO_ENOMEM)
                      : emit(x, rows, n, json_history, &q, table_history,
                             a->daily, none);
    free(rows);
    protobuf_c_message_free_unpacked(r, NULL);
    return ex;
}

/* ---- top ---- */

struct topq {
    const char *system, *date, *by;
};

static int
json_top(struct velo_buf *b, const void *q, const struct veloctl_hrow *r,
         size_t n)
{
    const struct topq *t = q;

    return veloctl_json_top(b, t->system, t->date, t->by, r, n);
}

static int
table_top(struct velo_buf *b, const struct veloctl_hrow *r, size_t n,
          bool daily)
{
    (void)daily;
    return veloctl_fmt_top(b, r, n);
}

/* Yesterday's date, UTC: the last day velo-batch has finished. */
static void
yesterday(char *buf, size_t size)
{
    int64_t days = velo_now_ms() / DAY_MS - 1;
    int32_t y;
    int     m, d;

    velo_tz_civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", (int)y, m, d);
}

int
veloctl_top_run(struct veloctl_ctx *x)
{
    static const char *const     by_names[] = {"flow", "empty", "full"};
    const struct veloctl_args   *a = x->a;
    Velo__V1__TopStationsRequest rq = VELO__V1__TOP_STATIONS_REQUEST__INIT;
    ProtobufCMessage            *r = NULL;
    struct veloctl_hrow         *rows;
    struct topq                  q;
    char                         date[16], none[400];
    size_t                       n;
    int                          ex;

    if (a->date == NULL)
        yesterday(date, sizeof(date));
    else
        snprintf(date, sizeof(date), "%s", a->date);
    q = (struct topq){a->system, date,
                      (unsigned)a->by < 3 ? by_names[a->by] : "flow"};
    rq.system_id = (char *)a->system;
    rq.local_date = date;
    rq.has_by = true;
    rq.by = (Velo__V1__TopRank)a->by;
    rq.has_limit = a->has_limit;
    rq.limit = a->limit;
    ex = veloctl_call(x, "TopStations", &rq.base, &r, NULL);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    rows = rows_of(r, true, &n);
    snprintf(none, sizeof(none), "no daily rows for %s on %s", a->system, date);
    ex = rows == NULL ? veloctl_out_fail(x, VELO_ENOMEM)
                      : emit(x, rows, n, json_top, &q, table_top, true, none);
    free(rows);
    protobuf_c_message_free_unpacked(r, NULL);
    return ex;
}
