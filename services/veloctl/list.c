/* list.c: `veloctl stations` (see list.h). The replies of every page are
 * kept until the output is written, because a table's column widths
 * depend on every row; the stations are then viewed through one array of
 * pointers, with a parallel array of distances. */
#include "list.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "jsondoc.h"

/* Every page's reply, owned, plus the flattened view over them. */
struct pages {
    Velo__V1__ListStationsReply **r;
    size_t                        n, cap;
    Velo__V1__StationState      **sts; /* borrowed from r[] */
    double                       *dist;
    size_t                        nsts;
};

void
veloctl_list_request(Velo__V1__ListStationsRequest *rq,
                     const struct veloctl_args     *a)
{
    velo__v1__list_stations_request__init(rq);
    rq->system_id = (char *)a->system;
    rq->has_near_lat = rq->has_near_lon = a->has_near;
    rq->near_lat = a->near_lat;
    rq->near_lon = a->near_lon;
    rq->has_radius_m = a->has_radius;
    rq->radius_m = a->radius_m;
    rq->has_min_bikes = a->has_min_bikes;
    rq->min_bikes = a->min_bikes;
    rq->has_min_docks = a->has_min_docks;
    rq->min_docks = a->min_docks;
    rq->has_status = a->has_status;
    rq->status = a->status;
    rq->q = (char *)a->q;
    rq->cursor = (char *)a->cursor;
    rq->has_limit = a->has_limit || a->all;
    rq->limit = a->has_limit ? a->limit : VELOCTL_ALL_PAGE;
}

static void
pages_fini(struct pages *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        velo__v1__list_stations_reply__free_unpacked(p->r[i], NULL);
    free(p->r);
    free(p->sts);
    free(p->dist);
}

static int
pages_add(struct pages *p, Velo__V1__ListStationsReply *r)
{
    Velo__V1__ListStationsReply **grown;
    size_t                        cap;

    if (p->n == p->cap) {
        cap = p->cap ? p->cap * 2 : 8;
        grown = realloc(p->r, cap * sizeof(*grown));
        if (grown == NULL)
            return VELO_ENOMEM;
        p->r = grown;
        p->cap = cap;
    }
    p->r[p->n++] = r;
    p->nsts += r->n_stations;
    return VELO_OK;
}

/* Builds sts[] and dist[] over every page. A page whose distance_m does
 * not match its stations one for one gets no distances (NaN). */
static int
pages_flatten(struct pages *p)
{
    const Velo__V1__ListStationsReply *r;
    size_t                             i, j, k = 0;

    p->sts = calloc(p->nsts ? p->nsts : 1, sizeof(*p->sts));
    p->dist = calloc(p->nsts ? p->nsts : 1, sizeof(*p->dist));
    if (p->sts == NULL || p->dist == NULL)
        return VELO_ENOMEM;
    for (i = 0; i < p->n; i++) {
        r = p->r[i];
        for (j = 0; j < r->n_stations; j++, k++) {
            p->sts[k] = r->stations[j];
            p->dist[k] =
                r->n_distance_m == r->n_stations ? r->distance_m[j] : NAN;
        }
    }
    return VELO_OK;
}

/* Fetches the first page, and with --all every next one. */
static int
pages_fetch(struct veloctl_ctx *x, struct pages *p)
{
    Velo__V1__ListStationsRequest rq;
    Velo__V1__ListStationsReply  *r;
    const char                   *prev;
    char                          nf[300];
    int                           ex;

    veloctl_list_request(&rq, x->a);
    prev = rq.cursor;
    /* velo-stream answers NOT_FOUND for a system it does not hold: exit 1,
     * not an empty "no stations match". */
    snprintf(nf, sizeof(nf), "unknown system %.256s",
             x->a->system != NULL ? x->a->system : "");
    for (;;) {
        r = NULL;
        ex = veloctl_call(x, "ListStations", &rq.base, (ProtobufCMessage **)&r,
                          x->a->system != NULL ? nf : NULL);
        if (ex != VELOCTL_EXIT_OK)
            return ex;
        if (pages_add(p, r) != VELO_OK) {
            velo__v1__list_stations_reply__free_unpacked(r, NULL);
            return veloctl_out_fail(x, VELO_ENOMEM);
        }
        if (!x->a->all || r->next_cursor == NULL)
            return VELOCTL_EXIT_OK;
        if (prev != NULL && strcmp(prev, r->next_cursor) == 0) {
            veloctl_errorf(x, "velo-stream returned the same cursor twice");
            return VELOCTL_EXIT_ERROR;
        }
        if (p->n >= VELOCTL_MAX_PAGES || p->nsts >= VELOCTL_MAX_STATIONS) {
            veloctl_errorf(x, "stopped after %zu stations in %zu pages",
                           p->nsts, p->n);
            return VELOCTL_EXIT_ERROR;
        }
        /* The cursor lives in r, which pages keeps until the end. */
        prev = rq.cursor = r->next_cursor;
    }
}

/* "12 stations", "100 of 1234 stations; --all for every page". */
static int
footer_put(struct velo_buf *b, const struct pages *p,
           const Velo__V1__ListStationsReply *last)
{
    if (p->nsts == 0)
        return velo_buf_puts(b, "no stations match\n");
    if (last->next_cursor != NULL && last->has_total)
        return velo_buf_printf(b, "%zu of %u stations; --all for every page\n",
                               p->nsts, (unsigned)last->total);
    if (last->next_cursor != NULL)
        return velo_buf_printf(b, "%zu stations; --all for every page\n",
                               p->nsts);
    return velo_buf_printf(b, "%zu station%s\n", p->nsts,
                           p->nsts == 1 ? "" : "s");
}

static int
pages_render(struct veloctl_ctx *x, const struct pages *p, struct velo_buf *b)
{
    const Velo__V1__ListStationsReply *last = p->r[p->n - 1];
    const double                      *dist = x->a->has_near ? p->dist : NULL;
    int                                rv = VELO_OK;

    if (x->a->json)
        return veloctl_jsondoc_stations(b, p->sts, dist, p->nsts,
                                        last->has_total, last->total,
                                        last->next_cursor);
    if (p->nsts > 0)
        rv = veloctl_fmt_stations(b, p->sts, dist, p->nsts);
    return rv == VELO_OK ? footer_put(b, p, last) : rv;
}

int
veloctl_list_run(struct veloctl_ctx *x)
{
    struct pages    p = {0};
    struct velo_buf b;
    int             ex, rv;

    velo_buf_init(&b, VELOCTL_OUT_MAX);
    ex = pages_fetch(x, &p);
    if (ex == VELOCTL_EXIT_OK) {
        rv = pages_flatten(&p);
        if (rv == VELO_OK)
            rv = pages_render(x, &p, &b);
        ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
    }
    velo_buf_fini(&b);
    pages_fini(&p);
    return ex;
}
