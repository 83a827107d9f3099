/* batch.c: the normalised stations of one poll, and the invariants every
 * emitted snapshot must hold. See batch.h for the ownership rules. */
#include "batch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_NONFATAL_OOM 1 /* a failed add leaves hh.tbl NULL */
#include <uthash.h>

/* The largest count (capacity, bikes, docks, ...) a real station can have.
 * The biggest docking stations hold a few hundred bikes; anything far past
 * that is a corrupt record, not a station. */
#define SNAPSHOT_MAX_COUNT 100000u

/* uthash: the id set is per payload and may hold 100000 ids, so lookups
 * must not be linear. */
struct ingest_batch_id {
    UT_hash_handle hh;
    char           id[]; /* NUL-terminated key */
};

int
ingest_batch_claim_id(struct ingest_batch *b, const char *id, bool *dup)
{
    struct ingest_batch_id *e = NULL;
    size_t                  n = strlen(id);

    HASH_FIND(hh, b->ids, id, n, e);
    if (e != NULL) {
        *dup = true;
        return VELO_OK;
    }
    e = malloc(sizeof(*e) + n + 1);
    if (e == NULL)
        return VELO_ENOMEM;
    memcpy(e->id, id, n + 1);
    HASH_ADD_KEYPTR(hh, b->ids, e->id, n, e);
    if (e->hh.tbl == NULL) {
        free(e);
        return VELO_ENOMEM;
    }
    *dup = false;
    return VELO_OK;
}

static void
ids_free(struct ingest_batch *b)
{
    struct ingest_batch_id *e, *tmp;

    HASH_ITER(hh, b->ids, e, tmp)
    {
        HASH_DEL(b->ids, e);
        free(e);
    }
}

void
ingest_batch_init(struct ingest_batch *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

/* Grows an array of elem-sized slots so that one more fits. */
static int
batch_grow(void **arr, size_t *cap, size_t len, size_t elem)
{
    size_t ncap;
    void  *p;

    if (len < *cap)
        return VELO_OK;
    ncap = *cap ? *cap * 2 : 64;
    if (ncap > SIZE_MAX / elem)
        return VELO_ENOMEM;
    p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return VELO_ENOMEM;
    *arr = p;
    *cap = ncap;
    return VELO_OK;
}

int
ingest_batch_add(struct ingest_batch *b, Velo__V1__StationSnapshot **out)
{
    void *items = b->items;
    int   rv;

    if (b->len + b->nrejects >= b->max)
        return VELO_ETOOBIG;
    rv = batch_grow(&items, &b->cap, b->len, sizeof(*b->items));
    b->items = items;
    if (rv != VELO_OK)
        return rv;
    velo__v1__station_snapshot__init(&b->items[b->len]);
    *out = &b->items[b->len++];
    return VELO_OK;
}

/* Frees the strings an item owns (the batch strdup'd every one of them). */
static void
snapshot_strings_free(Velo__V1__StationSnapshot *s)
{
    free(s->system_id);
    free(s->station_id);
    free(s->name);
    free(s->address);
    free(s->source_format);
}

void
ingest_batch_pop(struct ingest_batch *b)
{
    if (b->len == 0)
        return;
    b->len--;
    snapshot_strings_free(&b->items[b->len]);
}

int
ingest_batch_reject(struct ingest_batch *b, const char *raw, size_t len,
                    const char *station_id, const char *reason)
{
    struct ingest_reject *r;
    void                 *rejects = b->rejects;
    char                 *copy = NULL;
    int                   rv;

    if (b->len + b->nrejects >= b->max)
        return VELO_ETOOBIG;
    rv = batch_grow(&rejects, &b->rejcap, b->nrejects, sizeof(*b->rejects));
    b->rejects = rejects;
    if (rv != VELO_OK)
        return rv;
    if (raw != NULL) {
        copy = malloc(len + 1);
        if (copy == NULL)
            return VELO_ENOMEM;
        memcpy(copy, raw, len);
        copy[len] = '\0';
    }
    r = &b->rejects[b->nrejects++];
    r->raw = copy;
    r->len = copy != NULL ? len : 0;
    snprintf(r->station_id, sizeof(r->station_id), "%s",
             station_id != NULL ? station_id : "");
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
    return VELO_OK;
}

char *
ingest_batch_strdup(struct ingest_batch *b, const char *s)
{
    char *copy;

    (void)b; /* kept in the signature so an arena can replace strdup */
    if (s == NULL)
        return NULL;
    copy = strdup(s);
    if (copy == NULL)
        abort(); /* STYLE §6: bounded bookkeeping, as velo_xmalloc */
    return copy;
}

void
ingest_batch_fini(struct ingest_batch *b)
{
    size_t i, max = b->max;

    for (i = 0; i < b->len; i++)
        snapshot_strings_free(&b->items[i]);
    for (i = 0; i < b->nrejects; i++)
        free(b->rejects[i].raw);
    free(b->items);
    free(b->rejects);
    ids_free(b);
    /* Keep max so the batch can be filled again after an error. */
    ingest_batch_init(b, max);
}

/* Writes "<field>: above 100000" when a sent count is implausible. */
static bool
count_too_big(protobuf_c_boolean has, uint32_t v, const char *field, char *why,
              size_t why_size)
{
    if (!has || v <= SNAPSHOT_MAX_COUNT)
        return false;
    snprintf(why, why_size, "%s: %u is above %u", field, v, SNAPSHOT_MAX_COUNT);
    return true;
}

static bool
counts_invalid(const Velo__V1__StationSnapshot *s, char *why, size_t n)
{
    uint64_t split;

    if (count_too_big(s->has_capacity, s->capacity, "capacity", why, n) ||
        count_too_big(s->has_bikes_available, s->bikes_available,
                      "bikes_available", why, n) ||
        count_too_big(s->has_docks_available, s->docks_available,
                      "docks_available", why, n) ||
        count_too_big(s->has_mechanical_bikes, s->mechanical_bikes,
                      "mechanical_bikes", why, n) ||
        count_too_big(s->has_electric_bikes, s->electric_bikes,
                      "electric_bikes", why, n) ||
        count_too_big(s->has_docks_disabled, s->docks_disabled,
                      "docks_disabled", why, n) ||
        count_too_big(s->has_bikes_disabled, s->bikes_disabled,
                      "bikes_disabled", why, n))
        return true;
    if (s->has_mechanical_bikes && s->has_electric_bikes &&
        s->has_bikes_available) {
        split = (uint64_t)s->mechanical_bikes + s->electric_bikes;
        if (split > s->bikes_available) {
            snprintf(why, n,
                     "mechanical_bikes + electric_bikes: %llu is above "
                     "bikes_available %u",
                     (unsigned long long)split, s->bikes_available);
            return true;
        }
    }
    return false;
}

static bool
position_invalid(const Velo__V1__StationSnapshot *s, char *why, size_t n)
{
    /* Written as !(in range) so that NaN fails too. */
    if (s->has_lat && !(s->lat >= -90.0 && s->lat <= 90.0)) {
        snprintf(why, n, "lat: %g is out of range", s->lat);
        return true;
    }
    if (s->has_lon && !(s->lon >= -180.0 && s->lon <= 180.0)) {
        snprintf(why, n, "lon: %g is out of range", s->lon);
        return true;
    }
    /* 0,0 ("null island") is what broken sources send for "unknown". */
    if (s->has_lat && s->has_lon && s->lat == 0.0 && s->lon == 0.0) {
        snprintf(why, n, "position: 0,0 is not a station position");
        return true;
    }
    return false;
}

int
ingest_snapshot_validate(const Velo__V1__StationSnapshot *s, char *why,
                         size_t why_size)
{
    if (s->system_id == NULL || s->system_id[0] == '\0') {
        snprintf(why, why_size, "system_id: missing");
        return VELO_EPROTO;
    }
    if (s->station_id == NULL || s->station_id[0] == '\0') {
        snprintf(why, why_size, "station_id: missing");
        return VELO_EPROTO;
    }
    if (position_invalid(s, why, why_size) || counts_invalid(s, why, why_size))
        return VELO_EPROTO;
    return VELO_OK;
}
