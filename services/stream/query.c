/* query.c: ListStations filters, order and paging (see query.h). */
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A match of a near query: its distance and its rank in key order, so
 * equal distances keep a stable order across pages. */
struct near_hit {
    double                     d;
    size_t                     rank;
    const struct stream_entry *e;
};

double
stream_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371008.8, rad = M_PI / 180.0;
    double       a = sin((lat2 - lat1) * rad / 2);
    double       b = sin((lon2 - lon1) * rad / 2);
    double       h = a * a + cos(lat1 * rad) * cos(lat2 * rad) * b * b;

    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* NaN fails both comparisons, so it is out of range too. */
static bool
lat_ok(double v)
{
    return v >= -90.0 && v <= 90.0;
}

static bool
lon_ok(double v)
{
    return v >= -180.0 && v <= 180.0;
}

static int
parse_near(struct stream_query *q, const Velo__V1__ListStationsRequest *rq,
           char *err, size_t size)
{
    if (rq->has_near_lat != rq->has_near_lon)
        return velo_errf(VELO_EINVAL, err, size,
                         "near_lat and near_lon go together");
    if (rq->has_radius_m && !rq->has_near_lat)
        return velo_errf(VELO_EINVAL, err, size,
                         "radius_m needs near_lat and near_lon");
    if (!rq->has_near_lat)
        return VELO_OK;
    if (!lat_ok(rq->near_lat) || !lon_ok(rq->near_lon))
        return velo_errf(
            VELO_EINVAL, err, size,
            "near point out of range (lat -90..90, lon -180..180)");
    q->near = true;
    q->near_lat = rq->near_lat;
    q->near_lon = rq->near_lon;
    q->has_radius = rq->has_radius_m;
    q->radius_m = rq->radius_m;
    return VELO_OK;
}

static int
parse_bbox(struct stream_query *q, const Velo__V1__ListStationsRequest *rq,
           char *err, size_t size)
{
    int given =
        rq->has_min_lat + rq->has_min_lon + rq->has_max_lat + rq->has_max_lon;

    if (given == 0)
        return VELO_OK;
    if (given != 4)
        return velo_errf(VELO_EINVAL, err, size,
                         "a bounding box needs min_lat, min_lon, max_lat and "
                         "max_lon");
    if (!lat_ok(rq->min_lat) || !lat_ok(rq->max_lat) || !lon_ok(rq->min_lon) ||
        !lon_ok(rq->max_lon))
        return velo_errf(
            VELO_EINVAL, err, size,
            "bounding box out of range (lat -90..90, lon -180..180)");
    if (rq->min_lat > rq->max_lat)
        return velo_errf(VELO_EINVAL, err, size, "min_lat is over max_lat");
    q->bbox = true;
    q->min_lat = rq->min_lat;
    q->min_lon = rq->min_lon;
    q->max_lat = rq->max_lat;
    q->max_lon = rq->max_lon;
    return VELO_OK;
}

/* A cursor this query could have written: the distance when near (and
 * only then), system_id and station_id. Called after parse_near. */
static int
parse_cursor(struct stream_query *q, const char *text, char *err, size_t size)
{
    struct velo_cursor c;

    if (velo_cursor_decode(&c, text, q->cursor_buf) != VELO_OK ||
        c.nparts != 2 || c.has_num != q->near)
        return velo_errf(VELO_EINVAL, err, size, "bad cursor");
    q->has_after = true;
    q->after_dist = c.num;
    q->after_sys = c.parts[0];
    q->after_st = c.parts[1];
    return VELO_OK;
}

static int
parse_page(struct stream_query *q, const Velo__V1__ListStationsRequest *rq,
           char *err, size_t size)
{
    q->limit =
        rq->has_limit && rq->limit > 0 ? rq->limit : STREAM_LIMIT_DEFAULT;
    if (q->limit > STREAM_LIMIT_MAX)
        return velo_errf(VELO_EINVAL, err, size, "limit is over %u",
                         STREAM_LIMIT_MAX);
    if (rq->cursor != NULL && rq->cursor[0] != '\0')
        return parse_cursor(q, rq->cursor, err, size);
    return VELO_OK;
}

int
stream_query_parse(struct stream_query                 *q,
                   const Velo__V1__ListStationsRequest *rq, char *err,
                   size_t err_size)
{
    int rv;

    memset(q, 0, sizeof(*q));
    rv = parse_near(q, rq, err, err_size);
    if (rv == VELO_OK)
        rv = parse_bbox(q, rq, err, err_size);
    if (rv == VELO_OK)
        rv = parse_page(q, rq, err, err_size);
    if (rv != VELO_OK)
        return rv;
    if (rq->q != NULL && strlen(rq->q) > STREAM_QUERY_TEXT_MAX)
        return velo_errf(VELO_EINVAL, err, err_size,
                         "q is longer than %u bytes", STREAM_QUERY_TEXT_MAX);
    /* Empty strings mean "not given", as an empty form field does. */
    q->system_id = rq->system_id && rq->system_id[0] ? rq->system_id : NULL;
    q->text = rq->q && rq->q[0] ? rq->q : NULL;
    q->has_min_bikes = rq->has_min_bikes;
    q->min_bikes = rq->min_bikes;
    q->has_min_docks = rq->has_min_docks;
    q->min_docks = rq->min_docks;
    q->has_status = rq->has_status;
    q->status = (int)rq->status;
    return VELO_OK;
}

static bool
in_bbox(const struct stream_query *q, double lat, double lon)
{
    if (lat < q->min_lat || lat > q->max_lat)
        return false;
    if (q->min_lon <= q->max_lon)
        return lon >= q->min_lon && lon <= q->max_lon;
    return lon >= q->min_lon || lon <= q->max_lon; /* across 180 degrees */
}

/* Every filter but the radius (which needs the distance). */
static bool
query_match(const struct stream_query *q, const Velo__V1__StationSnapshot *s)
{
    bool located = s->has_lat && s->has_lon;

    if (q->system_id != NULL && strcmp(s->system_id, q->system_id) != 0)
        return false;
    if ((q->near || q->bbox) && !located)
        return false;
    if (q->bbox && !in_bbox(q, s->lat, s->lon))
        return false;
    if (q->has_min_bikes &&
        (!s->has_bikes_available || s->bikes_available < q->min_bikes))
        return false;
    if (q->has_min_docks &&
        (!s->has_docks_available || s->docks_available < q->min_docks))
        return false;
    if (q->has_status && (int)s->status != q->status)
        return false;
    if (q->text != NULL &&
        (s->name == NULL || strcasestr(s->name, q->text) == NULL))
        return false;
    return true;
}

/* True when the row (dist, e) sorts after the cursor's key. */
static bool
after_cursor(const struct stream_query *q, double dist,
             const struct stream_entry *e)
{
    if (!q->has_after)
        return true;
    if (q->near && dist != q->after_dist)
        return dist > q->after_dist;
    return stream_key_cmp(e->snap->system_id, e->snap->station_id, q->after_sys,
                          q->after_st) > 0;
}

static int
near_cmp(const void *a, const void *b)
{
    const struct near_hit *x = a, *y = b;

    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Fills the page from the sorted matches all[0..m): those after the
 * cursor, up to limit. */
static void
near_page(const struct stream_query *q, const struct near_hit *all, size_t m,
          struct stream_query_hit *hits, struct stream_query_page *page)
{
    size_t i = 0, k = 0;

    while (i < m && !after_cursor(q, all[i].d, all[i].e))
        i++;
    for (; k < q->limit && i < m; i++, k++) {
        hits[k].e = all[i].e;
        hits[k].dist_m = all[i].d;
    }
    page->n = k;
    page->total = (uint32_t)m;
    page->has_next = i < m;
}

static int
run_near(const stream_state *st, const struct stream_query *q,
         struct stream_query_hit *hits, struct stream_query_page *page)
{
    size_t           n = stream_state_count(st), i, m = 0;
    struct near_hit *all = malloc((n > 0 ? n : 1) * sizeof(*all));
    const Velo__V1__StationSnapshot *s;

    if (all == NULL)
        return VELO_ENOMEM;
    for (i = 0; i < n; i++) {
        all[m].e = stream_state_at(st, i);
        s = all[m].e->snap;
        if (!query_match(q, s))
            continue;
        all[m].d = stream_distance_m(q->near_lat, q->near_lon, s->lat, s->lon);
        all[m].rank = i; /* the index is in key order: ties by key */
        if (!q->has_radius || all[m].d <= q->radius_m)
            m++;
    }
    qsort(all, m, sizeof(*all), near_cmp);
    near_page(q, all, m, hits, page);
    free(all);
    return VELO_OK;
}

int
stream_query_run(const stream_state *st, const struct stream_query *q,
                 struct stream_query_hit *hits, struct stream_query_page *page)
{
    const struct stream_entry *e;
    size_t                     n = stream_state_count(st), i, k = 0;
    uint32_t                   total = 0;
    bool                       more = false;

    if (q->near)
        return run_near(st, q, hits, page);
    /* The index is already in answer order: one pass counts every match
     * and keeps the page's. */
    for (i = 0; i < n; i++) {
        e = stream_state_at(st, i);
        if (!query_match(q, e->snap))
            continue;
        total++;
        if (!after_cursor(q, 0, e))
            continue;
        if (k < q->limit) {
            hits[k].e = e;
            hits[k].dist_m = 0;
            k++;
        } else {
            more = true;
        }
    }
    page->n = k;
    page->total = total;
    page->has_next = more;
    return VELO_OK;
}

int
stream_query_cursor(const struct stream_query     *q,
                    const struct stream_query_hit *last, char *out, size_t size)
{
    const struct velo_cursor c = {
        .has_num = q->near,
        .num = q->near ? last->dist_m : 0,
        .nparts = 2,
        .parts = {last->e->snap->system_id, last->e->snap->station_id},
    };

    return velo_cursor_encode(&c, out, size);
}
