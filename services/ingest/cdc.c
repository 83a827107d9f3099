/* cdc.c: key -> (state hash, last emit), in a uthash table.
 *
 * uthash rather than a table of our own: it is the hash map every C
 * programmer already knows, and the table here is plain bookkeeping. It
 * runs in non-fatal out-of-memory mode (an add that cannot allocate
 * leaves hh.tbl NULL), so a failed insert is VELO_ENOMEM, not an exit. */
#include "cdc.h"

#include <stdlib.h>
#include <string.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

struct cdc_entry {
    UT_hash_handle hh;
    uint64_t       hash;
    int64_t        emitted_ms;
    char           key[]; /* NUL-terminated, the uthash key */
};

struct ingest_cdc {
    struct cdc_entry *map; /* uthash head */
    int64_t           heartbeat_ms;
};

static const uint64_t FNV_OFF = 1469598103934665603ULL;
static const uint64_t FNV_PRIME = 1099511628211ULL;

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n-- > 0) {
        h ^= *b++;
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
    /* NULL and "" differ: absent is not empty. */
    if (s == NULL)
        return fnv(h, "\xff", 1);
    return fnv(h, s, strlen(s) + 1);
}

#define MIX(h, has, v)                                                         \
    do {                                                                       \
        uint8_t has_ = (uint8_t)(has);                                         \
        h = fnv(h, &has_, 1);                                                  \
        if (has_)                                                              \
            h = fnv(h, &(v), sizeof(v));                                       \
    } while (0)

uint64_t
ingest_cdc_hash(const Velo__V1__StationSnapshot *s)
{
    uint64_t h = FNV_OFF;

    h = fnv_str(h, s->system_id);
    h = fnv_str(h, s->station_id);
    h = fnv_str(h, s->name);
    h = fnv_str(h, s->address);
    h = fnv_str(h, s->source_format);
    MIX(h, s->has_lat, s->lat);
    MIX(h, s->has_lon, s->lon);
    MIX(h, s->has_capacity, s->capacity);
    MIX(h, s->has_bikes_available, s->bikes_available);
    MIX(h, s->has_docks_available, s->docks_available);
    MIX(h, s->has_mechanical_bikes, s->mechanical_bikes);
    MIX(h, s->has_electric_bikes, s->electric_bikes);
    MIX(h, s->has_status, s->status);
    MIX(h, s->has_is_installed, s->is_installed);
    MIX(h, s->has_is_renting, s->is_renting);
    MIX(h, s->has_is_returning, s->is_returning);
    MIX(h, s->has_connected, s->connected);
    MIX(h, s->has_banking, s->banking);
    MIX(h, s->has_bonus, s->bonus);
    MIX(h, s->has_simulated, s->simulated);
    MIX(h, s->has_docks_disabled, s->docks_disabled);
    MIX(h, s->has_bikes_disabled, s->bikes_disabled);
    return h;
}

int
ingest_cdc_new(ingest_cdc **out, int64_t heartbeat_ms)
{
    ingest_cdc *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return VELO_ENOMEM;
    c->heartbeat_ms = heartbeat_ms;
    *out = c;
    return VELO_OK;
}

void
ingest_cdc_free(ingest_cdc *c)
{
    struct cdc_entry *e, *tmp;

    if (c == NULL)
        return;
    HASH_ITER(hh, c->map, e, tmp)
    {
        HASH_DEL(c->map, e);
        free(e);
    }
    free(c);
}

static struct cdc_entry *
find(const ingest_cdc *c, const char *key)
{
    struct cdc_entry *e = NULL;

    HASH_FIND_STR(c->map, key, e);
    return e;
}

bool
ingest_cdc_due(const ingest_cdc *c, const char *key, uint64_t hash,
               int64_t now_ms, int64_t slack_ms)
{
    const struct cdc_entry *e = find(c, key);

    if (e == NULL || e->hash != hash)
        return true;
    return now_ms - e->emitted_ms + slack_ms >= c->heartbeat_ms;
}

int
ingest_cdc_mark(ingest_cdc *c, const char *key, uint64_t hash, int64_t now_ms)
{
    struct cdc_entry *e = find(c, key);
    size_t            n;

    if (e == NULL) {
        n = strlen(key);
        e = calloc(1, sizeof(*e) + n + 1);
        if (e == NULL)
            return VELO_ENOMEM;
        memcpy(e->key, key, n + 1);
        HASH_ADD_KEYPTR(hh, c->map, e->key, n, e);
        if (e->hh.tbl == NULL) { /* uthash could not allocate */
            free(e);
            return VELO_ENOMEM;
        }
    }
    e->hash = hash;
    e->emitted_ms = now_ms;
    return VELO_OK;
}

void
ingest_cdc_forget(ingest_cdc *c, const char *key)
{
    struct cdc_entry *e = find(c, key);

    if (e == NULL)
        return;
    HASH_DEL(c->map, e);
    free(e);
}

size_t
ingest_cdc_size(const ingest_cdc *c)
{
    return HASH_COUNT(c->map);
}
