/* cache.c: rendered list answers, direct-mapped (see cache.h). */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "velo/http_server.h"

struct entry {
    void    *key;
    size_t   klen;
    char    *body;
    size_t   len;
    uint64_t stamp;
    int64_t  made_ms;
    bool     refreshing; /* one caller is rendering a newer answer */
    char     etag[GW_ETAG_SIZE];
};

struct gw_cache {
    pthread_mutex_t mtx; /* guards e */
    struct entry   *e;
    size_t          n;
    uint32_t        ttl_ms;
    size_t          max_body;
};

int
gw_cache_new(gw_cache **out, size_t slots, uint32_t ttl_ms, size_t max_body)
{
    gw_cache *c;

    if (slots == 0)
        return VELO_EINVAL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VELO_ENOMEM;
    c->e = calloc(slots, sizeof(*c->e));
    if (c->e == NULL) {
        free(c);
        return VELO_ENOMEM;
    }
    pthread_mutex_init(&c->mtx, NULL);
    c->n = slots;
    c->ttl_ms = ttl_ms;
    c->max_body = max_body;
    *out = c;
    return VELO_OK;
}

static void
entry_clear(struct entry *e)
{
    free(e->key);
    free(e->body);
    memset(e, 0, sizeof(*e));
}

void
gw_cache_free(gw_cache *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        entry_clear(&c->e[i]);
    pthread_mutex_destroy(&c->mtx);
    free(c->e);
    free(c);
}

static struct entry *
slot_of(gw_cache *c, const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t             h = 1469598103934665603ULL; /* FNV-1a */
    size_t               i;

    for (i = 0; i < klen; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return &c->e[h % c->n];
}

/* Fresh: younger than the ttl. Past it, the first caller gets a miss
 * and renders anew while the others keep getting this answer for one
 * more ttl (so a popular list expiring does not send every waiting
 * request to velo-stream at once). Locks: c->mtx held. */
static bool
entry_usable(gw_cache *c, struct entry *e, int64_t now_ms)
{
    int64_t age = now_ms - e->made_ms;

    if (age < 0 || age >= 2 * (int64_t)c->ttl_ms)
        return false;
    if (age < (int64_t)c->ttl_ms || e->refreshing)
        return true;
    e->refreshing = true;
    return false;
}

bool
gw_cache_get(gw_cache *c, const void *key, size_t klen, uint64_t stamp,
             int64_t now_ms, struct velo_buf *out, char *etag)
{
    struct entry *e;
    bool          hit;

    pthread_mutex_lock(&c->mtx);
    e = slot_of(c, key, klen);
    hit = e->body != NULL && e->klen == klen &&
          memcmp(e->key, key, klen) == 0 && e->stamp == stamp &&
          entry_usable(c, e, now_ms) &&
          velo_buf_append(out, e->body, e->len) == VELO_OK;
    if (hit)
        memcpy(etag, e->etag, GW_ETAG_SIZE);
    pthread_mutex_unlock(&c->mtx);
    return hit;
}

void
gw_cache_put(gw_cache *c, const void *key, size_t klen, uint64_t stamp,
             int64_t now_ms, const void *body, size_t len, char *etag)
{
    struct entry *e;
    void         *k, *b;

    velo_http_etag(body, len, etag, GW_ETAG_SIZE);
    if (len > c->max_body)
        return;
    k = malloc(klen + 1);
    b = malloc(len + 1);
    if (k == NULL || b == NULL) {
        free(k);
        free(b);
        return;
    }
    memcpy(k, key, klen);
    memcpy(b, body, len);
    pthread_mutex_lock(&c->mtx);
    e = slot_of(c, key, klen);
    entry_clear(e);
    *e = (struct entry){.key = k,
                        .klen = klen,
                        .body = b,
                        .len = len,
                        .stamp = stamp,
                        .made_ms = now_ms};
    memcpy(e->etag, etag, GW_ETAG_SIZE);
    pthread_mutex_unlock(&c->mtx);
}
