/* gbfs_static.c: GBFS station_information and vehicle_types, kept between
 * polls in an ingest_gbfs_static and read by gbfs_status.c.
 *
 * station_information is read leniently: a field of the wrong type there
 * is left unknown (and an entry without an id skipped) rather than
 * blocking that station's live counts on every poll; station_status, which
 * carries the counts, is the strict one. 3.x writes `name` as a localized
 * array [{text, language}], 1.x/2.x as a string: both are read. */
#include "gbfs_static.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload_json.h"
#include "velo/json.h"

struct gbfs_vtype {
    char                 *id;
    enum ingest_gbfs_prop prop;
};

/* Both tables sorted by id for bsearch. One poller owns it: info_parse and
 * vtypes_parse replace a table, status_parse only reads. */
struct ingest_gbfs_static {
    struct ingest_gbfs_info *info;
    size_t                   ninfo;
    struct gbfs_vtype       *vtypes;
    size_t                   nvtypes;
    bool                     have_vtypes; /* vehicle_types was parsed */
};

/* Both tables are sorted by their first member, `char *id`, so one pair
 * of comparators serves both (a pointer to a struct also points to its
 * first member). */
_Static_assert(offsetof(struct ingest_gbfs_info, id) == 0, "id comes first");
_Static_assert(offsetof(struct gbfs_vtype, id) == 0, "id comes first");

static int
id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
id_key_cmp(const void *key, const void *e)
{
    return strcmp(key, *(char *const *)e);
}

static void
info_free(struct ingest_gbfs_info *tab, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(tab[i].id);
        free(tab[i].name);
        free(tab[i].address);
    }
    free(tab);
}

static void
vtypes_free(struct gbfs_vtype *tab, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(tab[i].id);
    free(tab);
}

int
ingest_gbfs_static_new(ingest_gbfs_static **out)
{
    ingest_gbfs_static *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return VELO_ENOMEM;
    *out = st;
    return VELO_OK;
}

void
ingest_gbfs_static_free(ingest_gbfs_static *st)
{
    if (st == NULL)
        return;
    info_free(st->info, st->ninfo);
    vtypes_free(st->vtypes, st->nvtypes);
    free(st);
}

int
ingest_gbfs_open(const char *body, size_t len, const char *feed,
                 const char *key, cJSON **root, const cJSON **list, char *err,
                 size_t err_size)
{
    const cJSON *data, *arr;
    cJSON       *r = NULL;

    if (ingest_payload_json_parse(body, len, &r) != VELO_OK) {
        snprintf(err, err_size, "%s: malformed or truncated JSON", feed);
        return VELO_EPROTO;
    }
    /* Each level is checked before it is searched: only objects have
     * named members. */
    data =
        cJSON_IsObject(r) ? cJSON_GetObjectItemCaseSensitive(r, "data") : NULL;
    arr = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, key)
                               : NULL;
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_size, "%s: no data.%s array", feed, key);
        cJSON_Delete(r);
        return VELO_EPROTO;
    }
    *root = r;
    *list = arr;
    return VELO_OK;
}

/* A plain string (1.x/2.x) or a localized array [{text, language}] (3.x):
 * the text in lang, else the first one. NULL when absent or malformed. */
static const char *
gbfs_text(const cJSON *o, const char *key, const char *lang)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key), *e;
    const char  *first = NULL, *text, *l;

    if (cJSON_IsString(it))
        return it->valuestring;
    if (!cJSON_IsArray(it))
        return NULL;
    cJSON_ArrayForEach(e, it)
    {
        if (velo_json_str(e, "text", &text) != VELO_OK)
            continue;
        if (first == NULL)
            first = text;
        if (lang != NULL && velo_json_str(e, "language", &l) == VELO_OK &&
            strcmp(l, lang) == 0)
            return text;
    }
    return first;
}

/* strdup that tolerates NULL and reports failure through *oom. */
static char *
dup_or_null(const char *s, bool *oom)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

/* One station_information entry. VELO_EPROTO: no usable id, skip it. */
static int
info_entry(struct ingest_gbfs_info *in, const cJSON *el, const char *lang)
{
    char id[INGEST_GBFS_ID_MAX];
    bool oom = false;

    if (velo_json_id(el, "station_id", id, sizeof(id)) != VELO_OK ||
        id[0] == '\0')
        return VELO_EPROTO;
    in->id = dup_or_null(id, &oom);
    in->name = dup_or_null(gbfs_text(el, "name", lang), &oom);
    in->address = dup_or_null(gbfs_text(el, "address", lang), &oom);
    if (oom) {
        free(in->id);
        free(in->name);
        free(in->address);
        memset(in, 0, sizeof(*in));
        return VELO_ENOMEM;
    }
    in->has_lat = velo_json_dbl(el, "lat", &in->lat) == VELO_OK;
    in->has_lon = velo_json_dbl(el, "lon", &in->lon) == VELO_OK;
    in->has_capacity = velo_json_u32(el, "capacity", &in->capacity) == VELO_OK;
    return VELO_OK;
}

int
ingest_gbfs_info_parse(ingest_gbfs_static *st, const char *body, size_t len,
                       const char *lang, char *err, size_t err_size)
{
    struct ingest_gbfs_info *tab = NULL;
    const cJSON             *list, *el;
    cJSON                   *root = NULL;
    size_t                   n = 0;
    int                      rv;

    rv = ingest_gbfs_open(body, len, "station_information", "stations", &root,
                          &list, err, err_size);
    if (rv != VELO_OK)
        return rv;
    /* +1: calloc(0) may return NULL, which is not out of memory. */
    tab = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*tab));
    if (tab == NULL) {
        rv = VELO_ENOMEM;
        goto done;
    }
    cJSON_ArrayForEach(el, list)
    {
        rv = info_entry(&tab[n], el, lang);
        if (rv == VELO_ENOMEM)
            goto done;
        if (rv == VELO_OK)
            n++;
    }
    /* With duplicate ids, lookups find one of them (unspecified). */
    rv = VELO_OK;
    qsort(tab, n, sizeof(*tab), id_cmp);
    info_free(st->info, st->ninfo);
    st->info = tab;
    st->ninfo = n;
    tab = NULL;
    n = 0;
done:
    if (rv == VELO_ENOMEM)
        snprintf(err, err_size, "station_information: out of memory");
    info_free(tab, n);
    cJSON_Delete(root);
    return rv;
}

static enum ingest_gbfs_prop
vtype_prop(const char *propulsion)
{
    if (strcmp(propulsion, "human") == 0)
        return INGEST_GBFS_PROP_HUMAN;
    if (strcmp(propulsion, "electric_assist") == 0 ||
        strcmp(propulsion, "electric") == 0)
        return INGEST_GBFS_PROP_ELECTRIC;
    return INGEST_GBFS_PROP_OTHER; /* combustion, hydrogen, ...: not bikes */
}

int
ingest_gbfs_vtypes_parse(ingest_gbfs_static *st, const char *body, size_t len,
                         char *err, size_t err_size)
{
    struct gbfs_vtype *tab;
    const cJSON       *list, *el;
    cJSON             *root = NULL;
    const char        *prop;
    char               id[INGEST_GBFS_ID_MAX];
    size_t             n = 0;
    int                rv;

    rv = ingest_gbfs_open(body, len, "vehicle_types", "vehicle_types", &root,
                          &list, err, err_size);
    if (rv != VELO_OK)
        return rv;
    tab = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*tab));
    if (tab == NULL)
        goto oom;
    cJSON_ArrayForEach(el, list)
    {
        /* A type without an id cannot be referenced: skip it. */
        if (velo_json_id(el, "vehicle_type_id", id, sizeof(id)) != VELO_OK)
            continue;
        if (velo_json_str(el, "propulsion_type", &prop) != VELO_OK)
            prop = "";
        tab[n].id = strdup(id);
        if (tab[n].id == NULL)
            goto oom;
        tab[n++].prop = vtype_prop(prop);
    }
    qsort(tab, n, sizeof(*tab), id_cmp);
    vtypes_free(st->vtypes, st->nvtypes);
    st->vtypes = tab;
    st->nvtypes = n;
    st->have_vtypes = true;
    cJSON_Delete(root);
    return VELO_OK;
oom:
    snprintf(err, err_size, "vehicle_types: out of memory");
    vtypes_free(tab, n);
    cJSON_Delete(root);
    return VELO_ENOMEM;
}

const struct ingest_gbfs_info *
ingest_gbfs_static_station(const ingest_gbfs_static *st, const char *id)
{
    if (st->ninfo == 0)
        return NULL;
    return bsearch(id, st->info, st->ninfo, sizeof(*st->info), id_key_cmp);
}

enum ingest_gbfs_prop
ingest_gbfs_static_vtype(const ingest_gbfs_static *st, const char *id)
{
    const struct gbfs_vtype *vt = NULL;

    if (st->nvtypes > 0)
        vt = bsearch(id, st->vtypes, st->nvtypes, sizeof(*st->vtypes),
                     id_key_cmp);
    return vt != NULL ? vt->prop : INGEST_GBFS_PROP_OTHER;
}

bool
ingest_gbfs_static_has_vtypes(const ingest_gbfs_static *st)
{
    return st->have_vtypes;
}
