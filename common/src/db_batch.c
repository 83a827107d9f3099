/* db_batch.c: validation, de-duplication and dimension flags of a batch,
 * done once in C so every dialect's merge SQL stays set-based. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "velo/log.h"
#include "velo/parse.h"

struct ent {
    const struct velo_db_row *r;
    size_t                    idx; /* position in the caller's array */
};

static int
str_ok(const char *s, size_t max, bool empty_ok, const char *what)
{
    size_t len;

    if (s == NULL || (!empty_ok && s[0] == '\0')) {
        velo_warn("db.row_invalid", VELO_S("field", what),
                  VELO_S("cause", "missing"));
        return VELO_EINVAL;
    }
    len = strnlen(s, max + 1);
    if (len > max) {
        velo_warn("db.row_invalid", VELO_S("field", what),
                  VELO_S("cause", "too long"));
        return VELO_ETOOBIG;
    }
    return VELO_OK;
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

static int
row_ok(const struct velo_db_row *r)
{
    int rv;

    rv = str_ok(r->system_id, VELO_DB_ID_MAX, false, "system_id");
    if (rv == VELO_OK)
        rv = str_ok(r->station_id, VELO_DB_ID_MAX, false, "station_id");
    if (rv == VELO_OK)
        rv = str_ok(r->status, VELO_DB_STATUS_MAX, true, "status");
    if (rv == VELO_OK)
        rv = str_ok(r->station_name, VELO_DB_NAME_MAX, true, "station_name");
    if (rv == VELO_OK)
        rv = str_ok(r->system_name, VELO_DB_NAME_MAX, true, "system_name");
    if (rv == VELO_OK)
        rv = str_ok(r->time_zone, VELO_DB_TZ_MAX, true, "time_zone");
    if (rv != VELO_OK)
        return rv;
    if ((r->gran != VELO_DB_HOUR && r->gran != VELO_DB_DAY) ||
        !date_ok(r->local_date) || r->local_hour < 0 || r->local_hour > 23 ||
        r->local_dow < 0 || r->local_dow > 6 || !isfinite(r->lat) ||
        !isfinite(r->lon)) {
        velo_warn("db.row_invalid", VELO_S("system_id", r->system_id),
                  VELO_S("station_id", r->station_id),
                  VELO_S("cause", "granularity, date, hour or position"));
        return VELO_EINVAL;
    }
    return VELO_OK;
}

static int
cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Station key, then window, then granularity, then arrival. */
static int
by_station(const void *pa, const void *pb)
{
    const struct ent *a = pa, *b = pb;
    int               c;

    c = strcmp(a->r->system_id, b->r->system_id);
    if (c == 0)
        c = strcmp(a->r->station_id, b->r->station_id);
    if (c == 0)
        c = cmp_i64(a->r->window_start_ms, b->r->window_start_ms);
    if (c == 0)
        c = (int)a->r->gran - (int)b->r->gran;
    if (c == 0)
        c = a->idx < b->idx ? -1 : a->idx > b->idx;
    return c;
}

static bool
same_key(const struct ent *a, const struct ent *b)
{
    return a->r->gran == b->r->gran &&
           a->r->window_start_ms == b->r->window_start_ms &&
           strcmp(a->r->system_id, b->r->system_id) == 0 &&
           strcmp(a->r->station_id, b->r->station_id) == 0;
}

/* Keeps the last row of each key; v is sorted by_station. */
static size_t
dedupe(struct ent *v, size_t n)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (i + 1 < n && same_key(&v[i], &v[i + 1]))
            continue;
        v[k++] = v[i];
    }
    return k;
}

/* dim_time: the first hour row of each (system, hour), by a scan over a
 * second ordering. Hourly rows come before daily rows of the same start
 * (a local day starts on an hour): else a daily row between two hourly
 * ones flagged the hour twice. */
static int
by_system_hour(const void *pa, const void *pb)
{
    const struct ent *a = pa, *b = pb;
    int               c;

    c = strcmp(a->r->system_id, b->r->system_id);
    if (c == 0)
        c = cmp_i64(a->r->window_start_ms, b->r->window_start_ms);
    if (c == 0)
        c = (int)a->r->gran - (int)b->r->gran;
    if (c == 0)
        c = a->idx < b->idx ? -1 : a->idx > b->idx;
    return c;
}

static bool
same_dims(const struct velo_db_row *a, const struct velo_db_row *b)
{
    return a->lat == b->lat && a->lon == b->lon &&
           a->station_capacity == b->station_capacity &&
           strcmp(a->station_name, b->station_name) == 0;
}

static bool
same_station(const struct ent *a, const struct ent *b)
{
    return strcmp(a->r->system_id, b->r->system_id) == 0 &&
           strcmp(a->r->station_id, b->r->station_id) == 0;
}

/* v is sorted by station then window: the last row of a station is its
 * latest. Its dimension version starts at the first row of the trailing
 * run that carries the same values. */
static void
set_station_flags(struct db_batch *b, struct ent *v, size_t n)
{
    size_t i, k;

    for (i = 0; i < n; i++) {
        v[i].idx = i; /* from here on: position in b->rows */
        b->rows[i] = v[i].r;
        b->flags[i] = 0;
        b->dim_from[i] = 0;
        if (i + 1 < n && same_station(&v[i], &v[i + 1]))
            continue;
        b->flags[i] |= DB_F_STATION;
        for (k = i; k > 0 && same_station(&v[k - 1], &v[i]) &&
                    same_dims(v[k - 1].r, v[i].r);
             k--)
            ;
        b->dim_from[i] = v[k].r->window_start_ms;
    }
}

/* dim_time takes the first hour row of each (system, hour); dim_system the
 * last row of each system. */
static void
set_flags(struct db_batch *b, struct ent *v, size_t n)
{
    size_t i;

    set_station_flags(b, v, n);
    qsort(v, n, sizeof(*v), by_system_hour);
    for (i = 0; i < n; i++) {
        if (v[i].r->gran == VELO_DB_HOUR &&
            (i == 0 || strcmp(v[i - 1].r->system_id, v[i].r->system_id) ||
             v[i - 1].r->window_start_ms != v[i].r->window_start_ms ||
             v[i - 1].r->gran != VELO_DB_HOUR))
            b->flags[v[i].idx] |= DB_F_TIME;
        if (i + 1 == n || strcmp(v[i].r->system_id, v[i + 1].r->system_id))
            b->flags[v[i].idx] |= DB_F_SYSTEM;
    }
}

int
db_batch_prepare(struct db_batch *b, const struct velo_db_row *rows, size_t n)
{
    struct ent *v;
    size_t      i;
    int         rv;

    if (n > VELO_DB_BATCH_MAX)
        return VELO_ETOOBIG;
    for (i = 0; i < n; i++) {
        rv = row_ok(&rows[i]);
        if (rv != VELO_OK)
            return rv;
    }
    memset(b, 0, sizeof(*b));
    v = calloc(n ? n : 1, sizeof(*v));
    b->rows = calloc(n ? n : 1, sizeof(*b->rows));
    b->flags = calloc(n ? n : 1, 1);
    b->dim_from = calloc(n ? n : 1, sizeof(*b->dim_from));
    if (v == NULL || b->rows == NULL || b->flags == NULL ||
        b->dim_from == NULL) {
        free(v);
        db_batch_fini(b);
        return VELO_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        v[i].r = &rows[i];
        v[i].idx = i;
    }
    qsort(v, n, sizeof(*v), by_station);
    b->n = dedupe(v, n);
    set_flags(b, v, b->n);
    free(v);
    return VELO_OK;
}

uint32_t
db_batch_runs(const struct db_batch *b, uint32_t *run)
{
    uint32_t max = 0;
    size_t   i;

    for (i = 0; i < b->n; i++) {
        const struct velo_db_row *p = i > 0 ? b->rows[i - 1] : NULL;
        const struct velo_db_row *r = b->rows[i];

        run[i] = 0;
        if (p != NULL && strcmp(p->system_id, r->system_id) == 0 &&
            strcmp(p->station_id, r->station_id) == 0)
            run[i] = run[i - 1] + (same_dims(p, r) ? 0 : 1);
        if (run[i] > max)
            max = run[i];
    }
    return max;
}

void
db_batch_fini(struct db_batch *b)
{
    free(b->rows);
    free(b->flags);
    free(b->dim_from);
    memset(b, 0, sizeof(*b));
}

static int
num(const char *s, double *out)
{
    return s != NULL && velo_parse_double(s, out) == VELO_OK ? VELO_OK
                                                             : VELO_EPROTO;
}

static int
inum(const char *s, int64_t *out)
{
    double d;

    /* Some drivers render integer columns as "12.0" after arithmetic. */
    if (s != NULL && velo_parse_i64(s, out) == VELO_OK)
        return VELO_OK;
    if (num(s, &d) != VELO_OK)
        return VELO_EPROTO;
    *out = (int64_t)d;
    return VELO_OK;
}

int
db_row_from_text(struct velo_db_row *row, enum velo_db_gran gran,
                 const char *const *v, const char *local_date)
{
    struct velo_db_row r;
    int64_t            flow, cap;
    int                rv = VELO_OK;

    memset(&r, 0, sizeof(r));
    r.gran = gran;
    r.system_id = v[0];
    r.station_id = v[1];
    r.status = v[15] != NULL ? v[15] : "";
    r.local_date = local_date;
    r.has_electric_avg = v[17] != NULL;
    rv |= inum(v[2], &r.window_start_ms);
    rv |= inum(v[3], &r.samples);
    rv |= num(v[4], &r.bikes_avg) | num(v[5], &r.bikes_min);
    rv |= num(v[6], &r.bikes_max) | num(v[7], &r.docks_avg);
    rv |= num(v[8], &r.docks_min) | num(v[9], &r.docks_max);
    rv |= num(v[10], &r.minutes_empty) | num(v[11], &r.minutes_full);
    rv |= inum(v[12], &r.bikes_in) | inum(v[13], &r.bikes_out);
    rv |= inum(v[14], &flow) | inum(v[16], &cap);
    if (r.has_electric_avg)
        rv |= num(v[17], &r.electric_avg);
    if (rv != VELO_OK || v[0] == NULL || v[1] == NULL)
        return VELO_EPROTO;
    r.flow_reliable = flow != 0;
    r.capacity = (int32_t)cap;
    *row = r;
    return VELO_OK;
}
