/* dims.c: remembered dimension values (see dims.h): one chained hash
 * table keyed "system\x1fstation" for stations and "system" for systems. */
#include "dims.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* fixed: lookups stay short for ~100k stations */

struct dent {
    struct dent *next;
    char        *key;
    char        *name;
    bool         has_pos;
    double       lat, lon;
    char        *tz; /* systems only */
};

struct wh_dims {
    struct dent *b[BUCKETS];
    size_t       n;
};

static uint32_t
hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    while (*s != '\0')
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

int
wh_dims_new(wh_dims **out)
{
    wh_dims *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return VELO_ENOMEM;
    *out = d;
    return VELO_OK;
}

static void
dent_free(struct dent *e)
{
    free(e->key);
    free(e->name);
    free(e->tz);
    free(e);
}

void
wh_dims_free(wh_dims *d)
{
    struct dent *e, *next;
    size_t       i;

    if (d == NULL)
        return;
    for (i = 0; i < BUCKETS; i++) {
        for (e = d->b[i]; e != NULL; e = next) {
            next = e->next;
            dent_free(e);
        }
    }
    free(d);
}

static void
key_of(char *buf, size_t size, const struct wh_record *rec, bool station)
{
    if (station)
        snprintf(buf, size, "%s\x1f%s", rec->row.system_id,
                 rec->row.station_id);
    else
        snprintf(buf, size, "%s", rec->row.system_id);
}

static struct dent *
find(const wh_dims *d, const char *key)
{
    struct dent *e;

    for (e = d->b[hash(key) % BUCKETS]; e != NULL; e = e->next) {
        if (strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

/* The entry for key, made when absent; NULL when full or out of memory. */
static struct dent *
find_or_add(wh_dims *d, const char *key)
{
    struct dent *e = find(d, key);
    uint32_t     h;

    if (e != NULL || d->n >= WH_DIMS_MAX)
        return e;
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->key = strdup(key)) == NULL) {
        free(e);
        return NULL;
    }
    h = hash(key) % BUCKETS;
    e->next = d->b[h];
    d->b[h] = e;
    d->n++;
    return e;
}

/* *dst = strdup(src) unless it already holds src. */
static int
set_str(char **dst, const char *src)
{
    char *c;

    if (*dst != NULL && strcmp(*dst, src) == 0)
        return VELO_OK;
    c = strdup(src);
    if (c == NULL)
        return VELO_ENOMEM;
    free(*dst);
    *dst = c;
    return VELO_OK;
}

int
wh_dims_learn(wh_dims *d, const struct wh_record *rec)
{
    char         key[2 * VELO_DB_ID_MAX + 4];
    struct dent *e;
    int          rv = VELO_OK;

    if (rec->has_station_name || rec->has_position) {
        key_of(key, sizeof(key), rec, true);
        if ((e = find_or_add(d, key)) != NULL && rec->has_station_name)
            rv = set_str(&e->name, rec->station_name);
        if (e != NULL && rec->has_position) {
            e->has_pos = true;
            e->lat = rec->row.lat;
            e->lon = rec->row.lon;
        }
    }
    if (rv == VELO_OK && (rec->has_system_name || rec->has_time_zone)) {
        key_of(key, sizeof(key), rec, false);
        if ((e = find_or_add(d, key)) != NULL && rec->has_system_name)
            rv = set_str(&e->name, rec->system_name);
        if (e != NULL && rv == VELO_OK && rec->has_time_zone)
            rv = set_str(&e->tz, rec->time_zone);
    }
    return rv;
}

void
wh_dims_fill(const wh_dims *d, struct wh_record *rec)
{
    char               key[2 * VELO_DB_ID_MAX + 4];
    const struct dent *st, *sy;

    key_of(key, sizeof(key), rec, true);
    st = find(d, key);
    key_of(key, sizeof(key), rec, false);
    sy = find(d, key);
    if (!rec->has_station_name)
        snprintf(rec->station_name, sizeof(rec->station_name), "%s",
                 st != NULL && st->name != NULL ? st->name : "");
    if (!rec->has_position && st != NULL && st->has_pos) {
        rec->row.lat = st->lat;
        rec->row.lon = st->lon;
    }
    if (!rec->has_system_name)
        snprintf(rec->system_name, sizeof(rec->system_name), "%s",
                 sy != NULL && sy->name != NULL ? sy->name
                                                : rec->row.system_id);
    if (!rec->has_time_zone)
        snprintf(rec->time_zone, sizeof(rec->time_zone), "%s",
                 sy != NULL && sy->tz != NULL ? sy->tz : "UTC");
}
