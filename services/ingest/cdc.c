/* cdc.c: open-addressing hash table key -> (state hash, last emit). */
#include "cdc.h"

#include <stdlib.h>
#include <string.h>

struct cdc_slot {
    char    *key; /* owned; NULL = empty; TOMB = deleted */
    uint64_t hash;
    int64_t  emitted_ms;
};

struct ingest_cdc {
    struct cdc_slot *slots;
    size_t           cap;  /* power of two */
    size_t           used; /* live + tombstones */
    size_t           live;
    int64_t          heartbeat_ms;
};

static char tomb_;
#define TOMB (&tomb_)

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
    c->cap = 1024;
    c->slots = calloc(c->cap, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return VELO_ENOMEM;
    }
    c->heartbeat_ms = heartbeat_ms;
    *out = c;
    return VELO_OK;
}

void
ingest_cdc_free(ingest_cdc *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->cap; i++) {
        if (c->slots[i].key != NULL && c->slots[i].key != TOMB)
            free(c->slots[i].key);
    }
    free(c->slots);
    free(c);
}

/* The slot holding key, or NULL. */
static struct cdc_slot *
find(const ingest_cdc *c, const char *key)
{
    size_t i = fnv_str(FNV_OFF, key) & (c->cap - 1);

    for (;; i = (i + 1) & (c->cap - 1)) {
        struct cdc_slot *s = &c->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->key != TOMB && strcmp(s->key, key) == 0)
            return s;
    }
}

bool
ingest_cdc_due(const ingest_cdc *c, const char *key, uint64_t hash,
               int64_t now_ms, int64_t slack_ms)
{
    const struct cdc_slot *s = find(c, key);

    if (s == NULL || s->hash != hash)
        return true;
    return now_ms - s->emitted_ms + slack_ms >= c->heartbeat_ms;
}

static int
grow(ingest_cdc *c)
{
    struct cdc_slot *old = c->slots;
    size_t           oldcap = c->cap, i, j;

    c->slots = calloc(oldcap * 2, sizeof(*c->slots));
    if (c->slots == NULL) {
        c->slots = old;
        return VELO_ENOMEM;
    }
    c->cap = oldcap * 2;
    c->used = c->live;
    for (i = 0; i < oldcap; i++) {
        if (old[i].key == NULL || old[i].key == TOMB)
            continue;
        j = fnv_str(FNV_OFF, old[i].key) & (c->cap - 1);
        while (c->slots[j].key != NULL)
            j = (j + 1) & (c->cap - 1);
        c->slots[j] = old[i];
    }
    free(old);
    return VELO_OK;
}

int
ingest_cdc_mark(ingest_cdc *c, const char *key, uint64_t hash, int64_t now_ms)
{
    struct cdc_slot *s = find(c, key);
    size_t           i;

    if (s == NULL) {
        if ((c->used + 1) * 4 > c->cap * 3 && grow(c) != VELO_OK)
            return VELO_ENOMEM;
        i = fnv_str(FNV_OFF, key) & (c->cap - 1);
        while (c->slots[i].key != NULL && c->slots[i].key != TOMB)
            i = (i + 1) & (c->cap - 1);
        s = &c->slots[i];
        if (s->key == NULL)
            c->used++;
        s->key = strdup(key);
        if (s->key == NULL)
            return VELO_ENOMEM;
        c->live++;
    }
    s->hash = hash;
    s->emitted_ms = now_ms;
    return VELO_OK;
}

void
ingest_cdc_forget(ingest_cdc *c, const char *key)
{
    struct cdc_slot *s = find(c, key);

    if (s == NULL)
        return;
    free(s->key);
    s->key = TOMB;
    c->live--;
}

size_t
ingest_cdc_size(const ingest_cdc *c)
{
    return c->live;
}
